"""Function URLs used by real clients (issue 6): curl, a plain http.client, and a browser
(headless Chromium from Debian's chromium package) fetching from a page on another origin,
through a CORS preflight; a page on an origin that the URL's Cors does not allow is blocked.

Everything listens on 127.0.0.1: lambdad (harness), and a small http.server that serves the
pages on its own port (one port per page origin)."""
import hashlib
import html
import http.client
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import uuid

from harness import LambdadTestCase, ROLE, make_zip

CODE = make_zip({"calc.py": r'''
import base64, hashlib, json
def handler(event, context):
    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    h = event["headers"]
    out = {"path": event["rawPath"], "query": event["rawQueryString"],
           "method": event["requestContext"]["http"]["method"],
           "custom": h.get("x-custom"), "origin": h.get("origin"),
           "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if h.get("content-type", "").startswith("application/json") and data:
        req = json.loads(data)
        out["sum"] = req["a"] + req["b"]
        out["nonce"] = req["nonce"]
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-calc": "yes"},
            "body": json.dumps(out)}
'''})

CHROMIUM = os.environ.get("LAMBDAD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# as the machine notes say: without the background-networking flags Chromium's own connections
# to Google's hosts are refused on this closed network
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]

PAGE = r'''<!doctype html>
<html><head><meta charset="utf-8"><title>url clients</title></head>
<body><pre id="out">pending</pre>
<script>
const TARGETS = %s;
(async () => {
  const res = {};
  for (const t of TARGETS) {
    try {
      let r;
      if (t.kind === "json") {
        // Content-Type application/json and X-Custom make this a preflighted request
        r = await fetch(t.url, {method: "POST", headers: {"Content-Type": "application/json", "X-Custom": "1"},
                                body: JSON.stringify({a: 2, b: 3, nonce: t.nonce})});
      } else {
        // a simple request (no preflight) whose response can only be seen opaquely
        r = await fetch(t.url, {method: "POST", mode: "no-cors", body: "ping"});
      }
      const entry = {type: r.type, status: r.status};
      if (r.type !== "opaque") {
        entry.calc = r.headers.get("x-calc");
        entry.json = await r.json();
      }
      res[t.name] = entry;
    } catch (e) {
      res[t.name] = {error: String(e)};
    }
  }
  document.getElementById("out").textContent = "RESULT:" + JSON.stringify(res) + ":END";
})();
</script></body></html>
'''


class _Pages(http.server.BaseHTTPRequestHandler):
    pages = {}

    def do_GET(self):
        body = self.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def page_server(pages):
    """An http.server on a free loopback port (its own origin) serving {path: html}."""
    handler = type("Pages", (_Pages,), {"pages": pages})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run_chromium(url, budget_ms=10000, timeout=90):
    """Loads url in a fresh headless Chromium and returns (returncode, dom, stderr)."""
    with tempfile.TemporaryDirectory(prefix="lambdad-chromium-") as profile:
        p = subprocess.run([CHROMIUM] + CHROMIUM_FLAGS +
                           ["--user-data-dir=" + profile, "--virtual-time-budget=%d" % budget_ms,
                            "--dump-dom", url],
                           capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


_chromium_ok = None


def chromium_usable():
    """None when Chromium starts and renders a page, else why not (the browser test then skips)."""
    global _chromium_ok
    if _chromium_ok is None:
        if not os.access(CHROMIUM, os.X_OK):
            _chromium_ok = "chromium is not installed (%s; tools/deps.sh installs Debian's chromium)" % CHROMIUM
        else:
            try:
                rc, dom, err = run_chromium("data:text/html,<p id=x>alive</p>", budget_ms=1000, timeout=60)
                _chromium_ok = "" if (rc == 0 and "alive" in dom) else \
                    "chromium did not start (exit %s): %s" % (rc, err[-1500:])
            except (OSError, subprocess.TimeoutExpired) as e:
                _chromium_ok = "chromium did not start: %r" % e
    return _chromium_ok or None


class TestUrlClients(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pages_ok = page_server({})   # the allowed origin
        cls.pages_bad = page_server({})  # an origin that is not in AllowOrigins
        cls.origin_ok = "http://127.0.0.1:%d" % cls.pages_ok.server_address[1]
        cls.origin_bad = "http://127.0.0.1:%d" % cls.pages_bad.server_address[1]
        cls.fn = "clients-%d" % os.getpid()
        cls.lam.create_function(FunctionName=cls.fn, Runtime="python3.11", Handler="calc.handler", Role=ROLE,
                                Code={"ZipFile": CODE})
        cfg = cls.lam.create_function_url_config(
            FunctionName=cls.fn, AuthType="NONE",
            Cors={"AllowOrigins": [cls.origin_ok], "AllowMethods": ["POST", "GET"],
                  "AllowHeaders": ["content-type", "x-custom"], "ExposeHeaders": ["x-calc"], "MaxAge": 5})
        cls.lam.add_permission(FunctionName=cls.fn, StatementId="public-url", Action="lambda:InvokeFunctionUrl",
                               Principal="*", FunctionUrlAuthType="NONE")
        cls.url = cfg["FunctionUrl"]                       # http://ID.lambda-url.us-east-1.localhost:PORT/
        cls.host = cls.url.split("//")[1].rstrip("/")      # ID.lambda-url.us-east-1.localhost:PORT
        cls.hostname = cls.host.rsplit(":", 1)[0]
        cls.url_id = cls.hostname.split(".")[0]
        cls.path_url = "%s/_lambdad/url/%s/" % (cls.server.endpoint, cls.url_id)

    @classmethod
    def tearDownClass(cls):
        for s in (cls.pages_ok, cls.pages_bad):
            s.shutdown()
            s.server_close()
        super().tearDownClass()

    def test_url_form(self):
        self.assertRegex(self.url, r"^http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:%d/$" % self.server.port)

    # ---- curl ----

    def curl(self, *args):
        """Runs curl; returns (status, {lower header: value}, body bytes)."""
        with tempfile.TemporaryDirectory() as d:
            hdr, out = os.path.join(d, "h"), os.path.join(d, "b")
            p = subprocess.run(["curl", "-sS", "--max-time", "30", "-D", hdr, "-o", out] + list(args),
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, "curl %s: %s" % (args, p.stderr))
            with open(hdr, "rb") as f:
                lines = f.read().decode("latin-1").split("\r\n")
            with open(out, "rb") as f:
                body = f.read()
        status = int(lines[0].split()[1])
        headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return status, headers, body

    def check_calc(self, status, headers, body, path, nonce, method="POST"):
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("x-calc"), "yes")
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        out = json.loads(body)
        self.assertEqual(out["path"], path)
        self.assertEqual(out["method"], method)
        self.assertEqual(out["sum"], 5)
        self.assertEqual(out["nonce"], nonce)
        return out

    def test_curl_both_forms(self):
        json_args = ["-X", "POST", "-H", "Content-Type: application/json", "-H", "X-Custom: 7"]
        # path form, as any client can use it
        n = uuid.uuid4().hex
        st, h, b = self.curl(*json_args, "--data", json.dumps({"a": 2, "b": 3, "nonce": n}),
                             self.path_url + "curl/path?x=1")
        out = self.check_calc(st, h, b, "/curl/path", n)
        self.assertEqual(out["query"], "x=1")
        self.assertEqual(out["custom"], "7")
        # host form: the FunctionUrl exactly as the API returned it, pinned to loopback with --resolve
        n = uuid.uuid4().hex
        st, h, b = self.curl(*json_args, "--data", json.dumps({"a": 2, "b": 3, "nonce": n}),
                             "--resolve", "%s:%d:127.0.0.1" % (self.hostname, self.server.port),
                             self.url + "curl/resolve")
        self.check_calc(st, h, b, "/curl/resolve", n)
        # host form: connect to 127.0.0.1 and name the URL in the Host header
        n = uuid.uuid4().hex
        st, h, b = self.curl(*json_args, "-H", "Host: " + self.host,
                             "--data", json.dumps({"a": 2, "b": 3, "nonce": n}),
                             "%s/curl/hosthdr" % self.server.endpoint)
        self.check_calc(st, h, b, "/curl/hosthdr", n)
        # the FunctionUrl pasted as is: curl resolves *.localhost to loopback itself
        n = uuid.uuid4().hex
        st, h, b = self.curl(*json_args, "--data", json.dumps({"a": 2, "b": 3, "nonce": n}), self.url + "curl/plain")
        self.check_calc(st, h, b, "/curl/plain", n)
        # a body from a file (--data-binary @file), binary, 256 KB
        blob = os.urandom(256 * 1024)
        with tempfile.NamedTemporaryFile() as f:
            f.write(blob)
            f.flush()
            st, h, b = self.curl("-H", "Content-Type: application/octet-stream", "--data-binary", "@" + f.name,
                                 self.path_url + "curl/blob")
        self.assertEqual(st, 200, b)
        out = json.loads(b)
        self.assertEqual((out["length"], out["sha256"]), (len(blob), hashlib.sha256(blob).hexdigest()))

    def test_curl_cors(self):
        pre = ["-X", "OPTIONS", "-H", "Access-Control-Request-Method: POST",
               "-H", "Access-Control-Request-Headers: content-type,x-custom"]
        st, h, _ = self.curl(*pre, "-H", "Origin: " + self.origin_ok, self.path_url + "calc")
        self.assertEqual(st, 200)
        self.assertEqual(h.get("access-control-allow-origin"), self.origin_ok)
        self.assertEqual(h.get("access-control-allow-methods"), "POST,GET")
        self.assertEqual(h.get("access-control-allow-headers"), "content-type,x-custom")
        self.assertEqual(h.get("access-control-max-age"), "5")
        st, h, _ = self.curl(*pre, "-H", "Origin: " + self.origin_bad, self.path_url + "calc")
        self.assertNotIn("access-control-allow-origin", h)
        # an actual request carries Allow-Origin and Expose-Headers only for the allowed origin
        st, h, _ = self.curl("-H", "Origin: " + self.origin_ok, "-H", "Host: " + self.host,
                             "%s/calc" % self.server.endpoint)
        self.assertEqual(st, 200)
        self.assertEqual(h.get("access-control-allow-origin"), self.origin_ok)
        self.assertEqual(h.get("access-control-expose-headers"), "x-calc")
        st, h, _ = self.curl("-H", "Origin: " + self.origin_bad, self.path_url + "calc")
        self.assertEqual(st, 200)
        self.assertNotIn("access-control-allow-origin", h)

    # ---- plain http.client ----

    def test_http_client(self):
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            socks = []
            for i, (path, hd) in enumerate([("/_lambdad/url/%s/hc/path?i=0" % self.url_id, {}),
                                            ("/hc/host?i=1", {"Host": self.host}),
                                            ("/_lambdad/url/%s/hc/again?i=2" % self.url_id, {})]):
                n = uuid.uuid4().hex
                c.request("POST", path, body=json.dumps({"a": 2, "b": 3, "nonce": n}),
                          headers=dict(hd, **{"Content-Type": "application/json"}))
                r = c.getresponse()
                body = r.read()
                out = self.check_calc(r.status, {k.lower(): v for k, v in r.getheaders()}, body,
                                      path.split("?")[0].replace("/_lambdad/url/%s" % self.url_id, ""), n)
                self.assertEqual(out["query"], "i=%d" % i)
                socks.append(c.sock)
            # http.client keeps one connection alive across the three requests
            self.assertIsNotNone(socks[0])
            self.assertTrue(all(s is socks[0] for s in socks), socks)
            # a large binary body, and a GET without one
            blob = os.urandom(300 * 1000)
            c.request("PUT", "/hc/blob", body=blob, headers={"Host": self.host,
                                                             "Content-Type": "application/octet-stream"})
            r = c.getresponse()
            out = json.loads(r.read())
            self.assertEqual(r.status, 200)
            self.assertEqual((out["method"], out["length"], out["sha256"]),
                             ("PUT", len(blob), hashlib.sha256(blob).hexdigest()))
            c.request("GET", "/_lambdad/url/%s/hc/get" % self.url_id)
            r = c.getresponse()
            out = json.loads(r.read())
            self.assertEqual((r.status, out["method"], out["path"], out["length"]), (200, "GET", "/hc/get", 0))
        finally:
            c.close()

    # ---- a browser ----

    def browser(self, pages_srv, origin, targets, name):
        """Serves a page with the fetch script on pages_srv, loads it in Chromium, returns its results."""
        pages_srv.RequestHandlerClass.pages["/%s.html" % name] = PAGE % json.dumps(targets)
        rc, dom, err = run_chromium("%s/%s.html" % (origin, name))
        m = re.search(r"RESULT:(.*?):END", dom, re.S)
        self.assertIsNotNone(m, "no result in the DOM (chromium exit %s)\nDOM: %s\nstderr: %s"
                             % (rc, dom[-2000:], err[-2000:]))
        return json.loads(html.unescape(m.group(1)))

    def skip_without_chromium(self):
        why = chromium_usable()
        if why:
            print("\nSKIP browser test: " + why, file=sys.stderr)
            self.skipTest(why)

    def json_targets(self, names):
        targets = [{"name": "path", "kind": "json", "url": self.path_url + "browser/path?via=path",
                    "nonce": uuid.uuid4().hex},
                   {"name": "host", "kind": "json", "url": self.url + "browser/host?via=host",
                    "nonce": uuid.uuid4().hex}]
        return [t for t in targets if t["name"] in names]

    def test_browser_fetch_from_allowed_origin(self):
        self.skip_without_chromium()
        targets = self.json_targets(("path", "host"))
        res = self.browser(self.pages_ok, self.origin_ok, targets, "allowed")
        for t in targets:
            r = res.get(t["name"])
            self.assertIsNotNone(r, res)
            self.assertNotIn("error", r, "%s: %s" % (t["url"], r))
            self.assertEqual((r["type"], r["status"]), ("cors", 200), r)
            self.assertEqual(r["calc"], "yes", r)   # readable only through ExposeHeaders
            out = r["json"]
            self.assertEqual(out["sum"], 5)
            self.assertEqual(out["nonce"], t["nonce"])
            self.assertEqual(out["method"], "POST")
            self.assertEqual(out["path"], "/browser/%s" % t["name"])
            self.assertEqual(out["query"], "via=%s" % t["name"])
            # the custom header got through, so the preflight was answered and accepted
            self.assertEqual(out["custom"], "1")
            self.assertEqual(out["origin"], self.origin_ok)

    def test_browser_fetch_from_other_origin_is_blocked(self):
        self.skip_without_chromium()
        targets = self.json_targets(("path", "host"))
        # a no-cors simple request from the same page shows lambdad is reachable from it
        targets.append({"name": "opaque", "kind": "opaque", "url": self.path_url + "browser/opaque"})
        res = self.browser(self.pages_bad, self.origin_bad, targets, "blocked")
        for name in ("path", "host"):
            self.assertIn("error", res.get(name, {}), res)
            self.assertIn("TypeError", res[name]["error"], res)
        self.assertEqual(res.get("opaque"), {"type": "opaque", "status": 0}, res)


if __name__ == "__main__":
    unittest.main()
