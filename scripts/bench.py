#!/usr/bin/env python3
"""The driver behind scripts/bench, which installs what is missing, builds the release binaries and starts a
throwaway redis-server first. Each section is one of issue 9's targets, with Verk's figure beside Sidekiq
6.4's from the same run on the same Redis (FLUSHDB between systems):

  1 drain     no-op jobs, one queue at concurrency 25, default configuration; four queues; three nodes
  2 latency   enqueue -> perform start at a steady rate: p50/p90/p99/max
  3 memory    peak RSS (VmHWM) of the supervisor and each worker process after the one-queue drain
  4 enqueue   one at a time (against redis-benchmark's PING on the same Redis) and in bulk
  5 crash     kill -9 of a worker process -> its replacement ready, each a first restart (no backoff)
  6 work      1 ms sleeping and 1 ms CPU-bound jobs at concurrency 10/50/200, against the ideal
  7 sweep     no-op throughput against concurrency and prefetch (the window), and Verk's default prefetch

How a drain is timed, the same for both systems: the jobs are pushed beforehand into a staging key no system
reads; once the system is up and idle, `verk bench-wait --release` moves them into the queue with one
RENAME and the clock runs from the system's first fetch to its last job done, seen by polling Redis every
2 ms (Verk: the queue and the node's in-progress list are empty, every job acknowledged, as its
stat:processed is written at most every 0.1 s; Sidekiq, which adds to stat:processed only every 5 s at its
heartbeat: the key its DrainCounter middleware sets after the drain's last job). Start-up is not counted on
either side. Both systems' drain jobs carry the same two extra fields naming the drain.

Every wait has a deadline: it polls a condition, or is woken by the output line it waits for (a node's log,
read on a thread). Every process started here is stopped by its pid on the
way out, and listed in WORK/pids for scripts/bench's trap in case this driver dies first. Figures are
printed, never asserted: the exit status is non-zero only when the bench itself broke.
"""

import argparse
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUBY_FILE = ROOT / "scripts" / "bench_sidekiq.rb"

SECTIONS = ["drain", "latency", "memory", "enqueue", "crash", "work", "sweep"]
CONCURRENCY = 25                     # the drain's and the latency run's, both systems
WORK_CONCURRENCY = (10, 50, 200)
SWEEP_CONCURRENCY = (5, 25, 100)
SWEEP_PREFETCH = ("0", "concurrency", "1000", "default")   # VERK_PREFETCH set to each, and not set
JOB_MS = 1.0                         # the real-work jobs' length

# Sizes. Sidekiq drains fewer jobs than Verk to keep the run short: rates (jobs/s) are comparable.
SIZES = {
    "full": dict(
        drain=200_000, drain_sidekiq=30_000, queues=4, queue_jobs=50_000, nodes=3,
        latency_rate=1000, latency_jobs=10_000,
        enqueue_one=20_000, enqueue_bulk=200_000, sidekiq_push=10_000, sidekiq_push_bulk=100_000,
        crashes=20,
        work_seconds=2.0, work_cap={"sleep": (100_000, 10_000), "spin": (4_000, 2_000)},  # (Verk, Sidekiq)
        sweep=100_000, sweep_sidekiq=20_000,
    ),
    "smoke": dict(
        drain=20_000, drain_sidekiq=2_000, queues=4, queue_jobs=5_000, nodes=3,
        latency_rate=1000, latency_jobs=1_000,
        enqueue_one=5_000, enqueue_bulk=20_000, sidekiq_push=1_000, sidekiq_push_bulk=10_000,
        crashes=5,
        work_seconds=0.2, work_cap={"sleep": (10_000, 1_000), "spin": (400, 200)},
        sweep=10_000, sweep_sidekiq=1_000,
    ),
}

# Issue 9's targets.
TARGET_DRAIN = 150_000
TARGET_RATIO = 15
TARGET_P50_MS, TARGET_P99_MS = 0.3, 1.0
TARGET_SUPERVISOR_MIB, TARGET_WORKER_MIB = 20, 15
TARGET_BULK = 300_000
TARGET_ONE_VS_PING = 0.9
TARGET_CRASH_P50_MS = 20


class BenchError(Exception):
    """The bench itself broke (not a figure off its target)."""


def out(text=""):
    print(text, flush=True)


def header(number, title):
    out(f"\n\033[1m{number}. {title}\033[0m")


def rate_text(rate):
    return f"{rate:,.0f} jobs/s"


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def wait_until(condition, timeout, what, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Redis:
    """A minimal RESP client (the bench's own polls: CLIENT LIST, GET, FLUSHDB), on one socket."""

    def __init__(self, url):
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=10)
        self.reader = self.sock.makefile("rb")
        db = (parsed.path or "/0").lstrip("/") or "0"
        if db != "0":
            self.command("SELECT", db)

    def command(self, *args):
        parts = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _reply(self):
        line = self.reader.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise BenchError(f"Redis: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.reader.read(n + 2)[:-2]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise BenchError(f"Redis: unexpected reply {line!r}")

    def blocked_in(self, command):
        """How many clients are blocked in `command` (e.g. brpop): Sidekiq's idle processors."""
        return sum(1 for line in self.command("CLIENT", "LIST").splitlines()
                   if f" cmd={command} " in line and " flags=b " in line)


class Processes:
    """Every process the driver starts. Stopped by pid (SIGTERM, then SIGKILL after a grace period); the live
    ones are listed in `pid_file` for scripts/bench's trap."""

    def __init__(self, pid_file):
        self.pid_file = pid_file
        self.live = []

    def start(self, argv, env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        proc = subprocess.Popen([str(a) for a in argv], env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        self.live.append(proc)
        self._write()
        return proc

    def stop(self, proc, grace=30.0):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.live:
            self.live.remove(proc)
            self._write()

    def stop_all(self):
        for proc in reversed(list(self.live)):
            self.stop(proc, grace=5)

    def run(self, argv, env, timeout):
        """Runs a command to its end; its stdout. A failure or a timeout is the bench breaking."""
        proc = self.start(argv, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(proc, grace=2)
            raise BenchError(f"{' '.join(str(a) for a in argv[:3])} … took more than {timeout:.0f} s")
        self.stop(proc)
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(str(a) for a in argv[:3])} … exited {proc.returncode}: {stderr.decode().strip()[-500:]}")
        return stdout.decode()

    def _write(self):
        self.pid_file.write_text("".join(f"{p.pid}\n" for p in self.live))


class LogFollower:
    """Copies a process's output to a file on a thread, stamping each line as it arrives, so the driver can
    wait for a line without polling the file (the crash section times the replacement's ready line)."""

    def __init__(self, stream, path):
        self.lines = []  # (time.monotonic() on arrival, text)
        self.changed = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._copy, args=(stream, path), daemon=True)
        self.thread.start()

    def _copy(self, stream, path):
        with open(path, "w") as file:
            for raw in stream:
                stamp = time.monotonic()
                text = raw.decode(errors="replace").rstrip("\n")
                file.write(text + "\n")
                file.flush()
                with self.changed:
                    self.lines.append((stamp, text))
                    self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait_for(self, predicate, start, timeout, what):
        """The first line from index `start` on that satisfies `predicate`: (index, arrival time, text)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            index = start
            while True:
                while index < len(self.lines):
                    stamp, text = self.lines[index]
                    if predicate(text):
                        return index, stamp, text
                    index += 1
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    raise BenchError(f"{'the process ended' if self.closed else f'timed out after {timeout:.0f} s'} "
                                     f"waiting for {what}")
                self.changed.wait(left)

    def count(self, predicate):
        with self.changed:
            return sum(1 for _, text in self.lines if predicate(text))


def is_ready_line(text, queue=None):
    return "worker process ready" in text and (queue is None or re.search(rf"\bqueue={re.escape(queue)}\b", text))


def field(text, name):
    match = re.search(rf"\b{name}=([0-9.]+)", text)
    return float(match.group(1)) if match else None


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def children(pid):
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


class VerkNode:
    """One verk-demo node (supervisor and its worker processes), started with the default configuration
    plus `env`; used as a context manager that waits for every queue's worker process to be ready."""

    def __init__(self, bench, queues, node_id="bench-node", env=None):
        self.bench, self.queues, self.node_id, self.env = bench, queues, node_id, env or {}
        self.kind = "verk"
        self.node_ids = [node_id]

    def start(self):
        env = dict(self.bench.env, VERK_JOB_LOG_LEVEL="off", **self.env)
        argv = [self.bench.bin / "verk-demo", "--queue", ",".join(self.queues), "--node-id", self.node_id]
        self.proc = self.bench.procs.start(argv, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.log = LogFollower(self.proc.stdout, self.bench.work / f"{self.node_id}.log")
        return self

    def wait_ready(self, timeout=60):
        for queue in self.queues:
            name = queue.split(":")[0]
            self.log.wait_for(lambda t: is_ready_line(t, name), 0, timeout, f"node {self.node_id}'s worker process for {name}")

    def __enter__(self):
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *exc):
        self.bench.procs.stop(self.proc)

    def memory(self):
        """VmHWM in KiB: the supervisor's, and each worker process's."""
        return {"supervisor": vm_hwm_kib(self.proc.pid),
                "workers": [k for k in (vm_hwm_kib(c) for c in children(self.proc.pid)) if k is not None]}


class NodeGroup:
    """Several nodes serving the same queues, drained as one system."""

    def __init__(self, nodes):
        self.kind = "verk"
        self.node_ids = [n.node_id for n in nodes]


class SidekiqProcess:
    """One `sidekiq` process with scripts/bench_sidekiq.rb; ready (and idle) when all its processors are
    blocked in BRPOP."""

    def __init__(self, bench, queues, concurrency, log="warn", latency=False, name="sidekiq"):
        self.bench, self.queues, self.concurrency, self.name = bench, queues, concurrency, name
        self.kind = "sidekiq"
        self.env = dict(bench.env)
        if log == "warn":
            self.env["BENCH_SIDEKIQ_LOG"] = "warn"
        if latency:
            self.env["BENCH_SIDEKIQ_LATENCY"] = "1"

    def __enter__(self):
        argv = ["sidekiq", "-r", RUBY_FILE, "-c", self.concurrency, "-t", "1"]
        for queue in self.queues:
            argv += ["-q", queue]
        self.logfile = open(self.bench.work / f"{self.name}.log", "w")
        self.proc = self.bench.procs.start(argv, self.env, stdout=self.logfile, stderr=subprocess.STDOUT)
        self.wait_idle(timeout=120)
        return self

    def wait_idle(self, timeout=30):
        def idle():
            if self.proc.poll() is not None:
                raise BenchError(f"sidekiq exited {self.proc.returncode}; see {self.bench.work / (self.name + '.log')}")
            return self.bench.redis.blocked_in("brpop") >= self.concurrency
        wait_until(idle, timeout, f"sidekiq's {self.concurrency} processors to wait in BRPOP")

    def __exit__(self, *exc):
        self.bench.procs.stop(self.proc, grace=10)
        self.logfile.close()

    def memory(self):
        return vm_hwm_kib(self.proc.pid)


class Bench:
    def __init__(self, options):
        self.options = options
        self.mode = "smoke" if options.smoke else "full"
        self.size = SIZES[self.mode]
        self.runs = options.runs or (1 if options.smoke else 3)
        self.bin = Path(options.bin)
        self.work = Path(options.work)
        self.redis_url = options.redis_url
        self.procs = Processes(self.work / "pids")
        self.redis = Redis(self.redis_url)
        # The default configuration: none of the caller's VERK_* settings reach the systems under test.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("VERK_", "BENCH_"))}
        self.env["VERK_REDIS_URL"] = self.redis_url
        self.results = {"schema": 1, "mode": self.mode, "runs": self.runs, "sections": {}}
        self.cores = os.cpu_count() or 1
        self.drains = 0

    # Helpers shared by the sections.

    def verk(self, *args, timeout=600):
        return self.procs.run([self.bin / "verk", *args], self.env, timeout)

    def flush(self):
        self.redis.command("FLUSHDB")

    def drain(self, system, queues, klass="NoopWorker", args="[]"):
        """Times one drain of `queues` ({name: jobs}) on a running, idle `system` (see the module's doc)."""
        total = sum(queues.values())
        self.drains += 1
        drain = f"d{self.drains}"
        marks = json.dumps({"bench_drain": drain, "bench_drain_jobs": total})
        for queue, jobs in queues.items():
            self.verk("bench-enqueue", "--staged", "--queue", queue, "--class", klass, "--args", args,
                      "--count", jobs, "--batch", 1000, "--extra", marks)
        argv = ["bench-wait", "--json", "--release", "--timeout", 600]
        for queue in queues:
            argv += ["--queue", queue]
        if system.kind == "verk":
            for node in system.node_ids:
                argv += ["--node", node]
        else:
            argv += ["--key", f"bench:drained:{drain}"]
        timing = json.loads(self.verk(*argv, timeout=660))
        if system.kind == "sidekiq":
            system.wait_idle()  # its last jobs finish before anything else is measured
        failed = self.redis.command("ZCARD", "retry") + self.redis.command("ZCARD", "dead")
        if failed:
            raise BenchError(f"{failed} {klass} job(s) failed in a {system.kind} drain: a drain times jobs that succeed")
        return {"jobs": total, "seconds": timing["seconds"], "rate": total / timing["seconds"]}

    def node(self, queues, **kwargs):
        return VerkNode(self, queues, **kwargs)

    def sidekiq(self, queues, concurrency, **kwargs):
        return SidekiqProcess(self, queues, concurrency, **kwargs)

    def section(self, name):
        return name in self.options.only

    # 1. No-op drain, and the memory it leaves (section 3).

    def run_drain(self):
        s = self.size
        header(1, f"No-op drain: one queue at concurrency {CONCURRENCY}, default configuration "
                  f"(job log off: VERK_JOB_LOG_LEVEL=off), {self.runs_text()}")
        out(f"   Verk drains {s['drain']:,} jobs; Sidekiq {s['drain_sidekiq']:,} to keep the run short (rates are comparable).")
        out("   Jobs are staged, then moved into the queue with one RENAME once the system is up and idle; the clock")
        out("   runs from its first fetch to its last job done (start-up is not counted on either side).")
        verk, warn, info, memory, sidekiq_memory = [], [], [], [], []
        for run in range(self.runs):
            self.flush()
            with self.node([f"bench:{CONCURRENCY}"]) as node:
                verk.append(self.drain(node, {"bench": s["drain"]})["rate"])
                memory.append(node.memory())
            self.flush()
            with self.sidekiq(["bench"], CONCURRENCY, log="warn", name=f"sidekiq-drain-warn-{run}") as sk:
                warn.append(self.drain(sk, {"bench": s["drain_sidekiq"]})["rate"])
                sidekiq_memory.append(sk.memory())
            self.flush()
            with self.sidekiq(["bench"], CONCURRENCY, log="info", name=f"sidekiq-drain-info-{run}") as sk:
                info.append(self.drain(sk, {"bench": s["drain_sidekiq"]})["rate"])
            self.flush()
            out(f"   run {run + 1}: Verk {rate_text(verk[-1])}, Sidekiq {rate_text(warn[-1])} (WARN), {rate_text(info[-1])} (INFO)")
        result = {
            "concurrency": CONCURRENCY, "jobs": s["drain"], "jobs_sidekiq": s["drain_sidekiq"],
            "verk": summary(verk), "sidekiq_warn": summary(warn), "sidekiq_info": summary(info),
        }
        result["ratio_warn"] = result["verk"]["median"] / result["sidekiq_warn"]["median"]
        result["ratio_info"] = result["verk"]["median"] / result["sidekiq_info"]["median"]
        out(f"   Verk:                               {rate_text(result['verk']['median']):>16}   target ≥ {TARGET_DRAIN:,}")
        out(f"   Sidekiq 6.4, WARN logging:          {rate_text(result['sidekiq_warn']['median']):>16}")
        out(f"   Verk ÷ Sidekiq (WARN):              {result['ratio_warn']:>12.1f}×       target ≥ {TARGET_RATIO}×")
        out(f"   Sidekiq 6.4, default INFO logging:  {rate_text(result['sidekiq_info']['median']):>16}   (Verk ÷ it: {result['ratio_info']:.1f}×)")

        queues = {f"bench{i}": s["queue_jobs"] for i in range(1, s["queues"] + 1)}
        with self.node([f"{q}:{CONCURRENCY}" for q in queues]) as node:
            four = self.drain(node, queues)
        self.flush()
        label = f"{s['queues']} queues × {s['queue_jobs']:,}, one node:"
        out(f"   {label:<36}{rate_text(four['rate']):>16}   (in all)")
        nodes = [VerkNode(self, [f"bench:{CONCURRENCY}"], node_id=f"bench-node-{i}") for i in range(1, s["nodes"] + 1)]
        for n in nodes:
            n.start()
        try:
            for n in nodes:
                n.wait_ready()
            three = self.drain(NodeGroup(nodes), {"bench": s["drain"]})
        finally:
            for n in nodes:
                self.procs.stop(n.proc)
        self.flush()
        label = f"{s['nodes']} nodes, one queue, {s['drain']:,} jobs:"
        out(f"   {label:<36}{rate_text(three['rate']):>16}   (in all)")
        result["queues"] = {"queues": s["queues"], "jobs_per_queue": s["queue_jobs"], "rate": four["rate"]}
        result["nodes"] = {"nodes": s["nodes"], "jobs": s["drain"], "rate": three["rate"]}
        self.results["sections"]["drain"] = result
        self.results["sections"]["memory"] = {
            "supervisor_kib": max(m["supervisor"] or 0 for m in memory),
            "workers_kib": max(max(m["workers"] or [0]) for m in memory),
            "worker_processes": max(len(m["workers"]) for m in memory),
            "sidekiq_kib": max(k or 0 for k in sidekiq_memory),
            "verk_jobs": s["drain"], "sidekiq_jobs": s["drain_sidekiq"],
        }

    def runs_text(self):
        return "median of 1 run" if self.runs == 1 else f"medians of {self.runs} runs"

    # 2. Latency.

    def run_latency(self):
        s = self.size
        rate, jobs = s["latency_rate"], s["latency_jobs"]
        header(2, f"Latency, enqueue → perform start, at a steady {rate:,} jobs/s for {jobs / rate:.0f} s "
                  f"({jobs:,} jobs), concurrency {CONCURRENCY}, {self.runs_text()}")
        out("   Both systems' jobs are pushed by `verk bench-enqueue --rate` (enqueued_at: float epoch seconds, as")
        out("   Sidekiq 6.4's client writes it); each job appends now − enqueued_at at the start of perform.")
        out("   Sidekiq at WARN logging (its per-job INFO lines are written before perform).")
        verk, sidekiq = [], []
        for run in range(self.runs):
            self.flush()
            with self.node([f"latency:{CONCURRENCY}"]) as node:
                verk.append(self.latency_run(node, f"verk-{run}"))
            self.flush()
            with self.sidekiq(["latency"], CONCURRENCY, log="warn", latency=True, name=f"sidekiq-latency-{run}") as sk:
                sidekiq.append(self.latency_run(sk, f"sidekiq-{run}"))
            self.flush()
        result = {"rate": rate, "jobs": jobs, "verk": median_of(verk), "sidekiq": median_of(sidekiq),
                  "verk_runs": verk, "sidekiq_runs": sidekiq}
        for who, label in (("verk", "Verk"), ("sidekiq", "Sidekiq 6.4")):
            p = result[who]
            out(f"   {label + ':':<14} p50 {p['p50']:.3f} ms   p90 {p['p90']:.3f} ms   p99 {p['p99']:.3f} ms   max {p['max']:.3f} ms")
        out(f"   targets: p50 ≤ {TARGET_P50_MS} ms, p99 ≤ {TARGET_P99_MS} ms, and at or below Sidekiq's")
        self.results["sections"]["latency"] = result

    def latency_run(self, system, name):
        s = self.size
        warm = self.work / f"latency-{name}-warmup.txt"
        path = self.work / f"latency-{name}.txt"
        # One job first, so the measured ones find the system warm (connections, code paths, threads).
        self.verk("bench-enqueue", "--queue", "latency", "--class", "LatencyWorker", "--args", json.dumps([str(warm)]), "--count", 1)
        wait_until(lambda: line_count(warm) >= 1, 30, "the latency warm-up job")
        jobs, rate = s["latency_jobs"], s["latency_rate"]
        self.verk("bench-enqueue", "--queue", "latency", "--class", "LatencyWorker", "--args", json.dumps([str(path)]),
                  "--count", jobs, "--rate", rate, timeout=jobs / rate + 120)
        wait_until(lambda: line_count(path) >= jobs, 60, f"{jobs} latency records")
        micros = sorted(int(v) for v in path.read_text().split())
        return {p: percentile(micros, n) / 1000 for p, n in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))}

    # 3. Memory (measured in section 1).

    def run_memory(self):
        if "memory" not in self.results["sections"]:
            raise BenchError("the memory section reads the drain's processes: run it with the drain section")
        m = self.results["sections"]["memory"]
        header(3, f"Peak RSS (VmHWM) after the {m['verk_jobs']:,}-job drain (largest over its runs), "
                  "release build with --static-swift-stdlib (the deployable binaries)")
        out(f"   Verk supervisor:                {mib(m['supervisor_kib']):>8.1f} MiB   target ≤ {TARGET_SUPERVISOR_MIB} MiB")
        out(f"   Verk worker process (largest):  {mib(m['workers_kib']):>8.1f} MiB   target ≤ {TARGET_WORKER_MIB} MiB "
            f"({m['worker_processes']} worker process)")
        out(f"   Sidekiq 6.4 process:            {mib(m['sidekiq_kib']):>8.1f} MiB   (after {m['sidekiq_jobs']:,} jobs)")

    # 4. Enqueue.

    def run_enqueue(self):
        s = self.size
        header(4, f"Enqueue, {self.runs_text()}")
        rows = {k: [] for k in ("verk_one", "ping_inline", "ping_mbulk", "ping", "verk_bulk", "sidekiq_push", "sidekiq_push_bulk")}
        for _ in range(self.runs):
            self.flush()
            # PING just before and just after Verk's one-at-a-time enqueues: the reference is the median of
            # the four figures, so one stall of the shared machine during one of them does not decide it.
            pings = self.ping(s["enqueue_one"])
            rows["verk_one"].append(enqueue_rate(self.verk("bench-enqueue", "--count", s["enqueue_one"], "--batch", 1)))
            pings += self.ping(s["enqueue_one"])
            for name, value in pings:
                rows[name].append(value)
            rows["ping"].append(statistics.median(value for _, value in pings))
            self.flush()
            rows["verk_bulk"].append(enqueue_rate(self.verk("bench-enqueue", "--count", s["enqueue_bulk"], "--batch", 1000)))
            self.flush()
            rows["sidekiq_push"].append(self.ruby(f"BenchClient.push({s['sidekiq_push']})"))
            self.flush()
            rows["sidekiq_push_bulk"].append(self.ruby(f"BenchClient.push_bulk({s['sidekiq_push_bulk']})"))
            self.flush()
        result = {k: summary(v) for k, v in rows.items()}
        result["ratio_to_ping"] = result["verk_one"]["median"] / result["ping"]["median"]
        result["sizes"] = {"one": s["enqueue_one"], "bulk": s["enqueue_bulk"], "sidekiq_push": s["sidekiq_push"],
                           "sidekiq_push_bulk": s["sidekiq_push_bulk"]}
        self.results["sections"]["enqueue"] = result
        med = {k: v["median"] for k, v in result.items() if isinstance(v, dict) and "median" in v}
        out(f"   one at a time ({s['enqueue_one']:,} jobs), one connection:")
        out(f"     Verk VerkClient.enqueue:             {rate_text(med['verk_one']):>16}")
        out(f"     redis-benchmark -c 1 -P 1 -t ping:   {med['ping']:>9,.0f} req/s   (PING_INLINE {med['ping_inline']:,.0f}, "
            f"PING_MBULK {med['ping_mbulk']:,.0f}; run before and after Verk's)")
        out(f"     Verk ÷ PING:                         {result['ratio_to_ping']:>12.2f}       target ≥ {TARGET_ONE_VS_PING} (within 10 %)")
        out(f"     Sidekiq::Client.push:                {rate_text(med['sidekiq_push']):>16}   ({s['sidekiq_push']:,} jobs)")
        out(f"   in bulk, 1,000 jobs per call:")
        out(f"     Verk enqueue(many:):                 {rate_text(med['verk_bulk']):>16}   target ≥ {TARGET_BULK:,} ({s['enqueue_bulk']:,} jobs)")
        out(f"     Sidekiq::Client.push_bulk:           {rate_text(med['sidekiq_push_bulk']):>16}   ({s['sidekiq_push_bulk']:,} jobs)")

    def ping(self, requests):
        """redis-benchmark's PING_INLINE and PING_MBULK on one connection, unpipelined: [(name, req/s)]."""
        port = urlparse(self.redis_url).port
        text = self.procs.run(["redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", 1, "-P", 1, "-n", requests,
                               "-t", "ping", "--csv"], self.env, 300)
        found = []
        for line in text.splitlines():
            cells = [c.strip('"') for c in line.split(",")]
            if cells[0] in ("PING_INLINE", "PING_MBULK"):
                found.append((cells[0].lower(), float(cells[1])))
        if len(found) != 2:
            raise BenchError(f"unexpected redis-benchmark output: {text[:300]!r}")
        return found

    def ruby(self, call):
        return json.loads(self.procs.run(["ruby", "-r", RUBY_FILE, "-e", call], self.env, 600))["rate"]

    # 5. Crash -> replacement ready.

    def run_crash(self):
        crashes = self.size["crashes"]
        header(5, f"Worker process crash → replacement ready, {crashes} crashes, each a first restart")
        out("   A restart counts toward backoff for 60 s (RestartPolicy.period): rather than wait that long between")
        out(f"   crashes, the node serves {crashes} queues at concurrency 1 and each crash kills a different queue's")
        out("   worker process (kill -9 from outside). Measured: kill → the replacement's `worker process ready`")
        out("   line read from the node's output; the supervisor's own since_crash_ms (death seen → ready) and")
        out("   startup_ms (spawn → ready) beside it.")
        self.flush()
        queues = [f"crash{i}" for i in range(1, crashes + 1)]
        kill_to_ready, since_crash, startup = [], [], []
        with self.node([f"{q}:1" for q in queues], node_id="bench-crash") as node:
            for queue in queues:
                _, _, line = node.log.wait_for(lambda t: is_ready_line(t, queue), 0, 10, f"{queue}'s worker process")
                pid = int(field(line, "pid"))
                start = len(node.log.lines)
                killed = time.monotonic()
                os.kill(pid, signal.SIGKILL)
                _, ready, line = node.log.wait_for(lambda t: is_ready_line(t, queue) and "since_crash_ms" in t, start, 30,
                                                   f"{queue}'s replacement worker process")
                kill_to_ready.append((ready - killed) * 1000)
                since_crash.append(field(line, "since_crash_ms"))
                startup.append(field(line, "startup_ms"))
            backoffs = node.log.count(lambda t: "restarting worker process after backoff" in t)
        self.flush()
        result = {"crashes": crashes, "kill_to_ready_ms": spread(kill_to_ready), "since_crash_ms": spread(since_crash),
                  "startup_ms": spread(startup), "backoffs_seen": backoffs}
        self.results["sections"]["crash"] = result
        for key, label in (("kill_to_ready_ms", "kill -9 → ready (outside):"), ("since_crash_ms", "death seen → ready:"),
                           ("startup_ms", "spawn → ready:")):
            d = result[key]
            tail = f"   target p50 ≤ {TARGET_CRASH_P50_MS} ms" if key == "kill_to_ready_ms" else ""
            out(f"   {label:<28} p50 {d['p50']:6.1f} ms   p90 {d['p90']:6.1f} ms   max {d['max']:6.1f} ms{tail}")
        if backoffs:
            out(f"   WARNING: {backoffs} restart(s) waited out a backoff: not every crash was a first restart")

    # 6. Real work.

    def run_work(self):
        s = self.size
        header(6, f"Real work: {JOB_MS:g} ms jobs, sleeping and CPU-bound (a busy loop on the thread's CPU clock), "
                  f"against the ideal")
        out(f"   Ideal: concurrency ÷ {JOB_MS:g} ms for sleeping jobs; min(concurrency, {self.cores} cores) ÷ {JOB_MS:g} ms for "
            "CPU-bound ones (Ruby's GVL lets one Sidekiq thread compute at a time).")
        rows = []
        for concurrency in WORK_CONCURRENCY:
            plan = []
            for kind, klass in (("sleep", "SleepWorker"), ("spin", "SpinWorker")):
                ideal = (concurrency if kind == "sleep" else min(concurrency, self.cores)) * 1000 / JOB_MS
                wanted = int(ideal * s["work_seconds"])
                cap_verk, cap_sidekiq = s["work_cap"][kind]
                plan.append((kind, klass, ideal, min(wanted, cap_verk), min(wanted, cap_sidekiq)))
            results = {}
            self.flush()
            with self.node([f"work:{concurrency}"]) as node:
                for kind, klass, _, jobs, _ in plan:
                    results[(kind, "verk")] = self.drain(node, {"work": jobs}, klass, json.dumps([JOB_MS]))
            self.flush()
            with self.sidekiq(["work"], concurrency, log="warn", name=f"sidekiq-work-{concurrency}") as sk:
                for kind, klass, _, _, jobs in plan:
                    results[(kind, "sidekiq")] = self.drain(sk, {"work": jobs}, klass, json.dumps([JOB_MS]))
            self.flush()
            for kind, _, ideal, _, _ in plan:
                row = {"kind": kind, "concurrency": concurrency, "ideal": ideal,
                       "verk": results[(kind, "verk")], "sidekiq": results[(kind, "sidekiq")]}
                rows.append(row)
                out(f"   {kind:<5} c{concurrency:<4} ideal {ideal:>9,.0f}/s   Verk {rate_text(row['verk']['rate']):>15} "
                    f"({row['verk']['rate'] / ideal:4.0%})   Sidekiq {rate_text(row['sidekiq']['rate']):>13} "
                    f"({row['sidekiq']['rate'] / ideal:4.0%})")
        self.results["sections"]["work"] = rows

    # 7. Throughput against concurrency and window.

    def run_sweep(self):
        s = self.size
        header(7, f"No-op throughput against concurrency and prefetch (window = concurrency + prefetch), "
                  f"{s['sweep']:,} jobs each (Sidekiq, WARN logging: {s['sweep_sidekiq']:,})")
        out("   Verk with prefetch 0, = concurrency, 1000, and its default (VERK_PREFETCH not set); jobs/s.")
        verk, sidekiq = [], []
        for concurrency in SWEEP_CONCURRENCY:
            line = f"   c{concurrency:<4}"
            for prefetch in SWEEP_PREFETCH:
                value = {"concurrency": str(concurrency), "default": None}.get(prefetch, prefetch)
                env = {"VERK_PREFETCH": value} if value else {}
                self.flush()
                with self.node([f"bench:{concurrency}"], env=env) as node:
                    rate = self.drain(node, {"bench": s["sweep"]})["rate"]
                verk.append({"concurrency": concurrency, "prefetch": prefetch, "rate": rate})
                label = {"concurrency": "= c", "default": "default"}.get(prefetch, prefetch)
                line += f"  {label}: {rate:>7,.0f}"
            self.flush()
            with self.sidekiq(["bench"], concurrency, log="warn", name=f"sidekiq-sweep-{concurrency}") as sk:
                rate = self.drain(sk, {"bench": s["sweep_sidekiq"]})["rate"]
            sidekiq.append({"concurrency": concurrency, "rate": rate})
            self.flush()
            out(line + f"  Sidekiq: {rate:>7,.0f}  jobs/s")
        self.results["sections"]["sweep"] = {"jobs": s["sweep"], "jobs_sidekiq": s["sweep_sidekiq"],
                                             "verk": verk, "sidekiq": sidekiq}

    # The whole run.

    def run(self):
        started = time.monotonic()
        self.results["machine"] = machine()
        self.results["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.results["build"] = "swift build -c release --static-swift-stdlib (verk-demo, verk)"
        self.results["sizes"] = self.size
        m = self.results["machine"]
        out(f"Verk for Swift against Sidekiq {m['sidekiq']}: {self.mode} run, {self.runs_text()}")
        out(f"   {m['cores']} cores ({m['cpu']}), Linux {m['kernel']}, redis-server {m['redis']}, Swift {m['swift']}, "
            f"Ruby {m['ruby']}; load average {m['loadavg_start']} at the start")
        out(f"   {self.results['build']}: memory is measured on the deployable static build")
        out("   The machine is shared by Redis, the system under test and this driver; expect noise between runs.")
        for name in SECTIONS:
            if self.section(name):
                getattr(self, f"run_{name}")()
        self.results["machine"]["loadavg_end"] = loadavg()
        self.results["duration_s"] = time.monotonic() - started
        self.results["targets"] = bench_report.targets(self.results)
        out()
        out(bench_report.text_table(self.results))
        out(f"\n{self.mode} run took {self.results['duration_s']:.0f} s; load average {self.results['machine']['loadavg_end']} at the end")


def summary(values):
    return {"median": statistics.median(values), "runs": values}


def median_of(runs):
    return {p: statistics.median(r[p] for r in runs) for p in runs[0]}


def spread(values):
    ordered = sorted(values)
    return {"p50": percentile(ordered, 50), "p90": percentile(ordered, 90), "max": ordered[-1], "all": values}


def mib(kib):
    return kib / 1024


def line_count(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def enqueue_rate(text):
    match = re.search(r"(\d+) jobs in ([0-9.]+) s", text)
    if not match:
        raise BenchError(f"unexpected bench-enqueue output: {text!r}")
    return int(match.group(1)) / float(match.group(2))


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def first_line(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    redis = re.search(r"v=(\S+)", first_line(["redis-server", "--version"]))
    swift = re.search(r"Swift version (\S+)", first_line(["swift", "--version"]))
    ruby = re.search(r"ruby (\S+)", first_line(["ruby", "--version"]))
    sidekiq = first_line(["ruby", "-e", 'require "sidekiq"; puts Sidekiq::VERSION'])
    return {"cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "redis": redis.group(1) if redis else "unknown", "swift": swift.group(1) if swift else "unknown",
            "ruby": ruby.group(1) if ruby else "unknown", "sidekiq": sidekiq, "loadavg_start": loadavg()}


def parse(argv):
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="small sizes (CI): figures printed, not asserted")
    parser.add_argument("--runs", type=int, help="runs of the headline sections (drain, latency, enqueue), medians printed "
                                                 "(default 3, smoke 1)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)}; memory needs drain)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--markdown", metavar="FILE", action="append", default=[],
                        help="write the machine and the targets table as markdown; a file holding the markers "
                             f"{bench_report.BEGIN} and {bench_report.END} gets only that part replaced (repeatable)")
    parser.add_argument("--svg", metavar="FILE", help="the chart (default docs/bench.svg for a full run of every section, "
                                                      "else only in the work directory)")
    parser.add_argument("--check-args", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bin", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    options.only = [s.strip() for s in options.only.split(",") if s.strip()]
    unknown = [s for s in options.only if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    if "memory" in options.only and "drain" not in options.only:
        parser.error("the memory section reads the drain's processes: --only drain,memory")
    if options.runs is not None and options.runs < 1:
        parser.error("--runs must be at least 1")
    return options


def main(argv):
    options = parse(argv)
    if options.check_args:
        return 0
    bench = Bench(options)

    def stop(signum, _frame):
        print(f"bench: stopped by signal {signum}; stopping what it started", file=sys.stderr, flush=True)
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        bench.run()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        bench.procs.stop_all()
    full_chart = not options.smoke and options.only == SECTIONS
    svg = options.svg or (str(ROOT / "docs" / "bench.svg") if full_chart else str(Path(options.work) / "bench.svg"))
    written = bench_report.write(bench.results, json_path=options.json, markdown_paths=options.markdown, svg_path=svg)
    for path in written:
        out(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
