"""Black-box tests of function code taken from S3 (Code.S3Bucket/S3Key and
UpdateFunctionCode's S3 members): lambdad fetches the object from an
S3-compatible endpoint (moto's server on a loopback port, passed with
--aws-endpoint-url) and reports AWS's GetObject errors.

Expected values come from docs/aws-facts.md (recorded AWS responses)."""
import base64
import hashlib
import io
import urllib.request
import zipfile

from harness import ACCOUNT, REGION, ROLE, MotoTestCase, make_zip

ARN_PREFIX = "arn:aws:lambda:%s:%s:function:" % (REGION, ACCOUNT)


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class TestS3Code(MotoTestCase):
    @classmethod
    def setUpMoto(cls):
        cls.s3_port = cls.moto_port
        cls.s3 = cls.aws("s3")
        cls.bucket = "code-bucket"
        cls.s3.create_bucket(Bucket=cls.bucket)

    def put(self, key, data):
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def test_create_from_s3(self):
        zipped = make_zip({"app.py": "def handler(e, c):\n    return 's3'\n"})
        self.put("fn/code.zip", zipped)
        name = self.name()
        resp = self.create(name, Code={"S3Bucket": self.bucket, "S3Key": "fn/code.zip"})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(resp["CodeSha256"], sha256_b64(zipped))
        self.assertEqual(resp["CodeSize"], len(zipped))
        got = self.lam.get_function(FunctionName=name)
        self.assertEqual(got["Configuration"]["CodeSha256"], sha256_b64(zipped))
        with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as r:
            self.assertEqual(r.read(), zipped)

    def test_update_code_from_s3(self):
        name = self.name()
        self.create(name)
        z2 = make_zip({"app.py": "x = 's3-update'\n"})
        self.put("update.zip", z2)
        resp = self.lam.update_function_code(FunctionName=name, S3Bucket=self.bucket, S3Key="update.zip",
                                             Publish=True)
        self.assertEqual(resp["CodeSha256"], sha256_b64(z2))
        self.assertEqual(resp["Version"], "1")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["CodeSha256"], sha256_b64(z2))

    def test_object_version(self):
        self.s3.create_bucket(Bucket="versioned")
        self.s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
        z1 = make_zip({"app.py": "v = 1\n"})
        z2 = make_zip({"app.py": "v = 2\n"})
        first = self.s3.put_object(Bucket="versioned", Key="k.zip", Body=z1)["VersionId"]
        self.s3.put_object(Bucket="versioned", Key="k.zip", Body=z2)
        resp = self.create(Code={"S3Bucket": "versioned", "S3Key": "k.zip", "S3ObjectVersion": first})
        self.assertEqual(resp["CodeSha256"], sha256_b64(z1))
        resp = self.create(Code={"S3Bucket": "versioned", "S3Key": "k.zip"})
        self.assertEqual(resp["CodeSha256"], sha256_b64(z2))

    def test_no_such_key(self):
        name = self.name()
        err = self.assertError("InvalidParameterValueException", self.create, name,
                               Code={"S3Bucket": self.bucket, "S3Key": "missing.zip"}, status=400,
                               message="Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                                       "Message: The specified key does not exist.")
        self.assertEqual(err["Type"], "User")
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name)

    def test_no_such_bucket(self):
        self.assertError("InvalidParameterValueException", self.create,
                         Code={"S3Bucket": "no-such-bucket-here", "S3Key": "code.zip"}, status=400,
                         message="Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                                 "Message: The specified bucket does not exist")
        name = self.name()
        self.create(name)
        self.assertError("InvalidParameterValueException", self.lam.update_function_code, FunctionName=name,
                         S3Bucket="no-such-bucket-here", S3Key="code.zip",
                         message="Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                                 "Message: The specified bucket does not exist")

    def test_s3_object_not_a_zip(self):
        self.put("junk.zip", b"definitely not a zip")
        self.assertError("InvalidParameterValueException", self.create,
                         Code={"S3Bucket": self.bucket, "S3Key": "junk.zip"},
                         message="Could not unzip uploaded file. Please check your file, then try to upload again.")

    def test_s3_unzipped_over_limit(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            with z.open("big.bin", "w", force_zip64=True) as f:
                chunk = b"\0" * (1 << 20)
                for _ in range(251):
                    f.write(chunk)
        self.put("bomb.zip", buf.getvalue())
        self.assertError("InvalidParameterValueException", self.create,
                         Code={"S3Bucket": self.bucket, "S3Key": "bomb.zip"}, status=400,
                         message="Unzipped size must be smaller than 262144000 bytes")
