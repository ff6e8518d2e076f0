"""A provided (custom) runtime streams: its bootstrap posts the response with
Lambda-Runtime-Function-Response-Mode: streaming and chunked encoding (curl
uploading from a pipe), and the caller receives the first chunk before the
function has finished."""
import io
import time
import unittest
import zipfile

from harness import LambdadTestCase, ROLE, make_zip

BOOTSTRAP = r'''#!/bin/sh
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -LD "$HEADERS" "$API/invocation/next" -o /dev/null
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  { printf 'first;'; sleep 1; printf 'second;'; } | curl -sS -X POST \
      -H "Lambda-Runtime-Function-Response-Mode: streaming" -H "Transfer-Encoding: chunked" \
      -H "Content-Type: text/plain" -T - "$API/invocation/$ID/response" -o /dev/null
done
'''


class TestProvidedRuntimeStreams(LambdadTestCase):
    def test_first_chunk_before_the_bootstrap_finishes(self):
        name = self.name("provstream")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            z.writestr(info, BOOTSTRAP)
        self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Handler="x", Role=ROLE,
                                 Timeout=30, Code={"ZipFile": buf.getvalue()})
        for _ in self.lam.invoke_with_response_stream(FunctionName=name)["EventStream"]:
            pass  # the cold start, read to the end
        t0 = time.monotonic()
        resp = self.lam.invoke_with_response_stream(FunctionName=name)
        stamps, chunks, complete = [], [], None
        for ev in resp["EventStream"]:
            stamps.append(time.monotonic() - t0)
            if "PayloadChunk" in ev:
                chunks.append(ev["PayloadChunk"]["Payload"])
            elif "InvokeComplete" in ev:
                complete = ev["InvokeComplete"]
        self.assertEqual(b"".join(chunks), b"first;second;")
        self.assertEqual(complete, {})
        self.assertLess(stamps[0], 0.7, stamps)   # before the bootstrap's 1 s sleep ended
        self.assertGreater(stamps[-1], 0.9, stamps)


if __name__ == "__main__":
    unittest.main()
