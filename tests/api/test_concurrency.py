"""Reserved and provisioned concurrency: PutFunctionConcurrency,
GetFunctionConcurrency, DeleteFunctionConcurrency,
PutProvisionedConcurrencyConfig, GetProvisionedConcurrencyConfig,
DeleteProvisionedConcurrencyConfig, ListProvisionedConcurrencyConfigs, and
their effect on GetFunction and GetAccountSettings.

Shapes and messages are AWS's (TestLambdaReservedConcurrency and
TestLambdaProvisionedConcurrency in test_lambda_api.snapshot.json,
TestLambdaConcurrency in test_lambda.snapshot.json).
"""
import re
import time

from harness import ACCOUNT, REGION, LambdadTestCase

LIMIT = 1000
QUALIFIED = ("This operation is permitted on Lambda functions only. Aliases and versions do not support this "
             "operation. Please specify either a function name or an unqualified function ARN.")
RESERVED_MIN = ("Specified ReservedConcurrentExecutions for function decreases account's "
                "UnreservedConcurrentExecution below its minimum value of [100].")
PROV_MIN = ("Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            "below its minimum value of [100].")
PROV_OVER = "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [%d]."
PROV_OVER_RESERVED = ("Requested Provisioned Concurrency should not be greater than the "
                      "reservedConcurrentExecution for function")
UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version."
NO_CONFIG = "No Provisioned Concurrency Config found for this function"
PCC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


def body(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata", None)
    return resp


class ConcurrencyTestCase(LambdadTestCase):
    server_args = ("--account-concurrency", str(LIMIT))

    def unreserved(self):
        return self.lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]

    def published(self, name=None):
        """A function with version 1 published; returns its name."""
        name = name or self.name("pc")
        self.create(name, Publish=True)
        return name

    def publish_next(self, name, description):
        """Changes $LATEST, waits (bounded) until the change is applied, publishes it."""
        self.lam.update_function_configuration(FunctionName=name, Description=description)
        end = time.time() + 5
        while self.lam.get_function_configuration(FunctionName=name).get("LastUpdateStatus") != "Successful":
            if time.time() > end:
                self.fail("update of %s did not settle" % name)
            time.sleep(0.02)
        return self.lam.publish_version(FunctionName=name)["Version"]

    def ready(self, name, qualifier, deadline_s=5.0):
        end = time.time() + deadline_s
        while True:
            c = self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
            if c["Status"] == "READY":
                return c
            if time.time() > end:
                self.fail("not READY: %s" % c)
            time.sleep(0.02)


class TestReservedConcurrency(ConcurrencyTestCase):
    def test_lifecycle(self):
        name = self.name("rc")
        self.create(name)
        self.assertEqual(body(self.lam.get_function_concurrency(FunctionName=name)), {})
        self.assertNotIn("Concurrency", self.lam.get_function(FunctionName=name))
        before = self.unreserved()
        put = self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(body(put), {"ReservedConcurrentExecutions": 0})
        self.assertEqual(body(self.lam.put_function_concurrency(FunctionName=fn_arn(name),
                                                                ReservedConcurrentExecutions=3)),
                         {"ReservedConcurrentExecutions": 3})
        self.assertEqual(body(self.lam.get_function_concurrency(FunctionName=name)),
                         {"ReservedConcurrentExecutions": 3})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Concurrency"], {"ReservedConcurrentExecutions": 3})
        self.assertEqual(self.unreserved(), before - 3)
        resp = self.lam.delete_function_concurrency(FunctionName=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(body(self.lam.get_function_concurrency(FunctionName=name)), {})
        self.assertEqual(self.unreserved(), before)
        # deleting the function returns its reservation to the account
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
        self.lam.delete_function(FunctionName=name)
        self.assertEqual(self.unreserved(), before)

    def test_errors(self):
        self.assertError("ResourceNotFoundException", lambda: self.lam.put_function_concurrency(
            FunctionName="doesnotexist", ReservedConcurrentExecutions=1),
            message="Function not found: %s" % fn_arn("doesnotexist", "$LATEST"), status=404)
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_function_concurrency(
            FunctionName="doesnotexist"), message="Function not found: %s" % fn_arn("doesnotexist"))
        name = self.name("rc")
        self.create(name)
        for fn in (fn_arn(name, "$LATEST"), name + ":1"):
            err = self.assertError("InvalidParameterValueException", lambda: self.lam.put_function_concurrency(
                FunctionName=fn, ReservedConcurrentExecutions=0), message=QUALIFIED, status=400)
            self.assertEqual(err["Type"], "User")
        self.assertError("InvalidParameterValueException",
                         lambda: self.lam.get_function_concurrency(FunctionName=name + ":$LATEST"), message=QUALIFIED)
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_function_concurrency(
            FunctionName="arn:aws:lambda:eu-west-1:%s:function:%s" % (ACCOUNT, name)),
            message="Functions from 'eu-west-1' are not reachable in this region ('%s')" % REGION)
        raw = self.server.client(validate=False)
        self.assertError("ValidationException", lambda: raw.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=-1),
            message="1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 0")

    def test_limits(self):
        name = self.name("rc")
        self.create(name)
        limit = self.lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
        self.assertEqual(limit, LIMIT)
        for n in (limit + 1, limit, self.unreserved() - 99):
            err = self.assertError("InvalidParameterValueException", lambda: self.lam.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=n), message=RESERVED_MIN, status=400)
            self.assertNotIn("Type", err)  # AWS sends this one without Type
        # exactly down to the floor is allowed, and another function can then reserve nothing
        top = self.unreserved() - 100
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=top)
        self.assertEqual(self.unreserved(), 100)
        other = self.name("rc")
        self.create(other)
        self.assertError("InvalidParameterValueException", lambda: self.lam.put_function_concurrency(
            FunctionName=other, ReservedConcurrentExecutions=1), message=RESERVED_MIN)
        self.lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=0)
        # the function's own reservation is replaced, not added to
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=top)
        self.lam.delete_function_concurrency(FunctionName=name)
        self.assertEqual(self.unreserved(), LIMIT)

    def test_cli(self):
        name = self.name("rccli")
        self.create(name)
        self.assertEqual(self.server.cli("put-function-concurrency", "--function-name", name,
                                         "--reserved-concurrent-executions", "4"),
                         {"ReservedConcurrentExecutions": 4})
        self.assertEqual(self.server.cli("get-function-concurrency", "--function-name", name),
                         {"ReservedConcurrentExecutions": 4})
        self.assertIsNone(self.server.cli("delete-function-concurrency", "--function-name", name))
        # an empty answer: the CLI prints nothing
        self.assertIsNone(self.server.cli("get-function-concurrency", "--function-name", name))


class TestProvisionedConcurrency(ConcurrencyTestCase):
    def test_lifecycle_on_version(self):
        name = self.published()
        before = self.unreserved()
        put = self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                          ProvisionedConcurrentExecutions=2)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 202)
        put = body(put)
        self.assertRegex(put.pop("LastModified"), PCC_TIME)
        self.assertEqual(put, {"AllocatedProvisionedConcurrentExecutions": 0,
                               "AvailableProvisionedConcurrentExecutions": 0,
                               "RequestedProvisionedConcurrentExecutions": 2, "Status": "IN_PROGRESS"})
        got = body(self.ready(name, "1"))
        self.assertRegex(got.pop("LastModified"), PCC_TIME)
        self.assertEqual(got, {"AllocatedProvisionedConcurrentExecutions": 2,
                               "AvailableProvisionedConcurrentExecutions": 2,
                               "RequestedProvisionedConcurrentExecutions": 2, "Status": "READY"})
        # provisioned concurrency of a function without a reservation comes out of the unreserved pool
        self.assertEqual(self.unreserved(), before - 2)
        items = self.lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["FunctionArn"], fn_arn(name, "1"))
        self.assertEqual(items[0]["Status"], "READY")
        # a change goes back to IN_PROGRESS, then READY with the new amount
        up = self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                         ProvisionedConcurrentExecutions=3)
        self.assertEqual((up["Status"], up["RequestedProvisionedConcurrentExecutions"]), ("IN_PROGRESS", 3))
        self.assertEqual(self.ready(name, "1")["AllocatedProvisionedConcurrentExecutions"], 3)
        resp = self.lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        err = self.assertError("ProvisionedConcurrencyConfigNotFoundException",
                               lambda: self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
                               message=NO_CONFIG, status=404)
        self.assertEqual(err["Type"], "User")
        self.assertEqual(self.unreserved(), before)

    def test_exceptions(self):
        name = self.published()
        self.assertError("ProvisionedConcurrencyConfigNotFoundException",
                         lambda: self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
                         message=NO_CONFIG)
        for call in (self.lam.get_provisioned_concurrency_config, self.lam.delete_provisioned_concurrency_config):
            self.assertError("ResourceNotFoundException", lambda: call(FunctionName="doesnotexist", Qualifier="noalias"),
                             message="Cannot find alias arn: %s" % fn_arn("doesnotexist", "noalias"))
            self.assertError("ResourceNotFoundException", lambda: call(FunctionName=name, Qualifier="noalias"),
                             message="Cannot find alias arn: %s" % fn_arn(name, "noalias"))
            self.assertError("ResourceNotFoundException", lambda: call(FunctionName=name, Qualifier="10"),
                             message="Function not found: %s" % fn_arn(name, "10"))
            err = self.assertError("InvalidParameterValueException",
                                   lambda: call(FunctionName=name, Qualifier="$LATEST"),
                                   message=NOT_ALIAS_OR_VERSION, status=400)
            self.assertEqual(err["Type"], "User")
        self.assertError("ResourceNotFoundException", lambda: self.lam.delete_provisioned_concurrency_config(
            FunctionName="doesnotexist", Qualifier="1"), message="Function not found: %s" % fn_arn("doesnotexist", "1"))
        resp = self.lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        lst = self.lam.list_provisioned_concurrency_configs(FunctionName=name)
        self.assertEqual(body(lst), {"ProvisionedConcurrencyConfigs": []})
        self.assertError("ResourceNotFoundException",
                         lambda: self.lam.list_provisioned_concurrency_configs(FunctionName="doesnotexist"),
                         message="Function not found: %s" % fn_arn("doesnotexist"))
        put = self.lam.put_provisioned_concurrency_config
        self.assertError("ResourceNotFoundException", lambda: put(
            FunctionName="doesnotexist", Qualifier="noalias", ProvisionedConcurrentExecutions=1),
            message="Cannot find alias arn: %s" % fn_arn("doesnotexist", "noalias"))
        self.assertError("ResourceNotFoundException", lambda: put(
            FunctionName="doesnotexist", Qualifier="1", ProvisionedConcurrentExecutions=1),
            message="Function not found: %s" % fn_arn("doesnotexist", "1"))
        self.assertError("ResourceNotFoundException", lambda: put(
            FunctionName=name, Qualifier="doesnotexist", ProvisionedConcurrentExecutions=1),
            message="Cannot find alias arn: %s" % fn_arn(name, "doesnotexist"))
        self.assertError("ResourceNotFoundException", lambda: put(
            FunctionName=name, Qualifier="10", ProvisionedConcurrentExecutions=1),
            message="Function not found: %s" % fn_arn(name, "10"))
        self.assertError("InvalidParameterValueException", lambda: put(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1), message=UNPUBLISHED)
        raw = self.server.client(validate=False)
        self.assertError("ValidationException", lambda: raw.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=0),
            message="1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 1")

    def test_alias_and_version_conflicts(self):
        name = self.published()
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
        err = self.assertError("ResourceConflictException", lambda: self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1),
            message="Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
            status=409)
        self.assertEqual(err["Type"], "User")
        self.lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        put = self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live",
                                                          ProvisionedConcurrentExecutions=1)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertError("ResourceConflictException", lambda: self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1),
            message="Version is pointed by a Provisioned Concurrency alias")
        items = self.lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
        self.assertEqual([i["FunctionArn"] for i in items], [fn_arn(name, "live")])
        # deleting the alias deletes its config
        self.lam.delete_alias(FunctionName=name, Name="live")
        self.assertError("ResourceNotFoundException", lambda: self.lam.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier="live"), message="Cannot find alias arn: %s" % fn_arn(name, "live"))
        self.assertEqual(self.lam.list_provisioned_concurrency_configs(FunctionName=name)
                         ["ProvisionedConcurrencyConfigs"], [])

    def test_limits(self):
        name = self.published()
        limit = self.lam.get_account_settings()["AccountLimit"]["ConcurrentExecutions"]
        err = self.assertError("InvalidParameterValueException", lambda: self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=limit + 1),
            message=PROV_OVER % self.unreserved())
        self.assertNotIn("Type", err)
        err = self.assertError("InvalidParameterValueException", lambda: self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=limit), message=PROV_MIN)
        self.assertNotIn("Type", err)

    def test_reserved_overlap(self):
        name = self.published()
        before = self.unreserved()
        self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
        err = self.assertError("InvalidParameterValueException", lambda: self.lam.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=1),
            message=" ReservedConcurrentExecutions  1 should not be lower than function's total provisioned "
                    "concurrency [2].")
        self.assertNotIn("Type", err)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
        # with a reservation, provisioned concurrency must fit inside it
        self.assertEqual(self.publish_next(name, "v2"), "2")
        err = self.assertError("InvalidParameterValueException", lambda: self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="2", ProvisionedConcurrentExecutions=1), message=PROV_OVER_RESERVED)
        self.assertEqual(err["Type"], "User")
        self.assertError("InvalidParameterValueException", lambda: self.lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=3), message=PROV_OVER_RESERVED)
        # the reservation, not the provisioned amount, is what the function takes from the account
        self.assertEqual(self.unreserved(), before - 2)

    def test_list_paging_and_cli(self):
        name = self.published()
        self.assertEqual(self.publish_next(name, "v2"), "2")
        self.lam.create_alias(FunctionName=name, Name="blue", FunctionVersion="2")
        for q in ("1", "blue"):
            self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=q, ProvisionedConcurrentExecutions=1)
        page = self.lam.list_provisioned_concurrency_configs(FunctionName=name, MaxItems=1)
        self.assertEqual(len(page["ProvisionedConcurrencyConfigs"]), 1)
        rest = self.lam.list_provisioned_concurrency_configs(FunctionName=name, MaxItems=1, Marker=page["NextMarker"])
        self.assertNotIn("NextMarker", rest)
        arns = [i["FunctionArn"] for i in page["ProvisionedConcurrencyConfigs"] + rest["ProvisionedConcurrencyConfigs"]]
        self.assertEqual(sorted(arns), [fn_arn(name, "1"), fn_arn(name, "blue")])
        out = self.server.cli("get-provisioned-concurrency-config", "--function-name", name, "--qualifier", "blue")
        self.assertEqual(out["RequestedProvisionedConcurrentExecutions"], 1)
        out = self.server.cli("list-provisioned-concurrency-configs", "--function-name", name)
        self.assertEqual(len(out["ProvisionedConcurrencyConfigs"]), 2)


class TestConcurrencyPersistence(ConcurrencyTestCase):
    def test_kill9(self):
        name = self.published()
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
        self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
        ready = self.ready(name, "1")
        self.server.kill9()
        self.server.start()
        self.assertEqual(body(self.lam.get_function_concurrency(FunctionName=name)),
                         {"ReservedConcurrentExecutions": 5})
        self.assertEqual(body(self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")),
                         body(ready))
        self.assertEqual(self.unreserved(), LIMIT - 5)
        # a function deleted with its versions leaves no configs behind
        self.lam.delete_function(FunctionName=name)
        self.assertEqual(self.unreserved(), LIMIT)
