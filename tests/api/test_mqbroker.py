"""Amazon MQ mappings: one resolution step finds the broker for the one poller its engine needs.

An Amazon MQ ARN does not say the broker's engine; lambdad reads the BASIC_AUTH secret (Secrets Manager's
GetSecretValue) and describes the broker (Amazon MQ's DescribeBroker) once per connection attempt, then starts the
RabbitMQ or the ActiveMQ poller (src/pollers/mqbroker.c). moto stands in for both services and records the requests
it gets (its recorder, /moto-api/recorder/); `--mq-broker BROKER-ID=amqp://127.0.0.1:PORT` points each broker at a
socket of the test that accepts and says nothing, so the moment lambdad connects is seen, and closing that socket
makes lambdad try again. No broker runs: what is counted is the AWS calls around each connection."""
import base64
import json
import os
import shutil
import socket
import tempfile
import time
import urllib.parse
import urllib.request

from harness import ROLE, MotoTestCase, make_zip

USER, PASSWORD = "lambdad", "s3cret-pass"


class Silent:
    """A loopback listener that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def accept(self, deadline_s=10):
        self.sock.settimeout(deadline_s)
        return self.sock.accept()[0]

    def close(self):
        self.sock.close()


class TestMQBroker(MotoTestCase):
    @classmethod
    def setUpClass(cls):
        cls.recdir = tempfile.mkdtemp(prefix="lambdad-moto-rec-")
        old = os.environ.get("MOTO_RECORDER_FILEPATH")
        os.environ["MOTO_RECORDER_FILEPATH"] = os.path.join(cls.recdir, "requests")  # moto's server inherits it
        cls.listeners = {}
        try:
            super().setUpClass()
        except Exception:
            cls.stop_listeners()
            shutil.rmtree(cls.recdir, ignore_errors=True)
            raise
        finally:
            if old is None:
                del os.environ["MOTO_RECORDER_FILEPATH"]
            else:
                os.environ["MOTO_RECORDER_FILEPATH"] = old

    @classmethod
    def setUpMoto(cls):
        mq = cls.aws("mq")
        sm = cls.aws("secretsmanager")
        cls.brokers, cls.secrets = {}, {}
        args = []
        for engine, version in (("ACTIVEMQ", "5.17.6"), ("RABBITMQ", "3.10.20")):
            b = mq.create_broker(
                BrokerName=engine.lower(), EngineType=engine, EngineVersion=version, HostInstanceType="mq.t3.micro",
                DeploymentMode="SINGLE_INSTANCE", PubliclyAccessible=False, AutoMinorVersionUpgrade=False,
                Users=[{"Username": USER, "Password": PASSWORD}])
            account = b["BrokerArn"].split(":")[4]
            arn = "arn:aws:mq:us-east-1:%s:broker:%s:%s" % (account, engine.lower(), b["BrokerId"])
            cls.brokers[engine] = (b["BrokerId"], arn)
            cls.listeners[engine] = Silent()
            args += ["--mq-broker", "%s=amqp://127.0.0.1:%d" % (b["BrokerId"], cls.listeners[engine].port)]
            cls.secrets[engine] = sm.create_secret(
                Name=engine.lower() + "-secret",
                SecretString=json.dumps({"username": USER, "password": PASSWORD}))["ARN"]
        cls.server_args = tuple(cls.server_args) + tuple(args)
        cls.recorder("start-recording")

    @classmethod
    def stop_listeners(cls):
        for s in cls.listeners.values():
            s.close()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.stop_listeners()
            shutil.rmtree(cls.recdir, ignore_errors=True)

    @classmethod
    def recorder(cls, action):
        method = "GET" if action == "download-recording" else "POST"
        req = urllib.request.Request("%s/moto-api/recorder/%s" % (cls.moto_url, action), method=method, data=None)
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read().decode()

    def calls(self, broker_id, secret_arn):
        """(DescribeBroker calls of broker_id, GetSecretValue calls of secret_arn) moto recorded since the
        last reset."""
        describe = secret = 0
        for line in self.recorder("download-recording").splitlines():
            e = json.loads(line)
            path = urllib.parse.urlparse(e["url"]).path
            if e["method"] == "GET" and path == "/v1/brokers/" + broker_id:
                describe += 1
            target = {k.lower(): v for k, v in e["headers"].items()}.get("x-amz-target", "")
            body = e.get("body") or ""
            if e.get("body_encoded"):
                body = base64.b64decode(body).decode()
            if target == "secretsmanager.GetSecretValue" and json.loads(body or "{}").get("SecretId") == secret_arn:
                secret += 1
        return describe, secret

    def function(self):
        name = self.name("fn")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})})
        self.settled(name)
        return name

    def check_engine(self, engine):
        broker_id, arn = self.brokers[engine]
        secret = self.secrets[engine]
        listener = self.listeners[engine]
        mine, other = ("ActiveMQ", "RabbitMQ") if engine == "ACTIVEMQ" else ("RabbitMQ", "ActiveMQ")
        self.recorder("reset-recording")
        uuid = self.lam.create_event_source_mapping(
            FunctionName=self.function(), EventSourceArn=arn, Queues=["orders"],
            SourceAccessConfigurations=[{"Type": "BASIC_AUTH", "URI": secret}])["UUID"]
        try:
            self.wait_mapping_state(uuid, "Enabled")
            conn = listener.accept()
            # the next attempt is a backoff (1 s) after this connection fails: ActiveMQ's open waits 5 s,
            # RabbitMQ's handshake 2 s; what two pollers would both have asked has long arrived by now
            time.sleep(1.0)
            self.assertEqual(self.calls(broker_id, secret), (1, 1), "one DescribeBroker and one GetSecretValue")
            # the broker closes the connection: the secret and the broker are read again, once, and the
            # poller of the broker's engine connects anew
            conn.close()
            listener.accept().close()
            time.sleep(0.5)
            self.assertEqual(self.calls(broker_id, secret), (2, 2),
                             "one DescribeBroker and one GetSecretValue per connection")
            log = self.server.log()
            self.assertIn("%s consumer of %s (queue orders)" % (mine, arn), log)
            self.assertNotIn("%s consumer of %s" % (other, arn), log)
        finally:
            self.lam.delete_event_source_mapping(UUID=uuid)

    def test_an_activemq_broker_is_described_once_per_connection(self):
        self.check_engine("ACTIVEMQ")

    def test_a_rabbitmq_broker_is_described_once_per_connection(self):
        self.check_engine("RABBITMQ")


if __name__ == "__main__":
    import unittest
    unittest.main()
