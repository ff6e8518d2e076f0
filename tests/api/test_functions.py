"""Black-box tests of the function control plane: CreateFunction, GetFunction,
GetFunctionConfiguration, UpdateFunctionCode, UpdateFunctionConfiguration,
DeleteFunction and ListFunctions, through boto3 and the AWS CLI.

Expected values come from docs/aws-facts.md (recorded AWS responses)."""
import base64
import hashlib
import io
import os
import tempfile
import unittest
import urllib.error
import urllib.request
import zipfile

from harness import ACCOUNT, REGION, ROLE, LambdadTestCase, Server, make_zip

ARN_PREFIX = "arn:aws:lambda:%s:%s:function:" % (REGION, ACCOUNT)

# the keys of a Zip function's configuration as CreateFunction returns it (R)
CREATE_KEYS = {
    "Architectures", "CodeSha256", "CodeSize", "Description", "EphemeralStorage", "FunctionArn",
    "FunctionName", "Handler", "LastModified", "LoggingConfig", "MemorySize", "PackageType",
    "RevisionId", "Role", "Runtime", "RuntimeVersionConfig", "SnapStart", "State", "StateReason",
    "StateReasonCode", "Timeout", "TracingConfig", "Version",
}
LIST_OMITTED = {"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
                "LastUpdateStatusReasonCode", "RuntimeVersionConfig"}

RUNTIME_ENUM = ("nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
                "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
                "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2")
GET_NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
                    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?")
PRECONDITION_MSG = ("The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id")
ENV_MSG = ("Lambda was unable to configure your environment variables because the environment variables "
           "you have provided exceeded the 4KB limit. String measured: ")


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def download(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


def meta(resp):
    return resp.pop("ResponseMetadata")


class TestCreateFunction(LambdadTestCase):
    def test_create_response_shape_and_defaults(self):
        name = self.name()
        zipped = make_zip({"app.py": "def handler(e, c):\n    return 1\n"})
        resp = self.create(name, Code={"ZipFile": zipped})
        self.assertEqual(meta(resp)["HTTPStatusCode"], 201)
        self.assertEqual(set(resp), CREATE_KEYS)
        self.assertEqual(resp["FunctionName"], name)
        self.assertEqual(resp["FunctionArn"], ARN_PREFIX + name)
        self.assertEqual(resp["CodeSha256"], sha256_b64(zipped))
        self.assertEqual(resp["CodeSize"], len(zipped))
        self.assertEqual(resp["Description"], "")
        self.assertEqual(resp["MemorySize"], 128)
        self.assertEqual(resp["Timeout"], 3)
        self.assertEqual(resp["Architectures"], ["x86_64"])
        self.assertEqual(resp["EphemeralStorage"], {"Size": 512})
        self.assertEqual(resp["TracingConfig"], {"Mode": "PassThrough"})
        self.assertEqual(resp["PackageType"], "Zip")
        self.assertEqual(resp["Version"], "$LATEST")
        self.assertEqual(resp["SnapStart"], {"ApplyOn": "None", "OptimizationStatus": "Off"})
        self.assertEqual(resp["LoggingConfig"], {"LogFormat": "Text", "LogGroup": "/aws/lambda/" + name})
        self.assertEqual(resp["State"], "Pending")
        self.assertEqual(resp["StateReason"], "The function is being created.")
        self.assertEqual(resp["StateReasonCode"], "Creating")
        self.assertEqual(resp["Role"], ROLE)
        self.assertEqual(resp["Handler"], "app.handler")
        self.assertEqual(resp["Runtime"], "python3.12")
        self.assertRegex(resp["RuntimeVersionConfig"]["RuntimeVersionArn"],
                         r"^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$")
        self.assertRegex(resp["RevisionId"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertRegex(resp["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")

    def test_pending_becomes_active_with_new_revision(self):
        name = self.name()
        created = self.create(name)
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(cfg["State"], "Active")
        self.assertEqual(cfg["LastUpdateStatus"], "Successful")
        for k in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
            self.assertNotIn(k, cfg)
        self.assertNotEqual(cfg["RevisionId"], created["RevisionId"])
        self.assertEqual(cfg["LastModified"], created["LastModified"])
        self.assertEqual(cfg["CodeSha256"], created["CodeSha256"])

    def test_explicit_values_and_environment(self):
        name = self.name()
        resp = self.create(name, Description="d1", MemorySize=256, Timeout=30, Architectures=["arm64"],
                           Environment={"Variables": {"BB": "2", "AA": "1"}},
                           EphemeralStorage={"Size": 1024}, TracingConfig={"Mode": "Active"})
        self.assertEqual(resp["Description"], "d1")
        self.assertEqual(resp["MemorySize"], 256)
        self.assertEqual(resp["Timeout"], 30)
        self.assertEqual(resp["Architectures"], ["arm64"])
        self.assertEqual(list(resp["Environment"]["Variables"].items()), [("BB", "2"), ("AA", "1")])
        self.assertEqual(resp["EphemeralStorage"], {"Size": 1024})
        self.assertEqual(resp["TracingConfig"], {"Mode": "Active"})

    def test_empty_environment_is_kept(self):
        resp = self.create(Environment={"Variables": {}})
        self.assertEqual(resp["Environment"], {"Variables": {}})

    def test_duplicate_is_conflict(self):
        name = self.name()
        self.create(name)
        err = self.assertError("ResourceConflictException", self.create, name, status=409)
        self.assertEqual(err["Error"]["Message"], "Function already exist: %s" % name)

    def test_partial_and_full_arn_names(self):
        n1, n2 = self.name(), self.name()
        r1 = self.create("%s:function:%s" % (ACCOUNT, n1))
        self.assertEqual(r1["FunctionName"], n1)
        self.assertEqual(r1["FunctionArn"], ARN_PREFIX + n1)
        r2 = self.create(ARN_PREFIX + n2)
        self.assertEqual(r2["FunctionName"], n2)
        self.assertEqual(r2["FunctionArn"], ARN_PREFIX + n2)

    def test_create_in_other_region_or_account(self):
        self.assertError("ResourceNotFoundException", self.create,
                         "arn:aws:lambda:ap-southeast-1:%s:function:%s" % (ACCOUNT, self.name()), status=404,
                         message="Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')")
        self.assertError("AccessDeniedException", self.create,
                         "arn:aws:lambda:us-east-1:123456789012:function:%s" % self.name(), status=403)

    def test_other_account_arn_is_refused_everywhere(self):
        other = "arn:aws:lambda:us-east-1:123456789012:function:someone-elses"
        for call, kw in ((self.lam.get_function, {}), (self.lam.get_function_configuration, {}),
                         (self.lam.delete_function, {}), (self.lam.publish_version, {}),
                         (self.lam.list_versions_by_function, {})):
            err = self.assertError("AccessDeniedException", call, FunctionName=other, status=403, **kw)
            op = call.__name__.title().replace("_", "")
            self.assertEqual(
                err["Error"]["Message"],
                "User: arn:aws:iam::%s:root is not authorized to perform: lambda:%s on resource: %s "
                "because no resource-based policy allows the lambda:%s action" % (ACCOUNT, op, other, op))
        self.assertError("AccessDeniedException", self.lam.list_tags, Resource=other, status=403)

    def test_name_too_long_is_ipve(self):
        name = "a" * 65
        self.assertError("InvalidParameterValueException", self.create, name, status=400,
                         message="1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
                                 "constraint: Member must have length less than or equal to 64" % name)

    def test_role_pattern(self):
        self.assertError("ValidationException", self.create, Role="r1", status=400,
                         message="1 validation error detected: Value 'r1' at 'role' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: "
                                 r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")

    def test_runtime_errors(self):
        for rt in ("non-existent-runtime", "PYTHON3.9"):
            err = self.assertError("InvalidParameterValueException", self.create, Runtime=rt, status=400,
                                   message="Value %s at 'runtime' failed to satisfy constraint: Member must "
                                           "satisfy enum value set: [%s] or be a valid ARN" % (rt, RUNTIME_ENUM))
            self.assertEqual(err["Type"], "User")
        for rt in ("python3.7", "nodejs14.x", "go1.x", "java8"):
            self.assertError("InvalidParameterValueException", self.create, Runtime=rt, status=400,
                             message="The runtime parameter of %s is no longer supported for creating or "
                                     "updating AWS Lambda functions. We recommend you use a supported runtime "
                                     "while creating or updating functions." % rt)

    def test_failed_create_leaves_nothing(self):
        name = self.name()
        self.assertError("InvalidParameterValueException", self.create, name, Runtime="nope")
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name,
                         message="Function not found: " + ARN_PREFIX + name)

    def test_environment_4kb_boundary(self):
        ok = {"LARGE_VAR": "x" * 4080}  # {"LARGE_VAR":"..."} is exactly 4096 bytes
        resp = self.create(Environment={"Variables": ok})
        self.assertEqual(resp["Environment"]["Variables"], ok)
        big = {"LARGE_VAR": "x" * 4081}
        self.assertError("InvalidParameterValueException", self.create, Environment={"Variables": big},
                         status=400, message=ENV_MSG + '{"LARGE_VAR":"%s"}' % ("x" * 4081))
        # the measured string keeps request order
        two = {"SMALL_VAR": "ok", "LARGE_VAR": "x" * 4064}
        self.assertError("InvalidParameterValueException", self.create, Environment={"Variables": two},
                         message=ENV_MSG + '{"SMALL_VAR":"ok","LARGE_VAR":"%s"}' % ("x" * 4064))
        # the same limit on update
        name = self.name()
        self.create(name)
        self.assertError("InvalidParameterValueException", self.lam.update_function_configuration,
                         FunctionName=name, Environment={"Variables": big},
                         message=ENV_MSG + '{"LARGE_VAR":"%s"}' % ("x" * 4081))

    def test_environment_reserved_keys(self):
        self.assertError("InvalidParameterValueException", self.create,
                         Environment={"Variables": {"FOO": "1", "AWS_REGION": "x"}}, status=400,
                         message="Lambda was unable to configure your environment variables because the "
                                 "environment variables you have provided contains reserved keys that are "
                                 "currently not supported for modification. Reserved keys used in this "
                                 "request: AWS_REGION")

    def test_not_a_zip(self):
        for data in (b"this is not a zip file", b""):
            self.assertError("InvalidParameterValueException", self.create, Code={"ZipFile": data}, status=400,
                             message="Could not unzip uploaded file. Please check your file, then try to "
                                     "upload again.")

    def test_zip_bomb_unzipped_limit(self):
        # one highly compressible member whose unzipped size is over 250 MB; the
        # zip itself stays well under a megabyte
        buf = io.BytesIO()
        chunk = b"\0" * (1 << 20)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            with z.open("big.bin", "w", force_zip64=True) as f:
                for _ in range(251):
                    f.write(chunk)
        bomb = buf.getvalue()
        self.assertLess(len(bomb), 1 << 20)
        name = self.name()
        self.assertError("InvalidParameterValueException", self.create, name, Code={"ZipFile": bomb},
                         status=400, message="Unzipped size must be smaller than 262144000 bytes")
        self.create(name)
        self.assertError("InvalidParameterValueException", self.lam.update_function_code, FunctionName=name,
                         ZipFile=bomb, message="Unzipped size must be smaller than 262144000 bytes")

    def test_zipped_over_50mb_is_413(self):
        data = os.urandom(52428801)
        name = self.name()
        self.assertError("RequestEntityTooLargeException", self.create, name, Code={"ZipFile": data},
                         status=413, message="Zipped size must be smaller than 52428800 bytes")
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name)

    def test_publish_on_create(self):
        name = self.name()
        resp = self.create(name, Publish=True)
        self.assertEqual(meta(resp)["HTTPStatusCode"], 201)
        self.assertEqual(resp["Version"], "1")
        self.assertEqual(resp["FunctionArn"], ARN_PREFIX + name)  # unqualified
        self.assertEqual(resp["State"], "Pending")
        v1 = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], ARN_PREFIX + name + ":1")
        self.assertEqual(v1["State"], "Active")
        self.assertEqual(v1["CodeSha256"], resp["CodeSha256"])
        latest = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(latest["Version"], "$LATEST")
        versions = [v["Version"] for v in self.lam.list_versions_by_function(FunctionName=name)["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1"])

    def test_cli_create_and_get(self):
        name = self.name()
        zipped = make_zip({"app.py": "x = 2\n"})
        with tempfile.NamedTemporaryFile(suffix=".zip") as f:
            f.write(zipped)
            f.flush()
            out = self.server.cli("create-function", "--function-name", name, "--runtime", "python3.12",
                                  "--handler", "app.handler", "--role", ROLE, "--zip-file", "fileb://" + f.name)
        self.assertEqual(out["CodeSha256"], sha256_b64(zipped))
        self.assertEqual(out["State"], "Pending")
        cfg = self.server.cli("get-function-configuration", "--function-name", name)
        self.assertEqual(cfg["State"], "Active")
        self.assertEqual(cfg["FunctionArn"], ARN_PREFIX + name)
        p = self.server.cli("get-function", "--function-name", name + "-missing", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceNotFoundException", p.stderr)
        self.assertIn("Function not found: %s%s-missing" % (ARN_PREFIX, name), p.stderr)


class TestGetFunction(LambdadTestCase):
    def test_get_function_shape(self):
        name = self.name()
        zipped = make_zip({"app.py": "y = 3\n"})
        self.create(name, Code={"ZipFile": zipped})
        got = self.lam.get_function(FunctionName=name)
        self.assertEqual(meta(got)["HTTPStatusCode"], 200)
        self.assertEqual(set(got), {"Code", "Configuration"})  # no Tags, no Concurrency
        self.assertEqual(got["Code"]["RepositoryType"], "S3")
        self.assertEqual(set(got["Code"]), {"Location", "RepositoryType"})
        self.assertEqual(download(got["Code"]["Location"]), zipped)
        cfg = self.lam.get_function_configuration(FunctionName=name)
        meta(cfg)
        self.assertEqual(cfg, got["Configuration"])
        self.assertEqual(set(cfg), CREATE_KEYS - {"StateReason", "StateReasonCode"} | {"LastUpdateStatus"})

    def test_tags_in_get_function(self):
        name = self.name()
        self.create(name, Tags={"k": "v"})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Tags"], {"k": "v"})
        name2 = self.name()
        self.create(name2, Tags={})
        self.assertNotIn("Tags", self.lam.get_function(FunctionName=name2))

    def test_code_location_signature(self):
        name = self.name()
        self.create(name)
        url = self.lam.get_function(FunctionName=name)["Code"]["Location"]
        self.assertIn("X-Amz-Signature=", url)
        sig = url.rsplit("X-Amz-Signature=", 1)[1]
        bad = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        for tampered in (url[: -len(sig)] + bad, url.replace("X-Amz-Expires=", "X-Amz-Expires=1"),
                         url.split("?")[0]):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                download(tampered)
            self.assertEqual(cm.exception.code, 403)

    def test_arn_forms_and_qualifiers(self):
        name = self.name()
        self.create(name, Publish=True)
        cases = [
            (dict(FunctionName=name), ARN_PREFIX + name, "$LATEST"),
            (dict(FunctionName=name, Qualifier="$LATEST"), ARN_PREFIX + name + ":$LATEST", "$LATEST"),
            (dict(FunctionName=name + ":$LATEST"), ARN_PREFIX + name + ":$LATEST", "$LATEST"),
            (dict(FunctionName=name + ":1"), ARN_PREFIX + name + ":1", "1"),
            (dict(FunctionName=name, Qualifier="1"), ARN_PREFIX + name + ":1", "1"),
            (dict(FunctionName="%s:function:%s" % (ACCOUNT, name)), ARN_PREFIX + name, "$LATEST"),
            (dict(FunctionName="%s:function:%s:1" % (ACCOUNT, name)), ARN_PREFIX + name + ":1", "1"),
            (dict(FunctionName=ARN_PREFIX + name), ARN_PREFIX + name, "$LATEST"),
            (dict(FunctionName=ARN_PREFIX + name + ":1", Qualifier="1"), ARN_PREFIX + name + ":1", "1"),
        ]
        for kw, arn, version in cases:
            for op in (self.lam.get_function_configuration, lambda **k: self.lam.get_function(**k)["Configuration"]):
                cfg = op(**kw)
                self.assertEqual(cfg["FunctionArn"], arn, kw)
                self.assertEqual(cfg["Version"], version, kw)
                self.assertEqual(cfg["FunctionName"], name, kw)

    def test_not_found_messages(self):
        name = self.name()
        self.create(name)
        for op in (self.lam.get_function, self.lam.get_function_configuration):
            err = self.assertError("ResourceNotFoundException", op, FunctionName=name + "-x", status=404,
                                   message="Function not found: %s%s-x" % (ARN_PREFIX, name))
            self.assertEqual(err["Type"], "User")
            self.assertError("ResourceNotFoundException", op, FunctionName=name, Qualifier="1221",
                             message="Function not found: %s%s:1221" % (ARN_PREFIX, name))
            self.assertError("ResourceNotFoundException", op, FunctionName=name, Qualifier="aliasdoesnotexist",
                             message="Function not found: %s%s:aliasdoesnotexist" % (ARN_PREFIX, name))
            self.assertError("ResourceNotFoundException", op, FunctionName=ARN_PREFIX + name + ":aliasdoesnotexist",
                             message="Function not found: %s%s:aliasdoesnotexist" % (ARN_PREFIX, name))
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName="my-function",
                         Qualifier="$latest", message="Function not found: %smy-function:$latest" % ARN_PREFIX)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName="a" * 65,
                         message="Function not found: %s%s" % (ARN_PREFIX, "a" * 65))
        self.assertError("ResourceNotFoundException", self.lam.get_function,
                         FunctionName="arn:aws:lambda:%s:%s:function:some-function:$LATEST" % (REGION, ACCOUNT),
                         Qualifier="$LATEST",
                         message="Function not found: %ssome-function:$LATEST" % ARN_PREFIX)

    def test_incomplete_arn_is_a_name(self):
        self.assertError("ResourceNotFoundException", self.lam.get_function,
                         FunctionName="arn:aws:lambda:%s:%s:function" % (REGION, ACCOUNT), status=404,
                         message="Function not found: %sfunction" % ARN_PREFIX)

    def test_other_region_and_qualifier_mismatch(self):
        name = self.name()
        self.create(name, Publish=True)
        for op in (self.lam.get_function, self.lam.get_function_configuration, self.lam.delete_function):
            self.assertError("ResourceNotFoundException", op,
                             FunctionName="arn:aws:lambda:eu-central-1:%s:function:%s" % (ACCOUNT, name),
                             status=404,
                             message="Functions from 'eu-central-1' are not reachable in this region ('us-east-1')")
            self.assertError("InvalidParameterValueException", op, FunctionName=ARN_PREFIX + name + ":1",
                             Qualifier="$LATEST", status=400,
                             message="The derived qualifier from the function name does not match the specified "
                                     "qualifier.")
        # checked before existence
        self.assertError("InvalidParameterValueException", self.lam.get_function,
                         FunctionName=ARN_PREFIX + "absent-fn:1", Qualifier="$LATEST")

    def test_validation_errors(self):
        self.assertError("ValidationException", self.lam.get_function, FunctionName="my-function!", status=400,
                         message="1 validation error detected: Value 'my-function!' at 'functionName' failed to "
                                 "satisfy constraint: Member must satisfy regular expression pattern: "
                                 + GET_NAME_PATTERN)
        self.assertError("ValidationException", self.lam.get_function, FunctionName="f", Qualifier="a" * 129,
                         message="1 validation error detected: Value '%s' at 'qualifier' failed to satisfy "
                                 "constraint: Member must have length less than or equal to 128" % ("a" * 129))
        self.assertError("ValidationException", self.lam.get_function, FunctionName="f", Qualifier="invalid!",
                         message="1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: "
                                 r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")


class TestUpdateFunction(LambdadTestCase):
    def test_update_configuration_lifecycle(self):
        name = self.name()
        created = self.create(name)
        active = self.lam.get_function_configuration(FunctionName=name)
        resp = self.lam.update_function_configuration(FunctionName=name, Description="First",
                                                      Environment={"Variables": {"ENV_A": "a"}})
        self.assertEqual(meta(resp)["HTTPStatusCode"], 200)
        self.assertEqual(resp["State"], "Active")
        self.assertEqual(resp["LastUpdateStatus"], "InProgress")
        self.assertEqual(resp["LastUpdateStatusReason"], "The function is being created.")
        self.assertEqual(resp["LastUpdateStatusReasonCode"], "Creating")
        self.assertEqual(resp["FunctionArn"], ARN_PREFIX + name)
        self.assertEqual(resp["Description"], "First")
        self.assertEqual(resp["Environment"], {"Variables": {"ENV_A": "a"}})
        self.assertEqual(resp["CodeSha256"], created["CodeSha256"])
        self.assertNotIn(resp["RevisionId"], (created["RevisionId"], active["RevisionId"]))
        after = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(after["LastUpdateStatus"], "Successful")
        self.assertNotIn("LastUpdateStatusReason", after)
        self.assertNotIn("LastUpdateStatusReasonCode", after)
        self.assertNotEqual(after["RevisionId"], resp["RevisionId"])
        self.assertEqual(after["Description"], "First")
        # a redundant update still changes the RevisionId, twice
        again = self.lam.update_function_configuration(FunctionName=name, Description="First")
        self.assertNotEqual(again["RevisionId"], after["RevisionId"])
        final = self.lam.get_function_configuration(FunctionName=name)
        self.assertNotEqual(final["RevisionId"], again["RevisionId"])
        # fields not in the request keep their values
        self.assertEqual(final["Environment"], {"Variables": {"ENV_A": "a"}})
        self.assertEqual(final["MemorySize"], 128)

    def test_update_configuration_fields(self):
        name = self.name()
        self.create(name)
        resp = self.lam.update_function_configuration(FunctionName=name, MemorySize=512, Timeout=60,
                                                      Handler="other.handler", Runtime="python3.13")
        self.assertEqual((resp["MemorySize"], resp["Timeout"], resp["Handler"], resp["Runtime"]),
                         (512, 60, "other.handler", "python3.13"))
        cfg = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual((cfg["MemorySize"], cfg["Timeout"], cfg["Handler"], cfg["Runtime"]),
                         (512, 60, "other.handler", "python3.13"))

    def test_update_configuration_errors(self):
        name = self.name()
        self.create(name)
        rev = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertError("PreconditionFailedException", self.lam.update_function_configuration,
                         FunctionName=name, Description="x", RevisionId="wrong", status=412, message=PRECONDITION_MSG)
        self.assertError("ValidationException", self.lam.update_function_configuration, FunctionName=name,
                         Role="r1", status=400)
        self.assertError("InvalidParameterValueException", self.lam.update_function_configuration,
                         FunctionName=name, Runtime="PYTHON3.9",
                         message="Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy "
                                 "enum value set: [%s] or be a valid ARN" % RUNTIME_ENUM)
        self.assertError("InvalidParameterValueException", self.lam.update_function_configuration,
                         FunctionName=name, Runtime="python3.7")
        # nothing was applied by the failed calls
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["RevisionId"], rev)
        ok = self.lam.update_function_configuration(FunctionName=name, Description="y", RevisionId=rev)
        self.assertEqual(ok["Description"], "y")
        self.assertError("ResourceNotFoundException", self.lam.update_function_configuration,
                         FunctionName=name + "-nope", Description="x",
                         message="Function not found: %s%s-nope" % (ARN_PREFIX, name))

    def test_update_code(self):
        name = self.name()
        created = self.create(name)
        z2 = make_zip({"app.py": "def handler(e, c):\n    return 2\n"})
        resp = self.lam.update_function_code(FunctionName=name, ZipFile=z2)
        self.assertEqual(meta(resp)["HTTPStatusCode"], 200)
        self.assertEqual(resp["CodeSha256"], sha256_b64(z2))
        self.assertEqual(resp["CodeSize"], len(z2))
        self.assertEqual(resp["Version"], "$LATEST")
        self.assertEqual(resp["FunctionArn"], ARN_PREFIX + name)
        self.assertEqual(resp["State"], "Active")
        self.assertEqual(resp["LastUpdateStatus"], "InProgress")
        self.assertEqual(resp["LastUpdateStatusReason"], "The function is being created.")
        self.assertEqual(resp["LastUpdateStatusReasonCode"], "Creating")
        self.assertNotEqual(resp["RevisionId"], created["RevisionId"])
        got = self.lam.get_function(FunctionName=name)
        self.assertEqual(got["Configuration"]["LastUpdateStatus"], "Successful")
        self.assertNotEqual(got["Configuration"]["RevisionId"], resp["RevisionId"])
        self.assertEqual(download(got["Code"]["Location"]), z2)
        self.assertError("PreconditionFailedException", self.lam.update_function_code, FunctionName=name,
                         ZipFile=z2, RevisionId="wrong", status=412, message=PRECONDITION_MSG)
        self.assertError("InvalidParameterValueException", self.lam.update_function_code, FunctionName=name,
                         ZipFile=b"garbage", status=400,
                         message="Could not unzip uploaded file. Please check your file, then try to upload again.")
        self.assertError("InvalidParameterValueException", self.lam.update_function_code, FunctionName=name,
                         ImageUri="123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:latest",
                         message="Please don't provide ImageUri when updating a function with packageType Zip.")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["CodeSha256"], sha256_b64(z2))

    def test_update_code_with_publish(self):
        name = self.name()
        self.create(name)
        z2 = make_zip({"app.py": "v = 2\n"})
        resp = self.lam.update_function_code(FunctionName=name, ZipFile=z2, Publish=True)
        self.assertEqual(meta(resp)["HTTPStatusCode"], 200)
        self.assertEqual(resp["Version"], "1")
        self.assertEqual(resp["FunctionArn"], ARN_PREFIX + name + ":1")
        self.assertEqual(resp["State"], "Pending")
        self.assertEqual(resp["StateReason"], "The function is being created.")
        self.assertEqual(resp["StateReasonCode"], "Creating")
        self.assertNotIn("LastUpdateStatus", resp)
        self.assertEqual(resp["CodeSha256"], sha256_b64(z2))
        v1 = self.lam.get_function(FunctionName=name, Qualifier="1")
        self.assertEqual(v1["Configuration"]["State"], "Active")
        self.assertEqual(v1["Configuration"]["CodeSha256"], sha256_b64(z2))
        self.assertEqual(download(v1["Code"]["Location"]), z2)
        latest = self.lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
        self.assertEqual(latest["FunctionArn"], ARN_PREFIX + name + ":$LATEST")
        self.assertEqual(latest["CodeSha256"], sha256_b64(z2))
        self.assertEqual(latest["LastUpdateStatus"], "Successful")
        # publishing again with the same code returns version 1
        again = self.lam.publish_version(FunctionName=name)
        self.assertEqual(again["Version"], "1")

    def test_update_arch_changes_runtime_version_arn(self):
        name = self.name()
        created = self.create(name)
        resp = self.lam.update_function_code(FunctionName=name, ZipFile=make_zip(), Architectures=["arm64"])
        self.assertEqual(resp["Architectures"], ["arm64"])
        self.assertNotEqual(resp["RuntimeVersionConfig"], created["RuntimeVersionConfig"])
        self.assertTrue(resp["RuntimeVersionConfig"]["RuntimeVersionArn"].startswith(
            "arn:aws:lambda:us-east-1::runtime:"))


class TestDeleteFunction(LambdadTestCase):
    def test_delete(self):
        name = self.name()
        self.create(name, Publish=True)
        resp = self.lam.delete_function(FunctionName=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name,
                         message="Function not found: " + ARN_PREFIX + name)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name, Qualifier="1",
                         message="Function not found: " + ARN_PREFIX + name + ":1")
        self.assertError("ResourceNotFoundException", self.lam.delete_function, FunctionName=name, status=404,
                         message="Function not found: " + ARN_PREFIX + name)
        # the name can be used again, and versions start over
        again = self.create(name, Publish=True)
        self.assertEqual(again["Version"], "1")

    def test_delete_qualifiers(self):
        name = self.name()
        self.create(name)
        self.assertError("InvalidParameterValueException", self.lam.delete_function, FunctionName=name,
                         Qualifier="$LATEST", status=400,
                         message="$LATEST version cannot be deleted without deleting the function.")
        self.assertError("InvalidParameterValueException", self.lam.delete_function,
                         FunctionName=ARN_PREFIX + "absent-fn:$LATEST", Qualifier="$LATEST",
                         message="$LATEST version cannot be deleted without deleting the function.")
        self.assertError("InvalidParameterValueException", self.lam.delete_function, FunctionName="my-function",
                         Qualifier="a" * 65, message="Deletion of aliases is not currently supported.")
        self.assertError("ResourceNotFoundException", self.lam.delete_function, FunctionName="my-function",
                         Qualifier="$latest", message="Function not found: %smy-function" % ARN_PREFIX)
        for _ in range(2):
            r = self.lam.delete_function(FunctionName=name, Qualifier="1233")
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.lam.get_function(FunctionName=name)
        self.lam.delete_function(FunctionName=name)
        self.assertError("ResourceNotFoundException", self.lam.delete_function, FunctionName=name,
                         Qualifier="1233", message="Function not found: " + ARN_PREFIX + name)

    def test_delete_version(self):
        name = self.name()
        self.create(name, Publish=True)
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip({"a.py": "2"}), Publish=True)
        r = self.lam.delete_function(FunctionName=name, Qualifier="1")
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 204)
        versions = [v["Version"] for v in self.lam.list_versions_by_function(FunctionName=name)["Versions"]]
        self.assertEqual(versions, ["$LATEST", "2"])
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name, Qualifier="1",
                         message="Function not found: %s%s:1" % (ARN_PREFIX, name))

    def test_cli_delete(self):
        name = self.name()
        self.create(name)
        self.assertEqual(self.server.cli("delete-function", "--function-name", name), {"StatusCode": 204})
        p = self.server.cli("delete-function", "--function-name", name, check=False)
        self.assertIn("ResourceNotFoundException", p.stderr)


class TestListFunctions(LambdadTestCase):
    N = 120

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.names = sorted("list-%03d" % i for i in range(cls.N))
        for n in cls.names:
            cls.lam.create_function(FunctionName=n, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                    Code={"ZipFile": make_zip()}, Publish=n in ("list-000", "list-001"))

    def pages(self, **kw):
        out, marker, npages = [], None, 0
        while True:
            args = dict(kw)
            if marker:
                args["Marker"] = marker
            page = self.lam.list_functions(**args)
            npages += 1
            out.extend(page["Functions"])
            marker = page.get("NextMarker")
            if not marker:
                return out, npages
            self.assertGreater(len(page["Functions"]), 0)

    def test_default_page_is_50(self):
        page = self.lam.list_functions()
        self.assertEqual(len(page["Functions"]), 50)
        self.assertIn("NextMarker", page)
        page = self.lam.list_functions(MaxItems=1000)
        self.assertEqual(len(page["Functions"]), 50)

    def test_paging_with_max_items(self):
        items, npages = self.pages(MaxItems=7)
        self.assertEqual(npages, -(-self.N // 7))
        names = [f["FunctionName"] for f in items]
        self.assertEqual(sorted(names), self.names)
        self.assertEqual(len(set(names)), self.N)
        for f in items:
            self.assertEqual(f["Version"], "$LATEST")
            self.assertEqual(f["FunctionArn"], ARN_PREFIX + f["FunctionName"])
            self.assertFalse(LIST_OMITTED & set(f), f)
            self.assertEqual(f["LoggingConfig"]["LogFormat"], "Text")
            self.assertEqual(f["SnapStart"], {"ApplyOn": "None", "OptimizationStatus": "Off"})
        last = self.lam.list_functions(MaxItems=self.N)
        self.assertEqual(len(last["Functions"]), 50)

    def test_last_page_has_no_marker(self):
        items, _ = self.pages(MaxItems=50)
        self.assertEqual(len(items), self.N)
        page = self.lam.list_functions(MaxItems=10, Marker=self.names[-11])
        self.assertEqual([f["FunctionName"] for f in page["Functions"]], self.names[-10:])
        self.assertNotIn("NextMarker", page)

    def test_paginator(self):
        names = []
        for page in self.lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 33}):
            names += [f["FunctionName"] for f in page["Functions"]]
        self.assertEqual(sorted(names), self.names)

    def test_function_version_all(self):
        items, _ = self.pages(FunctionVersion="ALL", MaxItems=9)
        self.assertEqual(len(items), self.N + 2)
        by = {}
        for f in items:
            by.setdefault(f["FunctionName"], []).append(f)
            self.assertFalse(LIST_OMITTED & set(f), f)
        self.assertEqual(sorted(by), self.names)
        self.assertEqual(sorted(f["FunctionArn"] for f in by["list-000"]),
                         [ARN_PREFIX + "list-000:$LATEST", ARN_PREFIX + "list-000:1"])
        self.assertEqual([f["FunctionArn"] for f in by["list-050"]], [ARN_PREFIX + "list-050:$LATEST"])
        v1 = [f for f in by["list-001"] if f["Version"] == "1"]
        self.assertEqual(len(v1), 1)

    def test_invalid_function_version(self):
        self.assertError("ValidationException", self.lam.list_functions, FunctionVersion="invalid", status=400,
                         message="1 validation error detected: Value 'invalid' at 'functionVersion' failed to "
                                 "satisfy constraint: Member must satisfy enum value set: [ALL]")

    def test_cli_list(self):
        out = self.server.cli("list-functions", "--max-items", "5")
        self.assertEqual(len(out["Functions"]), 5)
        self.assertIn("NextToken", out)
        out = self.server.cli("list-functions")
        self.assertEqual(len(out["Functions"]), self.N)


class TestRegions(LambdadTestCase):
    def test_regions_are_separate(self):
        eu = self.server.client(region="eu-west-1")
        name = self.name()
        shared = self.name()
        self.create(name)
        self.create(shared)
        r = eu.create_function(FunctionName=shared, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                               Code={"ZipFile": make_zip()})
        self.assertEqual(r["FunctionArn"], "arn:aws:lambda:eu-west-1:%s:function:%s" % (ACCOUNT, shared))
        self.assertEqual(r["LoggingConfig"]["LogGroup"], "/aws/lambda/" + shared)
        self.assertTrue(r["RuntimeVersionConfig"]["RuntimeVersionArn"].startswith("arn:aws:lambda:eu-west-1::runtime:"))
        self.assertEqual([f["FunctionName"] for f in eu.list_functions()["Functions"]], [shared])
        us_names = [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]
        self.assertIn(name, us_names)
        self.assertIn(shared, us_names)
        with self.assertRaises(eu.exceptions.ResourceNotFoundException) as cm:
            eu.get_function(FunctionName=name)
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Function not found: arn:aws:lambda:eu-west-1:%s:function:%s" % (ACCOUNT, name))
        with self.assertRaises(eu.exceptions.ResourceNotFoundException) as cm:
            eu.get_function(FunctionName=ARN_PREFIX + name)
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "Functions from 'us-east-1' are not reachable in this region ('eu-west-1')")
        eu.delete_function(FunctionName=shared)
        self.lam.get_function(FunctionName=shared)  # the us-east-1 one is untouched


class TestPersistence(unittest.TestCase):
    def test_kill9_keeps_functions_versions_and_code(self):
        s = Server().start()
        try:
            lam = s.client()
            z1 = make_zip({"app.py": "a = 1\n"})
            z2 = make_zip({"app.py": "a = 2\n"})
            lam.create_function(FunctionName="keep", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": z1}, Publish=True, Description="d", Tags={"t": "1"},
                                Environment={"Variables": {"KEY": "V"}})
            lam.update_function_code(FunctionName="keep", ZipFile=z2, Publish=True)
            lam.update_function_configuration(FunctionName="keep", MemorySize=256)
            lam.create_function(FunctionName="keep2", Runtime="nodejs20.x", Handler="index.handler", Role=ROLE,
                                Code={"ZipFile": z2})

            def snapshot():
                out = {}
                for q in ("$LATEST", "1", "2"):
                    g = lam.get_function(FunctionName="keep", Qualifier=q)
                    g.pop("ResponseMetadata")
                    out[q] = (g["Configuration"], g.get("Tags"), download(g["Code"]["Location"]))
                out["versions"] = lam.list_versions_by_function(FunctionName="keep")["Versions"]
                out["list"] = lam.list_functions(FunctionVersion="ALL")["Functions"]
                return out

            before = snapshot()
            self.assertEqual(before["1"][2], z1)
            self.assertEqual(before["2"][2], z2)
            self.assertEqual(before["$LATEST"][0]["MemorySize"], 256)
            self.assertEqual(s.kill9(), -9)
            s.start()
            after = snapshot()
            self.assertEqual(after, before)
            lam.update_function_code(FunctionName="keep", ZipFile=z1, Publish=True)
            self.assertEqual(lam.get_function_configuration(FunctionName="keep", Qualifier="3")["Version"], "3")
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
