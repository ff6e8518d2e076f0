"""A function URL on an alias goes through the one door, as Invoke does: the alias's
RoutingConfig weights pick the version for each request, and a version that is not Active is
refused (ResourceConflictException, in the function URL's envelope) instead of being run."""
import http.client
import json
import time

from harness import ROLE, LambdadTestCase, make_zip


def code(text):
    return make_zip({"app.py": "def handler(event, context):\n    return {'v': %r}\n" % text})


class TestUrlOnAlias(LambdadTestCase):
    def get(self, host, path="/"):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            c.request("GET", path, headers={"Host": host})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def public_url(self, name, alias):
        cfg = self.lam.create_function_url_config(FunctionName=name, Qualifier=alias, AuthType="NONE")
        self.lam.add_permission(FunctionName=name, Qualifier=alias, StatementId="public",
                                Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE")
        return cfg["FunctionUrl"].split("//")[1].rstrip("/")

    def test_weighted_alias_follows_the_weights(self):
        name = self.name("wurl")
        self.create(name, Code={"ZipFile": code("one")})
        self.settled(name)
        v1 = self.lam.publish_version(FunctionName=name)["Version"]
        self.lam.update_function_code(FunctionName=name, ZipFile=code("two"))
        self.settled(name)
        v2 = self.lam.publish_version(FunctionName=name)["Version"]
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v1,
                              RoutingConfig={"AdditionalVersionWeights": {v2: 0.5}})
        host = self.public_url(name, "live")
        seen = {}
        for _ in range(60):
            status, _, body = self.get(host)
            self.assertEqual(status, 200, body)
            v = json.loads(body)["v"]
            seen[v] = seen.get(v, 0) + 1
        # 60 draws at 50%: both versions answer (a miss has probability 2 * 2^-60)
        self.assertEqual(set(seen), {"one", "two"}, seen)

    def test_version_that_is_not_active_is_refused(self):
        name = self.name("furl")
        self.lam.create_function(FunctionName=name, Runtime="java21", Handler="a.B::c", Role=ROLE,
                                 Code={"ZipFile": make_zip()})
        self.final_state(name)
        v = self.lam.publish_version(FunctionName=name)["Version"]
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name, Qualifier=v)["State"], "Failed")
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
        host = self.public_url(name, "live")
        status, h, body = self.get(host)
        self.assertEqual(status, 409, body)
        self.assertEqual(h["x-amzn-errortype"], "ResourceConflictException")
        self.assertEqual(json.loads(body), {"Message": "The operation cannot be performed at this time. The function "
                                                       "is currently in the following state: Failed"})
