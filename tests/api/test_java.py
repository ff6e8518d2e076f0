"""Black-box tests of the java17 runtime (issue 14, first part): handlers compiled here with javac
against the aws-lambda-java-core interfaces (runtimes/java/src), zipped as classes, run by lambdad's
java runtime client: a POJO RequestHandler (Jackson with AWS's settings: unknown properties ignored,
nulls left out), a RequestStreamHandler, a Class::method handler taking a Map, an exception answered
with AWS's Java error document, and the init errors of a missing class or method, with REPORT
lines in the log tail."""
import base64
import io
import json
import os
import shutil
import subprocess
import tempfile
import zipfile

from harness import ROOT, ROLE, LambdadTestCase

CORE = os.path.join(ROOT, "runtimes", "java", "classes")

SOURCES = {
    "example/Hello.java": """
package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

public class Hello implements RequestHandler<Hello.In, Hello.Out> {
    public static class In { public String name; public int count; }
    public static class Out { public String greeting; public int doubled; public String fn; public String unset; }

    public Out handleRequest(In in, Context ctx) {
        ctx.getLogger().log("hello from java " + in.name + "\\n");
        Out o = new Out();
        o.greeting = "hello " + in.name;
        o.doubled = in.count * 2;
        o.fn = ctx.getFunctionName() + "/" + ctx.getMemoryLimitInMB() + "/" + (ctx.getRemainingTimeInMillis() > 0);
        return o;
    }
}
""",
    "example/Upper.java": """
package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.*;

public class Upper implements RequestStreamHandler {
    public void handleRequest(InputStream in, OutputStream out, Context ctx) throws IOException {
        out.write(new String(in.readAllBytes(), "UTF-8").toUpperCase().getBytes("UTF-8"));
    }
}
""",
    "example/Keys.java": """
package example;

import java.util.*;

public class Keys {
    public List<String> sorted(Map<String, Object> event) {
        List<String> k = new ArrayList<>(event.keySet());
        Collections.sort(k);
        return k;
    }
}
""",
    "example/Boom.java": """
package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

public class Boom implements RequestHandler<Map<String, Object>, String> {
    public String handleRequest(Map<String, Object> in, Context ctx) {
        throw new IllegalStateException("boom: " + in.get("why"));
    }
}
""",
}


def compiled_zip():
    """The handlers, compiled against the runtime's interfaces, as a zip of classes."""
    work = tempfile.mkdtemp(prefix="lambdad-java-")
    try:
        srcs = []
        for rel, text in SOURCES.items():
            path = os.path.join(work, "src", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            srcs.append(path)
        out = os.path.join(work, "classes")
        subprocess.run(["javac", "--release", "11", "-d", out, "-cp", CORE] + srcs, check=True, timeout=120)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for d, _, files in os.walk(out):
                for f in files:
                    full = os.path.join(d, f)
                    z.write(full, os.path.relpath(full, out))
        return buf.getvalue()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class TestJava(LambdadTestCase):
    @classmethod
    def setUpClass(cls):
        # the runtime client is compiled by make test (runtimes/java/build.sh)
        if not os.path.exists(os.path.join(CORE, "lambdad", "Bootstrap.class")):
            raise AssertionError("runtimes/java/classes is missing: runtimes/java/build.sh did not run")
        cls.zip = compiled_zip()
        super().setUpClass()

    def function(self, handler, **kw):
        name = self.name("java")
        self.lam.create_function(FunctionName=name, Runtime="java17", Handler=handler, Role=ROLE,
                                 Code={"ZipFile": self.zip}, Timeout=30, MemorySize=256, **kw)
        self.assertEqual(self.final_state(name, deadline_s=30)["State"], "Active")
        return name

    def invoke(self, name, event):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
        return r, r["Payload"].read(), base64.b64decode(r["LogResult"]).decode()

    def test_pojo_handler(self):
        self.assertIn(" java17 ", self.server.log().split("lambdad: runtimes:")[1].splitlines()[0] + " ")
        name = self.function("example.Hello")
        r, body, tail = self.invoke(name, {"name": "lambdad", "count": 21, "unknown": [1, 2]})
        self.assertNotIn("FunctionError", r)
        self.assertEqual(json.loads(body), {"greeting": "hello lambdad", "doubled": 42, "fn": name + "/256/true"})
        self.assertIn("hello from java lambdad", tail)
        self.assertRegex(tail, r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB")
        # warm: the same environment again
        r, body, tail = self.invoke(name, {"name": "again", "count": 1})
        self.assertEqual(json.loads(body)["greeting"], "hello again")
        self.assertNotIn("Init Duration", tail)

    def test_stream_handler(self):
        name = self.function("example.Upper")
        r, body, _ = self.invoke(name, {"k": "value"})
        self.assertEqual(body, b'{"K": "VALUE"}')

    def test_class_method_handler(self):
        name = self.function("example.Keys::sorted")
        r, body, _ = self.invoke(name, {"b": 1, "a": 2, "c": 3})
        self.assertEqual(json.loads(body), ["a", "b", "c"])

    def test_exception_is_the_java_error_document(self):
        name = self.function("example.Boom")
        r, body, tail = self.invoke(name, {"why": "testing"})
        self.assertEqual(r["FunctionError"], "Unhandled")
        doc = json.loads(body)
        self.assertEqual(doc["errorType"], "java.lang.IllegalStateException")
        self.assertEqual(doc["errorMessage"], "boom: testing")
        self.assertTrue(doc["stackTrace"][0].startswith("example.Boom.handleRequest(Boom.java:"), doc)

    def test_missing_class(self):
        name = self.function("example.Nope")
        r, body, _ = self.invoke(name, {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        doc = json.loads(body)
        self.assertEqual((doc["errorType"], doc["errorMessage"]),
                         ("java.lang.ClassNotFoundException", "Class not found: example.Nope"))

    def test_missing_method(self):
        name = self.function("example.Keys::nope")
        r, body, _ = self.invoke(name, {})
        self.assertEqual(r["FunctionError"], "Unhandled")
        doc = json.loads(body)
        self.assertEqual(doc["errorType"], "java.lang.RuntimeException")
        self.assertEqual(doc["errorMessage"], "No public method named nope with appropriate method signature found "
                                              "on class example.Keys")


if __name__ == "__main__":
    import unittest
    unittest.main()
