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
    # aws-lambda-java-events shapes: the function bundles the library; these stand-ins have the real
    # classes' names, packages and bean properties (getRecords, getEventSourceArn, getNewImage, ...)
    "com/amazonaws/services/lambda/runtime/events/SQSEvent.java": """
package com.amazonaws.services.lambda.runtime.events;

import java.util.List;
import java.util.Map;

public class SQSEvent {
    private List<SQSMessage> records;
    public List<SQSMessage> getRecords() { return records; }
    public void setRecords(List<SQSMessage> r) { records = r; }

    public static class SQSMessage {
        private String messageId, receiptHandle, body, md5OfBody, eventSourceArn, eventSource, awsRegion;
        private Map<String, String> attributes;
        public String getMessageId() { return messageId; }
        public void setMessageId(String v) { messageId = v; }
        public String getReceiptHandle() { return receiptHandle; }
        public void setReceiptHandle(String v) { receiptHandle = v; }
        public String getBody() { return body; }
        public void setBody(String v) { body = v; }
        public String getMd5OfBody() { return md5OfBody; }
        public void setMd5OfBody(String v) { md5OfBody = v; }
        public String getEventSourceArn() { return eventSourceArn; }
        public void setEventSourceArn(String v) { eventSourceArn = v; }
        public String getEventSource() { return eventSource; }
        public void setEventSource(String v) { eventSource = v; }
        public String getAwsRegion() { return awsRegion; }
        public void setAwsRegion(String v) { awsRegion = v; }
        public Map<String, String> getAttributes() { return attributes; }
        public void setAttributes(Map<String, String> v) { attributes = v; }
    }
}
""",
    "com/amazonaws/services/lambda/runtime/events/models/dynamodb/AttributeValue.java": """
package com.amazonaws.services.lambda.runtime.events.models.dynamodb;

public class AttributeValue {
    private String s, n;
    public String getS() { return s; }
    public void setS(String v) { s = v; }
    public String getN() { return n; }
    public void setN(String v) { n = v; }
}
""",
    "com/amazonaws/services/lambda/runtime/events/models/dynamodb/StreamRecord.java": """
package com.amazonaws.services.lambda.runtime.events.models.dynamodb;

import java.util.Date;
import java.util.Map;

public class StreamRecord {
    private Date approximateCreationDateTime;
    private Map<String, AttributeValue> keys, newImage;
    private String sequenceNumber;
    public Date getApproximateCreationDateTime() { return approximateCreationDateTime; }
    public void setApproximateCreationDateTime(Date v) { approximateCreationDateTime = v; }
    public Map<String, AttributeValue> getKeys() { return keys; }
    public void setKeys(Map<String, AttributeValue> v) { keys = v; }
    public Map<String, AttributeValue> getNewImage() { return newImage; }
    public void setNewImage(Map<String, AttributeValue> v) { newImage = v; }
    public String getSequenceNumber() { return sequenceNumber; }
    public void setSequenceNumber(String v) { sequenceNumber = v; }
}
""",
    "com/amazonaws/services/lambda/runtime/events/DynamodbEvent.java": """
package com.amazonaws.services.lambda.runtime.events;

import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import java.util.List;

public class DynamodbEvent {
    private List<DynamodbStreamRecord> records;
    public List<DynamodbStreamRecord> getRecords() { return records; }
    public void setRecords(List<DynamodbStreamRecord> r) { records = r; }

    public static class DynamodbStreamRecord {
        private String eventID, eventName, eventSourceARN;
        private StreamRecord dynamodb;
        public String getEventID() { return eventID; }
        public void setEventID(String v) { eventID = v; }
        public String getEventName() { return eventName; }
        public void setEventName(String v) { eventName = v; }
        public String getEventSourceARN() { return eventSourceARN; }
        public void setEventSourceARN(String v) { eventSourceARN = v; }
        public StreamRecord getDynamodb() { return dynamodb; }
        public void setDynamodb(StreamRecord v) { dynamodb = v; }
    }
}
""",
    "example/Events.java": """
package example;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

public class Events {
    public String sqs(SQSEvent e) {
        SQSEvent.SQSMessage m = e.getRecords().get(0);
        return e.getRecords().size() + "|" + m.getMessageId() + "|" + m.getBody() + "|" + m.getEventSourceArn() + "|"
                + m.getAwsRegion() + "|" + m.getAttributes().get("ApproximateReceiveCount");
    }

    public String ddb(DynamodbEvent e) {
        DynamodbEvent.DynamodbStreamRecord r = e.getRecords().get(0);
        return r.getEventID() + "|" + r.getEventName() + "|" + r.getDynamodb().getKeys().get("id").getS() + "|"
                + r.getDynamodb().getNewImage().get("n").getN() + "|"
                + r.getDynamodb().getApproximateCreationDateTime().getTime();
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

    def test_events_library_shapes(self):
        """Types of aws-lambda-java-events get the event sources' own member names (Records,
        eventSourceARN, Keys, NewImage, ...) and epoch-second timestamps, as AWS's runtime reads them."""
        sqs = {"Records": [{"messageId": "m-1", "receiptHandle": "rh", "body": "hello", "md5OfBody": "x",
                            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                            "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q",
                            "awsRegion": "us-east-1"}]}
        r, body, _ = self.invoke(self.function("example.Events::sqs"), sqs)
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(json.loads(body), "1|m-1|hello|arn:aws:sqs:us-east-1:000000000000:q|us-east-1|1")
        ddb = {"Records": [{"eventID": "e-1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x",
                            "dynamodb": {"ApproximateCreationDateTime": 1700000000.5, "Keys": {"id": {"S": "k1"}},
                                         "NewImage": {"id": {"S": "k1"}, "n": {"N": "5"}}, "SequenceNumber": "1",
                                         "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"}}]}
        r, body, _ = self.invoke(self.function("example.Events::ddb"), ddb)
        self.assertNotIn("FunctionError", r, body)
        self.assertEqual(json.loads(body), "e-1|INSERT|k1|5|1700000000500")


if __name__ == "__main__":
    import unittest
    unittest.main()
