"""Network isolation of functions (issue 19 item 8, --function-network, docs/sandbox.md "Network").

With `--function-network isolated` each environment runs in a network namespace of its own: a
function cannot connect to a port the test listens on at 127.0.0.1 or 127.0.0.2 (nor through
slirp4netns's gateway 10.0.2.2, which would lead to the host's loopback without
--disable-host-loopback), and still reaches its Runtime API (python and a C custom runtime). With
`--function-network host` the same function reaches the test's port: today's behaviour, and the
proof that the probe can succeed.

Egress is tested without leaving the machine: the test runs lambdad inside a network namespace it
makes itself (the "outside"), holding a non-loopback address (198.18.0.1, the benchmarking range)
that the test listens on; an isolated function reaches it through slirp4netns, and still not the
outside's 127.0.0.1.

Making namespaces needs root (CAP_SYS_ADMIN): the classes skip, saying so, without it.
"""
import ctypes
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import Server, make_zip
import test_extensions as te
from test_invoke import InvokeCase, exec_zip

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLONE_NEWNET = 0x40000000

# tries each (host, port) of the event; reports "ok" or the errno name, and the interfaces it sees
PROBE = r'''
import errno, json, os, socket
def handler(event, context):
    out = {}
    for host, port in event["targets"]:
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((host, port))
            s.sendall(b"hello")
            out["%s:%d" % (host, port)] = "ok"
        except OSError as x:
            out["%s:%d" % (host, port)] = errno.errorcode.get(x.errno, type(x).__name__) if x.errno \
                else type(x).__name__
        finally:
            s.close()
    with open("/proc/net/dev") as f:
        ifaces = sorted(l.split(":")[0].strip() for l in f.read().splitlines()[2:])
    return {"connect": out, "ifaces": ifaces, "runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
'''


def can_make_netns():
    """None when this process may make network namespaces, else why not."""
    if os.geteuid() != 0:
        return "making network namespaces needs root (CAP_SYS_ADMIN)"
    p = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return "unshare -n fails here: " + p.stderr.strip()
    return None


class Listener:
    """A TCP listener on host:port that counts the connections that reached it."""

    def __init__(self, host, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def accepted(self, wait_s=0.0):
        """How many connections are waiting to be accepted now (taking them), waiting at most wait_s for
        the first."""
        n = 0
        end = time.time() + wait_s
        while True:
            left = max(0.0, end - time.time()) if n == 0 else 0.0
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return n
            c, _ = self.sock.accept()
            c.close()
            n += 1

    def close(self):
        self.sock.close()


def c_bootstrap_zip():
    """bench/bootstrap.c (a C custom runtime that echoes the event) as a provided.al2023 zip."""
    work = tempfile.mkdtemp(prefix="lambdad-net-")
    try:
        exe = os.path.join(work, "bootstrap")
        subprocess.run(["cc", "-O2", "-o", exe, os.path.join(ROOT_DIR, "bench", "bootstrap.c")], check=True,
                       timeout=120)
        with open(exe, "rb") as f:
            return exec_zip({"bootstrap": (f.read(), 0o755)})
    finally:
        shutil.rmtree(work, ignore_errors=True)


class IsolatedNetwork(InvokeCase):
    """--function-network isolated on the host's network."""

    server_args = ("--function-network", "isolated")

    @classmethod
    def setUpClass(cls):
        why = can_make_netns()
        if why:
            raise unittest.SkipTest(why)
        super().setUpClass()
        cls.l1 = Listener("127.0.0.1")
        cls.l2 = Listener("127.0.0.2", cls.l1.port)

    @classmethod
    def tearDownClass(cls):
        cls.l1.close()
        cls.l2.close()
        super().tearDownClass()

    def test_started_isolated(self):
        self.assertIn("function network: isolated", self.server.log())

    def test_no_route_to_host_loopback(self):
        """The function's connects to the test's ports fail and nothing reaches the listeners; its
        Runtime API works (the invoke answers); it sees only its own interfaces."""
        name = self.function({"app.py": PROBE}, Timeout=30)
        targets = [["127.0.0.1", self.l1.port], ["127.0.0.2", self.l1.port], ["10.0.2.2", self.l1.port]]
        for _ in range(2):  # cold, then warm (the same namespace)
            out = self.invoke_json(name, {"targets": targets})
            for k, v in out["connect"].items():
                self.assertNotEqual(v, "ok", (k, out))
            self.assertTrue(set(out["ifaces"]) <= {"lo", "tap0"}, out)
            self.assertIn("lo", out["ifaces"])
            self.assertTrue(out["runtime_api"].startswith("127.0.0.1:"), out)
        self.assertEqual(self.l1.accepted(), 0)
        self.assertEqual(self.l2.accepted(), 0)

    def test_sdk_calls_reach_lambdad(self):
        """lambdad's API is reachable at AWS_ENDPOINT_URL_LAMBDA (a socket inside the namespace)."""
        name = self.function({"app.py": SDK_CALL}, Timeout=30)
        self.assertEqual(self.invoke_json(name), {"name": name, "endpoint": self.server.endpoint})

    def test_c_runtime(self):
        """A C custom runtime (bench/bootstrap.c) reaches its Runtime API in its namespace."""
        if not shutil.which("cc"):
            self.skipTest("needs cc")
        name = self.function(zip_bytes=c_bootstrap_zip(), runtime="provided.al2023", handler="x")
        for i in range(3):
            self.assertEqual(self.invoke_json(name, {"n": i}), {"n": i})

    def test_environments_do_not_share_a_namespace(self):
        """One environment keeps a socket listening on its 127.0.0.1 (open across invocations): it can
        connect to it itself, another function's environment cannot."""
        code = r'''
import socket
held = []
def handler(event, context):
    if "listen" in event:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", event["listen"])); s.listen(4)
        held.append(s)
        return "listening"
    c = socket.socket(); c.settimeout(3)
    try:
        c.connect(("127.0.0.1", event["connect"]))
        return "ok"
    except OSError as x:
        return "refused" if x.errno else type(x).__name__
    finally:
        c.close()
'''
        holder = self.function({"app.py": code}, Timeout=30)
        prober = self.function({"app.py": code}, Timeout=30)
        port = self.l1.port  # taken on the host's 127.0.0.1, free in every function's namespace
        self.assertEqual(self.invoke_json(holder, {"listen": port}), "listening")
        self.assertEqual(self.invoke_json(prober, {"connect": port}), "refused")
        self.assertEqual(self.invoke_json(holder, {"connect": port}), "ok")
        self.assertEqual(self.l1.accepted(), 0)


class IsolatedProcessLevel(InvokeCase):
    """--sandbox process with --function-network isolated: the namespace does not depend on the FULL
    level's other namespaces."""

    server_args = ("--sandbox", "process", "--function-network", "isolated")

    @classmethod
    def setUpClass(cls):
        why = can_make_netns()
        if why:
            raise unittest.SkipTest(why)
        super().setUpClass()
        cls.l1 = Listener("127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        cls.l1.close()
        super().tearDownClass()

    def test_no_route_to_host_loopback(self):
        # Debian's /usr/bin/python3.11: pyenv's trees under /root are closed to a dropped uid
        name = self.function({"app.py": PROBE}, runtime="python3.11", Timeout=30)
        out = self.invoke_json(name, {"targets": [["127.0.0.1", self.l1.port]]})
        self.assertNotEqual(out["connect"]["127.0.0.1:%d" % self.l1.port], "ok", out)
        self.assertTrue(set(out["ifaces"]) <= {"lo", "tap0"}, out)
        self.assertEqual(self.l1.accepted(), 0)


class HostNetwork(InvokeCase):
    """--function-network host: today's behaviour, a function reaches the host's loopback."""

    server_args = ("--function-network", "host")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.l1 = Listener("127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        cls.l1.close()
        super().tearDownClass()

    def test_reaches_host_loopback(self):
        name = self.function({"app.py": PROBE}, Timeout=30)
        out = self.invoke_json(name, {"targets": [["127.0.0.1", self.l1.port]]})
        self.assertEqual(out["connect"], {"127.0.0.1:%d" % self.l1.port: "ok"}, out)
        self.assertEqual(self.l1.accepted(wait_s=10), 1)
        self.assertIn("function network: host", self.server.log())


SDK_CALL = r'''
import boto3, os
def handler(event, context):
    lam = boto3.client("lambda")  # AWS_ENDPOINT_URL_LAMBDA, the environment's own credentials
    c = lam.get_function_configuration(FunctionName=context.function_name)
    return {"name": c["FunctionName"], "endpoint": os.environ["AWS_ENDPOINT_URL_LAMBDA"]}
'''


class EnforceDefault(InvokeCase):
    """--auth enforce without --function-network: isolated, and the function still reaches lambdad's
    API (AWS_ENDPOINT_URL_LAMBDA, a socket inside its namespace) with the credentials minted for it."""

    server_args = ("--auth", "enforce")
    ACCOUNT = "111111111111"

    @classmethod
    def setUpClass(cls):
        why = can_make_netns()
        if why:
            raise unittest.SkipTest(why)
        super().setUpClass()
        cls.lam = cls.server.client_for(cls.server.create_key(cls.ACCOUNT))
        cls.l1 = Listener("127.0.0.1")

    @classmethod
    def tearDownClass(cls):
        cls.l1.close()
        super().tearDownClass()

    def own_function(self, code):
        """A function of ACCOUNT (the signing key's), Active."""
        name = self.name("net")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Timeout=30,
                                 Role="arn:aws:iam::%s:role/r" % self.ACCOUNT, Code={"ZipFile": make_zip({"app.py": code})})
        self.wait_ready(name)
        return name

    def test_enforce_means_isolated(self):
        self.assertIn("function network: isolated", self.server.log())
        name = self.own_function(PROBE)
        out = self.invoke_json(name, {"targets": [["127.0.0.1", self.l1.port]]})
        self.assertNotEqual(out["connect"]["127.0.0.1:%d" % self.l1.port], "ok", out)
        self.assertEqual(self.l1.accepted(), 0)

    def test_sdk_calls_reach_lambdad(self):
        name = self.own_function(SDK_CALL)
        out = self.invoke_json(name)
        self.assertEqual(out, {"name": name, "endpoint": "http://127.0.0.1:%d" % self.server.port})


class _Netns:
    """The calling thread's network namespace, moved into a new one and back (the test's main thread:
    the processes it starts inherit it)."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)

    def enter_new(self):
        if self.libc.unshare(CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")

    def back(self):
        if self.libc.setns(self.home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(self.home)


OUTSIDE = "198.18.0.1"


class Outside:
    """A mixin: lambdad runs in a network namespace the test made (the "outside"), where OUTSIDE is an
    address of a non-loopback interface; the test's main thread stays there until tearDownClass."""

    @classmethod
    def setUpClass(cls):
        why = can_make_netns()
        if why:
            raise unittest.SkipTest(why)
        if not shutil.which("slirp4netns"):
            raise unittest.SkipTest("slirp4netns is not installed (tools/deps.sh run): isolated functions "
                                    "have no egress")
        cls.ns = _Netns()
        cls.ns.enter_new()
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
            # a dummy interface where the kernel has them, else the address on lo: either way not 127/8
            if subprocess.run(["ip", "link", "add", "out0", "type", "dummy"], capture_output=True,
                              timeout=30).returncode == 0:
                dev = "out0"
                subprocess.run(["ip", "link", "set", "out0", "up"], check=True, timeout=30)
            else:
                dev = "lo"
            subprocess.run(["ip", "addr", "add", OUTSIDE + "/24", "dev", dev], check=True, timeout=30)
            cls.server_args = ("--function-network", "isolated")
            super().setUpClass()
        except BaseException:
            cls.ns.back()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.ns.back()


class IsolatedEgress(Outside, InvokeCase):
    """An isolated function reaches the outside's address through slirp4netns, not the outside's
    loopback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.out = Listener(OUTSIDE)
        cls.loop = Listener("127.0.0.1", cls.out.port)

    @classmethod
    def tearDownClass(cls):
        cls.out.close()
        cls.loop.close()
        super().tearDownClass()

    def test_egress(self):
        name = self.function({"app.py": PROBE}, Timeout=30)
        out = self.invoke_json(name, {"targets": [[OUTSIDE, self.out.port], ["127.0.0.1", self.out.port],
                                                  ["10.0.2.2", self.out.port]]})
        c = out["connect"]
        self.assertEqual(c["%s:%d" % (OUTSIDE, self.out.port)], "ok", out)
        self.assertNotEqual(c["127.0.0.1:%d" % self.out.port], "ok", out)
        self.assertNotEqual(c["10.0.2.2:%d" % self.out.port], "ok", out)
        self.assertEqual(sorted(out["ifaces"]), ["lo", "tap0"], out)
        self.assertEqual(self.out.accepted(wait_s=10), 1)
        self.assertEqual(self.loop.accepted(), 0)


class IsolatedExtensions(Outside, te.TestExternalExtension):
    """test_extensions' external extension (register, telemetry over HTTP, SHUTDOWN) in isolated
    environments: lambdad delivers telemetry to the extension's listener inside the namespace; the
    extension reports to a collector on the outside's address (through slirp4netns)."""

    def setUp(self):
        self.collector = te.Collector(OUTSIDE)


class IsolatedLogsApi(Outside, te.TestLogsApi):
    """The Logs API subscriber the same way."""

    def setUp(self):
        self.collector = te.Collector(OUTSIDE)


if __name__ == "__main__":
    unittest.main()
