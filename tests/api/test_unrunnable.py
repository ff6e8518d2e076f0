"""A function whose runtime this host cannot run (no interpreter for it, a family lambdad does not
run; a container image that cannot be pulled, docs/images.md) settles to State Failed with StateReasonCode InvalidRuntime (an AWS code
of the API model) and a StateReason that says what is missing and how to get it, instead of
becoming Active and failing every invoke; LastUpdateStatus likewise after an update. The AWS CLI's
`wait function-active-v2` stops at once with that reason. Invoke answers as AWS does for a Failed
function (409 ResourceConflictException, the state message). A restart with the runtime mapped
(--runtime ID=PATH) and an update make it Active again."""
import json
import os
import sys
import time

from harness import ROLE, LambdadTestCase, Server, make_zip

MISSING = ("python3.14", "nodejs22.x", "nodejs24.x", "java21", "ruby3.3", "dotnet8")


class TestUnrunnable(LambdadTestCase):
    def host_lacks(self, runtime):
        return runtime not in self.server.log().split("runtimes:", 1)[1].split("\n", 1)[0].split()

    def test_missing_runtimes_fail_with_a_reason(self):
        for rt in MISSING:
            if not self.host_lacks(rt):
                continue  # this host can run it after all
            with self.subTest(runtime=rt):
                name = self.name("rt")
                created = self.lam.create_function(FunctionName=name, Runtime=rt, Handler="app.handler", Role=ROLE,
                                                   Code={"ZipFile": make_zip()})
                self.assertEqual(created["State"], "Pending")
                c = self.final_state(name)
                self.assertEqual(c["State"], "Failed")
                self.assertEqual(c["StateReasonCode"], "InvalidRuntime")
                self.assertIn(rt, c["StateReason"])
                self.assertIn("cannot run on this lambdad host", c["StateReason"])
                self.assertEqual(c["LastUpdateStatus"], "Failed")
                self.assertEqual(c["LastUpdateStatusReasonCode"], "InvalidRuntime")
                with self.assertRaises(self.lam.exceptions.ResourceConflictException) as cm:
                    self.lam.invoke(FunctionName=name, Payload=b"{}")
                self.assertEqual(cm.exception.response["Error"]["Message"],
                                 "The operation cannot be performed at this time. The function is currently in the "
                                 "following state: Failed")

    def test_reason_says_how_to_get_it(self):
        name = self.name("py")
        self.lam.create_function(FunctionName=name, Runtime="python3.14", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip()})
        if not self.host_lacks("python3.14"):
            self.skipTest("this host has python3.14")
        c = self.final_state(name)
        self.assertIn("--runtime python3.14=", c["StateReason"])

    def test_node_reason_names_runtime_install(self):
        if not self.host_lacks("nodejs24.x"):
            self.skipTest("this host runs nodejs24.x")
        name = self.name("node")
        self.lam.create_function(FunctionName=name, Runtime="nodejs24.x", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip()})
        c = self.final_state(name)
        self.assertIn("`lambdad runtime install nodejs24.x` gets it from the npm registry", c["StateReason"])

    def test_image_function_fails(self):
        # an ECR image that no --image-registry mapping names cannot be pulled (no network is tried)
        name = self.name("img")
        self.lam.create_function(FunctionName=name, PackageType="Image", Role=ROLE,
                                 Code={"ImageUri": "111111111111.dkr.ecr.us-east-1.amazonaws.com/repo:latest"})
        c = self.final_state(name)
        self.assertEqual((c["State"], c["StateReasonCode"]), ("Failed", "ImageAccessDenied"))
        self.assertIn("image-registry", self.server.log())

    def test_cli_waiter_stops_with_the_reason(self):
        name = self.name("wait")
        self.lam.create_function(FunctionName=name, Runtime="java21", Handler="a.B::c", Role=ROLE,
                                 Code={"ZipFile": make_zip()})
        start = time.time()
        p = self.server.cli("wait", "function-active-v2", "--function-name", name, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertLess(time.time() - start, 60)  # bounded: the waiter's own limit is 5 min
        self.assertIn("Waiter FunctionActiveV2 failed", p.stderr)
        self.assertIn("Failed", p.stderr)

    def test_update_to_a_missing_runtime_fails_the_update(self):
        name = self.name("upd")
        self.create(name, Runtime="python3.12")
        self.settled(name)
        self.lam.update_function_configuration(FunctionName=name, Runtime="java21")
        c = self.final_state(name)
        self.assertEqual((c["LastUpdateStatus"], c["LastUpdateStatusReasonCode"]), ("Failed", "InvalidRuntime"))
        self.assertEqual(c["State"], "Failed")
        self.assertIn("java21", c["LastUpdateStatusReason"])
        # and back to a runtime the host has: Active again, and it runs
        self.lam.update_function_configuration(FunctionName=name, Runtime="python3.12")
        c = self.final_state(name)
        self.assertEqual((c["State"], c["LastUpdateStatus"]), ("Active", "Successful"))
        self.assertNotIn("StateReasonCode", c)
        out = json.loads(self.lam.invoke(FunctionName=name, Payload=b'{"a":1}')["Payload"].read())
        self.assertEqual(out, {"a": 1})


class TestRuntimeGainedAfterRestart(LambdadTestCase):
    """python3.14 mapped with --runtime to a python this host has: after a restart with the mapping,
    an update of the Failed function makes it Active and it runs."""

    def test_restart_with_mapping(self):
        name = self.name("gain")
        self.lam.create_function(FunctionName=name, Runtime="python3.14", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip()})
        end = time.time() + 10
        while self.lam.get_function_configuration(FunctionName=name)["State"] == "Pending" and time.time() < end:
            time.sleep(0.02)
        if self.lam.get_function_configuration(FunctionName=name)["State"] != "Failed":
            self.skipTest("this host runs python3.14")
        self.server.stop()
        mapped = Server(data_dir=self.server.data_dir,
                        extra_args=("--runtime", "python3.14=" + os.path.realpath(sys.executable))).start()
        try:
            lam = mapped.client()
            lam.update_function_configuration(FunctionName=name, Description="runtime installed")
            end = time.time() + 10
            while True:
                c = lam.get_function_configuration(FunctionName=name)
                if c.get("LastUpdateStatus") != "InProgress" or time.time() > end:
                    break
                time.sleep(0.02)
            self.assertEqual((c["State"], c["LastUpdateStatus"]), ("Active", "Successful"))
            out = json.loads(lam.invoke(FunctionName=name, Payload=b'{"b":2}')["Payload"].read())
            self.assertEqual(out, {"b": 2})
        finally:
            mapped.stop()
            self.server.start()
