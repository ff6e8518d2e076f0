"""Response streaming end to end: InvokeWithResponseStream (event-stream framing read by boto3's
parser) and function URLs in RESPONSE_STREAM mode, with a nodejs function that streams through
awslambda.streamifyResponse / HttpResponseStream.from. The timing tests prove the streaming is
real: the first chunk reaches the client while the function is still sleeping."""
import http.client
import json
import time
import unittest

from harness import LambdadTestCase, ROLE, make_zip

NODE = make_zip({"index.js": r'''
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.slow = awslambda.streamifyResponse(async (event, stream, context) => {
  stream.write("first;");
  await sleep(1000);
  stream.write("second;");
  stream.end();
});
exports.http = awslambda.streamifyResponse(async (event, stream, context) => {
  stream = awslambda.HttpResponseStream.from(stream, {
    statusCode: 201, headers: {"content-type": "text/plain", "x-streamed": "yes"}, cookies: ["a=1", "b=2"]});
  stream.write("hello ");
  await sleep(300);
  stream.write("world");
  stream.end();
});
exports.boom = awslambda.streamifyResponse(async (event, stream, context) => {
  stream.write("partial;");
  await sleep(50);
  throw new TypeError("mid-stream failure");
});
exports.early = awslambda.streamifyResponse(async (event, stream, context) => {
  throw new Error("before any byte");
});
exports.big = awslambda.streamifyResponse(async (event, stream, context) => {
  const mb = Buffer.alloc(1024 * 1024, 120);
  for (let i = 0; i < event.mb; i++) {
    if (!stream.write(mb)) await new Promise((r) => stream.once("drain", r));
  }
  stream.end();
});
exports.nothing = awslambda.streamifyResponse(async (event, stream, context) => {
  stream.end();
});
'''})

PY = make_zip({"app.py": "def handler(event, context):\n    return {'echo': event}\n"
                         "def fail(event, context):\n    raise ValueError('nope')\n"})


def events(resp):
    """(chunks, complete) from boto3's EventStream."""
    chunks, complete = [], None
    for ev in resp["EventStream"]:
        if "PayloadChunk" in ev:
            chunks.append(ev["PayloadChunk"]["Payload"])
        elif "InvokeComplete" in ev:
            complete = ev["InvokeComplete"]
    return chunks, complete


class TestStreaming(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = {}
        for h in ("slow", "http", "boom", "early", "big", "nothing"):
            name = "stream-%s-%d" % (h, id(cls))
            cls.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Handler="index." + h, Role=ROLE,
                                    Code={"ZipFile": NODE}, Timeout=30, MemorySize=512)
            cls.node[h] = name
        cls.py = "stream-py-%d" % id(cls)
        cls.lam.create_function(FunctionName=cls.py, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": PY})
        cls.pyfail = "stream-pyfail-%d" % id(cls)
        cls.lam.create_function(FunctionName=cls.pyfail, Runtime="python3.12", Handler="app.fail", Role=ROLE,
                                Code={"ZipFile": PY})
        waiter = cls.lam.get_waiter("function_active_v2")
        for name in list(cls.node.values()) + [cls.py, cls.pyfail]:
            waiter.wait(FunctionName=name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 400})

    # ---- InvokeWithResponseStream ----

    def test_first_chunk_before_the_function_finishes(self):
        self.lam.invoke_with_response_stream(FunctionName=self.node["slow"])  # warm up (cold start)
        t0 = time.monotonic()
        resp = self.lam.invoke_with_response_stream(FunctionName=self.node["slow"], Payload=b"{}")
        self.assertEqual(resp["StatusCode"], 200)
        self.assertEqual(resp["ExecutedVersion"], "$LATEST")
        self.assertEqual(resp["ResponseMetadata"]["HTTPHeaders"]["content-type"],
                         "application/vnd.amazon.eventstream")
        stamps, chunks, complete = [], [], None
        for ev in resp["EventStream"]:
            stamps.append(time.monotonic() - t0)
            if "PayloadChunk" in ev:
                chunks.append(ev["PayloadChunk"]["Payload"])
            elif "InvokeComplete" in ev:
                complete = ev["InvokeComplete"]
        self.assertEqual(b"".join(chunks), b"first;second;")
        self.assertEqual(chunks[0], b"first;")
        self.assertEqual(complete, {})
        # the first chunk arrived well before the function's 1 s sleep ended
        self.assertLess(stamps[0], 0.6, stamps)
        self.assertGreater(stamps[-1], 0.9, stamps)
        print("\n  InvokeWithResponseStream first chunk after %.1f ms, done after %.1f ms"
              % (stamps[0] * 1000, stamps[-1] * 1000))

    def test_buffered_python_function(self):
        resp = self.lam.invoke_with_response_stream(FunctionName=self.py, Payload=b'{"a":1}')
        chunks, complete = events(resp)
        self.assertEqual(len(chunks), 1)
        self.assertEqual(json.loads(chunks[0]), {"echo": {"a": 1}})
        self.assertEqual(complete, {})

    def test_buffered_function_error(self):
        resp = self.lam.invoke_with_response_stream(FunctionName=self.pyfail)
        chunks, complete = events(resp)
        self.assertEqual(chunks, [])
        self.assertEqual(complete["ErrorCode"], "ValueError")
        self.assertEqual(json.loads(complete["ErrorDetails"])["errorMessage"], "nope")

    def test_log_tail(self):
        resp = self.lam.invoke_with_response_stream(FunctionName=self.py, LogType="Tail")
        _, complete = events(resp)
        import base64
        self.assertIn("REPORT RequestId", base64.b64decode(complete["LogResult"]).decode())

    def test_mid_stream_error(self):
        resp = self.lam.invoke_with_response_stream(FunctionName=self.node["boom"])
        chunks, complete = events(resp)
        self.assertEqual(b"".join(chunks), b"partial;")
        self.assertEqual(complete["ErrorCode"], "TypeError")
        details = json.loads(complete["ErrorDetails"])
        self.assertEqual(details["errorMessage"], "mid-stream failure")

    def test_error_before_any_byte(self):
        resp = self.lam.invoke_with_response_stream(FunctionName=self.node["early"])
        chunks, complete = events(resp)
        self.assertEqual(chunks, [])
        self.assertEqual(complete["ErrorCode"], "Error")

    def test_empty_stream(self):
        chunks, complete = events(self.lam.invoke_with_response_stream(FunctionName=self.node["nothing"]))
        self.assertEqual(b"".join(chunks), b"")
        self.assertEqual(complete, {})

    def test_large_stream_and_limit(self):
        chunks, complete = events(self.lam.invoke_with_response_stream(
            FunctionName=self.node["big"], Payload=json.dumps({"mb": 8})))
        self.assertEqual(sum(len(c) for c in chunks), 8 * 1024 * 1024)
        self.assertEqual(complete, {})
        # past 20 MB: truncated, Function.ResponseSizeTooLarge
        chunks, complete = events(self.lam.invoke_with_response_stream(
            FunctionName=self.node["big"], Payload=json.dumps({"mb": 21})))
        self.assertLessEqual(sum(len(c) for c in chunks), 20 * 1024 * 1024)
        self.assertEqual(complete["ErrorCode"], "Function.ResponseSizeTooLarge")

    def test_errors_and_dry_run(self):
        self.assertError("ResourceNotFoundException", self.lam.invoke_with_response_stream,
                         FunctionName="no-such-function", status=404)
        resp = self.lam.invoke_with_response_stream(FunctionName=self.py, InvocationType="DryRun")
        self.assertEqual(resp["StatusCode"], 204)

    def test_plain_invoke_of_streaming_function_is_buffered(self):
        resp = self.lam.invoke(FunctionName=self.node["slow"])
        self.assertEqual(resp["Payload"].read(), b"first;second;")
        self.assertNotIn("FunctionError", resp)

    # ---- function URLs ----

    def url_for(self, fn):
        try:
            cfg = self.lam.create_function_url_config(FunctionName=fn, AuthType="NONE", InvokeMode="RESPONSE_STREAM")
            self.lam.add_permission(FunctionName=fn, StatementId="url", Action="lambda:InvokeFunctionUrl",
                                    Principal="*", FunctionUrlAuthType="NONE")
        except self.lam.exceptions.ResourceConflictException:
            cfg = self.lam.get_function_url_config(FunctionName=fn)
        return cfg["FunctionUrl"].split("//")[1].rstrip("/")

    def open_url(self, fn, path="/"):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        c.request("GET", path, headers={"Host": self.url_for(fn)})
        return c, c.getresponse()

    def test_url_first_chunk_before_the_function_finishes(self):
        c, r = self.open_url(self.node["slow"])  # warm up
        r.read()
        c.close()
        t0 = time.monotonic()
        c, r = self.open_url(self.node["slow"])
        try:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
            first = r.read1(100)
            t_first = time.monotonic() - t0
            rest = r.read()
            t_all = time.monotonic() - t0
        finally:
            c.close()
        self.assertEqual(first, b"first;")
        self.assertEqual(rest, b"second;")
        self.assertLess(t_first, 0.6)
        self.assertGreater(t_all, 0.9)
        print("\n  function URL first chunk after %.1f ms, done after %.1f ms" % (t_first * 1000, t_all * 1000))

    def test_url_http_response_stream_prelude(self):
        c, r = self.open_url(self.node["http"])
        try:
            self.assertEqual(r.status, 201)
            self.assertEqual(r.getheader("Content-Type"), "text/plain")
            self.assertEqual(r.getheader("x-streamed"), "yes")
            self.assertEqual(sorted(v for k, v in r.getheaders() if k.lower() == "set-cookie"), ["a=1", "b=2"])
            self.assertEqual(r.read(), b"hello world")
        finally:
            c.close()

    def test_url_errors(self):
        c, r = self.open_url(self.node["early"])
        try:
            self.assertEqual(r.status, 502)
            self.assertEqual(json.loads(r.read()), {"Message": "Internal Server Error"})
        finally:
            c.close()
        # a mid-stream error: the status is gone already; the body ends where the function stopped
        c, r = self.open_url(self.node["boom"])
        try:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), b"partial;")
        finally:
            c.close()

    def test_url_buffered_function_in_stream_mode(self):
        c, r = self.open_url(self.py, "/x?q=1")
        try:
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())["echo"]["rawPath"], "/x")
        finally:
            c.close()

    def test_client_goes_away_mid_stream(self):
        c, r = self.open_url(self.node["slow"])
        self.assertEqual(r.read1(100), b"first;")
        r.close()
        c.close()
        time.sleep(1.2)
        # the server is fine and the function still answers
        c, r = self.open_url(self.node["slow"])
        try:
            self.assertEqual(r.read(), b"first;second;")
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
