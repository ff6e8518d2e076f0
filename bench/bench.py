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
  5. prints the table and writes it to bench/RESULTS.md.

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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
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

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"
AUTH = (f"AWS4-HMAC-SHA256 Credential=testing/20250101/{REGION}/lambda/aws4_request, "
        "SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000")
SEED_PREFIX = "bench"
ZIP_SIZE = 1023  # ~1 KB; a multiple of 3 so the zip comment maps to whole base64 chars

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


def start_server(name, argv, logpath, cpus):
    logf = open(logpath, "wb")
    p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, preexec_fn=pinned(cpus), cwd=ROOT)
    p.bench_name = name
    p.bench_log = logpath
    children.append(p)
    return p


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


def wrk_run(port, mode, conns, duration, nfuncs, cpus):
    threads = 1 if conns == 1 else min(2, conns)
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "5s", "--latency",
            "-s", WRK_LUA, f"http://127.0.0.1:{port}", "--", mode, SEED_PREFIX, str(nfuncs), AUTH]
    out, _ = run_bounded(argv, duration + 20, cpus)
    r = last_json(out)
    r["errors"] = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_status"] + r["err_timeout"]
    # wrk counts a closed socket after each response (moto's "Connection: close") as a read error
    # on some versions; status errors are the ones that mean a wrong answer
    return r


def postload_run(port, conns, total, limit, prefix, b64path, cpus):
    argv = [POSTLOAD, str(port), str(conns), str(total), str(limit), prefix, b64path, AUTH]
    out, err = run_bounded(argv, limit + 15, cpus)
    r = last_json(out)
    r["errors"] = r["errors"] + r["status_errors"]
    if err.strip():
        log("postload stderr:", err.strip()[:1000])
    return r


# ---------------------------------------------------------------- report

def fmt_rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_ms(x):
    return f"{x:.2f} ms" if x < 100 else f"{x:.0f} ms"


def render(rows, meta, notes):
    hdr = ["operation", "conns", "lambdad req/s", "p50", "p99", "moto req/s", "p50", "p99", "ratio (lambdad/moto)"]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "|".join(["---"] * len(hdr)) + "|"]
    for r in rows:
        L, M = r["lambdad"], r["moto"]
        ratio = L["rps"] / M["rps"] if M["rps"] > 0 else float("inf")
        lines.append("| " + " | ".join([
            r["op"], str(r["conns"]),
            fmt_rps(L["rps"]), fmt_ms(L["p50_ms"]), fmt_ms(L["p99_ms"]),
            fmt_rps(M["rps"]), fmt_ms(M["p50_ms"]), fmt_ms(M["p99_ms"]),
            f"{ratio:,.1f}x"]) + " |")
    table = "\n".join(lines)
    cpu = ["| operation | conns | lambdad CPU/req | moto CPU/req | CPU ratio (moto/lambdad) "
           "| lambdad waited for a CPU | moto waited for a CPU |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        L, M = r["lambdad"], r["moto"]
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
    return table + "\n\n" + cpu_table, "\n".join(md)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--functions", type=int, default=1000, help="functions seeded per server")
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run")
    ap.add_argument("--posts", type=int, default=2000, help="CreateFunction requests per postload run")
    ap.add_argument("--post-limit", type=float, default=20, help="time limit (s) per postload run")
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
    if not shutil.which("wrk"):
        sys.exit("wrk not found (Debian package wrk)")
    build_postload()

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
    lport, mport = free_port(), free_port()
    while mport == lport:
        mport = free_port()
    datadir = os.path.join(tmp, "data")
    os.makedirs(datadir)
    lam = start_server("lambdad", [LAMBDAD, "serve", "--listen", f"127.0.0.1:{lport}", "--data-dir", datadir],
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
    except BaseException:
        for proc, _ in servers.values():
            try:
                with open(proc.bench_log, "rb") as f:
                    tail = f.read()[-1500:].decode(errors="replace")
                log(f"--- tail of {proc.bench_name} log ---\n{tail}")
            except OSError:
                pass
        raise

    meta = collect_meta(moto.__version__)
    notes = build_notes(args, rows, info)
    table, md = render(rows, meta, notes)
    print()
    print(table)
    print()
    for n in notes:
        print("-", n)
    if not args.no_write:
        with open(RESULTS, "w") as f:
            f.write(md)
        log("wrote", os.path.relpath(RESULTS, ROOT))
    return 0


def build_notes(args, rows, info):
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
    for r in rows:
        for name in ("lambdad", "moto"):
            x = r[name]
            if r["op"] == "CreateFunction":
                if x.get("timed_out"):
                    notes.append(f"CreateFunction c={r['conns']} {name}: stopped by the {args.post_limit:g} s "
                                 f"limit after {x['ok']} of {args.posts} requests.")
                if x["errors"]:
                    notes.append(f"CreateFunction c={r['conns']} {name}: {x['errors']} failed requests "
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
