"""Function resource policies: AddPermission, RemovePermission, GetPolicy.

Shapes, key order and messages are AWS's, from the TestLambdaPermissions
recordings in test_lambda_api.snapshot.json (the policy document and the
statement come back as compact JSON strings in AWS's key order).
"""
import json
import re
import unittest

from harness import ACCOUNT, REGION, LambdadTestCase, Server, make_zip, ROLE

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PRECONDITION = ("The Revision Id provided does not match the latest Revision Id. "
                "Call the GetPolicy API to retrieve the latest Revision Id")
NO_RESOURCE = "The resource you requested does not exist."
BAD_PRINCIPAL = "The provided principal was invalid. Please check the principal and try again."
BUCKET = "arn:aws:s3:::test-bucket"


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


def compact(doc):
    return json.dumps(doc, separators=(",", ":"))


def s3_statement(name, sid="s3", qualifier=None, source_arn=BUCKET):
    st = {"Sid": sid, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
          "Action": "lambda:InvokeFunction", "Resource": fn_arn(name, qualifier)}
    if source_arn:
        st["Condition"] = {"ArnLike": {"AWS:SourceArn": source_arn}}
    return st


def document(*statements):
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}


class PolicyTestCase(LambdadTestCase):
    def fresh(self, versions=0):
        name = self.name("pol")
        self.create(name)
        self.settled(name)
        for i in range(versions):
            if i:
                self.lam.update_function_configuration(FunctionName=name, Description="v%d" % (i + 1))
                self.settled(name)
            self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], str(i + 1))
            self.settled(name)
        return name

    def add_s3(self, name, sid="s3", **kw):
        args = dict(FunctionName=name, StatementId=sid, Action="lambda:InvokeFunction",
                    Principal="s3.amazonaws.com", SourceArn=BUCKET)
        args.update(kw)
        return self.lam.add_permission(**args)

    def policy(self, name, **kw):
        resp = self.lam.get_policy(FunctionName=name, **kw)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        return resp


class TestAddAndGet(PolicyTestCase):
    def test_add_returns_statement_string_and_201(self):
        name = self.fresh()
        resp = self.add_s3(name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        resp.pop("ResponseMetadata")
        self.assertEqual(list(resp), ["Statement"])
        self.assertIsInstance(resp["Statement"], str)
        # the exact compact string, keys in AWS's order
        self.assertEqual(resp["Statement"], compact(s3_statement(name)))

    def test_get_policy_document_string_and_revision(self):
        name = self.fresh()
        self.add_s3(name)
        resp = self.policy(name)
        resp.pop("ResponseMetadata")
        self.assertEqual(set(resp), {"Policy", "RevisionId"})
        self.assertEqual(resp["Policy"], compact(document(s3_statement(name))))
        self.assertRegex(resp["RevisionId"], UUID)
        self.assertEqual(resp["RevisionId"], self.lam.get_function(FunctionName=name)["Configuration"]["RevisionId"])

    def test_statements_keep_insertion_order(self):
        name = self.fresh()
        self.lam.add_permission(FunctionName=name, StatementId="logs", Action="lambda:InvokeFunction",
                                Principal="logs.amazonaws.com")
        self.lam.add_permission(FunctionName=name, StatementId="kinesis", Action="lambda:InvokeFunction",
                                Principal="kinesis.amazonaws.com")
        pol = json.loads(self.policy(name)["Policy"])
        self.assertEqual([s["Sid"] for s in pol["Statement"]], ["logs", "kinesis"])
        self.assertEqual(pol["Statement"][1], {"Sid": "kinesis", "Effect": "Allow",
                                               "Principal": {"Service": "kinesis.amazonaws.com"},
                                               "Action": "lambda:InvokeFunction", "Resource": fn_arn(name)})
        self.assertNotIn("Condition", pol["Statement"][0])

    def test_principal_forms_and_conditions(self):
        name = self.fresh()
        res = fn_arn(name)
        cases = [
            (dict(StatementId="wilcard", Principal="*", SourceAccount=ACCOUNT),
             {"Sid": "wilcard", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
              "Resource": res, "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}),
            (dict(StatementId="lambda", Principal="lambda.amazonaws.com", SourceAccount=ACCOUNT),
             {"Sid": "lambda", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
              "Action": "lambda:InvokeFunction", "Resource": res,
              "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}),
            (dict(StatementId="account-id", Principal="123456789012"),
             {"Sid": "account-id", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
              "Action": "lambda:InvokeFunction", "Resource": res}),
            (dict(StatementId="user-arn", Principal="arn:aws:iam::123456789012:user/someone",
                  SourceAccount=ACCOUNT),
             {"Sid": "user-arn", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/someone"},
              "Action": "lambda:InvokeFunction", "Resource": res,
              "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}),
            (dict(StatementId="urlPermission", Action="lambda:InvokeFunctionUrl", Principal="*",
                  SourceArn=BUCKET, SourceAccount=ACCOUNT, PrincipalOrgID="o-1234567890",
                  FunctionUrlAuthType="NONE"),
             {"Sid": "urlPermission", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
              "Resource": res,
              "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT, "lambda:FunctionUrlAuthType": "NONE",
                                             "aws:PrincipalOrgID": "o-1234567890"},
                            "ArnLike": {"AWS:SourceArn": BUCKET}}}),
            (dict(StatementId="alexaSkill", Principal="*",
                  EventSourceToken="amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
             {"Sid": "alexaSkill", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
              "Resource": res, "Condition": {"StringEquals": {
                  "lambda:EventSourceToken": "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}}}),
            (dict(StatementId="alexa", Principal="alexa-appkit.amazon.com"),
             {"Sid": "alexa", "Effect": "Allow", "Principal": {"Service": "alexa-appkit.amazon.com"},
              "Action": "lambda:InvokeFunction", "Resource": res}),
            (dict(StatementId="furl", Principal="*", InvokedViaFunctionUrl=True),
             {"Sid": "furl", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
              "Resource": res, "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}),
        ]
        for args, want in cases:
            kw = dict(FunctionName=name, Action="lambda:InvokeFunction")
            kw.update(args)
            resp = self.lam.add_permission(**kw)
            self.assertEqual(resp["Statement"], compact(want), args)
        pol = self.policy(name)["Policy"]
        self.assertEqual(pol, compact(document(*[w for _, w in cases])))

    def test_invalid_principal(self):
        name = self.fresh()
        for p in ("invalid.nonaws.com", "arn:aws:s3:::bucket", "12345678901", "s3.amazonaws.com.evil"):
            self.assertError("InvalidParameterValueException", self.lam.add_permission, FunctionName=name,
                             StatementId="lambda", Action="lambda:InvokeFunction", Principal=p,
                             SourceAccount=ACCOUNT, message=BAD_PRINCIPAL, status=400)
        self.assertError("ResourceNotFoundException", self.lam.get_policy, FunctionName=name, message=NO_RESOURCE)

    def test_statement_id_conflict(self):
        name = self.fresh()
        self.add_s3(name)
        err = self.assertError("ResourceConflictException", self.add_s3, name, status=409,
                               message="The statement id (s3) provided already exists. Please provide a new "
                                       "statement id, or remove the existing statement.")
        self.assertEqual(err["Type"], "User")
        self.assertEqual(len(json.loads(self.policy(name)["Policy"])["Statement"]), 1)

    def test_invalid_statement_id_is_validation_error(self):
        name = self.fresh()
        self.assertError("ValidationException", self.add_s3, name, sid="example.com", status=400,
                         message="1 validation error detected: Value 'example.com' at 'statementId' failed to "
                                 "satisfy constraint: Member must satisfy regular expression pattern: "
                                 "([a-zA-Z0-9-_]+)")

    def test_function_addressed_by_arns(self):
        name = self.fresh(versions=1)
        self.add_s3(fn_arn(name), sid="full")
        self.add_s3("%s:function:%s" % (ACCOUNT, name), sid="partial")
        self.add_s3(fn_arn(name, "1"), sid="qualified")
        self.assertEqual([s["Sid"] for s in json.loads(self.policy(name)["Policy"])["Statement"]],
                         ["full", "partial"])
        v1 = json.loads(self.policy(fn_arn(name), Qualifier="1")["Policy"])
        self.assertEqual(v1, document(s3_statement(name, "qualified", "1")))

    def test_get_policy_latest_qualifier_is_the_function_policy(self):
        name = self.fresh()
        self.add_s3(name)
        self.assertEqual(self.policy(name, Qualifier="$LATEST")["Policy"], self.policy(name)["Policy"])


class TestErrors(PolicyTestCase):
    def test_qualifier_mismatch_and_latest(self):
        name = self.fresh()
        err = self.assertError("InvalidParameterValueException", self.add_s3, name + ":alias-not-42", Qualifier="42",
                               status=400, message="The derived qualifier from the function name does not match "
                                                   "the specified qualifier.")
        self.assertEqual(err["Type"], "User")
        for kw in (dict(FunctionName=name + ":$LATEST", Qualifier="$LATEST"), dict(FunctionName=name + ":$LATEST"),
                   dict(FunctionName=name, Qualifier="$LATEST")):
            self.assertError("InvalidParameterValueException", self.add_s3, kw.pop("FunctionName"), status=400,
                             message="We currently do not support adding policies for $LATEST.", **kw)

    def test_add_on_missing_function_version_alias(self):
        name = self.fresh()
        self.assertError("ResourceNotFoundException", self.add_s3, "doesnotexist", status=404,
                         message="Function not found: " + fn_arn("doesnotexist"))
        self.assertError("ResourceNotFoundException", self.add_s3, name + ":alias-doesnotexist", status=404,
                         message="Cannot find alias arn: " + fn_arn(name, "alias-doesnotexist"))
        self.assertError("ResourceNotFoundException", self.add_s3, name, Qualifier="42", status=404,
                         message="Function not found: " + fn_arn(name, "42"))
        self.assertError("ResourceNotFoundException", self.add_s3, name + ":42", status=404,
                         message="Function not found: " + fn_arn(name, "42"))
        self.assertError("ResourceNotFoundException", self.add_s3, name, Qualifier="valid-with-$-but-doesnotexist",
                         status=404, message="Function not found: " + fn_arn(name, "valid-with-$-but-doesnotexist"))
        self.assertError("ValidationException", self.add_s3, name, Qualifier="invalid-qualifier-with-?-char",
                         message="1 validation error detected: Value 'invalid-qualifier-with-?-char' at 'qualifier' "
                                 "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                                 "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")

    def test_get_policy_errors(self):
        name = self.fresh()
        for kw in (dict(FunctionName="doesnotexist"), dict(FunctionName=name, Qualifier="77"),
                   dict(FunctionName=name, Qualifier="nosuchalias"), dict(FunctionName=name)):
            err = self.assertError("ResourceNotFoundException", self.lam.get_policy, message=NO_RESOURCE,
                                   status=404, **kw)
            self.assertEqual(err["Type"], "User")

    def test_remove_errors(self):
        name = self.fresh()
        self.assertError("ResourceNotFoundException", self.lam.remove_permission, FunctionName=name,
                         StatementId="s3", status=404, message="No policy is associated with the given resource.")
        self.assertError("ResourceNotFoundException", self.lam.remove_permission, FunctionName="doesnotexist",
                         StatementId="s3", message="No policy found for: " + fn_arn("doesnotexist"))
        self.assertError("ResourceNotFoundException", self.lam.remove_permission, FunctionName=name,
                         StatementId="s3", Qualifier="alias-doesnotexist",
                         message="Cannot find alias arn: " + fn_arn(name, "alias-doesnotexist"))
        self.assertError("ResourceNotFoundException", self.lam.remove_permission, FunctionName=name,
                         StatementId="s3", Qualifier="9", message="Function not found: " + fn_arn(name, "9"))
        self.add_s3(name)
        self.assertError("ResourceNotFoundException", self.lam.remove_permission, FunctionName=name,
                         StatementId="non-existent", status=404,
                         message="Statement non-existent is not found in resource policy.")

    def test_policy_length_limit(self):
        name = self.fresh()
        src = "arn:aws:s3:::" + "b" * 1500
        n = 0
        while True:
            self.assertLess(n, 40, "no PolicyLengthExceededException")
            before = self.policy(name)["Policy"] if n else None
            try:
                self.add_s3(name, sid="s%d" % n, SourceArn=src)
            except self.lam.exceptions.ClientError as e:
                err = e.response
                break
            n += 1
        self.assertEqual(err["Error"]["Code"], "PolicyLengthExceededException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        size = len(before) + 1 + len(compact(s3_statement(name, "s%d" % n, source_arn=src)))
        self.assertGreater(size, 20480)
        self.assertLessEqual(len(before), 20480)
        self.assertEqual(err["Error"]["Message"],
                         "The final policy size (%d) is bigger than the limit (20480)." % size)
        # nothing was stored
        self.assertEqual(self.policy(name)["Policy"], before)


class TestRemoveAndRevisions(PolicyTestCase):
    def test_remove_statements_then_policy_is_gone(self):
        name = self.fresh()
        self.lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                                Principal="s3.amazonaws.com")
        self.add_s3(name, sid="sqs", Principal="sqs.amazonaws.com")
        rev_two = self.policy(name)["RevisionId"]
        resp = self.lam.remove_permission(FunctionName=name, StatementId="sqs")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        after = self.policy(name)
        self.assertNotEqual(after["RevisionId"], rev_two)
        self.assertEqual(after["Policy"], compact(document(s3_statement(name, source_arn=None))))
        self.assertEqual(self.policy(name)["RevisionId"], after["RevisionId"])
        self.lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=after["RevisionId"])
        self.assertError("ResourceNotFoundException", self.lam.get_policy, FunctionName=name, message=NO_RESOURCE)
        self.assertError("ResourceNotFoundException", self.lam.remove_permission, FunctionName=name,
                         StatementId="s3", message="No policy is associated with the given resource.")

    def test_changes_move_function_revision(self):
        name = self.fresh()
        r0 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.add_s3(name)
        r1 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertNotEqual(r0, r1)
        self.assertEqual(self.policy(name)["RevisionId"], r1)
        self.add_s3(name, sid="two")
        r2 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertNotIn(r2, (r0, r1))
        self.lam.remove_permission(FunctionName=name, StatementId="two")
        r3 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertNotIn(r3, (r0, r1, r2))
        self.assertEqual(self.policy(name)["RevisionId"], r3)

    def test_revision_preconditions(self):
        name = self.fresh()
        rev = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        err = self.assertError("PreconditionFailedException", self.add_s3, name, RevisionId="wrong",
                               message=PRECONDITION, status=412)
        self.assertEqual(err["Type"], "User")
        self.add_s3(name, RevisionId=rev)
        pol_rev = self.policy(name)["RevisionId"]
        self.assertError("PreconditionFailedException", self.add_s3, name, sid="x", RevisionId=rev,
                         message=PRECONDITION)
        self.add_s3(name, sid="x", RevisionId=pol_rev)
        self.assertError("PreconditionFailedException", self.lam.remove_permission, FunctionName=name,
                         StatementId="x", RevisionId=pol_rev, message=PRECONDITION, status=412)
        self.lam.remove_permission(FunctionName=name, StatementId="x", RevisionId=self.policy(name)["RevisionId"])
        self.assertEqual([s["Sid"] for s in json.loads(self.policy(name)["Policy"])["Statement"]], ["s3"])

    def test_versions_and_aliases_have_their_own_policies(self):
        name = self.fresh()
        self.add_s3(name)
        base = self.policy(name)
        self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], "1")
        self.settled(name)
        # publishing moves $LATEST's RevisionId, not the policy's; no policy on the version
        after = self.policy(name)
        self.assertEqual(after, dict(after, Policy=base["Policy"], RevisionId=base["RevisionId"]))
        self.assertNotEqual(self.lam.get_function_configuration(FunctionName=name)["RevisionId"],
                            base["RevisionId"])
        self.assertError("ResourceNotFoundException", self.lam.get_policy, FunctionName=name, Qualifier="1",
                         message=NO_RESOURCE)
        # the same sid on the version
        v1_before = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")["RevisionId"]
        self.add_s3(name + ":1", Qualifier="1")
        v1 = self.policy(name, Qualifier="1")
        self.assertEqual(v1["Policy"], compact(document(s3_statement(name, qualifier="1"))))
        v1_after = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")["RevisionId"]
        self.assertNotEqual(v1_before, v1_after)
        self.assertEqual(v1["RevisionId"], v1_after)
        # an alias: its first precondition is the alias's RevisionId
        alias = self.lam.create_alias(FunctionName=name, Name="permission-alias", FunctionVersion="1")
        self.assertError("PreconditionFailedException", self.add_s3, name, Qualifier="permission-alias",
                         RevisionId="wrong", message=PRECONDITION)
        self.add_s3(name + ":permission-alias", Qualifier="permission-alias", RevisionId=alias["RevisionId"])
        al = self.policy(name, Qualifier="permission-alias")
        self.assertEqual(al["Policy"], compact(document(s3_statement(name, qualifier="permission-alias"))))
        self.assertNotEqual(al["RevisionId"], alias["RevisionId"])
        self.assertEqual(self.lam.get_alias(FunctionName=name, Name="permission-alias")["RevisionId"],
                         al["RevisionId"])
        # the function's policy is untouched and still accepts its RevisionId
        self.assertEqual(self.policy(name)["RevisionId"], base["RevisionId"])
        self.add_s3(name, sid="s3_2", RevisionId=base["RevisionId"])
        self.assertEqual(json.loads(self.policy(name)["Policy"]),
                         document(s3_statement(name), s3_statement(name, "s3_2")))
        self.assertEqual(len(json.loads(self.policy(name, Qualifier="1")["Policy"])["Statement"]), 1)

    def test_policies_deleted_with_alias_version_and_function(self):
        name = self.fresh(versions=2)
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.add_s3(name, Qualifier="live")
        self.add_s3(name, Qualifier="2")
        self.add_s3(name)
        self.lam.delete_alias(FunctionName=name, Name="live")
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.assertError("ResourceNotFoundException", self.lam.get_policy, FunctionName=name, Qualifier="live",
                         message=NO_RESOURCE)
        self.lam.delete_function(FunctionName=name, Qualifier="2")
        self.assertError("ResourceNotFoundException", self.lam.get_policy, FunctionName=name, Qualifier="2",
                         message=NO_RESOURCE)
        self.policy(name)
        self.lam.delete_function(FunctionName=name)
        self.create(name)
        self.assertError("ResourceNotFoundException", self.lam.get_policy, FunctionName=name, message=NO_RESOURCE)


class TestCliAndRestart(PolicyTestCase):
    def test_cli_add_get_remove(self):
        name = self.fresh()
        out = self.server.cli("add-permission", "--function-name", name, "--statement-id", "cli",
                              "--action", "lambda:InvokeFunction", "--principal", "sns.amazonaws.com",
                              "--source-arn", "arn:aws:sns:us-east-1:%s:topic" % ACCOUNT)
        self.assertEqual(json.loads(out["Statement"]),
                         {"Sid": "cli", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                          "Action": "lambda:InvokeFunction", "Resource": fn_arn(name),
                          "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:%s:topic" % ACCOUNT}}})
        got = self.server.cli("get-policy", "--function-name", name)
        self.assertEqual(json.loads(got["Policy"])["Statement"][0]["Sid"], "cli")
        self.assertRegex(got["RevisionId"], UUID)
        self.assertIsNone(self.server.cli("remove-permission", "--function-name", name, "--statement-id", "cli"))
        p = self.server.cli("get-policy", "--function-name", name, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceNotFoundException", p.stderr)

    def test_kill9_keeps_policies(self):
        s = Server().start()
        try:
            lam = s.client()
            lam.create_function(FunctionName="keep", Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                Code={"ZipFile": make_zip()}, Publish=True)
            lam.create_alias(FunctionName="keep", Name="live", FunctionVersion="1")
            for kw in ({}, {"Qualifier": "1"}, {"Qualifier": "live"}):
                lam.add_permission(FunctionName="keep", StatementId="a", Action="lambda:InvokeFunction",
                                   Principal="*", **kw)
            lam.add_permission(FunctionName="keep", StatementId="b", Action="lambda:GetFunction",
                               Principal="123456789012")
            lam.remove_permission(FunctionName="keep", StatementId="a", Qualifier="1")

            def snapshot():
                out = {}
                for q in (None, "1", "live"):
                    try:
                        r = lam.get_policy(FunctionName="keep", **({"Qualifier": q} if q else {}))
                        out[q] = (r["Policy"], r["RevisionId"])
                    except lam.exceptions.ResourceNotFoundException:
                        out[q] = None
                return out
            before = snapshot()
            self.assertIsNone(before["1"])
            self.assertEqual([st["Sid"] for st in json.loads(before[None][0])["Statement"]], ["a", "b"])
            self.assertEqual(s.kill9(), -9)
            s.start()
            self.assertEqual(snapshot(), before)
            lam.remove_permission(FunctionName="keep", StatementId="b", RevisionId=before[None][1])
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
