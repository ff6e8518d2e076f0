"""Environments are frozen between invocations, and get CPU in proportion to
their memory (issue 19 items 5 and 6).

As on Lambda, once a function has answered and its runtime waits for the
next invocation, nothing of its environment runs: a thread or a child
process the handler left behind stops until the next invoke (or SHUTDOWN,
or the reap). At FULL with cgroups that is the cgroup freezer; at
`--sandbox process` it is SIGSTOP / SIGCONT of the runtime's process group.
After init, an environment gets MemorySize / 1769 of one CPU (a cgroup CPU
quota), so a busy loop at 128 MB gets about 1/14 of a CPU.

The handlers count in /tmp from a thread or from forked children every
10 ms; the second invoke, 1 s after the first, reads how far the count got
while the environment was idle. Without a freeze it is ~100.
"""
import json
import os
import re
import time
import unittest

from harness import ROLE
from test_extensions import EXTENSION, Collector, zip_of
from test_hostile import host_pid_of
from test_invoke import InvokeCase

TICKER = r'''
import os, threading, time
STARTED = []

def tick(path):
    n = 0
    while True:
        n += 1
        with open(path + ".tmp", "w") as f:
            f.write(str(n))
        os.replace(path + ".tmp", path)
        time.sleep(0.01)

def count(path):
    try:
        with open(path) as f:
            return int(f.read() or 0)
    except (OSError, ValueError):
        return 0

def children(n):
    """n forked children that each count in /tmp/child-<i> until killed"""
    for i in range(n):
        if os.fork() == 0:
            try:
                tick("/tmp/child-%d" % i)
            finally:
                os._exit(0)

def handler(event, context):
    if event.get("mode") == "thread":
        first = count("/tmp/thread")
        if not STARTED:
            STARTED.append(threading.Thread(target=tick, args=("/tmp/thread",), daemon=True))
            STARTED[0].start()
        time.sleep(0.2)
        return {"first": first, "last": count("/tmp/thread")}
    if event.get("mode") == "children":
        first = [count("/tmp/child-%d" % i) for i in range(event["n"])]
        if not STARTED:
            STARTED.append(1)
            children(event["n"])
            # until each has counted (a loaded machine may take a while)
            end = time.monotonic() + 10
            while time.monotonic() < end and not all(count("/tmp/child-%d" % i) > 0 for i in range(event["n"])):
                time.sleep(0.01)
        return {"first": first, "last": [count("/tmp/child-%d" % i) for i in range(event["n"])]}
    if event.get("mode") == "busy":
        t0, c0 = time.monotonic(), time.process_time()
        while time.monotonic() - t0 < event["seconds"]:
            pass
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        return {"wall": wall, "cpu": cpu}
    return {}
'''

# an extension for INVOKE and SHUTDOWN without a telemetry subscription:
# frozen with the rest of its environment while idle, thawed for SHUTDOWN
QUIET_EXTENSION = r'''#!/usr/bin/env python3
import json, os, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"]

def tell(event):
    req = urllib.request.Request(os.environ["COLLECT_URL"], method="POST",
                                 data=json.dumps({"kind": "event", "data": event}).encode())
    urllib.request.urlopen(req, timeout=5).read()

req = urllib.request.Request(API + "/2020-01-01/extension/register", method="POST",
                             data=json.dumps({"events": ["INVOKE", "SHUTDOWN"]}).encode(),
                             headers={"Lambda-Extension-Name": "quiet"})
with urllib.request.urlopen(req) as r:
    ext_id = r.headers["Lambda-Extension-Identifier"]
while True:
    req = urllib.request.Request(API + "/2020-01-01/extension/event/next",
                                 headers={"Lambda-Extension-Identifier": ext_id})
    with urllib.request.urlopen(req) as r:
        event = json.loads(r.read())
    tell(event)
    if event["eventType"] == "SHUTDOWN":
        break
'''

IDLE_S = 1.0
# what the counters may advance between the two invokes' readings: the thaw
# lets them run while the second invoke reaches the handler (a few ticks);
# running on through the idle second would be ~100
MAX_ADVANCE = 25


def sandbox_line(server):
    with open(server.log_path, "rb") as f:
        for line in f.read().decode(errors="replace").splitlines():
            if "sandbox: " in line:
                return line
    return ""


def cgroup_dir(pid, controller):
    """The host path of pid's cgroup in a v1 controller's hierarchy, or None."""
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if controller in ctrls.split(","):
                    return "/sys/fs/cgroup/%s%s" % (controller, path)
    except OSError:
        return None
    return None


def read(path):
    with open(path) as f:
        return f.read().strip()


class FreezeCase(InvokeCase):
    """Shared by both levels."""
    runtime = "python3.12"

    def frozen_between(self, mode, n=0, memory=1024):
        """Two invokes IDLE_S apart; returns (what the first reported, what the second saw first)."""
        name = self.function({"app.py": TICKER}, runtime=self.runtime, MemorySize=memory, Timeout=30)
        a = self.invoke_json(name, {"mode": mode, "n": n})
        self.check_idle(name)
        time.sleep(IDLE_S)
        b = self.invoke_json(name, {"mode": mode, "n": n})
        return name, a, b

    def check_idle(self, name):
        pass

    def test_thread_stops_between_invokes(self):
        name, a, b = self.frozen_between("thread")
        self.assertGreater(a["last"], 5, a)  # it ran during the first invoke
        advance = b["first"] - a["last"]
        self.assertGreaterEqual(advance, 0, (a, b))
        self.assertLess(advance, MAX_ADVANCE, "the thread ran while idle: %r %r" % (a, b))
        # and it runs again during an invoke
        self.assertGreater(b["last"], b["first"], b)

    def test_children_stop_between_invokes(self):
        name, a, b = self.frozen_between("children", n=8)
        self.assertTrue(all(x > 0 for x in a["last"]), a)
        for i in range(8):
            advance = b["first"][i] - a["last"][i]
            self.assertLess(advance, MAX_ADVANCE, "child %d ran while idle: %r %r" % (i, a, b))


class TestFreezeFull(FreezeCase):
    """FULL with cgroups: the freezer and the CPU quota (the default under
    --auth enforce, asked for here on the loopback)."""
    server_args = ("--function-cpu", "proportional")

    def setUp(self):
        line = sandbox_line(self.server)
        if "sandbox: full" not in line or "+freezer" not in line:
            self.skipTest("no cgroup freezer here: %s" % line)

    def check_idle(self, name):
        # the host sees the environment's freezer cgroup FROZEN (v1) or
        # cgroup.events frozen 1 (v2) once it is idle
        pid = host_pid_of(name)
        self.assertIsNotNone(pid)
        d = cgroup_dir(pid, "freezer")
        end = time.time() + 2
        while True:
            if d:
                state = read(d + "/freezer.state")
                done = state == "FROZEN"
            else:
                with open("/proc/%d/cgroup" % pid) as f:
                    path = [l.split(":", 2)[2].strip() for l in f if l.startswith("0::")][0]
                state = read("/sys/fs/cgroup%s/cgroup.events" % path)
                done = "frozen 1" in state
            if done:
                return
            if time.time() > end:
                self.fail("not frozen while idle: %s" % state)
            time.sleep(0.02)

    def test_busy_loop_gets_its_share_of_a_cpu(self):
        if "+cpu" not in sandbox_line(self.server):
            self.skipTest("no cpu controller here")
        name = self.function({"app.py": TICKER}, MemorySize=128, Timeout=30)
        self.invoke_json(name, {})  # init (which runs unthrottled) is over
        out = self.invoke_json(name, {"mode": "busy", "seconds": 2.0})
        share = out["cpu"] / out["wall"]
        print("\n128 MB busy loop: %.3f CPU-seconds per second (%r)" % (share, out))
        self.assertGreater(out["wall"], 1.9, out)
        self.assertGreater(out["cpu"], 0.0, out)
        self.assertLess(share, 0.15, out)  # 128 / 1769 = 0.072
        # the quota that did it, and that it bit
        pid = host_pid_of(name)
        d = cgroup_dir(pid, "cpu")
        if d:
            self.assertEqual(read(d + "/cpu.cfs_period_us"), "100000")
            self.assertEqual(read(d + "/cpu.cfs_quota_us"), str(100000 * 128 // 1769))
            stat = dict(l.split() for l in read(d + "/cpu.stat").splitlines())
            self.assertGreater(int(stat["nr_throttled"]), 0, stat)

    def test_extension_frozen_then_shutdown(self):
        collector = Collector()
        self.addCleanup(collector.close)
        layer = self.lam.publish_layer_version(LayerName=self.name("quiet"), Content={"ZipFile": zip_of(
            {"extensions/quiet": (QUIET_EXTENSION, 0o755)})})["LayerVersionArn"]
        name = self.name("frz")
        self.lam.create_function(FunctionName=name, Runtime=self.runtime, Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": zip_of({"app.py": (TICKER, 0o644)})}, Layers=[layer],
                                 MemorySize=1024, Timeout=30,
                                 Environment={"Variables": {"COLLECT_URL": collector.url}})
        self.wait_ready(name)
        a = self.invoke_json(name, {"mode": "thread"})
        self.check_idle(name)
        time.sleep(IDLE_S)
        b = self.invoke_json(name, {"mode": "thread"})
        self.assertLess(b["first"] - a["last"], MAX_ADVANCE, (a, b))
        self.check_idle(name)
        self.lam.delete_function(FunctionName=name)  # SHUTDOWN reaches the frozen extension
        events = collector.wait(lambda: [e for e in collector.of("event") if e["eventType"] == "SHUTDOWN"])
        self.assertEqual([e["shutdownReason"] for e in events], ["spindown"])
        self.assertEqual(len([e for e in collector.of("event") if e["eventType"] == "INVOKE"]), 2)

    def test_telemetry_subscriber_frozen_once_its_events_are_out(self):
        """Lambda freezes "when there are no pending events": an extension
        subscribed to telemetry gets an invocation's events (platform.report
        included) before its environment is frozen, and nothing runs while
        it is."""
        collector = Collector()
        self.addCleanup(collector.close)
        layer = self.lam.publish_layer_version(LayerName=self.name("tele"), Content={"ZipFile": zip_of(
            {"extensions/tele": (EXTENSION, 0o755)})})["LayerVersionArn"]
        name = self.name("frzt")
        self.lam.create_function(FunctionName=name, Runtime=self.runtime, Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": zip_of({"app.py": (TICKER, 0o644)})}, Layers=[layer],
                                 MemorySize=1024, Timeout=30,
                                 Environment={"Variables": {"COLLECT_URL": collector.url}})
        self.wait_ready(name)

        def invoke():
            r = self.lam.invoke(FunctionName=name, Payload=json.dumps({"mode": "thread"}))
            rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
            out = json.loads(r["Payload"].read())
            collector.wait(lambda: [e for e in collector.telemetry() if e["type"] == "platform.report"
                                    and e["record"]["requestId"] == rid])
            return out

        a = invoke()
        self.check_idle(name)
        time.sleep(IDLE_S)
        b = invoke()
        self.assertGreater(a["last"], 5, a)
        self.assertLess(b["first"] - a["last"], MAX_ADVANCE, "the thread ran while idle: %r %r" % (a, b))
        self.check_idle(name)

    def test_quota_scales_with_memory(self):
        if "+cpu" not in sandbox_line(self.server):
            self.skipTest("no cpu controller here")
        name = self.function({"app.py": TICKER}, MemorySize=3538, Timeout=30)
        self.invoke_json(name, {})
        d = cgroup_dir(host_pid_of(name), "cpu")
        if d:
            self.assertEqual(read(d + "/cpu.cfs_quota_us"), "200000")  # two vCPUs


class TestCpuUnlimitedOnTheLoopback(InvokeCase):
    """--auth permissive (the loopback's default) leaves a function's CPU
    unlimited unless --function-cpu proportional says otherwise: frozen
    while idle all the same."""

    def test_no_quota_by_default(self):
        self.assertIn("function CPU: unlimited", open(self.server.log_path).read())
        name = self.function({"app.py": TICKER}, MemorySize=128, Timeout=30)
        self.invoke_json(name, {})
        d = cgroup_dir(host_pid_of(name), "cpu")
        if d:
            self.assertEqual(read(d + "/cpu.cfs_quota_us"), "-1")


class TestFreezeProcess(FreezeCase):
    """--sandbox process: SIGSTOP / SIGCONT of the runtime's process group.
    (python3.11: an interpreter the environment's uid can read, see test_hostile.)"""
    server_args = ("--sandbox", "process")
    runtime = "python3.11"

    def check_idle(self, name):
        pid = host_pid_of(name)
        self.assertIsNotNone(pid)
        end = time.time() + 2
        while True:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            if state == "T":
                return
            if time.time() > end:
                self.fail("runtime not stopped while idle: state %s" % state)
            time.sleep(0.02)


del FreezeCase

if __name__ == "__main__":
    unittest.main()
