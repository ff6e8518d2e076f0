"""Black-box tests of control-plane details where lambdad differed from AWS:
publishing after an update that changed nothing, cross-account PassRole,
empty layer descriptions in lists, sensitive values in messages, the
DestinationArn pattern, ResolvedImageUri, Invoke's not-found message and the
Kafka default StartingPosition.

Expected values come from the AWS recordings (test_lambda_api.snapshot.json,
test_lambda.snapshot.json) where they exist; each test names its source.
"""
import io
import os
import tempfile
import zipfile

from harness import ACCOUNT, REGION, ROLE, LambdadTestCase, make_zip

ARN_PREFIX = "arn:aws:lambda:%s:%s:function:" % (REGION, ACCOUNT)
OTHER_ROLE = "arn:aws:iam::111111111111:role/lambda-role"
PASS_ROLE_MSG = "Cross-account pass role is not allowed."
ENV_KEY_MSG = ("1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
               "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
               "[a-zA-Z]([a-zA-Z0-9_])+]")
# put_destination_invalid_arn_pattern (test_lambda_api.snapshot.json)
DESTINATION_PATTERN = ("$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:"
                       "((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)")
IMAGE_REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-repo"
DIGEST = "5b1a2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef"


def zip_file_arg(test):
    """fileb://PATH of a function zip on disk for the CLI (removed after the test)."""
    fd, path = tempfile.mkstemp(suffix=".zip")
    with os.fdopen(fd, "wb") as f:
        f.write(make_zip())
    test.addCleanup(os.unlink, path)
    return "fileb://" + path


def layer_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("python/mod.py", "X = 1\n")
    return buf.getvalue()


class TestParity(LambdadTestCase):
    # ---- PublishVersion after an update that changed nothing ----

    def test_publish_after_update_with_same_code(self):
        """AWS answers version 3 (moto's maintainers checked it against AWS)."""
        name = self.name()
        z1, z2 = make_zip({"app.py": "v = 1\n"}), make_zip({"app.py": "v = 2\n"})
        self.assertEqual(self.create(name, Code={"ZipFile": z1}, Publish=True)["Version"], "1")
        self.settled(name)
        self.assertEqual(self.lam.update_function_code(FunctionName=name, ZipFile=z2, Publish=True)["Version"], "2")
        self.settled(name)
        self.lam.update_function_code(FunctionName=name, ZipFile=z2)  # the same zip again
        self.settled(name)
        v3 = self.lam.publish_version(FunctionName=name)
        self.assertEqual(v3["Version"], "3")
        # no update in between: the same version again (test_version_lifecycle's third_publish_response)
        again = self.lam.publish_version(FunctionName=name, Description="ignored")
        self.assertEqual((again["Version"], again["RevisionId"]), ("3", v3["RevisionId"]))
        versions = [v["Version"] for v in self.lam.list_versions_by_function(FunctionName=name)["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1", "2", "3"])

    def test_publish_after_configuration_update_to_same_values(self):
        name = self.name()
        self.create(name)
        self.settled(name)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "1")
        self.lam.update_function_configuration(FunctionName=name, MemorySize=128, Timeout=3)  # the defaults
        self.settled(name)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "2")
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "2")
        # UpdateFunctionCode with Publish publishes the change itself: nothing left to publish
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip(), Publish=True)
        self.settled(name)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "3")

    # ---- cross-account PassRole ----

    def test_create_with_role_of_another_account(self):
        name = self.name()
        self.assertError("AccessDeniedException", self.create, name, Role=OTHER_ROLE, message=PASS_ROLE_MSG,
                         status=403)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name)

    def test_update_with_role_of_another_account(self):
        name = self.name()
        self.create(name)
        self.settled(name)
        self.assertError("AccessDeniedException", self.lam.update_function_configuration, FunctionName=name,
                         Role=OTHER_ROLE, message=PASS_ROLE_MSG, status=403)
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Role"], ROLE)
        # a role of the caller's own account is fine
        own = "arn:aws:iam::%s:role/other-role" % ACCOUNT
        self.assertEqual(self.lam.update_function_configuration(FunctionName=name, Role=own)["Role"], own)

    def test_cli_create_with_role_of_another_account(self):
        p = self.server.cli("create-function", "--function-name", self.name(), "--runtime", "python3.12",
                            "--handler", "app.handler", "--role", OTHER_ROLE, "--zip-file", zip_file_arg(self),
                            check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("(AccessDeniedException)", p.stderr)
        self.assertIn(PASS_ROLE_MSG, p.stderr)

    # ---- layers: an empty Description is left out of list items ----

    def test_layer_lists_omit_empty_description(self):
        name = self.name("layer")
        pub = self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip()},
                                             CompatibleRuntimes=["python3.12"])
        self.assertEqual(pub["Description"], "")
        got = self.lam.get_layer_version(LayerName=name, VersionNumber=pub["Version"])
        self.assertEqual(got["Description"], "")
        item = self.lam.list_layer_versions(LayerName=name)["LayerVersions"][0]
        self.assertNotIn("Description", item)
        self.assertEqual(item["LayerVersionArn"], pub["LayerVersionArn"])
        layers = {x["LayerName"]: x for x in self.lam.list_layers()["Layers"]}
        self.assertNotIn("Description", layers[name]["LatestMatchingVersion"])
        layers = {x["LayerName"]: x for x in self.lam.list_layers(CompatibleRuntime="python3.12")["Layers"]}
        self.assertNotIn("Description", layers[name]["LatestMatchingVersion"])
        # a description that is there is listed
        self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip()}, Description="two")
        items = self.lam.list_layer_versions(LayerName=name)["LayerVersions"]
        self.assertEqual([x.get("Description") for x in items], ["two", None])

    # ---- sensitive values never appear in messages ----

    def test_environment_key_message_hides_the_values(self):
        name = self.name()
        self.assertError("ValidationException", self.create, name, Environment={"Variables": {"A": "1"}},
                         message=ENV_KEY_MSG, status=400)
        self.create(name)
        err = self.assertError("ValidationException", self.lam.update_function_configuration, FunctionName=name,
                               Environment={"Variables": {"GOOD_KEY": "v", "bad-key-TOPSECRET": "VALUE-TOPSECRET"}},
                               message=ENV_KEY_MSG)
        self.assertNotIn("TOPSECRET", str(err))

    def test_cli_environment_key_message(self):
        p = self.server.cli("create-function", "--function-name", self.name(), "--runtime", "python3.12",
                            "--handler", "app.handler", "--role", ROLE, "--zip-file", zip_file_arg(self),
                            "--environment", "Variables={A=hunter2}", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(ENV_KEY_MSG, p.stderr)
        self.assertNotIn("hunter2", p.stderr)

    def test_invoke_parse_error_hides_the_payload(self):
        name = self.name()
        self.create(name)
        self.settled(name)
        for payload in (b'{"password": hunter2}', b'{"password": "hunter2" "x"}', b'["hunter2",'):
            err = self.assertError("InvalidRequestContentException", self.lam.invoke, FunctionName=name,
                                   Payload=payload, status=400)
            msg = err["Error"]["Message"]
            self.assertTrue(msg.startswith("Could not parse request body into json: Could not parse payload into "
                                           "json: "), msg)
            self.assertIn("[Source: REDACTED", msg)
            self.assertNotIn("hunter", msg)
            self.assertNotIn("password", msg)
        err = self.assertError("InvalidRequestContentException", self.lam.invoke_async, FunctionName=name,
                               InvokeArgs=b'{"password": hunter2}')
        self.assertNotIn("hunter", err["Error"]["Message"])

    def test_malformed_body_is_not_quoted(self):
        import urllib.error
        import urllib.request
        body = b'{"FunctionName": "f", "Environment": {"Variables": {"PASSWORD": hunter2}}}'
        req = urllib.request.Request(self.server.endpoint + "/2015-03-31/functions", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        text = cm.exception.read().decode()
        self.assertIn("Could not parse request body into json", text)
        self.assertNotIn("hunter", text)

    # ---- DestinationArn's pattern is AWS's current one ----

    def test_destination_pattern_message(self):
        """put_destination_invalid_arn_pattern."""
        name = self.name()
        self.create(name)
        bad = "arn:aws:_-/!lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
        self.assertError("ValidationException", self.lam.put_function_event_invoke_config, FunctionName=name,
                         DestinationConfig={"OnFailure": {"Destination": bad}},
                         message="1 validation error detected: Value '%s' at 'destinationConfig.onFailure.destination' "
                                 "failed to satisfy constraint: Member must satisfy regular expression pattern: %s"
                                 % (bad, DESTINATION_PATTERN))
        # an EU sovereign cloud region matches now
        eusc = "arn:aws-eusc:sqs:eusc-de-east-1:%s:queue" % ACCOUNT
        r = self.lam.put_function_event_invoke_config(FunctionName=name,
                                                      DestinationConfig={"OnFailure": {"Destination": eusc}})
        self.assertEqual(r["DestinationConfig"]["OnFailure"]["Destination"], eusc)

    # ---- Code.ResolvedImageUri ----

    def image_function(self, uri):
        name = self.name("img")
        self.lam.create_function(FunctionName=name, Role=ROLE, PackageType="Image", Code={"ImageUri": uri})
        return name

    def test_resolved_image_uri_of_pinned_image(self):
        """test_lambda_image_crud: ResolvedImageUri is REPO@sha256:DIGEST, the digest also CodeSha256."""
        for uri, resolved in ((IMAGE_REPO + "@sha256:" + DIGEST, IMAGE_REPO + "@sha256:" + DIGEST),
                              (IMAGE_REPO + ":latest@sha256:" + DIGEST, IMAGE_REPO + "@sha256:" + DIGEST),
                              ("localhost:5000/ns/repo:v1@sha256:" + DIGEST, "localhost:5000/ns/repo@sha256:" + DIGEST)):
            name = self.image_function(uri)
            got = self.lam.get_function(FunctionName=name)
            self.assertEqual(got["Code"], {"ImageUri": uri, "RepositoryType": "ECR", "ResolvedImageUri": resolved})
            self.assertEqual(got["Configuration"]["CodeSha256"], DIGEST)

    def test_no_resolved_image_uri_without_a_digest(self):
        """A tag is not a resolved image: lambdad does not know its digest, and invents none."""
        name = self.image_function(IMAGE_REPO + ":latest")
        code = self.lam.get_function(FunctionName=name)["Code"]
        self.assertEqual(code, {"ImageUri": IMAGE_REPO + ":latest", "RepositoryType": "ECR"})
        self.final_state(name)
        self.lam.update_function_code(FunctionName=name, ImageUri=IMAGE_REPO + "@sha256:" + DIGEST)
        code = self.lam.get_function(FunctionName=name)["Code"]
        self.assertEqual(code["ResolvedImageUri"], IMAGE_REPO + "@sha256:" + DIGEST)

    # ---- Invoke of a missing function names the qualified ARN ----

    def test_invoke_missing_function_names_latest(self):
        """test_invoke_exceptions (2025 recording): ...:function:doesnotexist:$LATEST."""
        missing = self.name("missing")
        want = "Function not found: %s%s:$LATEST" % (ARN_PREFIX, missing)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=missing, Payload=b"{}",
                         message=want, status=404)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=ARN_PREFIX + missing,
                         message=want)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=missing,
                         InvocationType="Event", Payload=b"{}", message=want)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=missing,
                         InvocationType="DryRun", message=want)
        self.assertError("ResourceNotFoundException", self.lam.invoke_with_response_stream, FunctionName=missing,
                         message=want, status=404)
        self.assertError("ResourceNotFoundException", self.lam.invoke_async, FunctionName=missing,
                         InvokeArgs=b"{}", message=want)

    def test_invoke_missing_qualifier_names_it(self):
        """test_function_name_and_qualifier_validation / test_lambda_alias_moving: the qualifier given."""
        missing = self.name("missing")
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=missing, Qualifier="$latest",
                         message="Function not found: %s%s:$latest" % (ARN_PREFIX, missing))
        name = self.name()
        self.create(name)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=name,
                         Qualifier="non-existent-alias",
                         message="Function not found: %s%s:non-existent-alias" % (ARN_PREFIX, name))
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=name + ":7",
                         message="Function not found: %s%s:7" % (ARN_PREFIX, name))
        # GetFunction keeps the unqualified ARN (test_ops_on_nonexisting_fn)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=missing,
                         message="Function not found: %s%s" % (ARN_PREFIX, missing))

    # ---- Kafka event source mappings start at TRIM_HORIZON by default ----

    def test_kafka_default_starting_position(self):
        """test_create_event_source_self_managed: event-source-mapping-default."""
        name = self.name("esm")
        self.create(name)
        secret = "arn:aws:secretsmanager:%s:%s:secret:kafka-secret" % (REGION, ACCOUNT)
        m = self.lam.create_event_source_mapping(
            FunctionName=name, Topics=["topic"], SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": secret}],
            SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["kafka:1000"]}})
        self.assertEqual(m["StartingPosition"], "TRIM_HORIZON")
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])["StartingPosition"], "TRIM_HORIZON")
        msk = "arn:aws:kafka:%s:%s:cluster/c1/0b1c2d3e-1111-2222-3333-444455556666-1" % (REGION, ACCOUNT)
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=msk, Topics=["topic"])
        self.assertEqual(m["StartingPosition"], "TRIM_HORIZON")
        # streams still require one
        kinesis = "arn:aws:kinesis:%s:%s:stream/s1" % (REGION, ACCOUNT)
        self.assertError("InvalidParameterValueException", self.lam.create_event_source_mapping,
                         FunctionName=name, EventSourceArn=kinesis,
                         message="1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                                 "constraint: Member must not be null.")
