"""Smoke tests: the server starts, answers, and survives restarts."""
import unittest

from harness import LambdadTestCase, Server, make_zip, ROLE


class TestSmoke(LambdadTestCase):
    def test_account_settings_defaults(self):
        s = self.lam.get_account_settings()
        self.assertEqual(s["AccountLimit"]["ConcurrentExecutions"], 1000)
        self.assertEqual(s["AccountLimit"]["CodeSizeZipped"], 52428800)
        self.assertEqual(s["AccountLimit"]["CodeSizeUnzipped"], 262144000)

    def test_create_get_roundtrip(self):
        name = self.name()
        created = self.create(name)
        self.assertEqual(created["State"], "Pending")
        got = self.lam.get_function(FunctionName=name)
        self.assertEqual(got["Configuration"]["State"], "Active")
        self.assertEqual(got["Configuration"]["CodeSha256"], created["CodeSha256"])


class TestRestart(unittest.TestCase):
    def test_kill9_keeps_functions(self):
        s = Server().start()
        try:
            lam = s.client()
            zipped = make_zip({"app.py": "x = 1\n"})
            lam.create_function(FunctionName="survivor", Runtime="python3.12", Handler="app.handler",
                                Role=ROLE, Code={"ZipFile": zipped})
            s.kill9()
            s.start()
            got = lam.get_function(FunctionName="survivor")
            import urllib.request
            with urllib.request.urlopen(got["Code"]["Location"]) as r:
                self.assertEqual(r.read(), zipped)
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
