"""Event invoke configs: Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s).

Shapes and messages are AWS's, from TestLambdaEventInvokeConfig and
test_ops_on_nonexisting_version/fn in test_lambda_api.snapshot.json.
"""
import datetime
import json
import time
import unittest
import urllib.request

from harness import ACCOUNT, REGION, LambdadTestCase, Server

NO_SETTING = "You must specify at least one of error handling or destination setting."
NO_FUNCTION = "The function doesn't exist."
SELF_DEST = "You can't specify the function as a destination for itself."
MISMATCH = "The derived qualifier from the function name does not match the specified qualifier."
EMPTY_DEST = {"OnSuccess": {}, "OnFailure": {}}


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


def no_config(name, qualifier="$LATEST"):
    return "The function %s doesn't have an EventInvokeConfig" % fn_arn(name, qualifier)


def strip(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    return resp


class EicTestCase(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the recordings call with client-side validation off, as here
        cls.raw = cls.server.client(validate=False)


    def fn_with_version_and_alias(self):
        name = self.name("eic")
        self.create(name)
        self.settled(name)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "1")
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        return name


class TestLifecycle(EicTestCase):
    def test_put_update_get_list_delete(self):
        name = self.name("eic")
        self.create(name)
        before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)
        put = self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 200)
        put = strip(put)
        self.assertEqual(set(put), {"LastModified", "FunctionArn", "MaximumRetryAttempts", "DestinationConfig"})
        self.assertEqual(put["FunctionArn"], fn_arn(name, "$LATEST"))
        self.assertEqual(put["MaximumRetryAttempts"], 0)
        self.assertEqual(put["DestinationConfig"], EMPTY_DEST)
        self.assertIsInstance(put["LastModified"], datetime.datetime)
        self.assertGreater(put["LastModified"], before)

        # Put replaces the whole config
        put2 = strip(self.lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60))
        self.assertEqual(set(put2), {"LastModified", "FunctionArn", "MaximumEventAgeInSeconds", "DestinationConfig"})
        self.assertEqual(put2["MaximumEventAgeInSeconds"], 60)

        # Update merges into it
        up = strip(self.lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1))
        self.assertEqual(up["MaximumEventAgeInSeconds"], 60)
        self.assertEqual(up["MaximumRetryAttempts"], 1)
        self.assertEqual(up["DestinationConfig"], EMPTY_DEST)
        self.assertGreaterEqual(up["LastModified"], put2["LastModified"])

        got = strip(self.lam.get_function_event_invoke_config(FunctionName=name))
        self.assertEqual(got, up)
        self.assertEqual(strip(self.lam.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")), up)
        listed = self.lam.list_function_event_invoke_configs(FunctionName=name)
        self.assertEqual(listed["FunctionEventInvokeConfigs"], [up])
        self.assertNotIn("NextMarker", listed)

        d = self.lam.delete_function_event_invoke_config(FunctionName=name)
        self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName=name, message=no_config(name), status=404)
        self.assertError("ResourceNotFoundException", self.lam.delete_function_event_invoke_config,
                         FunctionName=name, message=no_config(name), status=404)
        self.assertEqual(self.lam.list_function_event_invoke_configs(FunctionName=name)
                         ["FunctionEventInvokeConfigs"], [])

    def test_overwrite_and_update_semantics(self):
        name = self.name("eic")
        self.create(name)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2,
                                                  MaximumEventAgeInSeconds=60)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        got = self.lam.get_function_event_invoke_config(FunctionName=name)
        self.assertEqual(got["MaximumRetryAttempts"], 0)
        self.assertNotIn("MaximumEventAgeInSeconds", got)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2,
                                                  MaximumEventAgeInSeconds=60)
        self.lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        got = self.lam.get_function_event_invoke_config(FunctionName=name)
        self.assertEqual((got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]), (0, 60))
        # max values
        r = self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2,
                                                      MaximumEventAgeInSeconds=21600)
        self.assertEqual((r["MaximumRetryAttempts"], r["MaximumEventAgeInSeconds"]), (2, 21600))

    def test_update_destinations_merge(self):
        name, other = self.name("eic"), self.name("eic")
        self.create(name)
        self.create(other)
        self.lam.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=1,
            DestinationConfig={"OnSuccess": {"Destination": fn_arn(other)}})
        up = self.lam.update_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:%s:%s:dlq" % (REGION, ACCOUNT)}})
        self.assertEqual(up["DestinationConfig"], {
            "OnSuccess": {"Destination": fn_arn(other)},
            "OnFailure": {"Destination": "arn:aws:sqs:%s:%s:dlq" % (REGION, ACCOUNT)}})
        self.assertEqual(up["MaximumRetryAttempts"], 1)
        # an empty OnSuccess clears it
        up = self.lam.update_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {}})
        self.assertEqual(up["DestinationConfig"]["OnSuccess"], {})
        self.assertIn("Destination", up["DestinationConfig"]["OnFailure"])

    def test_wire_format(self):
        """LastModified is a JSON number (epoch seconds), as the model's Date in rest-json."""
        name = self.name("eic")
        self.create(name)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
        with urllib.request.urlopen(self.server.endpoint + "/2019-09-25/functions/%s/event-invoke-config" % name) as r:
            body = json.loads(r.read())
        self.assertIsInstance(body["LastModified"], float)
        self.assertLess(abs(body["LastModified"] - time.time()), 60)
        self.assertEqual(list(body), ["LastModified", "FunctionArn", "MaximumRetryAttempts", "DestinationConfig"])


class TestErrors(EicTestCase):
    def test_missing_function(self):
        fake = fn_arn("doesnotexist")
        for fname in ("doesnotexist", fake):
            self.assertError("ResourceNotFoundException", self.lam.put_function_event_invoke_config,
                             FunctionName=fname, MaximumRetryAttempts=1, message=NO_FUNCTION, status=404)
        self.assertError("ResourceNotFoundException", self.lam.update_function_event_invoke_config,
                         FunctionName="doesnotexist", MaximumRetryAttempts=0, message=NO_FUNCTION)
        self.assertError("ResourceNotFoundException", self.lam.list_function_event_invoke_configs,
                         FunctionName="doesnotexist", message=NO_FUNCTION)
        # Get and Delete name the missing config, qualified with $LATEST
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName="doesnotexist", message=no_config("doesnotexist"))
        self.assertError("ResourceNotFoundException", self.lam.delete_function_event_invoke_config,
                         FunctionName="doesnotexist", message=no_config("doesnotexist"))

    def test_no_setting(self):
        err = self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                               FunctionName="doesnotexist", message=NO_SETTING, status=400)
        self.assertEqual(err["Type"], "User")
        self.assertEqual(err["message"], NO_SETTING)

    def test_nonexisting_version_and_config(self):
        name = self.fn_with_version_and_alias()
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName=name, Qualifier="1221", message=no_config(name, "1221"))
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName=name, Qualifier="doesnotexist", message=no_config(name, "doesnotexist"))
        self.assertError("ResourceNotFoundException", self.lam.update_function_event_invoke_config,
                         FunctionName=fn_arn(name, "live"), MaximumRetryAttempts=0, message=no_config(name, "live"))
        self.assertError("ResourceNotFoundException", self.lam.update_function_event_invoke_config,
                         FunctionName=fn_arn(name), MaximumRetryAttempts=0, message=no_config(name))
        self.assertError("ResourceNotFoundException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, Qualifier="livedoesnotexist", MaximumRetryAttempts=1,
                         message=NO_FUNCTION)
        self.assertError("ResourceNotFoundException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, Qualifier="7", MaximumRetryAttempts=1, message=NO_FUNCTION)

    def test_wrong_region(self):
        name = self.name("eic")
        self.create(name)
        arn = "arn:aws:lambda:eu-central-1:%s:function:%s" % (ACCOUNT, name)
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config, FunctionName=arn,
                         message="Functions from 'eu-central-1' are not reachable in this region ('us-east-1')")

    def test_ranges(self):
        name = self.name("eic")
        self.create(name)
        err = self.assertError("ValidationException", self.raw.put_function_event_invoke_config,
                               FunctionName=name, MaximumRetryAttempts=3, status=400)
        self.assertIn("at 'maximumRetryAttempts' failed to satisfy constraint: "
                      "Member must have value less than or equal to 2", err["Error"]["Message"])
        err = self.assertError("ValidationException", self.raw.put_function_event_invoke_config,
                               FunctionName=name, MaximumEventAgeInSeconds=59)
        self.assertIn("at 'maximumEventAgeInSeconds' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 60", err["Error"]["Message"])
        self.assertError("ValidationException", self.raw.update_function_event_invoke_config,
                         FunctionName=name, MaximumEventAgeInSeconds=21601)


class TestDestinations(EicTestCase):
    def test_lambda_destinations(self):
        name, other = self.name("eic"), self.name("eic")
        self.create(name)
        self.create(other)
        missing = fn_arn("doesnotexist")
        self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": missing}},
                         message="The destination ARN %s is invalid." % missing)
        self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": fn_arn(name)}},
                         message=SELF_DEST)
        self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, DestinationConfig={"OnFailure": {"Destination": fn_arn(name, "$LATEST")}},
                         message=SELF_DEST)
        r = self.lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": fn_arn(other)}})
        self.assertEqual(r["DestinationConfig"], {"OnSuccess": {"Destination": fn_arn(other)}, "OnFailure": {}})
        self.assertNotIn("MaximumRetryAttempts", r)
        # a qualified destination must exist too
        self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": fn_arn(other, "9")}},
                         message="The destination ARN %s is invalid." % fn_arn(other, "9"))

    def test_service_destinations(self):
        name = self.name("eic")
        self.create(name)
        ok = {
            "sqs": "arn:aws:sqs:%s:%s:queue" % (REGION, ACCOUNT),
            "sns": "arn:aws:sns:%s:%s:topic" % (REGION, ACCOUNT),
            "events": "arn:aws:events:%s:%s:event-bus/default" % (REGION, ACCOUNT),
        }
        for dest in ok.values():
            for which in ("OnSuccess", "OnFailure"):
                r = self.lam.put_function_event_invoke_config(FunctionName=name,
                                                              DestinationConfig={which: {"Destination": dest}})
                self.assertEqual(r["DestinationConfig"][which], {"Destination": dest})
        # S3 buckets take failures only
        bucket = "arn:aws:s3:::failures"
        r = self.lam.put_function_event_invoke_config(FunctionName=name,
                                                      DestinationConfig={"OnFailure": {"Destination": bucket}})
        self.assertEqual(r["DestinationConfig"]["OnFailure"], {"Destination": bucket})
        self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                         FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": bucket}},
                         message="The provided destination config DestinationConfig(onSuccess=OnSuccess("
                                 "destination=%s), onFailure=null) is invalid." % bucket)

    def test_invalid_service_and_pattern(self):
        name = self.name("eic")
        self.create(name)
        iam = fn_arn(name).replace(":lambda:", ":iam:")
        err = self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                               FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": iam}},
                               message="The provided destination config DestinationConfig(onSuccess=OnSuccess("
                                       "destination=%s), onFailure=null) is invalid." % iam)
        self.assertEqual(err["Type"], "User")
        self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                         FunctionName=name,
                         DestinationConfig={"OnSuccess": {}, "OnFailure": {"Destination": iam}},
                         message="The provided destination config DestinationConfig(onSuccess=OnSuccess("
                                 "destination=null), onFailure=OnFailure(destination=%s)) is invalid." % iam)
        bad = fn_arn(name).replace(":lambda:", ":_-/!lambda:")
        err = self.assertError("ValidationException", self.raw.put_function_event_invoke_config,
                               FunctionName=name, DestinationConfig={"OnFailure": {"Destination": bad}})
        self.assertTrue(err["Error"]["Message"].startswith(
            "1 validation error detected: Value '%s' at 'destinationConfig.onFailure.destination' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: " % bad), err)

    def test_empty_destinations(self):
        name = self.name("eic")
        self.create(name)
        for dc in ({"OnSuccess": {}}, {"OnFailure": {}}):
            r = self.lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig=dc)
            self.assertEqual(r["DestinationConfig"], EMPTY_DEST)
            self.assertNotIn("MaximumRetryAttempts", r)


class TestQualifiers(EicTestCase):
    def test_qualifier_forms(self):
        name = self.fn_with_version_and_alias()
        alias_arn = fn_arn(name, "live")
        cases = [
            (dict(FunctionName=name), "$LATEST"),
            (dict(FunctionName=name, Qualifier="$LATEST"), "$LATEST"),
            (dict(FunctionName=name, Qualifier="1"), "1"),
            (dict(FunctionName=name, Qualifier="live"), "live"),
            (dict(FunctionName=alias_arn), "live"),
            (dict(FunctionName=alias_arn, Qualifier="live"), "live"),
            (dict(FunctionName=name + ":live"), "live"),
            (dict(FunctionName=name + ":live", Qualifier="live"), "live"),
            (dict(FunctionName=name + ":1"), "1"),
            (dict(FunctionName=name + ":$LATEST", Qualifier="$LATEST"), "$LATEST"),
        ]
        for kw, qual in cases:
            r = self.lam.put_function_event_invoke_config(MaximumRetryAttempts=1, **kw)
            self.assertEqual(r["FunctionArn"], fn_arn(name, qual), kw)
        for kw in (dict(FunctionName=alias_arn, Qualifier="livedoesnotexist"),
                   dict(FunctionName=name + ":live", Qualifier="livedoesnotexist"),
                   dict(FunctionName=name + ":1", Qualifier="$LATEST"),
                   dict(FunctionName=name + ":$LATEST", Qualifier="1"),
                   dict(FunctionName=name + ":1", Qualifier="live")):
            self.assertError("InvalidParameterValueException", self.lam.put_function_event_invoke_config,
                             MaximumRetryAttempts=1, message=MISMATCH, **kw)
        listed = self.lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
        self.assertEqual(sorted(c["FunctionArn"] for c in listed),
                         sorted([fn_arn(name, "$LATEST"), fn_arn(name, "1"), fn_arn(name, "live")]))
        for q in ("$LATEST", "1", "live"):
            d = self.lam.delete_function_event_invoke_config(FunctionName=name, Qualifier=q)
            self.assertEqual(d["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.lam.list_function_event_invoke_configs(FunctionName=name)
                         ["FunctionEventInvokeConfigs"], [])

    def test_paging(self):
        name = self.fn_with_version_and_alias()
        for q in ("$LATEST", "1", "live"):
            self.lam.put_function_event_invoke_config(FunctionName=name, Qualifier=q, MaximumRetryAttempts=1)
        page = self.lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
        self.assertEqual(len(page["FunctionEventInvokeConfigs"]), 2)
        self.assertTrue(page["NextMarker"])
        page2 = self.lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2, Marker=page["NextMarker"])
        self.assertEqual(len(page2["FunctionEventInvokeConfigs"]), 1)
        self.assertNotIn("NextMarker", page2)
        arns = [c["FunctionArn"] for c in page["FunctionEventInvokeConfigs"] + page2["FunctionEventInvokeConfigs"]]
        self.assertEqual(len(set(arns)), 3)
        # the paginator walks every page
        pages = self.lam.get_paginator("list_function_event_invoke_configs").paginate(
            FunctionName=name, PaginationConfig={"PageSize": 1})
        self.assertEqual(sum(len(p["FunctionEventInvokeConfigs"]) for p in pages), 3)

    def test_deleted_with_alias_version_and_function(self):
        name = self.fn_with_version_and_alias()
        for q in ("$LATEST", "1", "live"):
            self.lam.put_function_event_invoke_config(FunctionName=name, Qualifier=q, MaximumRetryAttempts=1)
        self.lam.delete_alias(FunctionName=name, Name="live")
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName=name, Qualifier="live", message=no_config(name, "live"))
        self.lam.delete_function(FunctionName=name, Qualifier="1")
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName=name, Qualifier="1")
        self.assertEqual(len(self.lam.list_function_event_invoke_configs(FunctionName=name)
                             ["FunctionEventInvokeConfigs"]), 1)
        self.lam.delete_function(FunctionName=name)
        self.create(name)
        self.assertEqual(self.lam.list_function_event_invoke_configs(FunctionName=name)
                         ["FunctionEventInvokeConfigs"], [])


class TestCliAndRestart(EicTestCase):
    def test_cli(self):
        name = self.name("eic")
        self.create(name)
        out = self.server.cli("put-function-event-invoke-config", "--function-name", name,
                              "--maximum-retry-attempts", "2", "--maximum-event-age-in-seconds", "3600")
        self.assertEqual(out["FunctionArn"], fn_arn(name, "$LATEST"))
        self.assertEqual((out["MaximumRetryAttempts"], out["MaximumEventAgeInSeconds"]), (2, 3600))
        out = self.server.cli("list-function-event-invoke-configs", "--function-name", name)
        self.assertEqual(len(out["FunctionEventInvokeConfigs"]), 1)
        self.server.cli("delete-function-event-invoke-config", "--function-name", name)
        p = self.server.cli("get-function-event-invoke-config", "--function-name", name, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("doesn't have an EventInvokeConfig", p.stderr)

    def test_survives_kill9(self):
        name, other = self.name("eic"), self.name("eic")
        self.create(name)
        self.create(other)
        put = strip(self.lam.put_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=300,
            DestinationConfig={"OnSuccess": {"Destination": fn_arn(other)}}))
        srv = self.server
        srv.kill9()
        srv.start()
        got = strip(self.lam.get_function_event_invoke_config(FunctionName=name))
        self.assertEqual(got, put)


if __name__ == "__main__":
    unittest.main()
