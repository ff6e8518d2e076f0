"""Hostile functions (issue 7, hardened sandboxes): functions that try to read
lambdad's key store, database and blobs, another function's code or /tmp,
signal or ptrace lambdad, escape through symlinks in a zip, a layer or /tmp,
fork without bound, fill the disk, allocate past MemorySize, or make the
system calls a function has no business making (mount, unshare, setns, bpf,
keyctl, kexec, module loading, ...). Each attempt must fail, and after each
one lambdad must still be running and a well-behaved function (whose warm
environment must survive the attack) must still answer correctly.

The server runs at the default level (FULL as root); one class repeats the
main file system, /tmp, signal and capability checks at `--sandbox process`,
where lambdad as root still runs each environment as a uid of its own.
Handlers report what happened as errno names ("ENOENT", "EPERM", ...) or
"ok:..." when an attempt worked. The test of holding another environment's
Runtime API belongs to the Runtime API's own tests (tests/unit/test_rapi.c).
"""
import base64
import io
import json
import os
import stat
import subprocess
import time
import unittest
import uuid
import zipfile

from harness import BIN, ROLE, ROOT, make_zip
from test_invoke import InvokeCase

# prepended to every hostile handler: attempt() turns an outcome into a word
PRELUDE = r'''
import ctypes, errno, json, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
_sc = libc.syscall
_sc.restype = ctypes.c_long

def attempt(fn):
    """"ok:<result>" when fn() worked, else the errno name or exception type."""
    try:
        return "ok:" + repr(fn())[:300]
    except OSError as x:
        return errno.errorcode.get(x.errno, type(x).__name__) if x.errno else type(x).__name__
    except Exception as x:
        return type(x).__name__

def sc(nr, *args):
    """A raw system call: "ok:<rc>" or the errno name."""
    ctypes.set_errno(0)
    rc = _sc(nr, *args)
    return "ok:%d" % rc if rc >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))

def read(p):
    if os.path.isdir(p):
        return os.listdir(p)
    with open(p, "rb") as f:
        return f.read(65536)

DATA = os.environ.get("DATA", "/nonexistent")
LAMBDAD_PID = int(os.environ.get("LAMBDAD_PID", "0"))
'''

# the well-behaved bystander: its environment's identity shows it survived
GOOD = "import uuid\nENV = str(uuid.uuid4())\ndef handler(e, c):\n    return {'env': ENV, 'echo': e}\n"

FAILED = ("ENOENT", "EACCES", "EPERM", "ENOTDIR", "ESRCH", "EROFS", "ENOSYS", "ELOOP", "EXDEV")


def symlink_zip(files, links):
    """A zip with files {name: text} and symlinks {name: target}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return buf.getvalue()


def host_pid_of(function_name):
    """The host pid of a function's runtime (we are root: environ is readable)."""
    want = ("AWS_LAMBDA_FUNCTION_NAME=%s" % function_name).encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if want in f.read().split(b"\0"):
                    return int(d)
        except OSError:
            continue
    return None


class HostileCase(InvokeCase):
    runtime = "python3.12"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.good_name = "good-%d" % os.getpid()
        cls.lam.create_function(FunctionName=cls.good_name, Runtime=cls.runtime, Role=ROLE, Handler="app.handler",
                                Code={"ZipFile": make_zip({"app.py": GOOD})})
        cls.good_env = None

    def setUp(self):
        self.wait_ready(self.good_name)
        if type(self).good_env is None:
            type(self).good_env = self.good()["env"]

    def good(self):
        nonce = str(uuid.uuid4())
        resp, body = self.invoke(self.good_name, {"n": nonce})
        self.assertNotIn("FunctionError", resp, body)
        out = json.loads(body)
        self.assertEqual(out["echo"], {"n": nonce})
        return out

    def assert_serving(self):
        """lambdad runs, answers the control plane, and the bystander's warm
        environment (started before the attack) answers unchanged."""
        self.assertIsNone(self.server.proc.poll(), "lambdad died: " + self.server.log())
        self.lam.get_account_settings()
        self.assertEqual(self.good()["env"], type(self).good_env, "the bystander's environment was lost")

    def hostile(self, body, files=None, env=None, **kw):
        """A python function whose app.py is PRELUDE + body; DATA and
        LAMBDAD_PID are in its environment, as a leak would put them."""
        variables = {"DATA": self.server.data_dir, "LAMBDAD_PID": str(self.server.proc.pid)}
        variables.update(env or {})
        code = dict(files or {})
        code["app.py"] = PRELUDE + body
        kw.setdefault("Timeout", 20)
        return self.function(code, runtime=self.runtime, Environment={"Variables": variables}, **kw)

    def assert_all_failed(self, results, allowed=FAILED):
        for what, outcome in results.items():
            self.assertIn(outcome, allowed, "%s: %s (all: %s)" % (what, outcome, results))


class TestKeyStoreAndData(HostileCase):
    def test_key_store_db_and_blobs_are_unreachable(self):
        data = self.server.data_dir
        p = subprocess.run([BIN, "keys", "create", "--data-dir", data, "--account-id", "111111111111"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        secret = json.loads(p.stdout)["AccessKey"]["SecretAccessKey"]
        keys = os.path.join(data, "auth", "keys.json")
        # the store is there on the host, as the CLI made it
        self.assertEqual(stat.S_IMODE(os.stat(keys).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(keys)).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(data).st_mode), 0o700)
        with open(os.path.join(data, "auth", "master.key"), "rb") as f:
            master = f.read()

        body = r'''
def handler(e, c):
    d = DATA
    paths = [d + "/auth/keys.json", d + "/auth/master.key", d + "/auth", d + "/lambdad.db",
             d + "/lambdad.db-wal", d + "/url.key", d + "/server.log", d + "/blobs", d + "/code", d,
             d + "/" + e["blob"], "/proc/%d/root%s/auth/keys.json" % (LAMBDAD_PID, d),
             "/proc/%d/cwd" % LAMBDAD_PID, "/proc/%d/environ" % LAMBDAD_PID, "/proc/%d/fd" % LAMBDAD_PID,
             "/proc/1/root%s/auth/keys.json" % d, "/proc/self/root%s/lambdad.db" % d,
             "/var/task/../../%s/auth/keys.json" % d, "/dev/disk", "/sys/fs", "/etc/shadow"]
    out = {p: attempt(lambda p=p: read(p)) for p in paths}
    own = attempt(lambda: read("/var/task/app.py")[:6])
    return {"tries": out, "own": own}
'''
        name = self.hostile(body)
        blob = None
        for root, _, names in os.walk(os.path.join(data, "blobs")):
            for n in names:
                blob = os.path.relpath(os.path.join(root, n), data)
        self.assertIsNotNone(blob)
        resp, raw = self.invoke(name, {"blob": blob})
        self.assertNotIn("FunctionError", resp, raw)
        out = json.loads(raw)
        self.assertTrue(out["own"].startswith("ok:"), out)  # the function itself ran fine
        self.assert_all_failed(out["tries"])
        self.assertNotIn(secret, raw.decode())
        self.assertNotIn(base64.b64encode(master).decode(), raw.decode())
        self.assert_serving()


class TestOtherFunctions(HostileCase):
    def test_another_functions_code_and_tmp(self):
        tag = uuid.uuid4().hex
        victim_code = "SECRET = 'code-%s'\ndef handler(e, c):\n" \
                      "    open('/tmp/secret.txt', 'w').write('tmp-%s')\n" \
                      "    os.chmod('/tmp/secret.txt', 0o644)\n    return os.getuid()\nimport os\n" % (tag, tag)
        victim = self.function({"app.py": victim_code})
        victim_uid = self.invoke_json(victim)  # its environment stays warm, /tmp written
        vpid = host_pid_of(victim)
        self.assertIsNotNone(vpid)
        sha = self.lam.get_function(FunctionName=victim)["Configuration"]["CodeSha256"]
        vhex = base64.b64decode(sha).hex()
        self.assertTrue(os.path.isdir(os.path.join(self.server.data_dir, "code", vhex)))

        body = r'''
def handler(e, c):
    v, hexd = e["vpid"], e["hex"]
    paths = [DATA + "/code/" + hexd + "/app.py", DATA + "/code", "/proc/%d/root/tmp/secret.txt" % v,
             "/proc/%d/root/var/task/app.py" % v, "/proc/%d/cwd/app.py" % v, "/proc/%d/environ" % v,
             "/proc/%d/mem" % v, "/tmp/secret.txt", "/var/task/../../tmp/secret.txt"]
    tries = {p: attempt(lambda p=p: read(p)) for p in paths}
    # every process this environment can see, and its root and cwd
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        for sub in ("root/tmp/secret.txt", "cwd/app.py"):
            tries["/proc/%s/%s" % (pid, sub)] = attempt(lambda p="/proc/%s/%s" % (pid, sub): read(p))
    # a bounded walk of everything else, looking for the secrets
    found, seen = [], 0
    for top in ("/tmp", "/var", "/opt", "/dev", "/etc", "/"):
        for root, dirs, names in os.walk(top):
            if root == "/":
                dirs[:] = [d for d in dirs if d not in ("proc", "sys", "usr", "lib", "lib64", "lib32", "bin", "sbin")]
            for n in names:
                seen += 1
                if seen > 3000:
                    break
                try:
                    with open(os.path.join(root, n), "rb") as f:
                        if e["tag"].encode() in f.read(1 << 20):
                            found.append(os.path.join(root, n))
                except OSError:
                    pass
    return {"tries": tries, "found": found, "seen": seen, "uid": os.getuid(), "tmp": os.listdir("/tmp")}
'''
        attacker = self.hostile(body)
        resp, raw = self.invoke(attacker, {"vpid": vpid, "hex": vhex, "tag": tag})
        self.assertNotIn("FunctionError", resp, raw)
        out = json.loads(raw)
        own = {k: v for k, v in out["tries"].items() if k.startswith("/proc/1/")}
        # its own pid 1 may be read (its own files: nothing of the victim's there)
        self.assert_all_failed({k: v for k, v in out["tries"].items() if k not in own})
        self.assertEqual(out["found"], [])
        self.assertGreater(out["seen"], 5)
        self.assertEqual(out["tmp"], [])
        self.assertNotIn(tag, raw.decode())
        self.assertNotEqual(out["uid"], victim_uid, "two functions share a uid")
        # the victim's environment is intact and still its own
        self.assertEqual(host_pid_of(victim), vpid)
        self.assert_serving()

    def test_each_environment_has_its_own_uid(self):
        body = r'''
import pwd, grp
def handler(e, c):
    st = open("/proc/self/status").read()
    caps = {l.split(":")[0]: l.split()[1] for l in st.splitlines() if l.startswith("Cap")}
    return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
            "name": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name,
            "caps": caps, "nnp": "NoNewPrivs:\t1" in st, "seccomp": "Seccomp:\t2" in st}
'''
        a, b = self.hostile(body), self.hostile(body)
        ra, rb = self.invoke_json(a), self.invoke_json(b)
        for r in (ra, rb):
            self.assertGreaterEqual(r["uid"], 200000)
            self.assertEqual(r["gid"], r["uid"])
            self.assertEqual(r["groups"], [])
            self.assertEqual((r["name"], r["group"]), ("sbx_user1051", "sbx_user1051"))
            self.assertEqual(r["caps"], {k: "0000000000000000" for k in ("CapInh", "CapPrm", "CapEff", "CapBnd",
                                                                          "CapAmb")})
            self.assertTrue(r["nnp"] and r["seccomp"], r)
        self.assertNotEqual(ra["uid"], rb["uid"])


class TestSignalsAndPtrace(HostileCase):
    def test_signal_lambdad(self):
        body = r'''
import signal
def handler(e, c):
    r = {"kill_lambdad": attempt(lambda: os.kill(LAMBDAD_PID, signal.SIGKILL)),
         "term_lambdad": attempt(lambda: os.kill(LAMBDAD_PID, signal.SIGTERM)),
         "kill_all": attempt(lambda: os.kill(-1, signal.SIGKILL)),
         "pidfd_lambdad": sc(434, LAMBDAD_PID, 0),
         "kill_pgrp": attempt(lambda: os.killpg(LAMBDAD_PID, signal.SIGKILL))}
    r["hits"] = [n for n in range(2, 5000) if attempt(lambda n=n: os.kill(n, signal.SIGKILL)) != "ESRCH"]
    return r
'''
        name = self.hostile(body)
        out = self.invoke_json(name)
        self.assertEqual(out.pop("hits"), [], "the function could signal pids outside itself")
        self.assert_all_failed(out)
        self.assert_serving()

    def test_ptrace(self):
        body = r'''
def handler(e, c):
    ptrace = libc.ptrace
    ptrace.restype = ctypes.c_long
    def pt(*a):
        ctypes.set_errno(0)
        rc = ptrace(*[ctypes.c_long(x) for x in a])
        return "ok" if rc >= 0 else errno.errorcode[ctypes.get_errno()]
    r = {"attach_lambdad": pt(16, LAMBDAD_PID, 0, 0), "seize_lambdad": pt(0x4206, LAMBDAD_PID, 0, 0),
         "attach_self_pid1": pt(16, 1, 0, 0)}
    rd, wr = os.pipe()
    kid = os.fork()
    if kid == 0:  # PTRACE_TRACEME, then tell the parent
        os.write(wr, pt(0, 0, 0, 0).encode().ljust(8))
        time.sleep(30)
        os._exit(0)
    r["traceme_child"] = os.read(rd, 8).decode().strip()
    r["attach_child"] = pt(16, kid, 0, 0)
    r["peek_child"] = pt(2, kid, 0, 0)
    buf = ctypes.create_string_buffer(8)
    iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
    r["vm_readv_child"] = sc(310, kid, iov, 1, iov, 1, 0)
    r["vm_readv_lambdad"] = sc(310, LAMBDAD_PID, iov, 1, iov, 1, 0)
    os.kill(kid, 9)
    os.waitpid(kid, 0)
    return r
'''
        name = self.hostile(body)
        out = self.invoke_json(name)
        self.assert_all_failed(out, ("EPERM", "ENOSYS"))
        self.assert_serving()


class TestSymlinks(HostileCase):
    def test_symlinks_out_of_a_zip_or_layer_are_refused(self):
        bad = [{"evil": "/etc/shadow"}, {"up": "../../../../../../"}, {"d/x": "../../etc"},
               {"a": "/proc/1/root"}]
        for links in bad:
            z = symlink_zip({"app.py": GOOD}, links)
            with self.assertRaises(self.lam.exceptions.InvalidParameterValueException, msg=str(links)):
                self.lam.create_function(FunctionName=self.name("sym"), Runtime=self.runtime, Role=ROLE,
                                         Handler="app.handler", Code={"ZipFile": z})
            with self.assertRaises(self.lam.exceptions.InvalidParameterValueException, msg=str(links)):
                self.lam.update_function_code(FunctionName=self.good_name, ZipFile=z)
            with self.assertRaises(self.lam.exceptions.InvalidParameterValueException, msg=str(links)):
                self.lam.publish_layer_version(LayerName=self.name("symlayer"),
                                               Content={"ZipFile": symlink_zip({"python/m.py": "x = 1\n"}, links)})
        # a link that stays inside works, in the code and in a layer
        layer = self.lam.publish_layer_version(
            LayerName=self.name("oklayer"),
            Content={"ZipFile": symlink_zip({"python/real.py": "V = 'layer'\n"}, {"python/alias.py": "real.py"})})
        body = "import alias\ndef handler(e, c):\n    return [open('/var/task/link.txt').read(), alias.V]\n"
        name = self.hostile(body, files={"data.txt": "inside"}, Layers=[layer["LayerVersionArn"]])
        self.lam.update_function_code(FunctionName=name, ZipFile=symlink_zip({"app.py": PRELUDE + body,
                                                                             "data.txt": "inside"},
                                                                            {"link.txt": "data.txt"}))
        self.wait_ready(name)
        self.assertEqual(self.invoke_json(name), ["inside", "layer"])
        self.assert_serving()

    def test_symlinks_made_at_run_time_lead_nowhere(self):
        body = r'''
def handler(e, c):
    targets = {"oldroot": "/oldroot", "lambdad_root": "/proc/%d/root" % LAMBDAD_PID,
               "data": DATA, "pid1_root_up": "/proc/1/root/../../../..", "host_tmp": "/proc/1/root/tmp/..",
               "cwd_up": "/proc/self/cwd/../../../.."}
    r = {}
    for k, t in targets.items():
        link = "/tmp/l-" + k
        os.symlink(t, link)
        r[k] = attempt(lambda link=link: read(link + DATA + "/auth/keys.json"))
        r[k + "_data"] = attempt(lambda link=link: read(link + "/auth/keys.json"))
    r["in_task"] = attempt(lambda: os.symlink("/", "/var/task/root"))
    r["hardlink"] = attempt(lambda: os.link("/etc/hosts", "/tmp/h"))  # another file system: EXDEV
    return r
'''
        name = self.hostile(body)
        out = self.invoke_json(name)
        self.assert_all_failed(out)
        self.assert_serving()


class TestResourceLimits(HostileCase):
    def test_fork_bomb_is_bounded(self):
        body = r'''
def handler(e, c):
    kids, err = 0, None
    while kids < 3000:
        try:
            pid = os.fork()
        except OSError as x:
            err = errno.errorcode[x.errno]
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids += 1
    os.kill(-1, 9)  # pid 1: everything else in the environment
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    return [kids, err]
'''
        name = self.hostile(body, MemorySize=1024)
        t0 = time.time()
        kids, err = self.invoke_json(name)
        self.assertEqual(err, "EAGAIN")
        self.assertLess(kids, 1024)  # pids.max and RLIMIT_NPROC of the environment
        self.assertGreater(kids, 100)
        self.assertLess(time.time() - t0, 20)
        self.assert_serving()
        self.assertEqual(self.invoke_json(name)[1], "EAGAIN")  # the environment still works

    def test_fill_the_disk(self):
        body = r'''
def handler(e, c):
    r = {}
    fd = os.open("/tmp/fill", os.O_WRONLY | os.O_CREAT, 0o600)
    chunk, n, err = b"x" * (1 << 20), 0, None
    try:
        while n < 700:
            os.write(fd, chunk)
            n += 1
    except OSError as x:
        err = errno.errorcode[x.errno]
    os.close(fd)
    r["tmp_mb_written"], r["tmp_error"] = n, err
    r["tmp_size"] = os.statvfs("/tmp").f_blocks * os.statvfs("/tmp").f_frsize >> 20
    os.unlink("/tmp/fill")
    fd = os.open("/tmp/sparse", os.O_WRONLY | os.O_CREAT, 0o600)
    r["past_fsize"] = attempt(lambda: os.pwrite(fd, b"x", 600 << 20))  # RLIMIT_FSIZE: EFBIG
    r["fallocate"] = attempt(lambda: os.posix_fallocate(fd, 0, (512 << 20) + (256 << 10)))
    os.close(fd)
    for p in ("/var/task/x", "/x", "/opt/x", "/etc/x", "/var/x", "/var/runtime/x", "/dev/x", "/proc/x"):
        r[p] = attempt(lambda p=p: open(p, "wb").write(b"x"))
    return r
'''
        before = os.statvfs(self.server.data_dir)
        name = self.hostile(body, MemorySize=1024, EphemeralStorage={"Size": 512})
        out = self.invoke_json(name)
        self.assertEqual(out.pop("tmp_size"), 512)
        self.assertEqual(out.pop("tmp_error"), "ENOSPC")
        self.assertTrue(500 <= out.pop("tmp_mb_written") <= 512, out)
        self.assertEqual(out.pop("past_fsize"), "EFBIG")
        self.assertEqual(out.pop("fallocate"), "ENOSPC")
        self.assert_all_failed(out, ("EROFS", "EACCES", "ENOENT"))
        after = os.statvfs(self.server.data_dir)
        # the host's file system did not take the writes (other tests may write a little)
        self.assertLess((before.f_bfree - after.f_bfree) * before.f_frsize, 200 << 20)
        self.assert_serving()

    def test_allocate_past_memory_size(self):
        body = r'''
def handler(e, c):
    if e.get("child"):  # in a child process: the limit covers the whole environment
        kid = os.fork()
        if kid == 0:
            hog = [b"x" * (16 << 20) for _ in range(40)]
            os._exit(0)
        return os.waitpid(kid, 0)[1]
    hog = []
    for _ in range(200):
        hog.append(b"x" * (16 << 20))
    return len(hog)
'''
        name = self.hostile(body, MemorySize=128)
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.OutOfMemory")
        self.assertEqual(doc["errorMessage"], "RequestId: %s Error: Runtime exited with error: signal: killed"
                         % resp["ResponseMetadata"]["RequestId"])
        self.assert_serving()
        # a child that allocates is killed; the runtime itself answers
        status = self.invoke_json(name, {"child": 1})
        self.assertEqual(status, 9, "the child should die of SIGKILL (status %r)" % status)
        self.assert_serving()


class TestPrivilegedCalls(HostileCase):
    def test_system_calls_a_function_has_no_business_making(self):
        body = r'''
import subprocess
def handler(e, c):
    buf = ctypes.create_string_buffer(256)
    mnt = os.open("/proc/self/ns/mnt", os.O_RDONLY)
    r = {"mount": sc(165, b"none", b"/tmp", b"tmpfs", 0, None),
         "umount": sc(166, b"/var/task", 2),
         "pivot_root": sc(155, b"/tmp", b"/tmp"),
         "chroot": sc(161, b"/tmp"),
         "unshare_user": sc(272, 0x10000000),
         "unshare_mnt": sc(272, 0x00020000),
         "unshare_net": sc(272, 0x40000000),
         "clone_newuser": sc(56, 0x10000000 | 17, 0, 0, 0, 0),
         "setns": sc(308, mnt, 0),
         "bpf": sc(321, 0, buf, 72),
         "keyctl": sc(250, 1, None),
         "add_key": sc(248, b"user", b"k", b"v", 1, -3),
         "request_key": sc(249, b"user", b"k", None, -3),
         "kexec_load": sc(246, 0, 0, None, 0),
         "kexec_file_load": sc(320, -1, -1, 0, b"", 0),
         "init_module": sc(175, buf, 16, b""),
         "finit_module": sc(313, mnt, b"", 0),
         "delete_module": sc(176, b"ext4", 0),
         "perf_event_open": sc(298, buf, 0, -1, -1, 0),
         "reboot": sc(169, 0xfee1dead, 672274793, 0, None),
         "swapon": sc(167, b"/tmp/swap", 0),
         "swapoff": sc(168, b"/tmp/swap"),
         "open_by_handle_at": sc(304, -100, buf, 0),
         "userfaultfd": sc(323, 0),
         "io_uring_setup": sc(425, 8, buf),
         "fsopen": sc(430, b"tmpfs", 0),
         "settimeofday": sc(164, buf, None),
         "setuid0": attempt(lambda: os.setuid(0)),
         "setgid0": attempt(lambda: os.setgid(0)),
         "sysrq": attempt(lambda: open("/proc/sysrq-trigger", "w").write("h")),
         "core_pattern": attempt(lambda: open("/proc/sys/kernel/core_pattern", "w").write("|/tmp/x")),
         "kmsg": attempt(lambda: read("/dev/kmsg"))}
    p = subprocess.run(["unshare", "-r", "id"], capture_output=True)
    r["unshare_cmd"] = "ok" if p.returncode == 0 else "EPERM"
    return r
'''
        name = self.hostile(body)
        out = self.invoke_json(name)
        self.assert_all_failed(out)
        for call in ("mount", "unshare_user", "setns", "bpf", "keyctl", "kexec_load", "finit_module",
                     "init_module", "perf_event_open", "userfaultfd", "pivot_root", "delete_module"):
            self.assertEqual(out[call], "EPERM", call)
        self.assertEqual(out["io_uring_setup"], "ENOSYS")
        self.assert_serving()


class TestProcessLevelAsRoot(HostileCase):
    """--sandbox process with lambdad as root: the host's view, but each
    environment has its own uid, no capabilities, its own /tmp, and the data
    directory shows only its code. (python3.11: an interpreter the
    environment's uid can read; pyenv's under /root is not.)"""
    server_args = ("--sandbox", "process")
    runtime = "python3.11"

    def test_data_tmp_signals_and_identity(self):
        tag = uuid.uuid4().hex
        victim = self.function({"app.py": "import os\ndef handler(e, c):\n"
                                          "    open('/tmp/secret.txt', 'w').write('%s')\n"
                                          "    os.chmod('/tmp/secret.txt', 0o644)\n    return os.getuid()\n" % tag},
                               runtime=self.runtime)
        vuid = self.invoke_json(victim)
        vpid = host_pid_of(victim)
        self.assertIsNotNone(vpid)
        body = r'''
import signal
def handler(e, c):
    v = e["vpid"]
    paths = [DATA + "/auth/keys.json", DATA + "/lambdad.db", DATA + "/url.key", DATA + "/blobs",
             "/tmp/secret.txt", "/proc/%d/root/tmp/secret.txt" % v, "/proc/%d/environ" % v,
             "/proc/%d/cwd" % v, "/proc/%d/environ" % LAMBDAD_PID]
    r = {p: attempt(lambda p=p: read(p)) for p in paths}
    r["kill_lambdad"] = attempt(lambda: os.kill(LAMBDAD_PID, signal.SIGKILL))
    r["kill_victim"] = attempt(lambda: os.kill(v, signal.SIGKILL))
    r["ptrace_victim"] = sc(101, 16, v, 0, 0)
    st = open("/proc/self/status").read()
    return {"tries": r, "uid": os.getuid(), "data": os.listdir(DATA), "tmp": os.listdir("/tmp"),
            "caps": sorted({l.split()[1] for l in st.splitlines() if l.startswith("Cap")}),
            "own": attempt(lambda: read(os.environ["LAMBDA_TASK_ROOT"] + "/app.py")[:6])}
'''
        name = self.hostile(body)
        out = self.invoke_json(name, {"vpid": vpid})
        self.assert_all_failed(out["tries"])
        self.assertEqual(out["data"], ["code"])  # its own code only, below the cover
        # its own /tmp: empty but for the mount points of its code (when the
        # data directory is below the host's /tmp) and of the runtime client
        # (when the checkout is, as in a CI clone under /tmp)
        tops = {p.split("/")[2] for p in (os.path.realpath(self.server.data_dir),
                                          os.path.realpath(os.path.join(ROOT, "runtimes"))) if p.startswith("/tmp/")}
        self.assertEqual(sorted(out["tmp"]), sorted(tops))
        self.assertEqual(out["caps"], ["0000000000000000"])
        self.assertTrue(out["own"].startswith("ok:"), out)
        self.assertNotEqual(out["uid"], vuid)
        self.assertGreaterEqual(min(out["uid"], vuid), 200000)
        self.assertEqual(host_pid_of(victim), vpid)
        self.assert_serving()


if __name__ == "__main__":
    unittest.main()
