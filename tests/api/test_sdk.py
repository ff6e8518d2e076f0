"""Black-box tests of the AWS SDK inside functions (issue 13): a python function imports boto3 as the
python runtimes ship it and calls lambdad (ListFunctions, Invoke) and moto's S3 and SQS with no endpoint
or key in its code; a function that bundles its own boto3 gets its own; what a function sees
(AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, minted or lambdad's own credentials)."""
import json

from harness import LambdadTestCase, MotoTestCase, Server, make_zip

CALLER = """
import json, os, boto3

def handler(event, context):
    lam = boto3.client("lambda")
    names = sorted(f["FunctionName"] for f in lam.list_functions()["Functions"])
    r = lam.invoke(FunctionName=event["target"], Payload=json.dumps({"from": context.function_name}))
    return {"names": names, "status": r["StatusCode"], "answer": json.loads(r["Payload"].read()),
            "boto3": boto3.__file__, "version": boto3.__version__}
"""

ECHO = "def handler(event, context):\n    return {'echo': event}\n"

SEES = """
import os

def handler(event, context):
    return {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                           "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PYTHONPATH")}
"""

BUNDLED = """
import boto3

def handler(event, context):
    return {"version": boto3.__version__, "file": boto3.__file__}
"""

S3_SQS = """
import boto3

def handler(event, context):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"written inside a function")
    sqs = boto3.client("sqs")
    msgs = sqs.receive_message(QueueUrl=event["queue"], WaitTimeSeconds=0, MaxNumberOfMessages=1)
    return {"message": msgs["Messages"][0]["Body"] if msgs.get("Messages") else None}
"""


NODE_CALLER = """
const { LambdaClient, ListFunctionsCommand, InvokeCommand } = require("@aws-sdk/client-lambda");
exports.handler = async (event, context) => {
  const lam = new LambdaClient({});
  const names = (await lam.send(new ListFunctionsCommand({}))).Functions.map(f => f.FunctionName).sort();
  const r = await lam.send(new InvokeCommand({ FunctionName: event.target,
                                               Payload: Buffer.from(JSON.stringify({ from: context.functionName })) }));
  return { names, status: r.StatusCode, answer: JSON.parse(Buffer.from(r.Payload).toString()),
           sdk: require.resolve("@aws-sdk/client-lambda") };
};
"""

NODE_BUNDLED = """
exports.handler = async () => ({ marker: require("@aws-sdk/client-lambda").marker,
                                 sdk: require.resolve("@aws-sdk/client-lambda") });
"""


NODE_ESM = """
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
export const handler = async (event, context) => {
  const r = await new LambdaClient({}).send(new ListFunctionsCommand({}));
  return { names: r.Functions.map((f) => f.FunctionName),
           url: import.meta.resolve("@aws-sdk/client-lambda") };
};
"""


def invoke_json(lam, name, event):
    r = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    body = json.loads(r["Payload"].read())
    if r.get("FunctionError"):
        raise AssertionError("%s failed: %s" % (name, body))
    return body


class SdkServerCase(LambdadTestCase):
    """A server started without credentials of its own, as `make run` is on a fresh machine."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=cls.server_args)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                  "AWS_ENDPOINT_URL_LAMBDA", "AWS_PROFILE"):
            cls.server.env.pop(k, None)
        cls.server.start()
        cls.lam = cls.server.client()

    def make(self, code, name=None, files=None, **kw):
        name = name or self.name("sdk")
        self.create(name, Code={"ZipFile": make_zip(dict({"app.py": code}, **(files or {})))}, Timeout=30, **kw)
        self.assertEqual(self.final_state(name)["State"], "Active")
        return name


class TestPythonSdk(SdkServerCase):
    def test_boto3_reaches_lambdad_without_endpoint_or_keys(self):
        target = self.make(ECHO)
        caller = self.make(CALLER)
        out = invoke_json(self.lam, caller, {"target": target})
        self.assertIn(caller, out["names"])
        self.assertIn(target, out["names"])
        self.assertEqual(out["status"], 200)
        self.assertEqual(out["answer"], {"echo": {"from": caller}})
        # the runtime's SDK, where AWS puts it: after the function's code and layers
        self.assertEqual(out["boto3"], "/var/runtime/boto3/__init__.py")
        self.assertIn("boto3 %s from " % out["version"], self.server.log())

    def test_what_a_function_sees(self):
        name = self.make(SEES)
        env = invoke_json(self.lam, name, {})
        self.assertEqual(env["AWS_ENDPOINT_URL_LAMBDA"], self.server.endpoint)
        self.assertIsNone(env["AWS_ENDPOINT_URL"])  # no --aws-endpoint-url
        # lambdad has no credentials of its own: minted ones of the function's account
        self.assertTrue(env["AWS_ACCESS_KEY_ID"].startswith("ASIA"), env["AWS_ACCESS_KEY_ID"])
        self.assertTrue(env["AWS_SECRET_ACCESS_KEY"])
        self.assertTrue(env["AWS_SESSION_TOKEN"])
        # the function's own variables win over lambdad's presets
        own = self.make(SEES, Environment={"Variables": {"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9"}})
        self.assertEqual(invoke_json(self.lam, own, {})["AWS_ENDPOINT_URL_LAMBDA"], "http://127.0.0.1:9")

    def test_a_bundled_boto3_wins(self):
        name = self.make(BUNDLED, files={"boto3/__init__.py": "__version__ = 'bundled-by-the-function'\n"})
        out = invoke_json(self.lam, name, {})
        self.assertEqual(out, {"version": "bundled-by-the-function", "file": "/var/task/boto3/__init__.py"})

    def test_a_layer_boto3_wins_over_the_runtime(self):
        layer = self.lam.publish_layer_version(
            LayerName=self.name("sdk-layer"),
            Content={"ZipFile": make_zip({"python/boto3/__init__.py": "__version__ = 'from-a-layer'\n"})})
        name = self.make(BUNDLED, Layers=[layer["LayerVersionArn"]])
        out = invoke_json(self.lam, name, {})
        self.assertEqual(out, {"version": "from-a-layer", "file": "/opt/python/boto3/__init__.py"})


class TestNodeSdk(SdkServerCase):
    def make_node(self, files):
        name = self.name("sdk-node")
        self.create(name, Runtime="nodejs20.x", Handler="index.handler", Code={"ZipFile": make_zip(files)},
                    Timeout=30)
        self.assertEqual(self.final_state(name)["State"], "Active")
        return name

    def test_client_lambda_reaches_lambdad_without_endpoint_or_keys(self):
        self.assertIn("nodejs runtimes get the AWS SDK for JavaScript 3.", self.server.log())
        target = self.make(ECHO)
        caller = self.make_node({"index.js": NODE_CALLER})
        out = invoke_json(self.lam, caller, {"target": target})
        self.assertIn(caller, out["names"])
        self.assertIn(target, out["names"])
        self.assertEqual(out["status"], 200)
        self.assertEqual(out["answer"], {"echo": {"from": caller}})
        self.assertTrue(out["sdk"].startswith("/var/sdk/nodejs/@aws-sdk/client-lambda/"), out["sdk"])

    def test_a_bundled_sdk_wins(self):
        name = self.make_node({
            "index.js": NODE_BUNDLED,
            "node_modules/@aws-sdk/client-lambda/package.json": '{"name": "@aws-sdk/client-lambda", "main": "x.js"}',
            "node_modules/@aws-sdk/client-lambda/x.js": "exports.marker = 'bundled-by-the-function';\n"})
        out = invoke_json(self.lam, name, {})
        self.assertEqual(out, {"marker": "bundled-by-the-function",
                               "sdk": "/var/task/node_modules/@aws-sdk/client-lambda/x.js"})


    def test_an_es_module_handler_imports_the_sdk(self):
        name = self.make_node({"index.mjs": NODE_ESM})
        out = invoke_json(self.lam, name, {})
        self.assertIn(name, out["names"])
        self.assertTrue(out["url"].startswith("file:///var/sdk/nodejs/@aws-sdk/client-lambda/"), out["url"])

    def test_an_es_module_missing_package_fails_as_node_says(self):
        name = self.make_node({"index.mjs": "import x from 'no-such-package';\nexport const handler = async () => x;\n"})
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        self.assertEqual(r.get("FunctionError"), "Unhandled")
        body = json.loads(r["Payload"].read())
        self.assertIn("Cannot find package 'no-such-package' imported from /var/task/index.mjs", body["errorMessage"])


class TestPythonSdkWithServices(MotoTestCase, SdkServerCase):
    """--aws-endpoint-url: the function's SDK reaches moto's S3 and SQS the way lambdad does."""

    @classmethod
    def setUpMoto(cls):
        cls.s3 = cls.aws("s3")
        cls.sqs = cls.aws("sqs")

    def test_s3_and_sqs_through_the_servers_endpoint(self):
        self.s3.create_bucket(Bucket="fn-writes-here")
        queue = self.sqs.create_queue(QueueName="fn-reads-here")["QueueUrl"]
        self.sqs.send_message(QueueUrl=queue, MessageBody="hello from the queue")
        name = self.make(S3_SQS)
        out = invoke_json(self.lam, name, {"bucket": "fn-writes-here", "queue": queue})
        self.assertEqual(out, {"message": "hello from the queue"})
        body = self.s3.get_object(Bucket="fn-writes-here", Key="from-lambda.txt")["Body"].read()
        self.assertEqual(body, b"written inside a function")
        env = invoke_json(self.lam, self.make(SEES), {})
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.moto_url)
        self.assertEqual(env["AWS_ENDPOINT_URL_LAMBDA"], self.server.endpoint)


OLD_SDK = """
import boto3, botocore

def handler(event, context):
    lam = boto3.client("lambda")
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    return {"names": names, "botocore": botocore.__version__, "file": botocore.__file__,
            "explicit": boto3.client("lambda", endpoint_url="http://127.0.0.1:9").meta.endpoint_url}
"""

DEBIAN_SDK = "/usr/lib/python3/dist-packages"


class TestDebianSdk(SdkServerCase):
    """--python-sdk picks Debian's python3-boto3 (tools/deps.sh test installs it), whose botocore predates
    AWS_ENDPOINT_URL_*: the runtime client gives it the endpoint from the environment all the same."""

    server_args = ("--python-sdk", DEBIAN_SDK)

    def test_old_botocore_reaches_lambdad(self):
        self.assertIn("python runtimes get boto3 1.", self.server.log())
        self.assertIn("from " + DEBIAN_SDK, self.server.log())
        name = self.make(OLD_SDK, Runtime="python3.11")
        out = invoke_json(self.lam, name, {})
        major, minor = (int(x) for x in out["botocore"].split(".")[:2])
        self.assertLess((major, minor), (1, 31), out)  # the old one, without the variables
        self.assertEqual(out["file"], "/var/runtime/botocore/__init__.py")
        self.assertIn(name, out["names"])
        self.assertEqual(out["explicit"], "http://127.0.0.1:9")  # an explicit endpoint_url still wins


if __name__ == "__main__":
    import unittest
    unittest.main()
