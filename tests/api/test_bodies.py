"""Request bodies before authentication (issue 19, item 1), under --auth enforce.

Unsigned and forged requests (an access key the server does not know) are answered from their
headers, before a byte of their body is read: 20 of each, all at once, announcing 70 MB bodies and
sending them, leave lambdad's peak RSS (VmHWM, reset before the flood through clear_refs) less than
100 MB above its RSS before the flood. The binary is the ASan/UBSan build, whose RSS at rest is
larger than a release build's: the test asserts the growth, not the total. Well-formed requests of a
known key whose signature is wrong can only be refused after their body: 20 such 70 MB bodies go to
unlinked files of the data directory (hashed as they come, never read back) and the growth stays
under 100 MB as well. Signed requests still work: a 50 MB zip (incompressible) through boto3's
CreateFunction, its function invoked, an Invoke with a 6 MB payload, and PutLogEvents. With
--max-body-memory 1 every body goes to a file and the API works as ever; bodies that find no
descriptor for their file get AWS's throttle. Unknown routes and X-Amz-Target services (CloudWatch
Logs) are answered from their headers as well, as the full gate answers them."""
import datetime
import functools
import io
import json
import os
import re
import resource
import socket
import subprocess
import threading
import time
import unittest
import zipfile

import boto3
import botocore.auth
import botocore.config
import botocore.awsrequest
import botocore.credentials

from harness import BIN, LambdadTestCase, REGION, Server

MB = 1024 * 1024
BODY = 70 * 1000 * 1000  # under CreateFunction's 70,167,211-byte limit
FLOOD = 20
ROLE = "arn:aws:iam::111111111111:role/lambda-role"


def vm(pid):
    """VmRSS and VmHWM of pid, in bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


def reset_peak(pid):
    """Resets VmHWM to the current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def sign(key, method, url, body=b"", service="lambda", headers=None):
    creds = botocore.credentials.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    botocore.auth.SigV4Auth(creds, service, REGION).add_auth(req)
    return dict(req.headers.items())


def read_response(s, deadline_s=60):
    """(status, headers lowercased, body) of one HTTP response on s, or None when the connection
    ended (or the deadline passed) before a whole one arrived."""
    data = b""
    end = time.time() + deadline_s
    s.settimeout(5)
    while time.time() < end:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"(?im)^content-length: *(\d+)", head)
            if m and len(rest) >= int(m.group(1)):
                lines = head.decode("latin-1").split("\r\n")
                hdrs = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                return int(lines[0].split()[1]), hdrs, rest[:int(m.group(1))]
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return None


class Upload(threading.Thread):
    """One connection: a POST announcing `length` body bytes, then the body (1 MB at a time).
    early: the answer must come after the headers alone, before any body is sent; the body is then
    sent until the server's close stops it. Otherwise the whole body is sent, then the answer read."""

    def __init__(self, port, path, headers, length, early):
        super().__init__(daemon=True)
        self.port, self.path, self.headers, self.length, self.early = port, path, headers, length, early
        self.response, self.sent, self.error = None, 0, None

    def send_body(self, s):
        chunk = os.urandom(MB)
        while self.sent < self.length:
            n = min(MB, self.length - self.sent)
            s.sendall(chunk[:n])
            self.sent += n

    def run(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        except OSError as e:
            self.error = e
            return
        try:
            head = "POST %s HTTP/1.1\r\n" % self.path
            for k, v in dict(self.headers, **{"Content-Length": str(self.length)}).items():
                head += "%s: %s\r\n" % (k, v)
            s.sendall(head.encode() + b"\r\n")
            if self.early:
                self.response = read_response(s)
                try:
                    self.send_body(s)
                except OSError:
                    pass  # the server closed the connection: the body is not wanted
            else:
                try:
                    self.send_body(s)
                except OSError as e:
                    self.error = e
                self.response = read_response(s, deadline_s=300)
        except Exception as e:  # noqa: BLE001 -- reported by the test
            self.error = e
        finally:
            s.close()


class EnforceBase(LambdadTestCase):
    """A server under --auth enforce with a key of account 111111111111 (self.key, self.la)."""
    server_args = ["--auth", "enforce"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = cls.server.create_key("111111111111")
        cls.la = boto3.client("lambda", endpoint_url=cls.server.endpoint, region_name=REGION,
                              aws_access_key_id=cls.key["AccessKeyId"],
                              aws_secret_access_key=cls.key["SecretAccessKey"],
                              config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=300))
        cls.pid = cls.server.proc.pid
        cls.host = "127.0.0.1:%d" % cls.server.port

    def flood(self, uploads):
        """Runs the uploads at once; returns the peak RSS growth over the RSS before them."""
        before = vm(self.pid)["VmRSS"]
        self.assertTrue(reset_peak(self.pid), "cannot reset VmHWM")
        for u in uploads:
            u.start()
        for u in uploads:
            u.join(600)
            self.assertFalse(u.is_alive(), "an upload did not finish in 10 minutes")
        after = vm(self.pid)
        growth = after["VmHWM"] - before
        print("\n  RSS before %.1f MB, peak %.1f MB, growth %.1f MB, now %.1f MB (%d uploads of %d bytes)"
              % (before / MB, after["VmHWM"] / MB, growth / MB, after["VmRSS"] / MB, len(uploads), BODY))
        return growth

    def assertAlive(self):
        self.assertIsNone(self.server.proc.poll())
        self.assertIn("Functions", self.la.list_functions())


class TestBodiesBeforeAuth(EnforceBase):
    """The floods, on a server of their own so that the RSS before them is the server's at rest."""

    def test_unsigned_and_forged_uploads_are_answered_from_their_headers(self):
        unsigned = {"Host": self.host, "Content-Type": "application/json"}
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        forged = dict(unsigned, **{
            "X-Amz-Date": now,
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAFORGEDFORGED0000/%s/%s/lambda/aws4_request, "
                             "SignedHeaders=content-type;host;x-amz-date, Signature=%s" % (now[:8], REGION, "0" * 64)})
        ups = [Upload(self.server.port, "/2015-03-31/functions", unsigned, BODY, True) for _ in range(FLOOD)]
        ups += [Upload(self.server.port, "/2015-03-31/functions", forged, BODY, True) for _ in range(FLOOD)]
        growth = self.flood(ups)
        for i, u in enumerate(ups):
            self.assertIsNone(u.error, u.error)
            self.assertIsNotNone(u.response, "no answer before the body (upload %d)" % i)
            status, hdrs, body = u.response
            want = ("MissingAuthenticationTokenException", "Missing Authentication Token") if i < FLOOD else \
                ("UnrecognizedClientException", "The security token included in the request is invalid.")
            self.assertEqual((status, hdrs.get("x-amzn-errortype")), (403, want[0]), body)
            self.assertEqual(json.loads(body), {"message": want[1]})
            self.assertRegex(hdrs.get("x-amzn-requestid", ""), r"^[0-9a-f-]{36}$")
            # the server closed the connection instead of reading the body
            self.assertLess(u.sent, BODY)
        self.assertLess(growth, 100 * MB)
        self.assertAlive()

    def test_bad_signatures_of_a_known_key_go_to_disk(self):
        url = self.server.endpoint + "/2015-03-31/functions"
        h = sign(self.key, "POST", url, b"{}", headers={"Content-Type": "application/json"})
        h["Host"] = self.host
        ups = [Upload(self.server.port, "/2015-03-31/functions", h, BODY, False) for _ in range(FLOOD)]
        growth = self.flood(ups)
        for u in ups:
            self.assertIsNone(u.error, u.error)
            self.assertEqual(u.sent, BODY)
            self.assertIsNotNone(u.response)
            status, hdrs, body = u.response
            self.assertEqual((status, hdrs.get("x-amzn-errortype")), (403, "InvalidSignatureException"), body)
        self.assertLess(growth, 100 * MB)
        self.assertAlive()

    def test_logs_target_answered_from_headers(self):
        # X-Amz-Target services are checked before their body too, answered in their own envelope
        # as the full check answers (an empty body is checked after it, as before)
        body = json.dumps({"logGroupName": "g", "logStreamName": "s",
                           "logEvents": [{"timestamp": 1, "message": "m" * (900 * 1024)}]}).encode()
        hdrs = {"Host": self.host, "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Logs_20140328.PutLogEvents"}
        full = Upload(self.server.port, "/", hdrs, 0, False)
        full.run()
        u = Upload(self.server.port, "/", hdrs, len(body), True)
        u.run()
        self.assertIsNotNone(full.response)
        self.assertIsNotNone(u.response)
        status, rh, rbody = u.response
        self.assertEqual(rh.get("x-amzn-errortype"), "MissingAuthenticationTokenException", rbody)
        self.assertEqual(json.loads(rbody), {"__type": "MissingAuthenticationTokenException",
                                             "message": "Missing Authentication Token"})
        self.assertEqual((status, rh.get("x-amzn-errortype"), rh.get("content-type"), json.loads(rbody)),
                         (full.response[0], full.response[1].get("x-amzn-errortype"),
                          full.response[1].get("content-type"), json.loads(full.response[2])))
        # signed, it works (a body over the 1 MB spill threshold would be refused by the 1 MB batch cap)
        logs = self.server.client_for(self.key, service="logs")
        logs.create_log_group(logGroupName="g")
        logs.create_log_stream(logGroupName="g", logStreamName="s")
        logs.put_log_events(logGroupName="g", logStreamName="s",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "m" * (900 * 1024)}])

    def test_unknown_route_answered_from_headers(self):
        # no route: the gate's UnknownOperationException needs no body either (as the full gate gives it)
        full = Upload(self.server.port, "/2015-03-31/nothing-here", {"Host": self.host}, 0, False)
        full.run()
        u = Upload(self.server.port, "/2015-03-31/nothing-here", {"Host": self.host}, 6 * MB, True)
        u.run()
        self.assertIsNotNone(full.response)
        self.assertIsNotNone(u.response)
        self.assertEqual(u.response[1].get("x-amzn-errortype"), "UnknownOperationException")
        self.assertEqual((u.response[0], json.loads(u.response[2])), (full.response[0], json.loads(full.response[2])))

    def test_chunked_unsigned_answered_from_headers(self):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        try:
            s.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                      % self.host.encode())
            r = read_response(s)
            self.assertIsNotNone(r)
            self.assertEqual((r[0], r[1].get("x-amzn-errortype")), (403, "MissingAuthenticationTokenException"))
        finally:
            s.close()



class TestSignedLargeBodies(EnforceBase):
    def test_signed_50mb_create_function_invokes_and_6mb_invoke(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr("app.py", "import os\n"
                                 "def handler(event, context):\n"
                                 "    return {'size': os.path.getsize('blob.bin'),\n"
                                 "            'payload': len(event.get('data', ''))}\n")
            z.writestr("blob.bin", os.urandom(50 * 1000 * 1000))
        data = buf.getvalue()
        self.assertGreater(len(data), 50 * 1000 * 1000)
        before = vm(self.pid)["VmRSS"]
        reset_peak(self.pid)
        name = self.name("big")
        self.la.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": data}, Timeout=30)
        self.assertEqual(self.la.get_function(FunctionName=name)["Configuration"]["CodeSize"], len(data))
        deadline = time.time() + 60
        while self.la.get_function(FunctionName=name)["Configuration"]["State"] == "Pending":
            self.assertLess(time.time(), deadline, "the function stayed Pending")
            time.sleep(0.2)
        out = self.la.invoke(FunctionName=name, Payload=b"{}")
        self.assertNotIn("FunctionError", out)
        self.assertEqual(json.loads(out["Payload"].read()), {"size": 50 * 1000 * 1000, "payload": 0})
        # a 6 MB payload, just under the limit: kept in a file by the front, handed to the function
        payload = json.dumps({"data": "x" * (6 * MB - 100)}).encode()
        self.assertLessEqual(len(payload), 6 * MB)
        out = self.la.invoke(FunctionName=name, Payload=payload)
        self.assertNotIn("FunctionError", out)
        self.assertEqual(json.loads(out["Payload"].read()), {"size": 50 * 1000 * 1000, "payload": 6 * MB - 100})
        print("\n  signed: RSS before %.1f MB, peak %.1f MB (after a 50 MB CreateFunction and a 6 MB Invoke)"
              % (before / MB, vm(self.pid)["VmHWM"] / MB))


class TestTinyBodyBudget(LambdadTestCase):
    """--max-body-memory 1: every body goes to a file, mapped for the handlers (NUL-terminated JSON
    for the gate, the zip for CreateFunction, an Invoke payload the handler takes)."""
    server_args = ["--max-body-memory", "1"]

    def test_every_body_from_a_file(self):
        name = self.name("tiny")
        self.create(name)
        self.assertEqual(self.final_state(name, deadline_s=30)["State"], "Active")
        out = self.lam.invoke(FunctionName=name, Payload=b'{"a": [1, 2]}')
        self.assertEqual(json.loads(out["Payload"].read()), {"a": [1, 2]})
        self.lam.tag_resource(Resource=self.lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"],
                              Tags={"k": "v"})
        self.assertEqual(self.lam.list_tags(Resource=self.lam.get_function(FunctionName=name)["Configuration"]
                                            ["FunctionArn"])["Tags"], {"k": "v"})
        # the gate reads the JSON from the mapped file and validates it as ever
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            self.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"1bad": "x"}})
        self.assertEqual(cm.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("environment.variables", cm.exception.response["Error"]["Message"])

    def test_flag_takes_a_positive_number(self):
        for bad in ("0", "-5", "x"):
            p = subprocess.run([BIN, "serve", "--max-body-memory", bad], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("--max-body-memory takes a positive number of bytes", p.stderr)



class TestOutOfDescriptors(unittest.TestCase):
    """Each body in a file holds a descriptor while its request lasts: with a low open-file limit,
    bodies that find none left are answered with AWS's throttle (429 "Rate Exceeded."), the others
    as usual, and the server goes on."""

    def test_bodies_past_the_open_file_limit_are_throttled(self):
        orig = subprocess.Popen
        subprocess.Popen = functools.partial(
            orig, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300)))
        try:
            # at this limit the server serves 150 connections; no body-rate cut while the test waits
            server = Server(extra_args=["--min-body-rate", "0"]).start()
        finally:
            subprocess.Popen = orig
        socks = []
        head = (b"POST /2015-03-31/functions/nothere/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Length: %d\r\n\r\n" % (2 * MB))
        try:
            rest = len(os.listdir("/proc/%d/fd" % server.proc.pid))
            n = min(148, (300 - rest) // 2 + 8)
            # n connections, each announcing a 2 MB body (to a file from its first byte), all accepted
            # before any body byte is sent ...
            for _ in range(n):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                s.sendall(head)
                socks.append(s)
            deadline = time.time() + 30
            # (rest may count the start-up probe's connection, closed since)
            while len(os.listdir("/proc/%d/fd" % server.proc.pid)) < rest + n - 2:
                self.assertLess(time.time(), deadline, "the server did not accept the connections")
                time.sleep(0.05)
            # ... then the first bytes of every body: the files open until descriptors run out
            for s in socks:
                s.sendall(b"x" * 65536)
            answers = []
            for s in socks:
                s.sendall(b"x" * (2 * MB - 65536))
                r = read_response(s, deadline_s=60)
                self.assertIsNotNone(r)
                answers.append((r[0], r[1].get("x-amzn-errortype")))
                if r[0] == 429:
                    doc = json.loads(r[2])
                    self.assertEqual((doc.get("message"), doc.get("Reason")), ("Rate Exceeded.", "CallerRateLimitExceeded"))
                s.close()
            throttled = [a for a in answers if a[0] == 429]
            print("\n  %d descriptors at rest, %d of %d bodies throttled" % (rest, len(throttled), len(answers)))
            self.assertTrue(throttled, answers)
            self.assertEqual(set(answers), {(429, "TooManyRequestsException"), (404, "ResourceNotFoundException")})
            self.assertIn("cannot keep a request body", server.log())
            # the descriptors are back: a body in a file works again
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            socks.append(s)
            s.sendall(head + b"x" * (2 * MB))
            r = read_response(s)
            self.assertEqual((r[0], r[1].get("x-amzn-errortype")), (404, "ResourceNotFoundException"))
        finally:
            for s in socks:
                s.close()
            self.assertEqual(server.stop(), 0)
            server.cleanup()

if __name__ == "__main__":
    unittest.main()
