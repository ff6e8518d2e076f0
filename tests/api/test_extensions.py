"""Extensions, the Telemetry API and the Logs API (issue 14), through the real clients.

An external extension is a layer with an executable in extensions/ (shown at /opt/extensions): a
python script that registers, subscribes to telemetry with a listener on sandbox.localdomain, and
reports every event and every telemetry batch to a collector the test runs on the loopback. The test
reads what it got: INVOKE for each invocation, platform.start / platform.runtimeDone /
platform.report and the function's own lines, and SHUTDOWN when the function is deleted. Extensions
that crash before registering, or report init/error, fail the invocation with AWS's error types.
A custom runtime acting as an internal extension checks the API's own answers (AWS's texts, from
the runtime interface emulator's handlers).
"""
import base64
import http.server
import io
import json
import subprocess
import threading
import time
import zipfile

from harness import BIN, ROLE, LambdadTestCase

EXTENSION = r'''#!/usr/bin/env python3
import json, os, sys, threading, time, urllib.request, http.server
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"]
COLLECT = os.environ["COLLECT_URL"]
NAME = os.path.basename(__file__)

def tell(kind, data):
    req = urllib.request.Request(COLLECT, data=json.dumps({"ext": NAME, "kind": kind, "data": data}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()

class Listener(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        tell("telemetry", json.loads(body))
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass

HOST = os.environ.get("EXT_LISTEN_HOST", "sandbox.localdomain")
srv = http.server.HTTPServer((HOST, 0), Listener)
threading.Thread(target=srv.serve_forever, daemon=True).start()

req = urllib.request.Request(API + "/2020-01-01/extension/register", method="POST",
                             data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": NAME, "Lambda-Extension-Accept-Feature": "accountId"})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
    tell("registered", {"body": json.loads(r.read()), "env": {k: v for k, v in os.environ.items()
                                                             if k in ("_HANDLER", "AWS_LAMBDA_FUNCTION_NAME",
                                                                      "LAMBDA_TASK_ROOT", "COLLECT_URL")}})
LOGS_API = os.environ.get("EXT_LOGS_API") == "1"
sub = {"schemaVersion": "2021-03-18" if LOGS_API else "2022-07-01", "types": ["platform", "function", "extension"],
       "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
       "destination": {"protocol": "HTTP", "URI": "http://%s:%d/telemetry" % (HOST, srv.server_port)}}
req = urllib.request.Request(API + ("/2020-08-15/logs" if LOGS_API else "/2022-07-01/telemetry"), method="PUT",
                             data=json.dumps(sub).encode(),
                             headers={"Lambda-Extension-Identifier": ext_id, "Content-Type": "application/json"})
with urllib.request.urlopen(req) as r:
    tell("subscribed", {"status": r.status, "body": r.read().decode()})
print("extension %s ready" % NAME, flush=True)
while True:
    req = urllib.request.Request(API + "/2020-01-01/extension/event/next",
                                 headers={"Lambda-Extension-Identifier": ext_id})
    with urllib.request.urlopen(req) as r:
        event = json.loads(r.read())
        event["_event_id"] = r.headers["Lambda-Extension-Event-Identifier"]
    tell("event", event)
    if event["eventType"] == "SHUTDOWN":
        sys.exit(0)
    if os.environ.get("EXT_DIE_ON_INVOKE") == "1":
        os._exit(9)
    time.sleep(int(os.environ.get("EXT_SLEEP_MS", "0")) / 1000.0)
'''

HANDLER = '''
def handler(event, context):
    print("hello from the function", event.get("n"))
    return {"n": event.get("n")}
'''


def zip_of(files):
    """A zip whose entries {name: (text, mode)} keep their modes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (text, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            z.writestr(info, text)
    return buf.getvalue()


class Collector:
    """An HTTP server on the loopback (or host, test_network's outside address) that keeps every JSON
    document POSTed to it."""

    def __init__(self, host="127.0.0.1"):
        self.docs = []
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.docs.append(doc)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer((host, 0), H)
        self.url = "http://%s:%d/" % (host, self.srv.server_port)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()

    def of(self, kind):
        with self.lock:
            return [d["data"] for d in self.docs if d["kind"] == kind]

    def telemetry(self):
        return [ev for batch in self.of("telemetry") for ev in batch]

    def wait(self, what, deadline_s=10.0):
        end = time.time() + deadline_s
        while time.time() < end:
            got = what()
            if got:
                return got
            time.sleep(0.02)
        return what()


class ExtensionTestCase(LambdadTestCase):
    def setUp(self):
        self.collector = Collector()

    def tearDown(self):
        self.collector.close()

    def layer(self, files):
        name = self.name("ext")
        v = self.lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_of(files)})
        return v["LayerVersionArn"]

    runtime = "python3.12"

    def function(self, layer_arn, handler=HANDLER, env=None, **kw):
        name = self.name()
        self.lam.create_function(FunctionName=name, Runtime=self.runtime, Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": zip_of({"app.py": (handler, 0o644)})}, Layers=[layer_arn],
                                 Environment={"Variables": dict(env or {}, COLLECT_URL=self.collector.url)}, **kw)
        self.settled(name)
        return name

    def shutdowns(self, deadline_s=10.0):
        return self.collector.wait(lambda: [e for e in self.collector.of("event") if e["eventType"] == "SHUTDOWN"],
                                   deadline_s)

    def logs(self, name):
        out = subprocess.run([BIN, "logs", name, "--data-dir", self.server.data_dir], capture_output=True,
                             text=True, timeout=30)
        return out.stdout

    def invoke(self, name, payload):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(payload), LogType="Tail")
        return r, r["Payload"].read(), base64.b64decode(r.get("LogResult", "")).decode()


class TestExternalExtension(ExtensionTestCase):
    def test_register_invoke_telemetry_shutdown(self):
        arn = self.layer({"extensions/collector": (EXTENSION, 0o755)})
        name = self.function(arn)
        ids = []
        for n in (1, 2):
            r, body, _ = self.invoke(name, {"n": n})
            self.assertNotIn("FunctionError", r, body)
            self.assertEqual(json.loads(body), {"n": n})
            ids.append(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"])
            # the invocation ends when the extension calls next again (its platform.report); an invoke
            # before that would find the environment busy and start another, as on AWS
            self.collector.wait(lambda: [e for e in self.collector.telemetry() if e["type"] == "platform.report"
                                         and e["record"]["requestId"] == ids[-1]])

        # registration: AWS's answer, and the environment without the runtime's own variables
        reg = self.collector.of("registered")
        self.assertEqual(len(reg), 1, reg)
        self.assertEqual(reg[0]["body"], {"functionName": name, "functionVersion": "$LATEST",
                                          "handler": "app.handler", "accountId": "000000000000"})
        self.assertEqual(reg[0]["env"], {"AWS_LAMBDA_FUNCTION_NAME": name, "COLLECT_URL": self.collector.url})
        self.assertEqual(self.collector.of("subscribed"), [{"status": 200, "body": '"OK"'}])

        # an INVOKE event per invocation, with AWS's members
        invokes = self.collector.wait(lambda: [e for e in self.collector.of("event") if e["eventType"] == "INVOKE"]
                                      if len(self.collector.of("event")) >= 2 else None)
        self.assertEqual([e["requestId"] for e in invokes], ids)
        for e in invokes:
            self.assertEqual(sorted(e), ["_event_id", "deadlineMs", "eventType", "invokedFunctionArn", "requestId",
                                         "tracing"])
            self.assertTrue(e["invokedFunctionArn"].endswith(":function:" + name))
            self.assertEqual(e["tracing"]["type"], "X-Amzn-Trace-Id")
            self.assertGreater(e["deadlineMs"], time.time() * 1000)

        # telemetry: the init's events, then per invocation start, the function's line, runtimeDone, report
        def complete():
            evs = self.collector.telemetry()
            reports = [e for e in evs if e["type"] == "platform.report"]
            return evs if len(reports) >= 2 else None
        evs = self.collector.wait(complete)
        self.assertTrue(evs, self.collector.docs)
        types = [e["type"] for e in evs]
        for t in ("platform.initStart", "platform.telemetrySubscription", "platform.extension",
                  "platform.initRuntimeDone", "platform.initReport"):
            self.assertIn(t, types)
        self.assertIn({"name": "collector", "state": "Subscribed", "types": ["platform", "function", "extension"]},
                      [e["record"] for e in evs if e["type"] == "platform.telemetrySubscription"])
        for n, rid in zip((1, 2), ids):
            mine = [e for e in evs if isinstance(e["record"], dict) and e["record"].get("requestId") == rid]
            self.assertEqual([e["type"] for e in mine], ["platform.start", "platform.runtimeDone", "platform.report"])
            self.assertEqual(mine[1]["record"]["status"], "success")
            metrics = mine[2]["record"]["metrics"]
            self.assertEqual(sorted(metrics), sorted(["durationMs", "billedDurationMs", "memorySizeMB",
                                                      "maxMemoryUsedMB"] + (["initDurationMs"] if n == 1 else [])))
            self.assertEqual(metrics["memorySizeMB"], 128)
            self.assertIn("hello from the function %d" % n, [e["record"] for e in evs if e["type"] == "function"])
        self.assertIn("extension collector ready", [e["record"] for e in evs if e["type"] == "extension"])
        for e in evs:
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        # deleting the function ends the environment: SHUTDOWN, with AWS's members
        self.lam.delete_function(FunctionName=name)
        shut = self.collector.wait(lambda: [e for e in self.collector.of("event") if e["eventType"] == "SHUTDOWN"])
        self.assertEqual(len(shut), 1, self.collector.of("event"))
        self.assertEqual(shut[0]["shutdownReason"], "spindown")
        self.assertEqual(sorted(shut[0]), ["_event_id", "deadlineMs", "eventType", "shutdownReason"])

        log = self.server.log()
        self.assertNotIn("AddressSanitizer", log)

    def test_logs_in_the_stream(self):
        arn = self.layer({"extensions/collector": (EXTENSION, 0o755)})
        name = self.function(arn)
        r, body, tail = self.invoke(name, {"n": 7})
        self.assertNotIn("FunctionError", r, body)
        self.collector.wait(lambda: [e for e in self.collector.telemetry() if e["type"] == "platform.report"])
        text = self.logs(name)
        self.assertIn("EXTENSION\tName: collector\tState: Ready\tEvents: [INVOKE,SHUTDOWN]", text)
        self.assertIn("TELEMETRY\tName: collector\tState: Subscribed\tTypes: [Platform, Function, Extension]", text)
        self.assertIn("extension collector ready", text)
        self.assertIn("hello from the function 7", tail)


class TestFailingExtensions(ExtensionTestCase):
    def assertFails(self, name, etype, message_re):
        r, body, tail = self.invoke(name, {"n": 1})
        self.assertEqual(r.get("FunctionError"), "Unhandled", body)
        doc = json.loads(body)
        self.assertEqual(doc["errorType"], etype, doc)
        self.assertRegex(doc["errorMessage"], message_re)
        return doc

    def test_exit_before_register(self):
        arn = self.layer({"extensions/quitter": ("#!/bin/sh\necho going away\nexit 3\n", 0o755)})
        name = self.function(arn)
        self.assertFails(name, "Extension.Crash", r"^RequestId: [0-9a-f-]{36} Error: exit status 3$")
        self.assertIn("Status: error\tError Type: Extension.Crash", self.logs(name))
        # the next invocation starts a new environment, which fails the same way
        self.assertFails(name, "Extension.Crash", r"exit status 3$")

    def test_init_error(self):
        script = r'''#!/usr/bin/env python3
import json, os, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2020-01-01/extension/"
req = urllib.request.Request(API + "register", method="POST", data=b'{"events":["INVOKE"]}',
                             headers={"Lambda-Extension-Name": "broken"})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
req = urllib.request.Request(API + "init/error", method="POST",
                             data=json.dumps({"errorMessage": "no API key", "errorType": "Extension.APIKeyNotFound"}).encode(),
                             headers={"Lambda-Extension-Identifier": ext_id,
                                      "Lambda-Extension-Function-Error-Type": "Extension.APIKeyNotFound"})
with urllib.request.urlopen(req) as r:
    assert r.status == 202 and json.loads(r.read()) == {"status": "OK"}
'''
        arn = self.layer({"extensions/broken": (script, 0o755)})
        name = self.function(arn)
        self.assertFails(name, "Extension.InitError", r"^RequestId: [0-9a-f-]{36} Error: ")

    def test_cannot_start(self):
        arn = self.layer({"extensions/nointerp": ("#!/no/such/interpreter\n", 0o755)})
        name = self.function(arn)
        self.assertFails(name, "Extension.LaunchError", r"Error: fork/exec /opt/extensions/nointerp: ")

    def test_too_many(self):
        files = {"extensions/e%02d" % i: ("#!/bin/sh\nsleep 30\n", 0o755) for i in range(11)}
        arn = self.layer(files)
        name = self.function(arn)
        self.assertFails(name, "Extension.LaunchError", r"Error: ErrTooManyExtensions$")


# A custom runtime that is its own internal extension: it registers, tries what AWS refuses, and
# answers each invocation with what the Extensions API told it.
INTERNAL = r'''#!/usr/bin/env python3
import json, os, urllib.request, urllib.error
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"]

def call(method, path, body=None, headers=None):
    req = urllib.request.Request(API + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()

seen = {}
seen["no_name"] = call("POST", "/2020-01-01/extension/register", b'{"events":[]}')
seen["shutdown"] = call("POST", "/2020-01-01/extension/register", b'{"events":["SHUTDOWN"]}',
                        {"Lambda-Extension-Name": "inner"})
seen["bad_event"] = call("POST", "/2020-01-01/extension/register", b'{"events":["BOOM"]}',
                         {"Lambda-Extension-Name": "inner"})
seen["keys"] = call("POST", "/2020-01-01/extension/register", b'{"configurationKeys":["a"]}',
                    {"Lambda-Extension-Name": "inner"})
seen["ok"] = call("POST", "/2020-01-01/extension/register", b'{"events":["INVOKE"]}', {"Lambda-Extension-Name": "inner"})
ext_id = seen["ok"][1]["Lambda-Extension-Identifier"]
seen["again"] = call("POST", "/2020-01-01/extension/register", b'{}', {"Lambda-Extension-Name": "inner"})
seen["no_id"] = call("GET", "/2020-01-01/extension/event/next")
seen["bad_id"] = call("GET", "/2020-01-01/extension/event/next", None, {"Lambda-Extension-Identifier": "nope"})
seen["unknown_id"] = call("GET", "/2020-01-01/extension/event/next", None,
                          {"Lambda-Extension-Identifier": "00000000-0000-4000-8000-000000000000"})
seen["no_type"] = call("POST", "/2020-01-01/extension/init/error", b'{}', {"Lambda-Extension-Identifier": ext_id})
seen["bad_sub"] = call("PUT", "/2022-07-01/telemetry", json.dumps({"schemaVersion": "2022-07-01", "types": ["platform"],
                       "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain/x"}}).encode(),
                       {"Lambda-Extension-Identifier": ext_id})
seen["big_buffer"] = call("PUT", "/2022-07-01/telemetry", json.dumps({"schemaVersion": "2022-07-01",
                          "types": ["platform"], "buffering": {"maxItems": 20000},
                          "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:9/"}}).encode(),
                          {"Lambda-Extension-Identifier": ext_id})
import threading
events = []
def extension():
    while True:
        s, h, b = call("GET", "/2020-01-01/extension/event/next", None, {"Lambda-Extension-Identifier": ext_id})
        if s != 200:
            return
        events.append(json.loads(b))
threading.Thread(target=extension, daemon=True).start()
import time
while True:
    s, h, b = call("GET", "/2018-06-01/runtime/invocation/next")
    rid = h["Lambda-Runtime-Aws-Request-Id"]
    time.sleep(0.05)
    seen["late"] = call("POST", "/2020-01-01/extension/register", b'{}', {"Lambda-Extension-Name": "late"})
    out = dict(seen, events=list(events))
    call("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, json.dumps(out).encode())
'''


class TestInternalExtension(ExtensionTestCase):
    def test_api_answers(self):
        name = self.name()
        self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Handler="x", Role=ROLE,
                                 Code={"ZipFile": zip_of({"bootstrap": (INTERNAL, 0o755)})})
        self.settled(name)
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        seen = json.loads(r["Payload"].read())

        def err(key):
            status, _, body = seen[key]
            return status, json.loads(body)
        self.assertEqual(err("no_name"), (403, {"errorMessage": "Empty extension name",
                                                "errorType": "Extension.InvalidExtensionName"}))
        self.assertEqual(err("shutdown"), (403, {"errorMessage": "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension",
                                                 "errorType": "Extension.InvalidEventType"}))
        self.assertEqual(err("bad_event"), (403, {"errorMessage": "BOOM: ErrorInvalidEventType",
                                                  "errorType": "Extension.InvalidEventType"}))
        self.assertEqual(err("keys"), (403, {"errorMessage": "configurationKeys are deprecated; use environment "
                                                             "variables instead", "errorType": "InvalidRequestFormat"}))
        status, headers, body = seen["ok"]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"functionName": name, "functionVersion": "$LATEST", "handler": "x"})
        self.assertRegex(headers["Lambda-Extension-Identifier"], r"^[0-9a-f-]{36}$")
        self.assertEqual(err("again"), (403, {"errorMessage": "Extension with this name already registered",
                                              "errorType": "Extension.InvalidExtensionState"}))
        self.assertEqual(err("no_id"), (403, {"errorMessage": "Missing Lambda-Extension-Identifier header",
                                              "errorType": "Extension.MissingExtensionIdentifier"}))
        self.assertEqual(err("bad_id"), (403, {"errorMessage": "Invalid Lambda-Extension-Identifier",
                                               "errorType": "Extension.InvalidExtensionIdentifier"}))
        self.assertEqual(err("unknown_id"), (403, {
            "errorMessage": "Unknown extension 00000000-0000-4000-8000-000000000000",
            "errorType": "Extension.UnknownExtensionIdentifier"}))
        self.assertEqual(err("no_type"), (403, {"errorMessage": "Lambda-Extension-Function-Error-Type not found",
                                                "errorType": "Extension.MissingHeader"}))
        self.assertEqual(err("bad_sub"), (400, {"errorMessage": "URI port is not provided",
                                                "errorType": "ValidationError"}))
        self.assertEqual(err("big_buffer")[0], 400)
        self.assertEqual(err("late"), (403, {"errorMessage": "Extension registration closed already",
                                             "errorType": "Extension.RegistrationClosed"}))
        # the internal extension got the invocation's INVOKE event
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        self.assertEqual([e["requestId"] for e in seen["events"]], [rid])


class TestShutdownReasons(ExtensionTestCase):
    """SHUTDOWN reaches extensions whenever an environment goes: reaped idle, reset after a timeout or a
    crash, retired by an update, and when lambdad stops."""

    server_args = ("--idle-timeout", "1")

    def test_idle_reap(self):
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}))
        self.invoke(name, {"n": 1})
        shut = self.shutdowns()
        self.assertEqual([e["shutdownReason"] for e in shut], ["spindown"])

    def test_timeout(self):
        handler = "import time\ndef handler(event, context):\n    time.sleep(5)\n"
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}), handler=handler, Timeout=1)
        r, body, _ = self.invoke(name, {"n": 1})
        self.assertEqual(json.loads(body)["errorType"], "Sandbox.Timedout")
        self.assertEqual([e["shutdownReason"] for e in self.shutdowns()], ["timeout"])

    def test_runtime_crash(self):
        handler = "import os\ndef handler(event, context):\n    os._exit(4)\n"
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}), handler=handler)
        r, body, _ = self.invoke(name, {"n": 1})
        doc = json.loads(body)
        self.assertEqual(doc["errorType"], "Runtime.ExitError", doc)
        self.assertEqual([e["shutdownReason"] for e in self.shutdowns()], ["failure"])

    def test_update_retires(self):
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}))
        self.invoke(name, {"n": 1})
        self.lam.update_function_configuration(FunctionName=name, MemorySize=256)
        self.assertEqual([e["shutdownReason"] for e in self.shutdowns()], ["spindown"])
        self.settled(name)
        r, body, _ = self.invoke(name, {"n": 2})
        self.assertEqual(json.loads(body), {"n": 2})

    def test_extension_dies_during_invoke(self):
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}),
                             env={"EXT_DIE_ON_INVOKE": "1"})
        self.invoke(name, {"n": 1})  # whichever comes first: the response, or the crash (Extension.Crash)
        # the environment was reset: the next invocation gets a new one, whose extension registers again
        r, body, _ = self.invoke(name, {"n": 2})
        self.assertIn(r.get("FunctionError"), (None, "Unhandled"))
        self.assertGreaterEqual(len(self.collector.wait(lambda: self.collector.of("registered")
                                                        if len(self.collector.of("registered")) >= 2 else None)), 2)

    def test_slow_extension_is_billed(self):
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}), env={"EXT_SLEEP_MS": "300"})
        for n in (1, 2):
            r, body, _ = self.invoke(name, {"n": n})
            self.assertEqual(json.loads(body), {"n": n})
            rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
            self.collector.wait(lambda: [e for e in self.collector.telemetry() if e["type"] == "platform.report"
                                         and e["record"]["requestId"] == rid])
        # the invocation ends when the extension calls next again: REPORT's duration covers its 300 ms,
        # while the runtime's part (platform.runtimeDone) does not
        reports = self.collector.wait(lambda: [e for e in self.collector.telemetry() if e["type"] == "platform.report"]
                                      if len([e for e in self.collector.telemetry()
                                              if e["type"] == "platform.report"]) >= 2 else None)
        done = [e for e in self.collector.telemetry() if e["type"] == "platform.runtimeDone"]
        self.assertGreaterEqual(reports[0]["record"]["metrics"]["durationMs"], 300)
        self.assertLess(done[0]["record"]["metrics"]["durationMs"], 300)

    def test_stop_sends_shutdown(self):
        from harness import Server
        server = Server(extra_args=("--idle-timeout", "60")).start()
        try:
            lam = server.client()
            layer = lam.publish_layer_version(LayerName="stopext", Content={"ZipFile": zip_of(
                {"extensions/collector": (EXTENSION, 0o755)})})["LayerVersionArn"]
            lam.create_function(FunctionName="stopfn", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": zip_of({"app.py": (HANDLER, 0o644)})}, Layers=[layer],
                                Environment={"Variables": {"COLLECT_URL": self.collector.url}})
            end = time.time() + 10
            while lam.get_function_configuration(FunctionName="stopfn")["State"] != "Active" and time.time() < end:
                time.sleep(0.02)
            lam.invoke(FunctionName="stopfn", Payload=b'{"n": 1}')
            self.assertEqual(server.stop(), 0, server.log())
        finally:
            server.cleanup()
        self.assertEqual([e["shutdownReason"] for e in self.shutdowns(deadline_s=1)], ["spindown"])


class TestLogsApi(ExtensionTestCase):
    def test_logs_api_subscriber(self):
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}), env={"EXT_LOGS_API": "1"})
        r, body, _ = self.invoke(name, {"n": 5})
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        evs = self.collector.wait(lambda: [e for e in self.collector.telemetry() if e["type"] == "platform.report"]
                                  and self.collector.telemetry())
        types = [e["type"] for e in evs]
        self.assertIn("platform.logsSubscription", types)
        self.assertNotIn("platform.initStart", types)  # the Logs API has no init events
        self.assertNotIn("platform.telemetrySubscription", types)
        mine = [e["type"] for e in evs if isinstance(e["record"], dict) and e["record"].get("requestId") == rid]
        self.assertEqual(mine, ["platform.start", "platform.runtimeDone", "platform.end", "platform.report"])
        self.assertIn("hello from the function 5", [e["record"] for e in evs if e["type"] == "function"])
        self.assertIn("LOGS\tName: collector\tState: Subscribed\tTypes: [platform,function,extension]",
                      self.logs(name))


class TestProcessLevel(ExtensionTestCase):
    """At the process level (no namespaces: init is not pid 1, and the host's /etc/hosts does not name
    sandbox.localdomain, so the listener binds 127.0.0.1) extensions work the same way."""

    server_args = ("--sandbox", "process")
    runtime = "python3.11"  # Debian's /usr/bin/python3.11: pyenv's trees under /root are closed to a dropped uid

    def test_extension_at_process_level(self):
        name = self.function(self.layer({"extensions/collector": (EXTENSION, 0o755)}),
                             env={"EXT_LISTEN_HOST": "127.0.0.1"})
        r, body, _ = self.invoke(name, {"n": 3})
        self.assertEqual(json.loads(body), {"n": 3})
        rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
        evs = self.collector.wait(lambda: [e for e in self.collector.telemetry() if e["type"] == "platform.report"
                                           and e["record"]["requestId"] == rid] and self.collector.telemetry())
        self.assertIn("hello from the function 3", [e["record"] for e in evs if e["type"] == "function"])
        self.lam.delete_function(FunctionName=name)
        self.assertEqual([e["shutdownReason"] for e in self.shutdowns()], ["spindown"])
        self.assertEqual(self.collector.of("registered")[0]["env"]["AWS_LAMBDA_FUNCTION_NAME"], name)
