"""Invoke through boto3 and the AWS CLI: status codes and bodies, qualifiers,
weighted aliases, client context, payload limits, LogType Tail, the
environment variables a function sees, warm reuse, concurrency and retirement.

Expected strings are AWS's (shared/reference/aws-recordings/test_lambda*.json,
shared/spec/EXECUTION-PROTOCOLS.md sections 1, 3 and 4).
"""
import base64
import io
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import zipfile

from harness import ACCOUNT, BIN, REGION, ROLE, LambdadTestCase, make_zip

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
START_RE = re.compile(r"^START RequestId: (%s) Version: (\S+)$" % UUID)
END_RE = re.compile(r"^END RequestId: (%s)$" % UUID)
REPORT_RE = re.compile(r"^REPORT RequestId: (%s)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                       r"Memory Size: (\d+) MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?"
                       r"(Status: \w+\t(Error Type: [\w.]+\t)?)?$" % UUID)

def _cli_major():
    try:
        out = subprocess.run(["aws", "--version"], capture_output=True, text=True, timeout=30)
        return int(re.match(r"aws-cli/(\d+)", out.stdout + out.stderr).group(1))
    except (OSError, AttributeError, subprocess.SubprocessError):
        return 1


# AWS CLI v2 base64-decodes blobs unless told otherwise; v1 takes --payload raw
BINARY_FORMAT = ("--cli-binary-format", "raw-in-base64-out") if _cli_major() >= 2 else ()

ECHO = "import json\ndef handler(event, context):\n    return event\n"

# module state, the environment's identity and its variables
INTROSPECT = """\
import os, uuid
ENV_ID = str(uuid.uuid4())
count = 0
def handler(event, context):
    global count
    count += 1
    if event.get("sleep"):
        import time
        time.sleep(event["sleep"])
    return {"env_id": ENV_ID, "count": count, "environ": dict(os.environ),
            "stream": context.log_stream_name, "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn, "version": context.function_version,
            "memory": context.memory_limit_in_mb}
"""


def exec_zip(files):
    """A zip whose entries {name: (text or bytes, mode)} keep their unix mode."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


class InvokeCase(LambdadTestCase):
    """Helpers shared by test_invoke, test_runtimes and test_failures."""

    def wait_ready(self, name, qualifier=None, deadline_s=10.0):
        end = time.time() + deadline_s
        kw = {"Qualifier": qualifier} if qualifier else {}
        while True:
            c = self.lam.get_function_configuration(FunctionName=name, **kw)
            if c["State"] == "Active" and c.get("LastUpdateStatus") in (None, "Successful"):
                return c
            if time.time() > end:
                self.fail("function %s did not become ready: %s" % (name, c))
            time.sleep(0.02)

    def function(self, files=None, zip_bytes=None, runtime="python3.12", handler="app.handler", **kw):
        """Creates a function from {name: text} (or a zip) and waits until it is Active."""
        name = self.name("inv")
        code = zip_bytes if zip_bytes is not None else make_zip(files or {"app.py": ECHO})
        self.lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
                                 Code={"ZipFile": code}, **kw)
        self.wait_ready(name)
        return name

    def invoke(self, name, payload=b"{}", **kw):
        """Invokes; returns (response, payload bytes)."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
        resp = self.lam.invoke(FunctionName=name, Payload=payload, **kw)
        return resp, resp["Payload"].read()

    def invoke_json(self, name, payload=b"{}", **kw):
        resp, body = self.invoke(name, payload, **kw)
        self.assertEqual(resp["StatusCode"], 200)
        self.assertNotIn("FunctionError", resp, body)
        return json.loads(body)

    def invoke_error(self, name, payload=b"{}", **kw):
        """Invokes a function that fails; returns (error document, response)."""
        resp, body = self.invoke(name, payload, **kw)
        self.assertEqual(resp["StatusCode"], 200)
        self.assertEqual(resp.get("FunctionError"), "Unhandled", body)
        return json.loads(body), resp

    @staticmethod
    def tail(resp):
        return base64.b64decode(resp["LogResult"]).decode()

    def assert_platform_lines(self, log, request_id=None, version="$LATEST", memory=128, init=None,
                              status=None, error_type=None):
        """START / END / REPORT exactly as AWS prints them; returns the lines between."""
        lines = log.split("\n")
        self.assertEqual(lines[-1], "", "the log ends with a newline")
        lines = lines[:-1]
        starts = [i for i, l in enumerate(lines) if l.startswith("START ")]
        self.assertEqual(len(starts), 1, log)
        m = START_RE.match(lines[starts[0]])
        self.assertTrue(m, lines[starts[0]])
        rid = m.group(1)
        self.assertEqual(m.group(2), version)
        if request_id:
            self.assertEqual(rid, request_id)
        self.assertRegex(lines[-2], END_RE)
        self.assertEqual(lines[-2], "END RequestId: %s" % rid)
        m = REPORT_RE.match(lines[-1])
        self.assertTrue(m, repr(lines[-1]))
        self.assertEqual(m.group(1), rid)
        self.assertEqual(int(m.group(2)), memory)
        if init is not None:
            self.assertEqual(bool(m.group(3)), init, lines[-1])
        if status is not None:
            self.assertIn("\tStatus: %s\t" % status, lines[-1])
        if error_type is not None:
            self.assertTrue(lines[-1].endswith("\tError Type: %s\t" % error_type), lines[-1])
        return lines[starts[0] + 1:-2]

    def assert_healthy(self):
        """lambdad still answers the control plane and runs other functions."""
        name = self.function()
        self.assertEqual(self.invoke_json(name, {"ok": 1}), {"ok": 1})


class TestInvocationTypes(InvokeCase):
    def test_request_response(self):
        name = self.function()
        resp, body = self.invoke(name, b'{"x": 1, "s": "\\u00e9"}')
        self.assertEqual(resp["StatusCode"], 200)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(resp["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", resp)
        self.assertNotIn("LogResult", resp)
        self.assertEqual(json.loads(body), {"x": 1, "s": "\u00e9"})
        self.assertEqual(resp["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/json")

    def test_empty_payload_is_an_empty_object(self):
        name = self.function()
        resp = self.lam.invoke(FunctionName=name)
        self.assertEqual(json.loads(resp["Payload"].read()), {})

    def test_none_result_is_null(self):
        name = self.function({"app.py": "def handler(e, c):\n    return None\n"})
        resp, body = self.invoke(name)
        self.assertEqual(body, b"null")

    def test_event_answers_202_and_runs(self):
        name = self.function({"app.py": "def handler(e, c):\n    print('ran', e['tag'])\n"})
        resp, body = self.invoke(name, {"tag": "evt-123"}, InvocationType="Event")
        self.assertEqual(resp["StatusCode"], 202)
        self.assertEqual(body, b"")
        self.assertNotIn("ExecutedVersion", resp)
        # it ran in the background: its output reached the function's log
        end = time.time() + 10
        while time.time() < end:
            p = subprocess.run([BIN, "logs", name, "--data-dir", self.server.data_dir], capture_output=True,
                               text=True, timeout=30)
            text = p.stdout
            if "ran evt-123" in text and "REPORT RequestId" in text:
                break
            time.sleep(0.05)
        self.assertIn("ran evt-123", text)

    def test_dry_run_answers_204(self):
        name = self.function()
        resp, body = self.invoke(name, InvocationType="DryRun")
        self.assertEqual(resp["StatusCode"], 204)
        self.assertEqual(body, b"")

    def test_not_found(self):
        err = self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName="doesnotexist",
                               Payload=b"{}", status=404)
        # an unqualified Invoke names $LATEST (test_invoke_exceptions, 2025 recording)
        self.assertEqual(err["Error"]["Message"],
                         "Function not found: arn:aws:lambda:%s:%s:function:doesnotexist:$LATEST" % (REGION, ACCOUNT))

    def test_invalid_json_payload(self):
        name = self.function()
        err = self.assertError("InvalidRequestContentException", self.lam.invoke, FunctionName=name,
                               Payload=b'{"x":', status=400)
        self.assertTrue(err["Error"]["Message"].startswith(
            "Could not parse request body into json: Could not parse payload into json: "), err)

    def test_request_too_large(self):
        name = self.function()
        big = b'"' + b"x" * (6 * 1024 * 1024) + b'"'
        self.assertError("RequestEntityTooLargeException", self.lam.invoke, FunctionName=name, Payload=big,
                         status=413,
                         message="Request must be smaller than 6291456 bytes for the InvokeFunction operation")

    def test_large_request_within_limit(self):
        name = self.function({"app.py": "def handler(e, c):\n    return len(e)\n"})
        payload = b'"' + b"x" * (6 * 1024 * 1024 - 100) + b'"'
        self.assertEqual(self.invoke_json(name, payload), 6 * 1024 * 1024 - 100)

    def test_response_too_large(self):
        name = self.function({"app.py": "def handler(e, c):\n    return 'x' * (6 * 1024 * 1024 + 200)\n"})
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc, {"errorMessage": "Response payload size exceeded maximum allowed payload size "
                                               "(6291556 bytes).",
                               "errorType": "Function.ResponseSizeTooLarge"})
        # and again (the environment survives or is replaced)
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Function.ResponseSizeTooLarge")

    def test_large_response_within_limit(self):
        name = self.function({"app.py": "def handler(e, c):\n    return 'x' * (6 * 1024 * 1024 - 100)\n"})
        resp, body = self.invoke(name)
        self.assertNotIn("FunctionError", resp)
        self.assertEqual(len(body), 6 * 1024 * 1024 - 98)

    def test_unusable_runtime(self):
        """A runtime this host cannot run: the function settles Failed (test_unrunnable.py) and Invoke
        answers as AWS does for a function that is not Active."""
        name = self.name("java")
        self.lam.create_function(FunctionName=name, Runtime="java21", Handler="example.Handler::handleRequest",
                                 Role=ROLE, Code={"ZipFile": make_zip({"x.txt": "x"})})
        self.lam.get_waiter("function_exists").wait(FunctionName=name)
        end = time.time() + 10
        while self.lam.get_function_configuration(FunctionName=name)["State"] == "Pending" and time.time() < end:
            time.sleep(0.02)
        err = self.assertError("ResourceConflictException", self.lam.invoke, FunctionName=name, Payload=b"{}",
                               status=409)
        self.assertEqual(err["Error"]["Message"], "The operation cannot be performed at this time. The function is "
                         "currently in the following state: Failed")


class TestQualifiers(InvokeCase):
    def two_versions(self):
        """v1 returns "one", v2 returns "two", $LATEST returns "latest"."""
        name = self.function({"app.py": "def handler(e, c):\n    return 'one'\n"})
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "1")
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip(
            {"app.py": "def handler(e, c):\n    return 'two'\n"}))
        self.wait_ready(name)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "2")
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip(
            {"app.py": "def handler(e, c):\n    return 'latest'\n"}))
        self.wait_ready(name)
        return name

    def test_versions_and_executed_version(self):
        name = self.two_versions()
        for qual, want, ver in ((None, "latest", "$LATEST"), ("$LATEST", "latest", "$LATEST"), ("1", "one", "1"),
                                ("2", "two", "2")):
            kw = {"Qualifier": qual} if qual else {}
            resp, body = self.invoke(name, **kw)
            self.assertEqual(json.loads(body), want, qual)
            self.assertEqual(resp["ExecutedVersion"], ver)
            self.assertEqual(resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"], ver)

    def test_alias_and_arn_forms(self):
        name = self.two_versions()
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        resp, body = self.invoke(name, Qualifier="live")
        self.assertEqual((json.loads(body), resp["ExecutedVersion"]), ("one", "1"))
        arn = "arn:aws:lambda:%s:%s:function:%s:live" % (REGION, ACCOUNT, name)
        resp, body = self.invoke(arn)
        self.assertEqual((json.loads(body), resp["ExecutedVersion"]), ("one", "1"))
        resp, body = self.invoke("%s:2" % name)
        self.assertEqual((json.loads(body), resp["ExecutedVersion"]), ("two", "2"))

    def test_invoked_arn_and_version_in_context(self):
        name = self.function({"app.py": INTROSPECT})
        self.lam.publish_version(FunctionName=name)
        self.lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
        out = self.invoke_json(name, Qualifier="prod")
        self.assertEqual(out["arn"], "arn:aws:lambda:%s:%s:function:%s:prod" % (REGION, ACCOUNT, name))
        self.assertEqual(out["version"], "1")
        self.assertRegex(out["stream"], r"^\d{4}/\d\d/\d\d/\[1\][0-9a-f]{32}$")
        out = self.invoke_json(name)
        self.assertEqual(out["arn"], "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name))
        self.assertEqual(out["version"], "$LATEST")

    def test_unknown_qualifier(self):
        name = self.function()
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=name, Qualifier="7",
                         Payload=b"{}", status=404)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName=name, Qualifier="nope",
                         Payload=b"{}", status=404)

    def test_weighted_alias_routing(self):
        name = self.two_versions()
        self.lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
        counts = {"1": 0, "2": 0}
        n = 120
        for _ in range(n):
            resp, body = self.invoke(name, Qualifier="canary")
            ver = resp["ExecutedVersion"]
            self.assertEqual(json.loads(body), {"1": "one", "2": "two"}[ver])
            counts[ver] += 1
        # Binomial(120, 0.3): mean 36, sd 5; [12, 62] is beyond 4.8 sd on both sides
        self.assertTrue(12 <= counts["2"] <= 62, counts)
        self.lam.update_alias(FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}})
        for _ in range(10):
            self.assertEqual(self.invoke(name, Qualifier="canary")[0]["ExecutedVersion"], "1")


class TestClientContextAndTail(InvokeCase):
    def test_client_context_reaches_the_handler(self):
        code = ("def handler(e, c):\n    cc = c.client_context\n"
                "    return {'custom': cc.custom, 'env': cc.env, 'client': None if cc.client is None else "
                "cc.client.app_title}\n")
        name = self.function({"app.py": code})
        ctx = {"custom": {"foo": "bar", "n": 1}, "env": {"platform": "test"},
               "client": {"installation_id": "i", "app_title": "T", "app_version_name": "1",
                          "app_version_code": "1", "app_package_name": "p"}}
        out = self.invoke_json(name, ClientContext=base64.b64encode(json.dumps(ctx).encode()).decode())
        self.assertEqual(out, {"custom": {"foo": "bar", "n": 1}, "env": {"platform": "test"}, "client": "T"})

    def test_no_client_context(self):
        name = self.function({"app.py": "def handler(e, c):\n    return c.client_context is None\n"})
        self.assertIs(self.invoke_json(name), True)

    def test_log_tail_lines(self):
        name = self.function({"app.py": "def handler(e, c):\n    print('hello from', c.aws_request_id)\n"
                                        "    return 1\n"})
        resp, body = self.invoke(name, LogType="Tail")
        log = self.tail(resp)
        inner = self.assert_platform_lines(log, init=True, status=None)
        self.assertNotIn("Status:", log)
        rid = START_RE.match(log.split("\n")[0]).group(1)
        self.assertEqual(inner, ["hello from %s" % rid])
        self.assertEqual(resp["ResponseMetadata"]["RequestId"], rid)
        # warm: no Init Duration
        resp, body = self.invoke(name, LogType="Tail")
        self.assert_platform_lines(self.tail(resp), init=False)

    def test_log_tail_is_the_last_4kb(self):
        name = self.function({"app.py": "def handler(e, c):\n    for i in range(200):\n"
                                        "        print('line %03d' % i + '.' * 60)\n"})
        resp, body = self.invoke(name, LogType="Tail")
        raw = base64.b64decode(resp["LogResult"])
        self.assertEqual(len(raw), 4096)
        self.assertTrue(raw.decode().endswith("\t\n"))
        self.assertIn("line 199", raw.decode())

    def test_cli_invoke_with_tail(self):
        name = self.function({"app.py": "def handler(e, c):\n    print('got', e['x'])\n    return {'y': e['x'] + 1}\n"})
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.json")
            res = self.server.cli("invoke", "--function-name", name, "--payload", '{"x":1}',
                                  *BINARY_FORMAT, "--log-type", "Tail", out)
            with open(out) as f:
                self.assertEqual(json.load(f), {"y": 2})
        self.assertEqual(res["StatusCode"], 200)
        self.assertEqual(res["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", res)
        inner = self.assert_platform_lines(base64.b64decode(res["LogResult"]).decode(), init=True)
        self.assertEqual(inner, ["got 1"])

    def test_cli_invoke_function_error(self):
        name = self.function({"app.py": "def handler(e, c):\n    raise ValueError('bad')\n"})
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.json")
            res = self.server.cli("invoke", "--function-name", name, "--payload", '{}', *BINARY_FORMAT, out)
            with open(out) as f:
                doc = json.load(f)
        self.assertEqual(res["FunctionError"], "Unhandled")
        self.assertEqual((doc["errorType"], doc["errorMessage"]), ("ValueError", "bad"))


class TestEnvironment(InvokeCase):
    def test_variables_exact(self):
        name = self.function({"app.py": INTROSPECT}, MemorySize=256,
                             Environment={"Variables": {"FOO": "bar", "EMPTY": "", "LANG": "C.UTF-8",
                                                        "MULTI": "a=b=c"}})
        out = self.invoke_json(name)
        env = out["environ"]
        self.assertEqual(env["FOO"], "bar")
        self.assertEqual(env["EMPTY"], "")
        self.assertEqual(env["MULTI"], "a=b=c")
        self.assertEqual(env["LANG"], "C.UTF-8", "LANG is preset but the user may override it")
        self.assertEqual(env["TZ"], ":UTC")
        self.assertEqual(env["LAMBDA_TASK_ROOT"], "/var/task")
        self.assertEqual(env["LAMBDA_RUNTIME_DIR"], "/var/runtime")
        self.assertEqual(env["_HANDLER"], "app.handler")
        self.assertEqual(env["AWS_REGION"], REGION)
        self.assertEqual(env["AWS_DEFAULT_REGION"], REGION)
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], name)
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST")
        self.assertEqual(env["AWS_LAMBDA_INITIALIZATION_TYPE"], "on-demand")
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/%s" % name)
        self.assertRegex(env["AWS_LAMBDA_LOG_STREAM_NAME"], r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(env["AWS_LAMBDA_LOG_STREAM_NAME"], out["stream"])
        self.assertEqual(env["AWS_LAMBDA_LOG_STREAM_NAME"][:10], time.strftime("%Y/%m/%d", time.gmtime()))
        self.assertRegex(env["AWS_LAMBDA_RUNTIME_API"], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12")
        self.assertEqual(env["PATH"], "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin")
        self.assertEqual(env["LD_LIBRARY_PATH"], "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:"
                                                 "/var/runtime/lib:/var/task:/var/task/lib:/opt/lib")
        self.assertEqual(env["PYTHONPATH"], "/var/runtime")
        self.assertEqual(env["LC_CTYPE"], "C.UTF-8")
        self.assertRegex(env["_X_AMZN_TRACE_ID"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]")
        self.assertEqual(env["AWS_XRAY_CONTEXT_MISSING"], "LOG_ERROR")
        # no X-Ray daemon runs here: the SDKs' UDP segments go to a loopback port nobody reads
        self.assertEqual(env["AWS_XRAY_DAEMON_ADDRESS"], "127.0.0.1:2000")
        self.assertEqual(env["_AWS_XRAY_DAEMON_ADDRESS"], "127.0.0.1")
        self.assertEqual(env["_AWS_XRAY_DAEMON_PORT"], "2000")
        self.assertEqual(env["PWD"], "/var/task")
        self.assertEqual(env["AWS_ENDPOINT_URL_LAMBDA"], self.server.endpoint)
        self.assertEqual(out["memory"], "256")
        self.assertNotIn("AWS_LAMBDA_LOG_FORMAT", env)
        self.assertNotIn("AWS_LAMBDA_LOG_LEVEL", env)

    def test_custom_log_group_and_json_format(self):
        name = self.function({"app.py": INTROSPECT},
                             LoggingConfig={"LogFormat": "JSON", "LogGroup": "/custom/group"})
        env = self.invoke_json(name)["environ"]
        self.assertEqual(env["AWS_LAMBDA_LOG_GROUP_NAME"], "/custom/group")
        self.assertEqual(env["AWS_LAMBDA_LOG_FORMAT"], "JSON")
        self.assertEqual(env["AWS_LAMBDA_LOG_LEVEL"], "INFO")  # AWS's default ApplicationLogLevel with JSON
        name = self.function({"app.py": INTROSPECT}, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
        self.assertEqual(self.invoke_json(name)["environ"]["AWS_LAMBDA_LOG_LEVEL"], "DEBUG")

    def test_json_log_format_platform_records(self):
        name = self.function({"app.py": "def handler(e, c):\n    print('out')\n    return 1\n"},
                             LoggingConfig={"LogFormat": "JSON"})
        resp, _ = self.invoke(name, LogType="Tail")
        lines = self.tail(resp).rstrip("\n").split("\n")
        start, report = json.loads(lines[0]), json.loads(lines[-1])
        self.assertEqual(list(start), ["time", "type", "record"])
        self.assertRegex(start["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(start["type"], "platform.start")
        rid = resp["ResponseMetadata"]["RequestId"]
        self.assertEqual(start["record"], {"requestId": rid, "version": "$LATEST"})
        self.assertEqual(report["type"], "platform.report")
        self.assertEqual(report["record"]["requestId"], rid)
        self.assertEqual(report["record"]["status"], "success")
        self.assertEqual(set(report["record"]["metrics"]),
                         {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"})
        self.assertEqual(report["record"]["metrics"]["memorySizeMB"], 128)
        self.assertNotIn("END RequestId", self.tail(resp))

    def test_reserved_keys_rejected(self):
        self.assertError("InvalidParameterValueException", self.lam.create_function, FunctionName=self.name(),
                         Runtime="python3.12", Handler="app.handler", Role=ROLE, Code={"ZipFile": make_zip()},
                         Environment={"Variables": {"AWS_REGION": "x"}},
                         message="Lambda was unable to configure your environment variables because the "
                                 "environment variables you have provided contains reserved keys that are "
                                 "currently not supported for modification. Reserved keys used in this "
                                 "request: AWS_REGION")

    def test_nodejs_variables(self):
        code = "exports.handler = async () => ({env: process.env});\n"
        name = self.function({"index.js": code}, runtime="nodejs20.x", handler="index.handler")
        env = self.invoke_json(name)["env"]
        self.assertEqual(env["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs20.x")
        self.assertEqual(env["NODE_PATH"], "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:"
                                           "/var/runtime/node_modules:/var/runtime:/var/task")
        self.assertEqual(env["TZ"], ":UTC")
        self.assertNotIn("PYTHONPATH", env)

    def test_provided_has_no_execution_env(self):
        bootstrap = """#!/bin/sh
set -eu
while true; do
  H=$(mktemp)
  curl -sS -D "$H" -o /dev/null "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next"
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | tr -d '\\r' | cut -d' ' -f2)
  E=$(env | sort | base64 -w0)
  curl -sS -o /dev/null -X POST -d "\\"$E\\"" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response"
  rm -f "$H"
done
"""
        name = self.function(zip_bytes=exec_zip({"bootstrap": (bootstrap, 0o755)}), runtime="provided.al2023",
                             handler="whatever.handler", Environment={"Variables": {"KEY": "v"}})
        text = base64.b64decode(self.invoke_json(name)).decode()
        env = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
        self.assertNotIn("AWS_EXECUTION_ENV", env)
        self.assertEqual(env["_HANDLER"], "whatever.handler")
        self.assertEqual(env["KEY"], "v")
        self.assertEqual(env["LAMBDA_TASK_ROOT"], "/var/task")
        self.assertEqual(env["TZ"], ":UTC")
        self.assertNotIn("PYTHONPATH", env)


class TestEnvironments(InvokeCase):
    def test_warm_module_state(self):
        name = self.function({"app.py": INTROSPECT})
        outs = [self.invoke_json(name) for _ in range(3)]
        self.assertEqual([o["count"] for o in outs], [1, 2, 3])
        self.assertEqual(len({o["env_id"] for o in outs}), 1)
        self.assertEqual(len({o["stream"] for o in outs}), 1)
        self.assertEqual(len({o["request_id"] for o in outs}), 3)

    def test_concurrent_invokes_get_separate_environments(self):
        name = self.function({"app.py": INTROSPECT}, Timeout=10)
        results, errors = [], []

        def one():
            try:
                c = self.server.client()
                r = c.invoke(FunctionName=name, Payload=json.dumps({"sleep": 0.5}).encode())
                results.append(json.loads(r["Payload"].read()))
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 3)
        self.assertEqual(len({r["env_id"] for r in results}), 3, results)
        self.assertEqual(len({r["stream"] for r in results}), 3)
        self.assertEqual([r["count"] for r in results], [1, 1, 1])
        # afterwards they are warm and reused
        again = self.invoke_json(name)
        self.assertIn(again["env_id"], {r["env_id"] for r in results})
        self.assertEqual(again["count"], 2)

    def test_update_retires_environments(self):
        name = self.function({"app.py": INTROSPECT})
        first = self.invoke_json(name)
        self.assertEqual(self.invoke_json(name)["env_id"], first["env_id"])
        self.lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"NEW": "1"}})
        self.wait_ready(name)
        after = self.invoke_json(name)
        self.assertNotEqual(after["env_id"], first["env_id"])
        self.assertEqual(after["count"], 1)
        self.assertEqual(after["environ"]["NEW"], "1")
        self.lam.update_function_code(FunctionName=name, ZipFile=make_zip(
            {"app.py": INTROSPECT.replace("count = 0", "count = 100")}))
        self.wait_ready(name)
        code = self.invoke_json(name)
        self.assertEqual(code["count"], 101)
        self.assertNotEqual(code["env_id"], after["env_id"])

    def test_versions_have_their_own_environments(self):
        name = self.function({"app.py": INTROSPECT})
        self.lam.publish_version(FunctionName=name)
        a = self.invoke_json(name)
        b = self.invoke_json(name, Qualifier="1")
        self.assertNotEqual(a["env_id"], b["env_id"])
        self.assertEqual(b["version"], "1")

    def test_delete_then_recreate(self):
        name = self.function({"app.py": INTROSPECT})
        first = self.invoke_json(name)
        self.lam.delete_function(FunctionName=name)
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip({"app.py": INTROSPECT})})
        self.wait_ready(name)
        again = self.invoke_json(name)
        self.assertNotEqual(again["env_id"], first["env_id"])
        self.assertEqual(again["count"], 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
