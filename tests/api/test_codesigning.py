"""Code signing configs: CreateCodeSigningConfig, GetCodeSigningConfig,
UpdateCodeSigningConfig, DeleteCodeSigningConfig, ListCodeSigningConfigs,
PutFunctionCodeSigningConfig, GetFunctionCodeSigningConfig,
DeleteFunctionCodeSigningConfig, ListFunctionsByCodeSigningConfig, and
CreateFunction's CodeSigningConfigArn.

Shapes and messages are AWS's (TestCodeSigningConfig in
test_lambda_api.snapshot.json).
"""
import re

from harness import ACCOUNT, REGION, LambdadTestCase, make_zip, ROLE

PROFILE = "arn:aws:signer:%s:%s:/signing-profiles/test" % (REGION, ACCOUNT)
CSC_ARN = re.compile(r"^arn:aws:lambda:%s:%s:code-signing-config:(csc-[a-z0-9]{17})$" % (REGION, ACCOUNT))
LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def fn_arn(name):
    return "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)


def missing(arn):
    return "The Lambda code signing configuration %s can not be found." % arn


def missing_for_function(arn):
    return ("The code signing configuration cannot be found. Check that the provided configuration "
            "is not deleted: %s." % arn)


class CodeSigningTestCase(LambdadTestCase):
    def csc(self, **kw):
        args = dict(Description="Testing CodeSigning Config",
                    AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
                    CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
        args.update(kw)
        return self.lam.create_code_signing_config(**args)["CodeSigningConfig"]

    @staticmethod
    def invalid(arn):
        return arn[:-1] + ("x" if arn[-1] != "x" else "y")


class TestCodeSigningConfigs(CodeSigningTestCase):
    def test_create_shape_and_defaults(self):
        resp = self.lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE]})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        c = resp["CodeSigningConfig"]
        self.assertEqual(set(c), {"AllowedPublishers", "CodeSigningConfigArn", "CodeSigningConfigId",
                                  "CodeSigningPolicies", "Description", "LastModified"})
        m = CSC_ARN.match(c["CodeSigningConfigArn"])
        self.assertTrue(m, c)
        self.assertEqual(c["CodeSigningConfigId"], m.group(1))
        self.assertEqual(c["AllowedPublishers"], {"SigningProfileVersionArns": [PROFILE]})
        self.assertEqual(c["CodeSigningPolicies"], {"UntrustedArtifactOnDeployment": "Warn"})
        self.assertEqual(c["Description"], "")
        self.assertRegex(c["LastModified"], LAST_MODIFIED)
        self.assertEqual(self.lam.get_code_signing_config(CodeSigningConfigArn=c["CodeSigningConfigArn"])
                         ["CodeSigningConfig"], c)

    def test_update_get_and_noop_update(self):
        c = self.csc()
        arn = c["CodeSigningConfigArn"]
        same = self.lam.update_code_signing_config(CodeSigningConfigArn=arn)
        self.assertEqual(same["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(same["CodeSigningConfig"], c)
        up = self.lam.update_code_signing_config(
            CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Warn"})["CodeSigningConfig"]
        self.assertEqual(up["CodeSigningPolicies"], {"UntrustedArtifactOnDeployment": "Warn"})
        self.assertEqual(up["Description"], "Testing CodeSigning Config")
        self.assertEqual(up["AllowedPublishers"], c["AllowedPublishers"])
        other = "arn:aws:signer:%s:%s:/signing-profiles/other" % (REGION, ACCOUNT)
        up = self.lam.update_code_signing_config(
            CodeSigningConfigArn=arn, Description="new",
            AllowedPublishers={"SigningProfileVersionArns": [PROFILE, other]})["CodeSigningConfig"]
        self.assertEqual(up["Description"], "new")
        self.assertEqual(up["AllowedPublishers"]["SigningProfileVersionArns"], [PROFILE, other])
        self.assertEqual(up["CodeSigningPolicies"], {"UntrustedArtifactOnDeployment": "Warn"})
        self.assertEqual(self.lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"], up)

    def test_not_found_errors(self):
        arn = self.invalid(self.csc()["CodeSigningConfigArn"])
        for call in (lambda: self.lam.get_code_signing_config(CodeSigningConfigArn=arn),
                     lambda: self.lam.delete_code_signing_config(CodeSigningConfigArn=arn),
                     lambda: self.lam.update_code_signing_config(CodeSigningConfigArn=arn, Description="x"),
                     lambda: self.lam.update_code_signing_config(CodeSigningConfigArn=arn),
                     lambda: self.lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)):
            err = self.assertError("ResourceNotFoundException", call, message=missing(arn), status=404)
            # AWS sends these without Type, with "Message"
            self.assertNotIn("Type", err)
            self.assertEqual(err["Message"], missing(arn))
        # another region's ARN is not found here either
        far = arn.replace(":%s:" % REGION, ":eu-west-1:")
        self.assertError("ResourceNotFoundException",
                         lambda: self.lam.get_code_signing_config(CodeSigningConfigArn=far), message=missing(far))

    def test_tags_kept_across_updates(self):
        c = self.csc(Tags={"k": "v"})
        arn = c["CodeSigningConfigArn"]
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"k": "v"})
        self.lam.update_code_signing_config(CodeSigningConfigArn=arn, Description="changed")
        self.lam.tag_resource(Resource=arn, Tags={"k2": "v2"})
        self.lam.update_code_signing_config(CodeSigningConfigArn=arn, Description="again")
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"k": "v", "k2": "v2"})
        # tags never show in the config itself
        self.assertNotIn("Tags", self.lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"])

    def test_validation(self):
        raw = self.server.client(validate=False)
        self.assertError("ValidationException", lambda: raw.create_code_signing_config(
            AllowedPublishers={"SigningProfileVersionArns": []}))
        self.assertError("ValidationException", lambda: self.lam.get_code_signing_config(
            CodeSigningConfigArn="arn:aws:lambda:%s:%s:code-signing-config:nope" % (REGION, ACCOUNT)))


class TestCodeSigningList(CodeSigningTestCase):
    def test_list_paging(self):
        arns = sorted(self.csc(Description="p%d" % i)["CodeSigningConfigArn"] for i in range(3))
        full = self.lam.list_code_signing_configs()
        self.assertNotIn("NextMarker", full)
        listed = [c["CodeSigningConfigArn"] for c in full["CodeSigningConfigs"]]
        self.assertEqual(sorted(a for a in listed if a in arns), arns)
        for c in full["CodeSigningConfigs"]:
            self.assertEqual(set(c), {"AllowedPublishers", "CodeSigningConfigArn", "CodeSigningConfigId",
                                      "CodeSigningPolicies", "Description", "LastModified"})
        seen, marker = [], None
        for _ in range(len(listed) + 1):
            kw = {"MaxItems": 1}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_code_signing_configs(**kw)
            self.assertLessEqual(len(page["CodeSigningConfigs"]), 1)
            seen += [c["CodeSigningConfigArn"] for c in page["CodeSigningConfigs"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(seen, listed)


class TestFunctionCodeSigning(CodeSigningTestCase):
    def test_lifecycle(self):
        name = self.name("csc")
        self.create(name)
        arn = self.csc()["CodeSigningConfigArn"]
        # a function without a config answers an empty object
        got = self.lam.get_function_code_signing_config(FunctionName=name)
        got.pop("ResponseMetadata")
        self.assertEqual(got, {})
        self.assertEqual(self.lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"], [])
        put = self.lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 200)
        put.pop("ResponseMetadata")
        self.assertEqual(put, {"CodeSigningConfigArn": arn, "FunctionName": name})
        got = self.lam.get_function_code_signing_config(FunctionName=fn_arn(name))
        got.pop("ResponseMetadata")
        self.assertEqual(got, {"CodeSigningConfigArn": arn, "FunctionName": name})
        self.assertEqual(self.lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"],
                         [fn_arn(name)])
        # in use: cannot be deleted
        self.assertError("ResourceConflictException",
                         lambda: self.lam.delete_code_signing_config(CodeSigningConfigArn=arn), status=409)
        resp = self.lam.delete_function_code_signing_config(FunctionName=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        # nothing to delete: still 204
        resp = self.lam.delete_function_code_signing_config(FunctionName=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        resp = self.lam.delete_code_signing_config(CodeSigningConfigArn=arn)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_code_signing_config(CodeSigningConfigArn=arn))

    def test_function_errors(self):
        name = self.name("csc")
        self.create(name)
        arn = self.csc()["CodeSigningConfigArn"]
        bad = self.invalid(arn)
        nofn = "csc-test-doesnotexist"
        notfound = "Function not found: %s" % fn_arn(nofn)
        self.assertError("ResourceNotFoundException", lambda: self.lam.delete_function_code_signing_config(
            FunctionName=nofn), message=notfound, status=404)
        self.assertError("ResourceNotFoundException", lambda: self.lam.put_function_code_signing_config(
            FunctionName=nofn, CodeSigningConfigArn=arn), message=notfound)
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_function_code_signing_config(
            FunctionName=nofn), message=notfound)
        err = self.assertError("CodeSigningConfigNotFoundException", lambda: self.lam.put_function_code_signing_config(
            FunctionName=name, CodeSigningConfigArn=bad), message=missing_for_function(bad), status=404)
        self.assertEqual(err["Type"], "User")
        # the config is checked before the function
        self.assertError("CodeSigningConfigNotFoundException", lambda: self.lam.put_function_code_signing_config(
            FunctionName=nofn, CodeSigningConfigArn=bad), message=missing_for_function(bad))
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_function_code_signing_config(
            FunctionName="arn:aws:lambda:eu-west-1:%s:function:%s" % (ACCOUNT, name)),
            message="Functions from 'eu-west-1' are not reachable in this region ('%s')" % REGION)

    def test_create_function_with_config(self):
        arn = self.csc()["CodeSigningConfigArn"]
        name = self.name("csc")
        self.create(name, CodeSigningConfigArn=arn)
        got = self.lam.get_function_code_signing_config(FunctionName=name)
        self.assertEqual(got["CodeSigningConfigArn"], arn)
        bad = self.invalid(arn)
        other = self.name("csc")
        self.assertError("CodeSigningConfigNotFoundException",
                         lambda: self.create(other, CodeSigningConfigArn=bad), message=missing_for_function(bad))
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_function(FunctionName=other))
        # deleting the function releases the config
        self.lam.delete_function(FunctionName=name)
        self.assertEqual(self.lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"], [])
        self.lam.delete_code_signing_config(CodeSigningConfigArn=arn)

    def test_list_functions_paging(self):
        arn = self.csc()["CodeSigningConfigArn"]
        names = sorted(self.name("cscl") for _ in range(3))
        for n in names:
            self.create(n, CodeSigningConfigArn=arn)
        self.create(self.name("cscl"))  # without the config
        page = self.lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn, MaxItems=2)
        self.assertEqual(page["FunctionArns"], [fn_arn(n) for n in names[:2]])
        rest = self.lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn, Marker=page["NextMarker"])
        self.assertEqual(rest["FunctionArns"], [fn_arn(names[2])])
        self.assertNotIn("NextMarker", rest)

    def test_cli(self):
        out = self.server.cli("create-code-signing-config", "--allowed-publishers",
                              "SigningProfileVersionArns=%s" % PROFILE, "--description", "cli")
        arn = out["CodeSigningConfig"]["CodeSigningConfigArn"]
        self.assertRegex(arn, CSC_ARN)
        name = self.name("csccli")
        self.create(name)
        out = self.server.cli("put-function-code-signing-config", "--function-name", name,
                              "--code-signing-config-arn", arn)
        self.assertEqual(out, {"CodeSigningConfigArn": arn, "FunctionName": name})
        out = self.server.cli("list-functions-by-code-signing-config", "--code-signing-config-arn", arn)
        self.assertEqual(out["FunctionArns"], [fn_arn(name)])
        p = self.server.cli("delete-code-signing-config", "--code-signing-config-arn", arn, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceConflictException", p.stderr)


class TestCodeSigningPersistence(CodeSigningTestCase):
    def test_kill9(self):
        c = self.csc(Tags={"t": "1"})
        arn = c["CodeSigningConfigArn"]
        name = self.name("cscp")
        self.create(name)
        self.lam.put_function_code_signing_config(CodeSigningConfigArn=arn, FunctionName=name)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"], c)
        self.assertEqual(self.lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"], arn)
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"t": "1"})
