"""`lambdad logs NAME`: a function's log streams from the data directory."""
import subprocess
import unittest

from harness import BIN, LambdadTestCase, ROLE, make_zip


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

    def test_logs_of_unknown_function(self):
        out = subprocess.run([BIN, "logs", "no-such-function", "--data-dir", self.server.data_dir],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no logs for no-such-function", out.stderr)


if __name__ == "__main__":
    unittest.main()
