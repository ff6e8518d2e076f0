"""Amazon MQ for RabbitMQ event source mappings (issue 17), against a real RabbitMQ: Debian's rabbitmq-server,
started once for the class on free loopback ports in a temporary directory, with a user and a virtual host of
its own (a definitions file). moto stands in for Amazon MQ (DescribeBroker) and Secrets Manager (the BASIC_AUTH
secret); `--mq-broker BROKER-ID=amqp://127.0.0.1:PORT` points the broker moto describes at the local one. The
tests publish and count with pika (Debian's python3-pika); the function sends every event it gets to an SQS
results queue in moto with its own boto3, so each test reads exactly what the poller delivered."""
import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import pika
except ImportError:  # Debian's python3-pika (tools/deps.sh test) is pure python: another python3 can use it
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import pika
    finally:
        sys.path.remove("/usr/lib/python3/dist-packages")

from harness import ROLE, MotoTestCase, free_port, make_zip

USER, PASSWORD, VHOST = "lambda", "s3cret-Pa55word", "lambda-vh"

HANDLER = """
import base64, hashlib, json, os, time, boto3
sqs = boto3.client("sqs")
failed = set()

def handler(event, context):
    report = json.loads(json.dumps(event))
    for ms in report["rmqMessagesByQueue"].values():
        for m in ms:  # big bodies are reported by their digest (an SQS message holds 256 KB)
            if len(m["data"]) > 1000:
                raw = base64.b64decode(m["data"])
                m["data"] = base64.b64encode(("%d:%s" % (len(raw), hashlib.sha256(raw).hexdigest())).encode()).decode()
    sqs.send_message(QueueUrl=os.environ["RESULTS"], MessageBody=json.dumps(report))
    time.sleep(float(os.environ.get("SLEEP", "0")))
    data = [base64.b64decode(m["data"]).decode(errors="replace")
            for ms in event["rmqMessagesByQueue"].values() for m in ms]
    for d in data:
        if d.startswith("boom") and d not in failed:  # each boom fails once (the environment stays warm)
            failed.add(d)
            raise RuntimeError("boom")
    return {"n": len(data)}
"""


def rabbit_script():
    """The real rabbitmq-server script: Debian's /usr/sbin one re-executes itself as the rabbitmq user."""
    for d in sorted(os.listdir("/usr/lib/rabbitmq/lib"), reverse=True) if os.path.isdir("/usr/lib/rabbitmq/lib") else []:
        s = os.path.join("/usr/lib/rabbitmq/lib", d, "sbin", "rabbitmq-server")
        if os.access(s, os.X_OK):
            return s
    return shutil.which("rabbitmq-server")


class Rabbit:
    """One RabbitMQ node of our own: its own epmd, ports, node name, data, logs and config."""

    def __init__(self, plugins=()):
        self.dir = tempfile.mkdtemp(prefix="lambdad-rmq-")
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.procs = []
        salt = os.urandom(4)
        digest = base64.b64encode(salt + hashlib.sha256(salt + PASSWORD.encode()).digest()).decode()
        every = {"configure": ".*", "write": ".*", "read": ".*"}
        defs = {"users": [{"name": USER, "password_hash": digest, "tags": ["administrator"],
                           "hashing_algorithm": "rabbit_password_hashing_sha256"}],
                "vhosts": [{"name": "/"}, {"name": VHOST}],
                "permissions": [dict(every, user=USER, vhost="/"), dict(every, user=USER, vhost=VHOST)]}
        with open(os.path.join(self.dir, "defs.json"), "w") as f:
            json.dump(defs, f)
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write("listeners.tcp.default = 127.0.0.1:%d\n" % self.port)
            f.write("definitions.import_backend = local_filesystem\n")
            f.write("definitions.local.path = %s\n" % os.path.join(self.dir, "defs.json"))
            f.write("log.console = false\nlog.file.level = warning\n")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[%s].\n" % ",".join(plugins))
        open(os.path.join(self.dir, "rabbitmq-env.conf"), "w").close()
        self.env = dict(os.environ, HOME=self.dir, ERL_EPMD_PORT=str(self.epmd_port), ERL_EPMD_ADDRESS="127.0.0.1",
                        RABBITMQ_NODENAME="lambdad%d@localhost" % self.port, RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                        RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(self.dist_port),
                        RABBITMQ_MNESIA_BASE=os.path.join(self.dir, "mnesia"),
                        RABBITMQ_LOG_BASE=os.path.join(self.dir, "log"),
                        RABBITMQ_CONFIG_FILE=os.path.join(self.dir, "rabbitmq.conf"),
                        RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(self.dir, "advanced.config"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, "enabled_plugins"),
                        RABBITMQ_CONF_ENV_FILE=os.path.join(self.dir, "rabbitmq-env.conf"),
                        RABBITMQ_PID_FILE=os.path.join(self.dir, "rabbit.pid"))

    def start(self, deadline_s=60):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        self.procs.append(subprocess.Popen([epmd, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                           env=self.env, stdout=log, stderr=log, start_new_session=True))
        self.procs.append(subprocess.Popen([rabbit_script()], env=self.env, stdout=log, stderr=log,
                                           start_new_session=True, cwd=self.dir))
        log.close()
        end = time.time() + deadline_s
        while time.time() < end:
            if self.procs[-1].poll() is not None:
                break
            try:
                self.connect().close()
                return self
            except pika.exceptions.AMQPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("rabbitmq-server did not start: " + self.log())

    def log(self):
        out = ""
        for root, _, files in os.walk(self.dir):
            for name in files:
                if name.endswith(".log"):
                    with open(os.path.join(root, name), "rb") as f:
                        out += f.read().decode(errors="replace")[-3000:]
        return out

    def stop(self):
        for p in reversed(self.procs):  # each started in a session of its own: its group is its pid
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    p.wait()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self, vhost="/"):
        return pika.BlockingConnection(pika.ConnectionParameters(
            host="127.0.0.1", port=self.port, virtual_host=vhost, credentials=pika.PlainCredentials(USER, PASSWORD),
            connection_attempts=1, socket_timeout=2, blocked_connection_timeout=5))


class TestRabbitMQ(MotoTestCase):
    @classmethod
    def setUpMoto(cls):
        rabbit = Rabbit().start()
        cls.rabbit = rabbit
        try:
            cls.sqs = cls.aws("sqs")
            broker = cls.aws("mq").create_broker(
                BrokerName="orders", EngineType="RABBITMQ", EngineVersion="3.10.20", HostInstanceType="mq.t3.micro",
                DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False, AutoMinorVersionUpgrade=False,
                Users=[{"Username": USER, "Password": PASSWORD}])
            cls.broker_id = broker["BrokerId"]
            account = broker["BrokerArn"].split(":")[4]
            cls.broker_arn = "arn:aws:mq:us-east-1:%s:broker:orders:%s" % (account, cls.broker_id)
            cls.secret_arn = cls.aws("secretsmanager").create_secret(
                Name="orders-rmq", SecretString=json.dumps({"username": USER, "password": PASSWORD}))["ARN"]
            # a second broker is reached through its endpoint's host (moto names every one mockmq)
            other = cls.aws("mq").create_broker(
                BrokerName="other", EngineType="RABBITMQ", EngineVersion="3.10.20", HostInstanceType="mq.t3.micro",
                DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False, AutoMinorVersionUpgrade=False,
                Users=[{"Username": USER, "Password": PASSWORD}])
            cls.other_arn = "arn:aws:mq:us-east-1:%s:broker:other:%s" % (account, other["BrokerId"])
            cls.server_args = tuple(cls.server_args) + (
                "--mq-broker", "%s=amqp://127.0.0.1:%d" % (cls.broker_id, cls.rabbit.port),
                "--mq-broker", "mockmq=amqp://127.0.0.1:%d" % cls.rabbit.port)
        except Exception:
            cls.rabbit = None
            rabbit.stop()
            raise

    @classmethod
    def setUpClass(cls):
        cls.rabbit = None
        try:
            super().setUpClass()
        except Exception:  # lambdad did not start: the broker goes too
            if cls.rabbit:
                cls.rabbit.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rabbit.stop()

    # ---- helpers ----

    def queue(self, vhost="/"):
        name = self.name("q")
        with self.rabbit.connect(vhost) as c:
            c.channel().queue_declare(queue=name)
        return name

    def queue_named(self, name, vhost="/"):
        with self.rabbit.connect(vhost) as c:
            c.channel().queue_declare(queue=name)

    def publish(self, queue, *bodies, vhost="/", **props):
        with self.rabbit.connect(vhost) as c:
            ch = c.channel()
            ch.confirm_delivery()
            for b in bodies:
                ch.basic_publish("", queue, b.encode() if isinstance(b, str) else b,
                                 pika.BasicProperties(**props), mandatory=True)

    def depth(self, queue, vhost="/"):
        """(messages ready, consumers) of queue."""
        with self.rabbit.connect(vhost) as c:
            ok = c.channel().queue_declare(queue=queue, passive=True).method
            return ok.message_count, ok.consumer_count

    def wait_depth(self, queue, ready, consumers, vhost="/", deadline_s=10):
        end, got = time.time() + deadline_s, None
        while time.time() < end:
            got = self.depth(queue, vhost)
            if got == (ready, consumers):
                return
            time.sleep(0.1)
        self.fail("queue %s: (ready, consumers) %s, expected %s" % (queue, got, (ready, consumers)))

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

    def mapping(self, name, queue, vhost=None, broker=None, secret=None, **kw):
        access = [{"Type": "BASIC_AUTH", "URI": secret or self.secret_arn}]
        if vhost:
            access.append({"Type": "VIRTUAL_HOST", "URI": vhost})
        uuid = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=broker or self.broker_arn,
                                                    Queues=[queue], SourceAccessConfigurations=access, **kw)["UUID"]
        self.wait_mapping_state(uuid, "Enabled")
        return uuid

    def wait_result(self, uuid, what):
        end = time.time() + 10
        while self.lam.get_event_source_mapping(UUID=uuid)["LastProcessingResult"] != what:
            self.assertLess(time.time(), end, "LastProcessingResult never became %r" % what)
            time.sleep(0.1)

    def events(self, results, n_messages, deadline_s=20):
        """Events until they hold n_messages messages (bounded): [(event, [(data, message)])]."""
        got, seen, end = [], 0, time.time() + deadline_s
        while seen < n_messages and time.time() < end:
            for m in self.sqs.receive_message(QueueUrl=results, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=1).get("Messages", []):
                self.sqs.delete_message(QueueUrl=results, ReceiptHandle=m["ReceiptHandle"])
                e = json.loads(m["Body"])
                msgs = [(base64.b64decode(x["data"]).decode(), x)
                        for ms in e["rmqMessagesByQueue"].values() for x in ms]
                got.append((e, msgs))
                seen += len(msgs)
        return got

    def quiet(self, results, seconds=2.0):
        """Nothing more reaches the function for a while."""
        extra = self.events(results, 1, deadline_s=seconds)
        self.assertEqual(extra, [], "unexpected invocations")

    # ---- tests ----

    def test_messages_reach_the_function_in_aws_shape_and_are_acked(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        self.publish(q, "m0", content_type="text/plain", content_encoding="utf-8", delivery_mode=2, priority=3,
                     correlation_id="c-1", reply_to="replies", expiration="60000", message_id="id-1",
                     timestamp=2021, type="order", user_id=USER, app_id="shop", cluster_id="cl",
                     headers={"h1": "value1", "n": 10, "ok": True, "nested": {"a": 1}})
        self.publish(q, "m1", "m2")
        uuid = self.mapping(name, q, BatchSize=10)
        events = self.events(results, 3)
        data = [d for _, ms in events for d, _ in ms]
        self.assertEqual(data, ["m0", "m1", "m2"])
        e, msgs = events[0]
        self.assertEqual(list(e), ["eventSource", "eventSourceArn", "rmqMessagesByQueue"])
        self.assertEqual((e["eventSource"], e["eventSourceArn"]), ("aws:rmq", self.broker_arn))
        self.assertEqual(list(e["rmqMessagesByQueue"]), [q + "::/"])
        m = msgs[0][1]
        self.assertEqual(list(m), ["basicProperties", "redelivered", "data"])
        self.assertIs(m["redelivered"], False)
        self.assertEqual(m["basicProperties"], {
            "contentType": "text/plain", "contentEncoding": "utf-8",
            "headers": {"h1": {"bytes": list(b"value1")}, "n": 10, "ok": True, "nested": {"a": 1}},
            "deliveryMode": 2, "priority": 3, "correlationId": "c-1", "replyTo": "replies", "expiration": "60000",
            "messageId": "id-1", "timestamp": "Jan 1, 1970, 12:33:41 AM", "type": "order", "userId": USER,
            "appId": "shop", "clusterId": "cl", "bodySize": 2})
        self.assertEqual(list(m["basicProperties"]), [
            "contentType", "contentEncoding", "headers", "deliveryMode", "priority", "correlationId", "replyTo",
            "expiration", "messageId", "timestamp", "type", "userId", "appId", "clusterId", "bodySize"])
        bare = [x for _, ms in events for d, x in ms if d == "m1"][0]["basicProperties"]
        self.assertIsNone(bare["contentType"])
        self.assertIsNone(bare["headers"])
        self.wait_result(uuid, "OK")
        # acked, not just delivered: with the consumer gone, nothing comes back to the queue
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.wait_depth(q, 0, 0)
        time.sleep(0.5)
        self.assertEqual(self.depth(q), (0, 0))

    def test_a_failed_batch_is_redelivered_in_a_virtual_host_and_nothing_is_lost(self):
        results, q = self.results(), self.queue(VHOST)
        name = self.function(results)
        uuid = self.mapping(name, q, vhost=VHOST, BatchSize=10, MaximumBatchingWindowInSeconds=1)
        self.publish(q, "a", "boom-1", "b", vhost=VHOST)
        events = self.events(results, 6)
        first, second = events[0][1], [m for _, ms in events[1:] for m in ms]
        self.assertEqual(list(events[0][0]["rmqMessagesByQueue"]), [q + "::" + VHOST])
        self.assertEqual([d for d, _ in first], ["a", "boom-1", "b"])
        self.assertEqual([m["redelivered"] for _, m in first], [False] * 3)
        # the function failed: the broker has the batch again, marked redelivered, and it succeeds
        self.assertEqual(sorted(d for d, _ in second), ["a", "b", "boom-1"])
        self.assertEqual([m["redelivered"] for _, m in second], [True] * 3)
        self.wait_result(uuid, "OK")
        self.quiet(results, 1.5)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.wait_depth(q, 0, 0, vhost=VHOST)

    def test_filter_criteria_keep_out_what_they_should(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        uuid = self.mapping(name, q, BatchSize=10, MaximumBatchingWindowInSeconds=1,
                            FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]})
        # the last one is kept out too: no ack of a later batch covers it
        self.publish(q, json.dumps({"kind": "keep", "n": 1}), json.dumps({"kind": "drop", "n": 2}), "plain text",
                     json.dumps({"kind": "keep", "n": 3}), json.dumps({"n": 4}))
        events = self.events(results, 2)
        self.assertEqual([json.loads(d)["n"] for _, ms in events for d, _ in ms], [1, 3])
        self.quiet(results, 1.5)
        # what the filter kept out was acked too: nothing comes back once the consumer is gone
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.wait_depth(q, 0, 0)

    def test_disabling_stops_consumption_and_enabling_resumes(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        uuid = self.mapping(name, q, BatchSize=10)
        self.publish(q, "before")
        self.assertEqual([d for _, ms in self.events(results, 1) for d, _ in ms], ["before"])
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.wait_depth(q, 0, 0)  # the consumer is gone
        self.publish(q, "while-disabled-1", "while-disabled-2")
        self.quiet(results, 1.5)
        self.assertEqual(self.depth(q), (2, 0))
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.wait_mapping_state(uuid, "Enabled")
        got = sorted(d for _, ms in self.events(results, 2) for d, _ in ms)
        self.assertEqual(got, ["while-disabled-1", "while-disabled-2"])

    def test_kill9_with_a_batch_in_flight_loses_nothing(self):
        results, q = self.results(), self.queue()
        name = self.function(results, SLEEP=2)
        sent = ["k%d" % i for i in range(5)]
        self.publish(q, *sent)
        self.mapping(name, q, BatchSize=2, MaximumBatchingWindowInSeconds=0)
        first = self.events(results, 1)  # the first batch is with the function (it sleeps 2 s)
        self.assertTrue(first)
        in_flight = {d for _, ms in first for d, _ in ms}
        self.server.kill9()  # before that batch is acked: the broker takes it back when the connection drops
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

    def test_a_deleted_queue_is_consumed_again_once_it_is_back(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        self.mapping(name, q, BatchSize=10, MaximumBatchingWindowInSeconds=0)
        self.publish(q, "first")
        self.assertEqual([d for _, ms in self.events(results, 1) for d, _ in ms], ["first"])
        with self.rabbit.connect() as c:  # the broker cancels the consumer; lambdad connects again
            c.channel().queue_delete(queue=q)
        time.sleep(0.3)
        self.queue_named(q)
        self.publish(q, "after")
        self.assertEqual([d for _, ms in self.events(results, 1, deadline_s=15) for d, _ in ms], ["after"])
        self.wait_depth(q, 0, 1)
        self.assertIn("the broker cancelled the consumer", self.server.log())

    def test_big_messages_arrive_whole_and_too_big_ones_are_dropped(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        self.mapping(name, q, BatchSize=10, MaximumBatchingWindowInSeconds=0)
        big = os.urandom(1 << 20)  # many body frames
        huge = b"x" * (5 << 20)    # its base64 would not fit an invoke's 6 MB
        self.publish(q, huge)
        self.publish(q, big)
        got = [d for _, ms in self.events(results, 1) for d, _ in ms]
        self.assertEqual(got, ["%d:%s" % (len(big), hashlib.sha256(big).hexdigest())])
        self.quiet(results, 1.0)
        self.wait_depth(q, 0, 1)  # the huge one was dropped (rejected without requeue), not left to loop
        self.assertEqual(self.server.log().count("a message of %d bytes does not fit" % len(huge)), 1)

    def test_a_broker_is_found_by_its_endpoint_host(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        self.mapping(name, q, broker=self.other_arn, MaximumBatchingWindowInSeconds=0)
        self.publish(q, "via mockmq")
        got = self.events(results, 1)
        self.assertEqual([d for _, ms in got for d, _ in ms], ["via mockmq"])
        self.assertEqual(got[0][0]["eventSourceArn"], self.other_arn)

    def test_refused_credentials_consume_nothing_until_the_secret_is_right(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        sm = self.aws("secretsmanager")
        secret = sm.create_secret(Name=self.name("secret"),
                                  SecretString=json.dumps({"username": USER, "password": "wrong"}))["ARN"]
        self.mapping(name, q, secret=secret, MaximumBatchingWindowInSeconds=0)
        self.publish(q, "waits")
        self.quiet(results, 1.5)
        self.assertEqual(self.depth(q), (1, 0))
        # every new attempt reads the secret again
        sm.put_secret_value(SecretId=secret, SecretString=json.dumps({"username": USER, "password": PASSWORD}))
        self.assertEqual([d for _, ms in self.events(results, 1, deadline_s=15) for d, _ in ms], ["waits"])

    def test_batches_hold_at_most_batch_size_and_a_window_gathers_a_trickle(self):
        results, q = self.results(), self.queue()
        name = self.function(results)
        self.publish(q, *["s%d" % i for i in range(5)])
        uuid = self.mapping(name, q, BatchSize=2)
        events = self.events(results, 5)
        self.assertEqual(sorted(d for _, ms in events for d, _ in ms), ["s%d" % i for i in range(5)])
        self.assertTrue(all(len(ms) <= 2 for _, ms in events), [len(ms) for _, ms in events])
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        q2 = self.queue()
        self.mapping(self.function(results), q2, BatchSize=10, MaximumBatchingWindowInSeconds=2)
        for i in range(3):
            self.publish(q2, "t%d" % i)
            time.sleep(0.3)
        events = self.events(results, 3)
        self.assertEqual([[d for d, _ in ms] for _, ms in events], [["t0", "t1", "t2"]])  # one invoke

    def test_disabling_with_a_batch_in_flight_gives_it_back(self):
        results, q = self.results(), self.queue()
        name = self.function(results, SLEEP=2)
        uuid = self.mapping(name, q, BatchSize=10, MaximumBatchingWindowInSeconds=0)
        self.publish(q, "slow-1", "slow-2")
        first = [d for _, ms in self.events(results, 1) for d, _ in ms]  # the function has them, sleeping
        self.assertTrue(first)
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        self.wait_mapping_state(uuid, "Disabled")
        self.wait_depth(q, 2, 0)  # the channel and connection closed: the broker has both back
        time.sleep(2.5)           # the function ends meanwhile; nothing acks for a stopped poller
        self.assertEqual(self.depth(q), (2, 0))
        self.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
        self.wait_mapping_state(uuid, "Enabled")
        again = [(d, m["redelivered"]) for _, ms in self.events(results, 2) for d, m in ms]
        self.assertEqual(sorted(again), [("slow-1", True), ("slow-2", True)])
