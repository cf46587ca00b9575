# Shared by scripts/test and scripts/demo: install what is missing, run a throwaway redis-server.
# shellcheck shell=bash

# Debian packages the build, the tests and the demo need (redis-sentinel: the Sentinel failover tests;
# iproute2: `ip netns` for scripts/chaos's partition; ruby-rack's rackup and ruby-webrick: Sidekiq's Web UI
# in SidekiqWebTests).
VERK_APT_PACKAGES=(pkg-config libhiredis-dev redis-server redis-sentinel ruby-sidekiq ruby-redis-namespace iproute2 ruby-rack ruby-webrick)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# scripts/chaos cuts a node off from Redis in a network namespace: that needs root and `ip netns`.
# Fails loudly rather than letting a suite skip the chaos run without saying so.
require_netns() {
    local probe="vchaosprobe$$"
    if [ "$(id -u)" -ne 0 ]; then
        echo "the chaos run needs root: it makes a network namespace (ip netns) to cut a node off from Redis" >&2
        exit 1
    fi
    if ! ip netns add "$probe" 2>/tmp/verk-netns-probe.$$; then
        echo "the chaos run needs network namespaces, and 'ip netns add' failed: $(cat /tmp/verk-netns-probe.$$)" >&2
        rm -f /tmp/verk-netns-probe.$$
        exit 1
    fi
    ip netns del "$probe"
    rm -f /tmp/verk-netns-probe.$$
}

ensure_swift() {
    command -v swift >/dev/null && return 0
    [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH" && return 0
    echo "swift is not on PATH; install Swift 6 (https://www.swift.org/install/linux/)" >&2
    exit 1
}

# Starts redis-server on a free loopback port with persistence off, in a private directory.
# Sets VERK_REDIS_URL and REDIS_PID; the caller's EXIT trap must call stop_redis.
start_redis() {
    REDIS_DIR=$(mktemp -d /tmp/verk-redis.XXXXXX)
    local attempt port
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 12000))  # below the ephemeral range (32768+)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
            --daemonize no --loglevel warning >"$REDIS_DIR/redis.log" 2>&1 &
        REDIS_PID=$!
        local i
        for i in $(seq 1 100); do
            if redis-cli -p "$port" ping >/dev/null 2>&1; then
                export VERK_REDIS_URL="redis://127.0.0.1:$port/0"
                log "redis-server on 127.0.0.1:$port (pid $REDIS_PID)"
                return 0
            fi
            kill -0 "$REDIS_PID" 2>/dev/null || break   # port taken: try another
            sleep 0.05
        done
        kill "$REDIS_PID" 2>/dev/null || true
    done
    echo "could not start redis-server; see $REDIS_DIR/redis.log" >&2
    exit 1
}

stop_redis() {
    if [ -n "${REDIS_PID:-}" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    [ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
    return 0
}
