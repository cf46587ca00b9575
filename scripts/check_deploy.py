"""Offline checks of the deployment files: deploy/kubernetes/*.yaml and the Dockerfile.

Run by scripts/check-deploy, in its virtualenv (pinned kubernetes-validate and dockerfile-parse), from the
repository's root. One line per check, `ok` or `FAIL` with what is wrong and where; exit 1 if any failed.
Arguments: the directory of the release binaries built with --static-swift-stdlib (verk-demo and verk).
With `--self-test` first, it checks the checks instead: each of MUTATIONS breaks one promise in a copy of
the files, and the checks must fail on it, naming it.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import kubernetes_validate
import yaml
from dockerfile_parse import DockerfileParser

# The Kubernetes versions whose schemas (bundled in kubernetes-validate, no network) every manifest must
# match strictly: an old one still widely run, and the newest the package knows.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
# The supervisor's own memory, on top of one worker process per queue. Tests/VerkIntegrationTests/
# PIDOneTests.swift measures the supervisor's peak RSS and keeps it below this figure.
SUPERVISOR_MEMORY_MIB = 64
# Time the grace period needs beyond VERK_SHUTDOWN_TIMEOUT: worker processes still running then get
# SIGTERM and 2 s before SIGKILL (ChildSupervisor.stopGrace), then unfinished jobs are requeued and the
# node exits. PIDOneTests measures the whole stop of a node whose job outlasts the timeout.
GRACE_MARGIN_S = 10
# Libraries every Debian image has: glibc, and the libgcc-s1 it depends on.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1"}
# Symbols only Foundation defines (CoreFoundation's start-up, Foundation's own Swift module): an app that
# links it pays about 3.7 MB of resident memory in every process, one per queue. The library and the demo
# use FoundationEssentials; Tests/VerkSharedTests/NoFoundationTests.swift keeps their imports so.
FOUNDATION_SYMBOL = re.compile(r"^\S*\s+\w\s+(_?_CFInitialize\w*|\$s10Foundation\w*)$", re.MULTILINE)

DEPLOY_DIR = "deploy/kubernetes"
DOCKERFILE = "Dockerfile"

results = {"ok": 0, "failed": 0}


def check(what, condition, why=""):
    """Prints one line for `what`; `why` says what is wrong when `condition` is false."""
    if condition:
        results["ok"] += 1
        print(f"ok   {what}")
    else:
        results["failed"] += 1
        print(f"FAIL {what}: {why}")
    return condition


def fatal(message):
    print(f"FAIL {message}")
    sys.exit(1)


def mebibytes(quantity):
    """A Kubernetes memory quantity (`768Mi`, `1Gi`, `800M`, `805306368`) in MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(quantity))
    if not match:
        return None
    factor = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
              "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[match.group(2)]
    return float(match.group(1)) * factor / 2**20


def load_manifests():
    """Every document of every manifest, as (file, document)."""
    files = sorted(glob.glob(os.path.join(DEPLOY_DIR, "*.yaml")) + glob.glob(os.path.join(DEPLOY_DIR, "*.yml")))
    if not files:
        fatal(f"no manifests in {DEPLOY_DIR}/")
    documents = []
    for path in files:
        try:
            with open(path) as f:
                documents += [(path, d) for d in yaml.safe_load_all(f) if d]
        except yaml.YAMLError as error:
            fatal(f"{path} is not valid YAML: {error}")
    return documents


def validate_schemas(documents):
    for path, doc in documents:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
                check(f"{path}: {name} matches Kubernetes {version}'s schema (strict)", True)
            except kubernetes_validate.ValidationError as e:
                where = ".".join(str(p) for p in e.path) or "(top level)"
                check(f"{path}: {name} matches Kubernetes {version}'s schema (strict)", False, f"{where}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                check(f"{path}: {name} matches Kubernetes {version}'s schema (strict)", False, e.message)


def one(documents, kind):
    found = [d for _, d in documents if d.get("kind") == kind]
    check(f"exactly one {kind}", len(found) == 1, f"found {len(found)}")
    return found[0] if found else {}


def labels_select(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def env_named(container, name):
    return next((e for e in container.get("env", []) if e.get("name") == name), None)


def probe_port_matches(probe_port, ports, number):
    """A probe's port, by name or number, is the container port `number`."""
    if isinstance(probe_port, int):
        return probe_port == number
    return any(p.get("name") == probe_port and p.get("containerPort") == number for p in ports)


def check_manifests(documents, readme_variables):
    sts, svc, pdb = one(documents, "StatefulSet"), one(documents, "Service"), one(documents, "PodDisruptionBudget")
    cm, secret = one(documents, "ConfigMap"), one(documents, "Secret")
    spec = sts.get("spec", {})
    template = spec.get("template", {})
    pod = template.get("spec", {})
    pod_labels = template.get("metadata", {}).get("labels", {})
    containers = pod.get("containers", [])
    if not check("the StatefulSet has one container", len(containers) == 1, f"found {len(containers)}"):
        return None
    c = containers[0]
    config = cm.get("data", {})

    # Identity and the headless Service.
    check("the StatefulSet's selector matches its pods' labels",
          labels_select(spec.get("selector", {}).get("matchLabels"), pod_labels),
          f"{spec.get('selector')} vs {pod_labels}")
    check("Service is headless (clusterIP: None)", svc.get("spec", {}).get("clusterIP") == "None",
          f"clusterIP is {svc.get('spec', {}).get('clusterIP')!r}")
    check("the StatefulSet's serviceName is the headless Service", spec.get("serviceName") == svc.get("metadata", {}).get("name"),
          f"serviceName {spec.get('serviceName')!r}, Service {svc.get('metadata', {}).get('name')!r}")
    check("the Service selects the pods", labels_select(svc.get("spec", {}).get("selector"), pod_labels),
          f"{svc.get('spec', {}).get('selector')} vs {pod_labels}")
    node_id = env_named(c, "VERK_NODE_ID") or {}
    check("VERK_NODE_ID is the pod's name (downward API, metadata.name)",
          node_id.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
          f"VERK_NODE_ID is {node_id or 'not set'}")
    check("VERK_NODE_ID is not also set in the ConfigMap", "VERK_NODE_ID" not in config, "every pod would share one node id")

    # The Redis URL: from the Secret only.
    url = env_named(c, "VERK_REDIS_URL") or {}
    ref = url.get("valueFrom", {}).get("secretKeyRef", {})
    secret_keys = set(secret.get("data", {})) | set(secret.get("stringData", {}))
    check("VERK_REDIS_URL comes from the Secret through secretKeyRef",
          ref.get("name") == secret.get("metadata", {}).get("name") and ref.get("key") in secret_keys and "value" not in url,
          f"VERK_REDIS_URL is {url or 'not set'}; Secret {secret.get('metadata', {}).get('name')!r} has keys {sorted(secret_keys)}")
    check("VERK_REDIS_URL is not in the ConfigMap", "VERK_REDIS_URL" not in config, "it holds the password: Secret only")
    command_line = c.get("command", []) + c.get("args", [])
    check("no Redis URL on the command line", not any("redis" in str(a) for a in command_line), f"command/args: {command_line}")
    check("no command override: the image's entrypoint (tini) stays PID 1", "command" not in c, f"command: {c.get('command')}")
    cm_refs = [e.get("configMapRef", {}).get("name") for e in c.get("envFrom", [])]
    check("the container takes its VERK_* variables from the ConfigMap", cm.get("metadata", {}).get("name") in cm_refs,
          f"envFrom names {cm_refs}")
    unknown = sorted(k for k in config if k not in readme_variables)
    check("every ConfigMap key is a VERK_* variable of README's Configuration table", not unknown,
          f"{unknown}: Verk ignores unknown names, so a misspelt one silently does nothing")

    # Draining.
    timeout = float(config.get("VERK_SHUTDOWN_TIMEOUT", 25))
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(f"terminationGracePeriodSeconds ({grace}) >= VERK_SHUTDOWN_TIMEOUT ({timeout:g}) + {GRACE_MARGIN_S} s",
          grace >= timeout + GRACE_MARGIN_S, "Kubernetes would SIGKILL the node before it requeues unfinished jobs")

    # Probes and metrics on VERK_HTTP_PORT.
    port = config.get("VERK_HTTP_PORT")
    if check("VERK_HTTP_PORT is set in the ConfigMap (the endpoints are off without it)", port is not None and port.isdigit(),
             f"VERK_HTTP_PORT is {port!r}"):
        port = int(port)
        ports = c.get("ports", [])
        check(f"the container declares port {port}", any(p.get("containerPort") == port for p in ports), f"ports: {ports}")
        for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = c.get(kind, {}).get("httpGet", {})
            check(f"{kind} is GET {path} on port {port}", get.get("path") == path and probe_port_matches(get.get("port"), ports, port),
                  f"{kind}: {c.get(kind)}")
        startup = c.get("startupProbe", {})
        check(f"startupProbe is GET /healthz on port {port}", startup.get("httpGet", {}).get("path") == "/healthz"
              and probe_port_matches(startup.get("httpGet", {}).get("port"), ports, port), f"startupProbe: {startup or 'none'}")
        # A restarted node waits for its id's lease (3 heartbeats) to lapse, for up to 3 lease periods.
        lease_wait = 9 * float(config.get("VERK_HEARTBEAT_INTERVAL", 5))
        allowed = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        check(f"startupProbe allows {allowed} s >= the {lease_wait:g} s a node may wait for its id's lease",
              allowed >= lease_wait, "liveness would restart a node still waiting for its previous lease to lapse")
        notes = template.get("metadata", {}).get("annotations", {})
        check(f"Prometheus scrapes /metrics on port {port} (prometheus.io annotations)",
              notes.get("prometheus.io/scrape") == "true" and notes.get("prometheus.io/port") == str(port)
              and notes.get("prometheus.io/path", "/metrics") == "/metrics", f"annotations: {notes}")
        svc_ports = svc.get("spec", {}).get("ports", [])
        check(f"the Service's port reaches container port {port}",
              any(probe_port_matches(p.get("targetPort", p.get("port")), ports, port) for p in svc_ports), f"ports: {svc_ports}")

    # Security.
    pod_sc, c_sc = pod.get("securityContext", {}), c.get("securityContext", {})
    effective = {**pod_sc, **c_sc}
    check("runs as non-root (runAsNonRoot: true)", effective.get("runAsNonRoot") is True, f"securityContext: {effective}")
    check("runs as a non-zero runAsUser", isinstance(effective.get("runAsUser"), int) and effective["runAsUser"] > 0,
          f"runAsUser: {effective.get('runAsUser')}")
    check("the root filesystem is read-only", c_sc.get("readOnlyRootFilesystem") is True, f"container securityContext: {c_sc}")
    check("no privilege escalation, no capabilities",
          c_sc.get("allowPrivilegeEscalation") is False and c_sc.get("capabilities", {}).get("drop") == ["ALL"],
          f"container securityContext: {c_sc}")
    tmp = [m for m in c.get("volumeMounts", []) if m.get("mountPath") == "/tmp"]
    volumes = {v.get("name"): v for v in pod.get("volumes", [])}
    check("/tmp is a writable emptyDir", len(tmp) == 1 and "emptyDir" in volumes.get(tmp[0].get("name"), {})
          and not tmp[0].get("readOnly", False), f"mounts: {c.get('volumeMounts')}")

    # Memory.
    queues = [q for q in config.get("VERK_QUEUES", "default:10").split(",") if q.strip()]
    per_queue = config.get("VERK_WORKER_MEMORY_LIMIT")
    limit = mebibytes(c.get("resources", {}).get("limits", {}).get("memory"))
    if check("VERK_WORKER_MEMORY_LIMIT is set (each worker process is replaced before the container's limit)",
             per_queue is not None and per_queue.isdigit(), f"VERK_WORKER_MEMORY_LIMIT is {per_queue!r}") and \
       check("the container has a memory limit", limit is not None, f"resources: {c.get('resources')}"):
        needed = len(queues) * int(per_queue) + SUPERVISOR_MEMORY_MIB
        check(f"memory limit {limit:g} MiB >= {len(queues)} queues x {per_queue} MiB + supervisor {SUPERVISOR_MEMORY_MIB} MiB"
              f" = {needed} MiB", limit >= needed, "a worker process could be OOM-killed below its own limit")

    # Disruptions.
    selector = pdb.get("spec", {}).get("selector", {}).get("matchLabels")
    check("the PodDisruptionBudget selects the pods", labels_select(selector, pod_labels), f"{selector} vs {pod_labels}")
    replicas = spec.get("replicas", 1)
    pdb_spec = pdb.get("spec", {})
    allows = pdb_spec.get("maxUnavailable", 0) if "maxUnavailable" in pdb_spec else replicas - pdb_spec.get("minAvailable", replicas)
    check(f"the PodDisruptionBudget lets a drain evict one of {replicas} pods at a time, never all",
          isinstance(allows, int) and 1 <= allows < replicas, f"spec: {pdb_spec}")
    return effective


def readme_variables():
    """The VERK_* variables in README's Configuration table (a test keeps it equal to ConfigurationField.all)."""
    with open("README.md") as f:
        section = f.read().split("\n## Configuration\n", 1)[-1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {v for row in rows for v in re.findall(r"`(VERK_[A-Z0-9_]+)`", row.split("|")[2])}


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True).stdout.strip()


def package_version(package):
    return run(["dpkg-query", "-W", "-f", "${Version}", package]) or None


def package_of(library_path):
    """The Debian package that ships a shared library (through /lib → /usr/lib on merged-/usr systems)."""
    for path in {library_path, os.path.realpath(library_path)}:
        for candidate in {path, path.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)}:
            out = run(["dpkg", "-S", candidate])
            if out:
                return out.split(":")[0]
    return None


def check_dockerfile(security, bin_dir):
    parser = DockerfileParser(path=DOCKERFILE)
    instructions = [i for i in parser.structure if i["instruction"] != "COMMENT"]
    known = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
             "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
    bad = [f"line {i['startline'] + 1}: {i['instruction']}" for i in instructions if i["instruction"] not in known]
    check("Dockerfile: every instruction is a Dockerfile instruction", not bad, ", ".join(bad))
    stages, current = [], None
    for i in instructions:
        if i["instruction"] == "FROM":
            current = {"from": i["value"], "instructions": []}
            stages.append(current)
        elif current is None and i["instruction"] != "ARG":
            check("Dockerfile: starts with FROM", False, f"line {i['startline'] + 1}: {i['instruction']}")
        elif current is not None:
            current["instructions"].append(i)
    if not check("Dockerfile: two stages, build and runtime", len(stages) == 2, f"{len(stages)} FROM lines"):
        return
    build, runtime = stages
    codename = dict(line.rstrip("\n").split("=", 1) for line in open("/etc/os-release") if "=" in line) \
        .get("VERSION_CODENAME", "").strip('"')
    swift = re.fullmatch(r"swift:(\d+)\.(\d+)(?:\.\d+)?-(\w+) AS build", build["from"])
    local = re.search(r"Swift version (\d+)\.(\d+)", run(["swift", "--version"]) or "")
    check("Dockerfile: the build stage is a Swift 6 image named `build`", swift is not None and swift.group(1) == "6",
          f"FROM {build['from']}")
    if swift and local:
        check(f"Dockerfile: its Swift {swift.group(1)}.{swift.group(2)} is the toolchain the tests build with",
              swift.group(1, 2) == local.group(1, 2), f"tests use Swift {local.group(1)}.{local.group(2)}")
    runtime_base = re.fullmatch(r"debian:(\w+)-slim(?: AS \w+)?", runtime["from"])
    check(f"Dockerfile: the runtime stage is debian:{codename}-slim, the Debian the tests run on",
          runtime_base is not None and runtime_base.group(1) == codename, f"FROM {runtime['from']}")
    if swift:
        check("Dockerfile: build and runtime stages are the same Debian release (glibc)",
              runtime_base is not None and swift.group(3) == runtime_base.group(1), f"{build['from']} / {runtime['from']}")

    def runs(stage):
        return " && ".join(i["value"] for i in stage["instructions"] if i["instruction"] == "RUN")

    def apt_installs(stage):
        """package → pinned version (None when unpinned), from the stage's `apt-get install` commands."""
        packages = {}
        for command in re.findall(r"apt-get install ([^&;]*)", runs(stage)):
            for word in command.replace("\\", " ").split():
                if not word.startswith("-"):
                    name, _, version = word.partition("=")
                    packages[name] = version or None
        return packages

    build_pins, runtime_pins = apt_installs(build), apt_installs(runtime)
    product = next((i["value"].split("=", 1)[1] for i in build["instructions"]
                    if i["instruction"] == "ARG" and i["value"].startswith("PRODUCT=")), None)
    check("Dockerfile: ARG PRODUCT names an executable product of Package.swift",
          product is not None and f'.executable(name: "{product}"' in open("Package.swift").read(), f"PRODUCT={product}")
    check("Dockerfile: builds $PRODUCT and verk with swift build -c release --static-swift-stdlib",
          'swift build -c release --static-swift-stdlib --product "$PRODUCT"' in runs(build)
          and "swift build -c release --static-swift-stdlib --product verk" in runs(build), runs(build))
    for stage, package in ((build_pins, "libhiredis-dev"), (runtime_pins, "libhiredis0.14"), (runtime_pins, "tini")):
        here = package_version(package)
        check(f"Dockerfile: {package} is pinned to {here}, the version the tests run against",
              here is not None and stage.get(package) == here, f"Dockerfile pins {stage.get(package)!r}, installed here: {here!r}")

    # The static binaries: what they still load must be in the runtime stage.
    installed = set(runtime_pins)
    for binary in ("verk-demo", "verk"):
        path = os.path.join(bin_dir, binary)
        needed = re.findall(r"=> (/\S+)", run(["ldd", path]))
        packages = {lib: package_of(lib) for lib in needed}
        missing = sorted(f"{lib} ({pkg})" for lib, pkg in packages.items() if pkg not in installed | BASE_IMAGE_PACKAGES)
        check(f"Dockerfile: every shared library {binary} (static Swift stdlib) loads is in the runtime image",
              bool(needed) and not missing, f"not installed by the runtime stage: {missing}" if needed else f"ldd {path} failed")
        swift_libs = [lib for lib in needed if "swift" in lib.lower()]
        check(f"Dockerfile: {binary} needs no library of the Swift toolchain", not swift_libs, f"{swift_libs}")
        if binary == "verk-demo":
            symbols = run(["nm", path])
            foundation = sorted({m.group(1) for m in FOUNDATION_SYMBOL.finditer(symbols)})
            check(f"{binary} does not link Foundation (FoundationEssentials only)", bool(symbols) and not foundation,
                  f"{len(foundation)} Foundation symbols, e.g. {foundation[:3]}" if symbols else f"nm {path} found no symbols")
        help_status = subprocess.run([path, "--help"], capture_output=True).returncode
        check(f"the static {binary} starts (--help exits 0)", help_status == 0, f"exit status {help_status}")

    # Non-root, tini, the app.
    user = next((i["value"] for i in runtime["instructions"] if i["instruction"] == "USER"), None)
    uid, _, gid = (user or "").partition(":")
    check("Dockerfile: USER is a numeric non-root uid", uid.isdigit() and int(uid) > 0, f"USER {user}")
    if security and uid.isdigit():
        check("Dockerfile: its uid is the StatefulSet's runAsUser", int(uid) == security.get("runAsUser"),
              f"USER {uid}, runAsUser {security.get('runAsUser')}")
        if gid:
            check("Dockerfile: its gid is the StatefulSet's runAsGroup", gid.isdigit() and int(gid) == security.get("runAsGroup"),
                  f"USER {user}, runAsGroup {security.get('runAsGroup')}")

    def exec_form(name):
        value = next((i["value"] for i in runtime["instructions"] if i["instruction"] == name), None)
        try:
            parsed = json.loads(value) if value else None
        except json.JSONDecodeError:
            parsed = None
        check(f"Dockerfile: {name} is in exec form (a JSON array)", isinstance(parsed, list), f"{name} {value}")
        return parsed or []

    tini = run(["dpkg", "-L", "tini"]).split("\n")
    entrypoint = exec_form("ENTRYPOINT")
    check("Dockerfile: ENTRYPOINT is tini (PID 1 reaps orphans and forwards SIGTERM)",
          entrypoint[:2] == ["/usr/bin/tini", "--"] and "/usr/bin/tini" in tini, f"ENTRYPOINT {entrypoint}")
    cmd = exec_form("CMD")
    copies = " ".join(i["value"] for i in runtime["instructions"] if i["instruction"] == "COPY" and "--from=build" in i["value"])
    check("Dockerfile: CMD runs the app copied from the build stage",
          len(cmd) >= 1 and os.path.basename(cmd[0]) in copies and cmd[0].startswith("/usr/local/bin/"), f"CMD {cmd}, COPY {copies}")
    with open(".dockerignore") as f:
        ignored = f.read().split()
    check(".dockerignore keeps .build/ out of the build context", ".build/" in ignored or ".build" in ignored, f"{ignored}")
    return runtime


SST, CM, DF = "deploy/kubernetes/statefulset.yaml", "deploy/kubernetes/configmap.yaml", DOCKERFILE
SECRET_REF = """valueFrom:
                secretKeyRef:
                  name: verk-redis
                  key: url"""
# (file, text, replacement, the check that must fail).
MUTATIONS = [
    (SST, "terminationGracePeriodSeconds: 40", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds (30)"),
    (SST, "terminationGracePeriodSeconds:", "terminationGracePeriod:", "matches Kubernetes 1.30.0's schema (strict)"),
    (SST, "fieldPath: metadata.name", "fieldPath: metadata.uid", "VERK_NODE_ID is the pod's name"),
    (SST, SECRET_REF, 'value: "redis://:secret@redis:6379/0"', "VERK_REDIS_URL comes from the Secret"),
    (SST, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "the root filesystem is read-only"),
    (SST, "runAsNonRoot: true", "runAsNonRoot: false", "runs as non-root"),
    (SST, "memory: 768Mi", "memory: 512Mi", "memory limit 512 MiB"),
    (SST, "path: /healthz", "path: /health", "livenessProbe is GET /healthz"),
    (SST, "path: /readyz", "path: /ready", "readinessProbe is GET /readyz"),
    (SST, "failureThreshold: 12", "failureThreshold: 6", "startupProbe allows 30 s"),
    (SST, 'prometheus.io/port: "9090"', 'prometheus.io/port: "9100"', "Prometheus scrapes /metrics"),
    (SST, "imagePullPolicy: IfNotPresent", 'imagePullPolicy: IfNotPresent\n          command: ["/usr/local/bin/verk-node"]',
     "no command override"),
    (CM, "VERK_QUEUES:", "VERK_QUEUE:", "every ConfigMap key is a VERK_* variable"),
    ("deploy/kubernetes/service.yaml", "clusterIP: None", "clusterIP: 10.0.0.10", "Service is headless"),
    ("deploy/kubernetes/poddisruptionbudget.yaml", "maxUnavailable: 1", "maxUnavailable: 2", "lets a drain evict one"),
    (DF, '["/usr/bin/tini", "--"]', '["/usr/local/bin/verk-node"]', "ENTRYPOINT is tini"),
    (DF, "USER 65532:65532", "USER root", "USER is a numeric non-root uid"),
    (DF, "tini=0.19.0-1+b3", "tini", "tini is pinned"),
    (DF, " libstdc++6 ", " ", "every shared library verk-demo"),
]


def self_test(bin_dir):
    """Each mutation must make the checks fail, on the check it names."""
    script = os.path.abspath(__file__)
    for path, text, replacement, expected in MUTATIONS:
        what = f"self-test: {os.path.basename(path)} with {text.splitlines()[0].strip()!r} -> " \
               f"{replacement.splitlines()[-1].strip()!r} fails '{expected}'"
        with open(path) as f:
            original = f.read()
        if text not in original:
            check(what, False, f"{text!r} is not in {path}: update MUTATIONS")
            continue
        with tempfile.TemporaryDirectory() as root:
            for item in ("deploy", DOCKERFILE, ".dockerignore", "README.md", "Package.swift"):
                (shutil.copytree if os.path.isdir(item) else shutil.copy)(item, os.path.join(root, item))
            with open(os.path.join(root, path), "w") as f:
                f.write(original.replace(text, replacement))
            out = subprocess.run([sys.executable, script, os.path.abspath(bin_dir)], cwd=root, capture_output=True, text=True)
        failed = [line for line in out.stdout.splitlines() if line.startswith("FAIL")]
        check(what, out.returncode == 1 and any(expected in line for line in failed),
              f"exit {out.returncode}, failures: {failed or out.stderr.strip()[-500:]}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        self_test(sys.argv[2])
        print(f"deploy check self-tests: {results['ok']} ok, {results['failed']} failed")
        sys.exit(1 if results["failed"] else 0)
    if len(sys.argv) != 2:
        fatal("usage: check_deploy.py [--self-test] RELEASE_BIN_DIR")
    print(f"kubernetes-validate {kubernetes_validate.__version__}, Kubernetes {', '.join(KUBERNETES_VERSIONS)}")
    documents = load_manifests()
    validate_schemas(documents)
    security = check_manifests(documents, readme_variables())
    runtime = check_dockerfile(security, sys.argv[1])
    if runtime and security:
        config = next((d for _, d in documents if d.get("kind") == "ConfigMap"), {}).get("data", {})
        exposed = " ".join(i["value"] for i in runtime["instructions"] if i["instruction"] == "EXPOSE").split()
        check("Dockerfile: EXPOSE is VERK_HTTP_PORT", config.get("VERK_HTTP_PORT") in exposed, f"EXPOSE {exposed}")
    print(f"deploy checks: {results['ok']} ok, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
