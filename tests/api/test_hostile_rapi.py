"""A hostile function cannot use another environment's Runtime API.

Every environment's Runtime API listens on a loopback port of the host's
network namespace, so any function can connect to any of them. lambdad
serves a connection only when the connecting socket belongs to the uid that
environment runs as (rapi.c's owner check; docs/execution.md, "Runtime API
isolation"), and each environment runs as a uid of its own.

Function A (the victim) reports its AWS_LAMBDA_RUNTIME_API and request id.
While one of A's invocations is in flight (A holds it open on a loopback
socket of this test, after telling the test its request id), function B (the
attacker) connects to A's port and tries to post a forged response and an
error for that very request id, to take A's next event (GET /next) and to
report an init error. Each attempt must fail at the connection (reset,
closed with nothing read, or refused), A's caller must get A's own result,
and A must keep serving afterwards from the same environment.

Needs root (per-environment uids); skipped otherwise.
"""
import json
import os
import socket
import threading
import unittest

from harness import LambdadTestCase, ROLE, make_zip

VICTIM = r'''
import os, socket

def handler(event, context):
    hold = event.get("hold")
    if hold:
        # tell the test which request is in flight, then wait until it lets go
        s = socket.create_connection(("127.0.0.1", hold), timeout=25)
        s.sendall(context.aws_request_id.encode() + b"\n")
        while s.recv(64):
            pass
        s.close()
    return {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "uid": os.getuid(),
            "id": context.aws_request_id, "n": event.get("n")}
'''

ATTACKER = r'''
import os, socket

def attempt(addr, request):
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        try:
            s.connect((host, int(port)))
        except ConnectionRefusedError:
            return "refused"
        s.sendall(request)
        data = s.recv(4096)
        if not data:
            return "closed"
        return "answered: " + data.split(b"\r\n", 1)[0].decode("latin-1")
    except ConnectionResetError:
        return "reset"
    except BrokenPipeError:
        return "reset"
    except socket.timeout:
        return "held"  # accepted and kept waiting (a GET /next that waits for an event)
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()

def post(path, body, extra=b""):
    return (b"POST /2018-06-01/runtime/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
            b"Content-Length: %d\r\n\r\n%s" % (path.encode(), extra, len(body), body))

def handler(event, context):
    target, rid = event["target"], event["id"]
    forged = b'{"stolen": true}'
    return {
        "uid": os.getuid(),
        "response": attempt(target, post("invocation/%s/response" % rid, forged)),
        "error": attempt(target, post("invocation/%s/error" % rid, b'{"errorMessage":"x","errorType":"Stolen"}',
                                      b"Lambda-Runtime-Function-Error-Type: Unhandled\r\n")),
        "next": attempt(target, b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"),
        "init_error": attempt(target, post("init/error", b'{"errorMessage":"x","errorType":"Runtime.Stolen"}')),
    }
'''

FAILED_AT_CONNECTION = ("reset", "closed", "refused")


@unittest.skipUnless(os.geteuid() == 0, "per-environment uids need root")
class TestHostileRuntimeApi(LambdadTestCase):
    def function(self, code):
        name = self.name("rapi")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Timeout=30, Code={"ZipFile": make_zip({"app.py": code})})
        return name

    def invoke(self, name, event):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event))
        return r.get("FunctionError"), json.loads(r["Payload"].read())

    def test_another_environment_cannot_take_or_answer_invocations(self):
        a, b = self.function(VICTIM), self.function(ATTACKER)
        err, first = self.invoke(a, {"n": 1})
        self.assertIsNone(err, first)
        self.assertEqual(first["n"], 1)

        # an invocation of A in flight, its request id known
        hold = socket.socket()
        hold.bind(("127.0.0.1", 0))
        hold.listen(1)
        hold.settimeout(25)
        held, conn = {}, None
        t = threading.Thread(target=lambda: held.update(r=self.invoke(a, {"n": 2, "hold": hold.getsockname()[1]})))
        t.start()
        try:
            conn, _ = hold.accept()
            conn.settimeout(25)
            inflight = b""
            while not inflight.endswith(b"\n"):
                chunk = conn.recv(64)
                if not chunk:
                    break
                inflight += chunk
            inflight = inflight.decode().strip()
            self.assertTrue(inflight)

            err, attack = self.invoke(b, {"target": first["api"], "id": inflight})
            self.assertIsNone(err, attack)
        finally:
            if conn:
                conn.close()  # A returns
            hold.close()
            t.join(30)
        self.assertNotEqual(attack["uid"], first["uid"], "A and B run as the same uid")
        for what in ("response", "error", "next", "init_error"):
            self.assertIn(attack[what], FAILED_AT_CONNECTION, "%s: %s" % (what, attack))

        # A's caller got A's own answer, not the forged one
        self.assertIn("r", held)
        err, second = held["r"]
        self.assertIsNone(err, second)
        self.assertEqual((second["n"], second["id"]), (2, inflight))
        # and A goes on from the same environment
        err, third = self.invoke(a, {"n": 3})
        self.assertIsNone(err, third)
        self.assertEqual((third["n"], third["api"]), (3, first["api"]))
        self.assertIn("refused a connection from uid %d" % attack["uid"], self.server.log())


if __name__ == "__main__":
    unittest.main()
