"""Function URL configs: Create/Get/Update/Delete/ListFunctionUrlConfig(s).

Shapes and messages are AWS's, from TestLambdaUrl in test_lambda_api.snapshot.json
and TestLambdaURL in test_lambda.snapshot.json; the FunctionUrl form is
lambdad's own (docs/urls.md).
"""
import json
import re
import unittest
import urllib.request

from harness import ACCOUNT, REGION, LambdadTestCase

NO_FUNCTION = "Function does not exist"
NO_RESOURCE = "The resource you requested does not exist."
MISMATCH = "The derived qualifier from the function name does not match the specified qualifier."
QUAL_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


def strip(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    return resp


def conflict(arn):
    return ("Failed to create function url config for [functionArn = %s]. Error message:  "
            "FunctionUrlConfig exists for this Lambda function" % arn)


class UrlTestCase(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.raw = cls.server.client(validate=False)

    def url_re(self):
        return re.compile(r"^http://([a-z0-9]{32})\.lambda-url\.%s\.localhost:%d/$" % (REGION, self.server.port))


    def fn_with_alias(self, alias="live"):
        name = self.name("url")
        self.create(name)
        self.settled(name)
        self.lam.publish_version(FunctionName=name)
        self.lam.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")
        return name


class TestLifecycle(UrlTestCase):
    def test_create_get_update_delete(self):
        name = self.name("url")
        self.assertError("ResourceNotFoundException", self.lam.create_function_url_config, FunctionName=name,
                         AuthType="NONE", message=NO_FUNCTION, status=404)
        self.create(name)
        created = self.lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 201)
        created = strip(created)
        self.assertEqual(set(created), {"FunctionUrl", "FunctionArn", "AuthType", "CreationTime"})
        self.assertEqual(created["FunctionArn"], fn_arn(name))
        self.assertEqual(created["AuthType"], "NONE")
        self.assertRegex(created["FunctionUrl"], self.url_re())
        self.assertRegex(created["CreationTime"], ISO)

        err = self.assertError("ResourceConflictException", self.lam.create_function_url_config, FunctionName=name,
                               AuthType="NONE", message=conflict(fn_arn(name)), status=409)
        self.assertEqual(err["Type"], "User")

        got = strip(self.lam.get_function_url_config(FunctionName=name))
        self.assertEqual(got, dict(created, InvokeMode="BUFFERED", LastModifiedTime=created["CreationTime"]))

        updated = self.lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
        self.assertEqual(updated["ResponseMetadata"]["HTTPStatusCode"], 200)
        updated = strip(updated)
        # InvokeMode was never set: Update does not show it
        self.assertEqual(set(updated), {"FunctionUrl", "FunctionArn", "AuthType", "CreationTime", "LastModifiedTime"})
        self.assertEqual(updated["AuthType"], "AWS_IAM")
        self.assertEqual(updated["CreationTime"], created["CreationTime"])
        self.assertEqual(updated["FunctionUrl"], created["FunctionUrl"])
        self.assertGreater(updated["LastModifiedTime"], created["CreationTime"])

        d = self.lam.delete_function_url_config(FunctionName=name)
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.get_function_url_config, FunctionName=name,
                         message=NO_RESOURCE, status=404)
        self.assertError("ResourceNotFoundException", self.lam.delete_function_url_config, FunctionName=name,
                         message=NO_RESOURCE)
        # a new config gets a new URL
        again = self.lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        self.assertNotEqual(again["FunctionUrl"], created["FunctionUrl"])

    def test_invoke_mode(self):
        name = self.name("url")
        self.create(name)
        created = self.lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="BUFFERED")
        self.assertEqual(created["InvokeMode"], "BUFFERED")
        up = self.lam.update_function_url_config(FunctionName=name, InvokeMode="RESPONSE_STREAM")
        self.assertEqual(up["InvokeMode"], "RESPONSE_STREAM")
        self.assertEqual(self.lam.get_function_url_config(FunctionName=name)["InvokeMode"], "RESPONSE_STREAM")
        # an update without members keeps everything
        up = self.lam.update_function_url_config(FunctionName=name)
        self.assertEqual((up["InvokeMode"], up["AuthType"]), ("RESPONSE_STREAM", "NONE"))
        self.assertEqual(self.lam.get_function_url_config(FunctionName=name)["InvokeMode"], "RESPONSE_STREAM")
        other = self.name("url")
        self.create(other)
        c = self.lam.create_function_url_config(FunctionName=other, AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM")
        self.assertEqual(c["InvokeMode"], "RESPONSE_STREAM")
        self.assertError("ValidationException", self.raw.create_function_url_config, FunctionName=other,
                         AuthType="NONE", InvokeMode="STREAM")
        self.assertError("ValidationException", self.raw.create_function_url_config, FunctionName=other,
                         AuthType="PUBLIC")

    def test_cors(self):
        name = self.name("url")
        self.create(name)
        cors = {"AllowCredentials": True, "AllowHeaders": ["x-custom-header", "Date"],
                "AllowMethods": ["GET", "POST", "DELETE"], "AllowOrigins": ["https://www.example.com", "*"],
                "ExposeHeaders": ["keep-alive"], "MaxAge": 86400}
        created = self.lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=cors)
        self.assertEqual(created["Cors"], cors)
        self.assertEqual(self.lam.get_function_url_config(FunctionName=name)["Cors"], cors)
        new = {"AllowOrigins": ["http://localhost:60905"], "MaxAge": 0}
        up = self.lam.update_function_url_config(FunctionName=name, Cors=new)
        self.assertEqual(up["Cors"], new)
        self.assertEqual(self.lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"][0]["Cors"], new)
        # the model's limits, with AWS's validation messages
        bad = [
            ({"MaxAge": 86401}, "cors.maxAge", "Member must have value less than or equal to 86400"),
            ({"MaxAge": -1}, "cors.maxAge", "Member must have value greater than or equal to 0"),
            ({"AllowMethods": ["GET"] * 7}, "cors.allowMethods", "Member must have length less than or equal to 6"),
            ({"AllowMethods": ["OPTIONS"]}, "cors.allowMethods", "Member must have length less than or equal to 6"),
            ({"AllowOrigins": ["o"] * 101}, "cors.allowOrigins", "Member must have length less than or equal to 100"),
            ({"AllowOrigins": ["o" * 254]}, "cors.allowOrigins", "Member must have length less than or equal to 253"),
            ({"AllowHeaders": ["h"] * 101}, "cors.allowHeaders", "Member must have length less than or equal to 100"),
            ({"ExposeHeaders": ["h" * 1025]}, "cors.exposeHeaders", "Member must have length less than or equal to 1024"),
        ]
        for c, where, text in bad:
            err = self.assertError("ValidationException", self.raw.update_function_url_config, FunctionName=name,
                                   Cors=c, status=400)
            msg = err["Error"]["Message"]
            self.assertTrue(msg.startswith("1 validation error detected: "), msg)
            self.assertIn(where, msg)
            self.assertIn(text, msg)
        self.assertEqual(self.lam.get_function_url_config(FunctionName=name)["Cors"], new)

    def test_wire_format(self):
        name = self.name("url")
        self.create(name)
        self.lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        with urllib.request.urlopen(self.server.endpoint + "/2021-10-31/functions/%s/url" % name) as r:
            body = json.loads(r.read())
        self.assertEqual(list(body), ["FunctionUrl", "FunctionArn", "AuthType", "CreationTime", "LastModifiedTime",
                                      "InvokeMode"])


class TestQualifiers(UrlTestCase):
    def test_exceptions(self):
        name = self.fn_with_alias("urlalias")
        fake = fn_arn("doesnotexist")
        qual_err = "1 validation error detected: Value '%s' at 'qualifier' failed to satisfy constraint: " \
                   "Member must satisfy regular expression pattern: " + QUAL_PATTERN
        for op, missing in ((self.raw.create_function_url_config, NO_FUNCTION),
                            (self.raw.update_function_url_config, NO_FUNCTION),
                            (self.raw.get_function_url_config, NO_RESOURCE),
                            (self.raw.delete_function_url_config, NO_RESOURCE)):
            extra = {"AuthType": "NONE"} if op == self.raw.create_function_url_config else {}
            self.assertError("ResourceNotFoundException", op, FunctionName="doesnotexist", message=missing, **extra)
            self.assertError("ResourceNotFoundException", op, FunctionName=fake, message=missing, **extra)
            for q in ("1", "2", "$LATEST"):
                self.assertError("ValidationException", op, FunctionName=name, Qualifier=q, message=qual_err % q,
                                 status=400, **extra)
            self.assertError("ResourceNotFoundException", op, FunctionName=name, Qualifier="urlaliasdoesnotexist",
                             message=missing, **extra)
            self.assertError("InvalidParameterValueException", op, FunctionName=fn_arn(name, "urlalias"),
                             Qualifier="urlaliasdoesnotexist", message=MISMATCH, **extra)
            if op != self.raw.create_function_url_config:
                # the function exists but has no URL config
                self.assertError("ResourceNotFoundException", op, FunctionName=name, message=NO_RESOURCE)

    def test_alias_urls_and_list_paging(self):
        name = self.fn_with_alias("urlalias")
        self.assertEqual(strip(self.lam.list_function_url_configs(FunctionName=name)), {"FunctionUrlConfigs": []})
        self.assertError("ResourceNotFoundException", self.lam.list_function_url_configs, FunctionName="doesnotexist",
                         message=NO_FUNCTION)
        fn = strip(self.lam.create_function_url_config(FunctionName=name, AuthType="NONE"))
        al = strip(self.lam.create_function_url_config(FunctionName=name, Qualifier="urlalias", AuthType="NONE"))
        self.assertEqual(al["FunctionArn"], fn_arn(name, "urlalias"))
        self.assertNotEqual(al["FunctionUrl"], fn["FunctionUrl"])
        self.assertError("ResourceConflictException", self.lam.create_function_url_config,
                         FunctionName=name + ":urlalias", AuthType="NONE", message=conflict(fn_arn(name, "urlalias")))
        listed = self.lam.list_function_url_configs(FunctionName=name)
        self.assertEqual([c["FunctionArn"] for c in listed["FunctionUrlConfigs"]], [fn_arn(name), fn_arn(name, "urlalias")])
        self.assertEqual(listed["FunctionUrlConfigs"][0],
                         dict(fn, InvokeMode="BUFFERED", LastModifiedTime=fn["CreationTime"]))
        self.assertNotIn("NextMarker", listed)
        page = self.lam.list_function_url_configs(FunctionName=name, MaxItems=1)
        self.assertEqual(len(page["FunctionUrlConfigs"]), 1)
        page2 = self.lam.list_function_url_configs(FunctionName=name, MaxItems=1, Marker=page["NextMarker"])
        self.assertEqual([c["FunctionArn"] for c in page2["FunctionUrlConfigs"]], [fn_arn(name, "urlalias")])
        self.assertNotIn("NextMarker", page2)
        pages = self.lam.get_paginator("list_function_url_configs").paginate(
            FunctionName=name, PaginationConfig={"PageSize": 1})
        self.assertEqual(sum(len(p["FunctionUrlConfigs"]) for p in pages), 2)

    def test_delete_without_qualifier_keeps_alias_url(self):
        name = self.fn_with_alias("test-alias")
        self.lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        al = strip(self.lam.create_function_url_config(FunctionName=name, Qualifier="test-alias", AuthType="NONE"))
        self.lam.delete_function_url_config(FunctionName=name)
        self.assertError("ResourceNotFoundException", self.lam.get_function_url_config, FunctionName=name,
                         message=NO_RESOURCE)
        got = strip(self.lam.get_function_url_config(FunctionName=name, Qualifier="test-alias"))
        self.assertEqual(got["FunctionUrl"], al["FunctionUrl"])

    def test_deleted_with_alias_and_function(self):
        name = self.fn_with_alias("a")
        self.lam.create_alias(FunctionName=name, Name="ab", FunctionVersion="1")
        self.lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        ab = self.lam.create_function_url_config(FunctionName=name, Qualifier="ab", AuthType="NONE")
        fn_url = self.lam.get_function_url_config(FunctionName=name)["FunctionUrl"]
        # deleting alias "a" (no URL) leaves alias "ab"'s URL alone
        self.lam.delete_alias(FunctionName=name, Name="a")
        self.assertEqual(self.lam.get_function_url_config(FunctionName=name, Qualifier="ab")["FunctionUrl"],
                         ab["FunctionUrl"])
        self.lam.delete_alias(FunctionName=name, Name="ab")
        self.assertError("ResourceNotFoundException", self.lam.get_function_url_config, FunctionName=name,
                         Qualifier="ab", message=NO_RESOURCE)
        self.assertEqual(self.lam.get_function_url_config(FunctionName=name)["FunctionUrl"], fn_url)
        self.lam.delete_function(FunctionName=name)
        self.create(name)
        self.assertEqual(self.lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"], [])

    def test_version_in_function_name(self):
        name = self.fn_with_alias("live")
        self.assertError("ResourceNotFoundException", self.lam.create_function_url_config, FunctionName=name + ":1",
                         AuthType="NONE", message=NO_FUNCTION)
        self.assertError("ResourceNotFoundException", self.lam.get_function_url_config, FunctionName=name + ":1",
                         message=NO_RESOURCE)


class TestCliAndRestart(UrlTestCase):
    def test_cli(self):
        name = self.name("url")
        self.create(name)
        out = self.server.cli("create-function-url-config", "--function-name", name, "--auth-type", "NONE",
                              "--cors", "AllowOrigins=*,MaxAge=60")
        self.assertRegex(out["FunctionUrl"], self.url_re())
        self.assertEqual(out["Cors"], {"AllowOrigins": ["*"], "MaxAge": 60})
        out = self.server.cli("list-function-url-configs", "--function-name", name)
        self.assertEqual(len(out["FunctionUrlConfigs"]), 1)
        self.server.cli("delete-function-url-config", "--function-name", name)
        p = self.server.cli("get-function-url-config", "--function-name", name, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(NO_RESOURCE, p.stderr)

    def test_survives_kill9(self):
        name = self.fn_with_alias("live")
        fn = strip(self.lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM",
                                                       Cors={"AllowOrigins": ["*"]}, InvokeMode="RESPONSE_STREAM"))
        al = strip(self.lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE"))
        srv = self.server
        srv.kill9()
        srv.start()
        got = strip(self.lam.get_function_url_config(FunctionName=name))
        self.assertEqual(got, dict(fn, LastModifiedTime=fn["CreationTime"]))
        self.assertEqual(strip(self.lam.get_function_url_config(FunctionName=name, Qualifier="live"))["FunctionUrl"],
                         al["FunctionUrl"])
        self.assertError("ResourceConflictException", self.lam.create_function_url_config, FunctionName=name,
                         AuthType="NONE")


if __name__ == "__main__":
    unittest.main()
