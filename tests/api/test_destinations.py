"""Asynchronous invocation records and dead letters delivered to SQS, SNS,
EventBridge and S3 (OnSuccess / OnFailure destinations of the event invoke
config, DeadLetterConfig), end to end: a function invoked with
InvocationType Event, lambdad's SigV4-signed calls to moto's server (started
here on a loopback port and given with --aws-endpoint-url), and the messages
read back with boto3: SQS directly, SNS through an SQS subscription,
EventBridge through a rule targeting an SQS queue, S3 by listing the bucket.

A second class points AWS_ENDPOINT_URL_SQS at a fake endpoint in this
process that checks every request's SigV4 signature (as AWS would, with the
secret key and session token lambdad was given) and answers 503 twice before
accepting: the delivery is retried and arrives.

Expected values: shared/reference/aws-recordings/test_lambda_destinations
.snapshot.json (records, DLQ attributes, EventBridge events),
shared/spec/EXECUTION-PROTOCOLS.md section 8 and the AWS documentation of
S3 destinations (aws/lambda/async/FUNCTION/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-UUID).
"""
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import urllib.parse

from harness import LambdadTestCase, MotoTestCase, make_zip

MOTO_ACCOUNT = "123456789012"  # the account moto puts everything in
REGION = "us-east-1"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

CODE = """\
def handler(event, context):
    if event.get("fail"):
        raise Exception("intentional failure " + str(event.get("tag")))
    return {"echo": event, "ok": True}
"""

DEADLINE_S = 30


def wait_for(fn, timeout=DEADLINE_S, what="condition"):
    """Polls fn() until it returns something truthy, for at most timeout s."""
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


class TestDestinations(MotoTestCase):
    moto_server_args = ("--async-retry-base-ms", "100")

    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")
        cls.sns = cls.aws("sns")
        cls.events = cls.aws("events")
        cls.s3 = cls.aws("s3")

    # ---- resources on moto ----

    def queue(self):
        url = self.sqs.create_queue(QueueName=self.name("q"))["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def topic(self):
        """A topic with an SQS subscription to read its messages back."""
        arn = self.sns.create_topic(Name=self.name("t"))["TopicArn"]
        url, qarn = self.queue()
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=qarn)
        return arn, url

    def bus(self):
        """An event bus with a rule sending source "lambda" events to a queue."""
        name = self.name("bus")
        arn = self.events.create_event_bus(Name=name)["EventBusArn"]
        url, qarn = self.queue()
        self.events.put_rule(Name=name + "-r", EventBusName=name, EventPattern=json.dumps({"source": ["lambda"]}))
        self.events.put_targets(Rule=name + "-r", EventBusName=name, Targets=[{"Id": "1", "Arn": qarn}])
        return arn, url

    def receive(self, url, n=1):
        """Waits for n messages on the queue (bounded) and returns them."""
        got = []
        end = time.time() + DEADLINE_S
        while len(got) < n:
            if time.time() > end:
                self.fail("%d of %d messages arrived on %s; lambdad log:\n%s" % (len(got), n, url,
                                                                                   self.server.log()[-3000:]))
            r = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                         WaitTimeSeconds=0)
            for m in r.get("Messages", []):
                got.append(m)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            if len(got) < n:
                time.sleep(0.1)
        return got

    # ---- functions ----

    def function(self, dlq=None, **event_config):
        name = self.name()
        kw = {"DeadLetterConfig": {"TargetArn": dlq}} if dlq else {}
        resp = self.create(name, Code={"ZipFile": make_zip({"app.py": CODE})}, **kw)
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name)
        event_config.setdefault("MaximumRetryAttempts", 0)
        self.lam.put_function_event_invoke_config(FunctionName=name, **event_config)
        return name, resp["FunctionArn"]

    def invoke(self, name, payload):
        resp = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
        self.assertEqual(resp["StatusCode"], 202)
        return resp["ResponseMetadata"]["RequestId"]

    def check_record(self, record, fn_arn, request_id, payload, condition, count, error=None):
        self.assertEqual(set(record), {"version", "timestamp", "requestContext", "requestPayload",
                                       "responseContext", "responsePayload"}, record)
        self.assertEqual(record["version"], "1.0")
        self.assertRegex(record["timestamp"], TIMESTAMP)
        self.assertEqual(record["requestContext"], {"requestId": request_id, "functionArn": fn_arn + ":$LATEST",
                                                    "condition": condition, "approximateInvokeCount": count})
        self.assertEqual(record["requestPayload"], payload)
        if error:
            self.assertEqual(record["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST",
                                                         "functionError": "Unhandled"})
            self.assertEqual(record["responsePayload"]["errorType"], "Exception")
            self.assertEqual(record["responsePayload"]["errorMessage"], error)
        else:
            self.assertEqual(record["responseContext"], {"statusCode": 200, "executedVersion": "$LATEST"})
            self.assertEqual(record["responsePayload"], {"echo": payload, "ok": True})

    # ---- destinations ----

    def test_sqs_on_success(self):
        url, qarn = self.queue()
        name, arn = self.function(DestinationConfig={"OnSuccess": {"Destination": qarn}})
        payload = {"tag": "sqs-ok", "n": [1, 2, 3], "s": "caf\u00e9 \u2603"}
        rid = self.invoke(name, payload)
        (msg,) = self.receive(url)
        self.check_record(json.loads(msg["Body"]), arn, rid, payload, "Success", 1)
        self.assertNotIn("MessageAttributes", msg)  # attributes are for dead letters only

    def test_sqs_on_failure_after_retries(self):
        url, qarn = self.queue()
        name, arn = self.function(MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": qarn}})
        payload = {"tag": "sqs-fail", "fail": True}
        rid = self.invoke(name, payload)
        (msg,) = self.receive(url)
        self.check_record(json.loads(msg["Body"]), arn, rid, payload, "RetriesExhausted", 2,
                          error="intentional failure sqs-fail")

    def test_sns_on_failure(self):
        tarn, url = self.topic()
        name, arn = self.function(DestinationConfig={"OnFailure": {"Destination": tarn}})
        payload = {"tag": "sns-fail", "fail": True}
        rid = self.invoke(name, payload)
        (msg,) = self.receive(url)
        note = json.loads(msg["Body"])  # SNS's envelope around the message
        self.assertEqual(note["TopicArn"], tarn)
        self.assertNotIn("MessageAttributes", note)
        self.check_record(json.loads(note["Message"]), arn, rid, payload, "RetriesExhausted", 1,
                          error="intentional failure sns-fail")

    def test_eventbridge_success_and_failure(self):
        barn, url = self.bus()
        name, arn = self.function(DestinationConfig={"OnSuccess": {"Destination": barn},
                                                     "OnFailure": {"Destination": barn}})
        ok, bad = {"tag": "eb-ok"}, {"tag": "eb-fail", "fail": True}
        rid_ok = self.invoke(name, ok)
        rid_bad = self.invoke(name, bad)
        events = [json.loads(m["Body"]) for m in self.receive(url, 2)]
        by_type = {e["detail-type"]: e for e in events}
        self.assertEqual(set(by_type), {"Lambda Function Invocation Result - Success",
                                        "Lambda Function Invocation Result - Failure"})
        for e in events:
            self.assertEqual(e["source"], "lambda")
            self.assertEqual(e["resources"], [barn, arn + ":$LATEST"])
        self.check_record(by_type["Lambda Function Invocation Result - Success"]["detail"], arn, rid_ok, ok,
                          "Success", 1)
        self.check_record(by_type["Lambda Function Invocation Result - Failure"]["detail"], arn, rid_bad, bad,
                          "RetriesExhausted", 1, error="intentional failure eb-fail")

    def test_s3_on_failure(self):
        bucket = self.name("bkt")
        self.s3.create_bucket(Bucket=bucket)
        name, arn = self.function(DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::" + bucket}})
        payload = {"tag": "s3-fail", "fail": True}
        before = time.gmtime(time.time() - 1)
        rid = self.invoke(name, payload)
        objs = wait_for(lambda: self.s3.list_objects_v2(Bucket=bucket).get("Contents"), what="the S3 record")
        after = time.gmtime(time.time() + 1)
        self.assertEqual(len(objs), 1, objs)
        key = objs[0]["Key"]
        m = re.fullmatch(r"aws/lambda/async/%s/(\d{4})/(\d\d)/(\d\d)/(\d{4})-(\d\d)-(\d\d)T(\d\d)\.(\d\d)\.(\d\d)-(%s)"
                         % (re.escape(name), UUID), key)
        self.assertIsNotNone(m, key)
        self.assertEqual(m.group(1, 2, 3), m.group(4, 5, 6))
        stamp = time.strptime("-".join(m.group(4, 5, 6, 7, 8, 9)), "%Y-%m-%d-%H-%M-%S")
        self.assertTrue(time.mktime(before) <= time.mktime(stamp) <= time.mktime(after), key)
        record = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        self.check_record(record, arn, rid, payload, "RetriesExhausted", 1, error="intentional failure s3-fail")

    # ---- dead-letter queues ----

    def test_dlq_sqs(self):
        url, qarn = self.queue()
        name, _ = self.function(dlq=qarn)
        payload = {"tag": "dlq-sqs", "fail": True}
        rid = self.invoke(name, payload)
        (msg,) = self.receive(url)
        self.assertEqual(json.loads(msg["Body"]), payload)  # the event as it came
        self.assertEqual(msg["MessageAttributes"], {
            "RequestID": {"DataType": "String", "StringValue": rid},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "intentional failure dlq-sqs"},
        })

    def test_dlq_sns(self):
        tarn, url = self.topic()
        name, _ = self.function(dlq=tarn)
        payload = {"tag": "dlq-sns", "fail": True}
        rid = self.invoke(name, payload)
        (msg,) = self.receive(url)
        note = json.loads(msg["Body"])
        self.assertEqual(json.loads(note["Message"]), payload)
        self.assertEqual(note["MessageAttributes"], {
            "RequestID": {"Type": "String", "Value": rid},
            "ErrorCode": {"Type": "Number", "Value": "200"},
            "ErrorMessage": {"Type": "String", "Value": "intentional failure dlq-sns"},
        })

    def test_dlq_error_message_first_kb(self):
        url, qarn = self.queue()
        name, _ = self.function(dlq=qarn)
        tag = "x" * 3000
        self.invoke(name, {"tag": tag, "fail": True})
        (msg,) = self.receive(url)
        self.assertEqual(msg["MessageAttributes"]["ErrorMessage"]["StringValue"],
                         ("intentional failure " + tag)[:1024])

    def test_missing_destination_is_logged_and_others_still_arrive(self):
        url, qarn = self.queue()
        gone = "arn:aws:sqs:%s:%s:%s" % (REGION, MOTO_ACCOUNT, self.name("gone"))
        name, _ = self.function(DestinationConfig={"OnSuccess": {"Destination": gone},
                                                   "OnFailure": {"Destination": qarn}})
        self.invoke(name, {"tag": "to-nowhere"})
        wait_for(lambda: "SQS delivery to %s failed: QueueDoesNotExist" % gone in self.server.log(),
                 what="the failed delivery in the log")
        self.invoke(name, {"tag": "still-works", "fail": True})
        (msg,) = self.receive(url)
        self.assertEqual(json.loads(msg["Body"])["requestPayload"], {"tag": "still-works", "fail": True})


# ---- a fake SQS endpoint that verifies SigV4 like AWS ----

def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def check_sigv4(method, path, query, headers, body, secret):
    """Recomputes the signature of a received request; returns the parsed
    credential scope, or raises AssertionError."""
    auth = headers.get("Authorization", "")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
    assert m, auth
    akid, date, region, service, signed, sig = m.groups()
    names = signed.split(";")
    assert "host" in names and "x-amz-date" in names, signed
    canon_headers = "".join("%s:%s\n" % (n, " ".join(headers.get(n, "").split())) for n in names)
    payload_hash = hashlib.sha256(body).hexdigest()
    assert headers.get("x-amz-content-sha256", payload_hash) == payload_hash
    canon = "\n".join([method, path, query, canon_headers, signed, payload_hash])
    amz_date = headers["x-amz-date"]
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    k = sign(("AWS4" + secret).encode(), date)
    k = sign(k, region)
    k = sign(k, service)
    k = sign(k, "aws4_request")
    want = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(want, sig), "signature mismatch"
    return {"akid": akid, "region": region, "service": service, "signed": names}


class FakeSQS(http.server.BaseHTTPRequestHandler):
    """Checks signatures; "dest-queue" fails twice with 503 and then
    accepts; "hang-queue" leaves its first request unanswered until
    FakeSQS.release is set (at most 20 s)."""
    failures_left = 2
    requests = {}  # queue name -> [request info]
    secret = None
    lock = threading.Lock()
    release = threading.Event()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path, _, query = self.path.partition("?")
        try:
            info = check_sigv4("POST", path, query, self.headers, body, FakeSQS.secret)
            info["error"] = None
        except (AssertionError, KeyError) as e:
            info = {"error": str(e)}
        info.update(headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        try:
            queue = json.loads(body)["QueueUrl"].rsplit("/", 1)[-1]
        except (ValueError, KeyError):
            queue = "?"
        with FakeSQS.lock:
            seen = FakeSQS.requests.setdefault(queue, [])
            seen.append(info)
            fail = queue == "dest-queue" and FakeSQS.failures_left > 0
            if fail:
                FakeSQS.failures_left -= 1
            hang = queue == "hang-queue" and len(seen) == 1
        if hang:
            FakeSQS.release.wait(20)
        if info["error"]:
            self.answer(403, {"__type": "com.amazonaws.sqs#InvalidSignature", "message": info["error"]})
        elif fail:
            self.answer(503, {"__type": "com.amazonaws.sqs#ServiceUnavailable", "message": "try again"})
        else:
            self.answer(200, {"MessageId": "11111111-2222-3333-4444-555555555555",
                              "MD5OfMessageBody": hashlib.md5(b"").hexdigest()})

    def answer(self, status, doc):
        data = json.dumps(doc).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the hung request's client is gone (lambdad was stopped)

    def log_message(self, *args):
        pass


class TestSignedDeliveryAndRetry(LambdadTestCase):
    server_args = ("--async-retry-base-ms", "100")

    @classmethod
    def setUpClass(cls):
        # the fake SQS binds a port of the kernel's choosing, then lambdad is told it
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeSQS)
        cls.fake_port = cls.httpd.server_address[1]
        cls.server_env = {"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:%d/prefix" % cls.fake_port,
                          "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "AKIDFAKE",
                          "AWS_SECRET_ACCESS_KEY": "fake/secret+key", "AWS_SESSION_TOKEN": "token/with+chars="}
        FakeSQS.secret = cls.server_env["AWS_SECRET_ACCESS_KEY"]
        cls.httpd.daemon_threads = True
        cls.httpd.block_on_close = False
        cls.thread = threading.Thread(target=cls.httpd.serve_forever, daemon=True)
        cls.thread.start()
        try:
            super().setUpClass()
        except Exception:
            cls.httpd.shutdown()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            FakeSQS.release.set()
            cls.httpd.shutdown()
            cls.httpd.server_close()

    def function_to(self, dest):
        name = self.name()
        self.create(name, Code={"ZipFile": make_zip({"app.py": CODE})})
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                                  DestinationConfig={"OnSuccess": {"Destination": dest}})
        return name

    def sent(self, queue):
        with FakeSQS.lock:
            return list(FakeSQS.requests.get(queue, []))

    def test_signed_sendmessage_retried_after_503(self):
        dest = "arn:aws:sqs:eu-west-3:444455556666:dest-queue"  # its region is the signing region
        name = self.function_to(dest)
        rid = self.lam.invoke(FunctionName=name, InvocationType="Event",
                              Payload=b'{"tag": "signed"}')["ResponseMetadata"]["RequestId"]
        wait_for(lambda: len(self.sent("dest-queue")) >= 3, what="three SendMessage attempts")
        time.sleep(0.5)  # no further attempt after the accepted one
        reqs = self.sent("dest-queue")
        self.assertEqual(len(reqs), 3, [r.get("error") for r in reqs])
        for r in reqs:
            self.assertIsNone(r["error"])
            self.assertEqual((r["akid"], r["region"], r["service"]), ("AKIDFAKE", "eu-west-3", "sqs"))
            self.assertIn("x-amz-security-token", r["signed"])
            self.assertEqual(r["headers"]["x-amz-security-token"], "token/with+chars=")
            self.assertEqual(r["headers"]["x-amz-target"], "AmazonSQS.SendMessage")
            self.assertEqual(r["headers"]["content-type"], "application/x-amz-json-1.0")
            doc = json.loads(r["body"])
            self.assertEqual(doc["QueueUrl"], "http://127.0.0.1:%d/prefix/444455556666/dest-queue" % self.fake_port)
            record = json.loads(doc["MessageBody"])
            self.assertEqual(record["requestContext"]["requestId"], rid)
            self.assertEqual(record["requestContext"]["condition"], "Success")
            self.assertNotIn("MessageAttributes", doc)
        self.assertEqual(reqs[0]["body"], reqs[2]["body"])  # the same record each time

    def test_shutdown_with_a_delivery_in_flight_and_redelivery_after_restart(self):
        name = self.function_to("arn:aws:sqs:us-east-1:444455556666:hang-queue")
        rid = self.lam.invoke(FunctionName=name, InvocationType="Event",
                              Payload=b'{"tag": "hang"}')["ResponseMetadata"]["RequestId"]
        wait_for(lambda: self.sent("hang-queue"), what="the delivery to reach the endpoint")
        t0 = time.time()
        code = self.server.stop()  # SIGTERM while the endpoint has not answered
        log = self.server.log()
        self.assertEqual(code, 0, log)
        self.assertLess(time.time() - t0, 5)  # not held up by the 30 s delivery timeout
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        self.server.start()
        # the event was not done: after the restart its record is delivered again
        wait_for(lambda: len(self.sent("hang-queue")) >= 2, what="the redelivery after restart")
        records = [json.loads(json.loads(r["body"])["MessageBody"]) for r in self.sent("hang-queue")]
        self.assertEqual({r["requestContext"]["requestId"] for r in records}, {rid})
        FakeSQS.release.set()


if __name__ == "__main__":
    import unittest
    unittest.main()
