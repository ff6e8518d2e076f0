"""Functions get the credentials lambdad was started with (AWS gives the role's)."""
import json
import unittest

from harness import LambdadTestCase, ROLE, make_zip

CODE = make_zip({"app.py": "import os\ndef handler(e, c):\n    return {k: os.environ.get(k) for k in "
                           "('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN')}\n"})


class TestCredentialsPassed(LambdadTestCase):
    server_env = {"AWS_ACCESS_KEY_ID": "AKIDLAMBDADTEST", "AWS_SECRET_ACCESS_KEY": "secret-for-tests",
                  "AWS_SESSION_TOKEN": "token-for-tests"}

    def test_function_sees_lambdads_credentials(self):
        name = self.name()
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": CODE})
        out = json.loads(self.lam.invoke(FunctionName=name)["Payload"].read())
        self.assertEqual(out, {"AWS_ACCESS_KEY_ID": "AKIDLAMBDADTEST", "AWS_SECRET_ACCESS_KEY": "secret-for-tests",
                               "AWS_SESSION_TOKEN": "token-for-tests"})


class TestNoCredentials(LambdadTestCase):
    server_env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}

    def test_empty_values_pass_through_unchanged(self):
        name = self.name()
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": CODE})
        out = json.loads(self.lam.invoke(FunctionName=name)["Payload"].read())
        self.assertEqual(out["AWS_ACCESS_KEY_ID"], "")


if __name__ == "__main__":
    unittest.main()
