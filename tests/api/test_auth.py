"""Authentication and accounts (issue 7): SigV4 verification in --auth enforce mode through boto3,
the AWS CLI and raw HTTP; the key store and `lambdad keys`; permissive mode; account isolation
and cross-account access through resource policies (functions and layers); AWS_IAM function URLs."""
import datetime
import http.client
import json
import os
import stat
import subprocess
import time
import unittest
import urllib.error
import urllib.request
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from harness import BIN, LambdadTestCase, REGION, Server, make_zip

A, B, C = "111111111111", "222222222222", "333333333333"
ECHO = make_zip({"app.py": "import json\n"
                           "def handler(event, context):\n"
                           "    return {'event': event, 'arn': context.invoked_function_arn}\n"})
LAYER_ZIP = make_zip({"python/mod.py": "X = 1\n"})
def role(account):
    """An execution role of `account`: AWS refuses to pass a role of another account."""
    return "arn:aws:iam::%s:role/lambda-role" % account


DENIED = ("User: %s is not authorized to perform: %s on resource: %s "
          "because no resource-based policy allows the %s action")


def raw(port, method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def signed_headers(key, method, url, body=b"", region=REGION, service="lambda", when=None, headers=None):
    """SigV4 headers for a request, signed by botocore (optionally at another time)."""
    creds = botocore.credentials.Credentials(key["AccessKeyId"], key["SecretAccessKey"], key.get("SessionToken"))
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = botocore.auth.SigV4Auth(creds, service, region)
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    return dict(req.headers.items())


class EnforceCase(LambdadTestCase):
    server_args = ["--auth", "enforce"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key_a = cls.server.create_key(A)
        cls.key_b = cls.server.create_key(B)
        cls.key_c = cls.server.create_key(C, user_name="carol")
        cls.la = cls.server.client_for(cls.key_a)
        cls.lb = cls.server.client_for(cls.key_b)
        cls.lc = cls.server.client_for(cls.key_c)

    def err(self, fn, *args, **kw):
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            fn(*args, **kw)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def make_fn(self, client, name=None, account=A, **kw):
        """A function created by `client`, a client of `account`."""
        name = name or self.name()
        client.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=role(account),
                               Code={"ZipFile": ECHO}, **kw)
        return name


class TestSignatures(EnforceCase):
    def test_startup_says_enforce(self):
        self.assertIn("auth: enforce", self.server.log())

    def test_signed_by_a_key_acts_as_its_account(self):
        name = self.make_fn(self.la)
        fn = self.la.get_function(FunctionName=name)["Configuration"]
        self.assertEqual(fn["FunctionArn"], "arn:aws:lambda:%s:%s:function:%s" % (REGION, A, name))
        # the region is the credential scope's
        eu = self.server.client_for(self.key_a, region="eu-west-1")
        n2 = self.make_fn(eu)
        self.assertTrue(eu.get_function(FunctionName=n2)["Configuration"]["FunctionArn"].startswith(
            "arn:aws:lambda:eu-west-1:%s:" % A))

    def test_unsigned_is_missing_authentication_token(self):
        status, h, body = raw(self.server.port, "GET", "/2015-03-31/functions/")
        self.assertEqual(status, 403)
        self.assertEqual(h["x-amzn-errortype"], "MissingAuthenticationTokenException")
        self.assertEqual(json.loads(body), {"message": "Missing Authentication Token"})
        # the default test credentials are not a key of the store either
        self.assertEqual(self.err(self.lam.list_functions),
                         ("UnrecognizedClientException", "The security token included in the request is invalid.",
                          403))

    def test_wrong_secret_is_invalid_signature(self):
        bad = self.server.client_for(dict(self.key_a, SecretAccessKey="x" * 40))
        code, msg, status = self.err(bad.list_functions)
        self.assertEqual((code, status), ("InvalidSignatureException", 403))
        self.assertEqual(msg, "The request signature we calculated does not match the signature you provided. "
                              "Check your AWS Secret Access Key and signing method. Consult the service "
                              "documentation for details.")

    def test_tampered_body_is_invalid_signature(self):
        name = self.make_fn(self.la)
        url = self.server.endpoint + "/2015-03-31/functions/%s/invocations" % name
        h = signed_headers(self.key_a, "POST", url, body=b'{"a":1}')
        status, hd, body = raw(self.server.port, "POST", "/2015-03-31/functions/%s/invocations" % name,
                               headers=h, body=b'{"a":2}')
        self.assertEqual((status, hd["x-amzn-errortype"]), (403, "InvalidSignatureException"), body)
        status, _, body = raw(self.server.port, "POST", "/2015-03-31/functions/%s/invocations" % name,
                              headers=h, body=b'{"a":1}')
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["event"], {"a": 1})

    def test_clock_skew_is_signature_expired(self):
        url = self.server.endpoint + "/2015-03-31/functions/"
        old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
        status, h, body = raw(self.server.port, "GET", "/2015-03-31/functions/",
                              headers=signed_headers(self.key_a, "GET", url, when=old))
        self.assertEqual((status, h["x-amzn-errortype"]), (403, "InvalidSignatureException"))
        self.assertTrue(json.loads(body)["message"].startswith("Signature expired: " + old.strftime("%Y%m%dT%H%M%SZ")
                                                               + " is now earlier than "), body)
        ok = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
        status, _, body = raw(self.server.port, "GET", "/2015-03-31/functions/",
                              headers=signed_headers(self.key_a, "GET", url, when=ok))
        self.assertEqual(status, 200, body)

    def test_wrong_service_in_scope(self):
        url = self.server.endpoint + "/2015-03-31/functions/"
        status, h, body = raw(self.server.port, "GET", "/2015-03-31/functions/",
                              headers=signed_headers(self.key_a, "GET", url, service="s3"))
        self.assertEqual((status, h["x-amzn-errortype"]), (403, "InvalidSignatureException"), body)

    def test_incomplete_signature(self):
        status, h, body = raw(self.server.port, "GET", "/2015-03-31/functions/",
                              headers={"Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/lambda/"
                                                        "aws4_request" % self.key_a["AccessKeyId"],
                                       "X-Amz-Date": "20260101T000000Z"})
        self.assertEqual((status, h["x-amzn-errortype"]), (403, "IncompleteSignatureException"), body)

    def test_presigned_url(self):
        name = self.make_fn(self.la)
        url = self.la.generate_presigned_url("get_function", Params={"FunctionName": name}, ExpiresIn=60)
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(json.loads(r.read())["Configuration"]["FunctionName"], name)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10)
        self.assertEqual(cm.exception.code, 403)

    def test_aws_cli_with_a_key(self):
        name = self.make_fn(self.la)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.key_a["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=self.key_a["SecretAccessKey"], AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
        p = subprocess.run(["aws", "--endpoint-url", self.server.endpoint, "lambda", "get-function",
                            "--function-name", name], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["Configuration"]["FunctionName"], name)
        env["AWS_SECRET_ACCESS_KEY"] = "wrong" * 8
        p = subprocess.run(["aws", "--endpoint-url", self.server.endpoint, "lambda", "list-functions"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidSignatureException", p.stderr)


class TestKeyStore(EnforceCase):
    def test_keys_take_effect_on_a_running_server(self):
        key = self.server.create_key(A)
        c = self.server.client_for(key)
        c.list_functions()  # at once, no restart
        listed = self.server.keys("list", "--account-id", A)["AccessKeyMetadata"]
        self.assertIn(key["AccessKeyId"], [k["AccessKeyId"] for k in listed])
        self.assertTrue(all("SecretAccessKey" not in k for k in listed))
        self.server.keys("delete", key["AccessKeyId"])
        self.assertEqual(self.err(c.list_functions)[0], "UnrecognizedClientException")
        self.assertNotIn(key["AccessKeyId"],
                         [k["AccessKeyId"] for k in self.server.keys("list")["AccessKeyMetadata"]])

    def test_create_output_shape(self):
        key = self.server.create_key(B, user_name="bob")
        self.assertEqual(set(key), {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate",
                                    "AccountId", "PrincipalArn"})
        self.assertRegex(key["AccessKeyId"], r"^AKIA[A-Z2-7]{16}$")
        self.assertEqual(len(key["SecretAccessKey"]), 40)
        self.assertEqual((key["UserName"], key["Status"], key["AccountId"]), ("bob", "Active", B))
        self.assertEqual(key["PrincipalArn"], "arn:aws:iam::%s:user/bob" % B)
        p = subprocess.run([BIN, "keys", "create", "--account-id", "12", "--data-dir", self.server.data_dir],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("12 digits", p.stderr)

    def test_protected_at_rest_and_never_logged(self):
        key = self.server.create_key(A)
        self.server.client_for(key).list_functions()
        auth = os.path.join(self.server.data_dir, "auth")
        self.assertEqual(stat.S_IMODE(os.stat(auth).st_mode), 0o700)
        for f in ("keys.json", "master.key"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(auth, f)).st_mode), 0o600)
        with open(os.path.join(auth, "keys.json")) as f:
            text = f.read()
        self.assertIn(key["AccessKeyId"], text)
        self.assertNotIn(key["SecretAccessKey"], text)
        self.assertNotIn(key["SecretAccessKey"], self.server.log())

    def test_session_tokens(self):
        tmp = self.server.create_key(A, duration_seconds=900)
        self.assertRegex(tmp["AccessKeyId"], r"^ASIA")
        self.assertIn("SessionToken", tmp)
        self.server.client_for(tmp).list_functions()
        no_token = dict(tmp)
        del no_token["SessionToken"]
        self.assertEqual(self.err(self.server.client_for(no_token).list_functions)[0], "UnrecognizedClientException")
        t = tmp["SessionToken"]
        wrong = dict(tmp, SessionToken=("A" if t[0] != "A" else "B") + t[1:])
        self.assertEqual(self.err(self.server.client_for(wrong).list_functions)[0], "UnrecognizedClientException")
        # a long-term key with a token it does not have
        extra = dict(self.key_a, SessionToken="abc")
        self.assertEqual(self.err(self.server.client_for(extra).list_functions)[0], "UnrecognizedClientException")

    def test_expired_session_token(self):
        tmp = self.server.create_key(A, duration_seconds=1)
        time.sleep(2.1)  # the key's lifetime must pass: nothing else to wait on
        self.assertEqual(self.err(self.server.client_for(tmp).list_functions),
                         ("ExpiredTokenException", "The security token included in the request is expired", 403))


class TestAccounts(EnforceCase):
    def arn(self, name, account=A, qualifier=None):
        return "arn:aws:lambda:%s:%s:function:%s%s" % (REGION, account, name, ":" + qualifier if qualifier else "")

    def test_accounts_do_not_see_each_other(self):
        na = self.make_fn(self.la)
        self.assertIn(na, [f["FunctionName"] for f in self.la.list_functions()["Functions"]])
        self.assertNotIn(na, [f["FunctionName"] for f in self.lb.list_functions()["Functions"]])
        # the same name is another function in another account
        self.make_fn(self.lb, name=na, account=B)
        self.assertEqual(self.lb.get_function(FunctionName=na)["Configuration"]["FunctionArn"], self.arn(na, B))
        self.lb.delete_function(FunctionName=na)
        self.la.get_function(FunctionName=na)
        # another account's ARN: refused for every action without a policy
        for call in (self.lb.delete_function, self.lb.publish_version, self.lb.get_policy):
            self.assertEqual(self.err(call, FunctionName=self.arn(na))[0], "AccessDeniedException")
        self.assertEqual(self.err(self.lb.create_function, FunctionName=self.arn(self.name()), Runtime="python3.12",
                                  Handler="app.handler", Role=role(B), Code={"ZipFile": ECHO})[0],
                         "AccessDeniedException")

    def test_cross_account_invoke_and_get_function(self):
        name = self.make_fn(self.la)
        arn = self.arn(name)
        principal_b = "arn:aws:iam::%s:user/lambdad" % B
        self.assertEqual(self.err(self.lb.invoke, FunctionName=arn),
                         ("AccessDeniedException",
                          DENIED % (principal_b, "lambda:InvokeFunction", arn, "lambda:InvokeFunction"), 403))
        self.assertEqual(self.err(self.lb.get_function, FunctionName=arn),
                         ("AccessDeniedException",
                          DENIED % (principal_b, "lambda:GetFunction", arn, "lambda:GetFunction"), 403))
        self.la.add_permission(FunctionName=name, StatementId="b-invoke", Action="lambda:InvokeFunction",
                               Principal=B)
        out = json.loads(self.lb.invoke(FunctionName=arn, Payload=b'{"from":"b"}')["Payload"].read())
        self.assertEqual(out, {"event": {"from": "b"}, "arn": arn})
        # invoke only: GetFunction stays refused, and account C gets nothing
        self.assertEqual(self.err(self.lb.get_function, FunctionName=arn)[0], "AccessDeniedException")
        self.assertEqual(self.err(self.lc.invoke, FunctionName=arn)[2], 403)
        self.la.add_permission(FunctionName=name, StatementId="b-get", Action="lambda:GetFunction",
                               Principal="arn:aws:iam::%s:root" % B)
        got = self.lb.get_function(FunctionName=arn)
        self.assertEqual(got["Configuration"]["FunctionArn"], arn)
        self.assertIn("Location", got["Code"])
        # a service-principal statement (conditions a direct caller never meets) grants C nothing
        self.la.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                               Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket")
        self.assertEqual(self.err(self.lc.invoke, FunctionName=arn)[0], "AccessDeniedException")
        # a wildcard principal limited by a condition on the source account: no match either
        self.la.add_permission(FunctionName=name, StatementId="star", Action="lambda:InvokeFunction",
                               Principal="*", SourceAccount=B)
        self.assertEqual(self.err(self.lc.invoke, FunctionName=arn)[0], "AccessDeniedException")
        # revoked: refused again
        self.la.remove_permission(FunctionName=name, StatementId="b-invoke")
        self.assertEqual(self.err(self.lb.invoke, FunctionName=arn)[0], "AccessDeniedException")

    def test_cross_account_alias_permission(self):
        name = self.make_fn(self.la)
        v = self.la.publish_version(FunctionName=name)["Version"]
        self.la.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
        self.la.add_permission(FunctionName=name, Qualifier="live", StatementId="b", Action="lambda:InvokeFunction",
                               Principal=B)
        out = json.loads(self.lb.invoke(FunctionName=self.arn(name, qualifier="live"))["Payload"].read())
        self.assertEqual(out["arn"], self.arn(name, qualifier="live"))
        # the alias's policy does not open the unqualified function or the version
        self.assertEqual(self.err(self.lb.invoke, FunctionName=self.arn(name))[0], "AccessDeniedException")
        self.assertEqual(self.err(self.lb.invoke, FunctionName=self.arn(name, qualifier=v))[0],
                         "AccessDeniedException")

    def test_wildcard_principal_and_action(self):
        name = self.make_fn(self.la)
        self.la.add_permission(FunctionName=name, StatementId="all", Action="lambda:*", Principal="*")
        self.assertEqual(self.lc.get_function_configuration(FunctionName=self.arn(name))["FunctionName"], name)
        self.lc.invoke(FunctionName=self.arn(name))

    def test_cross_account_layers(self):
        layer = self.name("layer")
        v = self.la.publish_layer_version(LayerName=layer, Content={"ZipFile": LAYER_ZIP})["Version"]
        larn = "arn:aws:lambda:%s:%s:layer:%s:%d" % (REGION, A, layer, v)
        self.assertEqual(self.err(self.lb.get_layer_version_by_arn, Arn=larn),
                         ("AccessDeniedException",
                          DENIED % ("arn:aws:iam::%s:user/lambdad" % B, "lambda:GetLayerVersion", larn,
                                    "lambda:GetLayerVersion"), 403))
        self.assertNotIn(layer, [x["LayerName"] for x in self.lb.list_layers()["Layers"]])
        self.la.add_layer_version_permission(LayerName=layer, VersionNumber=v, StatementId="b",
                                             Action="lambda:GetLayerVersion", Principal=B)
        self.assertEqual(self.lb.get_layer_version_by_arn(Arn=larn)["LayerVersionArn"], larn)
        fn = self.make_fn(self.lb, Layers=[larn], account=B)
        self.assertEqual(self.lb.get_function(FunctionName=fn)["Configuration"]["Layers"][0]["Arn"], larn)
        self.assertEqual(self.err(self.lc.get_layer_version_by_arn, Arn=larn)[0], "AccessDeniedException")
        # deleting another account's layer version is never granted
        self.assertEqual(self.err(self.lb.delete_layer_version, LayerName=larn.rsplit(":", 1)[0],
                                  VersionNumber=v)[0], "AccessDeniedException")


class TestFunctionCredentials(EnforceCase):
    """Functions get role credentials minted for their environment: they act as the function's account."""

    CREDS = make_zip({"app.py": "import os\ndef handler(e, c):\n    return {k: os.environ.get(k) for k in "
                                "('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}\n"})

    def test_minted_credentials_act_as_the_functions_account(self):
        name = self.name()
        self.la.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                Role="arn:aws:iam::%s:role/service-role/runner" % A, Code={"ZipFile": self.CREDS})
        env = json.loads(self.la.invoke(FunctionName=name)["Payload"].read())
        self.assertRegex(env["AWS_ACCESS_KEY_ID"], r"^ASIA[A-Z2-7]{16}$")
        self.assertTrue(env["AWS_SESSION_TOKEN"])
        # lambdad's own credentials (the harness starts it without any) are not what the function got
        key = {"AccessKeyId": env["AWS_ACCESS_KEY_ID"], "SecretAccessKey": env["AWS_SECRET_ACCESS_KEY"],
               "SessionToken": env["AWS_SESSION_TOKEN"]}
        fc = self.server.client_for(key)
        self.assertIn(name, [f["FunctionName"] for f in fc.list_functions()["Functions"]])
        other = self.make_fn(self.lb, account=B)
        code, msg, _ = self.err(fc.get_function, FunctionName="arn:aws:lambda:%s:%s:function:%s" % (REGION, B, other))
        self.assertEqual(code, "AccessDeniedException")
        self.assertTrue(msg.startswith("User: arn:aws:sts::%s:assumed-role/runner/%s is not authorized" % (A, name)),
                        msg)
        # not in the key store, and gone with the environment
        self.assertNotIn(env["AWS_ACCESS_KEY_ID"], json.dumps(self.server.keys("list")))
        self.la.delete_function(FunctionName=name)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                fc.list_functions()
            except self.lam.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "UnrecognizedClientException")
                break
            time.sleep(0.05)
        else:
            self.fail("the minted credentials outlived the function's environment")


class TestIamFunctionUrls(EnforceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fn = "iamurl-%d" % os.getpid()
        cls.la.create_function(FunctionName=cls.fn, Runtime="python3.12", Handler="app.handler", Role=role(A),
                               Code={"ZipFile": ECHO})
        url = cls.la.create_function_url_config(FunctionName=cls.fn, AuthType="AWS_IAM")["FunctionUrl"]
        cls.url_id = url.split("//")[1].split(".")[0]
        cls.path = "/_lambdad/url/%s/hello?x=1" % cls.url_id

    def call(self, key=None, body=b"", **kw):
        h = {}
        if key:
            h = signed_headers(key, "POST", self.server.endpoint + self.path, body=body, **kw)
        return raw(self.server.port, "POST", self.path, headers=h, body=body)

    def test_unsigned_and_bad_signatures_are_403(self):
        status, h, body = self.call()
        self.assertEqual((status, h["x-amzn-errortype"]), (403, "MissingAuthenticationTokenException"), body)
        status, h, body = self.call(dict(self.key_a, SecretAccessKey="y" * 40))
        self.assertEqual((status, h["x-amzn-errortype"]), (403, "InvalidSignatureException"), body)
        self.assertIn("Message", json.loads(body))

    def test_owner_account_invokes_and_sees_itself(self):
        status, _, body = self.call(self.key_a, body=b"hi")
        self.assertEqual(status, 200, body)
        ev = json.loads(body)["event"]
        self.assertEqual(ev["requestContext"]["accountId"], A)
        iam = ev["requestContext"]["authorizer"]["iam"]
        self.assertEqual(iam["accessKey"], self.key_a["AccessKeyId"])
        self.assertEqual(iam["accountId"], A)
        self.assertEqual(iam["userArn"], "arn:aws:iam::%s:user/lambdad" % A)
        self.assertRegex(iam["callerId"], r"^AIDA[A-Z2-7]{16}$")

    def test_other_account_needs_invoke_function_url_permission(self):
        status, h, body = self.call(self.key_b)
        self.assertEqual(status, 403, body)
        self.assertIn("Forbidden", json.loads(body)["Message"])
        # a statement for the NONE auth type does not count for an AWS_IAM URL
        self.la.add_permission(FunctionName=self.fn, StatementId="b-none", Action="lambda:InvokeFunctionUrl",
                               Principal=B, FunctionUrlAuthType="NONE")
        self.assertEqual(self.call(self.key_b)[0], 403)
        self.la.add_permission(FunctionName=self.fn, StatementId="b-iam", Action="lambda:InvokeFunctionUrl",
                               Principal=B, FunctionUrlAuthType="AWS_IAM")
        status, _, body = self.call(self.key_b)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]["accountId"], B)
        self.assertEqual(self.call(self.key_c)[0], 403)

    def test_none_url_keeps_its_policy_requirement(self):
        fn = self.make_fn(self.la)
        url = self.la.create_function_url_config(FunctionName=fn, AuthType="NONE")["FunctionUrl"]
        path = "/_lambdad/url/%s/" % url.split("//")[1].split(".")[0]
        self.assertEqual(raw(self.server.port, "GET", path)[0], 403)
        self.la.add_permission(FunctionName=fn, StatementId="pub", Action="lambda:InvokeFunctionUrl", Principal="*",
                               FunctionUrlAuthType="NONE")
        status, _, body = raw(self.server.port, "GET", path)
        self.assertEqual(status, 200, body)


class TestPermissive(LambdadTestCase):
    """The default on a loopback address: signatures parsed, not verified."""

    def test_startup_says_permissive(self):
        self.assertIn("auth: permissive", self.server.log())

    def test_unsigned_and_unknown_keys_use_the_default_account(self):
        status, _, body = raw(self.server.port, "GET", "/2015-03-31/functions/")
        self.assertEqual(status, 200, body)
        name = self.name()
        self.create(name)
        self.assertIn(":000000000000:function:", self.lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])

    def test_a_known_key_id_selects_its_account_without_the_secret(self):
        key = self.server.create_key(A)
        c = self.server.client_for(dict(key, SecretAccessKey="not-the-secret"))
        name = self.name()
        c.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=role(A),
                          Code={"ZipFile": ECHO})
        self.assertTrue(c.get_function(FunctionName=name)["Configuration"]["FunctionArn"].startswith(
            "arn:aws:lambda:%s:%s:" % (REGION, A)))
        self.assertNotIn(name, [f["FunctionName"] for f in self.lam.list_functions()["Functions"]])


if __name__ == "__main__":
    unittest.main()
