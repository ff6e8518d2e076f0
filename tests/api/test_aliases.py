"""Aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

Shapes and messages are AWS's, from docs/aws-facts.md sections 2.5, 3.4 and 3.8.
"""
import re
import unittest

from harness import ACCOUNT, REGION, LambdadTestCase

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PRECONDITION = ("The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
WEIGHT_CONSTRAINT = ("Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
                     "Member must have value greater than or equal to 0.0, Member must not be null]")
ALIAS_NAME_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


class AliasTestCase(LambdadTestCase):
    def with_versions(self, n=2):
        """A function with published versions 1..n; returns its name."""
        name = self.name("al")
        self.create(name)
        for i in range(1, n + 1):
            self.settled(name)
            if i > 1:
                self.lam.update_function_configuration(FunctionName=name, Description="v%d" % i)
                self.settled(name)
            self.assertEqual(self.lam.publish_version(FunctionName=name)["Version"], str(i))
        return name


class TestAliasCrud(AliasTestCase):
    def test_create_shape_and_status(self):
        name = self.with_versions(1)
        resp = self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 201)
        resp.pop("ResponseMetadata")
        self.assertEqual(set(resp), {"AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"})
        self.assertEqual(resp["AliasArn"], fn_arn(name, "live"))
        self.assertEqual(resp["Name"], "live")
        self.assertEqual(resp["FunctionVersion"], "1")
        self.assertEqual(resp["Description"], "")
        self.assertRegex(resp["RevisionId"], UUID)
        got = self.lam.get_alias(FunctionName=name, Name="live")
        self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 200)
        got.pop("ResponseMetadata")
        self.assertEqual(got, resp)

    def test_create_does_not_change_function_revision(self):
        name = self.with_versions(1)
        before_latest = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        before_v1 = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")["RevisionId"]
        self.lam.create_alias(FunctionName=name, Name="a", FunctionVersion="1")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["RevisionId"], before_latest)
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name, Qualifier="1")["RevisionId"],
                         before_v1)

    def test_latest_alias_and_description(self):
        name = self.with_versions(1)
        resp = self.lam.create_alias(FunctionName=name, Name="head", FunctionVersion="$LATEST",
                                     Description="tip of tree")
        self.assertEqual(resp["FunctionVersion"], "$LATEST")
        self.assertEqual(resp["Description"], "tip of tree")
        self.assertNotIn("RoutingConfig", resp)

    def test_routing_config_shape(self):
        name = self.with_versions(2)
        resp = self.lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
        self.assertEqual(resp["RoutingConfig"], {"AdditionalVersionWeights": {"2": 0.2}})
        self.assertEqual(self.lam.get_alias(FunctionName=name, Name="canary")["RoutingConfig"],
                         {"AdditionalVersionWeights": {"2": 0.2}})

    def test_empty_routing_is_absent(self):
        name = self.with_versions(2)
        resp = self.lam.create_alias(FunctionName=name, Name="e", FunctionVersion="1",
                                     RoutingConfig={"AdditionalVersionWeights": {}})
        self.assertNotIn("RoutingConfig", resp)
        self.lam.update_alias(FunctionName=name, Name="e", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
        upd = self.lam.update_alias(FunctionName=name, Name="e", RoutingConfig={"AdditionalVersionWeights": {}})
        self.assertNotIn("RoutingConfig", upd)
        self.assertNotIn("RoutingConfig", self.lam.get_alias(FunctionName=name, Name="e"))

    def test_update_changes_revision_and_fields(self):
        name = self.with_versions(2)
        created = self.lam.create_alias(FunctionName=name, Name="u", FunctionVersion="1")
        same = self.lam.update_alias(FunctionName=name, Name="u")
        self.assertEqual(same["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertNotEqual(same["RevisionId"], created["RevisionId"])  # even without changes
        self.assertEqual(same["FunctionVersion"], "1")
        upd = self.lam.update_alias(FunctionName=name, Name="u", FunctionVersion="2", Description="d",
                                    RevisionId=same["RevisionId"])
        self.assertEqual(upd["FunctionVersion"], "2")
        self.assertEqual(upd["Description"], "d")
        self.assertEqual(upd["AliasArn"], fn_arn(name, "u"))
        self.assertNotEqual(upd["RevisionId"], same["RevisionId"])
        got = self.lam.get_alias(FunctionName=name, Name="u")
        self.assertEqual(got["RevisionId"], upd["RevisionId"])
        self.assertEqual(got["FunctionVersion"], "2")

    def test_update_revision_precondition(self):
        name = self.with_versions(1)
        self.lam.create_alias(FunctionName=name, Name="p", FunctionVersion="1")
        err = self.assertError("PreconditionFailedException", self.lam.update_alias, FunctionName=name,
                               Name="p", RevisionId="wrong", message=PRECONDITION, status=412)
        self.assertEqual(err.get("Type"), "User")

    def test_delete_is_idempotent(self):
        name = self.with_versions(1)
        self.lam.create_alias(FunctionName=name, Name="gone", FunctionVersion="1")
        resp = self.lam.delete_alias(FunctionName=name, Name="gone")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.get_alias, FunctionName=name, Name="gone",
                         message="Cannot find alias arn: " + fn_arn(name, "gone"), status=404)
        again = self.lam.delete_alias(FunctionName=name, Name="gone")
        self.assertEqual(again["ResponseMetadata"]["HTTPStatusCode"], 204)
        never = self.lam.delete_alias(FunctionName=name, Name="never-existed")
        self.assertEqual(never["ResponseMetadata"]["HTTPStatusCode"], 204)

    def test_alias_name_reusable_after_delete(self):
        name = self.with_versions(1)
        self.lam.create_alias(FunctionName=name, Name="again", FunctionVersion="1")
        self.lam.delete_alias(FunctionName=name, Name="again")
        resp = self.lam.create_alias(FunctionName=name, Name="again", FunctionVersion="$LATEST")
        self.assertEqual(resp["FunctionVersion"], "$LATEST")

    def test_alias_gone_with_function(self):
        name = self.with_versions(1)
        self.lam.create_alias(FunctionName=name, Name="x", FunctionVersion="1")
        self.lam.delete_function(FunctionName=name)
        self.create(name)
        self.settled(name)
        self.assertEqual(self.lam.list_aliases(FunctionName=name)["Aliases"], [])


class TestAliasErrors(AliasTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        inst = cls("test_create_exists")
        cls.fn = inst.with_versions(2)

    def test_create_exists(self):
        self.lam.create_alias(FunctionName=self.fn, Name="custom", FunctionVersion="1")
        err = self.assertError("ResourceConflictException", self.lam.create_alias, FunctionName=self.fn,
                               Name="custom", FunctionVersion="1",
                               message="Alias already exists: " + fn_arn(self.fn, "custom"), status=409)
        self.assertEqual(err.get("Type"), "User")

    def test_too_many_weights(self):
        err = self.assertError("InvalidParameterValueException", self.lam.create_alias, FunctionName=self.fn,
                               Name="w2", FunctionVersion="1",
                               RoutingConfig={"AdditionalVersionWeights": {"1": 0.8, "2": 0.2}},
                               message="Number of items in AdditionalVersionWeights cannot be greater than 1",
                               status=400)
        self.assertEqual(err.get("Type"), "User")

    def test_weight_above_one(self):
        self.assertError("ValidationException", self.lam.create_alias, FunctionName=self.fn, Name="big",
                         FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 2}},
                         message="1 validation error detected: Value '{2=2.0}' at "
                                 "'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                                 + WEIGHT_CONSTRAINT, status=400)

    def test_weight_below_zero(self):
        # botocore refuses a negative weight itself: send it without client-side validation
        nv = self.server.client(validate=False)
        self.assertError("ValidationException", nv.create_alias, FunctionName=self.fn, Name="neg",
                         FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": -1}},
                         message="1 validation error detected: Value '{2=-1.0}' at "
                                 "'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                                 + WEIGHT_CONSTRAINT, status=400)

    def test_weight_error_on_update(self):
        self.lam.create_alias(FunctionName=self.fn, Name="upw", FunctionVersion="1")
        self.assertError("ValidationException", self.lam.update_alias, FunctionName=self.fn, Name="upw",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 2}},
                         message="1 validation error detected: Value '{2=2.0}' at "
                                 "'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                                 + WEIGHT_CONSTRAINT, status=400)

    def test_latest_key_in_routing(self):
        self.assertError("ValidationException", self.lam.create_alias, FunctionName=self.fn, Name="lk",
                         FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}},
                         message="1 validation error detected: Value '{$LATEST=0.5}' at "
                                 "'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
                                 "Map keys must satisfy constraint: [Member must have length less than or "
                                 "equal to 1024, Member must have length greater than or equal to 1, Member "
                                 "must satisfy regular expression pattern: [0-9]+]", status=400)

    def test_latest_with_routing(self):
        err = self.assertError("InvalidParameterValueException", self.lam.create_alias, FunctionName=self.fn,
                               Name="lr", FunctionVersion="$LATEST",
                               RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
                               message="$LATEST is not supported for an alias pointing to more than 1 version",
                               status=400)
        self.assertNotIn("Type", err)  # AWS sends this one without Type

    def test_version_in_its_own_routing(self):
        self.assertError("InvalidParameterValueException", self.lam.create_alias, FunctionName=self.fn,
                         Name="self", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
                         message="Invalid function version 1. Function version 1 is already included in "
                                 "routing configuration.", status=400)

    def test_missing_version(self):
        self.assertError("ResourceNotFoundException", self.lam.create_alias, FunctionName=self.fn, Name="mv",
                         FunctionVersion="10", message="Function not found: " + fn_arn(self.fn, "10"), status=404)

    def test_missing_routing_version(self):
        self.assertError("ResourceNotFoundException", self.lam.create_alias, FunctionName=self.fn, Name="mr",
                         FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"10": 0.5}},
                         message="Function not found: " + fn_arn(self.fn, "10"), status=404)

    def test_missing_function_qualified_by_version(self):
        err = self.assertError("ResourceNotFoundException", self.lam.create_alias,
                               FunctionName=self.fn + "-unknown", Name="x", FunctionVersion="1",
                               message="Function not found: " + fn_arn(self.fn + "-unknown", "1"), status=404)
        self.assertEqual(err.get("Type"), "User")

    def test_numeric_name_refused(self):
        self.assertError("ValidationException", self.lam.create_alias, FunctionName=self.fn, Name="2024",
                         FunctionVersion="1",
                         message="1 validation error detected: Value '2024' at 'name' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: " + ALIAS_NAME_PATTERN,
                         status=400)

    def test_numeric_prefix_name_accepted(self):
        resp = self.lam.create_alias(FunctionName=self.fn, Name="2024-01-02", FunctionVersion="1")
        self.assertEqual(resp["AliasArn"], fn_arn(self.fn, "2024-01-02"))

    def test_get_missing_alias(self):
        err = self.assertError("ResourceNotFoundException", self.lam.get_alias, FunctionName=self.fn,
                               Name="non-existent",
                               message="Cannot find alias arn: " + fn_arn(self.fn, "non-existent"), status=404)
        self.assertEqual(err.get("Type"), "User")

    def test_update_missing_alias(self):
        self.assertError("ResourceNotFoundException", self.lam.update_alias, FunctionName=self.fn,
                         Name="non-existent", FunctionVersion="1",
                         message="Alias not found: " + fn_arn(self.fn, "non-existent"), status=404)

    def test_update_to_missing_version(self):
        self.lam.create_alias(FunctionName=self.fn, Name="tomiss", FunctionVersion="1")
        self.assertError("ResourceNotFoundException", self.lam.update_alias, FunctionName=self.fn,
                         Name="tomiss", FunctionVersion="10",
                         message="Function not found: " + fn_arn(self.fn, "10"), status=404)
        self.assertEqual(self.lam.get_alias(FunctionName=self.fn, Name="tomiss")["FunctionVersion"], "1")

    def test_update_latest_with_routing(self):
        self.lam.create_alias(FunctionName=self.fn, Name="tolatest", FunctionVersion="1",
                              RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
        self.assertError("InvalidParameterValueException", self.lam.update_alias, FunctionName=self.fn,
                         Name="tolatest", FunctionVersion="$LATEST",
                         message="$LATEST is not supported for an alias pointing to more than 1 version",
                         status=400)

    def test_get_alias_of_missing_function(self):
        self.assertError("ResourceNotFoundException", self.lam.get_alias, FunctionName=self.fn + "-nope",
                         Name="a", status=404)


class TestListAliases(AliasTestCase):
    def test_list_filter_and_paging(self):
        name = self.with_versions(2)
        names = ["a1", "a2", "a3", "b1", "b2"]
        for n in names:
            self.lam.create_alias(FunctionName=name, Name=n, FunctionVersion="1" if n[0] == "a" else "2")
        full = self.lam.list_aliases(FunctionName=name)
        self.assertNotIn("NextMarker", full)
        self.assertEqual(sorted(a["Name"] for a in full["Aliases"]), names)
        for a in full["Aliases"]:
            self.assertEqual(a["AliasArn"], fn_arn(name, a["Name"]))
            self.assertEqual(set(a), {"AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"})
        only1 = self.lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]
        self.assertEqual(sorted(a["Name"] for a in only1), ["a1", "a2", "a3"])
        self.assertTrue(all(a["FunctionVersion"] == "1" for a in only1))
        self.assertEqual(self.lam.list_aliases(FunctionName=name, FunctionVersion="$LATEST")["Aliases"], [])
        # MaxItems=2 pages: every alias once, NextMarker only while more remain
        seen, marker, pages = [], None, 0
        while pages < 10:
            kw = {"Marker": marker} if marker else {}
            page = self.lam.list_aliases(FunctionName=name, MaxItems=2, **kw)
            pages += 1
            self.assertLessEqual(len(page["Aliases"]), 2)
            seen += [a["Name"] for a in page["Aliases"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(seen), names)
        # filter and paging together
        seen, marker, pages = [], None, 0
        while pages < 10:
            kw = {"Marker": marker} if marker else {}
            page = self.lam.list_aliases(FunctionName=name, FunctionVersion="2", MaxItems=1, **kw)
            pages += 1
            seen += [a["Name"] for a in page["Aliases"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(sorted(seen), ["b1", "b2"])

    def test_list_empty(self):
        name = self.name("al")
        self.create(name)
        resp = self.lam.list_aliases(FunctionName=name)
        resp.pop("ResponseMetadata")
        self.assertEqual(resp, {"Aliases": []})

    def test_list_missing_function(self):
        name = self.name("al-missing")
        self.assertError("ResourceNotFoundException", self.lam.list_aliases, FunctionName=name,
                         message="Function not found: " + fn_arn(name), status=404)


class TestThroughAlias(AliasTestCase):
    def test_get_function_through_alias(self):
        name = self.with_versions(2)
        self.lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
        v1 = self.lam.get_function_configuration(FunctionName=name, Qualifier="1")
        got = self.lam.get_function(FunctionName=name, Qualifier="prod")["Configuration"]
        self.assertEqual(got["Version"], "1")
        self.assertEqual(got["FunctionArn"], fn_arn(name, "prod"))
        self.assertEqual(got["RevisionId"], v1["RevisionId"])
        self.assertEqual(got["Description"], v1["Description"])
        by_arn = self.lam.get_function(FunctionName=fn_arn(name, "prod"))["Configuration"]
        self.assertEqual(by_arn["FunctionArn"], fn_arn(name, "prod"))
        self.assertEqual(by_arn["Version"], "1")
        cfg = self.lam.get_function_configuration(FunctionName=name, Qualifier="prod")
        self.assertEqual(cfg["FunctionArn"], fn_arn(name, "prod"))
        self.assertEqual(cfg["Version"], "1")
        # retarget: the alias follows
        self.lam.update_alias(FunctionName=name, Name="prod", FunctionVersion="2")
        cfg = self.lam.get_function_configuration(FunctionName=name + ":prod")
        self.assertEqual(cfg["Version"], "2")
        self.assertEqual(cfg["Description"], "v2")

    def test_missing_alias_qualifier(self):
        name = self.with_versions(1)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name,
                         Qualifier="aliasdoesnotexist",
                         message="Function not found: " + fn_arn(name, "aliasdoesnotexist"), status=404)
        self.assertError("ResourceNotFoundException", self.lam.get_function_configuration,
                         FunctionName=fn_arn(name, "aliasdoesnotexist"),
                         message="Function not found: " + fn_arn(name, "aliasdoesnotexist"), status=404)


if __name__ == "__main__":
    unittest.main()
