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
