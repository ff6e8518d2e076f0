"""Tags: TagResource, UntagResource, ListTags (docs/aws-facts.md 2.6, 3.3, 3.4, 3.9)."""
import unittest

from harness import ACCOUNT, REGION, LambdadTestCase

NOT_SUPPORTED = "Tags on function aliases and versions are not supported. Please specify a function ARN."
TAG_RESOURCE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)")


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


class TestTags(LambdadTestCase):
    def fn(self, **kw):
        name = self.name("tag")
        self.create(name, **kw)
        return name, fn_arn(name)

    def tags(self, arn):
        resp = self.lam.list_tags(Resource=arn)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        resp.pop("ResponseMetadata")
        self.assertEqual(set(resp), {"Tags"})
        return resp["Tags"]

    def test_tag_list_untag(self):
        name, arn = self.fn()
        self.assertEqual(self.tags(arn), {})
        resp = self.lam.tag_resource(Resource=arn, Tags={"A": "tag-a", "B": "tag-b"})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.tags(arn), {"A": "tag-a", "B": "tag-b"})
        self.lam.tag_resource(Resource=arn, Tags={"A": "new"})  # overwrite replaces
        self.assertEqual(self.tags(arn), {"A": "new", "B": "tag-b"})
        resp = self.lam.untag_resource(Resource=arn, TagKeys=["A", "does-not-exist"])
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.tags(arn), {"B": "tag-b"})
        self.lam.untag_resource(Resource=arn, TagKeys=["nope"])
        self.assertEqual(self.tags(arn), {"B": "tag-b"})

    def test_tags_in_get_function_only_when_non_empty(self):
        name, arn = self.fn()
        self.assertNotIn("Tags", self.lam.get_function(FunctionName=name))
        self.lam.tag_resource(Resource=arn, Tags={"k": "v"})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Tags"], {"k": "v"})
        self.lam.untag_resource(Resource=arn, TagKeys=["k"])
        self.assertNotIn("Tags", self.lam.get_function(FunctionName=name))
        self.assertEqual(self.tags(arn), {})
        empty, _ = self.fn(Tags={})
        self.assertNotIn("Tags", self.lam.get_function(FunctionName=empty))

    def test_tags_at_create(self):
        name, arn = self.fn(Tags={"team": "x", "env": "dev"})
        self.assertEqual(self.tags(arn), {"team": "x", "env": "dev"})
        self.assertEqual(self.lam.get_function(FunctionName=name)["Tags"], {"team": "x", "env": "dev"})

    def test_revision_changes_on_tag_and_untag(self):
        name, arn = self.fn()
        self.lam.get_function(FunctionName=name)  # settles Pending -> Active
        r0 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.lam.tag_resource(Resource=arn, Tags={"a": "1"})
        r1 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertNotEqual(r1, r0)
        self.lam.tag_resource(Resource=arn, Tags={"a": "1"})  # same tags: still a new revision
        r2 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertNotEqual(r2, r1)
        self.lam.untag_resource(Resource=arn, TagKeys=["a"])
        r3 = self.lam.get_function_configuration(FunctionName=name)["RevisionId"]
        self.assertNotEqual(r3, r2)

    def test_fifty_tag_limit(self):
        _, arn = self.fn()
        fifty = {"k%02d" % i: "v" for i in range(50)}
        self.lam.tag_resource(Resource=arn, Tags=fifty)
        self.assertEqual(len(self.tags(arn)), 50)
        err = self.assertError("InvalidParameterValueException", self.lam.tag_resource, Resource=arn,
                               Tags={"one-more": "v"}, message="Number of tags exceeds resource tag limit.",
                               status=400)
        self.assertEqual(err.get("Type"), "User")
        self.assertEqual(len(self.tags(arn)), 50)
        _, arn2 = self.fn()
        self.assertError("InvalidParameterValueException", self.lam.tag_resource, Resource=arn2,
                         Tags={"k%02d" % i: "v" for i in range(51)},
                         message="Number of tags exceeds resource tag limit.", status=400)
        self.assertEqual(self.tags(arn2), {})

    def test_fifty_one_tags_at_create(self):
        name = self.name("tag")
        self.assertError("InvalidParameterValueException", self.create, name,
                         Tags={"k%02d" % i: "v" for i in range(51)},
                         message="Number of tags exceeds resource tag limit.", status=400)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName=name, status=404)
        ok = self.name("tag")
        self.create(ok, Tags={"k%02d" % i: "v" for i in range(50)})
        self.assertEqual(len(self.tags(fn_arn(ok))), 50)

    def test_empty_tags_refused(self):
        _, arn = self.fn()
        self.assertError("InvalidParameterValueException", self.lam.tag_resource, Resource=arn, Tags={},
                         message="An error occurred and the request cannot be processed.", status=400)

    def test_untag_without_keys(self):
        _, arn = self.fn()
        nv = self.server.client(validate=False)
        self.assertError("ValidationException", nv.untag_resource, Resource=arn, TagKeys=[],
                         message="1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                                 "constraint: Member must not be null", status=400)

    def test_versions_and_aliases_refused(self):
        name, arn = self.fn()
        for q in ("1", "$LATEST", "v1"):  # none of these exist: checked before existence
            for call, kw in ((self.lam.tag_resource, {"Tags": {"a": "b"}}),
                             (self.lam.untag_resource, {"TagKeys": ["a"]}),
                             (self.lam.list_tags, {})):
                err = self.assertError("InvalidParameterValueException", call, Resource=fn_arn(name, q),
                                       message=NOT_SUPPORTED, status=400, **kw)
                self.assertEqual(err.get("Type"), "User")
        # also for a function that does not exist
        self.assertError("InvalidParameterValueException", self.lam.list_tags,
                         Resource=fn_arn(self.name("absent"), "v1"), message=NOT_SUPPORTED, status=400)

    def test_unknown_function(self):
        arn = fn_arn("doesnotexist")
        for call, kw in ((self.lam.tag_resource, {"Tags": {"a": "b"}}),
                         (self.lam.untag_resource, {"TagKeys": ["a"]}),
                         (self.lam.list_tags, {})):
            err = self.assertError("ResourceNotFoundException", call, Resource=arn,
                                   message="Function not found: " + arn, status=404, **kw)
            self.assertEqual(err.get("Type"), "User")

    def test_bad_resource_arn(self):
        for bad in ("arn:aws:something", fn_arn("x").replace(":function:", ":foobar:")):
            self.assertError("ValidationException", self.lam.list_tags, Resource=bad,
                             message="1 validation error detected: Value '%s' at 'resource' failed to satisfy "
                                     "constraint: Member must satisfy regular expression pattern: %s"
                                     % (bad, TAG_RESOURCE_PATTERN), status=400)

    def test_deleted_function_drops_tags(self):
        name, arn = self.fn(Tags={"a": "b"})
        self.lam.delete_function(FunctionName=name)
        self.assertError("ResourceNotFoundException", self.lam.list_tags, Resource=arn, status=404)
        self.create(name)
        self.assertEqual(self.tags(arn), {})


if __name__ == "__main__":
    unittest.main()
