"""Event source mappings that read streams (issue 16: Kinesis and DynamoDB Streams), against moto's Kinesis
and DynamoDB on a loopback port. The function sends every event it gets to a results queue with its own
boto3 (lambdad points the runtime's SDK at moto), so each test reads exactly what the poller delivered:
AWS's record shapes (the test_lambda_integration_{kinesis,dynamodbstreams} recordings), order per shard and
per partition key, checkpoints that survive a disable and a kill -9, retries, bisecting,
ReportBatchItemFailures, OnFailure records in an SQS queue, FilterCriteria, tumbling windows and a split
shard read after its parent."""
import base64
import json
import os
import time

from harness import ROLE, MotoTestCase, make_zip

HANDLER = """
import base64, json, os, time, boto3
sqs = boto3.client("sqs")

def payload(r):
    if "kinesis" in r:
        return base64.b64decode(r["kinesis"]["data"]).decode()
    img = r["dynamodb"].get("NewImage") or r["dynamodb"].get("OldImage") or {}
    return img.get("v", {}).get("S", "")

def seq(r):
    return r["kinesis"]["sequenceNumber"] if "kinesis" in r else r["dynamodb"]["SequenceNumber"]

def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=json.dumps(event))
    time.sleep(float(os.environ.get("SLEEP", "0")))
    data = [payload(r) for r in event.get("Records", [])]
    if any(d.startswith("boom") for d in data):
        raise RuntimeError("boom")
    out = {}
    if os.environ.get("REPORT") == "1":
        out["batchItemFailures"] = [{"itemIdentifier": seq(r)} for r, d in zip(event["Records"], data)
                                    if d.startswith("fail")]
    if "window" in event:
        out["state"] = {"n": event["state"].get("n", 0) + len(data)}
    return out
"""


class StreamCase(MotoTestCase):
    """What the Kinesis and DynamoDB tests share: a results queue, the function, mappings, reading events."""

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")
        cls.kinesis = cls.aws("kinesis")
        cls.ddb = cls.aws("dynamodb")

    def queue(self):
        url = self.sqs.create_queue(QueueName=self.name("q"))["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def function(self, results, **env):
        name = self.name("fn")
        env = dict({"RESULTS": results}, **{k: str(v) for k, v in env.items()})
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": HANDLER})}, Timeout=20,
                                 Environment={"Variables": env})
        self.settled(name)
        return name

    def mapping(self, name, arn, **kw):
        kw.setdefault("StartingPosition", "TRIM_HORIZON")
        kw.setdefault("BatchSize", 10)
        uuid = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, **kw)["UUID"]
        self.wait_mapping_state(uuid, "Enabled")
        return uuid

    def messages(self, url, n, deadline_s=30):
        got, end = [], time.time() + deadline_s
        while len(got) < n and time.time() < end:
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in r.get("Messages", []):
                got.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return got

    def records(self, results, n, deadline_s=30):
        """(events, records) until n records were seen (bounded)."""
        events, recs, end = [], [], time.time() + deadline_s
        while len(recs) < n and time.time() < end:
            for e in self.messages(results, 1, deadline_s=max(0.5, end - time.time())):
                events.append(e)
                recs.extend(e["Records"])
        return events, recs


class TestSourceExists(StreamCase):
    """CreateEventSourceMapping asks the source's service whether the queue or stream exists (moto here),
    and answers as AWS does when it does not (test_esm_with_not_existing_* recordings)."""

    def test_missing_sources(self):
        results, _ = self.queue()
        name = self.function(results)
        for arn in ("arn:aws:kinesis:us-east-1:123456789012:stream/nope",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/nope/stream/2025-02-22T03:03:25.490"):
            self.assertError("InvalidParameterValueException", self.lam.create_event_source_mapping,
                             FunctionName=name, EventSourceArn=arn, StartingPosition="LATEST",
                             message="Stream not found: " + arn, status=400)
        self.assertError("InvalidParameterValueException", self.lam.create_event_source_mapping,
                         FunctionName=name, EventSourceArn="arn:aws:sqs:us-east-1:123456789012:nope",
                         message="Error occurred while ReceiveMessage. SQS Error Code: "
                                 "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified "
                                 "queue does not exist.", status=400)
        self.assertEqual(self.lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"], [])
        # the ones that exist are created
        _, qarn = self.queue()
        self.assertEqual(self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=qarn)["State"],
                         "Creating")


def kdata(r):
    return base64.b64decode(r["kinesis"]["data"]).decode()


class TestKinesis(StreamCase):
    def stream(self, shards=1):
        name = self.name("s")
        self.kinesis.create_stream(StreamName=name, ShardCount=shards)
        arn = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
        return name, arn

    def put(self, stream, *data, key="k"):
        return [self.kinesis.put_record(StreamName=stream, Data=d.encode(), PartitionKey=key)["SequenceNumber"]
                for d in data]

    def test_records_in_order_with_aws_shape(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        seqs = self.put(stream, *["r%d" % i for i in range(5)])
        name = self.function(results)
        uuid = self.mapping(name, arn)
        _, recs = self.records(results, 5)
        self.assertEqual([kdata(r) for r in recs], ["r0", "r1", "r2", "r3", "r4"])
        r = recs[0]
        self.assertEqual(list(r), ["kinesis", "eventSource", "eventVersion", "eventID", "eventName",
                                   "invokeIdentityArn", "awsRegion", "eventSourceARN"])
        self.assertEqual(list(r["kinesis"]), ["kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
                                              "approximateArrivalTimestamp"])
        self.assertEqual((r["eventSource"], r["eventVersion"], r["eventName"], r["eventSourceARN"], r["awsRegion"]),
                         ("aws:kinesis", "1.0", "aws:kinesis:record", arn, "us-east-1"))
        self.assertEqual(r["eventID"], "shardId-000000000000:" + seqs[0])
        self.assertEqual(r["invokeIdentityArn"], ROLE)
        self.assertEqual((r["kinesis"]["partitionKey"], r["kinesis"]["sequenceNumber"]), ("k", seqs[0]))
        self.assertIsInstance(r["kinesis"]["approximateArrivalTimestamp"], float)
        end = time.time() + 5
        while self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] != "OK":
            self.assertLess(time.time(), end)
            time.sleep(0.1)

    def test_latest_skips_what_came_before(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        self.put(stream, "old")
        name = self.function(results)
        self.mapping(name, arn, StartingPosition="LATEST")
        seen, end = [], time.time() + 20
        while "new" not in seen and time.time() < end:
            self.put(stream, "new")
            _, recs = self.records(results, 1, deadline_s=2)
            seen.extend(kdata(r) for r in recs)
        self.assertIn("new", seen)
        self.assertNotIn("old", seen)

    def test_batching_window_gathers_a_trickle(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        name = self.function(results)
        self.mapping(name, arn, BatchSize=100, MaximumBatchingWindowInSeconds=3)
        for i in range(5):
            self.put(stream, "t%d" % i)
            time.sleep(0.2)
        events, recs = self.records(results, 5)
        self.assertEqual([kdata(r) for r in recs], ["t0", "t1", "t2", "t3", "t4"])
        self.assertEqual(len(events), 1)  # one invoke: the window held the first records back for the rest

    def test_at_timestamp_starts_there(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        self.put(stream, "old")
        time.sleep(1.5)
        start = time.time() - 0.5
        self.put(stream, "new")
        name = self.function(results)
        self.mapping(name, arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=start)
        _, recs = self.records(results, 1)
        self.assertEqual([kdata(r) for r in recs], ["new"])
        self.assertEqual(self.records(results, 1, deadline_s=2)[1], [])

    def test_failure_record_in_s3_carries_the_payload(self):
        results, _ = self.queue()
        s3 = self.aws("s3")
        bucket = self.name("b")
        s3.create_bucket(Bucket=bucket)
        stream, arn = self.stream()
        self.put(stream, "boom")
        name = self.function(results)
        uuid = self.mapping(name, arn, MaximumRetryAttempts=0,
                            DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::" + bucket}})
        keys, end = [], time.time() + 20
        while not keys and time.time() < end:
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            time.sleep(0.2)
        self.assertEqual(len(keys), 1)
        self.assertRegex(keys[0], r"^aws/lambda/%s/shardId-000000000000/\d{4}/\d\d/\d\d/\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d-"
                         % uuid)
        doc = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
        self.assertEqual(doc["requestContext"]["condition"], "RetryAttemptsExhausted")
        self.assertEqual([kdata(r) for r in doc["payload"]["Records"]], ["boom"])
        self.assertEqual(doc["KinesisBatchInfo"]["batchSize"], 1)

    def test_failure_goes_to_the_destination_and_the_shard_goes_on(self):
        results, _ = self.queue()
        dest, dest_arn = self.queue()
        stream, arn = self.stream()
        boom = self.put(stream, "boom")[0]
        name = self.function(results)
        self.mapping(name, arn, MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": dest_arn}})
        rec = self.messages(dest, 1)[0]
        self.assertEqual(list(rec), ["requestContext", "responseContext", "version", "timestamp",
                                     "KinesisBatchInfo"])
        self.assertEqual(rec["requestContext"]["condition"], "RetryAttemptsExhausted")
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 2)
        self.assertEqual(rec["requestContext"]["functionArn"],
                         self.lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
        self.assertEqual(rec["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST",
                                                  "functionError": "Unhandled"})
        info = rec["KinesisBatchInfo"]
        self.assertEqual((info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"],
                          info["streamArn"]), ("shardId-000000000000", boom, boom, 1, arn))
        self.assertRegex(info["approximateArrivalOfFirstRecord"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.put(stream, "after")
        _, recs = self.records(results, 3)
        self.assertEqual([kdata(r) for r in recs], ["boom", "boom", "after"])

    def test_report_batch_item_failures_retries_from_the_first_failure(self):
        results, _ = self.queue()
        dest, dest_arn = self.queue()
        stream, arn = self.stream()
        seqs = self.put(stream, "ok-0", "fail-1", "ok-2")
        name = self.function(results, REPORT=1)
        self.mapping(name, arn, MaximumRetryAttempts=1, FunctionResponseTypes=["ReportBatchItemFailures"],
                     DestinationConfig={"OnFailure": {"Destination": dest_arn}})
        events, _ = self.records(results, 5)
        self.assertEqual([[kdata(r) for r in e["Records"]] for e in events],
                         [["ok-0", "fail-1", "ok-2"], ["fail-1", "ok-2"]])
        info = self.messages(dest, 1)[0]["KinesisBatchInfo"]
        self.assertEqual((info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]),
                         (seqs[1], seqs[2], 2))

    def test_bisect_isolates_the_bad_record(self):
        results, _ = self.queue()
        dest, dest_arn = self.queue()
        stream, arn = self.stream()
        seqs = self.put(stream, "a", "boom", "c", "d")
        name = self.function(results)
        self.mapping(name, arn, BatchSize=4, MaximumRetryAttempts=0, BisectBatchOnFunctionError=True,
                     DestinationConfig={"OnFailure": {"Destination": dest_arn}})
        events, _ = self.records(results, 4 + 2 + 1 + 1 + 2)
        self.assertEqual([[kdata(r) for r in e["Records"]] for e in events],
                         [["a", "boom", "c", "d"], ["a", "boom"], ["a"], ["boom"], ["c", "d"]])
        info = self.messages(dest, 1)[0]["KinesisBatchInfo"]
        self.assertEqual((info["startSequenceNumber"], info["batchSize"]), (seqs[1], 1))

    def test_filter_criteria_on_json_data(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        self.put(stream, json.dumps({"kind": "keep", "n": 1}), json.dumps({"kind": "drop"}), "not json",
                 json.dumps({"kind": "keep", "n": 2}))
        name = self.function(results)
        self.mapping(name, arn, FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]})
        _, recs = self.records(results, 2)
        self.assertEqual([json.loads(kdata(r))["n"] for r in recs], [1, 2])
        self.assertEqual(self.records(results, 1, deadline_s=2)[1], [])

    def test_parallelization_factor_keeps_each_key_in_order(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        for i in range(4):
            for k in ("a", "b", "c"):
                self.put(stream, "%s%d" % (k, i), key=k)
        name = self.function(results, SLEEP=0.2)
        self.mapping(name, arn, BatchSize=2, ParallelizationFactor=3)
        events, recs = self.records(results, 12)
        self.assertEqual(sorted(kdata(r) for r in recs), sorted("%s%d" % (k, i) for k in "abc" for i in range(4)))
        for k in "abc":
            self.assertEqual([kdata(r) for r in recs if r["kinesis"]["partitionKey"] == k],
                             ["%s%d" % (k, i) for i in range(4)])
        for e in events:  # a batch's lane holds one key's records, in order
            self.assertLessEqual(len({r["kinesis"]["partitionKey"] for r in e["Records"]}), 3)

    def test_disable_then_enable_resumes_at_the_checkpoint(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        self.put(stream, "one")
        name = self.function(results)
        uuid = self.mapping(name, arn)
        self.assertEqual([kdata(r) for r in self.records(results, 1)[1]], ["one"])
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.put(stream, "two")
        self.assertEqual(self.records(results, 1, deadline_s=3)[1], [])
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.assertEqual([kdata(r) for r in self.records(results, 1)[1]], ["two"])
        self.assertEqual(self.records(results, 1, deadline_s=2)[1], [])  # "one" is not read again

    def test_kill9_loses_nothing_and_keeps_order(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        sent = ["m%02d" % i for i in range(12)]
        self.put(stream, *sent)
        name = self.function(results, SLEEP=0.5)
        self.mapping(name, arn, BatchSize=2)
        first = self.records(results, 1)[1]
        self.assertTrue(first)
        self.server.kill9()  # a batch is in flight
        self.server.start()
        _, recs = self.records(results, 12, deadline_s=60)
        order = [kdata(r) for r in first + recs]
        self.assertEqual(sorted(set(order)), sent)  # at least once
        seen = []
        for d in order:  # a redelivery starts again at the checkpoint, never skips ahead
            if d not in seen:
                seen.append(d)
        self.assertEqual(seen, sent)

    def test_tumbling_window_state_and_final_invoke(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        name = self.function(results)
        self.mapping(name, arn, TumblingWindowInSeconds=2)
        self.put(stream, "w1", "w2", "w3")
        finals, end, n = [], time.time() + 30, 0
        while sum(len(e["Records"]) for e in finals) == 0 and n < 3 and time.time() < end:
            for e in self.messages(results, 1, deadline_s=2):
                self.assertEqual(e["shardId"], "shardId-000000000000")
                self.assertEqual(e["eventSourceARN"], arn)
                self.assertRegex(e["window"]["start"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
                self.assertFalse(e["isWindowTerminatedEarly"])
                if e["isFinalInvokeForWindow"]:
                    finals.append(e)
                    n += e["state"].get("n", 0)
        self.assertEqual(n, 3)  # each final invoke carries its window's state
        self.assertEqual([e["Records"] for e in finals], [[]] * len(finals))


class TestKinesisResharding(StreamCase):
    """A split shard's children are read once the parent is read to its end (moto with AWS's routing of
    records to the open shards: moto_resharding.py), and records older than MaximumRecordAgeInSeconds
    are given up (that wrapper's "aged-" partition keys arrived 120 s ago)."""

    moto_script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_resharding.py")
    stream, put = TestKinesis.stream, TestKinesis.put

    def test_records_past_their_age_go_to_the_destination(self):
        results, _ = self.queue()
        dest, dest_arn = self.queue()
        stream, arn = self.stream()
        old = self.put(stream, "old", key="aged-1")[0]
        self.put(stream, "fresh")
        name = self.function(results)
        self.mapping(name, arn, MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": dest_arn}})
        rec = self.messages(dest, 1)[0]
        self.assertEqual(list(rec), ["requestContext", "version", "timestamp", "KinesisBatchInfo"])
        self.assertEqual((rec["requestContext"]["condition"], rec["requestContext"]["approximateInvokeCount"]),
                         ("RecordAgeExceeded", 0))
        info = rec["KinesisBatchInfo"]
        self.assertEqual((info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]), (old, old, 1))
        _, recs = self.records(results, 1)
        self.assertEqual([kdata(r) for r in recs], ["fresh"])  # the function never saw the old one

    def test_split_shard_is_read_after_its_parent(self):
        results, _ = self.queue()
        stream, arn = self.stream()
        name = self.function(results, SLEEP=0.5)
        self.mapping(name, arn, BatchSize=1)
        self.put(stream, "b1", "b2", "b3")
        self.kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000",
                                 NewStartingHashKey=str(2 ** 127))
        self.put(stream, "a1", key="x")
        self.put(stream, "a2", key="y")
        shards = {s["ShardId"] for s in self.kinesis.list_shards(StreamName=stream)["Shards"]}
        self.assertEqual(len(shards), 3)
        _, recs = self.records(results, 5, deadline_s=45)
        self.assertEqual([kdata(r) for r in recs][:3], ["b1", "b2", "b3"])  # the parent first, in order
        self.assertEqual(sorted(kdata(r) for r in recs[3:]), ["a1", "a2"])
        self.assertEqual({r["eventID"].split(":")[0] for r in recs[:3]}, {"shardId-000000000000"})
        self.assertNotIn("shardId-000000000000", {r["eventID"].split(":")[0] for r in recs[3:]})


class TestDynamoDBStreams(StreamCase):
    def table(self):
        name = self.name("t")
        self.ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST",
                              StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        return name, self.ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]

    def item(self, table, k, v):
        self.ddb.put_item(TableName=table, Item={"k": {"S": k}, "v": {"S": v}})

    def test_changes_in_order_with_aws_shape(self):
        results, _ = self.queue()
        table, arn = self.table()
        name = self.function(results)
        self.item(table, "a", "one")
        self.item(table, "a", "two")
        self.ddb.delete_item(TableName=table, Key={"k": {"S": "a"}})
        self.mapping(name, arn)
        _, recs = self.records(results, 3)
        self.assertEqual([r["eventName"] for r in recs], ["INSERT", "MODIFY", "REMOVE"])
        r = recs[1]
        self.assertEqual(list(r)[-1], "eventSourceARN")
        self.assertEqual((r["eventSource"], r["awsRegion"], r["eventSourceARN"]), ("aws:dynamodb", "us-east-1", arn))
        d = r["dynamodb"]
        self.assertEqual((d["Keys"], d["NewImage"]["v"], d["OldImage"]["v"], d["StreamViewType"]),
                         ({"k": {"S": "a"}}, {"S": "two"}, {"S": "one"}, "NEW_AND_OLD_IMAGES"))
        self.assertLess(int(recs[0]["dynamodb"]["SequenceNumber"]), int(d["SequenceNumber"]))
        self.assertIn("SizeBytes", d)

    def test_failure_record_has_ddb_batch_info(self):
        results, _ = self.queue()
        dest, dest_arn = self.queue()
        table, arn = self.table()
        name = self.function(results)
        self.item(table, "x", "boom")
        self.mapping(name, arn, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": dest_arn}})
        rec = self.messages(dest, 1)[0]
        self.assertEqual(rec["requestContext"]["approximateInvokeCount"], 1)
        info = rec["DDBStreamBatchInfo"]
        self.assertEqual((info["batchSize"], info["streamArn"]), (1, arn))
        self.assertRegex(info["approximateArrivalOfFirstRecord"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.item(table, "y", "fine")
        _, recs = self.records(results, 2)
        self.assertEqual([r["dynamodb"]["NewImage"]["v"]["S"] for r in recs], ["boom", "fine"])

    def test_filter_on_event_name(self):
        results, _ = self.queue()
        table, arn = self.table()
        name = self.function(results)
        self.item(table, "a", "one")
        self.item(table, "a", "two")
        self.item(table, "b", "three")
        self.mapping(name, arn, FilterCriteria={"Filters": [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]})
        _, recs = self.records(results, 2)
        self.assertEqual([r["dynamodb"]["NewImage"]["v"]["S"] for r in recs], ["one", "three"])
        self.assertEqual(self.records(results, 1, deadline_s=2)[1], [])

    def test_kill9_loses_nothing_and_keeps_order(self):
        results, _ = self.queue()
        table, arn = self.table()
        sent = ["v%02d" % i for i in range(8)]
        for v in sent:
            self.item(table, v, v)
        name = self.function(results, SLEEP=0.5)
        self.mapping(name, arn, BatchSize=2)
        first = self.records(results, 1)[1]
        self.assertTrue(first)
        self.server.kill9()
        self.server.start()
        _, recs = self.records(results, 8, deadline_s=60)
        order = [r["dynamodb"]["NewImage"]["v"]["S"] for r in first + recs]
        self.assertEqual(sorted(set(order)), sent)
        seen = []
        for d in order:
            if d not in seen:
                seen.append(d)
        self.assertEqual(seen, sent)
