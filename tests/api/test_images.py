"""Container image functions (PackageType Image, issue 15) without Docker: images are written by the
test as OCI layouts (tar layers, a config, a manifest) and pushed through the Registry HTTP API v2 to
Debian's docker-registry (distribution), started on a free loopback port. lambdad pulls them, unpacks
the layers once into its layer store and runs the image's root in its sandbox.

The image: busybox (Debian's busybox-static) and a shell bootstrap that speaks the Runtime API with
busybox wget and answers what it sees (its handler, arguments, working directory, variables, a file a
later layer deleted with a whiteout).
"""
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import base64
import http.server
import threading
import unittest
import urllib.error
import urllib.request

from harness import BIN, ROLE, LambdadTestCase, Server, free_port, make_zip

BOOTSTRAP = r'''API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  wget -q -S -O /tmp/event "$API/invocation/next" 2>/tmp/headers || exit 1
  RID=$(sed -n 's/^ *[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *//p' /tmp/headers | tr -d '\r')
  SECRET=absent; [ -e /etc/secret ] && SECRET=present
  BODY="{\"handler\":\"$_HANDLER\",\"args\":\"$*\",\"greeting\":\"$GREETING\",\"cwd\":\"$(pwd)\",\"secret\":\"$SECRET\",\"task\":\"$LAMBDA_TASK_ROOT\",\"event\":$(cat /tmp/event)}"
  wget -q -O /dev/null --post-data "$BODY" "$API/invocation/$RID/response"
done
'''


def layer_tar(entries):
    """A gzip'd tar of entries [(name, kind, data, mode)]: kind file, dir, symlink."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = 0
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def busybox_layers(secret_deleted=True, script=BOOTSTRAP):
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    base = [("bin", "dir", None, 0o755), ("bin/busybox", "file", busybox, 0o755)]
    base += [("bin/" + a, "symlink", "busybox", 0o777) for a in ("sh", "wget", "sed", "tr", "cat")]
    base += [("etc", "dir", None, 0o755), ("etc/secret", "file", b"s3cret\n", 0o644)]
    top = [("bootstrap.sh", "file", script.encode(), 0o755), ("work", "dir", None, 0o755)]
    if secret_deleted:
        top.append(("etc/.wh.secret", "file", b"", 0o644))
    return [layer_tar(base), layer_tar(top)]


class Registry:
    """Debian's docker-registry on a free loopback port, with its access log for counting requests."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lambdad-registry-")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.host = "127.0.0.1:%d" % self.port
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n"
                    "  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
                    "http:\n  addr: 127.0.0.1:%d\n" % (self.dir, self.port))
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 15
        while True:
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=1).read()
                break
            except Exception:
                if time.time() > end or self.proc.poll() is not None:
                    raise AssertionError("docker-registry did not start: " + self.logs())
                time.sleep(0.05)

    def logs(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def count(self, pattern):
        return len(re.findall(pattern, self.logs()))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def blob(self, repo, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        req = urllib.request.Request("%s/v2/%s/blobs/uploads/" % (self.url, repo), method="POST", data=b"")
        with urllib.request.urlopen(req) as r:
            loc = r.headers["Location"]
        if loc.startswith("/"):
            loc = self.url + loc
        sep = "&" if "?" in loc else "?"
        req = urllib.request.Request(loc + sep + "digest=" + digest, method="PUT", data=data,
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req).read()
        return digest

    def manifest(self, repo, ref, doc, media):
        data = json.dumps(doc).encode()
        req = urllib.request.Request("%s/v2/%s/manifests/%s" % (self.url, repo, ref), method="PUT", data=data,
                                     headers={"Content-Type": media})
        urllib.request.urlopen(req).read()
        return hashlib.sha256(data).hexdigest()

    def push(self, repo, tag, layers, config, index=False):
        """Pushes an OCI image (and, with index, an OCI index over it); returns the tag's digest (hex) and
        the image manifest's."""
        layer_descs = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": self.blob(repo, l),
                        "size": len(l)} for l in layers]
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": self.blob(repo, cfg), "size": len(cfg)},
                    "layers": layer_descs}
        if not index:
            d = self.manifest(repo, tag, manifest, "application/vnd.oci.image.manifest.v1+json")
            return d, d
        data = json.dumps(manifest).encode()
        mdigest = self.manifest(repo, "sha256:" + hashlib.sha256(data).hexdigest(), manifest,
                                "application/vnd.oci.image.manifest.v1+json")
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mdigest,
                              "size": len(data), "platform": {"architecture": "arm64", "os": "linux"}},
                             {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mdigest,
                              "size": len(data), "platform": {"architecture": "amd64", "os": "linux"}}]}
        return self.manifest(repo, tag, idx, "application/vnd.oci.image.index.v1+json"), mdigest


CONFIG = {"Entrypoint": ["/bin/sh", "/bootstrap.sh"], "Cmd": ["app.handler"], "Env": ["GREETING=from-image", "PATH=/bin"],
          "WorkingDir": "/work"}


class TestImages(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = Registry()
        try:
            super().setUpClass()
        except Exception:
            cls.registry.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.registry.stop()

    def image_function(self, uri, **kw):
        name = self.name("img")
        self.lam.create_function(FunctionName=name, PackageType="Image", Code={"ImageUri": uri}, Role=ROLE, **kw)
        return name, self.final_state(name, deadline_s=60)

    def invoke(self, name, event, qualifier=None):
        kw = {"Qualifier": qualifier} if qualifier else {}
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kw)
        body = r["Payload"].read()
        self.assertNotIn("FunctionError", r, body)
        return json.loads(body)

    def test_pull_and_invoke(self):
        digest, _ = self.registry.push("app", "v1", busybox_layers(), CONFIG)
        uri = "%s/app:v1" % self.registry.host
        name, cfg = self.image_function(uri)
        self.assertEqual(cfg["State"], "Active", cfg)
        self.assertEqual(cfg["PackageType"], "Image")
        self.assertEqual(cfg["CodeSha256"], digest)
        code = self.lam.get_function(FunctionName=name)["Code"]
        self.assertEqual(code["ImageUri"], uri)
        self.assertEqual(code["ResolvedImageUri"], "%s/app@sha256:%s" % (self.registry.host, digest))
        out = self.invoke(name, {"k": "v"})
        self.assertEqual(out, {"handler": "app.handler", "args": "app.handler", "greeting": "from-image",
                               "cwd": "/work", "secret": "absent", "task": "/var/task", "event": {"k": "v"}})
        # warm
        self.assertEqual(self.invoke(name, {"n": 2})["event"], {"n": 2})

        # a second function on the same image: the layers are not downloaded again
        layer_gets = self.registry.count(r'"GET /v2/app/blobs/sha256:[0-9a-f]{64} HTTP')
        name2, cfg2 = self.image_function(uri)
        self.assertEqual(cfg2["State"], "Active", cfg2)
        self.assertEqual(self.invoke(name2, {"again": True})["event"], {"again": True})
        # (only the config blob is fetched again)
        self.assertEqual(self.registry.count(r'"GET /v2/app/blobs/sha256:[0-9a-f]{64} HTTP'), layer_gets + 1)

    def test_image_config_overrides(self):
        self.registry.push("over", "v1", busybox_layers(), CONFIG)
        name, cfg = self.image_function("%s/over:v1" % self.registry.host,
                                        ImageConfig={"Command": ["other.handler", "x"], "WorkingDirectory": "/"})
        self.assertEqual(cfg["State"], "Active", cfg)
        self.assertEqual(cfg["ImageConfigResponse"]["ImageConfig"],
                         {"Command": ["other.handler", "x"], "WorkingDirectory": "/"})
        out = self.invoke(name, {})
        self.assertEqual((out["handler"], out["args"], out["cwd"]), ("other.handler", "other.handler x", "/"))

    def test_index_picks_the_architecture(self):
        tag_digest, manifest_digest = self.registry.push("multi", "v1", busybox_layers(), CONFIG, index=True)
        name, cfg = self.image_function("%s/multi:v1" % self.registry.host)
        self.assertEqual(cfg["State"], "Active", cfg)
        self.assertEqual(cfg["CodeSha256"], manifest_digest)
        self.assertEqual(self.invoke(name, {"m": 1})["event"], {"m": 1})

    def test_by_digest_and_update(self):
        d1, _ = self.registry.push("upd", "v1", busybox_layers(), CONFIG)
        name, cfg = self.image_function("%s/upd@sha256:%s" % (self.registry.host, d1))
        self.assertEqual(cfg["State"], "Active", cfg)
        v1 = self.lam.publish_version(FunctionName=name)["Version"]
        # a new image (no whiteout: the secret shows) under a new tag, through UpdateFunctionCode
        d2, _ = self.registry.push("upd", "v2", busybox_layers(secret_deleted=False), CONFIG)
        self.lam.update_function_code(FunctionName=name, ImageUri="%s/upd:v2" % self.registry.host)
        cfg = self.final_state(name, deadline_s=60)
        self.assertEqual((cfg["LastUpdateStatus"], cfg["CodeSha256"]), ("Successful", d2))
        self.assertEqual(self.invoke(name, {})["secret"], "present")
        # the published version keeps its digest
        self.assertEqual(self.invoke(name, {}, qualifier=v1)["secret"], "absent")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name, Qualifier=v1)["CodeSha256"], d1)

    def test_static_c_bootstrap_single_layer(self):
        """A one-layer image (bound, not stacked) holding only a static C runtime: bench/bootstrap.c, which
        echoes the event, as ENTRYPOINT ./bootstrap relative to WORKDIR."""
        work = tempfile.mkdtemp(prefix="lambdad-cboot-")
        try:
            exe = os.path.join(work, "bootstrap")
            src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                               "bench", "bootstrap.c")
            subprocess.run(["cc", "-O2", "-static", "-o", exe, src], check=True, timeout=120)
            with open(exe, "rb") as f:
                boot = f.read()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.registry.push("cboot", "v1", [layer_tar([("app", "dir", None, 0o755),
                                                      ("app/bootstrap", "file", boot, 0o755)])],
                           {"Entrypoint": ["./bootstrap"], "WorkingDir": "/app"})
        name, cfg = self.image_function("%s/cboot:v1" % self.registry.host)
        self.assertEqual(cfg["State"], "Active", cfg)
        r = self.lam.invoke(FunctionName=name, Payload=b'{"static": true}')
        self.assertEqual(json.loads(r["Payload"].read()), {"static": True})

    def test_python_handler_on_a_copied_root(self):
        """A python image built from this host's files: python3.11, the libraries it links, its standard
        library, lambdad's python runtime client at /var/runtime and a handler at /var/task; CMD names
        the handler, as AWS's base images do."""
        import glob
        entries, seen = [], set()

        def add_file(path, mode=None):
            real = os.path.realpath(path)
            name = path.lstrip("/")
            if name in seen:
                return
            seen.add(name)
            with open(real, "rb") as f:
                entries.append((name, "file", f.read(), mode or (os.stat(real).st_mode & 0o777)))

        add_file("/usr/bin/python3.11")
        out = subprocess.run(["ldd", "/usr/bin/python3.11"], capture_output=True, text=True, check=True).stdout
        for lib in re.findall(r"(/\S+\.so[.\d]*)", out):
            add_file(lib)
        skip = ("/test/", "/tests/", "/idlelib/", "/tkinter/", "/ensurepip/", "/lib2to3/", "/dist-packages/",
                "/__pycache__/", "/config-3.11")
        for path in glob.glob("/usr/lib/python3.11/**", recursive=True):
            if os.path.isfile(path) and not any(k in path + "/" for k in skip):
                add_file(path, 0o644)
        base = layer_tar(entries)
        rt = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "runtimes",
                          "python")
        top = []
        for f in ("bootstrap.py", "_lambdad_runtime.py"):
            with open(os.path.join(rt, f), "rb") as fh:
                top.append(("var/runtime/" + f, "file", fh.read(), 0o644))
        top.append(("var/task/app.py", "file", b"import sys\ndef handler(event, context):\n"
                    b"    return {'python': sys.version.split()[0], 'got': event,"
                    b" 'fn': context.function_name}\n", 0o644))
        self.registry.push("py", "v1", [base, layer_tar(top)],
                           {"Entrypoint": ["/usr/bin/python3.11", "/var/runtime/bootstrap.py"], "Cmd": ["app.handler"],
                            "WorkingDir": "/var/task", "Env": ["PATH=/usr/bin:/bin", "PYTHONPATH=/var/runtime"]})
        name, cfg = self.image_function("%s/py:v1" % self.registry.host)
        self.assertEqual(cfg["State"], "Active", cfg)
        out = self.invoke(name, {"hello": "image"})
        self.assertEqual(out["got"], {"hello": "image"})
        self.assertEqual(out["fn"], name)
        self.assertTrue(out["python"].startswith("3.11"), out)

    def test_extension_in_the_image(self):
        """Executables in the image's /opt/extensions start as external extensions, as on AWS."""
        ext = (b'API="http://$AWS_LAMBDA_RUNTIME_API/2020-01-01/extension"\n'
               b'wget -q -S -O /tmp/reg --header "Lambda-Extension-Name: busyext" '
               b'--post-data \'{"events":["INVOKE"]}\' "$API/register" 2>/tmp/regh\n'
               b'ID=$(sed -n "s/^ *[Ll]ambda-[Ee]xtension-[Ii]dentifier: *//p" /tmp/regh | tr -d "\\r")\n'
               b'echo "busyext registered"\n'
               b'while true; do wget -q -O /tmp/ev --header "Lambda-Extension-Identifier: $ID" "$API/event/next"'
               b' || exit 0; done\n')
        layers = busybox_layers() + [layer_tar([("opt/extensions/busyext", "file", b"#!/bin/sh\n" + ext, 0o755)])]
        self.registry.push("withext", "v1", layers, CONFIG)
        name, cfg = self.image_function("%s/withext:v1" % self.registry.host)
        self.assertEqual(cfg["State"], "Active", cfg)
        self.assertEqual(self.invoke(name, {"e": 1})["event"], {"e": 1})
        logs = subprocess.run([BIN, "logs", name, "--data-dir", self.server.data_dir], capture_output=True,
                              text=True, timeout=30).stdout
        self.assertIn("EXTENSION\tName: busyext\tState: Ready\tEvents: [INVOKE]", logs)
        self.assertIn("busyext registered", logs)

    def test_missing_tag(self):
        name, cfg = self.image_function("%s/app:no-such-tag" % self.registry.host)
        self.assertEqual((cfg["State"], cfg["StateReasonCode"]), ("Failed", "ImageAccessDenied"), cfg)
        self.assertEqual(cfg["StateReason"],
                         "Lambda does not have permission to access the ECR image. Check the ECR permissions.")
        err = self.assertError("ResourceConflictException", self.lam.invoke, FunctionName=name, Payload=b"{}")
        self.assertIn("Failed", err["Error"]["Message"])

    def test_invalid_layer(self):
        self.registry.push("bad", "v1", [b"this is not a tar archive at all" * 10], CONFIG)
        name, cfg = self.image_function("%s/bad:v1" % self.registry.host)
        self.assertEqual((cfg["State"], cfg["StateReasonCode"]), ("Failed", "InvalidImage"), cfg)


class TestCollection(unittest.TestCase):
    """At start-up, code archives, code trees and image layers that no version references any more are
    removed; what a live function uses stays, and it still runs after the restart (also after kill -9)."""

    def test_restart_collects(self):
        registry = Registry()
        server = Server().start()
        try:
            lam = server.client()
            registry.push("keep", "v1", busybox_layers(), CONFIG)
            registry.push("drop", "v1", [layer_tar([("only-here", "file", b"x", 0o644)])] + busybox_layers(), CONFIG)

            def create(name, **code):
                pkg = {"PackageType": "Image"} if "ImageUri" in code else {"Runtime": "python3.12",
                                                                             "Handler": "app.handler"}
                lam.create_function(FunctionName=name, Role=ROLE, Code=code, **pkg)
                end = time.time() + 60
                while lam.get_function_configuration(FunctionName=name)["State"] == "Pending" and time.time() < end:
                    time.sleep(0.05)
                return lam.invoke(FunctionName=name, Payload=b'{"x": 1}')["Payload"].read()

            keep_zip = make_zip({"app.py": "def handler(e, c):\n    return 'kept'\n"})
            drop_zip = make_zip({"app.py": "def handler(e, c):\n    return 'dropped'\n"})
            self.assertEqual(create("zkeep", ZipFile=keep_zip), b'"kept"')
            self.assertEqual(create("zdrop", ZipFile=drop_zip), b'"dropped"')
            create("ikeep", ImageUri=registry.host + "/keep:v1")
            create("idrop", ImageUri=registry.host + "/drop:v1")
            layers = os.path.join(server.data_dir, "layers")
            before = set(n for n in os.listdir(layers) if not n.startswith("."))
            self.assertEqual(len(before), 3)  # the busybox layers are shared; "drop" has one of its own
            blobs = sum(len(fs) for _, _, fs in os.walk(os.path.join(server.data_dir, "blobs")))
            lam.delete_function(FunctionName="zdrop")
            lam.delete_function(FunctionName="idrop")
            server.kill9()
            server.start()
            self.assertIn("removed 1 unreferenced code archives", server.log())
            after = set(n for n in os.listdir(layers) if not n.startswith("."))
            self.assertEqual(len(after), 2)
            self.assertTrue(after < before)
            self.assertEqual(sum(len(fs) for _, _, fs in os.walk(os.path.join(server.data_dir, "blobs"))), blobs - 1)
            lam = server.client()
            self.assertEqual(lam.invoke(FunctionName="zkeep", Payload=b"{}")["Payload"].read(), b'"kept"')
            r = lam.invoke(FunctionName="ikeep", Payload=b'{"still": 1}')
            self.assertEqual(json.loads(r["Payload"].read())["event"], {"still": 1})
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()
            registry.stop()


class AuthGate:
    """A token-auth front for the registry, as registries with bearer tokens behave: /v2/ requests without
    the token get 401 and a Bearer challenge; the realm hands out the token for basic credentials
    user:pass; requests with it go through to the registry."""

    TOKEN = "tok-%d" % os.getpid()

    def __init__(self, registry):
        outer = self
        self.tokens_issued = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/token"):
                    ok = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"user:pass").decode()
                    body = json.dumps({"token": outer.TOKEN}).encode() if ok else b"{}"
                    outer.tokens_issued += ok
                    self.send_response(200 if ok else 401)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.headers.get("Authorization") != "Bearer " + outer.TOKEN:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",service="gate",'
                                     'scope="repository:app:pull"' % outer.port)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                req = urllib.request.Request(registry.url + self.path, headers={"Accept": self.headers.get("Accept", "*/*")})
                try:
                    with urllib.request.urlopen(req) as r:
                        status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
                except urllib.error.HTTPError as e:
                    status, ctype, body = e.code, "application/json", e.read()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class TestRegistryAuth(LambdadTestCase):
    """An ECR-style URI mapped with --image-registry '*.amazonaws.com=http://user:pass@GATE' to a registry
    behind bearer-token auth: lambdad answers the challenge with the mapping's basic credentials."""

    @classmethod
    def setUpClass(cls):
        cls.registry = Registry()
        cls.gate = AuthGate(cls.registry)
        cls.server_args = ("--image-registry", "*.amazonaws.com=http://user:pass@127.0.0.1:%d" % cls.gate.port)
        try:
            super().setUpClass()
        except Exception:
            cls.gate.stop()
            cls.registry.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.gate.stop()
            cls.registry.stop()

    def test_bearer_token_through_basic_credentials(self):
        digest, _ = self.registry.push("app", "v1", busybox_layers(), CONFIG)
        name = self.name("ecr")
        uri = "000000000000.dkr.ecr.us-east-1.amazonaws.com/app:v1"
        self.lam.create_function(FunctionName=name, PackageType="Image", Code={"ImageUri": uri}, Role=ROLE)
        cfg = self.final_state(name, deadline_s=60)
        self.assertEqual((cfg["State"], cfg["CodeSha256"]), ("Active", digest), cfg)
        self.assertGreaterEqual(self.gate.tokens_issued, 1)
        self.assertEqual(self.lam.get_function(FunctionName=name)["Code"]["ResolvedImageUri"],
                         "000000000000.dkr.ecr.us-east-1.amazonaws.com/app@sha256:" + digest)
        r = self.lam.invoke(FunctionName=name, Payload=b'{"via": "ecr"}')
        self.assertEqual(json.loads(r["Payload"].read())["event"], {"via": "ecr"})


if __name__ == "__main__":
    unittest.main()
