"""Failures as AWS reports them, and the sandbox's boundaries: timeouts
(Sandbox.Timedout, the environment replaced), runtime exits and crashes
(Runtime.ExitError), memory exhaustion past MemorySize, and functions that
try to read lambdad's data directory or the host's /root and /work, write to
/var/task, fork without bound or fill /tmp. Each must fail the way AWS would
while lambdad stays healthy and keeps serving other functions.

Kept fast: Timeout=1 for timeouts, 128 MB for memory, bounded loops.
"""
import json
import time

from test_invoke import UUID, InvokeCase

IDENT = "import uuid\nENV_ID = str(uuid.uuid4())\n"


class TestTimeout(InvokeCase):
    def test_timeout_then_a_fresh_environment(self):
        code = IDENT + "import time\ndef handler(e, c):\n    if e.get('sleep'):\n        time.sleep(e['sleep'])\n" \
                       "    return ENV_ID\n"
        name = self.function({"app.py": code}, Timeout=1)
        before = self.invoke_json(name)
        t0 = time.time()
        doc, resp = self.invoke_error(name, {"sleep": 30}, LogType="Tail")
        took = time.time() - t0
        self.assertLess(took, 3.0)
        self.assertGreaterEqual(took, 0.95)
        self.assertEqual(doc["errorType"], "Sandbox.Timedout")
        self.assertRegex(doc["errorMessage"], r"^RequestId: %s Error: Task timed out after 1\.00 seconds$" % UUID)
        self.assertEqual(doc["errorMessage"].split()[1], resp["ResponseMetadata"]["RequestId"])
        inner = self.assert_platform_lines(self.tail(resp), init=False, status="timeout")
        self.assertTrue(any(l.endswith("Task timed out after 1.00 seconds") for l in inner), inner)
        after = self.invoke_json(name)
        self.assertNotEqual(after, before, "a timed-out environment is replaced")
        self.assertEqual(self.invoke_json(name), after)

    def test_timeout_in_nodejs(self):
        name = self.function({"index.js": "exports.handler = () => new Promise(() => setTimeout(() => 0, 60000));\n"},
                             runtime="nodejs20.x", handler="index.handler", Timeout=1)
        doc, _ = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Sandbox.Timedout")
        self.assertTrue(doc["errorMessage"].endswith("Error: Task timed out after 1.00 seconds"))

    def test_timeout_during_init(self):
        code = "import time\ntime.sleep(30)\ndef handler(e, c):\n    return 1\n"
        name = self.function({"app.py": code}, Timeout=1)
        t0 = time.time()
        doc, _ = self.invoke_error(name)
        self.assertLess(time.time() - t0, 12.0)
        self.assertEqual(doc["errorType"], "Sandbox.Timedout")


class TestExits(InvokeCase):
    def test_exit_status(self):
        name = self.function({"app.py": IDENT + "import os\ndef handler(e, c):\n"
                                                "    if e.get('code') is not None:\n        os._exit(e['code'])\n"
                                                "    return ENV_ID\n"})
        before = self.invoke_json(name)
        doc, resp = self.invoke_error(name, {"code": 1}, LogType="Tail")
        rid = resp["ResponseMetadata"]["RequestId"]
        self.assertEqual(doc, {"errorType": "Runtime.ExitError",
                               "errorMessage": "RequestId: %s Error: Runtime exited with error: exit status 1" % rid})
        inner = self.assert_platform_lines(self.tail(resp), status="error", error_type="Runtime.ExitError")
        self.assertEqual(inner[-2:], ["RequestId: %s Error: Runtime exited with error: exit status 1" % rid,
                                      "Runtime.ExitError"])
        doc, resp = self.invoke_error(name, {"code": 0})
        self.assertEqual(doc["errorMessage"], "RequestId: %s Error: Runtime exited without providing a reason"
                         % resp["ResponseMetadata"]["RequestId"])
        after = self.invoke_json(name)
        self.assertNotEqual(after, before)

    def test_segfault(self):
        name = self.function({"app.py": "import ctypes\ndef handler(e, c):\n    ctypes.string_at(0)\n"})
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.ExitError")
        self.assertEqual(doc["errorMessage"], "RequestId: %s Error: Runtime exited with error: signal: "
                                              "segmentation fault" % resp["ResponseMetadata"]["RequestId"])

    def test_exit_during_init(self):
        name = self.function({"app.py": "import sys\nsys.exit(3)\n"})
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.ExitError")
        self.assertTrue(doc["errorMessage"].endswith("Error: Runtime exited with error: exit status 3"), doc)

    def test_nodejs_process_exit(self):
        name = self.function({"index.js": "exports.handler = async () => { process.exit(2); };\n"},
                             runtime="nodejs20.x", handler="index.handler")
        doc, _ = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.ExitError")
        self.assertTrue(doc["errorMessage"].endswith("Runtime exited with error: exit status 2"))


class TestMemory(InvokeCase):
    def test_out_of_memory(self):
        code = IDENT + "def handler(e, c):\n    if e.get('mb'):\n        b = bytearray(e['mb'] * 1024 * 1024)\n" \
                       "        b[::4096] = b'x' * len(b[::4096])\n    return ENV_ID\n"
        name = self.function({"app.py": code}, MemorySize=128, Timeout=10)
        self.assertIsInstance(self.invoke_json(name, {"mb": 32}), str)  # within the limit
        doc, resp = self.invoke_error(name, {"mb": 400}, LogType="Tail")
        self.assertEqual(doc["errorType"], "Runtime.OutOfMemory")
        self.assertEqual(doc["errorMessage"], "RequestId: %s Error: Runtime exited with error: signal: killed"
                         % resp["ResponseMetadata"]["RequestId"])
        self.assert_platform_lines(self.tail(resp), status="error", error_type="Runtime.OutOfMemory")
        self.assertIsInstance(self.invoke_json(name), str)
        self.assert_healthy()

    def test_max_memory_used_reported(self):
        code = "X = None\ndef handler(e, c):\n    global X\n    X = bytearray(60 * 1024 * 1024)\n" \
               "    X[::4096] = b'x' * len(X[::4096])\n"
        name = self.function({"app.py": code}, MemorySize=256)
        resp, _ = self.invoke(name, LogType="Tail")
        report = self.tail(resp).split("\n")[-2]
        used = int(report.split("Max Memory Used: ")[1].split(" MB")[0])
        self.assertTrue(60 <= used <= 256, report)


class TestSandbox(InvokeCase):
    def test_host_paths_are_invisible(self):
        code = "import os\ndef handler(e, c):\n    return {p: os.path.exists(p) for p in e['paths']}\n"
        name = self.function({"app.py": code})
        paths = [self.server.data_dir, "/root", "/work", "/home", "/etc/shadow", "/var/lib", "/sys/fs/cgroup",
                 self.server.data_dir + "/store.db"]
        out = self.invoke_json(name, {"paths": paths})
        self.assertEqual(out, {p: False for p in paths})

    def test_reading_the_data_directory_fails(self):
        code = "def handler(e, c):\n    try:\n        open(e['p']).read()\n    except OSError as x:\n" \
               "        return type(x).__name__\n    return 'read'\n"
        name = self.function({"app.py": code})
        for p in (self.server.data_dir + "/server.log", "/root/.bashrc", "/work/shared/DESIGN.md"):
            self.assertEqual(self.invoke_json(name, {"p": p}), "FileNotFoundError", p)

    def test_var_task_is_read_only(self):
        code = "import errno\ndef handler(e, c):\n    try:\n        open('/var/task/x', 'w')\n" \
               "    except OSError as x:\n        return errno.errorcode[x.errno]\n    return 'written'\n"
        name = self.function({"app.py": code})
        self.assertEqual(self.invoke_json(name), "EROFS")

    def test_runs_unprivileged(self):
        code = "import os\ndef handler(e, c):\n    return [os.getuid(), os.getgid(), os.getcwd(), os.getpid()]\n"
        name = self.function({"app.py": code})
        uid, gid, cwd, pid = self.invoke_json(name)
        self.assertNotEqual(uid, 0)
        self.assertNotEqual(gid, 0)
        self.assertEqual(cwd, "/var/task")
        self.assertEqual(pid, 1, "the runtime is pid 1 of its own pid namespace")

    def test_tmp_is_writable_and_sized(self):
        code = "import os\ndef handler(e, c):\n    with open('/tmp/f', 'wb') as f:\n" \
               "        f.write(b'x' * 1048576)\n    s = os.statvfs('/tmp')\n" \
               "    return [os.path.getsize('/tmp/f'), s.f_blocks * s.f_frsize]\n"
        name = self.function({"app.py": code}, EphemeralStorage={"Size": 600})
        self.assertEqual(self.invoke_json(name), [1048576, 600 * 1024 * 1024])
        name = self.function({"app.py": code})
        self.assertEqual(self.invoke_json(name)[1], 512 * 1024 * 1024)

    def test_tmp_full_is_enospc(self):
        code = "import errno\ndef handler(e, c):\n    n = 0\n    try:\n" \
               "        with open('/tmp/big', 'wb') as f:\n            while n < 64:\n" \
               "                f.write(b'x' * 1048576)\n                f.flush()\n                n += 1\n" \
               "    except OSError as x:\n        return [n, errno.errorcode[x.errno]]\n    return [n, None]\n"
        name = self.function({"app.py": code}, EphemeralStorage={"Size": 512}, MemorySize=256)
        n, err = self.invoke_json(name)
        self.assertEqual((n, err), (64, None), "64 MB fit in a 512 MB /tmp")

    def test_fork_bomb_is_bounded(self):
        code = "import os, errno\ndef handler(e, c):\n    kids, err = [], None\n" \
               "    while len(kids) < 5000:\n        try:\n            pid = os.fork()\n" \
               "        except OSError as x:\n            err = errno.errorcode[x.errno]\n            break\n" \
               "        if pid == 0:\n            os._exit(0)\n        kids.append(pid)\n" \
               "    for k in kids:\n        os.waitpid(k, 0)\n    return [len(kids), err]\n"
        name = self.function({"app.py": code}, Timeout=20)
        n, err = self.invoke_json(name)
        self.assertEqual(err, "EAGAIN")
        self.assertLess(n, 1100)
        self.assert_healthy()
        # and the environment itself still works afterwards
        n2, err2 = self.invoke_json(name)
        self.assertEqual(err2, "EAGAIN")

    def test_shell_fork_bomb_times_out(self):
        bootstrap = "#!/bin/bash\nb() { b | b & }\nb\nsleep 60\n"
        from test_invoke import exec_zip
        name = self.function(zip_bytes=exec_zip({"bootstrap": (bootstrap, 0o755)}), runtime="provided.al2023",
                             handler="x.y", Timeout=1)
        t0 = time.time()
        doc, _ = self.invoke_error(name)
        self.assertLess(time.time() - t0, 13)
        # bounded by the pids limit, then the init deadline, or by the memory limit first
        self.assertIn(doc["errorType"], ("Sandbox.Timedout", "Runtime.ExitError", "Runtime.OutOfMemory"))
        self.assert_healthy()
        self.lam.get_account_settings()
