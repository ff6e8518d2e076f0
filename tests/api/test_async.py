"""Asynchronous invocation: Invoke with InvocationType Event and InvokeAsync
(202, AWS's payload limits), the durable queue (kill -9 loses nothing),
retries per MaximumRetryAttempts, maximum event age, and Lambda destinations
with AWS's invocation records.

The server runs with --async-retry-base-ms 300: AWS's retry minute is 300 ms
here, and event ages scale with it (MaximumEventAgeInSeconds 60 is one base).
Functions report what they saw on stdout; the tests read the function logs
lambdad keeps (its log store, read with `lambdad logs NAME`). Expected records are
AWS's (shared/reference/aws-recordings/test_lambda_destinations.snapshot.json,
shared/spec/EXECUTION-PROTOCOLS.md section 8).
"""
import json
import os
import re
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import ACCOUNT, BIN, REGION, ROLE, LambdadTestCase, Server, make_zip

BASE_MS = 300
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# prints one ATTEMPT line per invocation; fails when the event says so
WORKER = """\
import json
def handler(event, context):
    print("ATTEMPT " + json.dumps({"tag": event.get("tag"), "id": context.aws_request_id}))
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise Exception("intentional failure")
    return {"echo": event, "ok": True}
"""

# a destination: prints the record it was given
SINK = """\
import json
def handler(event, context):
    print("RECORD " + json.dumps(event))
    return None
"""


def fn_logs(server, name):
    """The function's log group, as `lambdad logs NAME` prints it ("" while it has none)."""
    p = subprocess.run([BIN, "logs", name, "--data-dir", server.data_dir, "--account-id", ACCOUNT,
                        "--region", REGION], capture_output=True, timeout=30)
    return p.stdout.decode(errors="replace") if p.returncode == 0 else ""


def lines_with(server, name, prefix):
    out = []
    for line in fn_logs(server, name).splitlines():
        i = line.find(prefix)
        if i >= 0:
            try:
                out.append(json.loads(line[i + len(prefix):]))
            except ValueError:
                pass
    return out


class AsyncCase(LambdadTestCase):
    server_args = ("--async-retry-base-ms", str(BASE_MS))

    def function(self, code, name=None, **kw):
        name = name or self.name("async")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                 Code={"ZipFile": make_zip({"app.py": code})}, Timeout=10, **kw)
        end = time.time() + 10
        while time.time() < end:
            c = self.lam.get_function_configuration(FunctionName=name)
            if c["State"] == "Active":
                break
            time.sleep(0.02)
        return name

    def arn(self, name):
        return "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)

    def wait_for(self, fn, timeout=20.0, what="condition"):
        end = time.time() + timeout
        while time.time() < end:
            v = fn()
            if v:
                return v
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def event(self, name, payload, **kw):
        resp = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **kw)
        self.assertEqual(resp["StatusCode"], 202)
        return resp


class TestAsyncInvoke(AsyncCase):
    def test_event_202_then_runs(self):
        name = self.function(WORKER)
        resp = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"tag": "e1"}')
        self.assertEqual(resp["StatusCode"], 202)
        self.assertEqual(resp["Payload"].read(), b"")
        self.assertNotIn("FunctionError", resp)
        seen = self.wait_for(lambda: lines_with(self.server, name, "ATTEMPT "), what="the event to run")
        self.assertEqual(seen[0]["tag"], "e1")
        # the invocation's id is the Invoke request's id
        self.assertEqual(seen[0]["id"], resp["ResponseMetadata"]["RequestId"])
        time.sleep(BASE_MS * 2 / 1000)
        self.assertEqual(len(lines_with(self.server, name, "ATTEMPT ")), 1, "a success runs once")

    def test_invoke_async_202_status(self):
        name = self.function(WORKER)
        resp = self.lam.invoke_async(FunctionName=name, InvokeArgs=b'{"tag": "ia1"}')
        self.assertEqual(resp["Status"], 202)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 202)
        # the body is {"Status": 202}
        req = urllib.request.Request(self.server.endpoint + "/2014-11-13/functions/%s/invoke-async/" % name,
                                     data=b'{"tag": "ia2"}', method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 202)
            self.assertEqual(json.loads(r.read()), {"Status": 202})
        tags = self.wait_for(lambda: {a["tag"] for a in lines_with(self.server, name, "ATTEMPT ")} >= {"ia1", "ia2"}
                             and {a["tag"] for a in lines_with(self.server, name, "ATTEMPT ")},
                             what="both InvokeAsync events to run")
        self.assertEqual(tags, {"ia1", "ia2"})

    def test_event_payload_limit(self):
        name = self.function(WORKER)
        limit = 1048576
        ok = b'"' + b"a" * (limit - 2) + b'"'
        resp = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=ok)
        self.assertEqual(resp["StatusCode"], 202)
        big = b'"' + b"a" * (limit - 1) + b'"'
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=big)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "RequestEntityTooLargeException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 413)
        self.assertEqual(err["Error"]["Message"],
                         "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)")
        # a synchronous invoke of the same size is fine
        resp = self.lam.invoke(FunctionName=name, Payload=big)
        self.assertEqual(resp["StatusCode"], 200)

    def test_invoke_async_payload_limit(self):
        name = self.function(WORKER)
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            self.lam.invoke_async(FunctionName=name, InvokeArgs=b'"' + b"a" * 262143 + b'"')
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "RequestEntityTooLargeException")
        self.assertEqual(err["Error"]["Message"],
                         "262145 byte payload is too large for the Event invocation type (limit 262144 bytes)")
        resp = self.lam.invoke_async(FunctionName=name, InvokeArgs=b'"' + b"a" * 262142 + b'"')
        self.assertEqual(resp["Status"], 202)

    def test_event_errors_before_queueing(self):
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke(FunctionName="no-such-fn", InvocationType="Event", Payload=b"{}")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke_async(FunctionName="no-such-fn", InvokeArgs=b"{}")
        name = self.function(WORKER)
        with self.assertRaises(self.lam.exceptions.InvalidRequestContentException):
            self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{not json")


class TestRetriesAndDestinations(AsyncCase):
    def setup_pair(self, retries=None, age=None, on_success=True, on_failure=True):
        worker = self.function(WORKER)
        sink = self.function(SINK, name=worker + "-sink")
        dc = {}
        if on_success:
            dc["OnSuccess"] = {"Destination": self.arn(sink)}
        if on_failure:
            dc["OnFailure"] = {"Destination": self.arn(sink)}
        kw = {"DestinationConfig": dc}
        if retries is not None:
            kw["MaximumRetryAttempts"] = retries
        if age is not None:
            kw["MaximumEventAgeInSeconds"] = age
        self.lam.put_function_event_invoke_config(FunctionName=worker, **kw)
        return worker, sink

    def records(self, sink, n=1, timeout=20.0):
        return self.wait_for(lambda: len(lines_with(self.server, sink, "RECORD ")) >= n
                             and lines_with(self.server, sink, "RECORD "), timeout, "%d record(s)" % n)

    def test_success_record(self):
        worker, sink = self.setup_pair()
        resp = self.event(worker, {"tag": "s1", "n": [1, 2]})
        rid = resp["ResponseMetadata"]["RequestId"]
        rec = self.records(sink)[0]
        self.assertEqual(list(rec), ["version", "timestamp", "requestContext", "requestPayload",
                                     "responseContext", "responsePayload"])
        self.assertEqual(rec["version"], "1.0")
        self.assertRegex(rec["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(rec["requestContext"], {
            "requestId": rid, "functionArn": self.arn(worker) + ":$LATEST",
            "condition": "Success", "approximateInvokeCount": 1})
        self.assertEqual(rec["requestPayload"], {"tag": "s1", "n": [1, 2]})
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST"})
        self.assertEqual(rec["responsePayload"], {"echo": {"tag": "s1", "n": [1, 2]}, "ok": True})

    def test_success_record_of_alias(self):
        worker, sink = self.setup_pair(on_success=False)
        v = self.lam.publish_version(FunctionName=worker)["Version"]
        self.lam.create_alias(FunctionName=worker, Name="live", FunctionVersion=v)
        self.lam.put_function_event_invoke_config(
            FunctionName=worker, Qualifier="live",
            DestinationConfig={"OnSuccess": {"Destination": self.arn(sink)}})
        self.event(worker, {"tag": "al"}, Qualifier="live")
        rec = self.records(sink)[0]
        self.assertEqual(rec["requestContext"]["functionArn"], self.arn(worker) + ":live")
        self.assertEqual(rec["responseContext"]["executedVersion"], v)

    def check_retries(self, retries):
        worker, sink = self.setup_pair(retries=retries)
        t0 = time.time()
        resp = self.event(worker, {"tag": "r%d" % retries, "fail": True})
        rid = resp["ResponseMetadata"]["RequestId"]
        rec = self.records(sink, timeout=20)[0]
        elapsed = time.time() - t0
        attempts = lines_with(self.server, worker, "ATTEMPT ")
        self.assertEqual(len(attempts), retries + 1)
        # every attempt is the same invocation (one request id)
        self.assertEqual({a["id"] for a in attempts}, {rid})
        # AWS's delays: 1 then 2 retry minutes
        self.assertGreaterEqual(elapsed, sum(range(1, retries + 1)) * BASE_MS / 1000)
        self.assertEqual(rec["requestContext"], {
            "requestId": rid, "functionArn": self.arn(worker) + ":$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": retries + 1})
        self.assertEqual(rec["requestPayload"], {"tag": "r%d" % retries, "fail": True})
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST",
                                                  "functionError": "Unhandled"})
        rp = rec["responsePayload"]
        self.assertEqual(rp["errorMessage"], "intentional failure")
        self.assertEqual(rp["errorType"], "Exception")
        self.assertEqual(rp["requestId"], rid)
        self.assertIsInstance(rp["stackTrace"], list)
        # nothing more happens
        time.sleep(3 * BASE_MS / 1000)
        self.assertEqual(len(lines_with(self.server, worker, "ATTEMPT ")), retries + 1)
        self.assertEqual(len(lines_with(self.server, sink, "RECORD ")), 1)

    def test_retries_0(self):
        self.check_retries(0)

    def test_retries_1(self):
        self.check_retries(1)

    def test_retries_2(self):
        self.check_retries(2)

    def test_default_retries_is_2(self):
        worker, sink = self.setup_pair()
        self.event(worker, {"tag": "d", "fail": True})
        rec = self.records(sink)[0]
        self.assertEqual(rec["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 3)
        self.assertEqual(len(lines_with(self.server, worker, "ATTEMPT ")), 3)

    def test_timeout_is_a_function_error(self):
        sink = self.function(SINK)
        worker = self.function("import time\ndef handler(e, c):\n    print('ATTEMPT {}')\n    time.sleep(5)\n",
                               name=sink + "-slow")
        self.lam.update_function_configuration(FunctionName=worker, Timeout=1)
        self.wait_for(lambda: self.lam.get_function_configuration(FunctionName=worker)
                      .get("LastUpdateStatus") == "Successful", what="the update")
        self.lam.put_function_event_invoke_config(
            FunctionName=worker, MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": self.arn(sink)}})
        self.event(worker, {"tag": "slow"})
        rec = self.records(sink, timeout=30)[0]
        self.assertEqual(rec["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(rec["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(rec["responsePayload"]["errorType"], "Sandbox.Timedout")

    def test_max_event_age_no_retry(self):
        # AWS (test_maxeventage): age 60 s, the first retry is a minute later:
        # the event expired, with the first attempt's response
        worker, sink = self.setup_pair(retries=2, age=60)
        resp = self.event(worker, {"tag": "age1", "fail": True})
        rec = self.records(sink)[0]
        self.assertEqual(rec["requestContext"], {
            "requestId": resp["ResponseMetadata"]["RequestId"], "functionArn": self.arn(worker) + ":$LATEST",
            "condition": "EventAgeExceeded", "approximateInvokeCount": 1})
        self.assertEqual(rec["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(rec["responsePayload"]["errorMessage"], "intentional failure")
        self.assertEqual(len(lines_with(self.server, worker, "ATTEMPT ")), 1)

    def test_max_event_age_one_retry(self):
        # age 120 s: the retry after one minute runs, the next (two more) is too late
        # (600 ms at this scale: the first attempt must not pay a cold start on a loaded machine,
        # so the environment is warmed first)
        worker, sink = self.setup_pair(retries=2, age=120)
        self.lam.invoke(FunctionName=worker, Payload=json.dumps({"tag": "warm"}))
        self.event(worker, {"tag": "age2", "fail": True})
        rec = self.records(sink)[0]
        self.assertEqual(rec["requestContext"]["condition"], "EventAgeExceeded")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(len([a for a in lines_with(self.server, worker, "ATTEMPT ") if a["tag"] == "age2"]), 2)

    def test_no_destination_for_the_other_outcome(self):
        worker, sink = self.setup_pair(retries=0, on_failure=False)
        self.event(worker, {"tag": "f", "fail": True})
        self.event(worker, {"tag": "ok"})
        recs = self.records(sink)
        time.sleep(2 * BASE_MS / 1000)
        recs = lines_with(self.server, sink, "RECORD ")
        self.assertEqual([r["requestPayload"]["tag"] for r in recs], ["ok"])


class TestConcurrency(AsyncCase):
    def test_reserved_concurrency_holds_for_events(self):
        # events wait for room (throttles back off and retry): with reserved
        # concurrency 1 they run one at a time, and all of them run
        code = ("import time, json\n"
                "def handler(e, c):\n"
                "    t0 = time.time()\n"
                "    time.sleep(0.2)\n"
                "    print('SPAN ' + json.dumps([e['tag'], t0, time.time()]))\n")
        name = self.function(code)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        for i in range(4):
            self.event(name, {"tag": i})
        spans = self.wait_for(lambda: len(lines_with(self.server, name, "SPAN ")) >= 4
                              and lines_with(self.server, name, "SPAN "), 30, "4 events")
        self.assertEqual(sorted(s[0] for s in spans), [0, 1, 2, 3])
        spans.sort(key=lambda s: s[1])
        for a, b in zip(spans, spans[1:]):
            self.assertLessEqual(a[2], b[1] + 0.01, "two events ran at once under reserved concurrency 1")

    def test_reserved_concurrency_zero_fails_at_once(self):
        # AWS: with reserved concurrency 0, events go to the failure
        # destination (or DLQ) without retries
        worker = self.function(WORKER)
        sink = self.function(SINK, name=worker + "-sink")
        self.lam.put_function_event_invoke_config(
            FunctionName=worker, DestinationConfig={"OnFailure": {"Destination": self.arn(sink)}})
        self.lam.put_function_concurrency(FunctionName=worker, ReservedConcurrentExecutions=0)
        resp = self.event(worker, {"tag": "z"})
        rec = self.wait_for(lambda: lines_with(self.server, sink, "RECORD "), 10, "the failure record")[0]
        self.assertEqual(rec["requestContext"]["requestId"], resp["ResponseMetadata"]["RequestId"])
        self.assertEqual(rec["requestContext"]["functionArn"], self.arn(worker) + ":$LATEST")
        self.assertEqual(rec["requestPayload"], {"tag": "z"})
        self.assertEqual(lines_with(self.server, worker, "ATTEMPT "), [])

class TestDurability(unittest.TestCase):
    """kill -9 while hundreds of events are queued and in flight: after a
    restart on the same data directory every event reaches the success
    destination at least once."""

    N = 300

    def test_kill9_loses_nothing(self):
        srv = Server(extra_args=("--async-retry-base-ms", str(BASE_MS))).start()
        try:
            lam = srv.client()
            worker, sink = "dur-worker", "dur-sink"
            for n, code in ((worker, WORKER), (sink, SINK)):
                lam.create_function(FunctionName=n, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                    Code={"ZipFile": make_zip({"app.py": code})}, Timeout=10)
            end = time.time() + 10
            while time.time() < end and any(
                    lam.get_function_configuration(FunctionName=n)["State"] != "Active" for n in (worker, sink)):
                time.sleep(0.02)
            lam.put_function_event_invoke_config(
                FunctionName=worker,
                DestinationConfig={"OnSuccess": {"Destination": "arn:aws:lambda:%s:%s:function:%s"
                                                  % (REGION, ACCOUNT, sink)}})
            errors = []

            def send(lo, hi):
                c = srv.client()
                for i in range(lo, hi):
                    try:
                        r = c.invoke(FunctionName=worker, InvocationType="Event",
                                     Payload=json.dumps({"tag": "t%04d" % i, "sleep": 0.5}))
                        if r["StatusCode"] != 202:
                            errors.append(r["StatusCode"])
                    except Exception as e:  # noqa: BLE001 - reported below
                        errors.append(repr(e))
            threads = [threading.Thread(target=send, args=(k * self.N // 4, (k + 1) * self.N // 4))
                       for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(errors, [])
            # every event was acknowledged: kill at once, with most still queued
            srv.kill9()
            done_before = {r["requestPayload"]["tag"] for r in lines_with(srv, sink, "RECORD ")}
            self.assertLess(len(done_before), self.N, "the kill came too late to prove anything")
            print("durability: %d of %d done before kill -9" % (len(done_before), self.N))
            srv.start()
            want = {"t%04d" % i for i in range(self.N)}
            end = time.time() + 120
            got = set()
            while time.time() < end:
                got = {r["requestPayload"]["tag"] for r in lines_with(srv, sink, "RECORD ")}
                if got >= want:
                    break
                time.sleep(0.2)
            self.assertEqual(sorted(want - got), [], "events lost across kill -9")
            srv.stop_clean()
        finally:
            srv.cleanup()
