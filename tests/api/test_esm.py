"""Event source mappings: CreateEventSourceMapping, GetEventSourceMapping,
UpdateEventSourceMapping, DeleteEventSourceMapping, ListEventSourceMappings.

Shapes, defaults and messages are AWS's, from the recordings of
TestLambdaEventSourceMappings (test_lambda_api.snapshot.json) and of the SQS,
Kinesis and DynamoDB Streams integration tests.
"""
import re
import time

from harness import ACCOUNT, REGION, ROLE, LambdadTestCase, make_zip

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NOT_FOUND = "The resource you requested does not exist."
NULL_POSITION = ("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
                 "Member must not be null.")
BATCH_WINDOW = "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
BAD_FILTER = "Invalid filter pattern definition."
BAD_DESTINATION = "Unsupported DestinationConfig parameter for given event source mapping type."

SQS_KEYS = {"UUID", "BatchSize", "MaximumBatchingWindowInSeconds", "EventSourceArn", "FunctionArn",
            "LastModified", "State", "StateTransitionReason", "FunctionResponseTypes", "EventSourceMappingArn"}
STREAM_KEYS = SQS_KEYS | {"StartingPosition", "ParallelizationFactor", "LastProcessingResult", "DestinationConfig",
                          "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                          "TumblingWindowInSeconds"}


def fn_arn(name, qualifier=None):
    arn = "arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name)
    return arn + ":" + qualifier if qualifier else arn


def sqs_arn(name):
    return "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, name)


def kinesis_arn(name):
    return "arn:aws:kinesis:%s:%s:stream/%s" % (REGION, ACCOUNT, name)


def ddb_arn(table):
    return "arn:aws:dynamodb:%s:%s:table/%s/stream/2025-11-25T02:47:00.000" % (REGION, ACCOUNT, table)


def body(resp):
    resp = dict(resp)
    resp.pop("ResponseMetadata")
    return resp


class EsmTestCase(LambdadTestCase):
    def function(self):
        name = self.name("esm")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                                 Code={"ZipFile": make_zip()})
        return name

    def settled(self, uuid, deadline_s=5.0, lam=None):
        """Waits (bounded) until the mapping left its transitional state."""
        lam = lam or self.lam
        end = time.time() + deadline_s
        while True:
            m = lam.get_event_source_mapping(UUID=uuid)
            if m["State"] in ("Enabled", "Disabled"):
                return m
            if time.time() > end:
                self.fail("mapping %s did not settle: %s" % (uuid, m))
            time.sleep(0.02)

    def error(self, call, code, message, status=400, **kw):
        with self.assertRaises(self.lam.exceptions.ClientError) as cm:
            call(**kw)
        resp = cm.exception.response
        self.assertEqual(resp["Error"]["Code"], code)
        self.assertEqual(resp["Error"]["Message"], message)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], status)
        return resp

    def create_error(self, message, code="InvalidParameterValueException", status=400, **kw):
        return self.error(self.lam.create_event_source_mapping, code, message, status, **kw)


class TestShapes(EsmTestCase):
    def test_sqs_defaults_and_states(self):
        name = self.function()
        resp = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name))
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 202)
        m = body(resp)
        self.assertEqual(set(m), SQS_KEYS)
        self.assertRegex(m["UUID"], UUID)
        self.assertEqual(m["EventSourceMappingArn"],
                         "arn:aws:lambda:%s:%s:event-source-mapping:%s" % (REGION, ACCOUNT, m["UUID"]))
        self.assertEqual((m["BatchSize"], m["MaximumBatchingWindowInSeconds"]), (10, 0))
        self.assertEqual(m["FunctionArn"], fn_arn(name))
        self.assertEqual(m["EventSourceArn"], sqs_arn(name))
        self.assertEqual(m["FunctionResponseTypes"], [])
        self.assertEqual((m["State"], m["StateTransitionReason"]), ("Creating", "USER_INITIATED"))
        self.assertLess(abs(m["LastModified"].timestamp() - time.time()), 60)
        got = self.settled(m["UUID"])
        self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 200)
        got = body(got)
        self.assertEqual(got["State"], "Enabled")
        m["State"] = "Enabled"
        self.assertEqual(got, m)

    def test_kinesis_defaults(self):
        name = self.function()
        m = body(self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=kinesis_arn(name),
                                                      StartingPosition="LATEST"))
        self.assertEqual(set(m), STREAM_KEYS)
        expect = {"BatchSize": 100, "MaximumBatchingWindowInSeconds": 0, "ParallelizationFactor": 1,
                  "StartingPosition": "LATEST", "LastProcessingResult": "No records processed",
                  "State": "Creating", "StateTransitionReason": "User action",
                  "DestinationConfig": {"OnFailure": {}}, "MaximumRecordAgeInSeconds": -1,
                  "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1, "TumblingWindowInSeconds": 0,
                  "FunctionResponseTypes": []}
        self.assertEqual({k: m[k] for k in expect}, expect)

    def test_dynamodb_lifecycle(self):
        """test_event_source_mapping_lifecycle: create, get, delete, gone."""
        name = self.function()
        dest = sqs_arn(name + "-dlq")
        resp = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=ddb_arn(name),
            DestinationConfig={"OnFailure": {"Destination": dest}}, BatchSize=1, StartingPosition="TRIM_HORIZON",
            MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 202)
        m = body(resp)
        self.assertEqual(set(m), STREAM_KEYS)
        self.assertEqual(m["DestinationConfig"], {"OnFailure": {"Destination": dest}})
        self.assertEqual((m["BatchSize"], m["MaximumBatchingWindowInSeconds"], m["MaximumRetryAttempts"]), (1, 1, 1))
        self.assertEqual((m["State"], m["StartingPosition"]), ("Creating", "TRIM_HORIZON"))
        self.assertEqual(self.settled(m["UUID"])["State"], "Enabled")
        # deleting the function keeps the mapping (get_response_post_delete)
        self.lam.delete_function(FunctionName=name)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])["State"], "Enabled")
        resp = self.lam.delete_event_source_mapping(UUID=m["UUID"])
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 202)
        deleted = body(resp)
        self.assertEqual(deleted["State"], "Deleting")
        m["State"] = "Deleting"
        self.assertEqual(deleted, m)
        resp = self.error(self.lam.get_event_source_mapping, "ResourceNotFoundException", NOT_FOUND, 404,
                          UUID=m["UUID"])
        self.assertEqual((resp["Message"], resp["Type"]), (NOT_FOUND, "User"))

    def test_optional_members_round_trip(self):
        name = self.function()
        fc = {"Filters": [{"Pattern": '{"body": {"testItem": ["test24"]}}'}]}
        m = body(self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=sqs_arn(name), BatchSize=20, MaximumBatchingWindowInSeconds=1,
            ScalingConfig={"MaximumConcurrency": 2}, FilterCriteria=fc,
            FunctionResponseTypes=["ReportBatchItemFailures"], MetricsConfig={"Metrics": ["EventCount"]}))
        self.assertEqual(m["BatchSize"], 20)
        self.assertEqual(m["ScalingConfig"], {"MaximumConcurrency": 2})
        self.assertEqual(m["FilterCriteria"], fc)
        self.assertEqual(m["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(m["MetricsConfig"], {"Metrics": ["EventCount"]})
        self.assertEqual(body(self.settled(m["UUID"]))["FilterCriteria"], fc)

    def test_empty_filters_are_dropped(self):
        """response-with-empty-filters: no FilterCriteria in the answer."""
        name = self.function()
        m = body(self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=ddb_arn(name),
                                                      StartingPosition="LATEST", FilterCriteria={"Filters": []}))
        self.assertNotIn("FilterCriteria", m)
        self.assertEqual(m["DestinationConfig"], {"OnFailure": {}})

    def test_disabled_create_and_enabling(self):
        """test_fifo_message_group_parallelism: Disabled at once, then Enabling -> Enabled."""
        name = self.function()
        resp = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name + ".fifo"),
                                                    BatchSize=1, Enabled=False)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(resp["State"], "Disabled")
        self.assertEqual(self.lam.get_event_source_mapping(UUID=resp["UUID"])["State"], "Disabled")
        up = self.lam.update_event_source_mapping(UUID=resp["UUID"], Enabled=True)
        self.assertEqual(up["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(up["State"], "Enabling")
        self.assertEqual(self.settled(resp["UUID"])["State"], "Enabled")
        up = self.lam.update_event_source_mapping(UUID=resp["UUID"], Enabled=False)
        self.assertEqual(up["State"], "Disabling")
        self.assertEqual(self.settled(resp["UUID"])["State"], "Disabled")

    def test_update_function_and_fields(self):
        """test_sqs_event_source_mapping_update: Updating with the new FunctionArn."""
        name, other = self.function(), self.function()
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name),
                                                 MaximumBatchingWindowInSeconds=1)
        self.settled(m["UUID"])
        up = self.lam.update_event_source_mapping(UUID=m["UUID"], FunctionName=other, BatchSize=5)
        self.assertEqual(up["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual((up["State"], up["FunctionArn"], up["BatchSize"]), ("Updating", fn_arn(other), 5))
        self.assertEqual(up["MaximumBatchingWindowInSeconds"], 1)
        got = self.settled(m["UUID"])
        self.assertEqual((got["State"], got["FunctionArn"], got["BatchSize"]), ("Enabled", fn_arn(other), 5))
        self.error(self.lam.update_event_source_mapping, "InvalidParameterValueException",
                   "Function does not exist", UUID=m["UUID"], FunctionName="nope-" + name)

    def test_function_name_variations(self):
        name = self.function()
        self.lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.05,
                                                                                        "MaxAttempts": 100})
        v1 = self.lam.publish_version(FunctionName=name)
        alias = self.lam.create_alias(FunctionName=name, FunctionVersion=v1["Version"], Name="myalias")
        cases = [(name, fn_arn(name)), (name + ":$LATEST", fn_arn(name, "$LATEST")),
                 (name + ":1", fn_arn(name, "1")), (name + ":myalias", fn_arn(name, "myalias")),
                 ("%s:function:%s" % (ACCOUNT, name), fn_arn(name)),
                 (fn_arn(name), fn_arn(name)), (v1["FunctionArn"], fn_arn(name, "1")),
                 (alias["AliasArn"], fn_arn(name, "myalias"))]
        for given, want in cases:
            m = self.lam.create_event_source_mapping(FunctionName=given, EventSourceArn=sqs_arn(name))
            self.assertEqual(m["FunctionArn"], want, given)
            self.assertEqual(m["BatchSize"], 10)
            self.lam.delete_event_source_mapping(UUID=m["UUID"])
        for missing in (name + ":7", name + ":nosuchalias", "nosuchfunction"):
            self.create_error("Function does not exist", FunctionName=missing, EventSourceArn=sqs_arn(name))


class TestErrors(EsmTestCase):
    def test_unknown_uuid(self):
        for call, kw in ((self.lam.get_event_source_mapping, {}), (self.lam.delete_event_source_mapping, {}),
                         (self.lam.update_event_source_mapping, {"Enabled": False})):
            resp = self.error(call, "ResourceNotFoundException", NOT_FOUND, 404,
                              UUID="8a6d4b6c-0f5e-4c8f-9a43-2a3bd0f1e111", **kw)
            self.assertEqual((resp["Message"], resp["Type"]), (NOT_FOUND, "User"))

    def test_create_exceptions(self):
        """test_event_source_mapping_exceptions."""
        resp = self.create_error("Unrecognized event source.", FunctionName="doesnotexist")
        self.assertEqual((resp["message"], resp["Type"]), ("Unrecognized event source.", "User"))
        self.create_error("Unrecognized event source.", FunctionName="doesnotexist",
                          EventSourceArn="arn:aws:s3:::bucket")
        self.create_error("Function does not exist", FunctionName="doesnotexist",
                          EventSourceArn="arn:aws:sqs:us-east-1:111111111111:somequeue")
        self.create_error(BAD_DESTINATION, FunctionName="doesnotexist",
                          EventSourceArn="arn:aws:sqs:us-east-1:111111111111:somequeue",
                          DestinationConfig={"OnSuccess": {"Destination": sqs_arn("d")}})
        name = self.function()
        self.create_error(BAD_DESTINATION, FunctionName=name, EventSourceArn=sqs_arn(name),
                          DestinationConfig={"OnFailure": {"Destination": sqs_arn("d")}})
        # list doesn't care about the filters existing
        for kw in ({}, {"FunctionName": "doesnotexist"},
                   {"EventSourceArn": "arn:aws:sqs:us-east-1:111111111111:somequeue"}):
            self.assertIsInstance(self.lam.list_event_source_mappings(**kw)["EventSourceMappings"], list)

    def test_starting_position_rules(self):
        name = self.function()
        for arn in (ddb_arn(name), kinesis_arn(name)):
            resp = self.create_error(NULL_POSITION, FunctionName=name, EventSourceArn=arn)
            self.assertEqual(resp["Type"], "User")
            self.error(self.lam.create_event_source_mapping, "ValidationException",
                       "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
                       FunctionName=name, EventSourceArn=arn, StartingPosition="invalid")
            self.create_error("Timestamp only valid with StartingPosition AT_TIMESTAMP", FunctionName=name,
                              EventSourceArn=arn, StartingPosition="LATEST", StartingPositionTimestamp=1700000000)
        self.create_error("Unsupported starting position for arn type: " + ddb_arn(name), FunctionName=name,
                          EventSourceArn=ddb_arn(name), StartingPosition="AT_TIMESTAMP",
                          StartingPositionTimestamp=1700000000)
        for kw in ({"StartingPosition": "LATEST"}, {"StartingPosition": "LATEST",
                                                     "StartingPositionTimestamp": 1700000000}):
            self.create_error("StartingPosition is not valid for SQS event sources.", FunctionName=name,
                              EventSourceArn=sqs_arn(name), **kw)
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=kinesis_arn(name),
                                                 StartingPosition="AT_TIMESTAMP",
                                                 StartingPositionTimestamp=1700000000)
        self.assertEqual(m["StartingPosition"], "AT_TIMESTAMP")
        self.assertEqual(m["StartingPositionTimestamp"].timestamp(), 1700000000)

    def test_sqs_batch_window(self):
        """test_event_source_mapping_default_batch_size: create and update."""
        name = self.function()
        self.create_error(BATCH_WINDOW, FunctionName=name, EventSourceArn=sqs_arn(name), BatchSize=15)
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name))
        self.error(self.lam.update_event_source_mapping, "InvalidParameterValueException", BATCH_WINDOW,
                   UUID=m["UUID"], BatchSize=15)
        self.assertEqual(self.lam.get_event_source_mapping(UUID=m["UUID"])["BatchSize"], 10)
        up = self.lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=15, MaximumBatchingWindowInSeconds=2)
        self.assertEqual((up["BatchSize"], up["MaximumBatchingWindowInSeconds"]), (15, 2))
        # streams take big batches without a window
        k = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=kinesis_arn(name),
                                                 StartingPosition="LATEST", BatchSize=10000)
        self.assertEqual((k["BatchSize"], k["MaximumBatchingWindowInSeconds"]), (10000, 0))

    def test_invalid_filters(self):
        name = self.function()
        for f in ({}, {"Pattern": "simple string"}, {"Pattern": '[{"eventName": ["INSERT"=123}]'},
                  {"Pattern": '{"body": {"testItem": "test24"}}'}, {"Pattern": '{"a": [{"nope": 1}]}'},
                  {"Pattern": '{"a": []}'}, {"Pattern": "{}"}, {"Pattern": '{"$or": [{"a": [1]}]}'},
                  {"Pattern": '{"$or": [{"a": [1]}, {"b": "x"}]}'}):
            resp = self.create_error(BAD_FILTER, FunctionName=name, EventSourceArn=sqs_arn(name),
                                     FilterCriteria={"Filters": [f]})
            self.assertEqual(resp["Type"], "User")
        ok = '{"body": {"n": [{"numeric": [">", 0, "<=", 5]}], "p": [{"prefix": "x"}], "e": [{"exists": true}]}}'
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name),
                                                 FilterCriteria={"Filters": [{"Pattern": ok}]})
        self.assertEqual(m["FilterCriteria"]["Filters"][0]["Pattern"], ok)
        # $or holds two or more patterns, at any level (AWS's "Lambda event filtering" page)
        ok = '{"body": {"$or": [{"a": [1]}, {"b": [{"prefix": "x"}]}]}}'
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name + "-or"),
                                                 FilterCriteria={"Filters": [{"Pattern": ok}]})
        self.assertEqual(m["FilterCriteria"]["Filters"][0]["Pattern"], ok)

    def test_unsupported_parameters(self):
        name = self.function()
        self.create_error("Unsupported ParallelizationFactor parameter for given event source mapping type.",
                          FunctionName=name, EventSourceArn=sqs_arn(name), ParallelizationFactor=2)
        self.create_error("Unsupported ScalingConfig parameter for given event source mapping type.",
                          FunctionName=name, EventSourceArn=kinesis_arn(name), StartingPosition="LATEST",
                          ScalingConfig={"MaximumConcurrency": 2})

    def test_malformed_sources(self):
        name = self.function()
        self.create_error("Stream not found: arn:aws:kinesis:%s:%s:table/x" % (REGION, ACCOUNT), FunctionName=name,
                          EventSourceArn="arn:aws:kinesis:%s:%s:table/x" % (REGION, ACCOUNT),
                          StartingPosition="LATEST")
        arn = "arn:aws:dynamodb:%s:%s:table/t" % (REGION, ACCOUNT)
        self.create_error("Stream not found: " + arn, FunctionName=name, EventSourceArn=arn,
                          StartingPosition="LATEST")
        self.create_error("Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService."
                          "NonExistentQueue. SQS Error Message: The specified queue does not exist.",
                          FunctionName=name, EventSourceArn="arn:aws:sqs:%s:%s:a/b" % (REGION, ACCOUNT))

    def test_duplicates(self):
        name = self.function()
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name))
        resp = self.create_error(
            'An event source mapping with SQS arn (" %s ") and function (" %s ") already exists. Please update '
            "or delete the existing mapping with UUID %s" % (sqs_arn(name), name, m["UUID"]),
            "ResourceConflictException", 409, FunctionName=name, EventSourceArn=sqs_arn(name))
        self.assertEqual(resp["Type"], "User")
        for arn in (kinesis_arn(name), ddb_arn(name)):
            m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn,
                                                     StartingPosition="LATEST")
            self.create_error(
                'The event source arn (" %s ") and function (" %s ") provided mapping already exists. Please '
                "update or delete the existing mapping with UUID %s" % (arn, name, m["UUID"]),
                "ResourceConflictException", 409, FunctionName=name, EventSourceArn=arn,
                StartingPosition="TRIM_HORIZON")
            # another qualifier is another function; a deleted mapping frees the pair
            self.lam.create_event_source_mapping(FunctionName=name + ":$LATEST", EventSourceArn=arn,
                                                 StartingPosition="LATEST")
            self.lam.delete_event_source_mapping(UUID=m["UUID"])
            self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, StartingPosition="LATEST")


class TestKafka(EsmTestCase):
    def test_self_managed(self):
        """test_create_event_source_self_managed."""
        name = self.function()
        secret = "arn:aws:secretsmanager:%s:%s:secret:kafka-secret" % (REGION, ACCOUNT)
        sac = [{"Type": "BASIC_AUTH", "URI": secret}]
        source = {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["kafka:1000"]}}
        self.create_error("Required 'sourceAccessConfigurations' parameter is missing.", FunctionName=name,
                          Topics=["topic"], SelfManagedEventSource=source, StartingPosition="TRIM_HORIZON")
        m = body(self.lam.create_event_source_mapping(FunctionName=name, Topics=["topic"],
                                                      SelfManagedEventSource=source, SourceAccessConfigurations=sac,
                                                      StartingPosition="TRIM_HORIZON"))
        self.assertEqual(set(m), {"UUID", "StartingPosition", "BatchSize", "FunctionArn", "LastModified",
                                  "LastProcessingResult", "State", "StateTransitionReason", "Topics",
                                  "SourceAccessConfigurations", "SelfManagedEventSource",
                                  "SelfManagedKafkaEventSourceConfig", "EventSourceMappingArn"})
        self.assertEqual(m["SelfManagedKafkaEventSourceConfig"], {"ConsumerGroupId": m["UUID"]})
        self.assertEqual((m["BatchSize"], m["State"], m["StateTransitionReason"]),
                         (100, "Creating", "USER_INITIATED"))
        self.assertEqual((m["SelfManagedEventSource"], m["SourceAccessConfigurations"]), (source, sac))
        self.create_error(
            'An event source mapping with event source ("kafka:1000,kafka:2000"), function ("%s"), topics ("topic") '
            "already exists. Please update or delete the existing mapping with UUID %s" % (fn_arn(name), m["UUID"]),
            "ResourceConflictException", 409, FunctionName=name, Topics=["topic"],
            SelfManagedEventSource={"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["kafka:1000", "kafka:2000"]}},
            SourceAccessConfigurations=sac, StartingPosition="TRIM_HORIZON")
        v = self.lam.create_event_source_mapping(
            FunctionName=name, Topics=["topic_2"], SelfManagedEventSource=source, SourceAccessConfigurations=sac,
            StartingPosition="LATEST", BatchSize=1, SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": "random_id"})
        self.assertEqual(v["SelfManagedKafkaEventSourceConfig"], {"ConsumerGroupId": "random_id"})
        self.assertEqual((v["BatchSize"], v["StartingPosition"]), (1, "LATEST"))

    def test_msk(self):
        name = self.function()
        arn = "arn:aws:kafka:%s:%s:cluster/c1/0b1c2d3e-1111-2222-3333-444455556666-1" % (REGION, ACCOUNT)
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, Topics=["topic"],
                                                 StartingPosition="LATEST")
        self.assertEqual(m["AmazonManagedKafkaEventSourceConfig"], {"ConsumerGroupId": m["UUID"]})
        self.assertEqual((m["BatchSize"], m["EventSourceArn"]), (100, arn))


class TestListAndPersistence(EsmTestCase):
    def test_list_filters_and_paging(self):
        name, other = self.function(), self.function()
        q = sqs_arn(name)
        mine = {self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=q)["UUID"],
                self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=kinesis_arn(name),
                                                     StartingPosition="LATEST")["UUID"],
                self.lam.create_event_source_mapping(FunctionName=other, EventSourceArn=q)["UUID"]}
        by_fn = self.lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        self.assertEqual({m["FunctionArn"] for m in by_fn}, {fn_arn(name)})
        self.assertEqual(len(by_fn), 2)
        self.assertEqual(len(self.lam.list_event_source_mappings(FunctionName=fn_arn(name))["EventSourceMappings"]),
                         2)
        by_src = self.lam.list_event_source_mappings(EventSourceArn=q)["EventSourceMappings"]
        self.assertEqual({m["FunctionArn"] for m in by_src}, {fn_arn(name), fn_arn(other)})
        both = self.lam.list_event_source_mappings(EventSourceArn=q, FunctionName=other)["EventSourceMappings"]
        self.assertEqual([m["FunctionArn"] for m in both], [fn_arn(other)])
        seen, marker = [], None
        for _ in range(20):
            kw = {"MaxItems": 1}
            if marker:
                kw["Marker"] = marker
            page = self.lam.list_event_source_mappings(**kw)
            self.assertLessEqual(len(page["EventSourceMappings"]), 1)
            seen += [m["UUID"] for m in page["EventSourceMappings"]]
            marker = page.get("NextMarker")
            if not marker:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(mine <= set(seen))
        everything = self.lam.list_event_source_mappings()
        self.assertNotIn("NextMarker", everything)
        self.assertEqual(set(seen), {m["UUID"] for m in everything["EventSourceMappings"]})

    def test_tags_survive_updates(self):
        name = self.function()
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name),
                                                 Tags={"team": "a"})
        arn = m["EventSourceMappingArn"]
        self.assertNotIn("Tags", m)
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"team": "a"})
        self.lam.tag_resource(Resource=arn, Tags={"env": "b"})
        self.lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=3)
        self.settled(m["UUID"])
        self.assertEqual(self.lam.list_tags(Resource=arn)["Tags"], {"team": "a", "env": "b"})

    def test_kill9_persistence(self):
        name = self.function()
        a = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=sqs_arn(name), BatchSize=7,
                                                 Tags={"k": "v"})
        b = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=kinesis_arn(name),
                                                 StartingPosition="TRIM_HORIZON", Enabled=False)
        c = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=ddb_arn(name),
                                                 StartingPosition="LATEST")
        self.settled(a["UUID"])
        self.lam.delete_event_source_mapping(UUID=c["UUID"])
        self.server.kill9()
        self.server.start()
        lam = self.server.client()
        got = lam.get_event_source_mapping(UUID=a["UUID"])
        self.assertEqual((got["State"], got["BatchSize"]), ("Enabled", 7))
        self.assertEqual(lam.list_tags(Resource=a["EventSourceMappingArn"])["Tags"], {"k": "v"})
        self.assertEqual(lam.get_event_source_mapping(UUID=b["UUID"])["State"], "Disabled")
        with self.assertRaises(lam.exceptions.ResourceNotFoundException):
            lam.get_event_source_mapping(UUID=c["UUID"])

    def test_cli(self):
        name = self.function()
        m = self.server.cli("create-event-source-mapping", "--function-name", name, "--event-source-arn",
                            kinesis_arn(name), "--starting-position", "LATEST", "--batch-size", "50")
        self.assertEqual((m["BatchSize"], m["State"], m["StartingPosition"]), (50, "Creating", "LATEST"))
        listed = self.server.cli("list-event-source-mappings", "--function-name", name)
        self.assertEqual([x["UUID"] for x in listed["EventSourceMappings"]], [m["UUID"]])
        p = self.server.cli("get-event-source-mapping", "--uuid", "00000000-0000-4000-8000-000000000000",
                            check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceNotFoundException", p.stderr)
        self.assertIn(NOT_FOUND, p.stderr)
        d = self.server.cli("delete-event-source-mapping", "--uuid", m["UUID"])
        self.assertEqual(d["State"], "Deleting")
