"""A full disk (issue 19 item 7): a chatty function cannot stop writes.

The data directory lives on a 64 MB tmpfs mounted for the class (root, or `sudo -n`; skipped with the
reason otherwise), with --disk-reserve 8 MB and a log rate cap high enough that the reserve, not the
rate, is what stops the output. The tests run in name order: a function prints 100 MB, then the disk is
filled from outside by a filler file and emptied again.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import botocore.config
import boto3

from harness import ROLE, LambdadTestCase, Server, make_zip

MB = 1024 * 1024
SIZE = 64 * MB
RESERVE = 8 * MB

CHATTY = """import sys
def handler(event, context):
    line = "x" * 1023 + "\\n"
    for _ in range(100 * 1024):
        sys.stdout.write(line)
    sys.stdout.flush()
    print("chatty done")
    return "done"
"""


def mount_command():
    """The argv prefix that may mount a tmpfs here, or (None, the reason)."""
    if os.geteuid() == 0:
        return [], None
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"], None
    return None, "mounting a small tmpfs needs root or password-less sudo"


def avail(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class TestDiskFull(LambdadTestCase):
    """--disk-reserve 8 MB, and a rate cap so high that the reserve is what stops the output."""
    server_extra = ("--disk-reserve", str(RESERVE), "--logs-env-rate", str(1 << 30))
    reserve = RESERVE
    reserve_reached = True

    @classmethod
    def setUpClass(cls):
        cls.sudo, why = mount_command()
        if cls.sudo is None:
            raise unittest.SkipTest(why)
        cls.mnt = tempfile.mkdtemp(prefix="lambdad-disk-")
        cls.logdir = tempfile.mkdtemp(prefix="lambdad-disk-log-")
        p = subprocess.run(cls.sudo + ["mount", "-t", "tmpfs", "-o", "size=%d" % SIZE, "tmpfs", cls.mnt],
                           capture_output=True, text=True)
        if p.returncode != 0:
            shutil.rmtree(cls.mnt, ignore_errors=True)
            shutil.rmtree(cls.logdir, ignore_errors=True)
            raise unittest.SkipTest("cannot mount a tmpfs: " + p.stderr.strip())
        cls.filler = os.path.join(cls.mnt, "filler")
        try:
            cls.server = Server(data_dir=os.path.join(cls.mnt, "data"), cwd=cls.logdir,
                                extra_args=list(cls.server_extra)).start()
        except Exception:
            cls.unmount()
            raise
        cls.lam = cls.server.client()
        # the chatty invoke takes a while on a loaded machine under the sanitizers
        cls.slow = boto3.client("lambda", endpoint_url=cls.server.endpoint, region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test",
                                config=botocore.config.Config(retries={"max_attempts": 0}, read_timeout=600))
        cls.logs = cls.server.client("logs")

    @classmethod
    def unmount(cls):
        subprocess.run(cls.sudo + ["umount", "-l", cls.mnt], capture_output=True)
        shutil.rmtree(cls.mnt, ignore_errors=True)
        shutil.rmtree(cls.logdir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.unmount()

    def server_log(self):
        with open(self.server.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def deleted_files_held(self):
        """Files of the mount the server holds open or mapped after they were deleted."""
        pid = self.server.proc.pid
        held = []
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith(self.mnt) and target.endswith("(deleted)"):
                held.append(target)
        with open("/proc/%d/maps" % pid) as f:
            held += [l.split(None, 5)[-1] for l in f if self.mnt in l and l.rstrip().endswith("(deleted)")]
        return held

    def make_function(self, name, code=None, **kw):
        args = dict(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                    Code={"ZipFile": code or make_zip()}, Timeout=300, MemorySize=256)
        args.update(kw)
        self.lam.create_function(**args)
        self.settled(name, deadline_s=30)

    def events_of(self, group):
        """(stream, events) of the newest stream of a log group."""
        streams = self.logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                                 descending=True)["logStreams"]
        self.assertTrue(streams, group)
        r = self.logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                                     startFromHead=False, limit=100)
        return streams[0]["logStreamName"], r["events"]

    def test_1_chatty_function_cannot_stop_writes(self):
        cls = type(self)
        chatty = "chatty-%d" % os.getpid()
        self.make_function(chatty, make_zip({"app.py": CHATTY}))
        cls.chatty = chatty
        r = self.slow.invoke(FunctionName=cls.chatty)
        payload = r["Payload"].read()
        self.assertNotIn("FunctionError", r, payload)
        self.assertEqual(payload, b'"done"')
        # the log store stopped at the reserve: room is left beyond what the store's own writes take
        self.assertGreater(avail(self.mnt), self.reserve // 2)
        if self.reserve_reached:
            self.assertIn("reached its reserve of free space (--disk-reserve)", self.server_log())
        # writes: a new function, a concurrency setting, and a cold start of another function
        other = "other-%d" % os.getpid()
        cls.other = other
        self.make_function(other, make_zip({"app.py": "def handler(e, c):\n    print('other ran')\n    return e\n"}))
        self.lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=5)
        self.assertEqual(self.lam.get_function_concurrency(FunctionName=other)["ReservedConcurrentExecutions"], 5)
        r = self.lam.invoke(FunctionName=other, Payload=b'{"k": 1}')
        self.assertEqual(r["Payload"].read(), b'{"k": 1}')
        # and the logs are there to read: the newest of chatty's, and other's
        end = time.time() + 30
        while True:
            _, events = self.events_of("/aws/lambda/" + cls.chatty)
            if any("REPORT RequestId: " in e["message"] for e in events):
                break
            self.assertLess(time.time(), end, events[-3:])
            time.sleep(0.2)
        if self.reserve_reached:  # (under the rate cap, its last line may be one of those dropped)
            self.assertTrue(any("chatty done" in e["message"] for e in events))
        end = time.time() + 30
        while not any("other ran" in e["message"] for e in self.events_of("/aws/lambda/" + other)[1]):
            self.assertLess(time.time(), end)
            time.sleep(0.2)

    def test_2_full_disk_reads_and_deletes_work(self):
        cls = type(self)
        if not hasattr(cls, "other"):
            self.skipTest("test_1 did not run")
        cold = "cold-%d" % os.getpid()
        self.make_function(cold)
        # fill the file system from outside, up to the last byte
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            chunk = b"\1" * MB
            for _ in range(4 * SIZE // MB):
                try:
                    if os.write(fd, chunk) < len(chunk):
                        break
                except OSError:
                    break
            else:
                self.fail("the filler never filled the file system")
        finally:
            os.close(fd)
        try:
            self.assertLess(avail(self.mnt), MB)
            # reads
            self.assertEqual(self.lam.get_function(FunctionName=cls.other)["Configuration"]["FunctionName"], cls.other)
            names = [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]
            self.assertIn(cls.chatty, names)
            groups = [g["logGroupName"] for g in self.logs.describe_log_groups()["logGroups"]]
            self.assertIn("/aws/lambda/" + cls.chatty, groups)
            _, events = self.events_of("/aws/lambda/" + cls.chatty)
            self.assertTrue(events)
            # writes answer AWS's error, not a crash
            # (code of its own: an archive stored before is not stored again)
            err = self.assertError("ServiceException", self.make_function, "refused-%d" % os.getpid(),
                                   make_zip({"app.py": "def handler(e, c):\n    return 'refused'\n"}), status=500)
            self.assertIn("out of space", err["Error"]["Message"])
            # a cold start needs room for its code
            err = self.assertError("ServiceException", self.lam.invoke, FunctionName=cold, status=500)
            self.assertIn("out of space", err["Error"]["Message"])
            log = self.server_log()
            self.assertRegex(log, r"lambdad: disk: .*%s/data/\S+: No space left on device" % re.escape(self.mnt))
            # deletes work, and free what they delete
            self.lam.delete_function(FunctionName=cls.other)
            before = avail(self.mnt)
            self.logs.delete_log_group(logGroupName="/aws/lambda/" + cls.chatty)
            self.assertGreater(avail(self.mnt), before + 4 * MB)
            self.assertEqual(self.deleted_files_held(), [])
            self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=cls.other)
        finally:
            os.unlink(self.filler)
        # with the filler gone, writes work again
        again = "again-%d" % os.getpid()
        self.make_function(again)
        r = self.lam.invoke(FunctionName=again, Payload=b'{"a": 2}')
        self.assertEqual(r["Payload"].read(), b'{"a": 2}')


class TestDiskFullDefaults(TestDiskFull):
    """The defaults: the reserve is 10% of the 64 MB file system, and the output rate cap (2 MB/s, bursts
    of 5 s) drops most of the 100 MB before the store sees it; whichever stops it, writes go on."""
    server_extra = ()
    reserve = SIZE // 10
    reserve_reached = False


if __name__ == "__main__":
    unittest.main()
