"""The README's quick start, as a newcomer types it, on AWS CLI v1 and on v2.

The shell blocks of README.md's "Quick start" section are taken from the README itself, so the README
cannot drift from what is tested:
- the first block is what the newcomer types in the clone (`make run`, `make test`); `make run` serves
  forever, so it is not run here: the test checks, with `make -n run`, that it serves the address the
  examples use, with ./data, and starts the test build the same way (same arguments, in a directory
  of its own) on a free port;
- the other blocks are what the newcomer types in another shell. They are run by bash, which reads
  them line by line as a paste into a terminal is read, in an empty directory, once with the AWS CLI
  v1 and once with v2 first on PATH (as `aws`), with no AWS_* variable or ~/.aws file of this machine
  in the way.
The one change made to the README's text: its address 127.0.0.1:9001 becomes 127.0.0.1:PORT.
"""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, Server

README = os.path.join(ROOT, "README.md")
ADDRESS = "127.0.0.1:9001"


def quickstart_blocks():
    """The ```sh blocks of the README section whose heading says "Quick start"."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## [^\n]*Quick start[^\n]*\n(.*?)(?=^## )", text, re.S | re.M)
    if not m:
        raise AssertionError("README.md has no '## ... Quick start' section")
    return re.findall(r"^```sh\n(.*?)^```\n", m.group(1), re.S | re.M)


def clean_env():
    """This machine's environment without what would change how the CLI or make behave."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("AWS_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


_clis = None


def aws_clis():
    """{major version: path} of the AWS CLIs on this machine: every `aws` on PATH, Debian's
    /usr/bin/aws (v2) and build/cli-v1 (where tools/deps.sh installs a v1 when PATH has none)."""
    global _clis
    if _clis is None:
        _clis = {}
        dirs = os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", os.path.join(ROOT, "build", "cli-v1", "bin")]
        for d in dirs:
            path = os.path.join(d, "aws")
            if not d or not os.access(path, os.X_OK):
                continue
            p = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, env=clean_env())
            m = re.match(r"aws-cli/(\d+)\.", (p.stdout + p.stderr).strip())
            if m:
                _clis.setdefault(int(m.group(1)), path)
    return _clis


class TestQuickStart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.blocks = quickstart_blocks()

    def test_the_set_up_block_is_make_run(self):
        self.assertGreaterEqual(len(self.blocks), 2, "the quick start has a set-up block and a block of examples")
        commands = [line.split("#")[0].strip() for line in self.blocks[0].splitlines()]
        self.assertEqual(commands[0], "make run")
        self.assertIn("make test", commands)
        # `make run` serves the address the examples use, with the data in ./data
        p = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, env=clean_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        serve = [line for line in p.stdout.splitlines() if re.match(r"(exec )?build/lambdad serve ", line)]
        self.assertEqual(len(serve), 1, p.stdout)
        args = shlex.split(serve[0])
        self.assertEqual(args[args.index("serve") + 1:], ["--listen", ADDRESS, "--data-dir", "./data"])
        # and that address is the one the examples talk to
        self.assertIn("http://" + ADDRESS, "".join(self.blocks[1:]))

    def run_quickstart(self, major):
        cli = aws_clis().get(major)
        if not cli:
            self.fail("no AWS CLI v%d on this machine (tools/deps.sh test installs Debian's awscli, v2, and a "
                      "v1 into build/cli-v1 when PATH has none)" % major)
        top = tempfile.mkdtemp(prefix="lambdad-quickstart-")
        server = None
        try:
            clone, shell, bindir = (os.path.join(top, d) for d in ("clone", "shell", "bin"))
            for d in (clone, shell, bindir):
                os.mkdir(d)
            os.symlink(cli, os.path.join(bindir, "aws"))
            env = clean_env()
            env.update(PATH=bindir + os.pathsep + env.get("PATH", ""),
                       AWS_CONFIG_FILE=os.path.join(top, "no-config"),
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(top, "no-credentials"))
            version = subprocess.run(["bash", "-c", "aws --version"], capture_output=True, text=True, env=env,
                                     cwd=shell, timeout=60)
            self.assertRegex(version.stdout + version.stderr, r"^aws-cli/%d\." % major)

            server = Server(data_dir="./data", cwd=clone).start()
            script = "".join(self.blocks[1:])
            self.assertIn(ADDRESS, script)
            script = script.replace(ADDRESS, "127.0.0.1:%d" % server.port)
            self.assertNotIn("9001", script)
            p = subprocess.run(["bash", "-e", "-x"], input=script, capture_output=True, text=True, env=env,
                               cwd=shell, timeout=300)
            why = "CLI %s\nstdout:\n%s\nstderr:\n%s\nserver:\n%s" % (cli, p.stdout, p.stderr, server.log())
            self.assertEqual(p.returncode, 0, why)
            self.assertIn('"StatusCode": 200', p.stdout, why)
            # out.json, as the README's `cat out.json` prints it
            self.assertEqual(p.stdout.rstrip().splitlines()[-1], '{"hello": "lambdad"}', why)
            self.assertNotIn("Unknown options", p.stderr)
        finally:
            if server:
                try:
                    server.stop_clean()
                finally:
                    shutil.rmtree(top, ignore_errors=True)
            else:
                shutil.rmtree(top, ignore_errors=True)

    def test_with_aws_cli_v1(self):
        self.run_quickstart(1)

    def test_with_aws_cli_v2(self):
        self.run_quickstart(2)


if __name__ == "__main__":
    unittest.main()
