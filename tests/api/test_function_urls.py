"""Function URLs served for real (buffered mode): both URL forms, the payload 2.0 event,
response mapping, AWS's errors, CORS and the auth rules."""
import base64
import http.client
import json
import unittest

from harness import LambdadTestCase, ROLE, make_zip

CODE = make_zip({"web.py": r'''
import base64, json
def handler(event, context):
    p = event["rawPath"]
    if p == "/plain":
        return {"hello": "world"}
    if p == "/string":
        return "just text"
    if p == "/bin":
        return {"statusCode": 201, "headers": {"content-type": "application/octet-stream", "x-a": "b"},
                "cookies": ["c1=v1", "c2=v2"], "body": base64.b64encode(b"\x00\x01\xff").decode(),
                "isBase64Encoded": True}
    if p == "/boom":
        raise Exception("boom")
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
'''})


class TestFunctionUrls(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fn = "web-%d" % id(cls)
        cls.lam.create_function(FunctionName=cls.fn, Runtime="python3.11", Handler="web.handler", Role=ROLE,
                                Code={"ZipFile": CODE})
        cfg = cls.lam.create_function_url_config(
            FunctionName=cls.fn, AuthType="NONE",
            Cors={"AllowOrigins": ["http://example.com"], "AllowMethods": ["GET", "POST"], "MaxAge": 60,
                  "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-a"]})
        cls.url = cfg["FunctionUrl"]
        cls.host = cls.url.split("//")[1].rstrip("/")
        cls.url_id = cls.host.split(".")[0]

    def request(self, path, method="GET", body=None, headers=None, host=None):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        hd = dict(headers or {})
        if host:
            hd["Host"] = host
        try:
            c.request(method, path, body=body, headers=hd)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.getheaders(), r.read()
        finally:
            c.close()

    def allow_public(self):
        try:
            self.lam.add_permission(FunctionName=self.fn, StatementId="public-url",
                                    Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE")
        except self.lam.exceptions.ResourceConflictException:
            pass

    def test_1_forbidden_without_public_policy(self):
        self.lam.remove_permission(FunctionName=self.fn, StatementId="public-url") if self.has_policy() else None
        status, h, _, body = self.request("/plain", host=self.host)
        self.assertEqual(status, 403)
        self.assertEqual(h["x-amzn-errortype"], "AccessDeniedException")
        self.assertEqual(json.loads(body)["Message"],
                         "Forbidden. For troubleshooting Function URL authorization issues, see: "
                         "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html")

    def has_policy(self):
        try:
            return "public-url" in self.lam.get_policy(FunctionName=self.fn)["Policy"]
        except self.lam.exceptions.ResourceNotFoundException:
            return False

    def test_unknown_url_is_403_null(self):
        status, h, _, body = self.request("/_lambdad/url/doesnotexist/x")
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body), {"Message": None})
        status, _, _, body = self.request("/x", host="nope0000000000000000000000000000.lambda-url.us-east-1.localhost")
        self.assertEqual(status, 403)

    def test_event_fields_host_form(self):
        self.allow_public()
        status, h, _, body = self.request("/echo/p?a=1&a=2&b=x%20y", method="POST", body='{"k":1}',
                                          headers={"Content-Type": "application/json", "Cookie": "x=1; y=2",
                                                   "X-Dup": "one", "User-Agent": "tester"}, host=self.host)
        self.assertEqual(status, 200, body)
        ev = json.loads(body)
        self.assertEqual(ev["version"], "2.0")
        self.assertEqual(ev["routeKey"], "$default")
        self.assertEqual(ev["rawPath"], "/echo/p")
        self.assertEqual(ev["rawQueryString"], "a=1&a=2&b=x%20y")
        self.assertEqual(ev["cookies"], ["x=1", "y=2"])
        self.assertEqual(ev["queryStringParameters"], {"a": "1,2", "b": "x y"})
        self.assertEqual(ev["body"], '{"k":1}')
        self.assertIs(ev["isBase64Encoded"], False)
        self.assertEqual(ev["headers"]["x-dup"], "one")
        self.assertNotIn("cookie", ev["headers"])
        ctx = ev["requestContext"]
        self.assertEqual(ctx["apiId"], self.url_id)
        self.assertEqual(ctx["domainPrefix"], self.url_id)
        self.assertEqual(ctx["domainName"], "%s.lambda-url.us-east-1.localhost" % self.url_id)
        self.assertEqual(ctx["accountId"], "anonymous")
        self.assertEqual(ctx["http"], {"method": "POST", "path": "/echo/p", "protocol": "HTTP/1.1",
                                       "sourceIp": "127.0.0.1", "userAgent": "tester"})
        self.assertEqual(ctx["stage"], "$default")
        self.assertRegex(ctx["time"], r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$")
        self.assertIsInstance(ctx["timeEpoch"], int)
        self.assertEqual(ctx["requestId"], h["x-amzn-requestid"])

    def test_path_form_and_binary_body(self):
        self.allow_public()
        status, _, _, body = self.request("/_lambdad/url/%s/echo?q=1" % self.url_id, method="PUT",
                                          body=b"\x00\x01binary", headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 200, body)
        ev = json.loads(body)
        self.assertEqual(ev["rawPath"], "/echo")
        self.assertEqual(ev["rawQueryString"], "q=1")
        self.assertIs(ev["isBase64Encoded"], True)
        self.assertEqual(base64.b64decode(ev["body"]), b"\x00\x01binary")
        status, _, _, body = self.request("/_lambdad/url/%s" % self.url_id)
        self.assertEqual(json.loads(body)["rawPath"], "/")

    def test_response_mapping(self):
        self.allow_public()
        status, h, raw, body = self.request("/_lambdad/url/%s/plain" % self.url_id)
        self.assertEqual((status, h["content-type"], json.loads(body)), (200, "application/json", {"hello": "world"}))
        status, h, raw, body = self.request("/_lambdad/url/%s/string" % self.url_id)
        self.assertEqual((status, body), (200, b"just text"))
        status, h, raw, body = self.request("/_lambdad/url/%s/bin" % self.url_id)
        self.assertEqual(status, 201)
        self.assertEqual(body, b"\x00\x01\xff")
        self.assertEqual(h["content-type"], "application/octet-stream")
        self.assertEqual(h["x-a"], "b")
        self.assertEqual([v for k, v in raw if k.lower() == "set-cookie"], ["c1=v1", "c2=v2"])

    def test_function_error_is_502(self):
        self.allow_public()
        status, _, _, body = self.request("/_lambdad/url/%s/boom" % self.url_id)
        self.assertEqual(status, 502)
        self.assertEqual(json.loads(body), {"Message": "Internal Server Error"})

    def test_cors_on_responses_and_preflight(self):
        self.allow_public()
        status, h, _, _ = self.request("/_lambdad/url/%s/plain" % self.url_id, headers={"Origin": "http://example.com"})
        self.assertEqual(h["access-control-allow-origin"], "http://example.com")
        self.assertEqual(h["access-control-expose-headers"], "x-a")
        status, h, _, _ = self.request("/_lambdad/url/%s/plain" % self.url_id, headers={"Origin": "http://evil.com"})
        self.assertNotIn("access-control-allow-origin", h)
        status, h, _, body = self.request("/_lambdad/url/%s/anything" % self.url_id, method="OPTIONS",
                                          headers={"Origin": "http://example.com",
                                                   "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 200)
        self.assertEqual(h["access-control-allow-methods"], "GET,POST")
        self.assertEqual(h["access-control-allow-headers"], "x-custom")
        self.assertEqual(h["access-control-max-age"], "60")

    def test_aws_iam_url_needs_a_signature(self):
        name = self.name("iam")
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Handler="web.handler", Role=ROLE,
                                 Code={"ZipFile": CODE})
        url = self.lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
        uid = url.split("//")[1].split(".")[0]
        status, _, _, _ = self.request("/_lambdad/url/%s/plain" % uid)
        self.assertEqual(status, 403)
        auth = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/lambda/aws4_request, "
                "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
        status, _, _, body = self.request("/_lambdad/url/%s/plain" % uid, headers={"Authorization": auth})
        self.assertEqual(status, 200, body)

    def test_alias_url_runs_the_alias(self):
        self.allow_public()
        v = self.lam.publish_version(FunctionName=self.fn)["Version"]
        self.lam.create_alias(FunctionName=self.fn, Name="live", FunctionVersion=v)
        url = self.lam.create_function_url_config(FunctionName=self.fn, Qualifier="live", AuthType="NONE")["FunctionUrl"]
        self.lam.add_permission(FunctionName=self.fn, Qualifier="live", StatementId="pub-live",
                                Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE")
        uid = url.split("//")[1].split(".")[0]
        status, _, _, body = self.request("/_lambdad/url/%s/plain" % uid)
        self.assertEqual((status, json.loads(body)), (200, {"hello": "world"}))


if __name__ == "__main__":
    unittest.main()
