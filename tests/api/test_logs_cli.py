"""`lambdad logs NAME`: a function's log streams from the data directory."""
import os
import select
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BIN, LambdadTestCase, ROLE, Server, make_zip


class TestLogsCommand(LambdadTestCase):
    def test_logs_after_invokes(self):
        name = self.name()
        code = make_zip({"app.py": "def handler(e, c):\n    print('marker', e['n'])\n    return e\n"})
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": code})
        ids = []
        for n in range(2):
            r = self.lam.invoke(FunctionName=name, Payload=b'{"n": %d}' % n)
            self.assertEqual(r["Payload"].read(), b'{"n": %d}' % n)
            ids.append(r["ResponseMetadata"]["RequestId"])
        out = subprocess.run([BIN, "logs", name, "--data-dir", self.server.data_dir], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        starts = [l for l in lines if l.startswith("START RequestId: ")]
        reports = [l for l in lines if l.startswith("REPORT RequestId: ")]
        self.assertEqual(len(starts), 2)
        self.assertEqual(len(reports), 2)
        self.assertIn("marker 0", out.stdout)
        self.assertIn("marker 1", out.stdout)
        # newest last
        self.assertLess(out.stdout.index("marker 0"), out.stdout.index("marker 1"))
        self.assertIn("Init Duration: ", reports[0])
        self.assertNotIn("Init Duration: ", reports[1])

    def test_follow_prints_what_comes_later(self):
        name = self.name()
        code = make_zip({"app.py": "def handler(e, c):\n    print('marker', e['n'])\n    return e\n"})
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": code})
        self.settled(name)
        proc = subprocess.Popen([BIN, "logs", name, "--follow", "--data-dir", self.server.data_dir],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = b""
        try:
            for n in range(2):
                self.lam.invoke(FunctionName=name, Payload=b'{"n": %d}' % n)
                end = time.time() + 15
                while b"marker %d" % n not in out and time.time() < end:
                    r, _, _ = select.select([proc.stdout], [], [], 0.2)
                    if r:
                        out += os.read(proc.stdout.fileno(), 65536)
                self.assertIn(b"marker %d" % n, out)
        finally:
            proc.kill()
            proc.wait(10)
            proc.stdout.close()
        self.assertEqual(out.count(b"marker 0"), 1)
        self.assertEqual(out.count(b"START RequestId: "), 2)

    def test_logs_of_unknown_function(self):
        out = subprocess.run([BIN, "logs", "no-such-function", "--data-dir", self.server.data_dir],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no logs for no-such-function", out.stderr)


class TestLogsFindsTheDataDirectory(LambdadTestCase):
    """Without --data-dir, `lambdad logs` run from another directory reads the data directory of the
    running server: a server started as `make run` starts it (--data-dir ./data, relative to where it
    runs), and the command run from elsewhere."""

    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="lambdad-logs-")
        cls.project = os.path.join(cls.top, "project")
        cls.elsewhere = os.path.join(cls.top, "elsewhere")
        os.mkdir(cls.project)
        os.mkdir(cls.elsewhere)
        cls.server = Server(data_dir="./data", cwd=cls.project).start()
        cls.lam = cls.server.client()
        cls.fn = "logs-%d" % os.getpid()
        code = make_zip({"app.py": "def handler(e, c):\n    print('marker', e['n'])\n    return e\n"})
        cls.lam.create_function(FunctionName=cls.fn, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": code})

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.top, ignore_errors=True)

    def logs(self, name, cwd):
        return subprocess.run([BIN, "logs", name], capture_output=True, text=True, timeout=30, cwd=cwd)

    def test_logs_from_another_directory(self):
        self.settled(self.fn)
        r = self.lam.invoke(FunctionName=self.fn, Payload=b'{"n": 7}')
        self.assertEqual(r["Payload"].read(), b'{"n": 7}')
        out = self.logs(self.fn, self.elsewhere)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("marker 7", out.stdout)
        self.assertIn("REPORT RequestId: " + r["ResponseMetadata"]["RequestId"], out.stdout)

    def test_says_where_it_looked(self):
        out = self.logs("no-such-function-%d" % os.getpid(), self.elsewhere)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no logs for no-such-function-%d" % os.getpid(), out.stderr)
        # the server's data directory, absolute, and how it was found
        data = os.path.realpath(os.path.join(self.project, "data"))
        self.assertIn("  %s (the data directory of `lambdad serve`, pid %d)" % (data, self.server.proc.pid),
                      out.stderr)
        self.assertIn("--data-dir DIR", out.stderr)

    def test_several_data_directories_hold_the_function(self):
        # a ./data of its own where the command runs, holding logs of a function of the same name
        self.settled(self.fn)
        self.lam.invoke(FunctionName=self.fn, Payload=b'{"n": 1}')
        other = os.path.join(self.top, "other")
        # the log store's group directory: /aws/lambda/NAME with / as %2F, its name in .group
        group = os.path.join(other, "data", "logs", "000000000000:us-east-1", "%2Faws%2Flambda%2F" + self.fn)
        os.makedirs(group)
        with open(os.path.join(group, ".group"), "w") as f:
            f.write('{"name": "/aws/lambda/%s", "creationTime": 0}' % self.fn)
        try:
            out = self.logs(self.fn, other)
        finally:
            shutil.rmtree(other)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("%s has logs in several data directories" % self.fn, out.stderr)
        self.assertIn("  %s (./data here)" % os.path.realpath(os.path.join(other, "data")), out.stderr)
        self.assertIn("  %s (the data directory of `lambdad serve`, pid %d)"
                      % (os.path.realpath(os.path.join(self.project, "data")), self.server.proc.pid), out.stderr)
        self.assertIn("choose one with --data-dir DIR", out.stderr)


if __name__ == "__main__":
    unittest.main()
