"""Black-box tests of PublishVersion and ListVersionsByFunction: numbering,
idempotent re-publish, preconditions, the Description copy, immutability of
published versions, list order, qualified ARNs and paging.

Expected values come from docs/aws-facts.md (recorded AWS responses)."""
import base64
import hashlib
import urllib.request

from harness import ACCOUNT, REGION, LambdadTestCase, make_zip

ARN_PREFIX = "arn:aws:lambda:%s:%s:function:" % (REGION, ACCOUNT)
LIST_OMITTED = {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
                "LastUpdateStatusReasonCode", "RuntimeVersionConfig"}
PRECONDITION_MSG = ("The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id")


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class TestPublishVersion(LambdadTestCase):
    def test_publish_shape_and_revisions(self):
        name = self.name()
        self.create(name, Description="No version :(")
        latest = self.lam.get_function_configuration(FunctionName=name)
        v = self.lam.publish_version(FunctionName=name)
        self.assertEqual(v.pop("ResponseMetadata")["HTTPStatusCode"], 201)
        self.assertEqual(v["Version"], "1")
        self.assertEqual(v["FunctionArn"], ARN_PREFIX + name + ":1")
        self.assertEqual(v["State"], "Active")
        self.assertEqual(v["LastUpdateStatus"], "Successful")
        for k in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
            self.assertNotIn(k, v)
        self.assertIn("RuntimeVersionConfig", v)
        self.assertEqual(v["Description"], "No version :(")  # copied from $LATEST
        self.assertEqual(v["CodeSha256"], latest["CodeSha256"])
        self.assertNotEqual(v["RevisionId"], latest["RevisionId"])
        for k in ("Runtime", "Handler", "Role", "MemorySize", "Timeout", "CodeSize", "LoggingConfig",
                  "SnapStart", "EphemeralStorage", "TracingConfig", "Architectures", "PackageType",
                  "FunctionName"):
            self.assertEqual(v[k], latest[k], k)
        # $LATEST gets a new RevisionId; the version keeps its own once active
        after = self.lam.get_function_configuration(FunctionName=name)
        self.assertNotEqual(after["RevisionId"], latest["RevisionId"])
        got = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        got.pop("ResponseMetadata")
        self.assertEqual(got, v)

    def test_publish_on_create_then_republish(self):
        name = self.name()
        created = self.create(name, Publish=True)
        v1 = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual(v1["State"], "Active")
        self.assertEqual(v1["LastUpdateStatus"], "Successful")
        latest = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(len({created["RevisionId"], latest["RevisionId"], v1["RevisionId"]}), 3)
        again = self.lam.publish_version(FunctionName=name)
        self.assertEqual(again["Version"], "1")
        self.assertEqual(again["RevisionId"], v1["RevisionId"])
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["RevisionId"],
                         latest["RevisionId"])

    def test_pending_version_keeps_revision_when_active(self):
        name = self.name()
        self.create(name)
        resp = self.lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": "p = 1\n"}),
                                             Publish=True)
        self.assertEqual(resp["State"], "Pending")
        v1 = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual(v1["State"], "Active")
        self.assertEqual(v1["RevisionId"], resp["RevisionId"])
        latest = self.lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
        self.assertNotEqual(latest["RevisionId"], resp["RevisionId"])

    def test_description_given(self):
        name = self.name()
        self.create(name, Description="latest desc")
        v = self.lam.publish_version(FunctionName=name, Description="First version description :)")
        self.assertEqual(v["Description"], "First version description :)")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Description"], "latest desc")

    def test_republish_without_change_is_idempotent(self):
        name = self.name()
        self.create(name)
        v1 = self.lam.publish_version(FunctionName=name, Description="one")
        rev_latest = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        again = self.lam.publish_version(FunctionName=name, Description="another description")
        self.assertEqual(again.pop("ResponseMetadata")["HTTPStatusCode"], 201)
        v1.pop("ResponseMetadata")
        self.assertEqual(again, v1)
        self.assertEqual(again["Description"], "one")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["RevisionId"], rev_latest)
        versions = [x["Version"] for x in self.lam.list_versions_by_function(FunctionName=name)["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1"])
        # a configuration change makes the next publish a new version
        self.lam.update_function_configuration(FunctionName=name, MemorySize=256)
        v2 = self.lam.publish_version(FunctionName=name)
        self.assertEqual(v2["Version"], "2")
        self.assertEqual(v2["MemorySize"], 256)
        self.assertEqual(v2["Description"], "")  # $LATEST's, not version 1's
        # a code change too
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": "z = 1\n"}))
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "3")

    def test_published_version_is_immutable(self):
        name = self.name()
        z1 = make_zip({"app.py": "v = 1\n"})
        z2 = make_zip({"app.py": "v = 2\n"})
        self.create(name, Code={"ZipFile": z1}, Environment={"Variables": {"ENV_A": "a"}})
        v1 = self.lam.publish_version(FunctionName=name)
        self.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"ENV_A": "b"}},
                                               Timeout=9)
        self.lam.update_function_code(FunctionName=name, ZipFile=z2)
        got = self.lam.get_function(FunctionName=name, Qualifier="1")
        cfg = got["Configuration"]
        self.assertEqual(cfg["Environment"], {"Variables": {"ENV_A": "a"}})
        self.assertEqual(cfg["Timeout"], 3)
        self.assertEqual(cfg["CodeSha256"], sha256_b64(z1))
        self.assertEqual(cfg["RevisionId"], v1["RevisionId"])
        with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as r:
            self.assertEqual(r.read(), z1)
        latest = self.lam.get_function(FunctionName=name)
        self.assertEqual(latest["Configuration"]["CodeSha256"], sha256_b64(z2))
        self.assertEqual(latest["Configuration"]["Timeout"], 9)

    def test_preconditions(self):
        name = self.name()
        created = self.create(name)
        sha = created["CodeSha256"]
        err = self.assertError("InvalidParameterValueException", self.lam.publish_version, FunctionName=name,
                               CodeSha256="somenonexistentsha256", status=400,
                               message="CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 "
                                       "in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST." % sha)
        self.assertEqual(err["Type"], "User")
        err = self.assertError("PreconditionFailedException", self.lam.publish_version, FunctionName=name,
                               RevisionId="wrong", status=412, message=PRECONDITION_MSG)
        self.assertEqual(err["Type"], "User")
        # nothing was published by the refused calls
        self.assertEqual([x["Version"] for x in self.lam.list_versions_by_function(FunctionName=name)["Versions"]],
                         ["$LATEST"])
        rev = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        v = self.lam.publish_version(FunctionName=name, CodeSha256=sha, RevisionId=rev)
        self.assertEqual(v["Version"], "1")

    def test_publish_missing_function(self):
        self.assertError("ResourceNotFoundException", self.lam.publish_version, FunctionName="no-such-fn",
                         status=404, message="Function not found: %sno-such-fn" % ARN_PREFIX)
        self.assertError("ResourceNotFoundException", self.lam.list_versions_by_function,
                         FunctionName="no-such-fn", status=404,
                         message="Function not found: %sno-such-fn" % ARN_PREFIX)

    def test_publish_by_arn(self):
        name = self.name()
        self.create(name)
        v = self.lam.publish_version(FunctionName=ARN_PREFIX + name)
        self.assertEqual(v["FunctionArn"], ARN_PREFIX + name + ":1")
        self.assertError("ResourceNotFoundException", self.lam.publish_version,
                         FunctionName="arn:aws:lambda:eu-west-1:%s:function:%s" % (ACCOUNT, name),
                         message="Functions from 'eu-west-1' are not reachable in this region ('us-east-1')")

    def test_cli_publish(self):
        name = self.name()
        self.create(name)
        out = self.server.cli("publish-version", "--function-name", name, "--description", "cli")
        self.assertEqual(out["Version"], "1")
        self.assertEqual(out["Description"], "cli")
        out = self.server.cli("list-versions-by-function", "--function-name", name)
        self.assertEqual([x["Version"] for x in out["Versions"]], ["$LATEST", "1"])


class TestListVersions(LambdadTestCase):
    N = 12  # more than 9, so that numeric order differs from text order

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fn = "versions-fn"
        cls.lam.create_function(FunctionName=cls.fn, Runtime="python3.12", Handler="app.handler",
                                Role="arn:aws:iam::000000000000:role/lambda-role", Code={"ZipFile": make_zip()},
                                Environment={"Variables": {"ENV_A": "a"}})
        cls.published = []
        for i in range(1, cls.N + 1):
            cls.lam.update_function_configuration(FunctionName=cls.fn, Description="d%d" % i)
            cls.published.append(cls.lam.publish_version(FunctionName=cls.fn))
        # a function whose name extends the first one's must not leak into its list
        cls.lam.create_function(FunctionName=cls.fn + "-2", Runtime="python3.12", Handler="app.handler",
                                Role="arn:aws:iam::000000000000:role/lambda-role", Code={"ZipFile": make_zip()},
                                Publish=True)

    def test_order_and_shape(self):
        resp = self.lam.list_versions_by_function(FunctionName=self.fn)
        self.assertNotIn("NextMarker", resp)
        items = resp["Versions"]
        self.assertEqual([x["Version"] for x in items], ["$LATEST"] + [str(i) for i in range(1, self.N + 1)])
        self.assertEqual(items[0]["FunctionArn"], ARN_PREFIX + self.fn + ":$LATEST")
        for i, x in enumerate(items[1:], 1):
            self.assertEqual(x["FunctionArn"], "%s%s:%d" % (ARN_PREFIX, self.fn, i))
            self.assertEqual(x["Description"], "d%d" % i)
            self.assertEqual(x["RevisionId"], self.published[i - 1]["RevisionId"])
        for x in items:
            self.assertFalse(LIST_OMITTED & set(x), x)
            self.assertEqual(x["Environment"], {"Variables": {"ENV_A": "a"}})
            self.assertEqual(x["LoggingConfig"], {"LogFormat": "Text", "LogGroup": "/aws/lambda/" + self.fn})
            self.assertEqual(x["SnapStart"], {"ApplyOn": "None", "OptimizationStatus": "Off"})
            self.assertEqual(x["FunctionName"], self.fn)

    def test_paging(self):
        seen, marker, pages = [], None, 0
        while True:
            kw = {"FunctionName": self.fn, "MaxItems": 5}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_versions_by_function(**kw)
            pages += 1
            self.assertLessEqual(len(page["Versions"]), 5)
            seen += [x["Version"] for x in page["Versions"]]
            marker = page.get("NextMarker")
            if not marker:
                break
            self.assertEqual(len(page["Versions"]), 5)
        self.assertEqual(pages, 3)
        self.assertEqual(seen, ["$LATEST"] + [str(i) for i in range(1, self.N + 1)])
        names = []
        for page in self.lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=self.fn, PaginationConfig={"PageSize": 4}):
            names += [x["Version"] for x in page["Versions"]]
        self.assertEqual(names, seen)

    def test_other_function_versions(self):
        items = self.lam.list_versions_by_function(FunctionName=self.fn + "-2")["Versions"]
        self.assertEqual([x["FunctionArn"] for x in items],
                         [ARN_PREFIX + self.fn + "-2:$LATEST", ARN_PREFIX + self.fn + "-2:1"])

    def test_list_by_arn_forms(self):
        for fname in (ARN_PREFIX + self.fn, "%s:function:%s" % (ACCOUNT, self.fn)):
            items = self.lam.list_versions_by_function(FunctionName=fname, MaxItems=2)["Versions"]
            self.assertEqual([x["Version"] for x in items], ["$LATEST", "1"])
