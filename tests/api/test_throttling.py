"""Concurrency limits at Invoke time, counted as AWS counts them: reserved
concurrency (0 blocks every invoke, N admits N invocations at once), the
unreserved pool that functions without a reservation share (the account
limit less every reservation and the provisioned concurrency of functions
without one), and AWS's 429 TooManyRequestsException.

The 429 body is AWS's (test_lambda.snapshot.json: invoke_latest_first_exc,
exc_no_cap_requestresponse): {"Reason": "...", "Type": "User", "message":
"Rate Exceeded."} with x-amzn-ErrorType TooManyRequestsException.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from harness import ROLE, make_zip
from test_invoke import InvokeCase, exec_zip
from test_runtimes import C_BOOTSTRAP

RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT = "ConcurrentInvocationLimitExceeded"

SLOW = """\
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""

# the C runtime of test_runtimes, held on {"hold": PORT} until the test lets go: it connects to
# 127.0.0.1:PORT (the test counts the connections: one per running invocation) and reads until
# the test closes it
SLOW_C = C_BOOTSTRAP.replace(
    "        int m = snprintf(res,",
    """        char *hold = strstr(ev, "\\"hold\\":");
        if (hold) {
            struct sockaddr_in h = {0};
            int hs = socket(AF_INET, SOCK_STREAM, 0);
            h.sin_family = AF_INET;
            h.sin_port = htons(atoi(hold + 7));
            h.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            char c;
            if (connect(hs, (struct sockaddr *)&h, sizeof h) == 0)
                while (read(hs, &c, 1) > 0) {}
            close(hs);
        }
        int m = snprintf(res,""")


def raw_invoke(endpoint, name, payload=b"{}", timeout=30):
    """POST .../invocations without an SDK: (status, headers, body bytes)."""
    req = urllib.request.Request("%s/2015-03-31/functions/%s/invocations" % (endpoint, name), data=payload,
                                 method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class ThrottleCase(InvokeCase):
    def assert_throttled(self, name, reason):
        """Invoke answers 429 with AWS's body, through boto3 and on the wire."""
        err = self.assertError("TooManyRequestsException", self.lam.invoke, FunctionName=name, Payload=b"{}",
                               message="Rate Exceeded.", status=429)
        self.assertEqual((err["Reason"], err["Type"], err["message"]), (reason, "User", "Rate Exceeded."))
        status, headers, body = raw_invoke(self.server.endpoint, name)
        self.assertEqual(status, 429)
        self.assertEqual(json.loads(body), {"Reason": reason, "Type": "User", "message": "Rate Exceeded."})
        self.assertEqual(headers.get("x-amzn-ErrorType"), "TooManyRequestsException")
        self.assertEqual(headers.get("Content-Type"), "application/json")

    def slow_function(self):
        return self.function({"app.py": SLOW})

    def start_slow(self, name, n, seconds, results, event=None):
        """n invokes of name sleeping `seconds` (or with `event`), in threads; results collects
        (status, headers, body)."""
        payload = json.dumps(event if event is not None else {"sleep": seconds}).encode()

        def run():
            results.append(raw_invoke(self.server.endpoint, name, payload, timeout=150))
        threads = [threading.Thread(target=run) for _ in range(n)]
        for t in threads:
            t.start()
        return threads


class TestReserved(ThrottleCase):
    def test_reserved_zero_blocks_every_invoke(self):
        name = self.function()
        self.assertEqual(self.invoke_json(name, {"a": 1}), {"a": 1})
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        self.assert_throttled(name, RESERVED)
        # every qualifier, every invocation type but DryRun's check
        self.lam.publish_version(FunctionName=name)
        self.assertError("TooManyRequestsException", self.lam.invoke, FunctionName=name, Qualifier="1",
                         status=429)
        # the AWS CLI sees the same error
        p = self.server.cli("invoke", "--function-name", name, "/dev/null", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("TooManyRequestsException", p.stderr)
        self.assertIn("Rate Exceeded.", p.stderr)
        # lifting the reservation lets invokes through again
        self.lam.delete_function_concurrency(FunctionName=name)
        self.assertEqual(self.invoke_json(name, {"b": 2}), {"b": 2})

    def test_reserved_n_admits_n_at_once(self):
        name = self.slow_function()
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
        results = []
        threads = self.start_slow(name, 2, 2.0, results)
        time.sleep(0.5)  # both are accepted (the invocation counts from its arrival)
        self.assert_throttled(name, RESERVED)
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(r[0] for r in results), [200, 200], results)
        # the two units are free again: one at a time goes through, warm
        self.assertEqual(self.invoke_json(name), {"ok": True})
        self.assertEqual(self.invoke_json(name), {"ok": True})

    def test_raising_the_reservation_admits_more(self):
        name = self.slow_function()
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        results = []
        threads = self.start_slow(name, 1, 1.5, results)
        time.sleep(0.4)
        self.assert_throttled(name, RESERVED)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
        self.assertEqual(self.invoke_json(name), {"ok": True})
        for t in threads:
            t.join(30)
        self.assertEqual([r[0] for r in results], [200])

    def test_failed_and_timed_out_invocations_give_their_unit_back(self):
        code = "import time\ndef handler(e, c):\n    if e.get('boom'):\n        raise ValueError('x')\n" \
               "    time.sleep(e.get('sleep', 0))\n    return 1\n"
        name = self.function({"app.py": code}, Timeout=1)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        for _ in range(3):
            doc, _ = self.invoke_error(name, {"boom": 1})
            self.assertEqual(doc["errorType"], "ValueError")
        doc, _ = self.invoke_error(name, {"sleep": 3})
        self.assertEqual(doc["errorType"], "Sandbox.Timedout")
        self.assertEqual(self.invoke_json(name), 1)

    def test_reserved_function_is_not_limited_by_others(self):
        """A reservation is the function's own: other functions' load does not throttle it."""
        mine = self.function()
        self.lam.put_function_concurrency(FunctionName=mine, ReservedConcurrentExecutions=3)
        other = self.slow_function()
        results = []
        threads = self.start_slow(other, 3, 1.0, results)
        time.sleep(0.3)
        self.assertEqual(self.invoke_json(mine, {"m": 1}), {"m": 1})
        for t in threads:
            t.join(30)
        self.assertEqual([r[0] for r in results], [200, 200, 200])


class TestSmallAccount(ThrottleCase):
    """An account limit of 3: no reservation is possible (100 must stay
    unreserved), and the pool is the whole limit."""
    server_args = ("--account-concurrency", "3")

    def test_pool_is_shared_by_every_function(self):
        a, b = self.slow_function(), self.slow_function()
        results = []
        threads = self.start_slow(a, 2, 2.0, results) + self.start_slow(b, 1, 2.0, results)
        time.sleep(0.6)
        self.assert_throttled(a, ACCOUNT)
        self.assert_throttled(b, ACCOUNT)
        for t in threads:
            t.join(30)
        self.assertEqual([r[0] for r in results], [200, 200, 200], results)
        self.assertEqual(self.invoke_json(b), {"ok": True})


@unittest.skipUnless(shutil.which("gcc"), "needs gcc")
class TestUnreservedPool(ThrottleCase):
    """--account-concurrency 102 and a reservation of 2: the other functions
    share 100, and the reserved function keeps its 2 whatever they do."""
    server_args = ("--account-concurrency", "102")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "bootstrap.c")
            with open(src, "w") as f:
                f.write(SLOW_C)
            p = subprocess.run(["gcc", "-O2", "-Wall", "-o", os.path.join(d, "bootstrap"), src],
                               capture_output=True, text=True)
            if p.returncode:
                raise AssertionError(p.stderr)
            with open(os.path.join(d, "bootstrap"), "rb") as f:
                cls.c_zip = exec_zip({"bootstrap": (f.read(), 0o755)})

    def saturate(self, probe, reserve):
        """100 invocations of a C function held until the test lets go, then
        the pool (100) is empty: probe is throttled, and all 100 were admitted."""
        slow = self.function(zip_bytes=self.c_zip, runtime="provided.al2023", handler="x.y", Timeout=120)
        self.assertEqual(self.invoke_json(probe, {"o": 0}), {"o": 0})
        gate = socket.socket()
        gate.bind(("127.0.0.1", 0))
        gate.listen(256)
        results = []
        threads = self.start_slow(slow, 100, 0, results, {"hold": gate.getsockname()[1]})
        held = []
        try:
            # every invocation connects to the gate once it runs: 100 connections mean all 100 were
            # admitted and none has finished (100 cold starts hold the loop a while on a loaded
            # machine, 4-7 s with ASan at load 4, hence the generous deadline; probing meanwhile
            # would take a slot from them)
            deadline = time.monotonic() + 90
            while len(held) < 100 and time.monotonic() < deadline and len(results) == 0:
                gate.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
                try:
                    held.append(gate.accept()[0])
                except socket.timeout:
                    pass
            self.assertEqual((len(held), results[:1]), (100, []))
            self.assert_throttled(probe, ACCOUNT)
            self.assert_throttled(slow, ACCOUNT)
            # the reserved (or provisioned) function is not touched by the pool's exhaustion
            reserve()
        finally:
            for c in held:
                c.close()
            gate.close()
            for t in threads:
                t.join(120)
        statuses = [r[0] for r in results]
        self.assertEqual(statuses.count(200), 100, [r for r in results if r[0] != 200][:3])
        self.assertEqual(self.invoke_json(probe, {"o": 1}), {"o": 1})

    def test_pool_is_the_limit_less_reservations(self):
        reserved = self.function()
        self.lam.put_function_concurrency(FunctionName=reserved, ReservedConcurrentExecutions=2)
        self.assertEqual(self.lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"], 100)
        self.saturate(self.function(), lambda: self.assertEqual(self.invoke_json(reserved, {"r": 1}), {"r": 1}))
        self.lam.delete_function_concurrency(FunctionName=reserved)

    def test_provisioned_concurrency_comes_out_of_the_pool(self):
        """Provisioned concurrency of a function without a reservation is
        taken from the pool whole, busy or not: 102 - 2 leaves 100."""
        name = self.name("pcpool")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip()}, Publish=True)
        self.wait_ready(name)
        self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                    ProvisionedConcurrentExecutions=2)
        self.assertEqual(self.lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"], 100)
        self.saturate(self.function(),
                      lambda: self.assertEqual(self.invoke_json(name, {"p": 1}, Qualifier="1"), {"p": 1}))
        self.lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
