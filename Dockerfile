# The image of a Verk node: the demo app here, your app in your own repository (README, "Deploying on
# Kubernetes"). Build:   docker build -t registry.example.com/verk-demo:0.1.0 .
# Another product:       docker build --build-arg PRODUCT=my-app -t … .
# scripts/check-deploy parses this file and checks the stages, the pinned packages (the versions the tests
# run against on this Debian release), the non-root user and the tini entrypoint.

# Build: Swift 6 on Debian 12, the release the runtime stage is, so the binary's glibc matches.
FROM swift:6.3.1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis-dev=0.14.1-3 pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The executable that calls Verk.main; the same binary is the supervisor and each queue's worker process.
ARG PRODUCT=verk-demo
# --static-swift-stdlib: the Swift runtime and its libraries are linked in, so the runtime image needs no
# toolchain, and a worker process starts faster (fewer shared libraries to load).
RUN swift build -c release --static-swift-stdlib --product "$PRODUCT" \
 && swift build -c release --static-swift-stdlib --product verk \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)/$PRODUCT" /out/verk-node \
 && cp "$(swift build -c release --show-bin-path)/verk" /out/verk

# Runtime: the shared libraries the static binaries still need (glibc, libstdc++, hiredis 0.14) and tini.
# hiredis and tini are pinned to the versions the tests run against; libstdc++6 (already in the base
# image) follows Debian's updates.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis0.14=0.14.1-3 tini=0.19.0-1+b3 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
# A numeric user, so that Kubernetes' runAsNonRoot can check it; statefulset.yaml runs as the same uid.
RUN groupadd --system --gid 65532 verk \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin verk
# verk-node is the app (the supervisor and, re-launched by it, the worker processes); verk is the operator
# command, for `kubectl exec … -- verk stats` (it reads VERK_REDIS_URL from the pod's environment).
COPY --from=build /out/verk-node /out/verk /usr/local/bin/
USER 65532:65532
# VERK_HTTP_PORT in deploy/kubernetes/configmap.yaml: /healthz, /readyz, /metrics.
EXPOSE 9090
# tini is PID 1: it forwards SIGTERM to the supervisor (which drains and exits 0, and tini with it) and
# reaps orphaned grandchildren that jobs leave behind, which the supervisor does not (it waits only on
# its own worker processes). Tests/VerkIntegrationTests/PIDOneTests.swift shows both.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/usr/local/bin/verk-node"]
