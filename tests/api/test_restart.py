"""kill -9 of lambdad with asynchronous events queued and environments warm, then a restart on the
same data directory:
  - the resumed queue drains at the function's own concurrency: 200 Event invokes of a python
    function with reserved concurrency 2 and an SQS OnSuccess destination (moto's server) all
    reach the queue within a bounded wait after the restart (the dispatcher holds events until a
    slot is free instead of throttling itself into exponential backoff);
  - what the killed daemon left (its environments' processes, their cgroups) is gone before the
    new daemon answers its first request."""
import json
import os
import time

from harness import REGION, ROLE, MotoTestCase, Server, make_zip

SLOW = """import time
def handler(event, context):
    time.sleep(0.05)
    return {"n": event["n"]}
"""


def children(pid):
    """pids whose parent is pid (the environments' runtimes, at every sandbox level)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] not in "ZX":
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


class TestRestartAfterKill(MotoTestCase):
    @classmethod
    def setUpMoto(cls):
        cls.sqs = cls.aws("sqs")

    def restart(self):
        self.server.kill9()
        self.server.start()
        type(self).lam = self.server.client()

    def test_resumed_queue_drains_at_the_functions_concurrency(self):
        queue = self.sqs.create_queue(QueueName="restart-dest")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        name = self.name("drain")
        self.create(name, Code={"ZipFile": make_zip({"app.py": SLOW})})
        self.settled(name)
        self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                                  DestinationConfig={"OnSuccess": {"Destination": arn}})
        for n in range(200):
            r = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": n}).encode())
            self.assertEqual(r["StatusCode"], 202)
        time.sleep(0.5)  # some run, most wait
        self.restart()
        self.assertIn("resuming", self.server.log())
        seen = set()
        end = time.time() + 60
        while len(seen) < 200 and time.time() < end:
            msgs = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in msgs.get("Messages", []):
                seen.add(json.loads(m["Body"])["responsePayload"]["n"])
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(len(seen), 200, "%d of 200 delivered; log:\n%s" % (len(seen), self.server.log()))

    def test_leftovers_of_a_killed_daemon_are_gone(self):
        names = [self.name("warm") for _ in range(3)]
        for name in names:
            self.create(name)
            self.settled(name)
            self.lam.invoke(FunctionName=name, Payload=b"{}")
        pids = children(self.server.proc.pid)
        self.assertGreaterEqual(len(pids), 3, "no warm environments to leave behind")
        run = os.path.join(self.server.data_dir, "run")
        cgroups = []
        for f in os.listdir(run):
            with open(os.path.join(run, f)) as fh:
                cgroups += [c for c in fh.read().split()[9:11] if c != "-"]
        self.restart()
        # the new daemon answers: by then nothing of the old one runs, and its cgroups are gone
        self.lam.get_account_settings()
        self.assertEqual([p for p in pids if running(p)], [])
        self.assertEqual([c for c in cgroups if os.path.exists(c)], [])
        self.assertEqual(os.listdir(run), [])
        self.assertRegex(self.server.log(), r"reaped \d+ environments of a previous run")
        # and the functions run again in new environments
        for name in names:
            self.assertEqual(json.loads(self.lam.invoke(FunctionName=name, Payload=b'{"x":1}')["Payload"].read()),
                             {"x": 1})


class TestRestartProcessLevel(TestRestartAfterKill):
    """The same at --sandbox process (no cgroups: the runtimes' sessions and uids)."""

    moto_server_args = ("--sandbox", "process")

    def create(self, name=None, **kw):
        kw.setdefault("Runtime", "python3.11")  # a python its uid can read (/usr/bin)
        return super().create(name, **kw)
