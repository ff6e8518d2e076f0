"""SIGTERM while an invocation is running: the caller is answered, the server exits cleanly."""
import threading
import time
import unittest

import botocore.exceptions

from harness import ROLE, Server, make_zip


class TestShutdownDuringInvoke(unittest.TestCase):
    def test_sigterm_answers_pending_invoke(self):
        s = Server().start()
        try:
            lam = s.client()
            code = make_zip({"slow.py": "import time\ndef handler(e, c):\n    time.sleep(20)\n    return 1\n"})
            lam.create_function(FunctionName="slow", Runtime="python3.11", Handler="slow.handler", Role=ROLE,
                                Timeout=30, Code={"ZipFile": code})
            result = {}

            def call():
                try:
                    lam.invoke(FunctionName="slow")
                    result["outcome"] = "answered"
                except botocore.exceptions.ClientError as e:
                    result["outcome"] = e.response["Error"]["Code"]
                except Exception as e:  # connection closed etc.
                    result["outcome"] = type(e).__name__

            t = threading.Thread(target=call)
            t.start()
            time.sleep(1.5)  # the environment is running the handler
            code = s.stop()
            t.join(10)
            self.assertEqual(code, 0, s.log())
            self.assertEqual(result.get("outcome"), "ServiceException")
            log = s.log()
            self.assertNotIn("Fatal error", log)
            self.assertNotIn("AddressSanitizer", log)
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
