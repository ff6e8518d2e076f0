"""AWS_LAMBDA_EXEC_WRAPPER: the managed runtimes (python, nodejs) start through the function's
wrapper script with their own command line as its arguments, as AWS documents it; custom
runtimes ignore it; a wrapper that does not exist ends the invoke with Runtime.ExitError
"exit status 127" (recorded: test_lambda.py::TestLambdaErrors::test_lambda_runtime_wrapper_not_found).
Each case at the FULL sandbox level and at `--sandbox process`, where /var/task and /opt are the
host's directories."""
import json
import re

from harness import ROLE, LambdadTestCase, make_zip

WRAPPER = """#!/bin/sh
export WRAPPED_BY=wrapper
export WRAPPER_ARGC=$#
exec "$@"
"""
PY = """import os, sys
def handler(event, context):
    return {"by": os.environ.get("WRAPPED_BY"), "argc": os.environ.get("WRAPPER_ARGC"), "exe": sys.executable}
"""
NODE = """exports.handler = async () => ({by: process.env.WRAPPED_BY || null, argc: process.env.WRAPPER_ARGC || null});
"""
BOOTSTRAP = """#!/bin/sh
while true; do
  H=$(mktemp); curl -sS -D "$H" -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next"
  ID=$(grep -i '^lambda-runtime-aws-request-id:' "$H" | tr -d '\\r' | cut -d' ' -f2)
  curl -sS -X POST -d "{\\"by\\":\\"${WRAPPED_BY:-none}\\"}" "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$ID/response" >/dev/null
done
"""


def zip_with(files, modes):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = modes.get(name, 0o644) << 16
            z.writestr(info, text)
    return buf.getvalue()


class WrapperCases:
    def invoke(self, name):
        r = self.lam.invoke(FunctionName=name, Payload=b"{}")
        return r, json.loads(r["Payload"].read())

    def make(self, runtime, handler, files, env):
        name = self.name("wrap")
        self.lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
                                 Code={"ZipFile": zip_with(files, {"wrapper": 0o755, "bootstrap": 0o755})},
                                 Environment={"Variables": env})
        self.settled(name)
        return name

    def test_python_runs_through_the_wrapper(self):
        name = self.make("python3.11", "app.handler", {"app.py": PY, "wrapper": WRAPPER},
                         {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper"})
        r, out = self.invoke(name)
        self.assertNotIn("FunctionError", r)
        self.assertEqual(out["by"], "wrapper")
        self.assertEqual(out["argc"], "2")  # the interpreter and lambdad's runtime client

    def test_nodejs_runs_through_the_wrapper(self):
        name = self.make("nodejs20.x", "index.handler", {"index.js": NODE, "wrapper": WRAPPER},
                         {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper"})
        r, out = self.invoke(name)
        self.assertNotIn("FunctionError", r)
        self.assertEqual(out, {"by": "wrapper", "argc": "2"})

    def test_custom_runtime_ignores_the_wrapper(self):
        name = self.make("provided.al2023", "x", {"bootstrap": BOOTSTRAP, "wrapper": WRAPPER},
                         {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper"})
        r, out = self.invoke(name)
        self.assertNotIn("FunctionError", r)
        self.assertEqual(out, {"by": "none"})

    def test_missing_wrapper_exits_127(self):
        name = self.make("python3.11", "app.handler", {"app.py": PY},
                         {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/no-such-wrapper"})
        r, out = self.invoke(name)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(out["errorType"], "Runtime.ExitError")
        self.assertRegex(out["errorMessage"],
                         r"^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 127$")


class TestExecWrapper(WrapperCases, LambdadTestCase):
    pass


class TestExecWrapperProcessLevel(WrapperCases, LambdadTestCase):
    server_args = ("--sandbox", "process")
