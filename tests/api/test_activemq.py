"""Amazon MQ for ActiveMQ event source mappings (issue 17) against a real AMQP 1.0 broker.

lambdad consumes an ActiveMQ broker over AMQP 1.0 (the amqp transport Amazon MQ for ActiveMQ opens, amqp+ssl on
5671), with qpid-proton. Debian's activemq package (5.17) ships no amqp transport (its activemq-amqp module is not
packaged), so the broker here is Debian's rabbitmq-server with its AMQP 1.0 plugin (rabbitmq_amqp1_0), started once
for the class as test_mq.py starts it; its queues are addressed "/amq/queue/NAME", which is what the mappings'
Queues say (an ActiveMQ queue is addressed by its name). moto stands in for Amazon MQ (a broker with EngineType
ACTIVEMQ, DescribeBroker) and Secrets Manager (the BASIC_AUTH secret); `--mq-broker BROKER-ID=amqp://127.0.0.1:PORT`
points the broker at the local one. The tests produce with python3-qpid-proton (Debian), count with pika, and the
function sends every event it gets to an SQS results queue in moto."""
import base64
import json
import sys
import time

try:
    import proton
    from proton.utils import BlockingConnection
except ImportError:  # Debian's python3-qpid-proton (tools/deps.sh test) serves Debian's python3
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import proton
        from proton.utils import BlockingConnection
    finally:
        sys.path.remove("/usr/lib/python3/dist-packages")

from harness import ROLE, MotoTestCase, free_port, make_zip
from test_mq import PASSWORD, USER, Rabbit

HANDLER = """
import base64, json, os, time, boto3
sqs = boto3.client("sqs")
failed = set()

def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=json.dumps(event))
    time.sleep(float(os.environ.get("SLEEP", "0")))
    for m in event["messages"]:
        d = base64.b64decode(m["data"]).decode(errors="replace")
        if d.startswith("boom") and d not in failed:  # each boom fails once (the environment stays warm)
            failed.add(d)
            raise RuntimeError("boom")
    return {"n": len(event["messages"])}
"""

MEMBERS = ["messageID", "messageType", "timestamp", "deliveryMode", "correlationID", "replyTo", "destination",
           "redelivered", "type", "expiration", "priority", "data", "brokerInTime", "brokerOutTime", "properties"]


class TestActiveMQ(MotoTestCase):
    @classmethod
    def setUpMoto(cls):
        broker = Rabbit(plugins=("rabbitmq_amqp1_0",)).start()
        cls.broker = broker
        try:
            cls.sqs = cls.aws("sqs")
            mq = cls.aws("mq")

            def create(name):
                b = mq.create_broker(
                    BrokerName=name, EngineType="ACTIVEMQ", EngineVersion="5.17.6", HostInstanceType="mq.t3.micro",
                    DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False, AutoMinorVersionUpgrade=False,
                    Users=[{"Username": USER, "Password": PASSWORD}])
                account = b["BrokerArn"].split(":")[4]
                return b["BrokerId"], "arn:aws:mq:us-east-1:%s:broker:%s:%s" % (account, name, b["BrokerId"])

            cls.broker_id, cls.broker_arn = create("orders")
            # a broker nobody listens for: its port was free a moment ago
            cls.nowhere_id, cls.nowhere_arn = create("nowhere")
            cls.secret_arn = cls.aws("secretsmanager").create_secret(
                Name="orders-amq", SecretString=json.dumps({"username": USER, "password": PASSWORD}))["ARN"]
            cls.server_args = tuple(cls.server_args) + (
                "--mq-broker", "%s=amqp://127.0.0.1:%d" % (cls.broker_id, broker.port),
                "--mq-broker", "%s=amqp://127.0.0.1:%d" % (cls.nowhere_id, free_port()))
        except Exception:
            cls.broker = None
            broker.stop()
            raise

    @classmethod
    def setUpClass(cls):
        cls.broker = None
        try:
            super().setUpClass()
        except Exception:
            if cls.broker:
                cls.broker.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.broker.stop()

    # ---- helpers ----

    def queue(self):
        """A new durable queue: (its name, the AMQP 1.0 address a mapping names)."""
        name = self.name("q")
        with self.broker.connect() as c:
            c.channel().queue_declare(queue=name, durable=True)
        return name, "/amq/queue/" + name

    def produce(self, address, *messages):
        """Sends each (a body, or a proton.Message) over AMQP 1.0, settled by the broker before returning."""
        conn = BlockingConnection("amqp://127.0.0.1:%d" % self.broker.port, timeout=10, user=USER,
                                  password=PASSWORD, allowed_mechs="PLAIN")
        try:
            sender = conn.create_sender(address)
            for m in messages:
                sender.send(m if isinstance(m, proton.Message) else proton.Message(body=m, durable=True))
        finally:
            conn.close()

    def depth(self, name):
        """(messages ready, consumers) of queue name."""
        with self.broker.connect() as c:
            ok = c.channel().queue_declare(queue=name, passive=True).method
            return ok.message_count, ok.consumer_count

    def wait_depth(self, name, ready, consumers, deadline_s=10):
        end, got = time.time() + deadline_s, None
        while time.time() < end:
            got = self.depth(name)
            if got == (ready, consumers):
                return
            time.sleep(0.1)
        self.fail("queue %s: (ready, consumers) %s, expected %s" % (name, got, (ready, consumers)))

    def results(self):
        return self.sqs.create_queue(QueueName=self.name("results"))["QueueUrl"]

    def function(self, results, **env):
        name = self.name("fn")
        env = dict({"RESULTS": results}, **{k: str(v) for k, v in env.items()})
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": HANDLER})}, Timeout=20,
                                 Environment={"Variables": env})
        self.settled(name)
        return name

    def mapping(self, name, address, broker=None, secret=None, **kw):
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=broker or self.broker_arn, Queues=[address],
            SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": secret or self.secret_arn}], **kw)["UUID"]
        self.wait_mapping_state(uuid, "Enabled")
        return uuid

    def wait_result(self, uuid, what, deadline_s=10):
        end, got = time.time() + deadline_s, None
        while time.time() < end:
            got = self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"]
            if got == what:
                return
            time.sleep(0.1)
        self.fail("LastProcessingResult is %r, never %r" % (got, what))

    def events(self, results, n_messages, deadline_s=20):
        """Events until they hold n_messages messages (bounded): [(event, [(data, message)])]."""
        got, seen, end = [], 0, time.time() + deadline_s
        while seen < n_messages and time.time() < end:
            for m in self.sqs.receive_message(QueueUrl=results, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=1).get("Messages", []):
                self.sqs.delete_message(QueueUrl=results, ReceiptHandle=m["ReceiptHandle"])
                e = json.loads(m["Body"])
                msgs = [(base64.b64decode(x["data"]).decode(errors="replace"), x) for x in e["messages"]]
                got.append((e, msgs))
                seen += len(msgs)
        return got

    def quiet(self, results, seconds=2.0):
        self.assertEqual(self.events(results, 1, deadline_s=seconds), [], "unexpected invocations")

    def disable(self, uuid):
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")

    # ---- tests ----

    def test_messages_reach_the_function_in_aws_shape_and_are_settled(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        self.produce(addr, proton.Message(
            id="ID:lambdad-1", correlation_id="myJMSCoID", durable=True, priority=7, subject="order",
            reply_to="replies", creation_time=1598827811.958, body="ABC:AAAA",
            properties={"index": 1, "doAlarm": False, "myCustomProperty": "value"}))
        self.produce(addr, proton.Message(body=b"\x00\x01bytes", inferred=True))
        uuid = self.mapping(name, addr, BatchSize=10)
        events = self.events(results, 2)
        self.assertEqual([d for _, ms in events for d, _ in ms], ["ABC:AAAA", "\x00\x01bytes"])
        e, msgs = events[0]
        self.assertEqual(list(e), ["eventSource", "eventSourceArn", "messages"])
        self.assertEqual((e["eventSource"], e["eventSourceArn"]), ("aws:mq", self.broker_arn))
        text = msgs[0][1]
        self.assertEqual(list(text), MEMBERS)
        now_ms = time.time() * 1000
        self.assertTrue(0 < now_ms - text["brokerOutTime"] < 60000, text)
        self.assertEqual(text["brokerInTime"], 1598827811958)
        del text["brokerOutTime"], text["brokerInTime"]
        self.assertEqual(text, {
            "messageID": "ID:lambdad-1", "messageType": "jms/text-message", "timestamp": 1598827811958,
            "deliveryMode": 2, "correlationID": "myJMSCoID", "replyTo": "replies",
            "destination": {"physicalName": addr}, "redelivered": False, "type": "order", "expiration": 0,
            "priority": 7, "data": base64.b64encode(b"ABC:AAAA").decode(),
            "properties": {"index": "1", "doAlarm": "false", "myCustomProperty": "value"}})
        raw = [m for _, ms in events for _, m in ms][1]
        self.assertEqual(raw["messageType"], "jms/bytes-message")
        self.assertEqual((raw["correlationID"], raw["replyTo"], raw["type"], raw["properties"], raw["deliveryMode"]),
                         ("", "null", "", None, 1))
        self.wait_result(uuid, "OK")
        # settled, not just delivered: with the consumer gone, nothing comes back to the queue
        self.disable(uuid)
        self.wait_depth(q, 0, 0)
        time.sleep(0.5)
        self.assertEqual(self.depth(q), (0, 0))

    def test_a_failed_batch_is_redelivered_and_nothing_is_lost(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        uuid = self.mapping(name, addr, BatchSize=10, MaximumBatchingWindowInSeconds=1)
        self.produce(addr, "a", "boom-1", "b")
        events = self.events(results, 6)
        first, second = events[0][1], [m for _, ms in events[1:] for m in ms]
        self.assertEqual([d for d, _ in first], ["a", "boom-1", "b"])
        self.assertEqual([m["redelivered"] for _, m in first], [False] * 3)
        # the function failed: the broker has the batch again, marked redelivered, and it succeeds
        self.assertEqual(sorted(d for d, _ in second), ["a", "b", "boom-1"])
        self.assertEqual([m["redelivered"] for _, m in second], [True] * 3)
        self.wait_result(uuid, "OK")
        self.quiet(results, 1.5)
        self.disable(uuid)
        self.wait_depth(q, 0, 0)

    def test_a_failing_function_shows_in_last_processing_result_and_keeps_its_messages(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        self.lam.update_function_configuration(FunctionName=name, Handler="nope.handler")  # fails every time
        self.settled(name)
        uuid = self.mapping(name, addr, BatchSize=10, MaximumBatchingWindowInSeconds=0)
        self.produce(addr, "kept-1", "kept-2")
        self.wait_result(uuid, "PROBLEM: Function call failed")
        self.disable(uuid)
        self.wait_depth(q, 2, 0)

    def test_filter_criteria_keep_out_what_they_should(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        uuid = self.mapping(name, addr, BatchSize=10, MaximumBatchingWindowInSeconds=1,
                            FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]})
        self.produce(addr, json.dumps({"kind": "keep", "n": 1}), json.dumps({"kind": "drop", "n": 2}), "plain",
                     json.dumps({"kind": "keep", "n": 3}), json.dumps({"n": 4}))
        events = self.events(results, 2)
        self.assertEqual([json.loads(d)["n"] for _, ms in events for d, _ in ms], [1, 3])
        self.quiet(results, 1.5)
        self.disable(uuid)
        self.wait_depth(q, 0, 0)  # what the filter kept out was settled too

    def test_batches_hold_at_most_batch_size(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        self.produce(addr, *["s%d" % i for i in range(7)])
        self.mapping(name, addr, BatchSize=3)
        events = self.events(results, 7)
        self.assertEqual(sorted(d for _, ms in events for d, _ in ms), ["s%d" % i for i in range(7)])
        self.assertTrue(all(len(ms) <= 3 for _, ms in events), [len(ms) for _, ms in events])

    def test_disabling_stops_consumption_and_enabling_resumes(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        uuid = self.mapping(name, addr, BatchSize=10)
        self.produce(addr, "before")
        self.assertEqual([d for _, ms in self.events(results, 1) for d, _ in ms], ["before"])
        self.disable(uuid)
        self.wait_depth(q, 0, 0)  # the consumer is gone
        self.produce(addr, "while-disabled-1", "while-disabled-2")
        self.quiet(results, 1.5)
        self.assertEqual(self.depth(q), (2, 0))
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.wait_mapping_state(uuid, "Enabled")
        got = sorted(d for _, ms in self.events(results, 2) for d, _ in ms)
        self.assertEqual(got, ["while-disabled-1", "while-disabled-2"])
        self.lam.delete_event_source_mapping(UUID=uuid)
        self.wait_depth(q, 0, 0)  # deleting stops the consumer too

    def test_disabling_with_a_batch_in_flight_gives_it_back(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results, SLEEP=2)
        uuid = self.mapping(name, addr, BatchSize=10, MaximumBatchingWindowInSeconds=0)
        self.produce(addr, "slow-1", "slow-2")
        self.assertTrue(self.events(results, 1))  # the function has them, sleeping
        self.disable(uuid)
        self.wait_depth(q, 2, 0)
        time.sleep(2.5)  # the function ends meanwhile; nothing settles for a stopped poller
        self.assertEqual(self.depth(q), (2, 0))

    def test_kill9_with_a_batch_in_flight_loses_nothing(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results, SLEEP=2)
        sent = ["k%d" % i for i in range(5)]
        self.produce(addr, *sent)
        self.mapping(name, addr, BatchSize=2, MaximumBatchingWindowInSeconds=0)
        first = self.events(results, 1)  # the first batch is with the function (it sleeps 2 s)
        self.assertTrue(first)
        in_flight = {d for _, ms in first for d, _ in ms}
        self.server.kill9()  # before it is settled: the broker takes it back when the connection drops
        self.server.start()
        seen, redelivered = set(in_flight), set()
        end = time.time() + 40
        while (seen != set(sent) or not in_flight <= redelivered) and time.time() < end:
            for _, ms in self.events(results, 1, deadline_s=2):
                for d, m in ms:
                    seen.add(d)
                    if m["redelivered"]:
                        redelivered.add(d)
        self.assertEqual(seen, set(sent))
        self.assertTrue(in_flight <= redelivered, "the batch in flight came back marked redelivered")

    def test_refused_credentials_show_in_last_processing_result_until_the_secret_is_right(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        sm = self.aws("secretsmanager")
        secret = sm.create_secret(Name=self.name("secret"),
                                  SecretString=json.dumps({"username": USER, "password": "wrong"}))["ARN"]
        uuid = self.mapping(name, addr, secret=secret, MaximumBatchingWindowInSeconds=0)
        self.produce(addr, "waits")
        self.wait_result(uuid, "PROBLEM: Authentication error.")
        self.assertEqual(self.depth(q), (1, 0))
        self.assertIn("amqp:unauthorized-access", self.server.log())
        sm.put_secret_value(SecretId=secret, SecretString=json.dumps({"username": USER, "password": PASSWORD}))
        self.assertEqual([d for _, ms in self.events(results, 1, deadline_s=15) for d, _ in ms], ["waits"])
        self.wait_result(uuid, "OK")

    def test_an_unreachable_broker_shows_in_last_processing_result(self):
        results, (q, addr) = self.results(), self.queue()
        name = self.function(results)
        uuid = self.mapping(name, addr, broker=self.nowhere_arn)
        self.wait_result(uuid, "PROBLEM: Connection error.")
        self.assertIn("ActiveMQ consumer of %s" % self.nowhere_arn, self.server.log())

    def test_a_missing_queue_is_logged_and_tried_again(self):
        results = self.results()
        name = self.function(results)
        q = self.name("later")
        self.mapping(name, "/amq/queue/" + q, MaximumBatchingWindowInSeconds=0)
        end = time.time() + 10
        while "amqp:not-found" not in self.server.log() and time.time() < end:
            time.sleep(0.2)
        self.assertIn("amqp:not-found", self.server.log())  # the broker's refusal, as it words it
        with self.broker.connect() as c:
            c.channel().queue_declare(queue=q, durable=True)
        self.produce("/amq/queue/" + q, "found")
        self.assertEqual([d for _, ms in self.events(results, 1, deadline_s=20) for d, _ in ms], ["found"])


if __name__ == "__main__":
    import unittest
    unittest.main()
