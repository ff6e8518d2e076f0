"""Connection slots and header limits of the HTTP front (issue 19, items 2 and 4): clients that
trickle bytes, hold many sockets or send slow bodies cannot lock others out; the open-file limit is
raised to what --max-connections needs; large header blocks (a 13 KB User-Agent) are served up to
the documented limit and refused with 431 past it. Loopback only (127.0.0.0/8); every loop is
bounded in count and time."""
import functools
import http.client
import os
import resource
import select
import socket
import subprocess
import time
import unittest

import harness
from harness import LambdadTestCase, Server

REQ_LINE = b"GET /2016-08-19/account-settings HTTP/1.1\r\nHost: x\r\n"


def open_slow(port, n, source):
    """n non-blocking sockets from source, each having sent a request line and the start of a
    header; returns the list (connects refused at once are dropped)."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((source, 0))
            s.connect_ex(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        socks.append(s)
    # connected (or refused) once writable
    deadline = time.time() + 20
    poll = select.poll()
    byfd = {s.fileno(): s for s in socks}
    for fd in byfd:
        poll.register(fd, select.POLLOUT)
    while byfd and time.time() < deadline:
        for fd, _ in poll.poll(1000):
            poll.unregister(fd)
            try:
                byfd.pop(fd).send(REQ_LINE + b"X-Slow: ")
            except OSError:
                pass
    return socks


def trickle(socks):
    """One more header byte on every socket still open; returns how many took it."""
    alive = 0
    for s in socks:
        try:
            if s.send(b"a") == 1:
                alive += 1
        except OSError:
            pass
    return alive


def closed_by_peer(s):
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def server_fds(server):
    return len(os.listdir("/proc/%d/fd" % server.proc.pid))


def timed_get(port, timeout):
    """(seconds, status) of one GET account-settings from 127.0.0.1, or (seconds, None)."""
    t0 = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            s.sendall(REQ_LINE + b"\r\n")
            data = s.recv(64)
        finally:
            s.close()
        status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None
    except OSError:
        status = None
    return time.time() - t0, status


class TestSlowSockets(LambdadTestCase):
    """The default caps: 4,100 sockets trickling header bytes from one address, against a client
    whose signatures are verified (--auth enforce)."""

    SLOW = 4100
    server_args = ("--auth", "enforce")

    def test_4100_slow_sockets_leave_a_signed_client_served(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = self.SLOW + 200
        if soft < need and hard >= need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        n = min(self.SLOW, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)
        self.assertGreaterEqual(n, 4100, "this machine's open-file limit is too low for the test")
        lam = self.server.client_for(self.server.create_key("111111111111"))
        self.assertIn("AccountLimit", lam.get_account_settings())
        socks = open_slow(self.server.port, n, "127.0.0.2")
        try:
            self.assertEqual(len(socks), n)
            worst = 0.0
            t_end = time.time() + 8
            rounds = 0
            while time.time() < t_end and rounds < 10:
                rounds += 1
                trickle(socks)
                t0 = time.time()
                out = lam.get_account_settings()
                worst = max(worst, time.time() - t0)
                self.assertIn("AccountLimit", out)
                time.sleep(2)
            self.assertLess(worst, 1.0)
            # the per-address cap held: the server keeps 256 of them, not 4,100
            self.assertLess(server_fds(self.server), 1000)
            self.assertLessEqual(trickle(socks), 256 + 10)
        finally:
            for s in socks:
                s.close()


class TestDeadlines(LambdadTestCase):
    """Small caps and deadlines so that the slots fill and free within seconds."""

    server_args = ("--max-connections", "64", "--max-connections-per-address", "8",
                   "--header-timeout", "2", "--min-body-rate", "1000")

    def test_header_deadline_frees_slots_taken_from_many_addresses(self):
        socks = []
        try:
            for i in range(10):  # 127.0.0.2 .. 127.0.0.11, 8 each: 80 > 64 slots
                socks += open_slow(self.server.port, 8, "127.0.0.%d" % (i + 2))
            time.sleep(0.3)
            trickle(socks)
            # every slot is taken: a client is not served meanwhile
            took, status = timed_get(self.server.port, 0.8)
            self.assertIsNone(status)
            # the trickling goes on, yet the header deadline (2 s) frees the slots
            t0 = time.time()
            status = None
            while status is None and time.time() - t0 < 8:
                trickle(socks)
                took, status = timed_get(self.server.port, 0.5)
            self.assertEqual(status, 200)
            self.assertLess(time.time() - t0, 4.5)
            # the 16 that waited in the listen queue are accepted, then cut in turn
            t1 = time.time()
            while not all(closed_by_peer(s) for s in socks) and time.time() - t1 < 6:
                trickle(socks)
                time.sleep(0.5)
            self.assertTrue(all(closed_by_peer(s) for s in socks))
        finally:
            for s in socks:
                s.close()
        took, status = timed_get(self.server.port, 5)
        self.assertEqual(status, 200)
        self.assertLess(took, 1)

    def test_per_address_cap(self):
        socks = open_slow(self.server.port, 20, "127.0.0.20")
        try:
            time.sleep(0.5)
            self.assertEqual(sum(not closed_by_peer(s) for s in socks), 8)
            took, status = timed_get(self.server.port, 5)  # another address is served
            self.assertEqual(status, 200)
        finally:
            for s in socks:
                s.close()

    def slow_post(self, length, chunk, every, budget):
        """Posts length bytes (a CreateFunction body) in chunks; returns (seconds, answer) where
        answer is the response's first bytes or b"" when the server closed the connection."""
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=budget)
        t0 = time.time()
        try:
            s.sendall(b"POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % length)
            sent = 0
            while sent < length and time.time() - t0 < budget:
                n = min(chunk, length - sent)
                s.sendall(b" " * n)
                sent += n
                r, _, _ = select.select([s], [], [], every)
                if r:
                    break
            s.settimeout(max(0.5, budget - (time.time() - t0)))
            try:
                data = s.recv(64)
            except OSError:
                data = b""
            return time.time() - t0, data
        except OSError:
            return time.time() - t0, b""
        finally:
            s.close()

    def test_slow_body_is_cut(self):
        took, data = self.slow_post(100000, 50, 0.5, 15)  # 100 B/s against a floor of 1000
        self.assertEqual(data, b"")
        self.assertGreater(took, 4)
        self.assertLess(took, 8)

    def test_steady_body_is_served(self):
        took, data = self.slow_post(60000, 1000, 0.1, 20)  # ~10 KB/s for ~6 s: over two windows
        self.assertGreater(took, 5)
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data)  # spaces are not JSON: answered

    def test_idle_keep_alive_connection_is_kept(self):
        # the header deadline runs from the request line, not while a connection waits between
        # requests
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        try:
            for _ in range(2):
                c.request("GET", "/2016-08-19/account-settings")
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                sock = c.sock
                time.sleep(3.5)
            self.assertIs(c.sock, sock)  # the same connection
        finally:
            c.close()


class TestHeaderLimits(LambdadTestCase):
    """README's Limits: a request line and header block of up to 32 KB (libmicrohttpd's
    connection memory, which also holds the parsed headers: a few hundred bytes less in practice)."""

    def raw(self, block):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            s.sendall(block)
            data = b""
            while b"\r\n" not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data
        finally:
            s.close()

    def test_boto3_call_with_a_13kb_user_agent(self):
        import boto3
        from botocore.config import Config
        ua = "x" * (13 * 1024)
        lam = boto3.client("lambda", endpoint_url=self.server.endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test",
                           config=Config(user_agent=ua, retries={"max_attempts": 1}))
        seen = []
        lam.meta.events.register("before-send.lambda.*",
                                 lambda request, **kw: seen.append(request.headers["User-Agent"]))
        out = lam.get_account_settings()
        self.assertIn("AccountLimit", out)
        self.assertGreaterEqual(len(seen[0]), 13 * 1024)  # the header did go out at that size
        fn = self.create()["FunctionName"]
        self.assertEqual(lam.get_function(FunctionName=fn)["Configuration"]["FunctionName"], fn)

    def test_30kb_of_headers_are_served(self):
        block = REQ_LINE + b"".join(b"X-Pad-%02d: %s\r\n" % (i, b"p" * 1000) for i in range(30)) + b"\r\n"
        self.assertGreater(len(block), 29 * 1024)
        self.assertTrue(self.raw(block).startswith(b"HTTP/1.1 200"))
        block = REQ_LINE + b"X-Big: " + b"a" * 32000 + b"\r\n\r\n"
        self.assertTrue(self.raw(block).startswith(b"HTTP/1.1 200"))

    def test_header_block_over_the_limit_gets_431(self):
        for block in (REQ_LINE + b"X-Big: " + b"a" * (33 * 1024) + b"\r\n\r\n",
                      REQ_LINE + b"".join(b"X-Pad-%02d: %s\r\n" % (i, b"p" * 1000) for i in range(34)) + b"\r\n"):
            self.assertTrue(self.raw(block).startswith(b"HTTP/1.1 431"))
        took, status = timed_get(self.server.port, 5)
        self.assertEqual(status, 200)


class TestOpenFileLimit(unittest.TestCase):
    def start_with(self, soft, hard, *args):
        orig = subprocess.Popen
        subprocess.Popen = functools.partial(
            orig, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
        try:
            return Server(extra_args=args).start()
        finally:
            subprocess.Popen = orig

    def limits(self, server):
        with open("/proc/%d/limits" % server.proc.pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3]), int(line.split()[4])

    def test_soft_limit_raised_for_max_connections(self):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY and hard < 6000:
            self.skipTest("hard open-file limit %d" % hard)
        server = self.start_with(512, 6000, "--max-connections", "4000")
        try:
            self.assertEqual(self.limits(server), (5024, 6000))
        finally:
            server.stop()

    def test_low_hard_limit_is_said(self):
        server = self.start_with(512, 2000)
        try:
            self.assertEqual(self.limits(server), (2000, 2000))
            with open(server.log_path) as f:
                log = f.read()
            self.assertIn("open-file limit is 2000 (hard 2000)", log)
            self.assertIn("serving at most 1000 connections", log)
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
