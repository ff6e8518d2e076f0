"""The CloudWatch Logs API on lambdad's port (docs/logs.md), through boto3's `logs` client, the AWS CLI
(v1 `aws logs filter-log-events`, Debian's v2 `/usr/bin/aws logs tail [--follow]`), and lambdad's log
store underneath: kill -9 after an answered PutLogEvents, retention, and the caps on function output."""
import json
import os
import select
import shutil
import subprocess
import time
import unittest
import urllib.request

import boto3
import botocore.config

from harness import ACCOUNT, BIN, REGION, ROLE, LambdadTestCase, Server, make_zip

DAY = 86400000


def now_ms():
    return int(time.time() * 1000)


def cli_env():
    return dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION,
                AWS_PAGER="")


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


class LogsCase(LambdadTestCase):
    server_args = ("--logs-sweep-ms", "300")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.logs = cls.server.client("logs")
        cls.raw = cls.server.client("logs", validate=False)

    def group(self, prefix="/test/g"):
        name = prefix + self.name("")
        self.logs.create_log_group(logGroupName=name)
        return name

    def assertLogsError(self, code, fn, message=None, **kw):
        with self.assertRaises(self.logs.exceptions.ClientError) as cm:
            fn(**kw)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message)
        return err


class TestGroupsAndStreams(LogsCase):
    def test_envelope_is_json_1_1(self):
        body = json.dumps({"logGroupName": "/no/such/group"}).encode()
        req = urllib.request.Request(self.server.endpoint + "/", data=body, method="POST", headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DeleteLogGroup"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        self.assertEqual(cm.exception.headers["Content-Type"], "application/x-amz-json-1.1")
        self.assertEqual(json.loads(cm.exception.read()), {"__type": "ResourceNotFoundException",
                                                            "message": "The specified log group does not exist."})
        req = urllib.request.Request(self.server.endpoint + "/", data=b"{}", method="POST", headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.NoSuchThing"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(json.loads(cm.exception.read())["__type"], "UnknownOperationException")

    def test_groups(self):
        base = "/test/groups" + self.name("")
        for i in range(5):
            self.logs.create_log_group(logGroupName="%s/%d" % (base, i))
        self.assertLogsError("ResourceAlreadyExistsException", self.logs.create_log_group,
                             "The specified log group already exists", logGroupName=base + "/0")
        page = self.logs.describe_log_groups(logGroupNamePrefix=base, limit=2)
        self.assertEqual([g["logGroupName"] for g in page["logGroups"]], [base + "/0", base + "/1"])
        self.assertIn("nextToken", page)
        names = [g["logGroupName"] for p in self.logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=base, PaginationConfig={"PageSize": 2}) for g in p["logGroups"]]
        self.assertEqual(names, ["%s/%d" % (base, i) for i in range(5)])
        g = page["logGroups"][0]
        self.assertEqual(g["arn"], "arn:aws:logs:%s:%s:log-group:%s/0:*" % (REGION, ACCOUNT, base))
        self.assertEqual(g["logGroupArn"], "arn:aws:logs:%s:%s:log-group:%s/0" % (REGION, ACCOUNT, base))
        self.assertEqual(g["logGroupClass"], "STANDARD")
        self.assertEqual(g["storedBytes"], 0)
        self.assertLess(abs(g["creationTime"] - now_ms()), 60000)
        self.assertNotIn("retentionInDays", g)
        self.logs.delete_log_group(logGroupName=base + "/0")
        self.assertLogsError("ResourceNotFoundException", self.logs.delete_log_group,
                             "The specified log group does not exist.", logGroupName=base + "/0")
        self.assertEqual(len(self.logs.describe_log_groups(logGroupNamePrefix=base)["logGroups"]), 4)

    def test_validation(self):
        self.assertLogsError(
            "InvalidParameterException", self.raw.create_log_group,
            "1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+", logGroupName="a b")
        self.assertLogsError(
            "InvalidParameterException", self.raw.describe_log_groups,
            "2 validation errors detected: Value '' at 'logGroupNamePrefix' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+; Value '' at 'logGroupNamePrefix' "
            "failed to satisfy constraint: Member must have length greater than or equal to 1",
            logGroupNamePrefix="")
        self.assertLogsError(
            "InvalidParameterException", self.raw.describe_log_groups,
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have "
            "value less than or equal to 50", limit=51)
        g = self.group()
        self.assertLogsError(
            "InvalidParameterException", self.raw.create_log_stream,
            "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [^:*]*", logGroupName=g, logStreamName="a:b")
        self.assertLogsError(
            "InvalidParameterException", self.raw.put_log_events,
            "1 validation error detected: Value null at 'logEvents.2.member.timestamp' failed to satisfy "
            "constraint: Member must not be null", logGroupName=g, logStreamName="s",
            logEvents=[{"timestamp": 1, "message": "a"}, {"message": "b"}])
        self.assertLogsError(
            "InvalidParameterException", self.raw.put_retention_policy,
            "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member "
            "must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
            "1827, 2192, 2557, 2922, 3288, 3653]", logGroupName=g, retentionInDays=2)

    def test_streams(self):
        g = self.group()
        self.assertLogsError("ResourceNotFoundException", self.logs.create_log_stream,
                             "The specified log group does not exist.", logGroupName=g + "-no", logStreamName="s")
        t = now_ms()
        # b gets the newest event, then a, then c has none
        for name, ts in (("a", t - 2000), ("b", t - 1000), ("c", None)):
            self.logs.create_log_stream(logGroupName=g, logStreamName=name)
            if ts:
                self.logs.put_log_events(logGroupName=g, logStreamName=name,
                                         logEvents=[{"timestamp": ts, "message": "hello " + name}])
        self.assertLogsError("ResourceAlreadyExistsException", self.logs.create_log_stream,
                             "The specified log stream already exists", logGroupName=g, logStreamName="a")
        streams = self.logs.describe_log_streams(logGroupName=g)["logStreams"]
        self.assertEqual([s["logStreamName"] for s in streams], ["a", "b", "c"])
        a = streams[0]
        self.assertEqual(a["firstEventTimestamp"], t - 2000)
        self.assertEqual(a["lastEventTimestamp"], t - 2000)
        self.assertGreaterEqual(a["lastIngestionTime"], t - 1000)
        self.assertEqual(a["arn"], "arn:aws:logs:%s:%s:log-group:%s:log-stream:a" % (REGION, ACCOUNT, g))
        self.assertGreater(a["storedBytes"], 0)
        self.assertNotIn("firstEventTimestamp", streams[2])
        by_time = self.logs.describe_log_streams(logGroupName=g, orderBy="LastEventTime", descending=True)
        self.assertEqual([s["logStreamName"] for s in by_time["logStreams"]], ["b", "a", "c"])
        page = self.logs.describe_log_streams(logGroupName=g, limit=2)
        self.assertEqual([s["logStreamName"] for s in page["logStreams"]], ["a", "b"])
        rest = self.logs.describe_log_streams(logGroupName=g, limit=2, nextToken=page["nextToken"])
        self.assertEqual([s["logStreamName"] for s in rest["logStreams"]], ["c"])
        self.assertNotIn("nextToken", rest)
        self.assertEqual([s["logStreamName"] for s in self.logs.describe_log_streams(
            logGroupName=g, logStreamNamePrefix="b")["logStreams"]], ["b"])
        self.assertLogsError("InvalidParameterException", self.logs.describe_log_streams,
                             "Cannot order by LastEventTime with a logStreamNamePrefix.", logGroupName=g,
                             orderBy="LastEventTime", logStreamNamePrefix="a")
        self.assertLogsError("InvalidParameterException", self.logs.describe_log_streams,
                             "The specified nextToken is invalid.", logGroupName=g, nextToken="garbage")
        # by ARN
        arn = "arn:aws:logs:%s:%s:log-group:%s" % (REGION, ACCOUNT, g)
        self.assertEqual(len(self.logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]), 3)
        self.logs.delete_log_stream(logGroupName=g, logStreamName="a")
        self.assertLogsError("ResourceNotFoundException", self.logs.delete_log_stream,
                             "The specified log stream does not exist.", logGroupName=g, logStreamName="a")
        groups = self.logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"]
        self.assertEqual(groups[0]["storedBytes"],
                         sum(s["storedBytes"] for s in self.logs.describe_log_streams(logGroupName=g)["logStreams"]))


class TestEvents(LogsCase):
    def put(self, g, s, events):
        return self.logs.put_log_events(logGroupName=g, logStreamName=s,
                                        logEvents=[{"timestamp": t, "message": m} for t, m in events])

    def test_put_rejected_and_errors(self):
        g = self.group()
        self.logs.create_log_stream(logGroupName=g, logStreamName="s")
        t = now_ms()
        r = self.put(g, "s", [(t - 15 * DAY, "too old"), (t, "ok"), (t + 3 * 3600000, "too new")])
        self.assertEqual(r["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2})
        self.assertTrue(r["nextSequenceToken"].isdigit())
        r = self.put(g, "s", [(t, "fine")])
        self.assertNotIn("rejectedLogEventsInfo", r)
        msgs = [e["message"] for e in self.logs.get_log_events(logGroupName=g, logStreamName="s")["events"]]
        self.assertEqual(msgs, ["ok", "fine"])
        self.assertLogsError("InvalidParameterException", self.put,
                             "Log events in a single PutLogEvents request must be in chronological order.",
                             g=g, s="s", events=[(t, "b"), (t - 1, "a")])
        self.assertLogsError("InvalidParameterException", self.put,
                             "Log events in a single PutLogEvents request cannot span more than 24 hours.",
                             g=g, s="s", events=[(t - 2 * DAY, "a"), (t, "b")])
        self.assertLogsError("InvalidParameterException", self.put,
                             "Upload too large: 1048628 bytes exceeds limit of 1048576",
                             g=g, s="s", events=[(t, "x" * 524288), (t, "y" * 524288)])
        self.assertLogsError("ResourceNotFoundException", self.put, "The specified log stream does not exist.",
                             g=g, s="nope", events=[(t, "a")])
        self.assertLogsError("ResourceNotFoundException", self.put, "The specified log group does not exist.",
                             g=g + "-nope", s="s", events=[(t, "a")])

    def test_get_log_events_tokens(self):
        g = self.group()
        self.logs.create_log_stream(logGroupName=g, logStreamName="s")
        t = now_ms() - 100000
        self.put(g, "s", [(t + i, "event %d" % i) for i in range(25)])
        # the default: the newest events
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", limit=10)
        self.assertEqual([e["message"] for e in r["events"]], ["event %d" % i for i in range(15, 25)])
        self.assertTrue(r["nextForwardToken"].startswith("f/"))
        self.assertTrue(r["nextBackwardToken"].startswith("b/"))
        back = self.logs.get_log_events(logGroupName=g, logStreamName="s", limit=10,
                                        nextToken=r["nextBackwardToken"])
        self.assertEqual([e["message"] for e in back["events"]], ["event %d" % i for i in range(5, 15)])
        # from the head, page by page, until the forward token comes back unchanged
        seen, tok = [], None
        for _ in range(10):
            kw = {"nextToken": tok} if tok else {"startFromHead": True}
            r = self.logs.get_log_events(logGroupName=g, logStreamName="s", limit=7, **kw)
            seen += [e["message"] for e in r["events"]]
            if r["nextForwardToken"] == tok:
                break
            tok = r["nextForwardToken"]
        self.assertEqual(seen, ["event %d" % i for i in range(25)])
        self.assertEqual(r["events"], [])
        # what arrives later is found with the same token
        self.put(g, "s", [(t + 30, "later")])
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", nextToken=tok)
        self.assertEqual([e["message"] for e in r["events"]], ["later"])
        # a window: startTime inclusive, endTime exclusive
        r = self.logs.get_log_events(logGroupName=g, logStreamName="s", startTime=t + 3, endTime=t + 6,
                                     startFromHead=True)
        self.assertEqual([e["message"] for e in r["events"]], ["event 3", "event 4", "event 5"])
        self.assertEqual(r["events"][0]["timestamp"], t + 3)
        self.assertIn("ingestionTime", r["events"][0])
        self.assertLogsError("InvalidParameterException", self.logs.get_log_events,
                             "The specified nextToken is invalid.", logGroupName=g, logStreamName="s",
                             nextToken="f/xyz")

    def test_filter_log_events(self):
        g = self.group()
        t = now_ms() - 60000
        for s in ("app-1", "app-2", "other"):
            self.logs.create_log_stream(logGroupName=g, logStreamName=s)
        self.put(g, "app-1", [(t + 0, "INFO start"), (t + 2, "ERROR disk full"), (t + 4, "INFO done")])
        self.put(g, "app-2", [(t + 1, "ERROR timeout"), (t + 3, "INFO retry")])
        self.put(g, "other", [(t + 5, '{"level": "ERROR", "code": 7}')])
        r = self.logs.filter_log_events(logGroupName=g)
        self.assertEqual([e["message"] for e in r["events"]],
                         ["INFO start", "ERROR timeout", "ERROR disk full", "INFO retry", "INFO done",
                          '{"level": "ERROR", "code": 7}'])
        self.assertEqual(sorted(s["logStreamName"] for s in r["searchedLogStreams"]), ["app-1", "app-2", "other"])
        e = r["events"][1]
        self.assertEqual((e["logStreamName"], e["timestamp"]), ("app-2", t + 1))
        self.assertTrue(e["eventId"].isdigit())
        self.assertEqual(len({x["eventId"] for x in r["events"]}), 6)
        r = self.logs.filter_log_events(logGroupName=g, filterPattern="ERROR")
        self.assertEqual([e["message"] for e in r["events"]],
                         ["ERROR timeout", "ERROR disk full", '{"level": "ERROR", "code": 7}'])
        r = self.logs.filter_log_events(logGroupName=g, filterPattern='{ $.code = 7 }')
        self.assertEqual([e["logStreamName"] for e in r["events"]], ["other"])
        r = self.logs.filter_log_events(logGroupName=g, logStreamNamePrefix="app-", filterPattern="ERROR")
        self.assertEqual([e["message"] for e in r["events"]], ["ERROR timeout", "ERROR disk full"])
        r = self.logs.filter_log_events(logGroupName=g, logStreamNames=["app-2"])
        self.assertEqual([e["message"] for e in r["events"]], ["ERROR timeout", "INFO retry"])
        r = self.logs.filter_log_events(logGroupName=g, startTime=t + 2, endTime=t + 4)
        self.assertEqual([e["message"] for e in r["events"]], ["ERROR disk full", "INFO retry"])
        # paging: two at a time, the same events in the same order
        msgs, kw = [], {}
        for _ in range(10):
            r = self.logs.filter_log_events(logGroupName=g, limit=2, interleaved=True, **kw)
            msgs += [e["message"] for e in r["events"]]
            if "nextToken" not in r:
                break
            kw = {"nextToken": r["nextToken"]}
        self.assertEqual(len(msgs), 6)
        self.assertEqual(msgs[0], "INFO start")
        self.assertEqual(msgs[-1], '{"level": "ERROR", "code": 7}')
        self.assertLogsError("InvalidParameterException", self.logs.filter_log_events, "Invalid filter pattern",
                             logGroupName=g, filterPattern='{ $.a = ')
        self.assertLogsError("ResourceNotFoundException", self.logs.filter_log_events,
                             "The specified log group does not exist.", logGroupName=g + "-no")

    def test_paging_at_equal_timestamps(self):
        g = self.group()
        t = now_ms() - 1000
        for s in ("a", "b"):
            self.logs.create_log_stream(logGroupName=g, logStreamName=s)
            self.put(g, s, [(t, "%s%d" % (s, i)) for i in range(5)])
        msgs, kw = [], {}
        for _ in range(20):
            r = self.logs.filter_log_events(logGroupName=g, limit=3, **kw)
            msgs += [e["message"] for e in r["events"]]
            if "nextToken" not in r:
                break
            kw = {"nextToken": r["nextToken"]}
        self.assertEqual(sorted(msgs), sorted(["a%d" % i for i in range(5)] + ["b%d" % i for i in range(5)]))

    def test_retention(self):
        g = self.group()
        for s in ("old", "mixed"):
            self.logs.create_log_stream(logGroupName=g, logStreamName=s)
        t = now_ms()
        self.put(g, "old", [(t - 3 * DAY, "three days old")])
        self.put(g, "mixed", [(t - 3 * DAY, "old one")])
        self.put(g, "mixed", [(t - 1000, "new one")])
        self.logs.put_retention_policy(logGroupName=g, retentionInDays=1)
        self.assertEqual(self.logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0]["retentionInDays"], 1)
        # events older than the retention are rejected from now on
        r = self.put(g, "mixed", [(t - 2 * DAY, "expired"), (t - 500, "kept")])
        self.assertEqual(r["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 1})
        # the sweep (every 300 ms here) removes them from disk
        end = time.time() + 10
        while time.time() < end:
            streams = {s["logStreamName"]: s for s in self.logs.describe_log_streams(logGroupName=g)["logStreams"]}
            if streams["old"]["storedBytes"] == 0 and streams["mixed"]["firstEventTimestamp"] >= t - DAY:
                break
            time.sleep(0.1)
        self.assertEqual(streams["old"]["storedBytes"], 0)
        self.assertNotIn("firstEventTimestamp", streams["old"])
        msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName=g)["events"]]
        self.assertEqual(msgs, ["new one", "kept"])
        # gone for good: without the retention they do not come back
        self.logs.delete_retention_policy(logGroupName=g)
        self.assertNotIn("retentionInDays",
                         self.logs.describe_log_groups(logGroupNamePrefix=g)["logGroups"][0])
        msgs = [e["message"] for e in self.logs.get_log_events(logGroupName=g, logStreamName="mixed",
                                                                startFromHead=True)["events"]]
        self.assertEqual(msgs, ["new one", "kept"])


class TestLiveTail(LogsCase):
    """StartLiveTail: an event stream of what arrives after it started, filtered, every second. botocore
    puts the operation's host prefix ("stream-") before the endpoint's host unless told not to, so the
    client here sets inject_host_prefix=False (docs/logs.md)."""

    def test_live_tail(self):
        import threading
        lt = boto3.client("logs", endpoint_url=self.server.endpoint, region_name=REGION, aws_access_key_id="test",
                          aws_secret_access_key="test",
                          config=botocore.config.Config(inject_host_prefix=False, retries={"max_attempts": 0},
                                                        read_timeout=30))
        g = self.group()
        arn = "arn:aws:logs:%s:%s:log-group:%s" % (REGION, ACCOUNT, g)
        self.logs.create_log_stream(logGroupName=g, logStreamName="a")
        self.logs.put_log_events(logGroupName=g, logStreamName="a",
                                 logEvents=[{"timestamp": now_ms(), "message": "hello before"}])
        with self.assertRaises(lt.exceptions.ResourceNotFoundException):
            lt.start_live_tail(logGroupIdentifiers=[arn + "-none"])
        stream = lt.start_live_tail(logGroupIdentifiers=[arn], logEventFilterPattern="hello")["responseStream"]

        def later():
            time.sleep(1.2)
            self.logs.put_log_events(logGroupName=g, logStreamName="a", logEvents=[
                {"timestamp": now_ms(), "message": "hello after"}, {"timestamp": now_ms(), "message": "other"}])
            self.logs.create_log_stream(logGroupName=g, logStreamName="b")
            self.logs.put_log_events(logGroupName=g, logStreamName="b",
                                     logEvents=[{"timestamp": now_ms(), "message": "hello new stream"}])
        writer = threading.Thread(target=later)
        writer.start()
        events, got, end = [], [], time.time() + 15
        try:
            for ev in stream:
                events.append(ev)
                if "sessionUpdate" in ev:
                    got += [(x["logStreamName"], x["message"]) for x in ev["sessionUpdate"]["sessionResults"]]
                if len(got) >= 2 or time.time() > end:
                    break
        finally:
            writer.join(10)
        self.assertEqual(events[0]["sessionStart"]["logGroupIdentifiers"], [arn])
        self.assertEqual(events[0]["sessionStart"]["logEventFilterPattern"], "hello")
        self.assertEqual(sorted(got), [("a", "hello after"), ("b", "hello new stream")])
        update = [e for e in events if "sessionUpdate" in e][-1]["sessionUpdate"]
        self.assertEqual(update["sessionMetadata"], {"sampled": False})
        self.assertEqual(update["sessionResults"][0]["logGroupIdentifier"], arn)
        stream.close()
        # a session the server still holds when it stops ends cleanly (tearDownClass checks the exit)
        self.open_stream = lt.start_live_tail(logGroupIdentifiers=[arn])["responseStream"]
        first = next(iter(self.open_stream))
        self.assertIn("sessionStart", first)


class TestCrash(unittest.TestCase):
    """What PutLogEvents answered survives kill -9; a torn record at the end is cut off at start."""

    def test_kill9_and_torn_tail(self):
        data = __import__("tempfile").mkdtemp(prefix="lambdad-cwlogs-")
        try:
            srv = Server(data_dir=data).start()
            logs = srv.client("logs")
            logs.create_log_group(logGroupName="/crash/g")
            logs.create_log_stream(logGroupName="/crash/g", logStreamName="s")
            t = now_ms()
            for i in range(50):
                logs.put_log_events(logGroupName="/crash/g", logStreamName="s",
                                    logEvents=[{"timestamp": t + i, "message": "acked %d" % i}])
            srv.kill9()
            # a write the crash cut in half
            segs = []
            for root, _, files in os.walk(os.path.join(data, "logs")):
                segs += [os.path.join(root, f) for f in files if f.endswith(".seg")]
            self.assertEqual(len(segs), 1)
            with open(segs[0], "ab") as f:
                f.write(b"\x40\x00\x00\x00garbage-that-is-no-record")
            srv = Server(data_dir=data).start()
            logs = srv.client("logs")
            r = logs.get_log_events(logGroupName="/crash/g", logStreamName="s", startFromHead=True)
            self.assertEqual([e["message"] for e in r["events"]], ["acked %d" % i for i in range(50)])
            logs.put_log_events(logGroupName="/crash/g", logStreamName="s",
                                logEvents=[{"timestamp": t + 60, "message": "after"}])
            r = logs.get_log_events(logGroupName="/crash/g", logStreamName="s", limit=2)
            self.assertEqual([e["message"] for e in r["events"]], ["acked 49", "after"])
            self.assertIn("cut a torn record", srv.log())
            self.assertEqual(srv.stop(), 0)
            self.assertNotIn("AddressSanitizer", srv.log())
        finally:
            shutil.rmtree(data, ignore_errors=True)


class TestEnforce(unittest.TestCase):
    """Under --auth enforce a CloudWatch Logs request must be signed for service `logs` by a key of the
    key store, whose account it acts as."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=["--auth", "enforce"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def signed(self, key, service):
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        body = json.dumps({"logGroupNamePrefix": "/"})
        req = botocore.awsrequest.AWSRequest(method="POST", url=self.server.endpoint + "/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
        creds = botocore.credentials.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        botocore.auth.SigV4Auth(creds, service, REGION).add_auth(req)
        r = urllib.request.Request(req.url, data=body.encode(), method="POST", headers=dict(req.headers))
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_signed_for_logs(self):
        key = self.server.create_key("111111111111")
        logs = self.server.client_for(key, service="logs")
        logs.create_log_group(logGroupName="/enforced")
        g = logs.describe_log_groups()["logGroups"][0]
        self.assertEqual(g["arn"], "arn:aws:logs:%s:111111111111:log-group:/enforced:*" % REGION)
        status, body = self.signed(key, "logs")
        self.assertEqual(status, 200, body)
        status, body = self.signed(key, "lambda")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidSignatureException")
        self.assertIn("Credential should be scoped to correct service: 'logs'", body["message"])
        unsigned = self.server.client("logs")  # a key the store does not know
        with self.assertRaises(unsigned.exceptions.ClientError) as cm:
            unsigned.describe_log_groups()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")


FLAKY = """
import json
def handler(event, context):
    if event["n"] % 2:
        print("ERROR failing n=%d" % event["n"])
        raise Exception("boom")
    print("ok n=%d" % event["n"])
    return {"n": event["n"]}
"""


class TestFunctionLogs(LogsCase):
    """A function's lines in /aws/lambda/NAME, read with the AWS CLI (v1 and Debian's v2)."""

    def cli(self, *args, binary="aws"):
        return subprocess.run([binary, "--endpoint-url", self.server.endpoint, "--region", REGION] + list(args),
                              capture_output=True, text=True, env=cli_env(), timeout=120)

    def test_filter_finds_failing_invocations_and_tail(self):
        name = self.name("flaky")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": FLAKY})})
        self.settled(name)
        for n in range(6):
            r = self.lam.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
            self.assertEqual("FunctionError" in r, n % 2 == 1)
        group = "/aws/lambda/" + name
        streams = self.logs.describe_log_streams(logGroupName=group)["logStreams"]
        self.assertGreaterEqual(len(streams), 1)
        self.assertRegex(streams[0]["logStreamName"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        # AWS CLI v1: filter-log-events
        p = self.cli("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR")
        self.assertEqual(p.returncode, 0, p.stderr)
        events = json.loads(p.stdout)["events"]
        failing = sorted({int(e["message"].split("n=")[1]) for e in events if "ERROR failing" in e["message"]})
        self.assertEqual(failing, [1, 3, 5])
        self.assertFalse([e for e in events if "ok n=" in e["message"]])
        # every event carries its line's own timestamp, within the test's minute
        for e in events:
            self.assertLess(abs(e["timestamp"] - now_ms()), 120000)
        # CLI v1 has no `logs tail` (it came with v2)
        p = self.cli("logs", "tail", group)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Invalid choice", p.stderr)
        # Debian's CLI v2: logs tail --since 5m
        p = self.cli("logs", "tail", group, "--since", "5m", "--format", "short", binary="/usr/bin/aws")
        self.assertEqual(p.returncode, 0, p.stderr)
        for n in range(6):
            self.assertIn(("ERROR failing n=%d" if n % 2 else "ok n=%d") % n, p.stdout)
        self.assertIn("REPORT RequestId: ", p.stdout)

    def test_logging_config_log_group(self):
        name = self.name("custom")
        code = "def handler(e, c):\n    print('custom group line')\n    return 1\n"
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": code})},
                                 LoggingConfig={"LogFormat": "Text", "LogGroup": "/custom/" + name})
        self.settled(name)
        self.lam.invoke(FunctionName=name, Payload=b"{}")
        ev = self.logs.filter_log_events(logGroupName="/custom/" + name, filterPattern='"custom group line"')
        self.assertEqual(len(ev["events"]), 1)
        self.assertEqual(ev["events"][0]["message"], "custom group line\n")
        self.assertEqual(self.logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/" + name)["logGroups"], [])

    def test_tail_follow(self):
        name = self.name("follow")
        code = "def handler(e, c):\n    print('marker', e['m'])\n    return 1\n"
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": code})})
        self.settled(name)
        self.lam.invoke(FunctionName=name, Payload=b'{"m": "before"}')
        proc = subprocess.Popen(["/usr/bin/aws", "--endpoint-url", self.server.endpoint, "--region", REGION, "logs",
                                 "tail", "/aws/lambda/" + name, "--follow", "--since", "5m", "--format", "short"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env())
        out = b""
        try:
            def read_until(text, deadline_s):
                nonlocal out
                end = time.time() + deadline_s
                while text not in out and time.time() < end:
                    r, _, _ = select.select([proc.stdout], [], [], 0.5)
                    if r:
                        chunk = os.read(proc.stdout.fileno(), 65536)
                        if not chunk:
                            break
                        out += chunk
                return text in out
            self.assertTrue(read_until(b"marker before", 30), out)
            self.lam.invoke(FunctionName=name, Payload=b'{"m": "after-start"}')
            # the CLI polls every 5 s
            self.assertTrue(read_until(b"marker after-start", 30), out)
        finally:
            proc.kill()
            proc.wait(10)
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(out.count(b"marker before"), 1)


BIG = """
import sys
def handler(event, context):
    line = "y" * 16383 + "\\n"
    chunk = line * 64  # 1 MB
    for _ in range(event["mb"]):
        sys.stdout.write(chunk)
    sys.stdout.flush()
    print("the end")
    return "done"
"""


class TestOutputCaps(LogsCase):
    """A function printing 1 GB: the store stays under --logs-max-bytes (8 MB here; 1 GiB by default), the
    environment's output over --logs-env-rate is dropped with a line saying so, and the server keeps
    serving writes."""
    CAP = 8 * 1024 * 1024
    server_args = ("--logs-max-bytes", str(CAP), "--logs-env-rate", str(1024 * 1024))

    def test_one_gigabyte_of_output(self):
        name = self.name("big")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": BIG})}, Timeout=300, MemorySize=512)
        self.settled(name)
        # something older that the cap will drop first
        self.logs.create_log_group(logGroupName="/old/group")
        self.logs.create_log_stream(logGroupName="/old/group", logStreamName="s")
        for _ in range(8):
            self.logs.put_log_events(logGroupName="/old/group", logStreamName="s",
                                     logEvents=[{"timestamp": now_ms(), "message": "z" * 1000}] * 1000)
        start = time.time()
        r = self.lam.invoke(FunctionName=name, Payload=b'{"mb": 1024}')
        took = time.time() - start
        self.assertEqual(r["Payload"].read(), b'"done"', r)
        logs_dir = os.path.join(self.server.data_dir, "logs")
        stored = dir_bytes(logs_dir)
        # the segments and a little metadata: under the cap and the directories' blocks
        self.assertLess(stored, self.CAP + 2 * 1024 * 1024, stored)
        log = self.server.log()
        self.assertIn("logs more than 1048576 bytes a second", log)
        self.assertIn("the log store reached its cap of %d bytes" % self.CAP, log)
        # the oldest went first: the old group lost segments (how many depends on how much output passed the
        # rate cap, i.e. on the machine's speed), while the function's newest line below is still there
        old_bytes = self.logs.describe_log_streams(logGroupName="/old/group")["logStreams"][0]["storedBytes"]
        self.assertLess(old_bytes, 8 * 1000 * 1000 - 1024 * 1024, old_bytes)
        # the stream says what was dropped, and its last line is there
        group = "/aws/lambda/" + name
        ev = self.logs.filter_log_events(logGroupName=group, filterPattern='"bytes of output"')["events"]
        self.assertTrue(ev, "no line about dropped output")
        self.assertIn("dropped: this environment logged more than 1048576 bytes a second", ev[0]["message"])
        ev = self.logs.filter_log_events(logGroupName=group, filterPattern='"the end"')["events"]
        self.assertEqual(len(ev), 1)
        # writes still served
        self.logs.create_log_stream(logGroupName="/old/group", logStreamName="after")
        self.logs.put_log_events(logGroupName="/old/group", logStreamName="after",
                                 logEvents=[{"timestamp": now_ms(), "message": "still here"}])
        self.assertEqual(self.logs.get_log_events(logGroupName="/old/group", logStreamName="after")["events"][0]
                         ["message"], "still here")
        self.assertEqual(self.lam.invoke(FunctionName=name, Payload=b'{"mb": 0}')["Payload"].read(), b'"done"')
        print("\n  1 GB of output: %.1f s, log store %d bytes (cap %d)" % (took, stored, self.CAP))


if __name__ == "__main__":
    unittest.main()
