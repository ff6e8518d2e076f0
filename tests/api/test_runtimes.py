"""Runtime families end to end through Invoke: python (results, error
documents and the "[ERROR]" log line, init errors), nodejs (CommonJS callback
and async handlers, ES modules, errors) and provided (a shell bootstrap with
curl as in AWS's tutorial, one written in C and compiled here, one from a
layer, a missing one).

Error documents are AWS's (shared/reference/aws-recordings/test_lambda*.json,
shared/spec/EXECUTION-PROTOCOLS.md section 1 and 5).
"""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import ROLE, make_zip
from test_invoke import UUID, InvokeCase, exec_zip

PYTHONS = ["python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13"]


class TestPython(InvokeCase):
    def test_result_on_every_version(self):
        code = "import sys\ndef handler(e, c):\n    return {'v': '%d.%d' % sys.version_info[:2], 'e': e}\n"
        for rt in PYTHONS:
            with self.subTest(runtime=rt):
                name = self.function({"app.py": code}, runtime=rt)
                self.assertEqual(self.invoke_json(name, {"a": [1, 2]}), {"v": rt[6:], "e": {"a": [1, 2]}})

    def test_handler_in_a_package_directory(self):
        name = self.function({"pkg/sub/mod.py": "def h(e, c):\n    return 'deep'\n"}, handler="pkg/sub/mod.h")
        self.assertEqual(self.invoke_json(name), "deep")

    def test_exception(self):
        name = self.function({"app.py": "def handler(e, c):\n    raise ValueError('boom')\n"})
        doc, resp = self.invoke_error(name, LogType="Tail")
        self.assertEqual(list(doc), ["errorMessage", "errorType", "requestId", "stackTrace"])
        self.assertEqual((doc["errorMessage"], doc["errorType"]), ("boom", "ValueError"))
        self.assertRegex(doc["requestId"], "^%s$" % UUID)
        self.assertEqual(doc["stackTrace"], ['  File "/var/task/app.py", line 2, in handler\n'
                                             "    raise ValueError('boom')\n"])
        log = self.tail(resp)
        inner = self.assert_platform_lines(log, request_id=doc["requestId"])
        self.assertNotIn("Status:", log, "a function error is no platform failure")
        self.assertEqual(len(inner), 1, inner)
        self.assertTrue(inner[0].startswith("[ERROR] ValueError: boom\rTraceback (most recent call last):\r"
                                            "\u00a0\u00a0File \"/var/task/app.py\", line 2, in handler\r"), inner)
        # the environment survives a function error
        doc2, _ = self.invoke_error(name)
        self.assertEqual(doc2["errorType"], "ValueError")

    def test_custom_exception_type(self):
        code = "class CustomException(Exception):\n    pass\ndef handler(e, c):\n    raise CustomException('x')\n"
        name = self.function({"app.py": code})
        doc, _ = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "CustomException")

    def test_import_module_error(self):
        name = self.function({"app.py": ""}, handler="missing.handler")
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc, {"errorMessage": "Unable to import module 'missing': No module named 'missing'",
                               "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []})
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.ImportModuleError")

    def test_handler_not_found(self):
        name = self.function({"app.py": "x = 1\n"}, handler="app.nope")
        doc, _ = self.invoke_error(name)
        self.assertEqual((doc["errorType"], doc["errorMessage"]),
                         ("Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"))

    def test_malformed_handler(self):
        name = self.function({"app.py": ""}, handler="nodot")
        doc, _ = self.invoke_error(name)
        self.assertEqual((doc["errorType"], doc["errorMessage"]),
                         ("Runtime.MalformedHandlerName",
                          "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)"))

    def test_syntax_error(self):
        name = self.function({"app.py": "def handler(e, c)\n    return 1\n"})
        doc, _ = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.UserCodeSyntaxError")
        self.assertTrue(doc["errorMessage"].startswith("Syntax error in module 'app': "), doc)

    def test_error_at_import(self):
        name = self.function({"app.py": "raise RuntimeError('at import')\ndef handler(e, c):\n    return 1\n"})
        doc, resp = self.invoke_error(name)
        self.assertEqual((doc["errorType"], doc["errorMessage"]), ("RuntimeError", "at import"))

    def test_none_and_marshal_error(self):
        name = self.function({"app.py": "def handler(e, c):\n    return {1, 2} if e.get('set') else None\n"})
        self.assertEqual(self.invoke(name)[1], b"null")
        doc, _ = self.invoke_error(name, {"set": True})
        self.assertEqual(doc["errorType"], "Runtime.MarshalError")
        self.assertEqual(doc["errorMessage"], "Unable to marshal response: Object of type set is not JSON serializable")

    def test_logging_module_line(self):
        code = "import logging\nlogging.getLogger().setLevel(logging.INFO)\n" \
               "def handler(e, c):\n    logging.info('via logging')\n"
        name = self.function({"app.py": code})
        resp, _ = self.invoke(name, LogType="Tail")
        inner = self.assert_platform_lines(self.tail(resp))
        self.assertEqual(len(inner), 1)
        self.assertRegex(inner[0], r"^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tvia logging$" % UUID)

    def test_context_remaining_time(self):
        code = "def handler(e, c):\n    return c.get_remaining_time_in_millis()\n"
        name = self.function({"app.py": code}, Timeout=7)
        left = self.invoke_json(name)
        self.assertTrue(5000 < left <= 7000, left)


class TestNode(InvokeCase):
    def node(self, files, handler="index.handler", **kw):
        return self.function(files, runtime="nodejs20.x", handler=handler, **kw)

    def test_commonjs_callback(self):
        name = self.node({"index.js": "exports.handler = (event, context, callback) => {\n"
                                      "  callback(null, {cb: event.x, id: context.awsRequestId});\n};\n"})
        out = self.invoke_json(name, {"x": 5})
        self.assertEqual(out["cb"], 5)
        self.assertRegex(out["id"], "^%s$" % UUID)

    def test_async_handler_and_console_line(self):
        name = self.node({"index.js": "exports.handler = async (event) => {\n"
                                      "  console.log('hello', event.x);\n  return {async: event.x};\n};\n"})
        resp, body = self.invoke(name, {"x": 2}, LogType="Tail")
        self.assertEqual(json.loads(body), {"async": 2})
        inner = self.assert_platform_lines(self.tail(resp), init=True)
        self.assertEqual(len(inner), 1, inner)
        self.assertRegex(inner[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t%s\tINFO\thello 2$" % UUID)

    def test_es_module(self):
        name = self.node({"index.mjs": "export const handler = async (event) => ({esm: true, x: event.x});\n"})
        self.assertEqual(self.invoke_json(name, {"x": 1}), {"esm": True, "x": 1})

    def test_es_module_by_package_type(self):
        name = self.node({"package.json": '{"type": "module"}',
                          "app.js": "const v = await Promise.resolve(3);\n"
                                    "export const handler = async () => v;\n"}, handler="app.handler")
        self.assertEqual(self.invoke_json(name), 3)

    def test_warm_state(self):
        name = self.node({"index.js": "let n = 0;\nexports.handler = async () => ++n;\n"})
        self.assertEqual([self.invoke_json(name) for _ in range(3)], [1, 2, 3])

    def test_thrown_error(self):
        name = self.node({"index.js": "exports.handler = async () => { throw new TypeError('bad thing'); };\n"})
        doc, resp = self.invoke_error(name)
        self.assertEqual(list(doc), ["errorType", "errorMessage", "trace"])
        self.assertEqual((doc["errorType"], doc["errorMessage"]), ("TypeError", "bad thing"))
        self.assertEqual(doc["trace"][0], "TypeError: bad thing")

    def test_callback_error(self):
        name = self.node({"index.js": "exports.handler = (e, c, cb) => cb(new Error('cb failed'));\n"})
        doc, _ = self.invoke_error(name)
        self.assertEqual((doc["errorType"], doc["errorMessage"]), ("Error", "cb failed"))

    def test_import_module_error(self):
        name = self.node({"index.js": ""}, handler="missing.handler")
        doc, _ = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.ImportModuleError")
        self.assertTrue(doc["errorMessage"].startswith("Error: Cannot find module 'missing'"), doc)

    def test_handler_not_found(self):
        name = self.node({"index.js": "exports.other = 1;\n"})
        doc, _ = self.invoke_error(name)
        self.assertEqual((doc["errorType"], doc["errorMessage"]),
                         ("Runtime.HandlerNotFound", "index.handler is undefined or not exported"))

    def test_syntax_error(self):
        name = self.node({"index.js": "exports.handler = async () => {\n"})
        doc, _ = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.UserCodeSyntaxError")


# AWS's tutorial custom runtime (docs: runtimes-walkthrough), unchanged
TUTORIAL_BOOTSTRAP = r"""#!/bin/bash
set -euo pipefail

# Initialization - load function handler
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"

# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request will block until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")

  # Extract request ID by scraping response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)

  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")

  # Send the response
  curl "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response"  -d "$RESPONSE"
done
"""

TUTORIAL_FUNCTION = r"""function handler () {
  EVENT_DATA=$1

  RESPONSE="{\"statusCode\": 200, \"body\": \"Hello from Lambda!\"}"
  echo $RESPONSE
}
"""

# a Runtime API client in C: one connection per request, Connection: close
C_BOOTSTRAP = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char host[64];
static int port;

static size_t request(const char *method, const char *path, const char *body, size_t blen,
                      char *out, size_t cap, char *rid)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(2); }
    char head[512];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", method, path, host, blen);
    if (write(fd, head, n) != n || (blen && write(fd, body, blen) != (ssize_t)blen)) exit(3);
    size_t len = 0;
    ssize_t r;
    while (len < cap - 1 && (r = read(fd, out + len, cap - 1 - len)) > 0) len += r;
    out[len] = 0;
    close(fd);
    char *p = strcasestr(out, "\r\nLambda-Runtime-Aws-Request-Id: ");
    if (rid && p) sscanf(p + 33, "%36s", rid);
    char *b = strstr(out, "\r\n\r\n");
    if (!b) return 0;
    b += 4;
    len -= b - out;
    memmove(out, b, len + 1);
    return len;
}

int main(void)
{
    static char ev[1 << 20], res[(1 << 20) + 64], path[256], rid[64];
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    sscanf(api, "%63[^:]:%d", host, &port);
    printf("c runtime up, handler %s\n", getenv("_HANDLER"));
    fflush(stdout);
    for (;;) {
        size_t n = request("GET", "/2018-06-01/runtime/invocation/next", NULL, 0, ev, sizeof ev, rid);
        char tmp[256];
        if (strstr(ev, "\"fail\"")) {
            const char *err = "{\"errorMessage\":\"asked to fail\",\"errorType\":\"CError\"}";
            snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/error", rid);
            request("POST", path, err, strlen(err), tmp, sizeof tmp, NULL);
            continue;
        }
        int m = snprintf(res, sizeof res, "{\"from\":\"c\",\"event\":%.*s}", (int)n, ev);
        snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", rid);
        request("POST", path, res, m, tmp, sizeof tmp, NULL);
    }
}
"""


class TestProvided(InvokeCase):
    def test_tutorial_shell_bootstrap_with_curl(self):
        zipb = exec_zip({"bootstrap": (TUTORIAL_BOOTSTRAP, 0o755), "function.sh": (TUTORIAL_FUNCTION, 0o644)})
        for rt in ("provided.al2023", "provided.al2"):
            with self.subTest(runtime=rt):
                name = self.function(zip_bytes=zipb, runtime=rt, handler="function.handler")
                resp, body = self.invoke(name, {"x": 1}, LogType="Tail")
                self.assertEqual(resp["StatusCode"], 200)
                self.assertNotIn("FunctionError", resp)
                self.assertEqual(json.loads(body), {"statusCode": 200, "body": "Hello from Lambda!"})
                self.assert_platform_lines(self.tail(resp), init=True)
                # warm
                self.assertEqual(self.invoke_json(name)["body"], "Hello from Lambda!")

    @unittest.skipUnless(shutil.which("gcc"), "needs gcc")
    def test_c_bootstrap(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "bootstrap.c")
            with open(src, "w") as f:
                f.write(C_BOOTSTRAP)
            p = subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", os.path.join(d, "bootstrap"), src],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(d, "bootstrap"), "rb") as f:
                binary = f.read()
        name = self.function(zip_bytes=exec_zip({"bootstrap": (binary, 0o755)}), runtime="provided.al2023",
                             handler="c.handler")
        resp, body = self.invoke(name, {"n": 42}, LogType="Tail")
        self.assertEqual(json.loads(body), {"from": "c", "event": {"n": 42}})
        # output before the first invocation is not part of its tail
        self.assert_platform_lines(self.tail(resp), init=True)
        self.assertEqual(self.invoke_json(name, [1, 2]), {"from": "c", "event": [1, 2]})
        doc, resp = self.invoke_error(name, {"fail": True}, LogType="Tail")
        self.assertEqual(doc, {"errorMessage": "asked to fail", "errorType": "CError"})
        self.assertNotIn("Status:", self.tail(resp))
        self.assertEqual(self.invoke_json(name, b"3"), {"from": "c", "event": 3})

    def test_bootstrap_from_a_layer(self):
        layer = self.lam.publish_layer_version(
            LayerName=self.name("rt"), Content={"ZipFile": exec_zip({"bootstrap": (TUTORIAL_BOOTSTRAP, 0o755)})})
        name = self.function(zip_bytes=exec_zip({"function.sh": (TUTORIAL_FUNCTION, 0o644)}),
                             runtime="provided.al2023", handler="function.handler",
                             Layers=[layer["LayerVersionArn"]])
        self.assertEqual(self.invoke_json(name)["statusCode"], 200)

    def test_layer_contents_under_opt(self):
        layer = self.lam.publish_layer_version(
            LayerName=self.name("py"), Content={"ZipFile": make_zip({"python/helper.py": "X = 'from layer'\n",
                                                                     "data/f.txt": "layer file"})})
        code = "import helper, os\ndef handler(e, c):\n" \
               "    return [helper.X, open('/opt/data/f.txt').read(), sorted(os.listdir('/opt'))]\n"
        name = self.function({"app.py": code}, Layers=[layer["LayerVersionArn"]])
        self.assertEqual(self.invoke_json(name), ["from layer", "layer file", ["data", "python"]])

    def test_missing_bootstrap(self):
        name = self.function(zip_bytes=exec_zip({"function.sh": (TUTORIAL_FUNCTION, 0o644)}),
                             runtime="provided.al2023", handler="function.handler")
        doc, resp = self.invoke_error(name)
        self.assertEqual(doc["errorType"], "Runtime.InvalidEntrypoint")
        self.assertRegex(doc["errorMessage"], r"^RequestId: %s Error: Couldn't find valid bootstrap\(s\): "
                                              r"\[/var/task/bootstrap /opt/bootstrap\]$" % UUID)

    def test_runtime_api_headers(self):
        # a bootstrap that returns the headers of GET /next
        bootstrap = r"""#!/bin/bash
while true; do
  H=$(mktemp)
  curl -sS -D "$H" -o /dev/null "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next"
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  B=$(tr -d '\r' < "$H" | base64 -w0)
  curl -sS -o /dev/null "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d "\"$B\""
done
"""
        name = self.function(zip_bytes=exec_zip({"bootstrap": (bootstrap, 0o755)}), runtime="provided.al2023",
                             handler="x.y", Timeout=9)
        ctx = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
        resp, body = self.invoke(name, ClientContext=ctx)
        heads = {}
        for line in base64.b64decode(json.loads(body)).decode().split("\n")[1:]:
            if ": " in line:
                k, v = line.split(": ", 1)
                heads[k.lower()] = v
        self.assertEqual(heads["lambda-runtime-aws-request-id"], resp["ResponseMetadata"]["RequestId"])
        self.assertRegex(heads["lambda-runtime-deadline-ms"], r"^\d{13}$")
        self.assertTrue(heads["lambda-runtime-invoked-function-arn"].endswith(":function:" + name))
        self.assertRegex(heads["lambda-runtime-trace-id"], r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=")
        self.assertEqual(json.loads(heads["lambda-runtime-client-context"]), {"custom": {"k": "v"}})
        self.assertEqual(heads["content-type"], "application/json")


if __name__ == "__main__":
    unittest.main()
