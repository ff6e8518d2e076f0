"""The AWS CLI end to end: create (fileb://), get, list, publish, alias, tag, delete."""
import os
import tempfile
import unittest

from harness import ACCOUNT, REGION, ROLE, LambdadTestCase, make_zip


class TestCli(LambdadTestCase):
    def test_flow(self):
        name = self.name("cli")
        arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
        with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as f:
            f.write(make_zip())
            path = f.name
        try:
            created = self.server.cli("create-function", "--function-name", name, "--runtime", "python3.12",
                                      "--handler", "app.handler", "--role", ROLE,
                                      "--zip-file", "fileb://" + path)
            self.assertEqual(created["FunctionArn"], arn)
            self.assertEqual(created["State"], "Pending")
            self.assertEqual(created["CodeSize"], os.path.getsize(path))
            got = self.server.cli("get-function", "--function-name", name)
            self.assertEqual(got["Configuration"]["State"], "Active")
            self.assertEqual(got["Code"]["RepositoryType"], "S3")
            listed = self.server.cli("list-functions")
            self.assertIn(name, [f["FunctionName"] for f in listed["Functions"]])
            ver = self.server.cli("publish-version", "--function-name", name)
            self.assertEqual(ver["Version"], "1")
            self.assertEqual(ver["FunctionArn"], arn + ":1")
            alias = self.server.cli("create-alias", "--function-name", name, "--name", "live",
                                    "--function-version", "1")
            self.assertEqual(alias["AliasArn"], arn + ":live")
            self.assertIsNone(self.server.cli("tag-resource", "--resource", arn, "--tags", "team=core"))
            self.assertEqual(self.server.cli("list-tags", "--resource", arn), {"Tags": {"team": "core"}})
            via = self.server.cli("get-function-configuration", "--function-name", name, "--qualifier", "live")
            self.assertEqual(via["Version"], "1")
            self.assertEqual(via["FunctionArn"], arn + ":live")
            # an AWS error comes back as the CLI's error text and a non-zero exit
            p = self.server.cli("get-alias", "--function-name", name, "--name", "nope", check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("ResourceNotFoundException", p.stderr)
            self.assertIn("Cannot find alias arn: %s:nope" % arn, p.stderr)
            # this botocore models DeleteFunction's status code as an output member
            self.assertEqual(self.server.cli("delete-function", "--function-name", name), {"StatusCode": 204})
            p = self.server.cli("get-function", "--function-name", name, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("Function not found: " + arn, p.stderr)
        finally:
            os.unlink(path)


if __name__ == "__main__":
    unittest.main()
