"""Event source mappings that run (issue 16, first part: SQS standard queues), against moto's SQS on a
loopback port. The function sends every event it gets to a results queue with its own boto3 (the
runtime's SDK, pointed at moto by lambdad), so the test reads exactly what the poller delivered:
AWS's record shape (test_lambda_integration_sqs recordings), deletion on success, messages left to
the visibility timeout on a function error, ReportBatchItemFailures, disabling, and resuming after a
restart."""
import json
import time

from harness import ROLE, MotoTestCase, Server, make_zip

HANDLER = """
import json, os, boto3
sqs = boto3.client("sqs")

def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=json.dumps(event))
    bodies = [r["body"] for r in event["Records"]]
    if "boom" in bodies:
        raise RuntimeError("boom")
    if os.environ.get("REPORT") == "1":
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if r["body"].startswith("fail")]}
    return {"ok": len(bodies)}
"""


class TestSqsPoller(MotoTestCase):
    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    def queue(self, **attrs):
        url = self.sqs.create_queue(QueueName=self.name("q"), Attributes=attrs)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def function(self, results, report=False):
        name = self.name("fn")
        env = {"RESULTS": results}
        if report:
            env["REPORT"] = "1"
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": HANDLER})}, Timeout=10,
                                 Environment={"Variables": env})
        self.settled(name)
        return name

    def mapping(self, name, arn, **kw):
        uuid = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, BatchSize=10, **kw)["UUID"]
        end = time.time() + 10
        while self.lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled":
            self.assertLess(time.time(), end)
            time.sleep(0.05)
        return uuid

    def events(self, results, n, deadline_s=20):
        """The first n events the function saw (read from the results queue)."""
        got, end = [], time.time() + deadline_s
        while len(got) < n and time.time() < end:
            r = self.sqs.receive_message(QueueUrl=results, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                got.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=results, ReceiptHandle=m["ReceiptHandle"])
        return got

    def depth(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                         "ApproximateNumberOfMessagesNotVisible"])
        return int(a["Attributes"]["ApproximateNumberOfMessages"]) + int(
            a["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

    def wait_depth(self, url, n, deadline_s=15):
        end = time.time() + deadline_s
        while self.depth(url) != n and time.time() < end:
            time.sleep(0.1)
        return self.depth(url)

    def test_records_and_deletion(self):
        results, _ = self.queue()
        url, arn = self.queue()
        name = self.function(results)
        uuid = self.mapping(name, arn)
        self.sqs.send_message(QueueUrl=url, MessageBody="hello",
                              MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}})
        ev = self.events(results, 1)
        self.assertEqual(len(ev), 1)
        rec = ev[0]["Records"][0]
        self.assertEqual(list(rec), ["messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                                     "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN",
                                     "awsRegion"])
        self.assertEqual((rec["body"], rec["eventSource"], rec["eventSourceARN"], rec["awsRegion"]),
                         ("hello", "aws:sqs", arn, "us-east-1"))
        for k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"):
            self.assertIn(k, rec["attributes"])
        self.assertEqual(rec["messageAttributes"]["kind"], {"stringValue": "greeting", "stringListValues": [],
                                                           "binaryListValues": [], "dataType": "String"})
        self.assertEqual(self.wait_depth(url, 0), 0)  # deleted after the success
        end = time.time() + 5
        while self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] != "OK" and time.time() < end:
            time.sleep(0.05)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"], "OK")

    def test_function_error_leaves_the_message(self):
        results, _ = self.queue()
        url, arn = self.queue(VisibilityTimeout="1")
        name = self.function(results)
        uuid = self.mapping(name, arn)
        self.sqs.send_message(QueueUrl=url, MessageBody="boom")
        ev = self.events(results, 2, deadline_s=30)  # delivered again after the visibility timeout
        self.assertEqual(len(ev), 2)
        counts = [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in ev]
        self.assertEqual(counts, ["1", "2"])
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"],
                         "PROBLEM: Function call failed")
        self.lam.delete_event_source_mapping(UUID=uuid)

    def test_report_batch_item_failures(self):
        results, _ = self.queue()
        url, arn = self.queue(VisibilityTimeout="30")
        name = self.function(results, report=True)
        self.sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "ok-1"},
                                                          {"Id": "2", "MessageBody": "fail-2"},
                                                          {"Id": "3", "MessageBody": "ok-3"}])
        self.mapping(name, arn, FunctionResponseTypes=["ReportBatchItemFailures"])
        seen = set()
        for e in self.events(results, 3, deadline_s=10):
            seen.update(r["body"] for r in e["Records"])
            if len(seen) == 3:
                break
        self.assertEqual(seen, {"ok-1", "fail-2", "ok-3"})
        # the two successes are deleted; the reported failure stays (in flight until its timeout)
        self.assertEqual(self.wait_depth(url, 1), 1)

    def test_disabled_mapping_stops(self):
        results, _ = self.queue()
        url, arn = self.queue(VisibilityTimeout="2")
        name = self.function(results)
        uuid = self.mapping(name, arn)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        end = time.time() + 10
        while self.lam.get_event_source_mapping(UUID=uuid)["State"] != "Disabled":
            self.assertLess(time.time(), end)
            time.sleep(0.05)
        time.sleep(0.3)
        self.sqs.send_message(QueueUrl=url, MessageBody="not for now")
        self.assertEqual(self.events(results, 1, deadline_s=3), [])
        self.assertEqual(self.depth(url), 1)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.assertEqual(self.events(results, 1)[0]["Records"][0]["body"], "not for now")


class TestSqsFifo(MotoTestCase):
    """A FIFO queue's message group reaches the function in order, with the group's attributes."""

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    function, mapping, events = TestSqsPoller.function, TestSqsPoller.mapping, TestSqsPoller.events

    def test_group_in_order(self):
        results = self.sqs.create_queue(QueueName=self.name("r"))["QueueUrl"]
        url = self.sqs.create_queue(QueueName=self.name("q") + ".fifo",
                                    Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        name = self.function(results)
        for i in range(5):
            self.sqs.send_message(QueueUrl=url, MessageBody="m%d" % i, MessageGroupId="g")
        self.mapping(name, arn)
        bodies, attrs = [], None
        for e in self.events(results, 5, deadline_s=20):
            for r in e["Records"]:
                bodies.append(r["body"])
                attrs = r["attributes"]
            if len(bodies) >= 5:
                break
        self.assertEqual(bodies, ["m0", "m1", "m2", "m3", "m4"])
        self.assertEqual(attrs["MessageGroupId"], "g")
        self.assertIn("MessageDeduplicationId", attrs)  # (moto leaves out SequenceNumber; SQS sends it)


class TestSqsFilters(MotoTestCase):
    """FilterCriteria (the event pattern grammar of util/pattern.c): a JSON body is matched as a
    document; what the filter keeps out is deleted without invoking, as on AWS."""

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    queue, function, mapping = TestSqsPoller.queue, TestSqsPoller.function, TestSqsPoller.mapping
    events, depth, wait_depth = TestSqsPoller.events, TestSqsPoller.depth, TestSqsPoller.wait_depth

    def test_filter_keeps_out_and_deletes(self):
        results, _ = self.queue()
        url, arn = self.queue()
        name = self.function(results)
        pattern = {"body": {"kind": ["order"], "amount": [{"numeric": [">", 10]}]}}
        self.mapping(name, arn, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
        for body in ({"kind": "order", "amount": 5}, {"kind": "refund", "amount": 50}, "plain text",
                     {"kind": "order", "amount": 42}):
            self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body) if isinstance(body, dict) else body)
        ev = self.events(results, 1)
        self.assertEqual([json.loads(r["body"]) for r in ev[0]["Records"]], [{"kind": "order", "amount": 42}])
        self.assertEqual(self.wait_depth(url, 0), 0)  # the filtered-out messages were deleted too
        self.assertEqual(self.events(results, 1, deadline_s=2), [])  # and never invoked


class TestPollerRestart(MotoTestCase):
    """A mapping's poller starts again with the daemon (also after kill -9)."""

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    def test_resumes_after_kill(self):
        results = self.sqs.create_queue(QueueName="restart-results")["QueueUrl"]
        # (the killed daemon's long poll may still take the message: it is back after 2 s, as on SQS)
        url = self.sqs.create_queue(QueueName="restart-src", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.lam.create_function(FunctionName="restart-fn", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": HANDLER})},
                                 Environment={"Variables": {"RESULTS": results}})
        self.settled("restart-fn")
        uuid = self.lam.create_event_source_mapping(FunctionName="restart-fn", EventSourceArn=arn)["UUID"]
        end = time.time() + 10
        while self.lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled" and time.time() < end:
            time.sleep(0.05)
        self.server.kill9()
        self.sqs.send_message(QueueUrl=url, MessageBody="while it was down")
        self.server.start()
        self.assertIn("1 event source mappings polled", self.server.log())
        got, end = [], time.time() + 20
        while not got and time.time() < end:
            got = self.sqs.receive_message(QueueUrl=results, WaitTimeSeconds=1).get("Messages", [])
        self.assertEqual(json.loads(got[0]["Body"])["Records"][0]["body"], "while it was down")

    def test_kill9_with_a_batch_in_flight_loses_nothing(self):
        results = self.sqs.create_queue(QueueName="inflight-results")["QueueUrl"]
        url = self.sqs.create_queue(QueueName="inflight-src", Attributes={"VisibilityTimeout": "3"})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        slow = HANDLER.replace("    bodies = [", "    __import__('time').sleep(1.5)\n    bodies = [")
        self.lam.create_function(FunctionName="inflight-fn", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": slow})}, Timeout=10,
                                 Environment={"Variables": {"RESULTS": results}})
        self.settled("inflight-fn")
        sent = {"m%d" % i for i in range(5)}
        for b in sorted(sent):
            self.sqs.send_message(QueueUrl=url, MessageBody=b)
        self.lam.create_event_source_mapping(FunctionName="inflight-fn", EventSourceArn=arn, BatchSize=2)
        seen, end = set(), time.time() + 20
        while not seen and time.time() < end:  # the first batch is with the function (it sleeps 1.5 s)
            for m in self.sqs.receive_message(QueueUrl=results, WaitTimeSeconds=1).get("Messages", []):
                seen.update(r["body"] for r in json.loads(m["Body"])["Records"])
        self.assertTrue(seen)
        self.server.kill9()  # before that batch is deleted: it comes back after the visibility timeout
        self.server.start()
        end = time.time() + 40
        while seen != sent and time.time() < end:
            for m in self.sqs.receive_message(QueueUrl=results, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=1).get("Messages", []):
                seen.update(r["body"] for r in json.loads(m["Body"])["Records"])
        self.assertEqual(seen, sent)


SLOW = """
import json, os, time, boto3
sqs = boto3.client("sqs")

def handler(event, context):
    start = time.time()
    time.sleep(float(os.environ.get("SLEEP", "0")))
    end = time.time()
    sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=json.dumps(
        {"ids": [r["body"].split(":")[0] for r in event["Records"]], "start": start, "end": end,
         "size": len(json.dumps(event, separators=(",", ":")))}))
"""


class TestSqsBatchingAndScaling(MotoTestCase):
    """Batches gathered over MaximumBatchingWindowInSeconds (above 10 messages too, within the 6 MB
    invoke payload), and a mapping's workers: bounded by ScalingConfig.MaximumConcurrency and by the
    function's concurrency, where a throttled batch goes back to the queue rather than get lost. The
    function reports what each invocation got and when it ran (start and end of its sleep)."""

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    queue, depth, wait_depth = TestSqsPoller.queue, TestSqsPoller.depth, TestSqsPoller.wait_depth

    def function(self, results, sleep=0):
        name = self.name("fn")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": SLOW})}, Timeout=30,
                                 Environment={"Variables": {"RESULTS": results, "SLEEP": str(sleep)}})
        self.settled(name)
        return name

    def mapping(self, name, arn, **kw):
        uuid = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, **kw)["UUID"]
        end = time.time() + 10
        while self.lam.get_event_source_mapping(UUID=uuid)["State"] != "Enabled":
            self.assertLess(time.time(), end)
            time.sleep(0.05)
        return uuid

    def send(self, url, ids, pad=0):
        if pad:  # (a batch of sends takes 256 KB in all)
            for m in ids:
                self.sqs.send_message(QueueUrl=url, MessageBody="%s:%s" % (m, "x" * pad))
            return
        for i in range(0, len(ids), 10):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(k), "MessageBody": "%s:%s" % (m, "x" * pad)} for k, m in enumerate(ids[i:i + 10])])

    def invocations(self, results, ids, deadline_s=40, settle_s=2, at_least=1):
        """What the function reported, read until every id of ids was seen in at least at_least
        reports and settle_s more passed (so that a duplicate would show)."""
        got, want, end, quiet = [], set(ids), time.time() + deadline_s, None
        while time.time() < end and (quiet is None or time.time() < quiet):
            r = self.sqs.receive_message(QueueUrl=results, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                got.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=results, ReceiptHandle=m["ReceiptHandle"])
            if quiet is None and len(got) >= at_least and want <= {i for g in got for i in g["ids"]}:
                quiet = time.time() + settle_s
        return got

    def assertEachOnce(self, got, ids):
        seen = sorted(i for g in got for i in g["ids"])
        self.assertEqual(seen, sorted(ids))

    @staticmethod
    def most_at_once(got):
        """The most invocations that ran at the same time (their sleeps overlapping)."""
        return max(sum(1 for o in got if o["start"] <= g["start"] < o["end"]) for g in got)

    def test_batch_above_10_in_one_invocation(self):
        results, _ = self.queue()
        url, arn = self.queue()
        name = self.function(results)
        ids = ["m%d" % i for i in range(50)]
        self.send(url, ids)
        self.mapping(name, arn, BatchSize=50, MaximumBatchingWindowInSeconds=2)
        got = self.invocations(results, ids)
        self.assertEachOnce(got, ids)
        # a mapping starts with one worker, which gathers all 50 (5 receives) before its window ends
        self.assertEqual([len(g["ids"]) for g in got], [50])
        self.assertEqual(self.wait_depth(url, 0), 0)

    def test_window_gathers_a_trickle(self):
        results, _ = self.queue()
        url, arn = self.queue()
        name = self.function(results)
        self.mapping(name, arn, BatchSize=10, MaximumBatchingWindowInSeconds=3)
        ids = ["t%d" % i for i in range(6)]
        first = time.time()
        for i in ids:  # over about 1 s, within the 3 s window the first message opens
            self.sqs.send_message(QueueUrl=url, MessageBody=i + ":")
            time.sleep(0.2)
        got = self.invocations(results, ids)
        self.assertEachOnce(got, ids)
        self.assertEqual(len(got), 1)  # without the window the long poll would have returned each one
        self.assertGreaterEqual(got[0]["start"] - first, 2.5)

    def test_payload_limit_splits_the_batch(self):
        results, _ = self.queue()
        url, arn = self.queue()
        name = self.function(results)
        ids = ["p%d" % i for i in range(40)]
        self.send(url, ids, pad=200 * 1024)  # 8 MB in all: more than one 6 MB invocation
        self.mapping(name, arn, BatchSize=100, MaximumBatchingWindowInSeconds=2)
        got = self.invocations(results, ids)
        self.assertEachOnce(got, ids)
        self.assertGreaterEqual(len(got), 2)
        for g in got:
            self.assertLessEqual(g["size"], 6 * 1024 * 1024)
        self.assertGreater(max(len(g["ids"]) for g in got), 10)

    def test_maximum_concurrency(self):
        results, _ = self.queue()
        url, arn = self.queue(VisibilityTimeout="60")
        name = self.function(results, sleep=1)
        ids = ["c%d" % i for i in range(20)]
        self.send(url, ids)
        self.mapping(name, arn, BatchSize=1, ScalingConfig={"MaximumConcurrency": 2})
        got = self.invocations(results, ids)
        self.assertEachOnce(got, ids)
        self.assertEqual(self.most_at_once(got), 2)  # scaled up to the bound, never past it
        self.assertEqual(self.wait_depth(url, 0), 0)

    def test_reserved_concurrency_throttles_give_back(self):
        results, _ = self.queue()
        # a throttled batch left to its visibility timeout would come back after the deadline below
        url, arn = self.queue(VisibilityTimeout="120")
        name = self.function(results, sleep=0.3)
        ids = ["r%d" % i for i in range(30)]
        self.send(url, ids)
        self.mapping(name, arn, BatchSize=1)
        first = self.invocations(results, [], deadline_s=20, settle_s=0, at_least=5)  # the workers have grown
        self.assertTrue(first)
        self.assertGreater(self.most_at_once(first), 1)  # (so that the reservation below throttles)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        since = time.time()
        got = first + self.invocations(results, set(ids) - {i for g in first for i in g["ids"]}, deadline_s=60)
        self.assertEachOnce(got, ids)
        self.assertEqual(self.most_at_once([g for g in got if g["start"] > since + 0.5]), 1)
        self.assertEqual(self.wait_depth(url, 0), 0)

    def test_fifo_groups_stay_in_order_with_several_workers(self):
        results, _ = self.queue()
        url = self.sqs.create_queue(QueueName=self.name("q") + ".fifo",
                                    Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        name = self.function(results, sleep=0.2)
        ids = []
        for i in range(8):
            for g in "abc":
                ids.append("%s%d" % (g, i))
                self.sqs.send_message(QueueUrl=url, MessageBody=ids[-1] + ":", MessageGroupId=g)
        self.mapping(name, arn, BatchSize=1)  # every receive full: the mapping adds workers
        got = self.invocations(results, ids)
        self.assertEachOnce(got, ids)
        for g in "abc":
            order = [i for r in sorted(got, key=lambda r: r["start"]) for i in r["ids"] if i[0] == g]
            self.assertEqual(order, ["%s%d" % (g, i) for i in range(8)])
        self.assertGreater(self.most_at_once(got), 1)  # groups ran in parallel


class TestSqsStopWhileGathering(MotoTestCase):
    """A mapping stopped while its workers gather a batch: disabled, it gives the gathered messages
    back at once; the daemon stopped, it exits cleanly (sanitizers silent) and the messages come
    back after their visibility timeout."""

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    queue, function, mapping = TestSqsBatchingAndScaling.queue, TestSqsBatchingAndScaling.function, \
        TestSqsBatchingAndScaling.mapping
    send, invocations = TestSqsBatchingAndScaling.send, TestSqsBatchingAndScaling.invocations

    def visible(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(a["Attributes"]["ApproximateNumberOfMessages"])

    def test_disable_gives_back(self):
        results, _ = self.queue()
        url, arn = self.queue(VisibilityTimeout="120")
        name = self.function(results)
        uuid = self.mapping(name, arn, BatchSize=100, MaximumBatchingWindowInSeconds=30)
        self.send(url, ["g0", "g1", "g2"])
        end = time.time() + 10
        while self.visible(url) and time.time() < end:  # the worker holds them, gathering
            time.sleep(0.1)
        self.assertEqual(self.visible(url), 0)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        end = time.time() + 30  # the receive in flight ends (20 s at most), then they go back
        while self.visible(url) != 3 and time.time() < end:
            time.sleep(0.2)
        self.assertEqual(self.visible(url), 3)
        self.assertEqual(self.invocations(results, [], deadline_s=1, settle_s=0), [])

    def test_daemon_stop_while_gathering(self):
        results, _ = self.queue()
        # (a visibility timeout shorter than the window would let the worker receive them twice)
        url, arn = self.queue(VisibilityTimeout="8")
        name = self.function(results)
        self.mapping(name, arn, BatchSize=100, MaximumBatchingWindowInSeconds=4)
        ids = ["d%d" % i for i in range(3)]
        self.send(url, ids)
        time.sleep(1.5)
        self.assertEqual(self.server.stop(), 0)
        log = self.server.log()
        self.assertNotIn("Sanitizer", log)
        self.server.start()
        got = self.invocations(results, ids, deadline_s=30)
        self.assertEqual(sorted(i for g in got for i in g["ids"]), ids)
