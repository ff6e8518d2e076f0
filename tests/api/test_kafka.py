"""Self-managed Kafka event source mappings (issue 17) against librdkafka's mock cluster.

Debian ships no Kafka broker, so the cluster is librdkafka's own test facility, the mock cluster
(rdkafka_mock.h), in a small program of the tests (tests/tools/kafka_mock.c, build/test/kafka_mock):
brokers on loopback ports that speak the Kafka protocol well enough for producers and consumer groups.
The test produces through it and asks it for a group's committed offsets. The function sends every event
it gets to a collector of the test on a loopback port and does what the collector answers ("ok", or
fail), so a test sees exactly what lambdad delivered and decides whether it succeeds: AWS's event shape,
commits only after success, retries of a failed batch, FilterCriteria on the value, a mapping disabled,
LATEST, and a kill -9 with a batch in flight. moto's server stands in for SQS (OnFailure destinations)
and Secrets Manager (SourceAccessConfigurations' secrets)."""
import base64
import json
import os
import socketserver
import subprocess
import tempfile
import threading
import time

from harness import ROLE, ROOT, MotoTestCase, make_zip

MOCK = os.path.join(ROOT, "build", "test", "kafka_mock")

HANDLER = """
import json, os, socket

def handler(event, context):
    s = socket.create_connection(("127.0.0.1", int(os.environ["COLLECT"])), timeout=120)
    s.sendall(json.dumps({"tag": os.environ["TAG"], "event": event}).encode() + b"\\n")
    verdict = s.makefile("rb").readline().decode().strip()
    s.close()
    if verdict.startswith("{"):  # the function's answer (ReportBatchItemFailures)
        return json.loads(verdict)
    if verdict != "ok":
        raise RuntimeError("the test says: " + verdict)
    return {}
"""

NO_OFFSET = -1001  # what Kafka answers for a group that committed nothing


class Collector(socketserver.ThreadingTCPServer):
    """Events the functions sent, by tag; each answer comes from rules[tag](event) ("ok" by default)."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), CollectHandler)
        self.cond = threading.Condition()
        self.events = {}
        self.rules = {}

    def deliver(self, tag, event):
        with self.cond:
            self.events.setdefault(tag, []).append(event)
            self.cond.notify_all()
        rule = self.rules.get(tag)
        return rule(event) if rule else "ok"


class CollectHandler(socketserver.StreamRequestHandler):
    def handle(self):
        msg = json.loads(self.rfile.readline())
        verdict = self.server.deliver(msg["tag"], msg["event"])
        try:
            self.wfile.write((verdict + "\n").encode())
        except OSError:
            pass  # the function is gone (its lambdad was killed)


def records_of(event):
    return [r for recs in event["records"].values() for r in recs]


def value(r):
    return base64.b64decode(r["value"]).decode()


MSK_NAME = "demo-cluster"
MSK_ARN = "arn:aws:kafka:us-east-1:000000000000:cluster/%s/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5" % MSK_NAME


class TestKafka(MotoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.mock_log = tempfile.NamedTemporaryFile(prefix="kafka-mock-", suffix=".log", delete=False)
        cls.mock = subprocess.Popen([MOCK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=cls.mock_log,
                                    text=True)
        cls.bootstrap = json.loads(cls.mock.stdout.readline())["bootstrap"]
        # the Amazon MSK cluster of test_msk_cluster_from_configuration, by name
        # SASL mappings speak SASL_PLAINTEXT (the mock has no TLS)
        cls.moto_server_args = ("--msk-cluster", "%s=%s" % (MSK_NAME, cls.bootstrap), "--kafka-sasl-plaintext")
        cls.collector = Collector()
        threading.Thread(target=cls.collector.serve_forever, daemon=True).start()
        try:
            super().setUpClass()
        except Exception:
            cls.stop_helpers()
            raise

    @classmethod
    def stop_helpers(cls):
        cls.collector.shutdown()
        cls.collector.server_close()
        cls.mock.stdin.close()
        try:
            cls.mock.wait(10)
        except subprocess.TimeoutExpired:
            cls.mock.kill()
            cls.mock.wait()
        cls.mock.stdout.close()
        cls.mock_log.close()
        os.unlink(cls.mock_log.name)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.stop_helpers()

    # ---- the cluster ----

    def mock_cmd(self, **cmd):
        self.mock.stdin.write(json.dumps(cmd) + "\n")
        self.mock.stdin.flush()
        out = json.loads(self.mock.stdout.readline())
        self.assertNotIn("error", out, cmd)
        return out

    def topic(self, partitions=1):
        name = self.name("t")
        self.mock_cmd(op="topic", name=name, partitions=partitions)
        return name

    def produce(self, topic, val, key=None, partition=0, headers=(), timestamp=0):
        out = self.mock_cmd(op="produce", topic=topic, partition=partition, key=key, value=val,
                            headers=[list(h) for h in headers], timestamp=timestamp)
        return out["offset"]

    def committed(self, group, topic, partition=0):
        return self.mock_cmd(op="committed", group=group, topic=topic, partition=partition)["offset"]

    def wait_committed(self, group, topic, want, deadline_s=15):
        """want: {partition: offset}; waits (bounded) until the group committed exactly that."""
        end, got = time.time() + deadline_s, None
        while time.time() < end:
            got = {p: self.committed(group, topic, p) for p in want}
            if got == want:
                return
            time.sleep(0.2)
        self.fail("committed %s, not %s" % (got, want))

    # ---- functions and mappings ----

    def function(self):
        tag = self.name("tag")
        name = self.name("fn")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": HANDLER})}, Timeout=120,
                                 Environment={"Variables": {"COLLECT": str(self.collector.server_address[1]),
                                                            "TAG": tag}})
        self.settled(name)
        return tag, name

    def mapping(self, name, topic, **kw):
        kw.setdefault("BatchSize", 10)
        kw.setdefault("SourceAccessConfigurations",
                      [{"Type": "VPC_SUBNET", "URI": "subnet:subnet-0123456789abcdef0"}])
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, Topics=[topic],
            SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap.split(",")}},
            **kw)["UUID"]
        self.addCleanup(self.lam.delete_event_source_mapping, UUID=uuid)
        self.wait_mapping_state(uuid, "Enabled")
        return uuid

    def wait_result(self, uuid, want, deadline_s=10):
        end = time.time() + deadline_s
        while self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] != want:
            self.assertLess(time.time(), end, "LastProcessingResult never became %r" % want)
            time.sleep(0.1)

    def events(self, tag, n_records, since=0, deadline_s=20):
        """The events of tag (from the since-th on) once they hold n_records records (bounded wait)."""
        c = self.collector
        end = time.time() + deadline_s
        with c.cond:
            while True:
                evs = c.events.get(tag, [])[since:]
                if sum(len(records_of(e)) for e in evs) >= n_records or time.time() >= end:
                    return list(evs)
                c.cond.wait(max(0.05, end - time.time()))

    def count(self, tag):
        with self.collector.cond:
            return len(self.collector.events.get(tag, []))

    # ---- tests ----

    def test_msk_cluster_from_configuration(self):
        """An Amazon MSK mapping reads the cluster --msk-cluster names (the mock here), in its
        AmazonManagedKafkaEventSourceConfig group, and the event is AWS's aws:kafka one."""
        topic = self.topic()
        tag, name = self.function()
        group = self.name("g")
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=MSK_ARN, Topics=[topic], StartingPosition="TRIM_HORIZON",
            BatchSize=10, AmazonManagedKafkaEventSourceConfig={"ConsumerGroupId": group})["UUID"]
        self.addCleanup(self.lam.delete_event_source_mapping, UUID=uuid)
        self.wait_mapping_state(uuid, "Enabled")
        off = self.produce(topic, "hello msk", key="k")
        ev = self.events(tag, 1)
        self.assertTrue(ev)
        self.assertEqual(list(ev[0])[:3], ["eventSource", "eventSourceArn", "bootstrapServers"])
        self.assertEqual((ev[0]["eventSource"], ev[0]["eventSourceArn"], ev[0]["bootstrapServers"]),
                         ("aws:kafka", MSK_ARN, self.bootstrap))
        rec = records_of(ev[0])[0]
        self.assertEqual((rec["topic"], rec["offset"], base64.b64decode(rec["value"]).decode()),
                         (topic, off, "hello msk"))
        self.wait_committed(group, topic, {0: off + 1})

    def test_records_reach_the_function_in_aws_shape_and_are_committed(self):
        topic = self.topic(partitions=2)
        offsets = [self.produce(topic, "v%d" % i, key="k%d" % i, partition=0, headers=[("h", "é"), ("n", "x")])
                   for i in range(3)]
        offsets += [self.produce(topic, "w%d" % i, partition=1) for i in range(2)]
        self.assertEqual(offsets, [0, 1, 2, 0, 1])
        tag, name = self.function()
        uuid = self.mapping(name, topic)
        evs = self.events(tag, 5)
        recs = [r for e in evs for r in records_of(e)]
        self.assertEqual(sorted(value(r) for r in recs), ["v0", "v1", "v2", "w0", "w1"])
        e = evs[0]
        self.assertEqual(list(e), ["eventSource", "bootstrapServers", "records"])
        self.assertEqual((e["eventSource"], e["bootstrapServers"]), ("SelfManagedKafka", self.bootstrap))
        by_key = {}
        for ev in evs:
            for k, rs in ev["records"].items():
                by_key.setdefault(k, []).extend(rs)
        self.assertEqual(sorted(by_key), [topic + "-0", topic + "-1"])
        p0, p1 = by_key[topic + "-0"], by_key[topic + "-1"]
        self.assertEqual([(r["partition"], r["offset"], value(r)) for r in p0], [(0, 0, "v0"), (0, 1, "v1"), (0, 2, "v2")])
        self.assertEqual([(r["partition"], r["offset"], value(r)) for r in p1], [(1, 0, "w0"), (1, 1, "w1")])
        r = p0[0]
        self.assertEqual(list(r), ["topic", "partition", "offset", "timestamp", "timestampType", "key", "value",
                                   "headers"])
        self.assertEqual((r["topic"], r["timestampType"]), (topic, "CREATE_TIME"))
        self.assertEqual(base64.b64decode(r["key"]), b"k0")
        self.assertLess(abs(r["timestamp"] / 1000 - time.time()), 60)
        # header values are Java's signed bytes: "é" is C3 A9
        self.assertEqual(r["headers"], [{"h": [-61, -87]}, {"n": [120]}])
        # a record without a key has no key member
        self.assertEqual(list(p1[0]), ["topic", "partition", "offset", "timestamp", "timestampType", "value",
                                       "headers"])
        self.assertEqual(p1[0]["headers"], [])
        # committed after the successes: the next offset of each partition, under the mapping's UUID
        self.wait_committed(uuid, topic, {0: 3, 1: 2})
        self.wait_result(uuid, "OK")

    def test_batch_size_splits_batches_in_order(self):
        topic = self.topic()
        for i in range(5):
            self.produce(topic, "s%d" % i)
        tag, name = self.function()
        uuid = self.mapping(name, topic, BatchSize=2)
        evs = self.events(tag, 5)
        self.assertEqual([[value(r) for r in records_of(e)] for e in evs], [["s0", "s1"], ["s2", "s3"], ["s4"]])
        self.wait_committed(uuid, topic, {0: 5})

    def test_unreachable_cluster_delivers_nothing_and_stops_at_once(self):
        tag, name = self.function()
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, Topics=["nowhere"],
            SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:1"]}},
            SourceAccessConfigurations=[{"Type": "VPC_SUBNET", "URI": "subnet:subnet-0123456789abcdef0"}])["UUID"]
        self.wait_mapping_state(uuid, "Enabled")
        time.sleep(1)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"],
                         "No records processed")
        # a consumer that never reached its cluster is closed at once (not after the 2 s bound on a
        # close), and the daemon answers meanwhile
        start = time.time()
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.lam.delete_event_source_mapping(UUID=uuid)
        self.lam.list_functions()
        self.assertLess(time.time() - start, 1.5)
        self.assertEqual(self.count(tag), 0)

    def test_consumer_group_id_is_used(self):
        topic = self.topic()
        tag, name = self.function()
        group = self.name("group")
        uuid = self.mapping(name, topic, SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": group})
        self.produce(topic, "g0")
        self.assertEqual([value(r) for e in self.events(tag, 1) for r in records_of(e)], ["g0"])
        self.wait_committed(group, topic, {0: 1})
        self.assertEqual(self.committed(uuid, topic), NO_OFFSET)

    def test_two_mappings_in_one_group_share_the_partitions(self):
        topic = self.topic(partitions=2)
        group = self.name("group")
        tag_a, name_a = self.function()
        self.mapping(name_a, topic, SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": group})
        self.produce(topic, "x0", partition=0)
        self.produce(topic, "x1", partition=1)
        self.events(tag_a, 2)
        self.wait_committed(group, topic, {0: 1, 1: 1})
        # a second consumer joins the group: a rebalance gives it one of the partitions
        tag_b, name_b = self.function()
        self.mapping(name_b, topic, SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": group})
        seen_b, end, i = [], time.time() + 30, 0
        while not seen_b and time.time() < end:
            self.produce(topic, "y%d" % i, partition=i % 2)
            i += 1
            seen_b = self.events(tag_b, 1, deadline_s=0.5)
        self.assertTrue(seen_b, "the second mapping never got a partition")
        want = {"y%d" % k for k in range(i)}
        end = time.time() + 20
        while time.time() < end:
            got = {value(r) for t in (tag_a, tag_b) for e in self.events(t, 0) for r in records_of(e)}
            if want <= got:
                break
            time.sleep(0.2)
        self.assertLessEqual(want, got)  # every record reached one of them (at least once)
        self.assertNotIn("x0", {value(r) for e in self.events(tag_b, 0) for r in records_of(e)})
        self.wait_committed(group, topic, {0: 1 + (i + 1) // 2, 1: 1 + i // 2})

    def test_failed_batch_is_retried_and_committed_only_after_success(self):
        topic = self.topic()
        tag, name = self.function()
        failing = threading.Event()
        failing.set()
        self.collector.rules[tag] = lambda ev: "fail" if failing.is_set() else "ok"
        for i in range(3):  # before the mapping: its first batch holds all three
            self.produce(topic, "r%d" % i)
        uuid = self.mapping(name, topic)
        end = time.time() + 20
        while self.count(tag) < 2 and time.time() < end:
            time.sleep(0.1)
        self.assertGreaterEqual(self.count(tag), 2)
        self.wait_result(uuid, "PROBLEM: Function call failed")
        self.assertEqual(self.committed(uuid, topic), NO_OFFSET)  # nothing committed while it fails
        failing.clear()
        self.wait_committed(uuid, topic, {0: 3})
        evs = self.events(tag, 0)
        # every attempt carried the same batch, in order; the last one succeeded and ended it
        batches = [[(r["offset"], value(r)) for r in records_of(e)] for e in evs]
        self.assertTrue(all(b == batches[0] for b in batches), batches)
        self.assertEqual(batches[0], [(0, "r0"), (1, "r1"), (2, "r2")])
        n = len(evs)
        time.sleep(1.5)
        self.assertEqual(self.count(tag), n)  # no attempt after the success
        self.wait_result(uuid, "OK")

    def queue(self):
        sqs = self.aws("sqs")
        url = sqs.create_queue(QueueName=self.name("q"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return sqs, url, arn

    def receive(self, sqs, url, n=1, deadline_s=30):
        got, end = [], time.time() + deadline_s
        while len(got) < n and time.time() < end:
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                got.append(json.loads(m["Body"]))
        return got

    def test_retries_exhausted_go_to_on_failure_and_the_partition_moves_on(self):
        """MaximumRetryAttempts=1: two attempts, then AWS's failure record goes to the SQS queue, the
        batch's offsets are committed and the next record reaches the function."""
        topic = self.topic()
        tag, name = self.function()
        self.collector.rules[tag] = lambda ev: "ok" if value(records_of(ev)[0]) == "after" else "fail"
        sqs, url, qarn = self.queue()
        t0 = int(time.time() * 1000) - 1000
        for i in range(2):
            self.produce(topic, "bad%d" % i, key="k", timestamp=t0 + i)
        uuid = self.mapping(name, topic, MaximumRetryAttempts=1,
                            DestinationConfig={"OnFailure": {"Destination": qarn}})
        m = self.lam.get_event_source_mapping(UUID=uuid)
        self.assertEqual((m["MaximumRetryAttempts"], m["DestinationConfig"]),
                         (1, {"OnFailure": {"Destination": qarn}}))
        msgs = self.receive(sqs, url)
        self.assertEqual(len(msgs), 1)
        rec = msgs[0]
        self.assertEqual(list(rec), ["requestContext", "responseContext", "version", "timestamp", "KafkaBatchInfo"])
        fn_arn = self.lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        rc = rec["requestContext"]
        self.assertEqual((rc["functionArn"], rc["condition"], rc["approximateInvokeCount"]),
                         (fn_arn, "RetryAttemptsExhausted", 2))
        self.assertEqual(len(rc["requestId"]), 36)
        self.assertEqual(rec["responseContext"],
                         {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
        self.assertEqual(rec["version"], "1.0")
        info = rec["KafkaBatchInfo"]
        self.assertEqual(list(info), ["batchSize", "bootstrapServers", "payloadSize", "recordsInfo"])
        self.assertEqual((info["batchSize"], info["bootstrapServers"]), (2, self.bootstrap))
        self.assertGreater(info["payloadSize"], 100)
        iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
        self.assertEqual(info["recordsInfo"], {topic + "-0": {
            "firstRecordOffset": "0", "lastRecordOffset": "1",
            "firstRecordTimestamp": iso(t0), "lastRecordTimestamp": iso(t0 + 1)}})
        self.assertEqual(self.count(tag), 2)  # the first attempt and one retry
        self.wait_committed(uuid, topic, {0: 2})
        self.produce(topic, "after")
        evs = self.events(tag, 1, since=2)
        self.assertEqual([[value(r) for r in records_of(e)] for e in evs], [["after"]])
        self.wait_committed(uuid, topic, {0: 3})
        self.wait_result(uuid, "OK")

    def test_records_too_old_are_given_up_without_an_invoke(self):
        """MaximumRecordAgeInSeconds: a record older than that goes to OnFailure (RecordAgeExceeded, no
        responseContext) and is committed past without reaching the function; a young one is invoked."""
        topic = self.topic()
        tag, name = self.function()
        sqs, url, qarn = self.queue()
        self.produce(topic, "old", timestamp=int(time.time() * 1000) - 3600 * 1000)
        self.produce(topic, "young")
        uuid = self.mapping(name, topic, MaximumRecordAgeInSeconds=60,
                            DestinationConfig={"OnFailure": {"Destination": qarn}})
        msgs = self.receive(sqs, url)
        self.assertEqual(len(msgs), 1)
        self.assertEqual((msgs[0]["requestContext"]["condition"], msgs[0]["responseContext"]),
                         ("RecordAgeExceeded", None))
        self.assertEqual(msgs[0]["KafkaBatchInfo"]["recordsInfo"][topic + "-0"]["firstRecordOffset"], "0")
        self.wait_committed(uuid, topic, {0: 2})
        self.assertEqual([value(r) for e in self.events(tag, 1) for r in records_of(e)], ["young"])

    def test_bisect_isolates_the_record_that_fails(self):
        """BisectBatchOnFunctionError: a batch that fails is split in two, in order, each half run on its
        own (a split is no retry); the record that still fails alone is given up (MaximumRetryAttempts=0)
        to OnFailure and the rest succeed, everything committed."""
        topic = self.topic()
        tag, name = self.function()
        self.collector.rules[tag] = lambda ev: "fail" if "poison" in [value(r) for r in records_of(ev)] else "ok"
        sqs, url, qarn = self.queue()
        for v in ("a", "b", "poison", "d"):
            self.produce(topic, v)
        uuid = self.mapping(name, topic, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
                            DestinationConfig={"OnFailure": {"Destination": qarn}})
        self.assertIs(self.lam.get_event_source_mapping(UUID=uuid)["BisectBatchOnFunctionError"], True)
        msgs = self.receive(sqs, url)
        self.assertEqual(len(msgs), 1)
        info = msgs[0]["KafkaBatchInfo"]
        self.assertEqual((info["batchSize"], info["recordsInfo"][topic + "-0"]["firstRecordOffset"]), (1, "2"))
        self.wait_committed(uuid, topic, {0: 4})
        batches = [[value(r) for r in records_of(e)] for e in self.events(tag, 9)]
        self.assertEqual(batches, [["a", "b", "poison", "d"], ["a", "b"], ["poison", "d"], ["poison"], ["d"]])

    def test_report_batch_item_failures_retries_from_the_offset_named(self):
        """FunctionResponseTypes ReportBatchItemFailures: the partition named is retried from the offset
        named (what came before it is committed), the other partition is done; an answer naming an
        offset the event did not hold retries the whole batch."""
        topic = self.topic(partitions=2)
        tag, name = self.function()
        calls = []

        def rule(ev):
            calls.append(ev)
            if len(calls) == 1:  # an offset not in the event: all again
                return json.dumps({"batchItemFailures": [{"itemIdentifier": {"topic-partition": topic + "-0",
                                                                              "offset": 99}}]})
            if len(calls) == 2:
                return json.dumps({"batchItemFailures": [{"itemIdentifier": {"topic-partition": topic + "-0",
                                                                              "offset": 1}}]})
            return "ok"
        self.collector.rules[tag] = rule
        for v in ("a", "bad", "c"):
            self.produce(topic, v, partition=0)
        self.produce(topic, "other", partition=1)
        # a window long enough for both partitions' records to make one batch
        uuid = self.mapping(name, topic, FunctionResponseTypes=["ReportBatchItemFailures"],
                            MaximumBatchingWindowInSeconds=2)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=uuid)["FunctionResponseTypes"],
                         ["ReportBatchItemFailures"])
        self.wait_committed(uuid, topic, {0: 3, 1: 1})
        evs = self.events(tag, 0)
        seen = [sorted(value(r) for r in records_of(e)) for e in evs]
        self.assertEqual(seen, [["a", "bad", "c", "other"], ["a", "bad", "c", "other"], ["bad", "c"]])
        self.wait_result(uuid, "OK")

    def test_msk_failure_record_names_the_cluster(self):
        """An Amazon MSK mapping's failure record carries eventSourceArn; with OnFailure and no
        MaximumRetryAttempts the retries stop (here: MaximumRetryAttempts=0, one attempt)."""
        topic = self.topic()
        tag, name = self.function()
        self.collector.rules[tag] = lambda ev: "fail"
        sqs, url, qarn = self.queue()
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=MSK_ARN, Topics=[topic], StartingPosition="TRIM_HORIZON",
            BatchSize=10, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": qarn}})["UUID"]
        self.addCleanup(self.lam.delete_event_source_mapping, UUID=uuid)
        self.wait_mapping_state(uuid, "Enabled")
        self.produce(topic, "m0")
        msgs = self.receive(sqs, url)
        self.assertEqual(len(msgs), 1)
        info = msgs[0]["KafkaBatchInfo"]
        self.assertEqual(list(info)[:3], ["batchSize", "eventSourceArn", "bootstrapServers"])
        self.assertEqual((info["eventSourceArn"], msgs[0]["requestContext"]["approximateInvokeCount"]), (MSK_ARN, 1))
        self.wait_committed(uuid, topic, {0: 1})
        self.assertEqual(self.count(tag), 1)

    def secret(self, value):
        sm = self.aws("secretsmanager")
        return sm.create_secret(Name=self.name("s"), SecretString=json.dumps(value))["ARN"]

    def server_log(self):
        with open(self.server.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, text, deadline_s=15):
        end = time.time() + deadline_s
        while text not in self.server_log():
            self.assertLess(time.time(), end, "never logged: %s" % text)
            time.sleep(0.2)

    def test_sasl_secret_is_read_and_its_mechanism_used(self):
        """BASIC_AUTH, SASL_SCRAM_256_AUTH, SASL_SCRAM_512_AUTH: the secret is read from Secrets Manager
        (moto) and the consumer authenticates with its mechanism. librdkafka 2.0.2's mock cluster has
        no SASL (it does not answer SaslHandshake), so neither a success nor a refusal by credentials can
        be shown here: what shows is the consumer asking for the mechanism, the failure in
        LastProcessingResult as AWS words it, and nothing delivered."""
        topic = self.topic()
        self.produce(topic, "secret stuff")
        arn = self.secret({"username": "alice", "password": "s3cret"})
        for typ, mech in (("BASIC_AUTH", "PLAIN"), ("SASL_SCRAM_256_AUTH", "SCRAM-SHA-256"),
                          ("SASL_SCRAM_512_AUTH", "SCRAM-SHA-512")):
            with self.subTest(typ):
                tag, name = self.function()
                uuid = self.mapping(name, topic, SourceAccessConfigurations=[{"Type": typ, "URI": arn}])
                self.wait_result(uuid, "PROBLEM: SASL authentication failed", deadline_s=20)
                self.wait_log("kafka mapping %s: " % uuid)
                self.assertIn("required by mechanism %s" % mech, self.server_log())
                self.assertNotIn("s3cret", self.server_log())
                self.assertEqual(self.count(tag), 0)
        # an Amazon MSK mapping's SASL_SCRAM_512_AUTH
        tag, name = self.function()
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=MSK_ARN, Topics=[topic], StartingPosition="TRIM_HORIZON",
            SourceAccessConfigurations=[{"Type": "SASL_SCRAM_512_AUTH", "URI": arn}])["UUID"]
        self.addCleanup(self.lam.delete_event_source_mapping, UUID=uuid)
        self.wait_result(uuid, "PROBLEM: SASL authentication failed", deadline_s=20)
        self.assertEqual(self.count(tag), 0)

    def test_secret_that_cannot_be_read_or_used_shows(self):
        """A secret that does not exist, or is not {"username","password"}: LastProcessingResult says
        so, the log says why (without the secret), nothing is consumed."""
        topic = self.topic()
        self.produce(topic, "x")
        tag, name = self.function()
        missing = "arn:aws:secretsmanager:us-east-1:000000000000:secret:nothing-here-AbCdEf"
        uuid = self.mapping(name, topic, SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": missing}])
        self.wait_result(uuid, "PROBLEM: Lambda couldn't read the secret of SourceAccessConfigurations")
        self.wait_log("the secret %s could not be read: ResourceNotFoundException" % missing)
        arn = self.secret({"user": "alice", "pass": "s3cret"})
        tag2, name2 = self.function()
        uuid2 = self.mapping(name2, topic, SourceAccessConfigurations=[{"Type": "SASL_SCRAM_512_AUTH", "URI": arn}])
        self.wait_result(uuid2, "PROBLEM: Lambda couldn't read the secret of SourceAccessConfigurations")
        self.wait_log('kafka mapping %s: the secret is not {"username","password"}' % uuid2)
        self.assertNotIn("s3cret", self.server_log())
        self.assertEqual(self.count(tag) + self.count(tag2), 0)
        self.assertEqual(self.committed(uuid, topic), NO_OFFSET)

    def test_client_certificate_librdkafka_refuses_shows(self):
        """CLIENT_CERTIFICATE_TLS_AUTH whose secret holds no usable PEM: librdkafka refuses the
        consumer's TLS settings, and LastProcessingResult says so in AWS's words."""
        topic = self.topic()
        tag, name = self.function()
        arn = self.secret({"certificate": "not a certificate", "privateKey": "not a key"})
        uuid = self.mapping(name, topic, SourceAccessConfigurations=[
            {"Type": "CLIENT_CERTIFICATE_TLS_AUTH", "URI": arn}])
        self.wait_result(uuid, "PROBLEM: Provided certificate or private key is invalid")
        self.wait_log("kafka mapping %s: no consumer: " % uuid)
        self.assertEqual(self.count(tag), 0)

    def test_server_root_ca_makes_the_consumer_speak_tls(self):
        """SERVER_ROOT_CA_CERTIFICATE alone: the consumer speaks TLS (librdkafka's ssl:// brokers in
        the log) and checks the brokers against that CA; the mock cluster speaks no TLS, so the
        handshake fails and LastProcessingResult says the server was not authenticated."""
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lambdad test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now)
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        topic = self.topic()
        self.produce(topic, "x")
        tag, name = self.function()
        uuid = self.mapping(name, topic, SourceAccessConfigurations=[
            {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": self.secret({"certificate": pem})}])
        self.wait_result(uuid, "PROBLEM: Lambda failed to authenticate server", deadline_s=20)
        self.assertIn("ssl://127.0.0.1:", self.server_log())
        self.assertEqual(self.count(tag), 0)

    def test_filter_keeps_out_what_it_should(self):
        topic = self.topic()
        tag, name = self.function()
        uuid = self.mapping(name, topic, FilterCriteria={"Filters": [
            {"Pattern": json.dumps({"value": {"kind": ["keep"]}})}]})
        for v in ('{"kind":"keep","n":1}', '{"kind":"drop"}', "not json", '{"kind":"keep","n":2}', "keep"):
            self.produce(topic, v)
        recs = [r for e in self.events(tag, 2) for r in records_of(e)]
        self.assertEqual([json.loads(value(r))["n"] for r in recs], [1, 2])
        # what the filter dropped is committed past too
        self.wait_committed(uuid, topic, {0: 5})
        self.assertEqual(sum(len(records_of(e)) for e in self.events(tag, 0)), 2)

    def test_disabled_mapping_stops_consuming(self):
        topic = self.topic()
        tag, name = self.function()
        uuid = self.mapping(name, topic)
        self.produce(topic, "before")
        self.assertEqual(len(self.events(tag, 1)), 1)
        self.wait_committed(uuid, topic, {0: 1})
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.produce(topic, "while-disabled")
        time.sleep(3)
        self.assertEqual(self.count(tag), 1)
        self.assertEqual(self.committed(uuid, topic), 1)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.wait_mapping_state(uuid, "Enabled")
        evs = self.events(tag, 2)
        self.assertEqual([value(r) for e in evs for r in records_of(e)], ["before", "while-disabled"])
        self.wait_committed(uuid, topic, {0: 2})

    def test_latest_skips_what_came_before(self):
        topic = self.topic()
        self.produce(topic, "old")
        tag, name = self.function()
        self.mapping(name, topic, StartingPosition="LATEST")
        seen, end = [], time.time() + 20
        while "new" not in seen and time.time() < end:
            self.produce(topic, "new")
            seen = [value(r) for e in self.events(tag, 1, deadline_s=1) for r in records_of(e)]
        self.assertIn("new", seen)
        self.assertNotIn("old", seen)

    def stop_with_a_batch_in_flight(self, stop):
        """a0, a1 processed; b0..b5 produced; lambdad stopped by stop() while the function holds a batch of
        them; restarted: every b comes (again), in order per partition, and a0, a1 do not."""
        topic = self.topic(partitions=2)
        tag, name = self.function()
        uuid = self.mapping(name, topic)
        for i in range(2):
            self.produce(topic, "a%d" % i, partition=i)
        self.events(tag, 2)
        self.wait_committed(uuid, topic, {0: 1, 1: 1})
        holding, gate = threading.Event(), threading.Event()

        def hold(ev):
            holding.set()
            gate.wait(60)
            return "fail"

        self.collector.rules[tag] = hold
        for i in range(6):
            self.produce(topic, "b%d" % i, partition=i % 2)
        self.assertTrue(holding.wait(20), "no batch came")
        before = self.count(tag)
        stop()  # with that batch in flight: nothing of it is committed
        self.collector.rules[tag] = None
        gate.set()
        self.assertEqual(self.committed(uuid, topic, 0), 1)
        self.server.start()
        evs = self.events(tag, 6, since=before, deadline_s=45)
        recs = [r for e in evs for r in records_of(e)]
        self.assertEqual(sorted(value(r) for r in recs), ["b%d" % i for i in range(6)])  # a0, a1 not again
        for p in (0, 1):
            self.assertEqual([value(r) for r in recs if r["partition"] == p], ["b%d" % i for i in range(p, 6, 2)])
        self.wait_committed(uuid, topic, {0: 4, 1: 4})

    def test_kill9_with_a_batch_in_flight_loses_nothing(self):
        self.stop_with_a_batch_in_flight(self.server.kill9)

    def test_daemon_stopped_with_a_batch_in_flight_loses_nothing(self):
        def stop():
            self.assertEqual(self.server.stop(), 0)
            log = self.server.log()
            self.assertNotIn("ERROR: AddressSanitizer", log)
            self.assertNotIn("runtime error:", log)
        self.stop_with_a_batch_in_flight(stop)
