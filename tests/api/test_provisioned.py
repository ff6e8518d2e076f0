"""Provisioned concurrency made real: PutProvisionedConcurrencyConfig starts
that many initialised environments (AWS_LAMBDA_INITIALIZATION_TYPE =
provisioned-concurrency), the config goes IN_PROGRESS then READY with true
counts (or FAILED, StatusReason FUNCTION_ERROR_INIT_FAILURE, when init fails),
invokes run warm on them first and spill over to on-demand environments,
and deleting the config, moving its alias or deleting the function releases
them. Shapes are AWS's (TestLambdaConcurrency in test_lambda.snapshot.json:
put_provisioned_5, get_provisioned_prewait, get_provisioned_postwait,
invoke_latest_first_exc).
"""
import json
import re
import threading
import time

from harness import ROLE, make_zip
from test_invoke import InvokeCase

# init takes 0.3 s; each invocation says how its environment was initialised
CODE = """\
import os, time, uuid
time.sleep(0.3)
ENV_ID = str(uuid.uuid4())
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "env": ENV_ID,
            "version": context.function_version}
"""
BROKEN = "raise RuntimeError('init fails')\ndef handler(e, c):\n    return 1\n"
REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"


class ProvisionedCase(InvokeCase):
    def published(self, code=CODE, versions=1):
        name = self.name("prov")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": code})}, Publish=True)
        self.wait_ready(name)
        for i in range(1, versions):
            self.lam.update_function_configuration(FunctionName=name, Description="v%d" % (i + 1))
            self.wait_ready(name)
            self.lam.publish_version(FunctionName=name)
        return name

    def wait_status(self, name, qualifier, status, deadline_s=10.0):
        end = time.time() + deadline_s
        while True:
            c = self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
            if c["Status"] == status:
                c.pop("ResponseMetadata")
                return c
            self.assertEqual(c["Status"], "IN_PROGRESS", c)
            self.assertLess(time.time(), end, "not %s: %s" % (status, c))
            time.sleep(0.02)

    def provision(self, name, qualifier, n):
        put = self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier,
                                                          ProvisionedConcurrentExecutions=n)
        self.assertEqual(put["Status"], "IN_PROGRESS")
        return self.wait_status(name, qualifier, "READY")


class TestProvisioned(ProvisionedCase):
    def test_in_progress_then_ready_with_true_counts(self):
        name = self.published()
        put = self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                          ProvisionedConcurrentExecutions=3)
        self.assertEqual(put["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual((put["Status"], put["AllocatedProvisionedConcurrentExecutions"],
                          put["AvailableProvisionedConcurrentExecutions"]), ("IN_PROGRESS", 0, 0))
        # initialisation takes 0.3 s: right after the put it is still in progress
        pre = self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        self.assertEqual((pre["Status"], pre["AllocatedProvisionedConcurrentExecutions"]), ("IN_PROGRESS", 0))
        started = time.time()
        ready = self.wait_status(name, "1", "READY")
        self.assertLess(time.time() - started, 5)
        self.assertEqual(ready, {"AllocatedProvisionedConcurrentExecutions": 3,
                                 "AvailableProvisionedConcurrentExecutions": 3, "LastModified": put["LastModified"],
                                 "RequestedProvisionedConcurrentExecutions": 3, "Status": "READY"})
        items = self.lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
        self.assertEqual([(i["Status"], i["AllocatedProvisionedConcurrentExecutions"]) for i in items],
                         [("READY", 3)])
        # three warm environments, one per concurrent invocation
        out = []
        threads = [threading.Thread(target=lambda: out.append(
            self.invoke_json(name, {"sleep": 0.5}, Qualifier="1"))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(o["type"] for o in out), ["provisioned-concurrency"] * 3)
        self.assertEqual(len({o["env"] for o in out}), 3)
        # a smaller amount keeps fewer
        self.assertEqual(self.provision(name, "1", 1)["AllocatedProvisionedConcurrentExecutions"], 1)

    def test_warm_first_invoke_and_initialization_type(self):
        name = self.published()
        self.provision(name, "1", 1)
        started = time.time()
        resp, body = self.invoke(name, Qualifier="1", LogType="Tail")
        took = time.time() - started
        self.assertEqual(json.loads(body)["type"], "provisioned-concurrency")
        self.assert_platform_lines(self.tail(resp), version="1", init=False)
        self.assertLess(took, 0.3, "the 0.3 s init ran before, not during, the invoke")
        # $LATEST has no provisioned concurrency: on-demand, with its Init Duration
        resp, body = self.invoke(name, LogType="Tail")
        self.assertEqual(json.loads(body)["type"], "on-demand")
        self.assert_platform_lines(self.tail(resp), init=True)

    def test_spill_over_to_on_demand(self):
        name = self.published()
        self.provision(name, "1", 1)
        out = []
        threads = [threading.Thread(target=lambda: out.append(
            self.invoke_json(name, {"sleep": 1}, Qualifier="1"))) for _ in range(2)]
        for t in threads:
            t.start()
            time.sleep(0.2)
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(o["type"] for o in out), ["on-demand", "provisioned-concurrency"])
        # the provisioned one is used first again once free
        self.assertEqual(self.invoke_json(name, Qualifier="1")["type"], "provisioned-concurrency")

    def test_release_on_delete(self):
        name = self.published()
        self.provision(name, "1", 1)
        env = self.invoke_json(name, Qualifier="1")
        self.assertEqual(env["type"], "provisioned-concurrency")
        self.lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        after = self.invoke_json(name, Qualifier="1")
        self.assertEqual(after["type"], "on-demand")
        self.assertNotEqual(after["env"], env["env"])

    def test_failed_on_init_error(self):
        name = self.published(BROKEN)
        put = self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                          ProvisionedConcurrentExecutions=2)
        self.assertEqual(put["Status"], "IN_PROGRESS")
        failed = self.wait_status(name, "1", "FAILED")
        self.assertEqual(failed["StatusReason"], "FUNCTION_ERROR_INIT_FAILURE")
        self.assertEqual((failed["AllocatedProvisionedConcurrentExecutions"],
                          failed["RequestedProvisionedConcurrentExecutions"]), (0, 2))
        # invokes still run (and fail) on demand, with the init error
        doc, _ = self.invoke_error(name, Qualifier="1")
        self.assertEqual(doc["errorType"], "RuntimeError")

    def test_counts_toward_the_reservation(self):
        """AWS: reserved 1 and provisioned 1 on version 1 leave nothing for
        $LATEST (invoke_latest_first_exc), version 1 runs on its environment."""
        name = self.published()
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                    ProvisionedConcurrentExecutions=1)
        err = self.assertError("TooManyRequestsException", self.lam.invoke, FunctionName=name, status=429,
                               message="Rate Exceeded.")
        self.assertEqual(err["Reason"], REASON)
        self.wait_status(name, "1", "READY")
        self.assertEqual(self.invoke_json(name, Qualifier="1")["type"], "provisioned-concurrency")
        self.assertError("TooManyRequestsException", self.lam.invoke, FunctionName=name, status=429)
        self.lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        self.assertEqual(self.invoke_json(name)["type"], "on-demand")

    def test_moves_with_the_alias(self):
        name = self.published(versions=2)
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.provision(name, "live", 1)
        first = self.invoke_json(name, Qualifier="live")
        self.assertEqual((first["type"], first["version"]), ("provisioned-concurrency", "1"))
        self.lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
        end = time.time() + 5
        while True:
            moved = self.invoke_json(name, Qualifier="live")
            self.assertEqual(moved["version"], "2")
            if moved["type"] == "provisioned-concurrency":
                break
            self.assertLess(time.time(), end, "provisioned concurrency did not move")
            time.sleep(0.05)
        self.assertEqual(self.wait_status(name, "live", "READY")["AllocatedProvisionedConcurrentExecutions"], 1)
        # version 1 lost its provisioned environment
        self.assertEqual(self.invoke_json(name, Qualifier="1")["type"], "on-demand")
        # deleting the alias releases it
        self.lam.delete_alias(FunctionName=name, Name="live")
        self.assertEqual(self.invoke_json(name, Qualifier="2")["type"], "on-demand")

    def test_update_of_latest_keeps_provisioned_versions(self):
        name = self.published()
        self.provision(name, "1", 1)
        env = self.invoke_json(name, Qualifier="1")
        self.lam.update_function_configuration(FunctionName=name, Description="changed")
        self.wait_ready(name)
        again = self.invoke_json(name, Qualifier="1")
        self.assertEqual((again["type"], again["env"]), ("provisioned-concurrency", env["env"]))

    def test_function_error_and_timeout_keep_provisioned_concurrency(self):
        code = CODE.replace('    time.sleep(event.get("sleep", 0))\n',
                            '    time.sleep(event.get("sleep", 0))\n    if event.get("boom"):\n'
                            '        raise ValueError("x")\n')
        name = self.name("prov")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": code})}, Publish=True, Timeout=1)
        self.wait_ready(name)
        self.provision(name, "1", 1)
        self.invoke_error(name, {"boom": 1}, Qualifier="1")
        self.assertEqual(self.invoke_json(name, Qualifier="1")["type"], "provisioned-concurrency")
        doc, _ = self.invoke_error(name, {"sleep": 3}, Qualifier="1")
        self.assertEqual(doc["errorType"], "Sandbox.Timedout")
        # the timed-out environment is replaced by a new provisioned one
        end = time.time() + 5
        while self.invoke_json(name, Qualifier="1")["type"] != "provisioned-concurrency":
            self.assertLess(time.time(), end, "not replaced")
            time.sleep(0.05)


class TestProvisionedSurvives(ProvisionedCase):
    """Not reaped by the idle timer, and started again after a restart."""
    server_args = ("--idle-timeout", "1")

    def test_not_reaped_when_idle_and_restored_after_restart(self):
        name = self.published()
        self.provision(name, "1", 1)
        env = self.invoke_json(name, Qualifier="1")
        od = self.invoke_json(name)
        time.sleep(1.6)
        # the on-demand $LATEST environment was reaped, the provisioned one was not
        self.assertNotEqual(self.invoke_json(name)["env"], od["env"])
        self.assertEqual(self.invoke_json(name, Qualifier="1")["env"], env["env"])
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"],
                         "READY")
        end = time.time() + 5
        while True:
            after = self.invoke_json(name, Qualifier="1")
            if after["type"] == "provisioned-concurrency":
                break
            self.assertLess(time.time(), end, "not provisioned again after the restart")
            time.sleep(0.05)
        self.assertNotEqual(after["env"], env["env"])
