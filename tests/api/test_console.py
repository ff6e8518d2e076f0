"""The web console (issue 18): lambdad serves it at /_lambdad/console/ (embedded files, their
Content-Type, ETag and caching, index.html for the app's routes, 404 JSON for unknown files), and a
headless Chromium (Debian's chromium, driven by playwright-core: tests/console/drive.mjs) clicks
through it: sign in, create a python function through the form, see it Active, invoke it and read
the result and the log tail, a function error, the logs, metrics, async, event source and version
tabs, the list. Under --auth enforce the console signs with a key made by `lambdad keys`, and a
wrong secret shows AWS's error. Screenshots go to build/test/artifacts/console/.

Skips, saying why, when chromium, node or playwright-core cannot be had (tools/deps.sh test
installs them)."""
import gzip
import json
import os
import re
import shutil
import subprocess
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from harness import ROLE, ROOT, LambdadTestCase, make_zip
from test_url_clients import CHROMIUM, chromium_usable

ARTIFACTS = os.path.join(ROOT, "build", "test", "artifacts", "console")
DRIVER_DIR = os.path.join(ROOT, "tests", "console")
DRIVER = os.path.join(DRIVER_DIR, "drive.mjs")
NODE = shutil.which("node")


def driver_missing():
    """None when the browser test can run, else why not."""
    why = chromium_usable()
    if why:
        return why
    if not NODE:
        return "node is not installed (playwright-core needs node 20 or newer, with npm)"
    ver = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    m = re.match(r"v(\d+)\.", ver)
    if not m or int(m.group(1)) < 20:
        return "node %s is too old for playwright-core (it needs node 20 or newer)" % (ver or "?")
    pw = os.path.join(DRIVER_DIR, "node_modules", "playwright-core")
    if not os.path.isdir(pw):
        subprocess.run([os.path.join(ROOT, "tools", "playwright.sh")], timeout=300,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.path.isdir(pw):
        return "playwright-core is not installed in tests/console (tools/playwright.sh could not install it)"
    return None


def drive(scenario, base, timeout=300, **env):
    """Runs drive.mjs SCENARIO against the console at base; returns its RESULT document."""
    e = dict(os.environ, CONSOLE_URL=base + "/_lambdad/console/", ARTIFACTS=ARTIFACTS, CHROMIUM=CHROMIUM)
    e.update({k.upper(): str(v) for k, v in env.items()})
    p = subprocess.run([NODE, DRIVER, scenario], capture_output=True, text=True, timeout=timeout, env=e,
                       cwd=DRIVER_DIR, stdin=subprocess.DEVNULL)
    line = next((l for l in p.stdout.splitlines() if l.startswith("RESULT:")), None)
    if line is None:
        raise AssertionError("drive.mjs %s printed no result (exit %d): %s %s"
                             % (scenario, p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    res = json.loads(line[len("RESULT:"):])
    for s in res.get("screenshots", []):
        print("\n  screenshot: %s" % s, end="")
    return res


def get(url, headers=None, method="GET"):
    """(status, headers, body) of a plain request (no signature)."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def served_api(client, call):
    """False when lambdad answers the API's operation as unknown (the CloudWatch Logs and
    CloudWatch APIs come with issue 18's other parts), else True."""
    try:
        call(client)
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if "UnknownOperation" in code or status == 404:
            return False
    return True


class TestConsoleFiles(LambdadTestCase):
    """The static route: no browser needed."""

    def base(self):
        return self.server.endpoint + "/_lambdad/console/"

    def test_index_and_assets(self):
        status, h, body = get(self.base())
        self.assertEqual(status, 200)
        self.assertEqual(h["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(h["Cache-Control"], "no-cache")
        self.assertIn("default-src 'self'", h["Content-Security-Policy"])
        self.assertEqual(h["X-Content-Type-Options"], "nosniff")
        html = body.decode()
        self.assertIn('<div id="app">', html)
        # nothing from another origin: no CDN, fonts or analytics
        self.assertNotRegex(html, r'(src|href)="(https?:)?//')
        assets = re.findall(r'(?:src|href)="/_lambdad/console/(assets/[^"]+)"', html)
        self.assertTrue(any(a.endswith(".js") for a in assets), html)
        self.assertTrue(any(a.endswith(".css") for a in assets), html)
        for a in assets:
            status, h, body = get(self.base() + a)
            self.assertEqual(status, 200, a)
            self.assertEqual(h["Cache-Control"], "public, max-age=31536000, immutable")
            self.assertEqual(h["Content-Type"], "text/javascript; charset=utf-8" if a.endswith(".js")
                             else "text/css; charset=utf-8")
            etag = h["ETag"]
            self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
            self.assertEqual(len(body), int(h["Content-Length"]))
            self.assertNotIn("//cdn", body.decode())
            # revalidation and compression
            status, h2, body2 = get(self.base() + a, {"If-None-Match": etag})
            self.assertEqual((status, body2), (304, b""))
            status, h3, body3 = get(self.base() + a, {"Accept-Encoding": "gzip"})
            self.assertEqual(status, 200)
            self.assertEqual(h3.get("Content-Encoding"), "gzip")
            self.assertEqual(gzip.decompress(body3), body)
            status, h4, _ = get(self.base() + a, {"Accept-Encoding": "gzip;q=0, identity"})
            self.assertIsNone(h4.get("Content-Encoding"))
        status, h, body = get(self.base(), method="HEAD")
        self.assertEqual((status, body), (200, b""))

    def test_app_routes_get_index(self):
        _, _, index = get(self.base())
        for route in ("functions/some-fn", "functions/some-fn/invoke", "create"):
            status, h, body = get(self.base() + route)
            self.assertEqual((status, body), (200, index), route)
            self.assertEqual(h["Content-Type"], "text/html; charset=utf-8")

    def test_unknown_files_are_404_json(self):
        for path in ("assets/nope.js", "nope.css", "assets/x", "../index.html"):
            status, h, body = get(self.base() + path)
            self.assertEqual(status, 404, path)
            self.assertEqual(h["Content-Type"], "application/json")
            self.assertIn("No console file", json.loads(body)["message"])
        status, _, _ = get(self.server.endpoint + "/_lambdad/consolex")
        self.assertEqual(status, 404)

    def test_bare_prefix_redirects(self):
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(self.server.endpoint + "/_lambdad/console", timeout=10)
            self.fail("no redirect")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 308)
            self.assertEqual(e.headers["Location"], "/_lambdad/console/")

    def test_runtimes_json(self):
        status, h, body = get(self.base() + "runtimes.json")
        self.assertEqual(status, 200)
        self.assertEqual(h["Content-Type"], "application/json")
        rts = json.loads(body)["Runtimes"]
        self.assertTrue(any(r.startswith("python3.") for r in rts), rts)
        self.assertNotIn("dotnet8", rts)  # a family lambdad does not run


class TestConsoleBrowser(LambdadTestCase):
    """Create, invoke, logs, metrics and the other tabs, clicked through in headless Chromium."""

    @classmethod
    def setUpClass(cls):
        cls.why_not = driver_missing()
        if cls.why_not:
            raise unittest.SkipTest(cls.why_not)
        super().setUpClass()
        # another function, with what the other tabs show: a Kinesis mapping (its poller finds
        # no stream: State Enabled, LastProcessingResult as lambdad keeps it), an event invoke
        # config, a version and an alias
        cls.other = "console-other-%d" % os.getpid()
        cls.lam.create_function(FunctionName=cls.other, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": make_zip()})
        cls.lam.get_waiter("function_active_v2").wait(FunctionName=cls.other,
                                                      WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        cls.esm = cls.lam.create_event_source_mapping(
            FunctionName=cls.other, EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/console-s",
            StartingPosition="LATEST", BatchSize=7)["UUID"]
        cls.lam.put_function_event_invoke_config(
            FunctionName=cls.other, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120,
            DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:console-dlq"}})
        cls.lam.publish_version(FunctionName=cls.other)
        cls.lam.create_alias(FunctionName=cls.other, Name="live", FunctionVersion="1")

    def test_click_through(self):
        fn = "console-%d" % os.getpid()
        marker = "mark-%d" % os.getpid()
        res = drive("full", self.server.endpoint, function=fn, marker=marker, other_function=self.other)
        self.assertTrue(res.get("ok"), res.get("exception"))
        self.assertEqual(res["foreign_requests"], [])
        self.assertEqual(res["list_before"], "#functions")
        self.assertIsNone(res.get("create_error"), res)
        self.assertTrue(res["runtime"].startswith("python3."), res["runtimes"])
        self.assertEqual(res["role"], "arn:aws:iam::000000000000:role/lambdad-console")
        self.assertTrue(res["url_after_create"].endswith("/_lambdad/console/functions/" + fn))
        # the page followed Pending to Active
        self.assertEqual(res["state"], "Active")
        self.assertEqual(res["last_update_status"], "Successful")
        self.assertEqual(res["cfg_runtime"], res["runtime"])
        # the function the form made, zipped in the browser
        cfg = self.lam.get_function_configuration(FunctionName=fn)
        self.assertEqual((cfg["Runtime"], cfg["Handler"]), (res["runtime"], "lambda_function.lambda_handler"))
        # invoke: status, result, log tail
        inv = res["invoke"]
        self.assertEqual(inv.get("status"), "200", inv)
        self.assertEqual(json.loads(inv["payload"]), {"doubled": 42, "marker": marker})
        self.assertIsNone(inv["function_error"])
        self.assertIn('%s got {"n": 21}' % marker, inv["log"])
        self.assertIn("REPORT RequestId:", inv["log"])
        bad = res["invoke_fail"]
        self.assertEqual(bad.get("function_error"), "Unhandled", bad)
        self.assertEqual(json.loads(bad["payload"])["errorType"], "ValueError")
        self.assertIn("%s asked to fail" % marker, bad["log"])
        # logs: the function's group; lines when lambdad serves the CloudWatch Logs API, else
        # AWS's error as it came back
        self.assertEqual(res["log_group"], "/aws/lambda/" + fn)
        if served_api(self.server.client("logs"), lambda c: c.describe_log_groups(limit=1)):
            self.assertIsNone(res["logs"]["error"], res["logs"])
            self.assertIn("%s got" % marker, res["logs"]["text"])
            self.assertIn("%s asked to fail" % marker, res["logs_filtered"]["text"])
            self.assertNotIn('%s got {"n": 21}' % marker, res["logs_filtered"]["text"])
        else:
            print("\n  note: this lambdad has no CloudWatch Logs API; the console showed: %s" % res["logs"]["error"],
                  end="")
            self.assertIn("Unknown", res["logs"]["error"] or "")
        # metrics: four inline SVG charts; data when the CloudWatch API is served
        self.assertEqual(res["metrics"]["charts"],
                         ["chart-invocations", "chart-errors", "chart-duration", "chart-throttles"])
        self.assertEqual(res["metrics"]["svgs"], 4)
        if served_api(self.server.client("cloudwatch"), lambda c: c.list_metrics(Namespace="AWS/Lambda")):
            self.assertIsNone(res["metrics"]["error"], res["metrics"])
            self.assertGreaterEqual(res["metrics"]["invocations"], 2)
            self.assertGreaterEqual(res["metrics"]["errors"], 1)
        else:
            print("\n  note: this lambdad has no CloudWatch API; the console showed: %s" % res["metrics"]["error"],
                  end="")
            self.assertIn("Unknown", res["metrics"]["error"] or "")
        self.assertEqual(res["async"]["none"], "#async-config-none")
        self.assertIn("not exposed through any AWS API", res["async"]["note"])
        self.assertEqual(res["esm"], "#esm-none")
        self.assertEqual(res["versions"], ["$LATEST"])
        self.assertEqual(res["list_row"][:3], [fn, "Active", res["runtime"]])
        self.assertEqual(res["list_row"][4], "128")
        self.assertEqual(res["deep_link"], "#versions")
        # the other function's mapping, async config, versions and aliases, as the API has them
        m = self.lam.get_event_source_mapping(UUID=self.esm)
        self.assertEqual(res["other_esms"], [[self.esm, m["EventSourceArn"], m["State"], m["StateTransitionReason"],
                                              m.get("LastProcessingResult", ""), "7"]])
        self.assertEqual(res["other_async"]["Maximum retry attempts"], "1")
        self.assertEqual(res["other_async"]["Maximum event age (s)"], "120")
        self.assertEqual(res["other_async"]["On failure"], "arn:aws:sqs:us-east-1:000000000000:console-dlq")
        self.assertEqual(res["other_versions"], ["$LATEST", "1"])
        self.assertEqual([a[:2] for a in res["other_aliases"]], [["live", "1"]])
        shots = [os.path.basename(s) for s in res["screenshots"]]
        self.assertIn("full-function-page.png", shots)
        for s in res["screenshots"]:
            self.assertGreater(os.path.getsize(s), 5000, s)


class TestConsoleEnforce(LambdadTestCase):
    """Under --auth enforce the console signs with the user's key, like the CLI."""

    server_args = ["--auth", "enforce"]
    ACCOUNT = "210987654321"

    @classmethod
    def setUpClass(cls):
        cls.why_not = driver_missing()
        if cls.why_not:
            raise unittest.SkipTest(cls.why_not)
        super().setUpClass()
        cls.key = cls.server.create_key(cls.ACCOUNT)
        cls.fn = "signed-%d" % os.getpid()
        lam = cls.server.client_for(cls.key)
        lam.create_function(FunctionName=cls.fn, Runtime="python3.11", Handler="app.handler",
                            Role="arn:aws:iam::%s:role/r" % cls.ACCOUNT,
                            Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return {'got': e}\n"})})
        lam.get_waiter("function_active_v2").wait(FunctionName=cls.fn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def test_files_need_no_signature(self):
        status, h, body = get(self.server.endpoint + "/_lambdad/console/")
        self.assertEqual(status, 200)
        self.assertIn(b'<div id="app">', body)
        # while the API refuses the same unsigned client
        status, _, _ = get(self.server.endpoint + "/2015-03-31/functions/")
        self.assertEqual(status, 403)

    def test_signed_requests_and_a_wrong_secret(self):
        res = drive("enforce", self.server.endpoint, access_key=self.key["AccessKeyId"],
                    secret_key=self.key["SecretAccessKey"], function=self.fn)
        self.assertTrue(res.get("ok"), res.get("exception"))
        self.assertEqual(res["foreign_requests"], [])
        self.assertEqual(res["list"], "#functions", res.get("list_error"))
        self.assertEqual(res["list_names"], [self.fn])
        self.assertEqual(res["invoke"].get("status"), "200", res["invoke"])
        self.assertEqual(json.loads(res["invoke"]["payload"]), {"got": {"n": 5}})
        # the same key id, a wrong secret: AWS's error, as the SDK reports it
        self.assertEqual(res["wrong"], ".error")
        self.assertIn("InvalidSignatureException", res["wrong_error"])
        self.assertIn("The request signature we calculated does not match the signature you provided",
                      res["wrong_error"])
        self.assertIn("HTTP 403", res["wrong_error"])


if __name__ == "__main__":
    unittest.main()
