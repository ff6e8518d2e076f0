"""Black-box test harness: runs the real build/test/lambdad binary.

Each test class gets its own server on a free loopback port with a temporary
data directory (LambdadTestCase.setUpClass), and boto3 clients pointed at it.
Helpers here build zip files in memory and run the AWS CLI against the server.
The binary defaults to the sanitizer build; LAMBDAD_BIN overrides it.
"""
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import zipfile

import boto3
import botocore.config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("LAMBDAD_BIN", os.path.join(ROOT, "build", "test", "lambdad"))
ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_zip(files=None):
    """A zip (bytes) holding files {name: text}; default: a python handler."""
    files = files or {"app.py": "def handler(event, context):\n    return event\n"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def start_moto(attempts=3, script=None):
    """moto's server (S3, SQS, SNS, Kinesis, DynamoDB ... stand-ins) on a free loopback port, picked
    right before it binds and picked again if another process took it meanwhile. Returns (proc, port);
    stop it with stop_process(proc)."""
    for _ in range(attempts):
        port = free_port()
        run = [script] if script else ["-m", "moto.server"]
        proc = subprocess.Popen([sys.executable] + run + ["-H", "127.0.0.1", "-p", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 30
        while proc.poll() is None and time.time() < end:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/moto-api/" % port, timeout=1).close()
                return proc, port
            except OSError:
                time.sleep(0.1)
        stop_process(proc)
    raise RuntimeError("moto's server did not start")


def stop_process(proc):
    """TERM, then KILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Server:
    """One lambdad process with its own data directory. With cwd, the server runs in that directory
    (data_dir may then be relative to it, as `make run`'s ./data is) and its log goes there."""

    def __init__(self, data_dir=None, extra_args=(), env=None, cwd=None):
        self.port = free_port()
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="lambdad-test-")
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.cwd = cwd
        self.proc = None
        self.log_path = os.path.join(cwd or self.data_dir, "server.log")

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir]
                + self.extra_args, stdout=log, stderr=log, env=self.env, cwd=self.cwd)
        # generous: a restart after kill -9 first reaps the dead daemon's environments, which
        # takes seconds on a loaded machine; ready ends the wait at once
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("lambdad exited early: " + self.log())
            try:
                with urllib.request.urlopen(self.endpoint + "/2016-08-19/account-settings", timeout=1) as r:
                    if r.status == 200:
                        return self
            except urllib.error.HTTPError as e:
                if e.code == 403:  # --auth enforce: it answers, unsigned requests are refused
                    return self
                time.sleep(0.02)
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("lambdad did not become ready: " + self.log())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def stop_clean(self):
        """stop(), then the check every test server passes: exit 0 and silent sanitizers."""
        code = self.stop()
        log = self.log()
        if code != 0 or "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError("lambdad exit %s, log:\n%s" % (code, log))

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def client(self, service="lambda", region=REGION, validate=True, **kw):
        """A boto3 client of the server; validate=False turns botocore's own parameter checks off, so
        that what it would refuse reaches lambdad (as AWS's recordings were made)."""
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id="test", aws_secret_access_key="test",
            config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=30,
                                          parameter_validation=validate), **kw)

    def keys(self, *args):
        """Runs `lambdad keys ARGS --data-dir DATA`; returns its parsed JSON output (or None)."""
        p = subprocess.run([BIN, "keys"] + list(args) + ["--data-dir", self.data_dir],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError("lambdad keys %s failed: %s" % (" ".join(args), p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def create_key(self, account, **kw):
        """A new access key of `account` ({"AccessKeyId", "SecretAccessKey", ...})."""
        args = ["create", "--account-id", account]
        for k, v in kw.items():
            args += ["--" + k.replace("_", "-"), str(v)]
        return self.keys(*args)["AccessKey"]

    def client_for(self, key, service="lambda", region=REGION, **kw):
        """A boto3 client signing with `key` (from create_key)."""
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
            aws_session_token=key.get("SessionToken"),
            config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=30), **kw)

    def cli(self, *args, check=True):
        """Runs `aws lambda ...` against the server; returns parsed JSON (or None)."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER="")
        p = subprocess.run(["aws", "--endpoint-url", self.endpoint, "lambda"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("aws lambda %s failed: %s" % (" ".join(args), p.stderr))
        if p.returncode != 0:
            return p
        return json.loads(p.stdout) if p.stdout.strip() else None


class LambdadTestCase(unittest.TestCase):
    """A test class with one server (self.server) and a boto3 client (self.lam)."""

    server_args = ()
    server_env = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=cls.server_args, env=cls.server_env).start()
        cls.lam = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_clean()
        finally:
            cls.server.cleanup()

    _n = 0

    def name(self, prefix="fn"):
        LambdadTestCase._n += 1
        return "%s-%d-%d" % (prefix, os.getpid(), LambdadTestCase._n)

    def create(self, name=None, **kw):
        args = dict(FunctionName=name or self.name(), Runtime="python3.12", Handler="app.handler",
                    Role=ROLE, Code={"ZipFile": make_zip()})
        args.update(kw)
        return self.lam.create_function(**args)

    def final_state(self, name, deadline_s=10.0):
        """Waits (bounded) until $LATEST is neither Pending nor InProgress, whatever it became (Active or
        Failed); returns its configuration."""
        end = time.time() + deadline_s
        while True:
            c = self.lam.get_function_configuration(FunctionName=name)
            if c["State"] != "Pending" and c.get("LastUpdateStatus") != "InProgress":
                return c
            if time.time() > end:
                self.fail("function %s did not settle: %s" % (name, c))
            time.sleep(0.02)

    def settled(self, name, qualifier=None, deadline_s=5.0):
        """Waits (bounded) until the configuration ($LATEST unless qualifier) is Active and not
        InProgress; returns it."""
        end = time.time() + deadline_s
        kw = {"Qualifier": qualifier} if qualifier else {}
        while True:
            c = self.lam.get_function_configuration(FunctionName=name, **kw)
            if c["State"] == "Active" and c.get("LastUpdateStatus") != "InProgress":
                return c
            if time.time() > end:
                self.fail("function %s did not settle: %s" % (name, c))
            time.sleep(0.02)

    def wait_mapping_state(self, uuid, state, deadline_s=10.0):
        """Waits (bounded) until event source mapping uuid is in state (Enabled, Disabled, ...)."""
        end = time.time() + deadline_s
        while self.lam.get_event_source_mapping(UUID=uuid)["State"] != state:
            self.assertLess(time.time(), end)
            time.sleep(0.05)

    def assertError(self, code, fn, *args, message=None, status=None, **kw):
        """Calls fn and checks AWS's error code, message and HTTP status."""
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            fn(*args, **kw)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message)
        if status is not None:
            self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status)
        return err


class MotoTestCase(LambdadTestCase):
    """A LambdadTestCase whose server talks to moto's server (S3, SQS, SNS ... stand-ins), started on a
    free loopback port before the class's lambdad, which gets it as --aws-endpoint-url (before the
    class's own moto_server_args), and stopped after it. cls.moto_url; cls.aws(SERVICE) is a boto3
    client on moto. A class prepares its resources in setUpMoto (moto is up, lambdad not yet)."""

    moto_server_args = ()
    moto_script = None  # a script that runs moto's server with corrections of its own (moto_resharding.py)

    @classmethod
    def aws(cls, service):
        return boto3.client(service, endpoint_url=cls.moto_url, region_name=REGION, aws_access_key_id="test",
                            aws_secret_access_key="test", config=botocore.config.Config(retries={"max_attempts": 0}))

    @classmethod
    def setUpMoto(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.moto, cls.moto_port = start_moto(script=cls.moto_script)
        cls.moto_url = "http://127.0.0.1:%d" % cls.moto_port
        cls.server_args = ("--aws-endpoint-url", cls.moto_url) + tuple(cls.moto_server_args)
        try:
            cls.setUpMoto()
            super().setUpClass()
        except Exception:
            stop_process(cls.moto)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            stop_process(cls.moto)
