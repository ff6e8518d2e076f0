"""GetAccountSettings, Get/PutRuntimeManagementConfig, Get/PutFunctionRecursionConfig
(docs/aws-facts.md 2.8, 3.10, 3.11, 3.12)."""
import time
import unittest

from harness import ACCOUNT, REGION, LambdadTestCase, Server, make_zip, ROLE

RUNTIME_ARN = "arn:aws:lambda:%s::runtime:abcdef0123456789" % REGION


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


class TestAccountSettings(unittest.TestCase):
    """Its own server, so usage starts at zero."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.lam = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def usage(self):
        return self.lam.get_account_settings()["AccountUsage"]

    def settle(self, name):
        end = time.time() + 5
        while time.time() < end:
            c = self.lam.get_function_configuration(FunctionName=name)
            if c["State"] == "Active" and c.get("LastUpdateStatus") != "InProgress":
                return
            time.sleep(0.02)
        self.fail("not settled")

    def test_shape_and_usage(self):
        s = self.lam.get_account_settings()
        self.assertEqual(s["ResponseMetadata"]["HTTPStatusCode"], 200)
        s.pop("ResponseMetadata")
        self.assertEqual(set(s), {"AccountLimit", "AccountUsage"})
        self.assertEqual(set(s["AccountLimit"]), {"CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions",
                                                  "TotalCodeSize", "UnreservedConcurrentExecutions"})
        self.assertEqual(set(s["AccountUsage"]), {"FunctionCount", "TotalCodeSize"})
        self.assertEqual(s["AccountLimit"]["TotalCodeSize"], 80530636800)
        self.assertEqual(s["AccountLimit"]["CodeSizeZipped"], 52428800)
        self.assertEqual(s["AccountLimit"]["CodeSizeUnzipped"], 262144000)
        self.assertEqual(s["AccountUsage"], {"FunctionCount": 0, "TotalCodeSize": 0})

        z1 = make_zip({"app.py": "def handler(e, c):\n    return 1\n"})
        z2 = make_zip({"app.py": "def handler(e, c):\n    return 'a longer body'\n" * 3})
        self.assertNotEqual(len(z1), len(z2))
        self.lam.create_function(FunctionName="acct-a", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": z1})
        self.assertEqual(self.usage(), {"FunctionCount": 1, "TotalCodeSize": len(z1)})
        self.settle("acct-a")
        # a configuration change costs nothing
        self.lam.update_function_configuration(FunctionName="acct-a", Description="x")
        self.assertEqual(self.usage()["TotalCodeSize"], len(z1))
        self.settle("acct-a")
        # every published version counts its code again
        self.lam.publish_version(FunctionName="acct-a")
        self.assertEqual(self.usage(), {"FunctionCount": 1, "TotalCodeSize": 2 * len(z1)})
        # new code with Publish: $LATEST holds z2 and version 2 holds z2 again
        self.lam.update_function_code(FunctionName="acct-a", ZipFile=z2, Publish=True)
        self.assertEqual(self.usage(), {"FunctionCount": 1, "TotalCodeSize": len(z1) + 2 * len(z2)})
        self.lam.create_function(FunctionName="acct-b", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": z1})
        self.assertEqual(self.usage(), {"FunctionCount": 2, "TotalCodeSize": 2 * len(z1) + 2 * len(z2)})
        # an alias does not count
        self.settle("acct-a")
        self.lam.create_alias(FunctionName="acct-a", Name="live", FunctionVersion="1")
        self.assertEqual(self.usage()["TotalCodeSize"], 2 * len(z1) + 2 * len(z2))
        self.lam.delete_function(FunctionName="acct-a")
        self.assertEqual(self.usage(), {"FunctionCount": 1, "TotalCodeSize": len(z1)})
        self.lam.delete_function(FunctionName="acct-b")
        self.assertEqual(self.usage(), {"FunctionCount": 0, "TotalCodeSize": 0})

    def test_other_region_is_separate(self):
        other = self.server.client(region="eu-west-1")
        before = other.get_account_settings()["AccountUsage"]
        self.lam.create_function(FunctionName="acct-region", Runtime="python3.12", Handler="app.handler",
                                 Role=ROLE, Code={"ZipFile": make_zip()})
        try:
            self.assertEqual(other.get_account_settings()["AccountUsage"], before)
        finally:
            self.lam.delete_function(FunctionName="acct-region")


class TestRuntimeManagement(LambdadTestCase):
    def test_default_auto(self):
        name = self.name("rm")
        self.create(name)
        resp = self.lam.get_runtime_management_config(FunctionName=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        resp.pop("ResponseMetadata")
        self.assertEqual(resp["UpdateRuntimeOn"], "Auto")
        self.assertNotIn("RuntimeVersionArn", resp)
        self.assertTrue(resp["FunctionArn"].startswith(fn_arn(name)))

    def test_put_manual_then_auto(self):
        name = self.name("rm")
        self.create(name)
        put = self.lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual",
                                                     RuntimeVersionArn=RUNTIME_ARN)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(put["UpdateRuntimeOn"], "Manual")
        self.assertEqual(put["RuntimeVersionArn"], RUNTIME_ARN)
        got = self.lam.get_runtime_management_config(FunctionName=name)
        self.assertEqual(got["UpdateRuntimeOn"], "Manual")
        self.assertEqual(got["RuntimeVersionArn"], RUNTIME_ARN)
        put = self.lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
        self.assertEqual(put["UpdateRuntimeOn"], "FunctionUpdate")
        self.assertNotIn("RuntimeVersionArn", put)
        got = self.lam.get_runtime_management_config(FunctionName=name)
        self.assertEqual(got["UpdateRuntimeOn"], "FunctionUpdate")
        self.assertNotIn("RuntimeVersionArn", got)

    def test_bad_mode(self):
        name = self.name("rm")
        self.create(name)
        err = self.assertError("ValidationException", self.lam.put_runtime_management_config, FunctionName=name,
                               UpdateRuntimeOn="Sometimes", status=400)
        self.assertIn("Value 'Sometimes' at 'updateRuntimeOn' failed to satisfy constraint: Member must "
                      "satisfy enum value set:", err["Error"]["Message"])

    def test_missing_function(self):
        name = self.name("rm-absent")
        self.assertError("ResourceNotFoundException", self.lam.get_runtime_management_config, FunctionName=name,
                         message="Function not found: " + fn_arn(name), status=404)
        self.assertError("ResourceNotFoundException", self.lam.put_runtime_management_config, FunctionName=name,
                         UpdateRuntimeOn="Auto", message="Function not found: " + fn_arn(name), status=404)

    def test_missing_version(self):
        name = self.name("rm")
        self.create(name)
        self.assertError("ResourceNotFoundException", self.lam.get_runtime_management_config, FunctionName=name,
                         Qualifier="7", message="Function not found: " + fn_arn(name, "7"), status=404)


class TestRecursion(LambdadTestCase):
    def test_default_and_put(self):
        name = self.name("rec")
        self.create(name)
        got = self.lam.get_function_recursion_config(FunctionName=name)
        self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 200)
        got.pop("ResponseMetadata")
        self.assertEqual(got, {"RecursiveLoop": "Terminate"})
        put = self.lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 200)
        put.pop("ResponseMetadata")
        self.assertEqual(put, {"RecursiveLoop": "Allow"})
        self.assertEqual(self.lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"], "Allow")
        self.lam.put_function_recursion_config(FunctionName=fn_arn(name), RecursiveLoop="Terminate")
        self.assertEqual(self.lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"], "Terminate")

    def test_enum_error(self):
        name = self.name("rec")
        self.create(name)
        self.assertError("ValidationException", self.lam.put_function_recursion_config, FunctionName=name,
                         RecursiveLoop="InvalidValue",
                         message="1 validation error detected: Value 'InvalidValue' at 'recursiveLoop' failed to "
                                 "satisfy constraint: Member must satisfy enum value set: [Terminate, Allow]",
                         status=400)
        self.assertEqual(self.lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"], "Terminate")

    def test_missing_function(self):
        name = self.name("rec-absent")
        self.assertError("ResourceNotFoundException", self.lam.get_function_recursion_config, FunctionName=name,
                         message="Function not found: " + fn_arn(name), status=404)
        self.assertError("ResourceNotFoundException", self.lam.put_function_recursion_config, FunctionName=name,
                         RecursiveLoop="Allow", message="Function not found: " + fn_arn(name), status=404)


if __name__ == "__main__":
    unittest.main()
