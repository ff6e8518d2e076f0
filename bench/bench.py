#!/usr/bin/env python3
"""lambdad vs moto: control-plane throughput and latency on one machine.

`make bench` runs this after building build/lambdad. It

  1. compiles bench/postload.c (gcc -O2) into build/bench/postload;
  2. starts lambdad (release build, temp data dir) and moto's server
     (`python3 -m moto.server`) side by side, each on a free 127.0.0.1 port;
  3. seeds each with 1,000 functions (bench-0000 .. bench-0999, a distinct ~1 KB
     zip each) through boto3;
  4. measures GetFunction and ListFunctions with wrk (--latency) at 1 and 50
     connections, and CreateFunction (unique names, ~1 KB zip) with postload at
     1 and 50 connections, one server at a time;
  5. then, each on a lambdad of its own: warm/cold invokes and memory (issue 4,
     --no-invoke), asynchronous invocation (issue 5, --no-async), and function
     URL requests/s beside a warm Invoke of the same function and the bare
     loopback floor, plus time to first byte of a streamed response through a
     RESPONSE_STREAM URL and InvokeWithResponseStream (issue 6, --no-urls), and
     SQS event source mappings fed from a moto server of their own, beside a plain
     boto3 consumer of the same moto (issue 16, --no-esm);
  6. prints the tables and writes them to bench/RESULTS.md.

`--only esm` (or `--only obs`: the CloudWatch Logs and CloudWatch APIs beside moto's, issue 18; or
`--only async`: durable async accepts beside the echo floor, issues 5 and 20; or `--only cpw`:
lambdad's CPU per CreateFunction, PublishLayerVersion and ListLayerVersions, this tree beside
--cpw-rev, issue 20) runs that phase alone and replaces only its section of bench/RESULTS.md.

Every load run is bounded in count and time, everything targets 127.0.0.1 only,
and both servers are killed at the end, also on errors and on SIGINT/SIGTERM.

The servers run pinned to CPU 0 and the load generators to CPU 1 (when the
machine has at least 2 CPUs), so a load generator never competes with the
server it measures; --no-pin turns that off.

wrk sends a static, unsigned SigV4-shaped Authorization header: moto's server
routes a request to a service only by the credential scope in that header (an
Authorization-free GET lands in its S3 backend and 404s), and checks no
signature; lambdad ignores it too. Both servers get the same requests.
"""

import argparse
import base64
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
LAMBDAD = os.path.join(ROOT, "build", "lambdad")
POSTLOAD_SRC = os.path.join(BENCH, "postload.c")
POSTLOAD = os.path.join(ROOT, "build", "bench", "postload")
WRK_LUA = os.path.join(BENCH, "wrk.lua")
RESULTS = os.path.join(BENCH, "RESULTS.md")

ACCOUNT = "123456789012"  # lambdad is started with it (--account-id): the functions' role is of this account
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"
AUTH = (f"AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/lambda/aws4_request, "
        "SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000")
SEED_PREFIX = "bench"
ZIP_SIZE = 1023  # ~1 KB; a multiple of 3 so the zip comment maps to whole base64 chars

# the commit before the one-door redesign (issue 12): its lambdad is built and measured beside this
# tree's in the compare row (lambdad's own CPU per warm invoke of the C function)
REDESIGN_BASE = "f57cf13"

SERVER_CPU = {0}
LOAD_CPU = {1}

children = []  # server Popen objects, killed at exit
LOAD_BEFORE = (0.0, 0.0, 0.0)


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- helpers

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_zip(tag: int) -> bytes:
    """A ZIP_SIZE-byte stored zip holding index.py; its 12-byte archive comment
    (the zip's last bytes, covered by no CRC) is the decimal tag, so every
    function gets distinct code (distinct CodeSha256) at no packing cost.
    postload rewrites the same trailing 16 base64 chars per request."""
    def build(pad):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.comment = b"%012d" % tag
            info = zipfile.ZipInfo("index.py", date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, "def handler(event, context):\n    return {'ok': True}\n" + "#" * pad + "\n")
        return buf.getvalue()
    base = len(build(0))
    data = build(ZIP_SIZE - base)
    assert len(data) == ZIP_SIZE and data.endswith(b"%012d" % tag), len(data)
    return data


def pinned(cpus):
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def http_get(port, path, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": AUTH})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def http_req(port, method, path, body=None, headers=None, timeout=10):
    """One request with the static Authorization header; returns (status, headers, body), also for 4xx/5xx."""
    h = {"Authorization": AUTH, "Content-Type": "application/json"}
    h.update(headers or {})
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_ready(name, proc, port, path, deadline_s=30):
    t_end = time.time() + deadline_s
    while time.time() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early with {proc.returncode}")
        try:
            st, _ = http_get(port, path, timeout=1)
            if st == 200:
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} not ready on port {port} after {deadline_s}s")


def start_server(name, argv, logpath, cpus, env=None):
    logf = open(logpath, "wb")
    p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, preexec_fn=pinned(cpus), cwd=ROOT, env=env)
    p.bench_name = name
    p.bench_log = logpath
    children.append(p)
    return p


def log_tails(procs):
    """Prints the end of each server's log (after a phase failed)."""
    for proc in procs:
        try:
            with open(proc.bench_log, "rb") as f:
                log(f"--- tail of {proc.bench_name} log ---\n" + f.read()[-1500:].decode(errors="replace"))
        except OSError:
            pass


def with_logs(phase, *args):
    """Runs a benchmark phase; if it fails, prints its servers' log tails and re-raises."""
    try:
        return phase(*args)
    except BaseException:
        log_tails(list(children))
        raise


def stop_server(p, sig=signal.SIGTERM, timeout=10):
    """Stops one server started by start_server (its whole process group): sig, then SIGKILL after
    timeout seconds."""
    os.killpg(p.pid, sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=5)
    children.remove(p)


def kill_servers():
    for p in children:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in children:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)
    children.clear()


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def run_bounded(argv, timeout, cpus):
    """Runs a load generator with a hard wall-clock bound; returns stdout."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, preexec_fn=pinned(cpus))
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise RuntimeError(f"{argv[0]} exceeded {timeout}s and was killed")
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {p.returncode}: {err.strip()[-2000:]}")
    return out, err


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """(cpu seconds of the whole process incl. exited threads, runqueue-wait seconds summed over
    its live threads). lambdad is one thread, so its wait figure is exact."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    wait = 0.0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    wait += int(f.read().split()[1]) / 1e9
            except OSError:
                pass
    except OSError:
        pass
    return cpu, wait


def measured(pid, fn):
    """Runs fn() and adds the server's CPU use during it: cpu_us_per_req, and wait_pct, the
    share of the run the server spent runnable but waiting for a CPU (other load)."""
    c0, w0 = proc_cpu(pid)
    t0 = time.time()
    r = fn()
    wall = time.time() - t0
    c1, w1 = proc_cpu(pid)
    n = r.get("requests", r.get("ok", 0))
    r["server_cpu_s"] = c1 - c0
    r["cpu_us_per_req"] = (c1 - c0) / n * 1e6 if n else 0.0
    r["wait_pct"] = 100.0 * max(0.0, w1 - w0) / wall if wall > 0 else 0.0
    return r


def last_json(out):
    for line in reversed(out.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON summary in output:\n" + out[-2000:])


# ---------------------------------------------------------------- phases

def build_postload():
    if (not os.path.exists(POSTLOAD)
            or os.path.getmtime(POSTLOAD) < os.path.getmtime(POSTLOAD_SRC)):
        os.makedirs(os.path.dirname(POSTLOAD), exist_ok=True)
        log("compiling", os.path.relpath(POSTLOAD, ROOT))
        subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-o", POSTLOAD, POSTLOAD_SRC], check=True)


def boto_clients(port):
    import boto3
    from botocore.config import Config
    cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=8,
                 connect_timeout=5, read_timeout=30)
    kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
              aws_access_key_id="testing", aws_secret_access_key="testing", config=cfg)
    return boto3.client("lambda", **kw), boto3.client("iam", **kw)


def seed(name, port, n, is_moto):
    lam, iam = boto_clients(port)
    if is_moto:  # moto checks that the execution role exists in its IAM
        iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}))

    def one(i):
        lam.create_function(FunctionName=f"{SEED_PREFIX}-{i:04d}", Runtime="python3.12", Role=ROLE,
                            Handler="index.handler", Code={"ZipFile": make_zip(i)},
                            Description=f"bench function {i}")
    t0 = time.time()
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(one, range(n)))
    log(f"seeded {name} with {n} functions in {time.time() - t0:.1f}s")
    # sanity: the requests the load generators send succeed and mean the same thing
    st, body = http_get(port, f"/2015-03-31/functions/{SEED_PREFIX}-0007")
    cfgd = json.loads(body)["Configuration"]
    assert st == 200 and cfgd["FunctionName"] == f"{SEED_PREFIX}-0007", body[:300]
    st, body = http_get(port, "/2015-03-31/functions")
    d = json.loads(body)
    assert st == 200 and d["Functions"], body[:300]
    return {"list_items": len(d["Functions"]), "list_bytes": len(body),
            "list_next_marker": bool(d.get("NextMarker"))}


def wrk_run(port, mode, conns, duration, nfuncs, cpus, prefix=SEED_PREFIX, auth=AUTH, amzdate=""):
    threads = 1 if conns == 1 else min(2, conns)
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "5s", "--latency",
            "-s", WRK_LUA, f"http://127.0.0.1:{port}", "--", mode, prefix, str(nfuncs), auth, amzdate]
    out, _ = run_bounded(argv, duration + 20, cpus)
    r = last_json(out)
    r["errors"] = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_status"] + r["err_timeout"]
    # wrk counts a closed socket after each response (moto's "Connection: close") as a read error
    # on some versions; status errors are the ones that mean a wrong answer
    return r


def postload_run(port, conns, total, limit, prefix, b64path, cpus, mode="create"):
    argv = [POSTLOAD, str(port), str(conns), str(total), str(limit), prefix, b64path, AUTH, mode]
    out, err = run_bounded(argv, limit + 15, cpus)
    r = last_json(out)
    r["errors"] = r["errors"] + r["status_errors"]
    if err.strip():
        log("postload stderr:", err.strip()[:1000])
    return r


# ---------------------------------------------------------------- issue 3: policies and layers

LAYER = "bench-layer"          # seeded with LAYER_VERSIONS versions, listed by ListLayerVersions
LAYER_VERSIONS = 50
POLICY_FN = f"{SEED_PREFIX}-0000"  # GetPolicy target; AddPermission runs add statements to it
POST_OPS = ("CreateFunction", "AddPermission", "PublishLayerVersion")


def probe_more(name, port, nfuncs):
    """Seeds what the issue 3 rows read and checks that the server implements each operation with
    the very requests the load generators send. Returns {op: None if supported else why not}."""
    why = {}
    st, _, body = http_req(port, "POST", f"/2015-03-31/functions/{POLICY_FN}/policy",
                           {"StatementId": "probe", "Action": "lambda:InvokeFunction",
                            "Principal": "s3.amazonaws.com", "SourceArn": "arn:aws:s3:::bench-bucket-probe"})
    why["AddPermission"] = None if 200 <= st < 300 else f"AddPermission answered {st}: {body[:200]!r}"
    why["_add_status"] = st  # AWS answers 201
    st, _, body = http_req(port, "GET", f"/2015-03-31/functions/{POLICY_FN}/policy")
    ok = st == 200 and "Statement" in json.loads(body).get("Policy", "")
    why["GetPolicy"] = None if ok else f"GetPolicy answered {st}: {body[:200]!r}"
    st, _, body = http_req(port, "POST", "/2018-10-31/layers/bench-probe/versions",
                           {"Description": "bench", "CompatibleRuntimes": ["python3.12"],
                            "Content": {"ZipFile": base64.b64encode(make_zip(1)).decode()}})
    why["_publish_status"] = st
    why["PublishLayerVersion"] = None if 200 <= st < 300 else f"PublishLayerVersion answered {st}: {body[:200]!r}"
    if why["PublishLayerVersion"] is None:
        lam, _ = boto_clients(port)
        for i in range(LAYER_VERSIONS):
            lam.publish_layer_version(LayerName=LAYER, Description=f"bench layer {i}",
                                      CompatibleRuntimes=["python3.12"], Content={"ZipFile": make_zip(10_000 + i)})
        st, _, body = http_req(port, "GET", f"/2018-10-31/layers/{LAYER}/versions")
        n = len(json.loads(body).get("LayerVersions", [])) if st == 200 else -1
        why["ListLayerVersions"] = (None if n == LAYER_VERSIONS else
                                    f"ListLayerVersions answered {st} with {n} versions: {body[:200]!r}")
        if st == 200:
            why["_list_bytes"] = len(body)
    else:
        why["ListLayerVersions"] = "no layers: " + why["PublishLayerVersion"]
    log(f"{name}: issue 3 operations: " + ", ".join(
        f"{op} {'ok' if w is None else 'n/a'}" for op, w in why.items() if not op.startswith("_")))
    return why


def control_plane_more(args, servers, b64path):
    support = {name: probe_more(name, port, args.functions) for name, (proc, port) in servers.items()}
    rows = []

    def post_op(op, mode_for, prefix_for):
        for conns in (1, 50):
            row = {"op": op, "conns": conns}
            for name in ("lambdad", "moto"):
                proc, port = servers[name]
                if support[name][op] is not None:
                    row[name] = None
                    continue
                r = measured(proc.pid, lambda: postload_run(port, conns, args.posts, args.post_limit,
                                                            prefix_for(conns), b64path, LOAD_CPU, mode_for(conns)))
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} died during {op}")
                row[name] = r
                log(f"{op:14s} c={conns:<3d} {name:8s} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  "
                    f"p99 {r['p99_ms']:.3f} ms  ok {r['ok']}/{r['issued']} in {r['elapsed_s']:.1f}s  "
                    f"errors {r['errors']}  cpu/req {r['cpu_us_per_req']:.0f} us  cpu-wait {r['wait_pct']:.0f}%")
            rows.append(row)

    def get_op(op, path):
        for conns in (1, 50):
            row = {"op": op, "conns": conns}
            for name in ("lambdad", "moto"):
                proc, port = servers[name]
                if support[name][op] is not None:
                    row[name] = None
                    continue
                if args.warmup:
                    wrk_run(port, "path", conns, args.warmup, 1, LOAD_CPU, prefix=path)
                r = measured(proc.pid, lambda: wrk_run(port, "path", conns, args.duration, 1, LOAD_CPU, prefix=path))
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} died during {op}")
                row[name] = r
                log(f"{op:14s} c={conns:<3d} {name:8s} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  "
                    f"p99 {r['p99_ms']:.3f} ms  errors {r['errors']}  cpu/req {r['cpu_us_per_req']:.0f} us  "
                    f"cpu-wait {r['wait_pct']:.0f}%")
            rows.append(row)

    # unique statement ids; spread over the seeded functions (AWS caps one policy at 20 KB, ~90 statements)
    post_op("AddPermission", lambda c: f"perm:{args.functions}:p{c}", lambda c: SEED_PREFIX)
    get_op("GetPolicy", f"/2015-03-31/functions/{POLICY_FN}/policy")
    post_op("PublishLayerVersion", lambda c: "layer", lambda c: f"pub{c}")
    get_op("ListLayerVersions", f"/2018-10-31/layers/{LAYER}/versions")
    for name, (proc, port) in servers.items():  # what GetPolicy returned at the end, for the notes
        st, _, body = http_req(port, "GET", f"/2015-03-31/functions/{POLICY_FN}/policy")
        if st == 200:
            support[name]["_policy_statements"] = len(json.loads(json.loads(body)["Policy"])["Statement"])
            support[name]["_policy_bytes"] = len(body)
    return rows, support


# ---------------------------------------------------------------- issue 4: invoke

BOOTSTRAP_SRC = os.path.join(BENCH, "bootstrap.c")
BOOTSTRAP = os.path.join(ROOT, "build", "bench", "bootstrap")
ECHOD = os.path.join(ROOT, "build", "bench", "echod")
SPAWNFLOOR = os.path.join(ROOT, "build", "bench", "spawnfloor")
EVENT = b'{"bench":1,"msg":"hello"}'
RUNTIMES = [  # (key, label, Runtime, handler file name, source)
    ("c", "C (provided.al2023)", "provided.al2023", None, None),
    ("py", "python3.11", "python3.11", "index.py", "def handler(event, context):\n    return event\n"),
    ("node", "nodejs20.x", "nodejs20.x", "index.js", "exports.handler = async (event) => event;\n"),
]
BOOTSTRAP_STATIC = True
# cold starts only (issue 13): the python function importing boto3 as the runtime ships it, beside the
# one that does not (the "py" row); AWS puts that import at ~100-200 ms
COLD_EXTRA = [
    ("pyboto", "python3.11 importing boto3", "python3.11", "index.py",
     "import boto3\n\ndef handler(event, context):\n    return event\n"),
]
# java17 (issue 14): a stream handler echoing the event, compiled here with javac against the runtime's
# interfaces; handler "index.handler" is the class handler of package index
JAVA_ECHO = """package index;
import com.amazonaws.services.lambda.runtime.*;
import java.io.*;
public class handler implements RequestStreamHandler {
    public void handleRequest(InputStream in, OutputStream out, Context ctx) throws IOException {
        out.write(in.readAllBytes());
    }
}
"""
JAVA_CLASSES = os.path.join(ROOT, "runtimes", "java", "classes")
JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
if os.path.exists(os.path.join(JAVA_CLASSES, "lambdad", "Bootstrap.class")) and shutil.which("javac"):
    COLD_EXTRA.append(("java", "java17", "java17", "java", JAVA_ECHO))



def build_bench_bins():
    global BOOTSTRAP_STATIC
    os.makedirs(os.path.dirname(BOOTSTRAP), exist_ok=True)
    for src, out in ((os.path.join(BENCH, "echod.c"), ECHOD), (os.path.join(BENCH, "spawnfloor.c"), SPAWNFLOOR)):
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
            log("compiling", os.path.relpath(out, ROOT))
            subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-o", out, src], check=True)
    if not os.path.exists(BOOTSTRAP) or os.path.getmtime(BOOTSTRAP) < os.path.getmtime(BOOTSTRAP_SRC):
        log("compiling", os.path.relpath(BOOTSTRAP, ROOT), "(static)")
        r = subprocess.run(["gcc", "-O2", "-static", "-Wall", "-Wextra", "-o", BOOTSTRAP, BOOTSTRAP_SRC])
        if r.returncode != 0:
            log("static link failed; building bench/bootstrap.c dynamically")
            subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-o", BOOTSTRAP, BOOTSTRAP_SRC], check=True)
    BOOTSTRAP_STATIC = "statically linked" in subprocess.run(["file", "-L", BOOTSTRAP], capture_output=True,
                                                            text=True).stdout or not _is_dynamic(BOOTSTRAP)


def _is_dynamic(path):
    with open(path, "rb") as f:
        return b"ld-linux" in f.read(4096)


def code_zip(key):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, _, _, fname, src in RUNTIMES + COLD_EXTRA:
            if k != key:
                continue
            if fname == "java":
                work = tempfile.mkdtemp(prefix="lambdad-bench-java-")
                os.makedirs(os.path.join(work, "src", "index"))
                with open(os.path.join(work, "src", "index", "handler.java"), "w") as f:
                    f.write(src)
                subprocess.run(["javac", "--release", "11", "-d", os.path.join(work, "classes"), "-cp", JAVA_CLASSES,
                                os.path.join(work, "src", "index", "handler.java")], check=True, timeout=120)
                with open(os.path.join(work, "classes", "index", "handler.class"), "rb") as f:
                    info = zipfile.ZipInfo("index/handler.class", date_time=(2024, 1, 1, 0, 0, 0))
                    z.writestr(info, f.read())
                shutil.rmtree(work, ignore_errors=True)
            elif fname is None:
                info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = (0o100755) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(BOOTSTRAP, "rb") as f:
                    z.writestr(info, f.read())
            else:
                info = zipfile.ZipInfo(fname, date_time=(2024, 1, 1, 0, 0, 0))
                info.external_attr = (0o100644) << 16
                z.writestr(info, src)
    return buf.getvalue()


def interpreters():
    """The host interpreters lambdad maps python3.11 and nodejs20.x to (its start-up log lists the ids;
    these are the binaries its environments run, see /proc/PID/exe during the run)."""
    py = "/usr/bin/python3.11" if os.access("/usr/bin/python3.11", os.X_OK) else shutil.which("python3.11")
    node = "/usr/bin/node" if os.access("/usr/bin/node", os.X_OK) else shutil.which("node")
    return py, node


def children_of(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def proc_mem(pid):
    """(VmRSS kB, Pss kB) of one process, or (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def cgroup_usage(pid):
    """Bytes charged to the process's memory cgroup (v1 memory.usage_in_bytes, v2 memory.current)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        hid, ctrls, path = line.split(":", 2)
        if "memory" in ctrls.split(","):
            fn = f"/sys/fs/cgroup/memory{path}/memory.usage_in_bytes"
        elif hid == "0" and ctrls == "":
            fn = f"/sys/fs/cgroup{path}/memory.current"
        else:
            continue
        try:
            with open(fn) as f:
                return int(f.read())
        except OSError:
            continue
    return None


def env_memory(lambdad_pid):
    """Per environment (a direct child of lambdad: the runtime, pid 1 of its namespace) -> function
    name, summed VmRSS and Pss over its process tree, and its cgroup's usage."""
    kids = children_of(lambdad_pid)
    envs = []
    for root in kids.get(lambdad_pid, []):
        try:
            with open(f"/proc/{root}/environ", "rb") as f:
                env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        except OSError:
            continue
        fn = env.get(b"AWS_LAMBDA_FUNCTION_NAME", b"").decode()
        tree, todo = [], [root]
        while todo:
            p = todo.pop()
            tree.append(p)
            todo.extend(kids.get(p, []))
        rss = pss = 0
        for p in tree:
            a, b = proc_mem(p)
            rss += a
            pss += b
        envs.append({"function": fn, "procs": len(tree), "rss_kb": rss, "pss_kb": pss,
                     "cgroup_bytes": cgroup_usage(root)})
    return envs


def median(xs):
    xs = sorted(xs)
    return xs[(len(xs) - 1) // 2] if xs else 0.0


def pctl(xs, p):
    xs = sorted(xs)
    if not xs:
        return 0.0
    i = min(len(xs), max(1, int(p * len(xs) + 0.999999)))
    return xs[i - 1]


def spawn_floor(argv, n, env=None):
    out, _ = run_bounded([SPAWNFLOOR, str(n), "20"] + argv, 40, None)
    return last_json(out)


def idle_interpreter_memory(argv, env=None):
    """RSS/PSS of a bare interpreter sitting idle (blocked reading stdin), the memory floor."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env, start_new_session=True)
    try:
        time.sleep(0.5)
        return proc_mem(p.pid)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(timeout=5)


def idle_bootstrap_memory():
    """The C bootstrap connected to a Runtime API that never answers: blocked in its first GET /next."""
    with socket.socket() as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        p = subprocess.Popen([BOOTSTRAP], env={"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            ls.settimeout(5)
            conn, _ = ls.accept()
            time.sleep(0.2)
            r = proc_mem(p.pid)
            conn.close()
            return r
        finally:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)


def wait_active(port, name, deadline_s=10):
    t_end = time.time() + deadline_s
    while time.time() < t_end:
        st, _, body = http_req(port, "GET", f"/2015-03-31/functions/{name}/configuration")
        if st == 200 and json.loads(body).get("State", "Active") == "Active":
            return
        time.sleep(0.02)
    raise RuntimeError(f"{name} not Active after {deadline_s}s")


def invoke_phase(args, tmp):
    """Warm invokes, cold starts, memory per idle environment, and their physical floors. A lambdad
    of its own, not pinned: an invoke runs in lambdad and in a runtime process, so it uses both CPUs
    (the load client and the floor servers are not pinned either)."""
    res = {"warm": [], "cold": [], "mem": [], "prov": [], "floors": {}}
    port = free_port()
    datadir = os.path.join(tmp, "data-invoke")
    os.makedirs(datadir)
    lam = start_server("lambdad-invoke", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--data-dir", datadir],
                       os.path.join(tmp, "lambdad-invoke.log"), None)
    wait_ready("lambdad-invoke", lam, port, "/2016-08-19/account-settings")
    evpath = os.path.join(tmp, "event.json")
    with open(evpath, "wb") as f:
        f.write(EVENT)
    zips = {k: code_zip(k) for k, *_ in RUNTIMES + COLD_EXTRA}

    def create(name, key, rt, env_vars=None):
        body = {"FunctionName": name, "Runtime": rt, "Role": ROLE, "Handler": "index.handler",
                "Code": {"ZipFile": base64.b64encode(zips[key]).decode()}, "MemorySize": 128, "Timeout": 10}
        st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
        if st != 201:
            raise RuntimeError(f"CreateFunction {name} ({rt}) answered {st}: {b[:300]!r}")

    # ---- warm: one function per runtime, the load client at 1 and 16 connections
    for key, label, rt, *_ in RUNTIMES:
        fn = f"warm-{key}"
        create(fn, key, rt)
        wait_active(port, fn)
        st, _, b = http_req(port, "POST", f"/2015-03-31/functions/{fn}/invocations", EVENT)
        if st != 200 or json.loads(b) != json.loads(EVENT):
            raise RuntimeError(f"invoke {fn} answered {st}: {b[:500]!r}")
        for conns in (1, 16):
            postload_run(port, conns, 10 ** 6, 1.0, fn, evpath, None, "invoke")  # warm-up: spawns the pool
            r = measured(lam.pid, lambda: postload_run(port, conns, args.invokes, args.invoke_limit, fn, evpath,
                                                       None, "invoke"))
            if lam.poll() is not None:
                raise RuntimeError("lambdad died during warm invokes")
            r.update(key=key, label=label, conns=conns)
            res["warm"].append(r)
            log(f"warm invoke {key:5s} c={conns:<3d} {r['rps']:10.1f} inv/s  p50 {r['p50_ms']:.3f} ms  "
                f"p99 {r['p99_ms']:.3f} ms  ok {r['ok']}/{r['issued']}  errors {r['errors']}  "
                f"lambdad cpu/invoke {r['cpu_us_per_req']:.0f} us")

    # ---- floor: a bare loopback HTTP round trip, same client, same event, echo server
    ep = subprocess.Popen([ECHOD, str(4 * (args.invoke_limit + 3) + 10)], stdout=subprocess.PIPE, text=True,
                          start_new_session=True)
    children.append(ep)
    ep.bench_name, ep.bench_log = "echod", os.devnull
    eport = int(ep.stdout.readline())
    for conns in (1, 16):
        postload_run(eport, conns, 10 ** 6, 0.5, "echo", evpath, None, "invoke")
        r = postload_run(eport, conns, args.invokes, args.invoke_limit, "echo", evpath, None, "invoke")
        res["floors"][f"rtt{conns}"] = r
        log(f"floor loopback HTTP c={conns:<3d} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms")
    stop_server(ep, sig=signal.SIGKILL)

    # ---- cold: a new environment for every invoke (a fresh function each, same code: extracted once already)
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for key, label, rt, *_ in RUNTIMES + COLD_EXTRA:
        names = [f"cold-{key}-{i:02d}" for i in range(args.cold)]
        for n in names:
            create(n, key, rt)
        for n in names:
            wait_active(port, n)
        times, inits = [], []
        for n in names:
            t0 = time.perf_counter()
            conn.request("POST", f"/2015-03-31/functions/{n}/invocations", body=EVENT,
                         headers={"Authorization": AUTH, "X-Amz-Log-Type": "Tail", "Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            dt = (time.perf_counter() - t0) * 1000
            if resp.status != 200 or json.loads(body) != json.loads(EVENT):
                raise RuntimeError(f"cold invoke {n} answered {resp.status}: {body[:500]!r}")
            times.append(dt)
            tail = base64.b64decode(resp.getheader("X-Amz-Log-Result") or "").decode(errors="replace")
            for part in tail.split("\t"):
                if part.strip().startswith("Init Duration:"):
                    inits.append(float(part.split(":")[1].split()[0]))
        res["cold"].append({"key": key, "label": label, "n": len(times), "p50_ms": median(times),
                            "p99_ms": pctl(times, 0.99), "min_ms": min(times),
                            "init_p50_ms": median(inits) if inits else None,
                            "init_p99_ms": pctl(inits, 0.99) if inits else None, "init_n": len(inits)})
        c = res["cold"][-1]
        log(f"cold start  {key:5s} n={c['n']}  p50 {c['p50_ms']:.2f} ms  p99 {c['p99_ms']:.2f} ms  "
            f"Init Duration p50 {c['init_p50_ms']} ms ({c['init_n']} reported)")
    conn.close()

    # ---- memory per idle environment: the cold functions' environments, each after its one invoke
    time.sleep(0.3)
    envs = env_memory(lam.pid)
    for key, label, *_ in RUNTIMES:
        mine = [e for e in envs if e["function"].startswith(f"cold-{key}-")]
        cg = [e["cgroup_bytes"] for e in mine if e["cgroup_bytes"] is not None]
        res["mem"].append({"key": key, "label": label, "n": len(mine),
                           "rss_kb": median([e["rss_kb"] for e in mine]),
                           "pss_kb": median([e["pss_kb"] for e in mine]),
                           "procs": max([e["procs"] for e in mine], default=0),
                           "cgroup_kb": median(cg) / 1024 if cg else None})
        m = res["mem"][-1]
        log(f"idle env    {key:5s} n={m['n']}  RSS {m['rss_kb']} kB  PSS {m['pss_kb']} kB  cgroup {m['cgroup_kb']} kB")
    res["lambdad_rss_kb"] = proc_mem(lam.pid)[0]
    res["envs_total"] = len(envs)

    # ---- provisioned concurrency of 10: PutProvisionedConcurrencyConfig sent to READY seen by GET
    for key, label, rt, *_ in RUNTIMES:
        fn = f"pc-{key}"
        body = {"FunctionName": fn, "Runtime": rt, "Role": ROLE, "Handler": "index.handler", "Publish": True,
                "Code": {"ZipFile": base64.b64encode(zips[key]).decode()}, "MemorySize": 128, "Timeout": 10}
        st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
        if st != 201:
            raise RuntimeError(f"CreateFunction {fn} answered {st}: {b[:300]!r}")
        wait_active(port, fn)
        path = f"/2019-09-30/functions/{fn}/provisioned-concurrency?Qualifier=1"
        times = []
        for _ in range(args.prov_runs):
            t0 = time.perf_counter()
            st, _, b = http_req(port, "PUT", path, {"ProvisionedConcurrentExecutions": 10})
            if st != 202:
                raise RuntimeError(f"PutProvisionedConcurrencyConfig {fn} answered {st}: {b[:300]!r}")
            while True:
                st, _, b = http_req(port, "GET", path)
                doc = json.loads(b)
                if doc.get("Status") == "READY":
                    break
                if doc.get("Status") != "IN_PROGRESS" or time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"provisioned concurrency of {fn}: {b[:300]!r}")
                time.sleep(0.001)
            times.append((time.perf_counter() - t0) * 1000)
            http_req(port, "DELETE", path)  # releases the 10 environments; the next run starts 10 new ones
            time.sleep(0.2)
        res["prov"].append({"key": key, "label": label, "n": len(times), "p50_ms": median(times),
                            "max_ms": max(times)})
        log(f"provisioned {key:5s} 10 envs READY: p50 {median(times):.1f} ms  max {max(times):.1f} ms "
            f"(n={len(times)})")

    # ---- floors for cold start and memory: bare fork+exec / an idle bare interpreter
    py, node = interpreters()
    res["floors"]["spawn_c"] = spawn_floor([BOOTSTRAP], args.spawns)
    res["floors"]["spawn_py"] = spawn_floor([py, "-c", "pass"], args.spawns)
    res["floors"]["spawn_node"] = spawn_floor([node, "-e", "0"], args.spawns)
    if any(k == "java" for k, *_ in COLD_EXTRA):
        res["floors"]["spawn_java"] = spawn_floor([JAVA, "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1",
                                                   "-XX:+UseSerialGC", "-Xshare:auto", "-version"], max(5, args.spawns // 5))
    res["floors"]["mem_c"] = idle_bootstrap_memory()
    res["floors"]["mem_py"] = idle_interpreter_memory([py, "-c", "import sys; sys.stdin.read()"])
    res["floors"]["mem_node"] = idle_interpreter_memory([node, "-e", "process.stdin.resume()"])
    res["interp"] = {"py": py, "node": node}
    for k in [k for k in ("spawn_c", "spawn_py", "spawn_node", "spawn_java") if k in res["floors"]]:
        f = res["floors"][k]
        log(f"floor {k:10s} p50 {f['p50_ms']:.2f} ms  p99 {f['p99_ms']:.2f} ms  (n={f['n']}, failed {f['failed']})")
    if lam.poll() is not None:
        raise RuntimeError("lambdad died during the invoke phase")
    stop_server(lam)  # its environments (ten provisioned JVMs among them) must not run into the next phase
    return res


def render_invoke(res):
    F = res["floors"]
    w = ["| function | clients | invokes/s | p50 | p99 | lambdad CPU/invoke | floor: loopback HTTP req/s | floor p50 "
         "| floor p99 | p50 / floor | floor req/s / invokes/s |", "|" + "|".join(["---"] * 11) + "|"]
    for r in res["warm"]:
        f = F[f"rtt{r['conns']}"]
        w.append(f"| {r['label']} | {r['conns']} | {fmt_rps(r['rps'])} | {r['p50_ms']:.3f} ms | {r['p99_ms']:.3f} ms "
                 f"| {r['cpu_us_per_req']:,.0f} us | {fmt_rps(f['rps'])} | {f['p50_ms']:.3f} ms | {f['p99_ms']:.3f} ms "
                 f"| {r['p50_ms'] / f['p50_ms']:.1f}x | {f['rps'] / r['rps']:.1f}x |")
    spawn = {"c": "spawn_c", "py": "spawn_py", "pyboto": "spawn_py", "node": "spawn_node", "java": "spawn_java"}
    floor_name = {"c": "fork+exec bootstrap (exits at once)", "py": "fork+exec `python3.11 -c pass`",
                  "java": "fork+exec `java -version` (the runtime's JVM flags)",
                  "pyboto": "fork+exec `python3.11 -c pass`",
                  "node": "fork+exec `node -e 0`"}
    c = ["| function | cold starts | p50 (Invoke sent to response) | p99 | min | Init Duration p50 (REPORT) | p99 "
         "| floor | floor p50 | floor p99 | p50 / floor |", "|" + "|".join(["---"] * 11) + "|"]
    for r in res["cold"]:
        f = F[spawn[r["key"]]]
        ini = (f"{r['init_p50_ms']:.2f} ms | {r['init_p99_ms']:.2f} ms" if r["init_p50_ms"] is not None
               else "n/a | n/a")
        c.append(f"| {r['label']} | {r['n']} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['p99_ms'])} | {fmt_ms(r['min_ms'])} "
                 f"| {ini} | {floor_name[r['key']]} | {fmt_ms(f['p50_ms'])} | {fmt_ms(f['p99_ms'])} "
                 f"| {r['p50_ms'] / f['p50_ms']:.1f}x |")
    memf = {"c": "mem_c", "py": "mem_py", "node": "mem_node"}
    mfloor = {"c": "bootstrap blocked in its first GET /next", "py": "idle `python3.11 -c 'sys.stdin.read()'`",
              "node": "idle `node -e 'process.stdin.resume()'`"}
    m = ["| function | idle envs | RSS (median, summed over the env's processes) | PSS | memory cgroup usage "
         "| floor | floor RSS | floor PSS | RSS / floor |", "|" + "|".join(["---"] * 9) + "|"]
    for r in res["mem"]:
        frss, fpss = F[memf[r["key"]]]
        cg = f"{r['cgroup_kb'] / 1024:.1f} MB" if r["cgroup_kb"] is not None else "n/a"
        m.append(f"| {r['label']} | {r['n']} | {r['rss_kb'] / 1024:.1f} MB | {r['pss_kb'] / 1024:.1f} MB | {cg} "
                 f"| {mfloor[r['key']]} | {frss / 1024:.1f} MB | {fpss / 1024:.1f} MB "
                 f"| {r['rss_kb'] / frss if frss else float('nan'):.1f}x |")
    p = ["| function | runs | PutProvisionedConcurrencyConfig (10) to READY, p50 | max |", "|---|---|---|---|"]
    for r in res["prov"]:
        p.append(f"| {r['label']} | {r['n']} | {fmt_ms(r['p50_ms'])} | {fmt_ms(r['max_ms'])} |")
    return "\n".join(w), "\n".join(c), "\n".join(m), "\n".join(p)


def invoke_notes(args, res):
    warm = {(r["key"], r["conns"]): r for r in res["warm"]}
    cold = {r["key"]: r for r in res["cold"]}

    def verdict(ok):
        return "met" if ok else "NOT met"
    t = []
    c1, p1, c16 = warm[("c", 1)], warm[("py", 1)], warm[("c", 16)]
    best_c = max(warm[("c", 1)]["rps"], c16["rps"])
    t.append(f"warm p50 < 0.3 ms for the C function: {c1['p50_ms']:.3f} ms at 1 client, {verdict(c1['p50_ms'] < 0.3)}")
    t.append(f"warm p50 < 0.5 ms for python: {p1['p50_ms']:.3f} ms at 1 client, {verdict(p1['p50_ms'] < 0.5)}")
    t.append(f"cold start < 5 ms for the C function: p50 {cold['c']['p50_ms']:.2f} ms, {verdict(cold['c']['p50_ms'] < 5)}")
    t.append(f"cold start < 20 ms for python: p50 {cold['py']['p50_ms']:.2f} ms, {verdict(cold['py']['p50_ms'] < 20)}")
    if "pyboto" in cold:
        extra = cold["pyboto"]["p50_ms"] - cold["py"]["p50_ms"]
        t.append(f"importing boto3 adds < 100 ms to a python cold start (half of AWS's ~100-200 ms): "
                 f"{extra:.0f} ms (p50 {cold['pyboto']['p50_ms']:.1f} ms vs {cold['py']['p50_ms']:.1f} ms), "
                 f"{verdict(extra < 100)}")
    t.append(f">= 10,000 warm invokes/s of the C function: {best_c:,.0f}/s at best, {verdict(best_c >= 10000)}")
    prov = {r["key"]: r for r in res.get("prov", [])}
    if "c" in prov:
        p = prov["c"]["p50_ms"]
        t5 = f"provisioned concurrency of 10 READY in < 100 ms for the C function: p50 {p:.1f} ms, {verdict(p < 100)}"
    notes = [
        "Targets (issue 4): " + "; ".join(t) + ".",
    ] + ([f"Target (issue 5): {t5}."] if "c" in prov else []) + [
        f"Warm: bench/postload.c in invoke mode, keep-alive, POST /2015-03-31/functions/NAME/invocations with a "
        f"{len(EVENT)}-byte JSON event that each function returns unchanged (C: bench/bootstrap.c, "
        f"{'static' if BOOTSTRAP_STATIC else 'dynamic'}, plain sockets, one keep-alive connection to the Runtime "
        "API; python: `def handler(event, context): return event`; node: `async (event) => event`). "
        f"{args.invokes} invokes or {args.invoke_limit:g} s per run, after a 1 s warm-up run that lets lambdad "
        "grow its pool of environments; MemorySize 128. Latency from request write to response end. "
        "lambdad CPU/invoke counts lambdad's own process only (its runtimes' CPU is not included).",
        "Loopback floor: bench/echod.c, a one-thread epoll keep-alive server that echoes the body, driven by "
        "the same client with the same request. An invoke is at least two such round trips (client to lambdad, "
        "lambdad to the runtime's pending GET /next and its POST back), so ~2x the floor is the ideal.",
        "The invoke lambdad is a second instance started after moto's runs, not pinned: lambdad, the runtime "
        "processes, the load client and the echo server all share the machine's CPUs (a warm invoke needs "
        "lambdad and a runtime process at once).",
        f"Cold: {args.cold} functions per runtime with the same code (extracted once by the warm function "
        "before), each invoked once over one kept-alive client connection, so every invoke spawns a new "
        "environment; the time is the client's, Invoke request sent to response read. Init Duration is the "
        "REPORT line's, read from LogType Tail (X-Amz-Log-Result). Floor: bench/spawnfloor.c, "
        f"{args.spawns} sequential fork+execv+waitpid of {os.path.relpath(BOOTSTRAP, ROOT)} (exits at once "
        f"without AWS_LAMBDA_RUNTIME_API), {res['interp']['py']} -c pass and {res['interp']['node']} -e 0: "
        "no namespaces, cgroups or Runtime API. `node -e 0` includes node's exit, which is slow "
        "(runtimes/README.md: ~60 ms spawn to exit against ~23 ms spawn to a first connect + GET), so node's "
        "cold start can come out under its floor.",
        "Memory: the cold-start environments, each idle in GET /next after its one invoke; VmRSS and Pss "
        "(/proc/PID/status, smaps_rollup) summed over each environment's process tree (the runtime is pid 1 "
        "of its pid namespace, a child of lambdad), and its memory cgroup's usage (memory.usage_in_bytes, "
        "which also counts page cache charged to it). RSS counts shared library pages in full, PSS splits "
        "them among the processes that map them. Floor: the same interpreter idle with nothing loaded. "
        f"lambdad itself had {res['lambdad_rss_kb'] / 1024:.1f} MB RSS with {res['envs_total']} environments.",
    ]
    for r in res["warm"]:
        if r["errors"]:
            notes.append(f"warm {r['label']} c={r['conns']}: {r['errors']} failed requests "
                         f"(transport {r['errors'] - r['status_errors']}, non-2xx {r['status_errors']}).")
    return notes


# ---------------------------------------------------------------- issue 5: asynchronous invocation

class UdpSink:
    """Counts the datagrams bench/bootstrap.c sends per event (BENCH_UDP_PORT) and keeps the arrival
    time of each record's requestPayload seq, on a thread of its own."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.count, self.first, self.last = 0, None, None
        self.arrived = {}
        self.stop = False
        self.t = threading.Thread(target=self._rx, daemon=True)
        self.t.start()

    def _rx(self):
        import socket
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.perf_counter()
            self.count += 1
            if self.first is None:
                self.first = now
            self.last = now
            seq = self.seq_of(data)
            if seq is not None:
                self.arrived.setdefault(seq, now)

    def seq_of(self, data):
        """The sequence number a datagram carries (a destination record's requestPayload seq), or None."""
        if data.startswith(b'{"version"'):
            try:
                return json.loads(data)["requestPayload"]["seq"]
            except (ValueError, KeyError, TypeError):
                pass
        return None

    def reset(self):
        self.count, self.first, self.last = 0, None, None

    def wait_count(self, n, deadline_s):
        t_end = time.time() + deadline_s
        while self.count < n and time.time() < t_end:
            time.sleep(0.01)
        return self.count >= n

    def close(self):
        self.stop = True
        self.t.join(timeout=2)
        self.sock.close()


def async_phase(args, tmp):
    """Durable async accepts while a C function processes every event, and end-to-end latency from the
    202 to a Lambda OnSuccess destination having run. A lambdad of its own on a fresh data directory,
    not pinned (the function's environments need the other CPU)."""
    import http.client
    res = {"accept": [], "latency": [], "floors": {}, "load": os.getloadavg()[0]}
    port = free_port()
    datadir = os.path.join(tmp, "data-async")
    os.makedirs(datadir)
    lam = start_server("lambdad-async", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--data-dir", datadir],
                       os.path.join(tmp, "lambdad-async.log"), None)
    wait_ready("lambdad-async", lam, port, "/2016-08-19/account-settings")
    sink = UdpSink()
    zipb64 = base64.b64encode(code_zip("c")).decode()
    evpath = os.path.join(tmp, "async-event.json")
    with open(evpath, "wb") as f:
        f.write(EVENT)

    def create(name, udp, reserved=None, port=port):
        body = {"FunctionName": name, "Runtime": "provided.al2023", "Role": ROLE, "Handler": "bootstrap",
                "Code": {"ZipFile": zipb64}, "MemorySize": 128, "Timeout": 10}
        if udp:
            body["Environment"] = {"Variables": {"BENCH_UDP_PORT": str(sink.port)}}
        st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
        if st != 201:
            raise RuntimeError(f"CreateFunction {name} answered {st}: {b[:300]!r}")
        wait_active(port, name)
        if reserved is not None:
            st, _, b = http_req(port, "PUT", f"/2017-10-31/functions/{name}/concurrency",
                                {"ReservedConcurrentExecutions": reserved})
            if st != 200:
                raise RuntimeError(f"PutFunctionConcurrency {name} answered {st}: {b[:300]!r}")
        return json.loads(b)

    try:
        # ---- accepts per second while the function processes the events (every event runs once)
        create("async-c", True)
        runs = [("Invoke (Event)", "event", 1), ("Invoke (Event)", "event", 50), ("InvokeAsync", "invokeasync", 50)]
        w = postload_run(port, 50, 2000, 1.0, "async-c", evpath, None, "event")  # warm-up: grows the pool
        if not sink.wait_count(w["ok"], 120):  # a loaded machine starts 50 environments slowly
            raise RuntimeError(f"warm-up: {sink.count} of {w['ok']} accepted events ran")
        for label, mode, conns in runs:
            sink.reset()
            c0 = proc_cpu(lam.pid)[0]
            r = measured(lam.pid, lambda: postload_run(port, conns, args.async_events, args.async_limit, "async-c",
                                                       evpath, None, mode))
            t_end = time.perf_counter()
            during = sink.count
            drained = sink.wait_count(r["ok"], 60)
            r["cpu_all_us"] = (proc_cpu(lam.pid)[0] - c0) / max(1, r["ok"]) * 1e6  # accepted and run
            if lam.poll() is not None:
                raise RuntimeError("lambdad died during async accepts")
            r.update(label=label, conns=conns, processed=sink.count, during=during,
                     drain_s=max(0.0, (sink.last or t_end) - t_end) if drained else None,
                     proc_rps=(sink.count - 1) / (sink.last - sink.first) if sink.count > 1 else 0.0)
            res["accept"].append(r)
            log(f"async {label:15s} c={conns:<3d} {r['rps']:9.1f} accepts/s  p50 {r['p50_ms']:.3f} ms  "
                f"p99 {r['p99_ms']:.3f} ms  ok {r['ok']}/{r['issued']}  errors {r['errors']}  "
                f"processed {during} during, {sink.count} in all ({r['proc_rps']:.0f}/s)  "
                f"lambdad cpu/event {r['cpu_us_per_req']:.0f} us during the load, {r['cpu_all_us']:.0f} us "
                f"until every event ran")
            if not drained:
                raise RuntimeError(f"async {label} c={conns}: only {sink.count} of {r['ok']} events ran in 60 s")
        # ---- floor: the same client, the same Event requests, to a bare loopback echo server (issue 20:
        # accepts/s >= 0.5x this, with group commit)
        ep = subprocess.Popen([ECHOD, str(2 * (args.async_limit + 2) + 10)], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
        children.append(ep)
        ep.bench_name, ep.bench_log = "echod", os.devnull
        eport = int(ep.stdout.readline())
        for conns in sorted({c for _, _, c in runs}):
            postload_run(eport, conns, 10 ** 6, 0.5, "echo", evpath, None, "event")
            r = postload_run(eport, conns, args.async_events, args.async_limit, "echo", evpath, None, "event")
            res["floors"][conns] = r
            log(f"async floor echod     c={conns:<3d} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:.3f} ms  "
                f"p99 {r['p99_ms']:.3f} ms")
        stop_server(ep, sig=signal.SIGKILL)
        # reference: events that leave the queue at once (reserved concurrency 0, no destination)
        create("async-zero", False, reserved=0)
        r = measured(lam.pid, lambda: postload_run(port, 50, args.async_events, args.async_limit, "async-zero",
                                                   evpath, None, "event"))
        r.update(label="Invoke (Event), reserved concurrency 0", conns=50, processed=None, during=None,
                 drain_s=None, proc_rps=None, cpu_all_us=None)
        res["accept"].append(r)
        log(f"async reserved 0     c=50  {r['rps']:9.1f} accepts/s  p50 {r['p50_ms']:.3f} ms  "
            f"p99 {r['p99_ms']:.3f} ms  lambdad cpu/event {r['cpu_us_per_req']:.0f} us")
        # the same where every commit is an fsync (LAMBDAD_SYNC_FULL=1, power-loss durability): what the
        # group commit shares among the events that arrive together
        fport = free_port()
        fdir = os.path.join(tmp, "data-async-full")
        os.makedirs(fdir)
        full = start_server("lambdad-async-full", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen",
                                                   f"127.0.0.1:{fport}", "--data-dir", fdir],
                            os.path.join(tmp, "lambdad-async-full.log"), None,
                            env=dict(os.environ, LAMBDAD_SYNC_FULL="1"))
        wait_ready("lambdad-async-full", full, fport, "/2016-08-19/account-settings")
        create("async-zero", False, reserved=0, port=fport)
        for conns in (1, 50):
            r = measured(full.pid, lambda: postload_run(fport, conns, args.async_events, args.async_limit,
                                                        "async-zero", evpath, None, "event"))
            r.update(label="Invoke (Event), reserved concurrency 0, LAMBDAD_SYNC_FULL=1 (an fsync per commit)",
                     conns=conns, processed=None, during=None, drain_s=None, proc_rps=None, cpu_all_us=None)
            res["accept"].append(r)
            log(f"async reserved 0, sync full c={conns:<3d} {r['rps']:9.1f} accepts/s  p50 {r['p50_ms']:.3f} ms  "
                f"p99 {r['p99_ms']:.3f} ms  lambdad cpu/event {r['cpu_us_per_req']:.0f} us")
        stop_server(full)

        # ---- end to end: 202 answered -> the OnSuccess destination function ran (its datagram arrived)
        dst = create("async-dst", True)
        create("async-src", False)
        st, _, b = http_req(port, "PUT", "/2019-09-25/functions/async-src/event-invoke-config",
                            {"DestinationConfig": {"OnSuccess": {"Destination": dst["FunctionArn"]}}})
        if st != 200:
            raise RuntimeError(f"PutFunctionEventInvokeConfig answered {st}: {b[:300]!r}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        hdrs = {"Authorization": AUTH, "X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}
        seq = [0]

        def send():
            seq[0] += 1
            conn.request("POST", "/2015-03-31/functions/async-src/invocations",
                         body=json.dumps({"seq": seq[0]}).encode(), headers=hdrs)
            resp = conn.getresponse()
            resp.read()
            t = time.perf_counter()
            if resp.status != 202:
                raise RuntimeError(f"Event invoke answered {resp.status}")
            return seq[0], t

        def collect(sent, deadline_s):
            t_end = time.time() + deadline_s
            while time.time() < t_end and any(s not in sink.arrived for s in sent):
                time.sleep(0.01)
            lat = [(sink.arrived[s] - t) * 1000 for s, t in sent.items() if s in sink.arrived]
            return lat, len(sent) - len(lat)

        warm = dict(send() for _ in range(20))
        collect(warm, 10)
        # one at a time: each event's record arrives before the next is sent
        sent = {}
        for _ in range(args.async_lone):
            s, t = send()
            sent[s] = t
            t_end = time.time() + 2
            while s not in sink.arrived and time.time() < t_end:
                time.sleep(0.0002)
        lat, lost = collect(sent, 5)
        res["latency"].append({"label": "one at a time", "n": len(sent), "lost": lost, "p50_ms": median(lat),
                               "p99_ms": pctl(lat, 0.99), "max_ms": max(lat)})
        # paced: a steady stream of events at a fixed rate over one connection
        rate = args.async_rate
        sent = {}
        t0 = time.perf_counter()
        for i in range(rate * 2):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            s, t = send()
            sent[s] = t
        lat, lost = collect(sent, 30)
        res["latency"].append({"label": f"{rate:,}/s for 2 s", "n": len(sent), "lost": lost, "p50_ms": median(lat),
                               "p99_ms": pctl(lat, 0.99), "max_ms": max(lat)})
        conn.close()
        for x in res["latency"]:
            log(f"async end to end ({x['label']}): n={x['n']} p50 {x['p50_ms']:.2f} ms  p99 {x['p99_ms']:.2f} ms  "
                f"max {x['max_ms']:.2f} ms  missing {x['lost']}")
            if x["lost"]:
                raise RuntimeError(f"async end to end: {x['lost']} records never arrived")
        if lam.poll() is not None:
            raise RuntimeError("lambdad died during the async phase")
    finally:
        sink.close()
        stop_server(lam)
    return res


def render_async(res):
    floors = res.get("floors", {})
    a = ["| call | conns | events accepted | accepted/s (202s) | echo floor (same client), req/s | accepted/s / floor "
         "| p50 | p99 | lambdad CPU/event during the load "
         "| lambdad CPU/event, accepted and run | ran during the load | ran/s | last ran after the load ended |",
         "|" + "|".join(["---"] * 13) + "|"]
    for r in res["accept"]:
        ran = "n/a (each event leaves the queue at once)" if r["processed"] is None else f"{r['during']:,}"
        prps = "n/a" if r["proc_rps"] is None else fmt_rps(r["proc_rps"])
        dr = "n/a" if r["drain_s"] is None else f"{r['drain_s'] * 1000:.0f} ms"
        f = floors.get(r["conns"])
        fl = "n/a" if not f else fmt_rps(f["rps"])
        ratio = "n/a" if not f or not f["rps"] else f"{r['rps'] / f['rps']:.2f}x"
        a.append(f"| {r['label']} | {r['conns']} | {r['ok']:,} | {fmt_rps(r['rps'])} | {fl} | {ratio} "
                 f"| {r['p50_ms']:.3f} ms "
                 f"| {r['p99_ms']:.3f} ms | {r['cpu_us_per_req']:,.0f} us "
                 f"| {'n/a' if r['cpu_all_us'] is None else format(r['cpu_all_us'], ',.0f') + ' us'} "
                 f"| {ran} | {prps} | {dr} |")
    e = ["| load | events | p50 (202 to the destination function running) | p99 | max |", "|---|---|---|---|---|"]
    for x in res["latency"]:
        e.append(f"| {x['label']} | {x['n']:,} | {fmt_ms(x['p50_ms'])} | {fmt_ms(x['p99_ms'])} | {fmt_ms(x['max_ms'])} |")
    return "\n".join(a), "\n".join(e)


def async_targets(res):
    proc = [r for r in res["accept"] if r["processed"] is not None]
    best = max(proc, key=lambda r: r["rps"])
    ok = best["rps"] >= 5000
    per = ", ".join(f"{r['label']} c={r['conns']}: {r['rps']:,.0f}/s" for r in proc)
    out = [f"Target (issue 5): >= 5,000 durable async accepts/s while the function processes them: "
           f"{best['rps']:,.0f}/s at best ({per}), {'met' if ok else 'NOT met'}."]
    floors = res.get("floors", {})
    alone = next((r for r in res["accept"] if r["label"] == "Invoke (Event), reserved concurrency 0"), None)
    f = floors.get(alone["conns"]) if alone else None
    if f and f["rps"]:
        ratio = alone["rps"] / f["rps"]
        fb = floors.get(best["conns"])
        run = f" ({best['rps'] / fb['rps']:.2f}x)" if fb and fb["rps"] else ""
        out.append(f"Target (issue 20): durable async accepts/s >= 0.5x the echo floor (bench/echod.c, the same "
                   f"client and Event requests, c={alone['conns']}, this run: {f['rps']:,.0f} req/s), with group "
                   f"commit: accepting alone (reserved concurrency 0) {alone['rps']:,.0f}/s, {ratio:.2f}x, "
                   f"{'met' if ratio >= 0.5 else 'NOT met'}; while the C function also runs every event on the "
                   f"same 2 CPUs the runs, not the commits, bound the accepts: {best['rps']:,.0f}/s at best{run}.")
    return out


def async_notes(args, res):
    lone = res["latency"][0]
    return async_targets(res) + [
        f"Accepts: bench/postload.c, keep-alive, {args.async_events} events or {args.async_limit:g} s per run, "
        f"the {len(EVENT)}-byte event of the invoke rows, to a C function (bench/bootstrap.c) that sends one "
        "UDP datagram per event it runs (counted by bench.py) and returns the event. Every 202 is sent after "
        "the event's store commit (SQLite WAL, synchronous=NORMAL: survives kill -9, the default; "
        "LAMBDAD_SYNC_FULL=1 for power loss). lambdad's CPU time per event is given during the load and "
        "from the load's start until the last event ran (lambdad's own process; the function's is not "
        "included): the second is the steadier figure on a shared machine. `ran during the load` counts the events the function ran "
        "before the load ended; every run waits until all its events ran before the next starts. "
        "A 2,000-event warm-up lets lambdad grow the pool of environments first.",
        "Reserved concurrency 0 (no destination): every event is accepted, committed and then leaves the "
        "queue without running (AWS sends such events to the failure destination at once): the cost of "
        "accepting alone. The LAMBDAD_SYNC_FULL=1 rows: the same on a second lambdad whose store fsyncs "
        "every commit (power-loss durability): one fsync per group commit, i.e. per batch of events that "
        "reached lambdad in the same loop iteration (docs/async.md, Group commit).",
        f"End to end: a C function whose OnSuccess destination is another C function that sends its "
        "invocation record over UDP; each Event invoke carries a sequence number, and the time runs from "
        "the 202 read by the client to the destination's datagram read by bench.py (so it includes the "
        "source function's run, the record's enqueue and commit and the destination's run). "
        f"One at a time: {lone['n']} events, each after the previous one's record arrived; paced: "
        f"{args.async_rate:,} events/s for 2 s over one connection.",
        f"A lambdad of its own on a fresh data directory, not pinned, started after the invoke rows; load "
        f"average (1 min) {res['load']:.2f} when this phase began, on {os.cpu_count()} CPUs (other work on "
        "the machine lowers accepts/s and inflates p99).",
    ]


def async_section(acc, e2e, notes, measured_line=None):
    """The markdown section of the async phase (the full run's and --only async's)."""
    md = ["## Asynchronous invocation (issue 5)", ""]
    if measured_line:
        md += [measured_line, ""]
    md += ["Durable async accepts (202 after the commit) while a C function runs every event, beside the "
           "echo floor (bench/echod.c) driven by the same client with the same requests in the same run:",
           "", acc, "",
           "End-to-end latency, from the 202 to the OnSuccess destination function running:",
           "", e2e, "", "Notes:", ""] + [f"- {n}" for n in notes] + [""]
    return md


def render_async_only(args, res, measured_line=None):
    acc, e2e = render_async(res)
    return "\n".join(async_section(acc, e2e, async_notes(args, res), measured_line)), acc + "\n\n" + e2e


# ---------------------------------------------------------------- issue 6: function URLs and streaming

STREAM_NODE_SRC = r'''const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.handler = awslambda.streamifyResponse(async (event, stream, context) => {
  stream.write("first;");
  await sleep(200);
  stream.write("second;");
  stream.end();
});
'''
URL_PY_SRC = "def handler(event, context):\n    return {'ok': True}\n"
STREAM_SLEEP_MS = 200


def src_zip(fname, src):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(fname, date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = (0o100644) << 16
        z.writestr(info, src)
    return buf.getvalue()


def eventstream_messages(resp):
    """Yields (perf_counter time, :event-type, payload) per application/vnd.amazon.eventstream message read
    from an http.client response (a raw client: no boto3 work between the bytes and the clock)."""
    import struct
    while True:
        pre = resp.read(12)
        if len(pre) < 12:
            return
        total, hlen = struct.unpack(">II", pre[:8])
        rest = resp.read(total - 12)
        t = time.perf_counter()
        if len(rest) < total - 12:
            raise RuntimeError("event stream cut short")
        hdr, payload = rest[:hlen], rest[hlen:-4]
        headers, i = {}, 0
        while i < len(hdr):
            n = hdr[i]
            name = hdr[i + 1:i + 1 + n].decode()
            i += 1 + n
            typ = hdr[i]
            i += 1
            if typ in (0, 1):
                val = typ == 0
            elif typ in (6, 7):
                ln = struct.unpack(">H", hdr[i:i + 2])[0]
                val = hdr[i + 2:i + 2 + ln]
                val = val.decode() if typ == 7 else val
                i += 2 + ln
            else:
                size = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}[typ]
                val = hdr[i:i + size]
                i += size
            headers[name] = val
        yield t, headers.get(":event-type"), payload


def auth_phase(args, tmp):
    """The cost of signature verification: GetFunction of one function with a real SigV4 signature (one
    signed request replayed by wrk, valid within the 15-minute skew window), on a lambdad with --auth
    enforce (verified: canonical request, HMAC chain, key store lookup) and on one with --auth permissive
    (parsed only), same data directory and key, one at a time, pinned as the control-plane runs.
    Returns the markdown section."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    datadir = os.path.join(tmp, "data-auth")
    os.makedirs(datadir)
    key = json.loads(subprocess.run([LAMBDAD, "keys", "create", "--account-id", ACCOUNT, "--data-dir", datadir],
                                    capture_output=True, check=True, timeout=30).stdout)["AccessKey"]
    creds = botocore.credentials.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    name, rows = "auth-bench", []
    for mode in ("enforce", "permissive"):
        port = free_port()
        proc = start_server(f"lambdad-{mode}", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--data-dir",
                                                datadir, "--auth", mode], os.path.join(tmp, f"lambdad-{mode}.log"),
                            SERVER_CPU or None)
        try:
            t_end = time.time() + 30
            while True:  # ready: any HTTP answer (enforce refuses the unsigned probe with 403)
                try:
                    http_get(port, "/2016-08-19/account-settings", timeout=1)
                    break
                except urllib.error.HTTPError:
                    break
                except Exception:
                    if time.time() > t_end or proc.poll() is not None:
                        raise RuntimeError(f"lambdad --auth {mode} not ready")
                    time.sleep(0.1)

            def signed(method, path, body=b""):
                req = botocore.awsrequest.AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", data=body,
                                                     headers={"Content-Type": "application/json"} if body else {})
                botocore.auth.SigV4Auth(creds, "lambda", REGION).add_auth(req)
                return dict(req.headers.items())
            if mode == "enforce":
                body = json.dumps({"FunctionName": name, "Runtime": "python3.12", "Role": ROLE,
                                   "Handler": "app.handler",
                                   "Code": {"ZipFile": base64.b64encode(make_zip(0)).decode()}}).encode()
                req = urllib.request.Request(f"http://127.0.0.1:{port}/2015-03-31/functions", data=body,
                                             method="POST", headers=signed("POST", "/2015-03-31/functions", body))
                with urllib.request.urlopen(req, timeout=10) as r:
                    if r.status != 201:
                        raise RuntimeError(f"CreateFunction answered {r.status}")
            path = f"/2015-03-31/functions/{name}"
            h = signed("GET", path)
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=h)
            with urllib.request.urlopen(req, timeout=10) as r:
                if r.status != 200:
                    raise RuntimeError(f"signed GetFunction answered {r.status}")
            for conns in (1, 50):
                if args.warmup:
                    wrk_run(port, "path", conns, args.warmup, 1, LOAD_CPU or None, prefix=path,
                            auth=h["Authorization"], amzdate=h["X-Amz-Date"])
                r = measured(proc.pid, lambda: wrk_run(port, "path", conns, args.duration, 1, LOAD_CPU or None,
                                                        prefix=path, auth=h["Authorization"],
                                                        amzdate=h["X-Amz-Date"]))
                if r["err_status"]:
                    raise RuntimeError(f"--auth {mode}: {r['err_status']} non-2xx answers")
                rows.append((mode, conns, r))
        finally:
            kill_servers()
    by = {(m, c): r for m, c, r in rows}
    lines = ["## Signature verification (issue 7)", "",
             "GetFunction of one function, the same SigV4-signed request replayed by wrk "
             f"({args.duration} s per run after a {args.warmup} s warm-up), on lambdad `--auth enforce` "
             "(signature verified) and `--auth permissive` (parsed, not verified), one server at a time.", "",
             "| conns | enforce req/s | permissive req/s | enforce/permissive | p50 enforce / permissive "
             "| p99 enforce / permissive | server CPU per request enforce / permissive |",
             "|---|---|---|---|---|---|---|"]
    for conns in (1, 50):
        e, p = by[("enforce", conns)], by[("permissive", conns)]
        lines.append(f"| {conns} | {e['rps']:,.0f} | {p['rps']:,.0f} | {e['rps'] / max(1, p['rps']):.2f} "
                     f"| {e['p50_ms']:.2f} / {p['p50_ms']:.2f} ms | {e['p99_ms']:.2f} / {p['p99_ms']:.2f} ms "
                     f"| {e['cpu_us_per_req']:.1f} / {p['cpu_us_per_req']:.1f} us |")
        log(f"auth c={conns}: enforce {e['rps']:.0f} req/s ({e['cpu_us_per_req']:.1f} us cpu/req), "
            f"permissive {p['rps']:.0f} req/s ({p['cpu_us_per_req']:.1f} us cpu/req)")
    e, p = by[("enforce", 50)], by[("permissive", 50)]
    lines.append("")
    lines.append(f"Verification costs {e['cpu_us_per_req'] - p['cpu_us_per_req']:.1f} us of server CPU per "
                 "request at 50 connections (the difference of the CPU-per-request columns).")
    return "\n".join(lines) + "\n"


def sandbox_phase(args, tmp):
    """Cold-start Invoke latency by sandbox level (issue 7): a lambdad per level (`--sandbox full`, then
    `--sandbox process`, then full with `--function-network isolated`, issue 19) on a fresh data directory, not pinned; for the C runtime (bench/bootstrap.c) and
    python3.11, args.sandbox_cold fresh functions of the same code (extracted once by an untimed warm-up
    invoke), each invoked once: every invoke spawns an environment. Returns the markdown section."""
    import http.client
    keys = ("c", "py")
    labels = {k: label for k, label, *_ in RUNTIMES}
    zips = {k: code_zip(k) for k in keys}
    rt = {k: r for k, _, r, *_ in RUNTIMES}
    res = {}
    # (row, --sandbox, extra flags): the rows before the isolated one run with the host's network
    rows = [("full", "full", ["--function-network", "host"]), ("process", "process", ["--function-network", "host"]),
            ("full-isolated", "full", ["--function-network", "isolated"])]
    if os.geteuid() != 0:  # network namespaces need root: no isolated row
        rows = rows[:2]
    for row, level, extra in rows:
        port = free_port()
        datadir = os.path.join(tmp, f"data-sandbox-{row}")
        os.makedirs(datadir)
        lam = start_server(f"lambdad-{row}", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--data-dir",
                                              datadir, "--sandbox", level] + extra,
                           os.path.join(tmp, f"lambdad-sandbox-{row}.log"), None)
        try:
            wait_ready(f"lambdad-{row}", lam, port, "/2016-08-19/account-settings")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

            def invoke(fn):
                t0 = time.perf_counter()
                conn.request("POST", f"/2015-03-31/functions/{fn}/invocations", body=EVENT,
                             headers={"Authorization": AUTH, "X-Amz-Log-Type": "Tail",
                                      "Content-Type": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
                dt = (time.perf_counter() - t0) * 1000
                if resp.status != 200 or json.loads(body) != json.loads(EVENT):
                    raise RuntimeError(f"--sandbox {level}: invoke {fn} answered {resp.status}: {body[:300]!r}")
                tail = base64.b64decode(resp.getheader("X-Amz-Log-Result") or "").decode(errors="replace")
                init = [float(p.split(":")[1].split()[0]) for p in tail.split("\t")
                        if p.strip().startswith("Init Duration:")]
                return dt, (init[0] if init else None)

            for key in keys:
                names = [f"sbx-{row}-{key}-{i:02d}" for i in range(args.sandbox_cold + 1)]
                for n in names:
                    body = {"FunctionName": n, "Runtime": rt[key], "Role": ROLE, "Handler": "index.handler",
                            "Code": {"ZipFile": base64.b64encode(zips[key]).decode()}, "MemorySize": 128}
                    st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
                    if st != 201:
                        raise RuntimeError(f"CreateFunction {n} answered {st}: {b[:300]!r}")
                for n in names:
                    wait_active(port, n)
                invoke(names[0])  # extracts the code once: not timed
                times, inits = [], []
                for n in names[1:]:
                    dt, init = invoke(n)
                    times.append(dt)
                    if init is not None:
                        inits.append(init)
                res[(row, key)] = {"n": len(times), "p50": median(times), "p90": pctl(times, 0.90),
                                     "init_p50": median(inits) if inits else None}
                r = res[(row, key)]
                log(f"cold start {row:13s} {key:3s} n={r['n']}  p50 {r['p50']:.2f} ms  "
                    f"p90 {r['p90']:.2f} ms  Init Duration p50 {r['init_p50']} ms")
            conn.close()
            if lam.poll() is not None:
                raise RuntimeError(f"lambdad {row} died")
        finally:
            kill_servers()
    root = os.geteuid() == 0
    lines = ["## Cold start by sandbox level (issue 7)", "",
             f"Invoke latency of a cold start (a fresh function, so a new environment each time; "
             f"{args.sandbox_cold} per runtime and level, one at a time, the code already extracted), "
             "client to answer, and the Init Duration lambdad reports (spawn to the runtime's first "
             "GET /next). One lambdad per level, not pinned. "
             + ("lambdad runs as root, so both levels give each environment a uid of its own with no "
                "capabilities; `process` adds a private mount namespace (own /tmp, data directory covered) "
                "but no pid namespace, cgroups or fresh root." if root else
                "lambdad does not run as root: the `full` row is the best level the host allows."), "",
             "| level | " + " | ".join(f"{labels[k]} p50 / p90" for k in keys) + " | "
             + " | ".join(f"{labels[k]} Init Duration p50" for k in keys) + " |",
             "|---|" + "---|" * (2 * len(keys))]
    for row, level, extra in rows:
        cells = [f"{res[(row, k)]['p50']:.2f} / {res[(row, k)]['p90']:.2f} ms" for k in keys]
        cells += [f"{res[(row, k)]['init_p50']:.2f} ms" if res[(row, k)]["init_p50"] is not None else "-"
                  for k in keys]
        lines.append(f"| `--sandbox {level} {' '.join(extra)}` | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("The difference between the first two rows is the cost of the FULL sandbox on a cold start "
                 "(namespaces, fresh read-only root, cgroups; docs/sandbox.md, Spawn cost); between the first "
                 "and the last, the cost of a network namespace of its own taken from the pool (made ahead, "
                 "with its slirp4netns; docs/sandbox.md, Network).")
    return "\n".join(lines) + "\n"


# ---- container images (issue 15): pull-and-unpack of a ~100 MB image beside fetching its blobs with
# curl and unpacking them with tar, and the cold start of an image function beside fork+exec of its
# bootstrap. The registry is Debian's docker-registry on a free loopback port; the images are written
# here (tar layers of random bytes, which gzip cannot shrink, and the static C bootstrap).
def _push_image(url, repo, layers, config):
    import hashlib
    import urllib.request

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        req = urllib.request.Request(f"{url}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=30) as r:
            loc = r.headers["Location"]
        loc = url + loc if loc.startswith("/") else loc
        req = urllib.request.Request(loc + ("&" if "?" in loc else "?") + "digest=" + digest, method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req, timeout=120).read()
        return digest

    descs = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(l), "size": len(l)}
             for l in layers]
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                      "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg),
                                 "size": len(cfg)}, "layers": descs}).encode()
    req = urllib.request.Request(f"{url}/v2/{repo}/manifests/v1", method="PUT", data=man,
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(req, timeout=30).read()
    return [d["digest"] for d in descs]


def _tar_gz(entries):
    import gzip
    import io
    import tarfile
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=1)


def image_phase(args, tmp):
    if not shutil.which("docker-registry") or os.geteuid() != 0 or _is_dynamic(BOOTSTRAP):
        log("images: skipped (docker-registry missing, not root: images need the full sandbox, or the "
            "bootstrap is not static)")
        return None
    rdir = os.path.join(tmp, "registry")
    os.makedirs(rdir)
    rport = free_port()
    with open(os.path.join(rdir, "config.yml"), "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
                f"    rootdirectory: {rdir}/data\nhttp:\n  addr: 127.0.0.1:{rport}\n")
    reg = start_server("registry", ["docker-registry", "serve", os.path.join(rdir, "config.yml")],
                       os.path.join(tmp, "registry.log"), None)
    wait_ready("registry", reg, rport, "/v2/")
    url = f"http://127.0.0.1:{rport}"
    port = free_port()
    datadir = os.path.join(tmp, "data-images")
    os.makedirs(datadir)
    lam = start_server("lambdad-images", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}",
                                          "--data-dir", datadir], os.path.join(tmp, "lambdad-images.log"), None)
    wait_ready("lambdad-images", lam, port, "/2016-08-19/account-settings")
    with open(BOOTSTRAP, "rb") as f:
        boot = f.read()
    config = {"Entrypoint": ["/bootstrap"]}
    small = [_tar_gz([("bootstrap", boot, 0o755)])]
    res = {"pull": [], "curl": [], "cold": []}
    size_mb = args.image_mb

    def create(name, uri):
        body = {"FunctionName": name, "Role": ROLE, "PackageType": "Image", "Code": {"ImageUri": uri},
                "MemorySize": 128, "Timeout": 10}
        t0 = time.perf_counter()
        st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
        if st != 201:
            raise RuntimeError(f"CreateFunction {name} answered {st}: {b[:300]!r}")
        while True:
            st, _, b = http_req(port, "GET", f"/2015-03-31/functions/{name}/configuration")
            state = json.loads(b).get("State")
            if state == "Active":
                return (time.perf_counter() - t0) * 1000
            if state != "Pending" or time.perf_counter() - t0 > 300:
                raise RuntimeError(f"image function {name}: {b[:400]!r}")
            time.sleep(0.005)

    for i in range(args.image_pulls):
        # four layers of random bytes (new ones each run: nothing is in the store yet) and the bootstrap
        per = size_mb * 1024 * 1024 // 4
        layers = [_tar_gz([(f"data/{i}-{k}.bin", os.urandom(per), 0o644)]) for k in range(4)] + small
        repo = f"big{i}"
        digests = _push_image(url, repo, layers, config)
        res["pull"].append(create(f"img-big-{i}", f"127.0.0.1:{rport}/{repo}:v1"))
        # the floor: the same blobs fetched with curl and unpacked with tar (gzip), one after another
        work = os.path.join(tmp, f"floor-{i}")
        os.makedirs(work)
        t0 = time.perf_counter()
        for k, d in enumerate(digests):
            path = os.path.join(work, f"{k}.tgz")
            run_bounded(["curl", "-sf", "-o", path, f"{url}/v2/{repo}/blobs/{d}"], 120, None)
            os.makedirs(os.path.join(work, str(k)))
            run_bounded(["tar", "-xzf", path, "-C", os.path.join(work, str(k))], 120, None)
        res["curl"].append((time.perf_counter() - t0) * 1000)
        shutil.rmtree(work, ignore_errors=True)
        log(f"image pull {size_mb} MB: lambdad {res['pull'][-1]:.0f} ms, curl + tar {res['curl'][-1]:.0f} ms")

    # cold starts: functions on one small image (pulled once), each invoked once
    _push_image(url, "small", small, config)
    names = [f"img-cold-{i:02d}" for i in range(args.cold)]
    for n in names:
        create(n, f"127.0.0.1:{rport}/small:v1")
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for n in names:
        t0 = time.perf_counter()
        conn.request("POST", f"/2015-03-31/functions/{n}/invocations", body=EVENT,
                     headers={"Authorization": AUTH, "Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or json.loads(body) != json.loads(EVENT):
            raise RuntimeError(f"image cold invoke {n} answered {resp.status}: {body[:300]!r}")
        res["cold"].append((time.perf_counter() - t0) * 1000)
    conn.close()
    floor = spawn_floor([BOOTSTRAP], args.spawns)
    log(f"image cold start p50 {median(res['cold']):.2f} ms (floor {floor['p50_ms']:.2f} ms)")
    if lam.poll() is not None:
        raise RuntimeError("lambdad died during the image phase")
    kill_servers()
    pull, curl = median(res["pull"]), median(res["curl"])
    cold = median(res["cold"])
    lines = ["## Container images (issue 15)", "",
             f"Pull and unpack: CreateFunction of an image function sent until GET shows it Active, for a "
             f"{size_mb} MB image (four layers of random bytes, gzip level 1, plus the C bootstrap; nothing in "
             f"the layer store yet), {args.image_pulls} runs. Floor: the same blobs fetched from the same registry "
             "with `curl` and unpacked with `tar -xzf`, one after another. Cold start: a fresh function on a "
             f"small image whose layers are already stored (the static C bootstrap echoing the event), "
             f"{args.cold} invokes, client to answer; floor: fork+exec of that bootstrap. Debian's "
             "docker-registry on the loopback; one lambdad, not pinned.", "",
             "| row | runs | lambdad p50 | max | floor | floor p50 | lambdad / floor |", "|---|---|---|---|---|---|---|",
             f"| pull + unpack {size_mb} MB | {len(res['pull'])} | {fmt_ms(pull)} | {fmt_ms(max(res['pull']))} "
             f"| curl + tar -xzf | {fmt_ms(curl)} | {pull / curl:.2f}x |",
             f"| cold start, image function | {len(res['cold'])} | {fmt_ms(cold)} | {fmt_ms(max(res['cold']))} "
             f"| fork+exec bootstrap | {fmt_ms(floor['p50_ms'])} | {cold / floor['p50_ms']:.1f}x |", ""]
    return "\n".join(lines) + "\n"


def url_phase(args, tmp):
    """Function URL requests per second (wrk, path form) beside the bare loopback floor and a warm Invoke of
    the same function, and time to first byte of a streamed response through a RESPONSE_STREAM URL and
    through InvokeWithResponseStream. A lambdad of its own on a fresh data directory, not pinned."""
    import http.client
    res = {"url": [], "invoke": [], "floor_wrk": {}, "floor_post": {}, "stream": [], "load": os.getloadavg()[0]}
    port = free_port()
    datadir = os.path.join(tmp, "data-url")
    os.makedirs(datadir)
    lam = start_server("lambdad-url", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--data-dir", datadir],
                       os.path.join(tmp, "lambdad-url.log"), None)
    evpath = os.path.join(tmp, "url-event.json")
    with open(evpath, "wb") as f:
        f.write(EVENT)
    ep = None
    try:
        wait_ready("lambdad-url", lam, port, "/2016-08-19/account-settings")

        def create(name, rt, handler, zipdata, mode=None):
            body = {"FunctionName": name, "Runtime": rt, "Role": ROLE, "Handler": handler,
                    "Code": {"ZipFile": base64.b64encode(zipdata).decode()}, "MemorySize": 128, "Timeout": 10}
            st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
            if st != 201:
                raise RuntimeError(f"CreateFunction {name} answered {st}: {b[:300]!r}")
            wait_active(port, name)
            cfg = {"AuthType": "NONE"}
            if mode:
                cfg["InvokeMode"] = mode
            st, _, b = http_req(port, "POST", f"/2021-10-31/functions/{name}/url", cfg)
            if st != 201:
                raise RuntimeError(f"CreateFunctionUrlConfig {name} answered {st}: {b[:300]!r}")
            url_id = json.loads(b)["FunctionUrl"].split("//")[1].split(".")[0]
            st, _, b = http_req(port, "POST", f"/2015-03-31/functions/{name}/policy",
                                {"StatementId": "public-url", "Action": "lambda:InvokeFunctionUrl",
                                 "Principal": "*", "FunctionUrlAuthType": "NONE"})
            if st != 201:
                raise RuntimeError(f"AddPermission {name} answered {st}: {b[:300]!r}")
            return f"/_lambdad/url/{url_id}/"

        def url_get(path):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                c.request("GET", path)
                r = c.getresponse()
                return r.status, (r.getheader("Content-Type") or ""), r.read()
            finally:
                c.close()

        # ---- the function: the C echo function if its answer maps to a plain 200 JSON response
        path = create("url-c", "provided.al2023", "bootstrap", code_zip("c"))
        st, ctype, body = url_get(path)
        fn, label = "url-c", "C (provided.al2023, bench/bootstrap.c)"
        try:
            ok = st == 200 and ctype.startswith("application/json") and json.loads(body).get("rawPath") == "/"
        except ValueError:
            ok = False
        if not ok:
            log(f"C function through its URL answered {st} {ctype}: {body[:200]!r}; using python3.11")
            path = create("url-py", "python3.11", "index.handler", src_zip("index.py", URL_PY_SRC))
            st, ctype, body = url_get(path)
            if st != 200 or json.loads(body) != {"ok": True}:
                raise RuntimeError(f"python function through its URL answered {st}: {body[:300]!r}")
            fn, label = "url-py", "python3.11 (returns {'ok': True})"
        res.update(fn=fn, label=label, url_body_bytes=len(body), url_ctype=ctype)
        log(f"function URL {path} -> {fn}: {st} {ctype}, {len(body)}-byte body")

        # ---- URL GETs (wrk), then warm Invokes of the same function (postload)
        for conns in (1, 50):
            if args.warmup:
                wrk_run(port, "path", conns, args.warmup, 1, None, prefix=path, auth="")
            r = measured(lam.pid, lambda: wrk_run(port, "path", conns, args.duration, 1, None, prefix=path, auth=""))
            if lam.poll() is not None:
                raise RuntimeError("lambdad died during function URL requests")
            r["conns"] = conns
            res["url"].append(r)
            log(f"function URL c={conns:<3d} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms"
                f"  errors {r['errors']}  lambdad cpu/req {r['cpu_us_per_req']:.0f} us")
        for conns in (1, 50):
            postload_run(port, conns, 10 ** 6, 1.0, fn, evpath, None, "invoke")
            r = measured(lam.pid, lambda: postload_run(port, conns, args.invokes, args.invoke_limit, fn, evpath,
                                                       None, "invoke"))
            if lam.poll() is not None:
                raise RuntimeError("lambdad died during warm invokes")
            r["conns"] = conns
            res["invoke"].append(r)
            log(f"Invoke       c={conns:<3d} {r['rps']:10.1f} inv/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms"
                f"  errors {r['errors']}  lambdad cpu/invoke {r['cpu_us_per_req']:.0f} us")

        # ---- floor: echod, the same clients and requests (wrk GET, postload POST)
        bound = 4 * (args.duration + args.warmup + args.invoke_limit + 2) + 20
        ep = subprocess.Popen([ECHOD, str(bound)], stdout=subprocess.PIPE, text=True, start_new_session=True)
        children.append(ep)
        ep.bench_name, ep.bench_log = "echod", os.devnull
        eport = int(ep.stdout.readline())
        for conns in (1, 50):
            if args.warmup:
                wrk_run(eport, "path", conns, args.warmup, 1, None, prefix=path, auth="")
            r = wrk_run(eport, "path", conns, args.duration, 1, None, prefix=path, auth="")
            res["floor_wrk"][conns] = r
            log(f"floor wrk GET c={conns:<3d} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms")
            postload_run(eport, conns, 10 ** 6, 0.5, "echo", evpath, None, "invoke")
            r = postload_run(eport, conns, args.invokes, args.invoke_limit, "echo", evpath, None, "invoke")
            res["floor_post"][conns] = r
            log(f"floor POST    c={conns:<3d} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms")
        stop_server(ep, sig=signal.SIGKILL)
        ep = None

        # ---- time to first byte of a streamed response (node, streamifyResponse, 200 ms between chunks)
        spath = create("stream-node", "nodejs20.x", "index.handler", src_zip("index.js", STREAM_NODE_SRC),
                       mode="RESPONSE_STREAM")
        expect = b"first;second;"

        def via_url():
            t0 = time.perf_counter()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                c.request("GET", spath)
                r = c.getresponse()
                first = r.read1(65536)
                t1 = time.perf_counter()
                rest = r.read()
                t2 = time.perf_counter()
            finally:
                c.close()
            if r.status != 200 or r.getheader("Transfer-Encoding") != "chunked" or first + rest != expect:
                raise RuntimeError(f"streamed URL answered {r.status}: {first + rest!r}")
            return t1 - t0, t2 - t0, first == b"first;"

        iwrs_path = "/2021-11-15/functions/stream-node/response-streaming-invocations"

        def via_raw():
            t0 = time.perf_counter()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                c.request("POST", iwrs_path, body=b"{}", headers={"Authorization": AUTH,
                                                                  "Content-Type": "application/json"})
                r = c.getresponse()
                if r.status != 200:
                    raise RuntimeError(f"InvokeWithResponseStream answered {r.status}: {r.read()[:300]!r}")
                t1 = t2 = None
                chunks, complete = [], None
                for t, typ, payload in eventstream_messages(r):
                    if typ == "PayloadChunk":
                        chunks.append(payload)
                        t1 = t1 or t
                    elif typ == "InvokeComplete":
                        complete, t2 = payload, t
            finally:
                c.close()
            if b"".join(chunks) != expect or t1 is None or t2 is None or json.loads(complete or b"null") != {}:
                raise RuntimeError(f"InvokeWithResponseStream gave {chunks!r}, complete {complete!r}")
            return t1 - t0, t2 - t0, chunks[0] == b"first;"

        lamc, _ = boto_clients(port)

        def via_boto3():
            t0 = time.perf_counter()
            resp = lamc.invoke_with_response_stream(FunctionName="stream-node", Payload=b"{}")
            t1 = t2 = None
            chunks, complete = [], None
            for ev in resp["EventStream"]:
                if "PayloadChunk" in ev:
                    chunks.append(ev["PayloadChunk"]["Payload"])
                    t1 = t1 or time.perf_counter()
                elif "InvokeComplete" in ev:
                    complete, t2 = ev["InvokeComplete"], time.perf_counter()
            if b"".join(chunks) != expect or t1 is None or t2 is None or complete.get("ErrorCode"):
                raise RuntimeError(f"boto3 invoke_with_response_stream gave {chunks!r}, complete {complete!r}")
            return t1 - t0, t2 - t0, chunks[0] == b"first;"

        for label_s, how in (("function URL (RESPONSE_STREAM), http.client", via_url),
                             ("InvokeWithResponseStream, raw http.client + event-stream parser", via_raw),
                             ("InvokeWithResponseStream, boto3 invoke_with_response_stream", via_boto3)):
            for _ in range(2):  # warm-up (the first is the cold start)
                how()
            ttfb, tot, sep = [], [], 0
            t_end = time.time() + 30
            for _ in range(args.stream_runs):
                if time.time() > t_end:
                    break
                a, b, s = how()
                ttfb.append(a * 1000)
                tot.append(b * 1000)
                sep += s
            x = {"label": label_s, "n": len(ttfb), "ttfb_p50": median(ttfb), "ttfb_p99": pctl(ttfb, 0.99),
                 "tot_p50": median(tot), "tot_p99": pctl(tot, 0.99), "first_alone": sep}
            res["stream"].append(x)
            log(f"stream {label_s}: n={x['n']} TTFB p50 {x['ttfb_p50']:.2f} ms p99 {x['ttfb_p99']:.2f} ms  "
                f"total p50 {x['tot_p50']:.1f} ms p99 {x['tot_p99']:.1f} ms  first chunk alone {sep}/{x['n']}")
        if lam.poll() is not None:
            raise RuntimeError("lambdad died during the URL phase")
    finally:
        if ep is not None:
            stop_server(ep, sig=signal.SIGKILL)
        stop_server(lam)
    return res


def render_urls(res):
    u = ["| request | conns | req/s | p50 | p99 | lambdad CPU/req | floor: loopback HTTP req/s | floor p50 | floor p99 "
         "| p50 / floor | floor req/s / req/s |", "|" + "|".join(["---"] * 11) + "|"]
    for kind, rows, floors in (("function URL GET (path form), wrk", res["url"], res["floor_wrk"]),
                               ("Invoke (RequestResponse), postload", res["invoke"], res["floor_post"])):
        for r in rows:
            f = floors[r["conns"]]
            u.append(f"| {kind} | {r['conns']} | {fmt_rps(r['rps'])} | {r['p50_ms']:.3f} ms | {r['p99_ms']:.3f} ms "
                     f"| {r['cpu_us_per_req']:,.0f} us | {fmt_rps(f['rps'])} | {f['p50_ms']:.3f} ms "
                     f"| {f['p99_ms']:.3f} ms | {r['p50_ms'] / f['p50_ms']:.1f}x | {f['rps'] / r['rps']:.1f}x |")
    s = ["| path | runs | time to first byte p50 | p99 | total p50 | p99 | TTFB p50 / total p50 "
         "| first chunk read alone |", "|---|---|---|---|---|---|---|---|"]
    for x in res["stream"]:
        s.append(f"| {x['label']} | {x['n']} | {fmt_ms(x['ttfb_p50'])} | {fmt_ms(x['ttfb_p99'])} "
                 f"| {fmt_ms(x['tot_p50'])} | {fmt_ms(x['tot_p99'])} | {x['ttfb_p50'] / x['tot_p50'] * 100:.1f}% "
                 f"| {x['first_alone']}/{x['n']} |")
    return "\n".join(u), "\n".join(s)


def url_notes(args, res):
    errs = []
    for kind, rows in (("function URL", res["url"]), ("Invoke", res["invoke"])):
        for r in rows:
            if r["errors"]:
                errs.append(f"{kind} c={r['conns']}: {r['errors']} failed requests.")
    far = all(x["ttfb_p99"] < x["tot_p50"] / 2 for x in res["stream"])
    return [
        f"Function: {res['label']}, MemorySize 128, a function URL with AuthType NONE and the public "
        "lambda:InvokeFunctionUrl statement (AddPermission with FunctionUrlAuthType NONE). "
        + ("The C function returns its event unchanged, a JSON object without statusCode, so the URL answers "
           f"200 {res['url_ctype']} with the payload 2.0 event as the body ({res['url_body_bytes']} bytes for "
           "wrk's request)." if res["fn"] == "url-c" else
           f"The URL answers 200 {res['url_ctype']}, {res['url_body_bytes']} bytes."),
        f"Function URL rows: wrk 4.1 GET `http://127.0.0.1:PORT/_lambdad/url/<url-id>/` (the path form), "
        f"keep-alive, {args.duration} s per run after a {args.warmup} s warm-up (which lets lambdad grow the "
        "pool of environments), 1 thread at 1 connection and 2 at 50; latency is wrk's. Every request runs "
        "the function: payload 2.0 event built, the runtime's GET /next answered, its response mapped.",
        f"Invoke rows: the same function, bench/postload.c in invoke mode (POST .../invocations with the "
        f"{len(EVENT)}-byte event of the invoke rows, which the function returns), {args.invokes} invokes or "
        f"{args.invoke_limit:g} s per run after a 1 s warm-up.",
        "Floors: bench/echod.c (a one-thread epoll keep-alive server answering 200 at once) driven by the same "
        "client with the same request: wrk GET for the URL rows (echod answers an empty body), postload POST "
        "for the Invoke rows (echod echoes the event). A URL request or an invoke is at least two such round "
        "trips (client to lambdad, lambdad to the runtime's pending GET /next and its POST back).",
        f"Streaming: a nodejs20.x function, `awslambda.streamifyResponse`, that writes `first;` at once, sleeps "
        f"{STREAM_SLEEP_MS} ms and writes `second;`; {args.stream_runs} warm runs per path after 2 warm-up runs, "
        "each on a new connection (connect included). Time to first byte: the request sent to the first "
        "body chunk read (URL: `read1` of the chunked body; InvokeWithResponseStream: the first PayloadChunk "
        "message parsed); total: to the end of the body (URL) or the InvokeComplete message. "
        "`first chunk read alone` counts the runs whose first read held `first;` only, i.e. the second chunk "
        "had not been sent with it. boto3's row includes its request signing and parsing.",
        f"Time to first byte far below the total (p99 TTFB under half the p50 total on every path): "
        f"{'yes' if far else 'NO'}.",
        f"A lambdad of its own on a fresh data directory, not pinned, started after the async rows; load "
        f"average (1 min) {res['load']:.2f} when this phase began, on {os.cpu_count()} CPUs.",
    ] + errs


# ---------------------------------------------------------------- report

# ---------------------------------------------------------------- issue 16: event source mappings (SQS)

ESM_SEQ = re.compile(rb'"body":"esm-(\d+)"')
SQS_ALL = dict(AttributeNames=["All"], MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
ESM_POLL_S = 0.01  # queue depth polled every 10 ms once the function has run every message


class EsmSink(UdpSink):
    """UdpSink for SQS events: counts the records of "records=N" datagrams (bench/bootstrap.c with
    BENCH_UDP_RECORDS=1), and keeps the arrival of a record whose body is esm-SEQ (a one-record event's
    body is well inside the first 1400 bytes bench/bootstrap.c sends otherwise)."""

    records = 0

    def reset(self):
        super().reset()
        self.records = 0

    def seq_of(self, data):
        if data.startswith(b"records="):
            self.records += int(data[8:])
            return None
        m = ESM_SEQ.search(data)
        return int(m.group(1)) if m else None


def esm_phase(args, tmp):
    """SQS event source mappings: a C function fed by lambdad's poller from moto's SQS, each on a server of
    its own (lambdad given moto as --aws-endpoint-url), neither pinned (moto, lambdad and the function's
    environment share the two CPUs). Throughput: a queue pre-loaded with N messages drained by a mapping
    enabled at t0, beside a plain boto3 receive+delete loop draining the same N from the same moto in the
    same run (the floor: moto alone). Latency: SendMessage to the function running at an idle queue with the
    mapping's long poll waiting, interleaved with SendMessage to a boto3 long-poller's ReceiveMessage
    returning (the floor)."""
    import threading
    import boto3
    from botocore.config import Config
    res = {"runs": [], "lat": [], "load": os.getloadavg()[0], "send_ms": []}
    n = args.esm_messages
    limit = args.esm_limit
    mport = free_port()
    mot = start_server("moto-esm", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(mport)],
                       os.path.join(tmp, "moto-esm.log"), None)
    lam = None
    sink = None
    stop_floor = threading.Event()
    try:
        wait_ready("moto-esm", mot, mport, "/2015-03-31/functions", deadline_s=60)
        port = free_port()
        while port == mport:
            port = free_port()
        datadir = os.path.join(tmp, "data-esm")
        os.makedirs(datadir)
        lam = start_server("lambdad-esm", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}",
                                           "--data-dir", datadir, "--aws-endpoint-url", f"http://127.0.0.1:{mport}"],
                           os.path.join(tmp, "lambdad-esm.log"), None)
        wait_ready("lambdad-esm", lam, port, "/2016-08-19/account-settings")
        cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=16,
                     connect_timeout=5, read_timeout=30)
        kw = dict(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing", config=cfg)
        sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{mport}", **kw)
        lamc = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", **kw)
        sink = EsmSink()

        zipped = code_zip("c")
        for fn, env in (("esm-c", {"BENCH_UDP_RECORDS": "1"}), ("esm-lat", {})):
            lamc.create_function(FunctionName=fn, Runtime="provided.al2023", Role=ROLE, Handler="bootstrap",
                                 Code={"ZipFile": zipped}, MemorySize=128, Timeout=10,
                                 Environment={"Variables": dict(env, BENCH_UDP_PORT=str(sink.port))})
            wait_active(port, fn)
            lamc.invoke(FunctionName=fn, Payload=b"{}")  # an environment is warm before any mapping runs

        def queue(name):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            return url, arn

        def depth(url):
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])

        def preload(url):
            def batch(i):
                r = sqs.send_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(k), "MessageBody": f"tp-{i + k}"} for k in range(min(10, n - i))])
                if r.get("Failed"):
                    raise RuntimeError(f"SendMessageBatch: {r['Failed'][:2]}")
            with ThreadPoolExecutor(4) as ex:
                list(ex.map(batch, range(0, n, 10)))
            d = depth(url)
            if d != n:
                raise RuntimeError(f"pre-load: queue holds {d} of {n} messages")

        def wait_state(uuid, want, deadline_s=10):
            t_end = time.time() + deadline_s
            while time.time() < t_end:
                if lamc.get_event_source_mapping(UUID=uuid)["State"] == want:
                    return
                time.sleep(0.02)
            raise RuntimeError(f"mapping {uuid} not {want} after {deadline_s}s")

        def cpus():
            return proc_cpu(lam.pid)[0], proc_cpu(mot.pid)[0], time.perf_counter()

        def account(label, batch, window, c0, c1, drained, invokes):
            wall = c1[2] - c0[2]
            r = {"label": label, "batch": batch, "window": window, "n": n, "wall_s": wall, "drained": drained,
                 "rate": drained / wall if wall > 0 else 0.0, "invokes": invokes,
                 "lambdad_us": (c1[0] - c0[0]) / drained * 1e6 if lam and c0[0] is not None and drained else None,
                 "moto_us": (c1[1] - c0[1]) / drained * 1e6 if drained else 0.0,
                 "moto_share": (c1[1] - c0[1]) / wall if wall > 0 else 0.0}
            res["runs"].append(r)
            log(f"esm {label:34s} {drained}/{n} msgs in {wall:.2f} s = {r['rate']:7.1f} msg/s  invokes {invokes}  "
                f"lambdad cpu/msg {'n/a' if r['lambdad_us'] is None else format(r['lambdad_us'], '.0f') + ' us'}  "
                f"moto cpu/msg {r['moto_us']:.0f} us  moto busy {r['moto_share'] * 100:.0f}%")
            return r

        # ---- floor: a plain boto3 loop, the poller's own calls (ReceiveMessage of up to 10 with every attribute,
        # DeleteMessageBatch), one batch at a time
        def floor_run(k):
            url, _ = queue(f"esm-floor-{k}")
            preload(url)
            c0 = cpus()
            got = calls = 0
            t_end = time.time() + limit
            recv_ms = []
            while got < n and time.time() < t_end:
                tr = time.perf_counter()
                ms = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         **SQS_ALL).get("Messages", [])
                recv_ms.append((time.perf_counter() - tr) * 1000)
                calls += 1
                if ms:
                    sqs.delete_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ms)])
                    got += len(ms)
            c1 = cpus()
            r = account("boto3 receive+delete loop (floor)", 10, 0, (None, c0[1], c0[2]), c1, got, None)
            r["calls"] = calls
            res["recv_first_ms"], res["recv_last_ms"] = recv_ms[0], recv_ms[-1]
            if got < n:
                raise RuntimeError(f"esm floor: {got} of {n} messages in {limit:g} s")

        def mapping_run(k, batch, window):
            url, arn = queue(f"esm-tp-{k}")
            extra = {"MaximumBatchingWindowInSeconds": window} if window else {}
            uuid = lamc.create_event_source_mapping(FunctionName="esm-c", EventSourceArn=arn, BatchSize=batch,
                                                    Enabled=False, **extra)["UUID"]
            wait_state(uuid, "Disabled")
            preload(url)
            sink.reset()
            c0 = cpus()
            lamc.update_event_source_mapping(UUID=uuid, Enabled=True)
            t_end = time.time() + limit
            # the function's datagrams count the messages it ran (no calls to moto meanwhile) ...
            while sink.records < n and time.time() < t_end:
                if lam.poll() is not None:
                    raise RuntimeError("lambdad died during an SQS drain")
                time.sleep(0.002)
            # ... then the queue's depth, until the last batch is deleted
            d = n
            while time.time() < t_end:
                d = depth(url)
                if d == 0:
                    break
                time.sleep(ESM_POLL_S)
            c1 = cpus()
            label = f"lambdad mapping, BatchSize {batch}" + (f", window {window} s" if window else "")
            r = account(label, batch, window, c0, c1, n - d, sink.count)
            r["ran"] = sink.records
            lamc.delete_event_source_mapping(UUID=uuid)
            if d:
                raise RuntimeError(f"esm {label}: {d} of {n} messages left after {limit:g} s")

        for k in range(args.esm_rounds):  # alternating, so the machine's noise falls on every consumer
            floor_run(k)
            mapping_run(f"{k}-10", 10, 0)
            mapping_run(f"{k}-100", 100, 1)

        # ---- latency: one message at a time into an idle queue, the mapping's long poll waiting; interleaved
        # with the floor, a boto3 long-poller (the poller's ReceiveMessage) on a queue of its own
        url_l, arn_l = queue("esm-lat")
        url_f, _ = queue("esm-lat-floor")
        uuid = lamc.create_event_source_mapping(FunctionName="esm-lat", EventSourceArn=arn_l, BatchSize=10)["UUID"]
        wait_state(uuid, "Enabled")
        floor_arrived = {}
        sqs2 = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{mport}", **kw)

        def long_poller():
            t_end = time.time() + 120
            while not stop_floor.is_set() and time.time() < t_end:
                ms = sqs2.receive_message(QueueUrl=url_f, MaxNumberOfMessages=10, WaitTimeSeconds=20,
                                          **SQS_ALL).get("Messages", [])
                now = time.perf_counter()
                for m in ms:
                    mm = re.fullmatch(r"esm-(\d+)", m["Body"])
                    if mm:
                        floor_arrived.setdefault(int(mm.group(1)), now)
                if ms:
                    sqs2.delete_message_batch(QueueUrl=url_f, Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ms)])
        lp = threading.Thread(target=long_poller, daemon=True)
        lp.start()
        time.sleep(0.5)  # both long polls are waiting in moto

        def one(url, seq, arrived):
            t0 = time.perf_counter()
            sqs.send_message(QueueUrl=url, MessageBody=f"esm-{seq}")
            t1 = time.perf_counter()
            t_end = time.time() + 5
            while seq not in arrived and time.time() < t_end:
                time.sleep(0.0002)
            time.sleep(0.1)  # the consumer deletes and is back in its long poll before the next send
            return ((arrived[seq] - t0) * 1000 if seq in arrived else None), (t1 - t0) * 1000

        for seq in range(3):  # warm-up, not counted
            one(url_l, 1000000 + seq, sink.arrived)
            one(url_f, 1000000 + seq, floor_arrived)
        lat, flo = [], []
        for seq in range(args.esm_sends):
            a, s1 = one(url_l, seq, sink.arrived)
            b, s2 = one(url_f, seq, floor_arrived)
            lat.append(a)
            flo.append(b)
            res["send_ms"] += [s1, s2]
        for label, xs in (("lambdad", lat), ("floor", flo)):
            ok = [x for x in xs if x is not None]
            res["lat"].append({"label": label, "n": len(xs), "lost": len(xs) - len(ok), "p50_ms": median(ok),
                               "p90_ms": pctl(ok, 0.9), "max_ms": max(ok) if ok else 0.0})
            x = res["lat"][-1]
            log(f"esm latency {label:8s} n={x['n']} p50 {x['p50_ms']:.2f} ms  p90 {x['p90_ms']:.2f} ms  "
                f"max {x['max_ms']:.2f} ms  missing {x['lost']}")
            if x["lost"]:
                raise RuntimeError(f"esm latency {label}: {x['lost']} messages never arrived")
        stop_floor.set()
        sqs.send_message(QueueUrl=url_f, MessageBody="stop")  # ends the floor's long poll
        lp.join(timeout=25)
        lamc.delete_event_source_mapping(UUID=uuid)
        if lam.poll() is not None:
            raise RuntimeError("lambdad died during the esm phase")
    finally:
        stop_floor.set()
        if sink:
            sink.close()
        if lam is not None and lam in children:
            stop_server(lam)
        if mot in children:
            stop_server(mot)
    return res


def esm_rows(res):
    """The drains of every round grouped by consumer (in the order first run): median drain time and rate
    (the mean of the middle two for an even count), the range of the rates, and CPU per message over all
    rounds' messages."""
    import statistics
    median = statistics.median
    rows = {}
    for r in res["runs"]:
        rows.setdefault(r["label"], []).append(r)
    out = []
    for label, rs in rows.items():
        msgs = sum(r["drained"] for r in rs)
        out.append({"label": label, "batch": rs[0]["batch"], "window": rs[0]["window"], "rounds": len(rs),
                    "n": rs[0]["n"], "wall_s": median([r["wall_s"] for r in rs]),
                    "rate": median([r["rate"] for r in rs]), "rate_min": min(r["rate"] for r in rs),
                    "rate_max": max(r["rate"] for r in rs),
                    "invokes": None if rs[0]["invokes"] is None else sum(r["invokes"] for r in rs),
                    "msgs": msgs,
                    "lambdad_us": None if rs[0]["lambdad_us"] is None else
                    sum(r["lambdad_us"] * r["drained"] for r in rs) / msgs,
                    "moto_us": sum(r["moto_us"] * r["drained"] for r in rs) / msgs,
                    "moto_share": sum(r["moto_us"] * r["drained"] / 1e6 for r in rs) / sum(r["wall_s"] for r in rs)})
    return out


def render_esm(args, res, measured_line=None):
    rows = esm_rows(res)
    floor = rows[0]
    t = ["| consumer | BatchSize | messages per drain | drains | drained in (median) | messages/s (median) "
         "| range | invokes | messages/invoke | lambdad CPU/message | moto CPU/message "
         "| moto busy (CPU s / wall s) | messages/s / floor |",
         "|" + "|".join(["---"] * 13) + "|"]
    for r in rows:
        inv = "n/a" if r["invokes"] is None else f"{r['invokes']:,}"
        per = "n/a" if not r["invokes"] else f"{r['msgs'] / r['invokes']:.1f}"
        lus = "n/a" if r["lambdad_us"] is None else f"{r['lambdad_us']:,.0f} us"
        bs = f"{r['batch']}" + (f" (window {r['window']} s)" if r["window"] else "")
        ratio = "1 (floor)" if r is floor else f"{r['rate'] / floor['rate']:.2f}x"
        t.append(f"| {r['label']} | {bs} | {r['n']:,} | {r['rounds']} | {r['wall_s']:.2f} s | {fmt_rps(r['rate'])} "
                 f"| {fmt_rps(r['rate_min'])}-{fmt_rps(r['rate_max'])} | {inv} | {per} | {lus} "
                 f"| {r['moto_us']:,.0f} us | {r['moto_share'] * 100:.0f}% | {ratio} |")
    L = next(x for x in res["lat"] if x["label"] == "lambdad")
    F = next(x for x in res["lat"] if x["label"] == "floor")
    e = ["| path | sends | p50 | p90 | max | floor | floor p50 | floor p90 | p50 / floor |",
         "|---|---|---|---|---|---|---|---|---|",
         f"| SendMessage to the C function running (mapping, BatchSize 10) | {L['n']} | {fmt_ms(L['p50_ms'])} "
         f"| {fmt_ms(L['p90_ms'])} | {fmt_ms(L['max_ms'])} | SendMessage to a boto3 long-poller's ReceiveMessage "
         f"returning | {fmt_ms(F['p50_ms'])} | {fmt_ms(F['p90_ms'])} "
         f"| {L['p50_ms'] / F['p50_ms'] if F['p50_ms'] > 0 else float('nan'):.1f}x |"]
    md = ["## Event source mappings (SQS) (issue 16)", ""]
    if measured_line:
        md += [measured_line, ""]
    md += [f"Throughput: a standard queue in moto's SQS pre-loaded with {args.esm_messages:,} messages, drained by "
           "an event source mapping enabled at t0 (a C function, one invoke per batch), beside the floor: a plain "
           f"boto3 loop draining the same number from the same moto in the same run with the poller's own calls; "
           f"{args.esm_rounds} alternating rounds (floor, BatchSize 10, BatchSize 100, floor, ...), a fresh queue "
           "per drain:",
           "", "\n".join(t), "",
           "Latency at an idle queue (the consumer's long poll waiting), one message at a time, the floor interleaved "
           "send by send:", "", "\n".join(e), "", "Notes:", ""]
    md += [f"- {x}" for x in esm_notes(args, res)] + [""]
    return "\n".join(md), "\n".join(t) + "\n\n" + "\n".join(e)


def esm_notes(args, res):
    send = median(res["send_ms"])
    return [
        "lambdad's poller (src/pollers/sqs.c) runs workers per mapping, each with one batch in flight: "
        "ReceiveMessage (long poll, 10 messages, every attribute), again while the batching window lasts and the "
        "batch is short of BatchSize, then one invoke, DeleteMessageBatch, receive again; a worker whose batch "
        "came back full starts another (up to 5 at once, then one a second). The floor makes the same calls "
        "(ReceiveMessage of up to 10 with AttributeNames, MessageSystemAttributeNames and MessageAttributeNames "
        "All, then DeleteMessageBatch), one batch at a time, from one boto3 client, without invoking anything: "
        "what moto alone allows a sequential consumer (moto serves one request at a time, so more workers do "
        "not drain it faster).",
        "BatchSize 100 with MaximumBatchingWindowInSeconds 1: receives are gathered into batches of up to 100 "
        "(messages/invoke shows how many the window let gather in this run), so the function runs ~6x less often "
        "for the same messages.",
        f"Drained in: from UpdateEventSourceMapping Enabled=true sent (the mapping was created Disabled and the "
        f"queue pre-loaded with SendMessageBatch from 4 threads) until the queue is empty: the function "
        f"(bench/bootstrap.c with BENCH_UDP_RECORDS=1) sends one datagram per event with its number of records, "
        f"and once they add up to every message, GetQueueAttributes polled every {ESM_POLL_S * 1000:.0f} ms shows "
        f"ApproximateNumberOfMessages + NotVisible at 0 (the last DeleteMessageBatch done; no depth polling "
        f"loads moto before that). The floor's loop ends when it has deleted them all. Bounded: "
        f"{args.esm_limit:g} s per drain.",
        f"moto's ReceiveMessage scans the whole queue: in the floor's last drain of this run its first ReceiveMessage "
        f"(at {args.esm_messages:,} messages) took {res['recv_first_ms']:.0f} ms and its last "
        f"{res['recv_last_ms']:.0f} ms, so messages/s falls as the pre-load grows; the rows compare consumers at "
        "the same pre-load, and a larger one only lengthens the run.",
        "CPU per message: user + system time from /proc over each drain, summed over the rounds and divided by "
        "the messages drained: lambdad's "
        "own process (the function's environment not included), and moto's server process (all its threads). "
        "moto busy is moto's CPU seconds over the drain's wall seconds: moto's threaded server is bound by the "
        "GIL, so near 100% it is the bottleneck. CPU times come in clock ticks (10 ms), so lambdad's figure is "
        f"within ~{10000 / max(1, args.esm_messages * args.esm_rounds):.0f} us per message. invokes counts the datagrams "
        "bench/bootstrap.c sent (one per event).",
        f"Latency: {args.esm_sends} sends per path after 3 warm-up sends, each waiting for its arrival and then "
        "100 ms so the consumer is back in its long poll; time from the SendMessage call made (boto3, so the "
        f"SendMessage round trip itself, median {send:.2f} ms, is inside both figures) to the function's UDP "
        "datagram read by bench.py (lambdad) or the boto3 long-poller's ReceiveMessage returning in a thread of "
        "bench.py (floor). moto wakes a waiting ReceiveMessage when a message arrives (a condition variable). "
        "The floor includes boto3 parsing the ReceiveMessage answer in Python (with every attribute), which "
        "lambdad does in C before it invokes, so lambdad's path can come out below its floor.",
        f"A moto server and a lambdad of their own (lambdad started with --aws-endpoint-url pointing at moto), "
        f"not pinned: moto, lambdad, the function and bench.py share the {os.cpu_count()} CPUs. Load average "
        f"(1 min) {res['load']:.2f} when this phase began.",
    ]


# ---------------------------------------------------------------- issue 20: CPU per control-plane write

CPW_BASE = "2f78567"  # the commit before issue 20's CreateFunction / ListLayerVersions work


def cpw_phase(args, tmp):
    """lambdad's own CPU per request of CreateFunction (postload, a distinct ~1 KB zip each, unique names),
    PublishLayerVersion, and ListLayerVersions of a 50-version layer (wrk), on this tree's binary and on
    --cpw-rev's, each on a lambdad of its own seeded with --functions functions, pinned like the control
    plane; the binaries take turns in --cpw-rounds rounds and the medians are reported."""
    binaries = [("after", subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                         text=True).stdout.strip(), LAMBDAD)]
    if args.cpw_rev:
        sha, old = build_rev(args.cpw_rev)
        binaries.insert(0, ("before", sha, old))
    b64path = os.path.join(tmp, "cpw-zip.b64")
    with open(b64path, "w") as f:
        f.write(base64.b64encode(make_zip(999999999998)).decode())
    servers = {}
    for label, sha, binary in binaries:
        port = free_port()
        datadir = os.path.join(tmp, "data-cpw-" + label)
        os.makedirs(datadir)
        proc = start_server("lambdad-cpw-" + label, [binary, "serve", "--account-id", ACCOUNT, "--listen",
                                                     f"127.0.0.1:{port}", "--data-dir", datadir],
                            os.path.join(tmp, f"lambdad-cpw-{label}.log"), SERVER_CPU)
        wait_ready("lambdad-cpw-" + label, proc, port, "/2016-08-19/account-settings")
        seed("lambdad-" + label, port, args.functions, False)
        why = probe_more("lambdad-" + label, port, args.functions)
        if why["ListLayerVersions"] is not None:
            raise RuntimeError(why["ListLayerVersions"])
        servers[label] = (proc, port, sha)
    per = {}
    path = f"/2018-10-31/layers/{LAYER}/versions"
    for rnd in range(args.cpw_rounds):
        for label, (proc, port, sha) in servers.items():
            for op, conns, fn in (
                    ("CreateFunction", 1, lambda: postload_run(port, 1, args.posts, args.post_limit,
                                                               f"cpw{rnd}c1", b64path, LOAD_CPU)),
                    ("CreateFunction", 50, lambda: postload_run(port, 50, args.posts, args.post_limit,
                                                                f"cpw{rnd}c50", b64path, LOAD_CPU)),
                    ("PublishLayerVersion", 1, lambda: postload_run(port, 1, args.posts, args.post_limit,
                                                                    f"cpwpub{rnd}", b64path, LOAD_CPU, "layer")),
                    ("ListLayerVersions", 1, lambda: wrk_run(port, "path", 1, args.duration, 1, LOAD_CPU,
                                                             prefix=path)),
                    ("ListLayerVersions", 50, lambda: wrk_run(port, "path", 50, args.duration, 1, LOAD_CPU,
                                                              prefix=path))):
                r = measured(proc.pid, fn)
                if proc.poll() is not None:
                    raise RuntimeError(f"lambdad {label} died during {op}")
                if r["errors"]:
                    raise RuntimeError(f"{op} c={conns} on {label}: {r['errors']} failed requests")
                per.setdefault((op, conns, label), []).append(r["cpu_us_per_req"])
                log(f"cpw round {rnd} {op:19s} c={conns:<2d} {label:6s} {r['rps']:9.1f} req/s  "
                    f"cpu/req {r['cpu_us_per_req']:.0f} us  cpu-wait {r['wait_pct']:.0f}%")
    for proc, _, _ in servers.values():
        stop_server(proc)
    return {"per": per, "labels": [(label, sha) for label, sha, _ in binaries], "load": LOAD_BEFORE[0]}


def render_cpw(args, res, measured_line=None):
    labels = res["labels"]
    hdr = ["operation", "conns"] + [f"{label} ({sha})" for label, sha in labels]
    if len(labels) == 2:
        hdr.append("after / before")
    hdr.append("target")
    t = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * len(hdr)) + "|"]
    for op, conns in (("CreateFunction", 1), ("CreateFunction", 50), ("PublishLayerVersion", 1),
                      ("ListLayerVersions", 1), ("ListLayerVersions", 50)):
        meds = [median(res["per"][(op, conns, label)]) for label, _ in labels]
        row = [op, str(conns)] + [f"{m:,.0f} us" for m in meds]
        if len(meds) == 2:
            row.append(f"{meds[1] / meds[0]:.2f}" if meds[0] else "n/a")
        row.append("<= 150 us" if op != "PublishLayerVersion" else "")
        t.append("| " + " | ".join(row) + " |")
    md = ["## lambdad CPU per control-plane request (issue 20)", ""]
    if measured_line:
        md += [measured_line, ""]
    md += t + ["",
               f"lambdad's own CPU time (user + system, from /proc) per request, median of {args.cpw_rounds} "
               f"alternating rounds per binary, each binary on a lambdad of its own seeded with {args.functions} "
               f"functions and a {LAYER_VERSIONS}-version layer, pinned like the control plane. CreateFunction "
               f"and PublishLayerVersion: postload, {args.posts} POSTs or {args.post_limit:g} s per run, a distinct "
               f"~1 KB zip per request; ListLayerVersions: wrk, {args.duration} s per run, no parameters (the "
               f"whole {LAYER_VERSIONS}-version page). Load average before the phase {res['load']:.2f}."]
    text = "\n".join(md)
    return text + "\n", text


def fmt_rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_ms(x):
    return f"{x:.2f} ms" if x < 100 else f"{x:.0f} ms"


def render(rows, meta, notes, invoke=None, inv_notes=(), asy=None, asy_notes=(), urls=None, url_notes_=()):
    hdr = ["operation", "conns", "lambdad req/s", "p50", "p99", "moto req/s", "p50", "p99", "ratio (lambdad/moto)"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * len(hdr)) + "|"]

    def cells(x):
        return ["n/a"] * 3 if x is None else [fmt_rps(x["rps"]), fmt_ms(x["p50_ms"]), fmt_ms(x["p99_ms"])]
    for r in rows:
        L, M = r["lambdad"], r["moto"]
        if L is None or M is None:
            ratio = "n/a"
        else:
            ratio = f"{L['rps'] / M['rps']:,.1f}x" if M["rps"] > 0 else "inf"
        lines.append("| " + " | ".join([r["op"], str(r["conns"])] + cells(L) + cells(M) + [ratio]) + " |")
    table = "\n".join(lines)
    cpu = ["| operation | conns | lambdad CPU/req | moto CPU/req | CPU ratio (moto/lambdad) "
           "| lambdad waited for a CPU | moto waited for a CPU |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        L, M = r["lambdad"], r["moto"]
        if L is None or M is None:
            def us(x):
                return "n/a" if x is None else f"{x['cpu_us_per_req']:,.0f} us"

            def wp(x):
                return "n/a" if x is None else f"{x['wait_pct']:.0f}%"
            cpu.append(f"| {r['op']} | {r['conns']} | {us(L)} | {us(M)} | n/a | {wp(L)} | {wp(M)} |")
            continue
        ratio = M["cpu_us_per_req"] / L["cpu_us_per_req"] if L["cpu_us_per_req"] > 0 else float("nan")
        cpu.append(f"| {r['op']} | {r['conns']} | {L['cpu_us_per_req']:,.0f} us | {M['cpu_us_per_req']:,.0f} us "
                   f"| {ratio:,.1f}x | {L['wait_pct']:.0f}% | {M['wait_pct']:.0f}% |")
    cpu_table = "\n".join(cpu)
    md = [
        "# lambdad vs moto benchmark",
        "",
        f"Run {meta['date']} with `{meta['command']}` (bench/bench.py).",
        "",
        f"Machine: {meta['cpu']} ({meta['ncpu']} CPUs), {meta['kernel']}; "
        f"lambdad {meta['lambdad_rev']}, moto {meta['moto']}, {meta['wrk']}, Python {meta['python']}.",
        "",
        table,
        "",
        "Server CPU time per request during each run (user + system, from /proc; less sensitive to other "
        "load on the machine than req/s), and the share of the run the server was runnable but waiting "
        "for a CPU (time taken by other processes; for moto summed over its threads, so it can exceed 100% and is approximate):",
        "",
        cpu_table,
        "",
    ]
    md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    text = table + "\n\n" + cpu_table
    if invoke:
        warm, cold, mem, prov = invoke
        md += [
            "## Invoke (issue 4)",
            "",
            "No peer server here (moto needs Docker to run a function), so every figure stands beside its physical "
            "floor, measured in the same run on the same machine, and the ratio to it.",
            "",
            "Warm invokes (an idle environment is waiting in GET /next):",
            "",
            warm,
            "",
            "Cold starts (a new environment for each invoke):",
            "",
            cold,
            "",
            "Memory per idle environment (after one invoke):",
            "",
            mem,
            "",
            "Provisioned concurrency of 10 (issue 5): the time from PutProvisionedConcurrencyConfig sent to "
            "GetProvisionedConcurrencyConfig answering READY (polled every millisecond), ten environments "
            "started and initialised at once; the configuration is deleted between runs:",
            "",
            prov,
            "",
            "Notes:",
            "",
        ] + [f"- {n}" for n in inv_notes] + [""]
        text += "\n\n" + warm + "\n\n" + cold + "\n\n" + mem + "\n\n" + prov
    if asy:
        acc, e2e = asy
        md += async_section(acc, e2e, asy_notes)
        text += "\n\n" + acc + "\n\n" + e2e
    if urls:
        ut, st = urls
        md += [
            "## Function URLs and response streaming (issue 6)",
            "",
            "Function URL requests and warm Invokes of the same function, beside the bare loopback HTTP floor "
            "(bench/echod.c) measured with the same client in the same run:",
            "",
            ut,
            "",
            f"Time to first byte of a streamed response (a function that writes a chunk, sleeps "
            f"{STREAM_SLEEP_MS} ms and writes another), warm:",
            "",
            st,
            "",
            "Notes:",
            "",
        ] + [f"- {n}" for n in url_notes_] + [""]
        text += "\n\n" + ut + "\n\n" + st
    return text, "\n".join(md)


# ---------------------------------------------------------------- main

# ---------------------------------------------------------------- logs and metrics (issue 18)

def obs_phase(args, tmp):
    """The CloudWatch Logs and CloudWatch APIs lambdad serves on its own port, beside moto's
    implementation of the same operations (each server on its own, pinned like the control plane, driven
    by the same boto3 calls one at a time): PutLogEvents, GetLogEvents (the tail), FilterLogEvents with a
    pattern over a whole group (beside grep over the same text: the floor of reading the bytes once),
    GetMetricStatistics; and lambdad's Prometheus scrape beside a trivial GET on the same port."""
    import statistics
    import boto3
    from botocore.config import Config
    res = {"rows": [], "group_mb": 0.0, "load": os.getloadavg()[0]}
    cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=120)
    kw = dict(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing", config=cfg)
    n_events = args.obs_group_events
    line = "2026-12-05T00:00:00Z INFO request handled in 3 ms for user 12345 path /orders/678 status 200 ok"
    # one event in 100 is an ERROR line: FilterLogEvents finds n_events / 100
    events = [(line if i % 100 else line.replace("INFO", "ERROR")) + f" #{i}" for i in range(n_events)]
    text_path = os.path.join(tmp, "obs-group.txt")
    with open(text_path, "w") as f:
        f.write("\n".join(events) + "\n")
    res["group_mb"] = os.path.getsize(text_path) / 1e6
    servers = {}
    try:
        for name in ("lambdad", "moto"):
            port = free_port()
            if name == "lambdad":
                datadir = os.path.join(tmp, "data-obs")
                os.makedirs(datadir)
                proc = start_server("lambdad-obs", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen",
                                                    f"127.0.0.1:{port}", "--data-dir", datadir],
                                    os.path.join(tmp, "lambdad-obs.log"), SERVER_CPU)
                wait_ready("lambdad-obs", proc, port, "/2016-08-19/account-settings")
            else:
                proc = start_server("moto-obs", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                    os.path.join(tmp, "moto-obs.log"), SERVER_CPU)
                wait_ready("moto-obs", proc, port, "/2015-03-31/functions", deadline_s=60)
            servers[name] = (proc, port)

        def timed(proc, fn, n):
            lat = []

            def run():
                for _ in range(n):
                    t0 = time.perf_counter()
                    fn()
                    lat.append((time.perf_counter() - t0) * 1000)
                return {"requests": n}
            r = measured(proc.pid, run)
            return {"p50": statistics.median(lat), "p99": pctl(lat, 99), "cpu_us": r["cpu_us_per_req"], "n": n}

        per = {}
        for name, (proc, port) in servers.items():
            logs = boto3.client("logs", endpoint_url=f"http://127.0.0.1:{port}", **kw)
            cw = boto3.client("cloudwatch", endpoint_url=f"http://127.0.0.1:{port}", **kw)
            logs.create_log_group(logGroupName="/bench/put")
            logs.create_log_stream(logGroupName="/bench/put", logStreamName="s")
            batch = [{"timestamp": 0, "message": line}] * 100

            def put():
                ts = int(time.time() * 1000)
                r = logs.put_log_events(logGroupName="/bench/put", logStreamName="s",
                                        logEvents=[dict(e, timestamp=ts) for e in batch])
                if r.get("rejectedLogEventsInfo"):
                    raise RuntimeError(f"{name} rejected events: {r}")
            put()
            per[(name, "put")] = timed(proc, put, args.obs_calls)
            # the group FilterLogEvents reads: n_events in 10 streams, loaded 1,000 events per call
            logs.create_log_group(logGroupName="/bench/big")
            t_load = time.time()
            for s in range(10):
                logs.create_log_stream(logGroupName="/bench/big", logStreamName=f"s{s}")
            base = int(time.time() * 1000) - 3600 * 1000
            for k in range(0, n_events, 1000):
                chunk = events[k:k + 1000]
                logs.put_log_events(logGroupName="/bench/big", logStreamName=f"s{(k // 1000) % 10}",
                                    logEvents=[{"timestamp": base + k + j, "message": m} for j, m in enumerate(chunk)])
            per[(name, "load_s")] = time.time() - t_load

            def tail():
                r = logs.get_log_events(logGroupName="/bench/big", logStreamName="s0", limit=100, startFromHead=False)
                if len(r["events"]) != 100:
                    raise RuntimeError(f"{name} GetLogEvents gave {len(r['events'])} events")
            tail()
            per[(name, "tail")] = timed(proc, tail, args.obs_calls)

            def filt():
                found, token = 0, None
                for _ in range(10000):
                    a = dict(logGroupName="/bench/big", filterPattern="ERROR")
                    if token:
                        a["nextToken"] = token
                    r = logs.filter_log_events(**a)
                    found += len(r["events"])
                    token = r.get("nextToken")
                    if not token:
                        break
                if found != n_events // 100:
                    raise RuntimeError(f"{name} FilterLogEvents found {found} of {n_events // 100}")
            per[(name, "filter")] = timed(proc, filt, args.obs_filter_runs)
            # metrics: what AWS/Lambda's Invocations would hold, as PutMetricData gives moto the same points
            if name == "moto":
                for k in range(0, 200, 20):
                    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
                        {"MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "obs"}],
                         "Value": 1.0, "Unit": "Count"} for _ in range(20)])
            else:
                lamc = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", **kw)
                lamc.create_function(FunctionName="obs", Runtime="provided.al2023", Role=ROLE, Handler="x",
                                     Code={"ZipFile": code_zip("c")}, MemorySize=128, Timeout=10)
                wait_active(port, "obs")
                for _ in range(200):
                    lamc.invoke(FunctionName="obs", Payload=b"{}")
            end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)

            def stats():
                r = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations",
                                             Dimensions=[{"Name": "FunctionName", "Value": "obs"}],
                                             StartTime=end - datetime.timedelta(hours=1), EndTime=end,
                                             Period=3600, Statistics=["Sum"])
                got = sum(p["Sum"] for p in r["Datapoints"])
                if got != 200:
                    raise RuntimeError(f"{name} GetMetricStatistics Sum {got}, not 200")
            stats()
            per[(name, "stats")] = timed(proc, stats, args.obs_calls)
            if name == "lambdad":
                def scrape():
                    st, _, b = http_req(port, "GET", "/metrics")
                    if st != 200 or b"lambdad" not in b and b"invocations" not in b.lower():
                        raise RuntimeError(f"GET /metrics answered {st}: {b[:200]!r}")

                def trivial():
                    st, _, _ = http_req(port, "GET", "/2016-08-19/account-settings")
                    if st != 200:
                        raise RuntimeError(f"account-settings answered {st}")
                per[(name, "scrape")] = timed(proc, scrape, args.obs_calls)
                per[(name, "trivial")] = timed(proc, trivial, args.obs_calls)
            stop_server(proc)
        # the floor of FilterLogEvents: grep reading the same text once
        g = []
        for _ in range(args.obs_filter_runs):
            t0 = time.perf_counter()
            out = subprocess.run(["grep", "-c", "ERROR", text_path], capture_output=True, text=True, timeout=60)
            g.append((time.perf_counter() - t0) * 1000)
            if int(out.stdout.strip() or 0) != n_events // 100:
                raise RuntimeError(f"grep counted {out.stdout!r}")
        res["grep_ms"] = statistics.median(g)
        res["per"] = per
    finally:
        for proc, _ in servers.values():
            if proc in children:  # not stopped yet (an error on the way)
                stop_server(proc)
    return res


def render_obs(args, res, measured_line=None):
    per = res["per"]
    L = lambda k: per[("lambdad", k)]
    M = lambda k: per[("moto", k)]
    t = ["| operation | lambdad p50 | lambdad p99 | lambdad CPU/call | moto p50 | moto p99 | moto CPU/call "
         "| p50 moto / lambdad |", "|" + "|".join(["---"] * 8) + "|"]
    names = {"put": "PutLogEvents (100 events of ~110 B)", "tail": "GetLogEvents, the last 100 of a stream",
             "filter": f"FilterLogEvents `ERROR` over the whole group ({res['group_mb']:.0f} MB, all pages)",
             "stats": "GetMetricStatistics (Invocations, 1 h)"}
    for k, label in names.items():
        a, b = L(k), M(k)
        t.append(f"| {label} | {a['p50']:.2f} ms | {a['p99']:.2f} ms | {a['cpu_us']:.0f} us | {b['p50']:.2f} ms "
                 f"| {b['p99']:.2f} ms | {b['cpu_us']:.0f} us | {b['p50'] / a['p50']:.1f}x |")
    f = L("filter")
    s, tr = L("scrape"), L("trivial")
    md = ["## Logs and metrics (CloudWatch Logs and CloudWatch APIs, issue 18)", ""]
    if measured_line:
        md += [measured_line, ""]
    md += t + ["",
               "| floor row | lambdad | floor | lambdad / floor |", "|---|---|---|---|",
               f"| FilterLogEvents `ERROR` over {res['group_mb']:.0f} MB (p50) | {f['p50']:.1f} ms | "
               f"{res['grep_ms']:.1f} ms (`grep -c ERROR` over the same text in one file) | "
               f"{f['p50'] / res['grep_ms']:.1f} |",
               f"| GET /metrics, Prometheus text (p50) | {s['p50']:.2f} ms | {tr['p50']:.2f} ms (GetAccountSettings "
               f"on the same port and client) | {s['p50'] / tr['p50']:.1f} |",
               "",
               f"Each server on its own, pinned like the control plane; calls one at a time through boto3 "
               f"({args.obs_calls} per row, {args.obs_filter_runs} FilterLogEvents runs), so p50 includes "
               "boto3's own ~1 ms of signing and parsing on both sides; CPU/call is the server's own (from /proc). "
               f"The group holds {args.obs_group_events:,} events in 10 streams, one in 100 an ERROR line, loaded "
               f"with PutLogEvents of 1,000 events (lambdad {per[('lambdad', 'load_s')]:.1f} s, moto "
               f"{per[('moto', 'load_s')]:.1f} s). moto has no AWS/Lambda metrics of its own: it is given the same "
               "200 Invocations points with PutMetricData, lambdad records them from 200 real invokes of a C "
               f"function. Load average before the phase {res['load']:.2f}."]
    text = "\n".join(md)
    return text + "\n", text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--functions", type=int, default=1000, help="functions seeded per server")
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run")
    ap.add_argument("--posts", type=int, default=2000, help="CreateFunction requests per postload run")
    ap.add_argument("--post-limit", type=float, default=20, help="time limit (s) per postload run")
    ap.add_argument("--invokes", type=int, default=30000, help="invokes per warm run")
    ap.add_argument("--invoke-limit", type=float, default=3, help="time limit (s) per warm invoke run")
    ap.add_argument("--cold", type=int, default=20, help="cold starts per runtime")
    ap.add_argument("--prov-runs", type=int, default=5, help="provisioned concurrency (10) runs per runtime")
    ap.add_argument("--spawns", type=int, default=50, help="fork+exec runs per floor")
    ap.add_argument("--no-invoke", action="store_true", help="skip the invoke benchmark (issue 4)")
    ap.add_argument("--async-events", type=int, default=60000, help="Event invokes per async accept run")
    ap.add_argument("--async-limit", type=float, default=3, help="time limit (s) per async accept run")
    ap.add_argument("--async-lone", type=int, default=200, help="events sent one at a time for the latency row")
    ap.add_argument("--async-rate", type=int, default=1000, help="events/s of the paced latency row (2 s)")
    ap.add_argument("--no-async", action="store_true", help="skip the asynchronous invocation benchmark (issue 5)")
    ap.add_argument("--stream-runs", type=int, default=20, help="warm runs per path of the streaming TTFB rows")
    ap.add_argument("--no-urls", action="store_true", help="skip the function URL and streaming benchmark (issue 6)")
    ap.add_argument("--no-auth", action="store_true", help="skip the signature verification benchmark (issue 7)")
    ap.add_argument("--sandbox-cold", type=int, default=30, help="cold starts per runtime and sandbox level")
    ap.add_argument("--no-images", action="store_true", help="skip the container image rows (issue 15)")
    ap.add_argument("--image-mb", type=int, default=100, help="size of the pulled image (MB)")
    ap.add_argument("--image-pulls", type=int, default=3, help="pulls of a new image of --image-mb")
    ap.add_argument("--no-sandbox-levels", action="store_true",
                    help="skip the cold start by sandbox level benchmark (issue 7)")
    ap.add_argument("--compare-rev", default=REDESIGN_BASE,
                    help="git revision whose lambdad the warm-invoke CPU row is measured against in the same run "
                         "(default: the commit before the one-door redesign); '' skips the row")
    ap.add_argument("--compare-rounds", type=int, default=7, help="alternating rounds per binary of the compare row")
    ap.add_argument("--compare-invokes", type=int, default=10000, help="warm invokes per round of the compare row")
    ap.add_argument("--no-esm", action="store_true", help="skip the SQS event source mapping benchmark (issue 16)")
    ap.add_argument("--esm-messages", type=int, default=500, help="messages per SQS drain (throughput rows)")
    ap.add_argument("--esm-rounds", type=int, default=2, help="alternating rounds of the SQS drains")
    ap.add_argument("--esm-limit", type=float, default=60, help="time limit (s) per SQS drain")
    ap.add_argument("--esm-sends", type=int, default=30, help="messages sent one at a time per latency path")
    ap.add_argument("--no-obs", action="store_true", help="skip the logs and metrics APIs benchmark (issue 18)")
    ap.add_argument("--no-cpw", action="store_true",
                    help="skip lambdad's CPU per control-plane write beside --cpw-rev (issue 20)")
    ap.add_argument("--obs-calls", type=int, default=200, help="calls per logs/metrics row")
    ap.add_argument("--obs-filter-runs", type=int, default=5, help="FilterLogEvents runs over the whole group")
    ap.add_argument("--obs-group-events", type=int, default=200000, help="events in the group FilterLogEvents reads")
    ap.add_argument("--cpw-rev", default=CPW_BASE,
                    help="git revision whose lambdad the --only cpw rows are measured against; '' measures this tree only")
    ap.add_argument("--cpw-rounds", type=int, default=3, help="alternating rounds per binary of --only cpw")
    ap.add_argument("--only", choices=["esm", "obs", "async", "cpw"],
                    help="run only this phase and replace its section of bench/RESULTS.md (the rest stays)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin servers/load generators to CPUs")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (data dir, server logs)")
    args = ap.parse_args()

    global SERVER_CPU, LOAD_CPU
    if args.no_pin or len(os.sched_getaffinity(0)) < 2:
        SERVER_CPU = LOAD_CPU = None
    else:
        cpus = sorted(os.sched_getaffinity(0))
        SERVER_CPU, LOAD_CPU = {cpus[0]}, {cpus[1]}

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    if not os.access(LAMBDAD, os.X_OK):
        sys.exit(f"{LAMBDAD} missing: run `make build/lambdad` (or `make bench`)")
    if args.only in (None, "cpw") and not shutil.which("wrk"):
        sys.exit("wrk not found (Debian package wrk)")
    if args.only in (None, "async", "cpw"):
        build_postload()
    build_bench_bins()

    global LOAD_BEFORE
    LOAD_BEFORE = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="lambdad-bench-")
    t_start = time.time()
    try:
        return run(args, tmp)
    finally:
        kill_servers()
        if args.keep:
            log("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"done in {time.time() - t_start:.0f}s")


def run(args, tmp):
    import moto
    if args.only:
        return run_only(args, tmp, moto.__version__)
    lport, mport = free_port(), free_port()
    while mport == lport:
        mport = free_port()
    datadir = os.path.join(tmp, "data")
    os.makedirs(datadir)
    lam = start_server("lambdad", [LAMBDAD, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{lport}", "--data-dir", datadir],
                       os.path.join(tmp, "lambdad.log"), SERVER_CPU)
    mot = start_server("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(mport)],
                       os.path.join(tmp, "moto.log"), SERVER_CPU)
    servers = {"lambdad": (lam, lport), "moto": (mot, mport)}
    try:
        wait_ready("lambdad", lam, lport, "/2016-08-19/account-settings")
        wait_ready("moto", mot, mport, "/2015-03-31/functions", deadline_s=60)  # moto lacks account-settings
        log(f"lambdad on 127.0.0.1:{lport}, moto on 127.0.0.1:{mport}")

        info = {}
        for name, is_moto in (("lambdad", False), ("moto", True)):
            info[name] = seed(name, servers[name][1], args.functions, is_moto)

        rows = []
        for op, mode in (("GetFunction", "get"), ("ListFunctions", "list")):
            for conns in (1, 50):
                row = {"op": op, "conns": conns}
                for name in ("lambdad", "moto"):
                    proc, port = servers[name]
                    if args.warmup:
                        wrk_run(port, mode, conns, args.warmup, args.functions, LOAD_CPU)
                    r = measured(proc.pid, lambda: wrk_run(port, mode, conns, args.duration,
                                                            args.functions, LOAD_CPU))
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} died during {op}")
                    row[name] = r
                    log(f"{op:14s} c={conns:<3d} {name:8s} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  "
                        f"p99 {r['p99_ms']:.3f} ms  errors {r['errors']}  cpu/req {r['cpu_us_per_req']:.0f} us  "
                        f"cpu-wait {r['wait_pct']:.0f}%")
                rows.append(row)

        b64path = os.path.join(tmp, "zip.b64")
        with open(b64path, "w") as f:
            f.write(base64.b64encode(make_zip(999999999999)).decode())
        for conns in (1, 50):
            row = {"op": "CreateFunction", "conns": conns}
            for name in ("lambdad", "moto"):
                proc, port = servers[name]
                r = measured(proc.pid, lambda: postload_run(port, conns, args.posts, args.post_limit,
                                                            f"post{conns}", b64path, LOAD_CPU))
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} died during CreateFunction")
                row[name] = r
                log(f"CreateFunction c={conns:<3d} {name:8s} {r['rps']:10.1f} req/s  p50 {r['p50_ms']:.3f} ms  "
                    f"p99 {r['p99_ms']:.3f} ms  ok {r['ok']}/{r['issued']} in {r['elapsed_s']:.1f}s  "
                    f"errors {r['errors']}  cpu/req {r['cpu_us_per_req']:.0f} us  cpu-wait {r['wait_pct']:.0f}%")
            rows.append(row)
        more_rows, support = control_plane_more(args, servers, b64path)
        rows += more_rows
    except BaseException:
        log_tails(proc for proc, _ in servers.values())
        raise

    kill_servers()  # the invoke benchmark gets the machine to itself
    invoke = inv_notes = None
    if not args.no_invoke:
        res = with_logs(invoke_phase, args, tmp)
        invoke = render_invoke(res)
        inv_notes = invoke_notes(args, res)
    asy = asy_notes = None
    if not args.no_async:
        ares = with_logs(async_phase, args, tmp)
        asy = render_async(ares)
        asy_notes = async_notes(args, ares)
    urls = url_notes_ = None
    if not args.no_urls:
        ures = with_logs(url_phase, args, tmp)
        urls = render_urls(ures)
        url_notes_ = url_notes(args, ures)
    cmp_md = with_logs(compare_phase, args, tmp) if args.compare_rev else None
    auth_md = None if args.no_auth else with_logs(auth_phase, args, tmp)
    sbx_md = None if args.no_sandbox_levels else with_logs(sandbox_phase, args, tmp)
    img_md = None if args.no_images else with_logs(image_phase, args, tmp)
    esm_md = esm_text = None
    if not args.no_esm:
        esm_md, esm_text = render_esm(args, with_logs(esm_phase, args, tmp))
    obs_md = obs_text = None
    if not args.no_obs:
        obs_md, obs_text = render_obs(args, with_logs(obs_phase, args, tmp))
    cpw_md = cpw_text = None
    if not args.no_cpw:
        cpw_md, cpw_text = render_cpw(args, with_logs(cpw_phase, args, tmp))

    meta = collect_meta(moto.__version__)
    notes = build_notes(args, rows, info, support)
    table, md = render(rows, meta, notes, invoke, inv_notes, asy, asy_notes, urls, url_notes_)
    if cmp_md:
        md += "\n" + cmp_md
    if auth_md:
        md += "\n" + auth_md
    if sbx_md:
        md += "\n" + sbx_md
    if img_md:
        md += "\n" + img_md
    if esm_md:
        md += "\n" + esm_md
    if obs_md:
        md += "\n" + obs_md
    if cpw_md:
        md += "\n" + cpw_md
    print()
    print(table)
    if cmp_md:
        print()
        print(cmp_md)
    if auth_md:
        print()
        print(auth_md)
    if sbx_md:
        print()
        print(sbx_md)
    if img_md:
        print()
        print(img_md)
    if esm_text:
        print()
        print(esm_text)
    if obs_text:
        print()
        print(obs_text)
    if cpw_text:
        print()
        print(cpw_text)
    print()
    for n in notes + (inv_notes or []) + (asy_notes or []) + (url_notes_ or []):
        print("-", n)
    if not args.no_write:
        with open(RESULTS, "w") as f:
            f.write(md)
        log("wrote", os.path.relpath(RESULTS, ROOT))
    return 0


ONLY_SECTIONS = {"esm": ("## Event source mappings (SQS)", esm_phase, render_esm),
                 "obs": ("## Logs and metrics (CloudWatch Logs and CloudWatch APIs, issue 18)", obs_phase, render_obs),
                 "async": ("## Asynchronous invocation (issue 5)", async_phase, render_async_only),
                 "cpw": ("## lambdad CPU per control-plane request (issue 20)", cpw_phase, render_cpw)}


def run_only(args, tmp, moto_version):
    """--only PHASE: that phase alone, its section printed and put in place of its old section of
    bench/RESULTS.md (appended if it has none); the other sections stay those of the last full run."""
    meta = collect_meta(moto_version)
    cmd = "python3 bench/bench.py " + " ".join(sys.argv[1:])
    line = (f"Measured on its own {meta['date']} with `{cmd}`, lambdad {meta['lambdad_rev']}, moto {meta['moto']} "
            f"(the sections above are from the full run named at the top).")
    head, phase, render_phase = ONLY_SECTIONS[args.only]
    md, text = render_phase(args, with_logs(phase, args, tmp), line)
    print()
    print(text)
    if args.no_write:
        return 0
    with open(RESULTS) as f:
        old = f.read()
    i = old.find("\n" + head)
    if i < 0:
        new = old.rstrip("\n") + "\n\n" + md
    else:
        j = old.find("\n## ", i + 1)
        new = old[:i + 1] + md + ("" if j < 0 else "\n" + old[j + 1:])
    with open(RESULTS, "w") as f:
        f.write(new)
    log("wrote", os.path.relpath(RESULTS, ROOT), f"(section {head!r})")
    return 0


def build_rev(rev):
    """lambdad of git revision rev (release build) under build/bench-rev/REV, built once."""
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", rev], capture_output=True, text=True,
                         check=True).stdout.strip()
    out = os.path.join(ROOT, "build", "bench-rev", sha)
    binary = os.path.join(out, "build", "lambdad")
    if os.access(binary, os.X_OK):
        return sha, binary
    os.makedirs(out, exist_ok=True)
    log(f"building lambdad of {sha} into {os.path.relpath(out, ROOT)}")
    archive = subprocess.Popen(["git", "-C", ROOT, "archive", sha], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", out], stdin=archive.stdout, check=True)
    archive.wait()
    subprocess.run(["make", "-s", "-C", out, "-j%d" % (os.cpu_count() or 2), "build/lambdad"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return sha, binary


def compare_phase(args, tmp):
    """lambdad's own CPU per warm invoke of the C function: this tree's binary beside REV's, each on a server
    of its own pinned to the server CPU, measured in alternating rounds (the machine's noise falls on both);
    the medians and their ratio. Returns the markdown section."""
    sha, old = build_rev(args.compare_rev)
    here = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    evpath = os.path.join(tmp, "event-compare.json")
    with open(evpath, "wb") as f:
        f.write(EVENT)
    zipped = code_zip("c")
    servers = {}
    for label, binary in ((sha, old), (here, LAMBDAD)):
        port = free_port()
        datadir = os.path.join(tmp, "data-compare-" + label)
        os.makedirs(datadir)
        proc = start_server("lambdad-" + label, [binary, "serve", "--account-id", ACCOUNT, "--listen", f"127.0.0.1:{port}", "--data-dir",
                                                 datadir], os.path.join(tmp, f"lambdad-compare-{label}.log"),
                            SERVER_CPU)
        wait_ready("lambdad-" + label, proc, port, "/2016-08-19/account-settings")
        body = {"FunctionName": "cmp", "Runtime": "provided.al2023", "Role": ROLE, "Handler": "x",
                "Code": {"ZipFile": base64.b64encode(zipped).decode()}, "MemorySize": 128, "Timeout": 10}
        st, _, b = http_req(port, "POST", "/2015-03-31/functions", body)
        if st != 201:
            raise RuntimeError(f"CreateFunction on {label} answered {st}: {b[:300]!r}")
        wait_active(port, "cmp")
        postload_run(port, 1, 2000, 2.0, "cmp", evpath, LOAD_CPU, "invoke")  # warm
        servers[label] = (proc, port)
    rows = []
    for conns in (1, 16):
        per = {label: [] for label in servers}
        for _ in range(args.compare_rounds):
            for label, (proc, port) in servers.items():
                r = measured(proc.pid, lambda: postload_run(port, conns, args.compare_invokes, 10.0, "cmp", evpath,
                                                            LOAD_CPU, "invoke"))
                if r["ok"] < args.compare_invokes // 2:
                    raise RuntimeError(f"compare row: {label} answered {r['ok']} of {r['issued']} invokes")
                per[label].append(r["cpu_us_per_req"])
        m_old, m_new = median(per[sha]), median(per[here])
        rows.append((conns, m_old, m_new))
        log(f"compare c={conns:<2d} lambdad CPU/invoke: {sha} {m_old:.1f} us, {here} {m_new:.1f} us "
            f"({(1 - m_new / m_old) * 100:.0f}% less)")
    for proc, _ in servers.values():
        stop_server(proc)
    lines = [f"## lambdad's own CPU per warm invoke, before and after the one-door redesign (issue 12)", "",
             f"The C function (provided.al2023, bench/bootstrap.c) on {sha} (before) and {here} (this tree), "
             f"each on a lambdad of its own pinned to the server CPU, in {args.compare_rounds} alternating "
             f"rounds of {args.compare_invokes} invokes per binary; medians of lambdad's CPU time (user + system, "
             "from /proc) per invoke.", "",
             "| clients | before | after | after / before | less CPU |", "|---|---|---|---|---|"]
    for conns, a, b in rows:
        lines.append(f"| {conns} | {a:.1f} us | {b:.1f} us | {b / a:.2f} | {(1 - b / a) * 100:.0f}% |")
    return "\n".join(lines) + "\n"


def build_notes(args, rows, info, support):
    pin = ("servers pinned to CPU 0, wrk/postload to CPU 1 (lambdad is one event-loop thread; "
           "moto's threaded werkzeug server is bound by the GIL)") if SERVER_CPU else "no CPU pinning"
    notes = [
        f"Same settings for both servers. Each server seeded with {args.functions} functions "
        f"(distinct ~1 KB zips). Servers measured one at a time; {pin}.",
        f"GetFunction/ListFunctions: wrk 4.1, {args.duration} s per run after a {args.warmup} s warm-up, "
        "1 thread at 1 connection and 2 threads at 50; GetFunction cycles over all seeded names (Lua script "
        "bench/wrk.lua). Latency is wrk's (request write to response end).",
        f"CreateFunction: bench/postload.c, {args.posts} POSTs per run or {args.post_limit:g} s, whichever "
        "comes first, unique names, a distinct ~1 KB zip per request; req/s counts 2xx answers only; latency "
        "from request write to response end (connect time excluded, as in wrk).",
        "moto answers every request with `Connection: close`, so each of its requests also pays a TCP "
        "connect; lambdad keeps connections alive. That is each server's own behaviour, not a client setting.",
        "Requests carry a static unsigned SigV4-style Authorization header: moto picks the service from its "
        "credential scope (without it the GET lands in moto's S3 backend). Neither server checks it.",
    ]
    la = os.getloadavg()
    notes.append(f"Load average (1 min) {LOAD_BEFORE[0]:.2f} before the run and {la[0]:.2f} after it "
                 f"on {os.cpu_count()} CPUs; anything above ~1 before the run is other work on the machine, "
                 "which lowers req/s and inflates p99 (see the CPU-wait columns).")
    L, M = info["lambdad"], info["moto"]
    notes.append(
        f"ListFunctions is `GET /2015-03-31/functions` with no parameters: lambdad returns the AWS default "
        f"page of {L['list_items']} functions ({L['list_bytes'] // 1024} KB, with NextMarker), while moto "
        f"ignores pagination and returns all {M['list_items']} ({M['list_bytes'] // 1024} KB) in one response, "
        "so per request moto does ~{:.0f}x the serialisation work.".format(M['list_items'] / max(1, L['list_items'])))
    notes.append(
        f"AddPermission: postload, {args.posts} POSTs per run or {args.post_limit:g} s, a unique StatementId per "
        f"request (Principal s3.amazonaws.com with a SourceArn condition), spread round-robin over the "
        f"{args.functions} seeded functions: AWS caps one function's policy at 20 KB (about 90 such statements), "
        "so thousands of statements cannot go to one function. GetPolicy: wrk on one function "
        f"({POLICY_FN}), which by then holds "
        + ", ".join(f"{support[n].get('_policy_statements', '?')} statements on {n}" for n in ("lambdad", "moto"))
        + ".")
    notes.append(
        f"PublishLayerVersion: postload, {args.posts} POSTs per run or {args.post_limit:g} s into one layer per run "
        f"(pub1, pub50), a distinct ~1 KB zip per request. ListLayerVersions: wrk on a layer seeded with "
        f"{LAYER_VERSIONS} versions through boto3 (`GET /2018-10-31/layers/{LAYER}/versions`, no parameters: "
        + ", ".join(f"{n} answers {support[n].get('_list_bytes', 0) // 1024} KB" for n in ("lambdad", "moto"))
        + ").")
    for name in ("lambdad", "moto"):
        for key, op in (("_add_status", "AddPermission"), ("_publish_status", "PublishLayerVersion")):
            if support[name].get(key) not in (201, None) and support[name][op] is None:
                notes.append(f"{op}: {name} answers {support[name][key]} where AWS answers 201 "
                             "(counted as success: postload counts every 2xx).")
    for name in ("lambdad", "moto"):
        for op, why in support[name].items():
            if not op.startswith("_") and why is not None:
                notes.append(f"{op}: n/a for {name}, which does not implement it ({why}).")
    for r in rows:
        for name in ("lambdad", "moto"):
            x = r[name]
            if x is None:
                continue
            if r["op"] in POST_OPS:
                if x.get("timed_out"):
                    notes.append(f"{r['op']} c={r['conns']} {name}: stopped by the {args.post_limit:g} s "
                                 f"limit after {x['ok']} of {args.posts} requests.")
                if x["errors"]:
                    notes.append(f"{r['op']} c={r['conns']} {name}: {x['errors']} failed requests "
                                 f"(transport {x['errors'] - x['status_errors']}, non-2xx {x['status_errors']}).")
            elif x["err_status"] or x["err_timeout"] or x["err_connect"] or x["err_write"]:
                notes.append(f"{r['op']} c={r['conns']} {name}: wrk errors connect {x['err_connect']}, "
                             f"read {x['err_read']}, write {x['err_write']}, non-2xx {x['err_status']}, "
                             f"timeout {x['err_timeout']} (of {x['requests']} requests).")
    return notes


def collect_meta(moto_version):
    def sh(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=10).stdout.strip()
        except Exception:
            return ""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rev = sh(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if sh(["git", "status", "--porcelain", "--untracked-files=no", "src"]):
        rev += " (+ uncommitted src changes)"
    wrk_v = (sh(["sh", "-c", "wrk -v 2>&1 | head -1"]).split(" [")[0] or "wrk")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "make bench",
        "cpu": cpu,
        "ncpu": os.cpu_count(),
        "kernel": f"Linux {platform.release()}",
        "lambdad_rev": rev,
        "moto": moto_version,
        "wrk": wrk_v,
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    sys.exit(main())
