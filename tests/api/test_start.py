"""Starting `lambdad serve`: what it says when it cannot listen."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import BIN


class TestListenFailures(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="lambdad-start-")
        self.data = os.path.join(self.top, "data")

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def serve(self, listen):
        return subprocess.run([BIN, "serve", "--listen", listen, "--data-dir", self.data],
                              capture_output=True, text=True, timeout=60)

    def test_port_in_use(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
            held.bind(("127.0.0.1", 0))
            held.listen(1)
            port = held.getsockname()[1]
            p = self.serve("127.0.0.1:%d" % port)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("lambdad: cannot listen on 127.0.0.1:%d: address already in use" % port, p.stderr)
        self.assertIn("--listen", p.stderr)  # what to do about it
        self.assertNotIn("i/o error", p.stderr)
        self.assertNotIn("AddressSanitizer", p.stderr)
        # it stopped before it touched the data directory (that of the server holding the port,
        # when `make run` is started twice)
        self.assertFalse(os.path.exists(self.data))

    def test_host_not_an_address(self):
        p = self.serve("localhost:0")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("cannot listen on localhost:0: the host must be an IPv4 address", p.stderr)
        self.assertFalse(os.path.exists(self.data))


if __name__ == "__main__":
    unittest.main()
