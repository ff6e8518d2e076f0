"""Layers: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, DeleteLayerVersion,
ListLayers, ListLayerVersions, Add/RemoveLayerVersionPermission, GetLayerVersionPolicy, and
functions that reference layer versions.

Shapes and messages are AWS's, from the TestLambdaLayer recordings
(reference/aws-recordings/test_lambda_api.snapshot.json) and docs/aws-facts.md.
"""
import base64
import hashlib
import io
import json
import os
import re
import tempfile
import urllib.request
import zipfile

import test_s3_code
from harness import ACCOUNT, REGION, ROLE, LambdadTestCase, Server, make_zip

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
NOT_FOUND = "The resource you requested does not exist."
LESS_THAN_1 = "Layer Version Cannot be less than 1"
PRECONDITION = ("The Revision Id provided does not match the latest Revision Id. "
                "Call the GetLayerPolicy API to retrieve the latest Revision Id")
SUPPORTED = ("nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, "
             "python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, "
             "nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2")
FILTER_RUNTIMES = (
    "ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, dotnetcore2.0, "
    "python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, dotnetcore3.1, dotnet8, "
    "java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, go1.9, byol, nodejs10.x, "
    "provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, "
    "nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, "
    "nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7")
LAYER_ARN_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}"
                     r":layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)")
LAYER_ZIP = make_zip({"python/lib.py": "X = 1\n"})


def layer_arn(name, version=None, account=ACCOUNT, region=REGION):
    arn = "arn:aws:lambda:%s:%s:layer:%s" % (region, account, name)
    return "%s:%d" % (arn, version) if version is not None else arn


def strip(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    return resp


class LayerTestCase(LambdadTestCase):
    def publish(self, name, zip_bytes=LAYER_ZIP, **kw):
        return self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_bytes}, **kw)


class TestPublishAndGet(LayerTestCase):
    def test_publish_shape(self):
        name = self.name("ly")
        resp = self.publish(name, Description="my layer", LicenseInfo="MIT",
                            CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        resp = strip(resp)
        self.assertEqual(set(resp), {"Content", "LayerArn", "LayerVersionArn", "Description", "CreatedDate",
                                     "Version", "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"})
        self.assertEqual(resp["LayerArn"], layer_arn(name))
        self.assertEqual(resp["LayerVersionArn"], layer_arn(name, 1))
        self.assertEqual(resp["Version"], 1)
        self.assertEqual(resp["Description"], "my layer")
        self.assertEqual(resp["LicenseInfo"], "MIT")
        self.assertEqual(resp["CompatibleRuntimes"], ["python3.12"])
        self.assertEqual(resp["CompatibleArchitectures"], ["x86_64"])
        self.assertRegex(resp["CreatedDate"], DATE)
        self.assertEqual(set(resp["Content"]), {"Location", "CodeSha256", "CodeSize"})
        self.assertEqual(resp["Content"]["CodeSha256"],
                         base64.b64encode(hashlib.sha256(LAYER_ZIP).digest()).decode())
        self.assertEqual(resp["Content"]["CodeSize"], len(LAYER_ZIP))
        # the Location downloads exactly the archive
        with urllib.request.urlopen(resp["Content"]["Location"], timeout=10) as r:
            self.assertEqual(r.read(), LAYER_ZIP)

    def test_publish_defaults(self):
        # nothing given: no compatibility lists, no license, empty description (test_layer_s3_content)
        name = self.name("ly")
        resp = strip(self.publish(name))
        self.assertEqual(set(resp), {"Content", "LayerArn", "LayerVersionArn", "Description", "CreatedDate",
                                     "Version"})
        self.assertEqual(resp["Description"], "")
        # empty lists are kept (publish_empty_result)
        resp = strip(self.publish(name, CompatibleRuntimes=[], CompatibleArchitectures=[]))
        self.assertEqual(resp["CompatibleRuntimes"], [])
        self.assertEqual(resp["CompatibleArchitectures"], [])
        self.assertEqual(resp["Version"], 2)

    def test_deprecated_runtimes_accepted(self):
        runtimes = ["java25", "java21", "java17", "java11", "java8.al2", "java8", "dotnet10", "dotnet8", "dotnet6",
                    "dotnetcore3.1", "go1.x", "ruby3.4", "ruby3.3", "ruby3.2", "ruby2.7"]
        resp = self.publish(self.name("ly"), CompatibleRuntimes=runtimes, CompatibleArchitectures=["arm64", "x86_64"])
        self.assertEqual(resp["CompatibleRuntimes"], runtimes)
        self.assertEqual(resp["CompatibleArchitectures"], ["arm64", "x86_64"])

    def test_publish_validation(self):
        name = self.name("ly")
        self.assertError("ValidationException", self.publish, name, CompatibleRuntimes=["invalidruntime"],
                         CompatibleArchitectures=["invalidarch"], status=400,
                         message="2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' "
                                 "failed to satisfy constraint: Member must satisfy enum value set: [%s]; Value "
                                 "'[invalidarch]' at 'compatibleArchitectures' failed to satisfy constraint: Member "
                                 "must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
                                 "Member must not be null]" % SUPPORTED)
        self.assertError("ValidationException", self.publish, name,
                         CompatibleRuntimes=["invalidruntime", "invalidruntime2", "nodejs20.x"],
                         CompatibleArchitectures=["invalidarch", "x86_64"],
                         message="2 validation errors detected: Value '[invalidruntime, invalidruntime2, nodejs20.x]' "
                                 "at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum "
                                 "value set: [%s]; Value '[invalidarch, x86_64]' at 'compatibleArchitectures' failed "
                                 "to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
                                 "value set: [x86_64, arm64], Member must not be null]" % SUPPORTED)
        self.assertError("ValidationException", self.publish, name, CompatibleRuntimes=["nope"],
                         message="1 validation error detected: Value '[nope]' at 'compatibleRuntimes' failed to "
                                 "satisfy constraint: Member must satisfy enum value set: [%s]" % SUPPORTED)
        # nothing was published
        self.assertEqual(self.lam.list_layer_versions(LayerName=name)["LayerVersions"], [])

    def test_bad_content(self):
        name = self.name("ly")
        self.assertError("InvalidParameterValueException", self.publish, name, zip_bytes=b"not a zip",
                         message="Could not unzip uploaded file. Please check your file, then try to upload again.")
        self.assertError("InvalidParameterValueException", self.lam.publish_layer_version, LayerName=name,
                         Content={}, message="Please provide a source for function code.")

    def test_get_and_get_by_arn(self):
        name = self.name("ly")
        pub = strip(self.publish(name, Description="d", CompatibleRuntimes=["python3.12"]))
        got = self.lam.get_layer_version(LayerName=name, VersionNumber=1)
        self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 200)
        got = strip(got)
        for r in (pub, got):
            r["Content"].pop("Location")
        self.assertEqual(got, pub)
        by_arn = strip(self.lam.get_layer_version_by_arn(Arn=layer_arn(name, 1)))
        by_arn["Content"].pop("Location")
        self.assertEqual(by_arn, pub)
        # the layer ARN works as LayerName too
        by_layer_arn = strip(self.lam.get_layer_version(LayerName=layer_arn(name), VersionNumber=1))
        self.assertEqual(by_layer_arn["LayerVersionArn"], layer_arn(name, 1))

    def test_get_errors(self):
        name = self.name("ly")
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version, LayerName=name, VersionNumber=1,
                         message=NOT_FOUND, status=404)
        self.publish(name)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version, LayerName=name, VersionNumber=2,
                         message=NOT_FOUND, status=404)
        for v in (0, -1):
            self.assertError("InvalidParameterValueException", self.lam.get_layer_version, LayerName=name,
                             VersionNumber=v, message=LESS_THAN_1, status=400)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version_by_arn, Arn=layer_arn(name, 2),
                         message=NOT_FOUND, status=404)
        self.assertError("ValidationException", self.lam.get_layer_version_by_arn, Arn=layer_arn(name),
                         message="1 validation error detected: Value '%s' at 'arn' failed to satisfy constraint: "
                                 "Member must satisfy regular expression pattern: %s"
                                 % (layer_arn(name), LAYER_ARN_PATTERN))

    def test_delete_and_numbers_never_reused(self):
        name = self.name("ly")
        self.publish(name)
        self.publish(name)
        resp = self.lam.delete_layer_version(LayerName=name, VersionNumber=2)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version, LayerName=name, VersionNumber=2,
                         message=NOT_FOUND)
        self.assertEqual(self.publish(name)["Version"], 3)
        for v in (1, 3):
            self.lam.delete_layer_version(LayerName=name, VersionNumber=v)
        self.assertEqual(self.lam.list_layer_versions(LayerName=name)["LayerVersions"], [])
        self.assertEqual(self.publish(name)["Version"], 4)
        # deleting what does not exist succeeds; version < 1 does not
        for args in ((name, 9), (self.name("nolayer"), 1), (name, 4), (name, 4)):
            resp = self.lam.delete_layer_version(LayerName=args[0], VersionNumber=args[1])
            self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("InvalidParameterValueException", self.lam.delete_layer_version, LayerName=name,
                         VersionNumber=0, message=LESS_THAN_1, status=400)

    def test_account_settings_count_layers(self):
        before = self.lam.get_account_settings()["AccountUsage"]["TotalCodeSize"]
        name = self.name("ly")
        self.publish(name)
        self.publish(name)
        after = self.lam.get_account_settings()["AccountUsage"]["TotalCodeSize"]
        self.assertEqual(after - before, 2 * len(LAYER_ZIP))
        self.lam.delete_layer_version(LayerName=name, VersionNumber=1)
        self.assertEqual(self.lam.get_account_settings()["AccountUsage"]["TotalCodeSize"] - before, len(LAYER_ZIP))


class TestListing(LayerTestCase):
    def test_list_layer_versions(self):
        name = self.name("ly")
        self.publish(name, Description="one", LicenseInfo="MIT", CompatibleRuntimes=["python3.12"],
                     CompatibleArchitectures=["x86_64"])
        self.publish(name, Description="two", CompatibleRuntimes=["nodejs20.x"], CompatibleArchitectures=["arm64"])
        self.publish(name, Description="three")
        resp = self.lam.list_layer_versions(LayerName=name)
        self.assertNotIn("NextMarker", resp)
        items = resp["LayerVersions"]
        self.assertEqual([i["Version"] for i in items], [3, 2, 1])  # newest first
        self.assertEqual(set(items[2]), {"LayerVersionArn", "Version", "Description", "CreatedDate",
                                         "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"})
        self.assertEqual(items[2]["LayerVersionArn"], layer_arn(name, 1))
        self.assertEqual(items[2]["LicenseInfo"], "MIT")
        self.assertEqual(set(items[0]), {"LayerVersionArn", "Version", "Description", "CreatedDate"})
        # filters
        f = self.lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]
        self.assertEqual([i["Version"] for i in f], [1])
        f = self.lam.list_layer_versions(LayerName=name, CompatibleArchitecture="arm64")["LayerVersions"]
        self.assertEqual([i["Version"] for i in f], [2])
        f = self.lam.list_layer_versions(LayerName=name, CompatibleRuntime="nodejs20.x",
                                         CompatibleArchitecture="x86_64")["LayerVersions"]
        self.assertEqual(f, [])
        # by ARN, and an unknown layer is an empty list
        self.assertEqual(len(self.lam.list_layer_versions(LayerName=layer_arn(name))["LayerVersions"]), 3)
        resp = self.lam.list_layer_versions(LayerName=self.name("nolayer"))
        self.assertEqual(strip(resp), {"LayerVersions": []})

    def test_listing_follows_changes(self):
        """Listings are answered from parsed documents and list items kept beside the store's cache
        (issue 20): each change is seen by the next listing, the items stay the same across repeats."""
        name = self.name("ly")
        self.publish(name, Description="one")
        self.publish(name, Description="two")
        first = self.lam.list_layer_versions(LayerName=name)["LayerVersions"]
        again = self.lam.list_layer_versions(LayerName=name)["LayerVersions"]
        self.assertEqual(first, again)
        self.assertEqual([(i["Version"], i["Description"]) for i in first], [(2, "two"), (1, "one")])
        self.publish(name, Description="three")
        got = self.lam.list_layer_versions(LayerName=name)["LayerVersions"]
        self.assertEqual([(i["Version"], i["Description"]) for i in got], [(3, "three"), (2, "two"), (1, "one")])
        self.assertEqual(got[1:], first)
        latest = [l for l in self.lam.list_layers()["Layers"] if l["LayerName"] == name]
        self.assertEqual([l["LatestMatchingVersion"]["Version"] for l in latest], [3])
        # a permission changes the version's policy, not its list item
        self.lam.add_layer_version_permission(LayerName=name, VersionNumber=2, StatementId="s1",
                                              Action="lambda:GetLayerVersion", Principal="*")
        self.assertEqual(self.lam.list_layer_versions(LayerName=name)["LayerVersions"], got)
        self.lam.delete_layer_version(LayerName=name, VersionNumber=3)
        got = self.lam.list_layer_versions(LayerName=name)["LayerVersions"]
        self.assertEqual([i["Version"] for i in got], [2, 1])
        latest = [l for l in self.lam.list_layers()["Layers"] if l["LayerName"] == name]
        self.assertEqual([l["LatestMatchingVersion"]["Version"] for l in latest], [2])
        self.lam.delete_layer_version(LayerName=name, VersionNumber=1)
        self.assertEqual([i["Version"] for i in self.lam.list_layer_versions(LayerName=name)["LayerVersions"]], [2])

    def test_list_layer_versions_paging(self):
        name = self.name("ly")
        for _ in range(5):
            self.publish(name)
        seen, marker, pages = [], None, 0
        while pages < 10:
            kw = {"Marker": marker} if marker else {}
            resp = self.lam.list_layer_versions(LayerName=name, MaxItems=2, **kw)
            pages += 1
            self.assertLessEqual(len(resp["LayerVersions"]), 2)
            seen += [i["Version"] for i in resp["LayerVersions"]]
            marker = resp.get("NextMarker")
            if not marker:
                break
        self.assertEqual(seen, [5, 4, 3, 2, 1])
        self.assertEqual(pages, 3)
        # the paginator of the SDK walks the same pages
        pag = self.lam.get_paginator("list_layer_versions")
        got = [i["Version"] for p in pag.paginate(LayerName=name, PaginationConfig={"PageSize": 2})
               for i in p["LayerVersions"]]
        self.assertEqual(got, [5, 4, 3, 2, 1])

    def test_list_filter_validation(self):
        for op in (self.lam.list_layers, lambda **kw: self.lam.list_layer_versions(LayerName="x", **kw)):
            self.assertError("ValidationException", op, CompatibleRuntime="runtimedoesnotexist", status=400,
                             message="1 validation error detected: Value 'runtimedoesnotexist' at "
                                     "'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum "
                                     "value set: [%s]" % FILTER_RUNTIMES)
            self.assertError("ValidationException", op, CompatibleArchitecture="archdoesnotexist",
                             message="1 validation error detected: Value 'archdoesnotexist' at "
                                     "'compatibleArchitecture' failed to satisfy constraint: Member must satisfy "
                                     "enum value set: [x86_64, arm64]")

    def test_list_layers(self):
        # a fresh server: ListLayers sees every layer of the account
        server = Server().start()
        try:
            lam = server.client()
            z = {"ZipFile": LAYER_ZIP}
            lam.publish_layer_version(LayerName="a-layer", Content=z, CompatibleRuntimes=["python3.12"])
            lam.publish_layer_version(LayerName="a-layer", Content=z, CompatibleRuntimes=["nodejs20.x"],
                                      Description="newest")
            lam.publish_layer_version(LayerName="b-layer", Content=z, CompatibleArchitectures=["arm64"])
            lam.publish_layer_version(LayerName="c-gone", Content=z)
            lam.delete_layer_version(LayerName="c-gone", VersionNumber=1)
            resp = lam.list_layers()
            self.assertNotIn("NextMarker", resp)
            layers = resp["Layers"]
            self.assertEqual([l["LayerName"] for l in layers], ["a-layer", "b-layer"])
            a = layers[0]
            self.assertEqual(set(a), {"LayerName", "LayerArn", "LatestMatchingVersion"})
            self.assertEqual(a["LayerArn"], layer_arn("a-layer"))
            self.assertEqual(set(a["LatestMatchingVersion"]),
                             {"LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes"})
            self.assertEqual(a["LatestMatchingVersion"]["Version"], 2)
            self.assertEqual(a["LatestMatchingVersion"]["Description"], "newest")
            # the latest version that matches the filters
            f = lam.list_layers(CompatibleRuntime="python3.12")["Layers"]
            self.assertEqual([(l["LayerName"], l["LatestMatchingVersion"]["Version"]) for l in f], [("a-layer", 1)])
            f = lam.list_layers(CompatibleArchitecture="arm64")["Layers"]
            self.assertEqual([l["LayerName"] for l in f], ["b-layer"])
            # paging
            p1 = lam.list_layers(MaxItems=1)
            self.assertEqual([l["LayerName"] for l in p1["Layers"]], ["a-layer"])
            p2 = lam.list_layers(MaxItems=1, Marker=p1["NextMarker"])
            self.assertEqual([l["LayerName"] for l in p2["Layers"]], ["b-layer"])
            self.assertNotIn("NextMarker", p2)
            # other regions have their own layers
            self.assertEqual(server.client(region="eu-west-1").list_layers()["Layers"], [])
        finally:
            server.cleanup()


class TestPermissions(LayerTestCase):
    def add(self, name, sid, version=1, principal="*", **kw):
        return self.lam.add_layer_version_permission(LayerName=name, VersionNumber=version, StatementId=sid,
                                                     Action="lambda:GetLayerVersion", Principal=principal, **kw)

    def test_policy_lifecycle(self):
        name = self.name("ly")
        self.publish(name)
        arn = layer_arn(name, 1)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version_policy, LayerName=name,
                         VersionNumber=1, message="No policy is associated with the given resource.", status=404)
        resp = self.add(name, "s1")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertRegex(resp["RevisionId"], UUID)
        s1 = {"Sid": "s1", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion", "Resource": arn}
        self.assertEqual(resp["Statement"], json.dumps(s1, separators=(",", ":")))
        pol = self.lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
        self.assertEqual(pol["RevisionId"], resp["RevisionId"])
        self.assertEqual(pol["Policy"], json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": [s1]},
                                                   separators=(",", ":")))
        r2 = self.add(name, "s2", principal="123456789012", RevisionId=resp["RevisionId"])
        self.assertNotEqual(r2["RevisionId"], resp["RevisionId"])
        s2 = json.loads(r2["Statement"])
        self.assertEqual(s2["Principal"], {"AWS": "arn:aws:iam::123456789012:root"})
        r3 = self.add(name, "s3", principal="arn:aws:iam::210987654321:root", OrganizationId="o-abcdefghij")
        s3 = json.loads(r3["Statement"])
        self.assertEqual(list(s3), ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"])
        self.assertEqual(s3["Principal"], {"AWS": "arn:aws:iam::210987654321:root"})
        self.assertEqual(s3["Condition"], {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})
        doc = json.loads(self.lam.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])
        self.assertEqual([s["Sid"] for s in doc["Statement"]], ["s1", "s2", "s3"])
        # remove
        resp = self.lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s2")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        pol = self.lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
        self.assertNotEqual(pol["RevisionId"], r3["RevisionId"])
        self.assertEqual([s["Sid"] for s in json.loads(pol["Policy"])["Statement"]], ["s1", "s3"])
        for sid in ("s1", "s3"):
            self.lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId=sid)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version_policy, LayerName=name,
                         VersionNumber=1, message="No policy is associated with the given resource.")
        # policies belong to one version
        self.publish(name)
        self.add(name, "only2", version=2)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version_policy, LayerName=name,
                         VersionNumber=1, message="No policy is associated with the given resource.")

    def test_policy_errors(self):
        name = self.name("ly")
        self.publish(name)
        rev = self.add(name, "s1")["RevisionId"]
        self.assertError("ValidationException", self.lam.add_layer_version_permission, LayerName=name,
                         VersionNumber=1, StatementId="s9", Action="*", Principal="*",
                         message="1 validation error detected: Value '*' at 'action' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion")
        self.assertError("ResourceConflictException", self.add, name, "s1", status=409,
                         message="The statement id (s1) provided already exists. Please provide a new statement "
                                 "id, or remove the existing statement.")
        self.assertError("PreconditionFailedException", self.add, name, "s2", RevisionId="wrong", status=412,
                         message=PRECONDITION)
        self.assertError("PreconditionFailedException", self.lam.remove_layer_version_permission, LayerName=name,
                         VersionNumber=1, StatementId="s1", RevisionId="wrong", status=412, message=PRECONDITION)
        self.assertError("ResourceNotFoundException", self.lam.remove_layer_version_permission, LayerName=name,
                         VersionNumber=1, StatementId="doesnotexist", status=404,
                         message="Statement doesnotexist is not found in resource policy.")
        # the failed calls changed nothing
        self.assertEqual(self.lam.get_layer_version_policy(LayerName=name, VersionNumber=1)["RevisionId"], rev)
        for lname, v in ((name + "-doesnotexist", 1), (name, 2)):
            msg = "Layer version %s does not exist." % layer_arn(lname, v)
            self.assertError("ResourceNotFoundException", self.add, lname, "s1", version=v, message=msg, status=404)
            self.assertError("ResourceNotFoundException", self.lam.get_layer_version_policy, LayerName=lname,
                             VersionNumber=v, message=msg)
            self.assertError("ResourceNotFoundException", self.lam.remove_layer_version_permission, LayerName=lname,
                             VersionNumber=v, StatementId="s1", message=msg)
        # a policy goes with its version
        self.lam.delete_layer_version(LayerName=name, VersionNumber=1)
        self.assertError("ResourceNotFoundException", self.lam.get_layer_version_policy, LayerName=name,
                         VersionNumber=1, message="Layer version %s does not exist." % layer_arn(name, 1))


class TestFunctionLayers(LayerTestCase):
    def test_function_references_layers(self):
        a, b = self.name("ly"), self.name("ly")
        self.publish(a)
        big = make_zip({"python/data.txt": "y" * 5000})
        self.publish(b, zip_bytes=big)
        fn = self.name()
        created = self.create(fn, Layers=[layer_arn(a, 1)])
        self.assertEqual(created["Layers"], [{"Arn": layer_arn(a, 1), "CodeSize": len(LAYER_ZIP)}])
        self.settled(fn)
        upd = self.lam.update_function_configuration(FunctionName=fn, Layers=[layer_arn(b, 1), layer_arn(a, 1)])
        self.assertEqual(upd["Layers"], [{"Arn": layer_arn(b, 1), "CodeSize": len(big)},
                                         {"Arn": layer_arn(a, 1), "CodeSize": len(LAYER_ZIP)}])
        self.settled(fn)
        self.assertEqual(self.lam.get_function(FunctionName=fn)["Configuration"]["Layers"], upd["Layers"])
        # a deleted layer version stays referenced
        self.lam.delete_layer_version(LayerName=b, VersionNumber=1)
        self.assertEqual(self.lam.get_function_configuration(FunctionName=fn)["Layers"], upd["Layers"])
        # but it cannot be referenced again
        self.assertError("InvalidParameterValueException", self.lam.update_function_configuration, FunctionName=fn,
                         Layers=[layer_arn(b, 1)], message="Layer version %s does not exist." % layer_arn(b, 1))
        # an empty list removes them
        self.settled(fn)
        upd = self.lam.update_function_configuration(FunctionName=fn, Layers=[])
        self.assertNotIn("Layers", upd)

    def test_function_layer_errors(self):
        name = self.name("ly")
        for _ in range(3):
            self.publish(name)
        fn = self.name()
        two = "Two different versions of the same layer are not allowed to be referenced in the same function. " \
              "%s and %s are versions of the same layer."
        self.assertError("InvalidParameterValueException", self.create, fn,
                         Layers=[layer_arn(name, 1), layer_arn(name, 2)], status=400,
                         message=two % (layer_arn(name, 1), layer_arn(name, 2)))
        self.assertError("InvalidParameterValueException", self.create, fn,
                         Layers=[layer_arn(name, 1), layer_arn(name, 2), layer_arn(name, 3)],
                         message=two % (layer_arn(name, 1), layer_arn(name, 2)))
        self.assertError("InvalidParameterValueException", self.create, fn,
                         Layers=[layer_arn(name, 1), layer_arn(name, 1)],
                         message=two % (layer_arn(name, 1), layer_arn(name, 1)))
        self.assertError("InvalidParameterValueException", self.create, fn, Layers=[layer_arn("doesnotexist", 1)],
                         message="Layer version %s does not exist." % layer_arn("doesnotexist", 1))
        self.assertError("InvalidParameterValueException", self.create, fn, Layers=[layer_arn(name, 9)],
                         message="Layer version %s does not exist." % layer_arn(name, 9))
        self.assertError("InvalidParameterValueException", self.create, fn,
                         Layers=[layer_arn(name, 1, region="eu-west-1")],
                         message="Layers are not in the same region as the function. Layers are expected to be "
                                 "in region %s." % REGION)
        six = [layer_arn("l%d" % i, 1) for i in range(6)]
        self.assertError("InvalidParameterValueException", self.create, fn, Layers=six,
                         message="Cannot reference more than 5 layers.")
        self.assertError("ValidationException", self.create, fn, Layers=[layer_arn(name)],
                         message="1 validation error detected: Value '[%s]' at 'layers' failed to satisfy "
                                 "constraint: Member must satisfy constraint: [Member must have length less than or "
                                 "equal to 2048, Member must have length greater than or equal to 1, Member must "
                                 "satisfy regular expression pattern: %s, Member must not be null]"
                         % (layer_arn(name), LAYER_ARN_PATTERN))
        # none of these created the function
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=fn)

    def test_unzipped_limit_with_layers(self):
        # 2 x 132,000,000 bytes unzipped > 262,144,000 with any function code
        payload = b"\0" * 132000000
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("python/zeros.bin", payload)
        big = buf.getvalue()
        del payload
        a, b = self.name("ly"), self.name("ly")
        self.publish(a, zip_bytes=big)
        self.publish(b, zip_bytes=big)
        code = "def handler(event, context):\n    return event\n"
        fn = self.name()
        self.assertError("InvalidParameterValueException", self.create, fn, Code={"ZipFile": make_zip({"app.py": code})},
                         Layers=[layer_arn(a, 1), layer_arn(b, 1)],
                         message="Function code combined with layers exceeds the maximum allowed size of 262144000 "
                                 "bytes. The actual size is %d bytes." % (len(code) + 2 * 132000000))
        # one of them fits; adding the second by configuration does not
        self.create(fn, Layers=[layer_arn(a, 1)])
        self.settled(fn)
        self.assertError("InvalidParameterValueException", self.lam.update_function_configuration, FunctionName=fn,
                         Layers=[layer_arn(a, 1), layer_arn(b, 1)],
                         message="Function code combined with layers exceeds the maximum allowed size of 262144000 "
                                 "bytes. The actual size is %d bytes." % (len(code) + 2 * 132000000))


class TestLayerFromS3(test_s3_code.TestS3Code):
    """Layer content from S3: the moto server of test_s3_code, and only the tests below."""

    def test_publish_from_s3(self):
        self.put("layers/l.zip", LAYER_ZIP)
        name = self.name("ly")
        resp = self.lam.publish_layer_version(LayerName=name, Content={"S3Bucket": self.bucket,
                                                                       "S3Key": "layers/l.zip"})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(resp["Content"]["CodeSize"], len(LAYER_ZIP))
        self.assertEqual(resp["Content"]["CodeSha256"],
                         base64.b64encode(hashlib.sha256(LAYER_ZIP).digest()).decode())
        with urllib.request.urlopen(resp["Content"]["Location"], timeout=10) as r:
            self.assertEqual(r.read(), LAYER_ZIP)
        self.assertError("InvalidParameterValueException", self.lam.publish_layer_version, LayerName=name,
                         Content={"S3Bucket": self.bucket, "S3Key": "layers/missing.zip"},
                         message="Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                                 "The specified key does not exist.")
        self.assertEqual(len(self.lam.list_layer_versions(LayerName=name)["LayerVersions"]), 1)


# the S3 class runs its own tests in test_s3_code; here only the layer ones
for _n in dir(test_s3_code.TestS3Code):
    if _n.startswith("test") and _n not in TestLayerFromS3.__dict__:
        setattr(TestLayerFromS3, _n, None)


class TestCrossAccount(LambdadTestCase):
    """Layers of account 111111111111 used from this server's account (same data directory)."""

    def test_other_account_layers(self):
        other = "111111111111"
        owner = Server(extra_args=["--account-id", other]).start()
        try:
            lam = owner.client()
            z = {"ZipFile": LAYER_ZIP}
            for n in ("priv", "acct", "star", "org"):
                lam.publish_layer_version(LayerName=n, Content=z)
            add = dict(VersionNumber=1, StatementId="s", Action="lambda:GetLayerVersion")
            lam.add_layer_version_permission(LayerName="acct", Principal=ACCOUNT, **add)
            lam.add_layer_version_permission(LayerName="star", Principal="*", **add)
            lam.add_layer_version_permission(LayerName="org", Principal="*", OrganizationId="o-abcdefghij", **add)
            owner.stop()
            user = Server(data_dir=owner.data_dir).start()
            try:
                ul = user.client()

                def denied(action, arn):
                    return ("User: arn:aws:iam::%s:root is not authorized to perform: lambda:%s on resource: %s "
                            "because no resource-based policy allows the lambda:%s action"
                            % (ACCOUNT, action, arn, action))

                for n in ("acct", "star"):
                    arn = layer_arn(n, 1, account=other)
                    self.assertEqual(ul.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"], arn)
                    fn = self.name()
                    resp = ul.create_function(FunctionName=fn, Runtime="python3.12", Handler="app.handler",
                                              Role=ROLE, Code={"ZipFile": make_zip()}, Layers=[arn])
                    self.assertEqual(resp["Layers"], [{"Arn": arn, "CodeSize": len(LAYER_ZIP)}])
                for n in ("priv", "org", "missing"):
                    arn = layer_arn(n, 1, account=other)
                    with self.assertRaises(ul.exceptions.ClientError) as cm:
                        ul.create_function(FunctionName=self.name(), Runtime="python3.12", Handler="app.handler",
                                           Role=ROLE, Code={"ZipFile": make_zip()}, Layers=[arn])
                    err = cm.exception.response
                    self.assertEqual(err["Error"]["Code"], "AccessDeniedException")
                    self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 403)
                    self.assertEqual(err["Error"]["Message"], denied("GetLayerVersion", arn))
                    with self.assertRaises(ul.exceptions.ClientError) as cm:
                        ul.get_layer_version(LayerName=layer_arn(n, account=other), VersionNumber=1)
                    self.assertEqual(cm.exception.response["Error"]["Message"], denied("GetLayerVersion", arn))
                with self.assertRaises(ul.exceptions.ClientError) as cm:
                    ul.list_layer_versions(LayerName=layer_arn("star", account=other))
                self.assertEqual(cm.exception.response["Error"]["Message"],
                                 denied("ListLayerVersions", layer_arn("star", account=other)))
                # this account's listing does not show the other account's layers
                self.assertEqual(ul.list_layers()["Layers"], [])
            finally:
                user.stop()
        finally:
            owner.cleanup()


class TestPersistence(LayerTestCase):
    def test_kill9(self):
        name = self.name("ly")
        self.publish(name, Description="kept", CompatibleRuntimes=["python3.12"])
        self.publish(name)
        self.lam.delete_layer_version(LayerName=name, VersionNumber=2)
        rev = self.lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1",
                                                    Action="lambda:GetLayerVersion", Principal="*")["RevisionId"]
        fn = self.name()
        self.create(fn, Layers=[layer_arn(name, 1)])
        before = strip(self.lam.get_layer_version(LayerName=name, VersionNumber=1))
        policy = strip(self.lam.get_layer_version_policy(LayerName=name, VersionNumber=1))
        self.server.kill9()
        self.server.start()
        after = strip(self.lam.get_layer_version(LayerName=name, VersionNumber=1))
        for r in (before, after):
            r["Content"].pop("Location")
        self.assertEqual(after, before)
        self.assertEqual(strip(self.lam.get_layer_version_policy(LayerName=name, VersionNumber=1)), policy)
        self.assertEqual(policy["RevisionId"], rev)
        self.assertEqual([v["Version"] for v in self.lam.list_layer_versions(LayerName=name)["LayerVersions"]], [1])
        # the counter survived: 2 is not reused
        self.assertEqual(self.publish(name)["Version"], 3)
        self.assertEqual(self.lam.get_function_configuration(FunctionName=fn)["Layers"],
                         [{"Arn": layer_arn(name, 1), "CodeSize": len(LAYER_ZIP)}])


class TestCli(LayerTestCase):
    def test_cli_flow(self):
        name = self.name("ly")
        with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as f:
            f.write(LAYER_ZIP)
        try:
            pub = self.server.cli("publish-layer-version", "--layer-name", name, "--zip-file", "fileb://" + f.name,
                                  "--compatible-runtimes", "python3.12", "python3.11",
                                  "--compatible-architectures", "arm64")
        finally:
            os.unlink(f.name)
        self.assertEqual(pub["LayerVersionArn"], layer_arn(name, 1))
        self.assertEqual(pub["CompatibleRuntimes"], ["python3.12", "python3.11"])
        self.assertEqual(pub["Content"]["CodeSize"], len(LAYER_ZIP))
        got = self.server.cli("get-layer-version-by-arn", "--arn", layer_arn(name, 1))
        self.assertEqual(got["CompatibleArchitectures"], ["arm64"])
        self.server.cli("add-layer-version-permission", "--layer-name", name, "--version-number", "1",
                        "--statement-id", "xaccount", "--action", "lambda:GetLayerVersion",
                        "--principal", "111122223333")
        pol = self.server.cli("get-layer-version-policy", "--layer-name", name, "--version-number", "1")
        self.assertEqual(json.loads(pol["Policy"])["Statement"][0]["Principal"],
                         {"AWS": "arn:aws:iam::111122223333:root"})
        listed = self.server.cli("list-layer-versions", "--layer-name", name)
        self.assertEqual([v["Version"] for v in listed["LayerVersions"]], [1])
        self.server.cli("delete-layer-version", "--layer-name", name, "--version-number", "1")
        p = self.server.cli("get-layer-version", "--layer-name", name, "--version-number", "1", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceNotFoundException", p.stderr)
