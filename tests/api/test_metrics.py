"""AWS/Lambda metrics: the CloudWatch API subset (GetMetricStatistics, GetMetricData, ListMetrics) with
boto3 (rpc-v2-cbor), the AWS CLI v1 (rpc-v2-cbor) and Debian's CLI v2 (query protocol), GET /metrics in
Prometheus text scraped by Debian's prometheus server, restarts, --metrics-listen, --auth enforce and the
series cap."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import ROLE, LambdadTestCase, MotoTestCase, Server, free_port, make_zip, stop_process

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLI_V2 = "/usr/bin/aws"

CODE = make_zip({"app.py": "def handler(e, c):\n    if e.get('fail'):\n        raise Exception('boom')\n    return e\n"})


def cli_v1():
    """An AWS CLI v1 (PATH's, or the one tools/deps.sh installs into build/cli-v1), or None."""
    for d in os.environ.get("PATH", "").split(":") + [os.path.join(ROOT, "build", "cli-v1", "bin")]:
        p = os.path.join(d, "aws")
        if os.access(p, os.X_OK):
            out = subprocess.run([p, "--version"], capture_output=True, text=True, timeout=30)
            if (out.stdout + out.stderr).startswith("aws-cli/1."):
                return p
    return None


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def make_function(lam, name, role=ROLE):
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role,
                        Code={"ZipFile": CODE})
    end = time.time() + 15
    while lam.get_function_configuration(FunctionName=name)["State"] != "Active":
        assert time.time() < end, "function did not become Active"
        time.sleep(0.05)


class MetricsTestCase(LambdadTestCase):
    N = 7   # invocations
    K = 3   # of which fail

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cw = cls.server.client("cloudwatch")
        cls.fn = "metrics-%d" % os.getpid()
        make_function(cls.lam, cls.fn)
        for i in range(cls.N):
            r = cls.lam.invoke(FunctionName=cls.fn, Payload=json.dumps({"fail": i < cls.K}).encode())
            assert ("FunctionError" in r) == (i < cls.K), r
        # one throttle: reserved concurrency 0
        cls.throttled = cls.fn + "-t"
        make_function(cls.lam, cls.throttled)
        cls.lam.put_function_concurrency(FunctionName=cls.throttled, ReservedConcurrentExecutions=0)
        try:
            cls.lam.invoke(FunctionName=cls.throttled, Payload=b"{}")
            raise AssertionError("the invoke was not throttled")
        except cls.lam.exceptions.TooManyRequestsException:
            pass
        # an alias: Resource NAME:ALIAS and ExecutedVersion
        v = cls.lam.publish_version(FunctionName=cls.fn)["Version"]
        cls.lam.create_alias(FunctionName=cls.fn, Name="live", FunctionVersion=v)
        end = time.time() + 15
        while cls.lam.get_function_configuration(FunctionName=cls.fn, Qualifier=v)["State"] != "Active":
            assert time.time() < end
            time.sleep(0.05)
        cls.version = v
        cls.lam.invoke(FunctionName=cls.fn, Qualifier="live", Payload=b"{}")
        cls.start = utcnow() - datetime.timedelta(minutes=10)
        cls.end = utcnow() + datetime.timedelta(minutes=2)

    def stats(self, metric, statistics, dims=None, **kw):
        dims = dims if dims is not None else [{"Name": "FunctionName", "Value": self.fn}]
        r = self.cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
                                          StartTime=self.start, EndTime=self.end, Period=kw.pop("Period", 3600),
                                          Statistics=statistics, **kw)
        return r["Datapoints"]

    def total(self, metric, dims=None):
        return sum(d["Sum"] for d in self.stats(metric, ["Sum"], dims))


class TestCloudWatchApi(MetricsTestCase):
    def test_invocations_errors_duration_boto3(self):
        # N plain invocations and one through the alias
        self.assertEqual(self.total("Invocations"), self.N + 1)
        self.assertEqual(self.total("Errors"), self.K)
        dps = self.stats("Duration", ["SampleCount", "Average", "Minimum", "Maximum"], ExtendedStatistics=["p50", "p99"])
        self.assertEqual(len(dps), 1, dps)
        d = dps[0]
        self.assertEqual(d["SampleCount"], self.N + 1)
        self.assertEqual(d["Unit"], "Milliseconds")
        self.assertGreater(d["Minimum"], 0)
        self.assertLessEqual(d["Minimum"], d["Average"])
        self.assertLessEqual(d["Average"], d["Maximum"])
        self.assertLessEqual(d["Minimum"], d["ExtendedStatistics"]["p50"])
        self.assertLessEqual(d["ExtendedStatistics"]["p50"], d["ExtendedStatistics"]["p99"])
        self.assertLessEqual(d["ExtendedStatistics"]["p99"], d["Maximum"])

    def test_throttles(self):
        self.assertEqual(self.total("Throttles", [{"Name": "FunctionName", "Value": self.throttled}]), 1)
        self.assertEqual(self.stats("Invocations", ["Sum"], [{"Name": "FunctionName", "Value": self.throttled}]), [])
        # the account's aggregate (no dimensions) holds every function
        self.assertEqual(self.total("Throttles", []), 1)
        self.assertEqual(self.total("Invocations", []), self.N + 1)

    def test_concurrent_executions(self):
        # one invocation at a time: the peak is 1, for the function and the account
        dps = self.stats("ConcurrentExecutions", ["Maximum", "SampleCount"])
        self.assertEqual(max(d["Maximum"] for d in dps), 1)
        self.assertEqual(sum(d["SampleCount"] for d in dps), self.N + 1)  # one sample per start
        self.assertEqual(max(d["Maximum"] for d in self.stats("ConcurrentExecutions", ["Maximum"], [])), 1)
        self.assertEqual(max(d["Maximum"] for d in self.stats("UnreservedConcurrentExecutions", ["Maximum"], [])), 1)

    def test_resource_and_executed_version(self):
        alias = [{"Name": "FunctionName", "Value": self.fn}, {"Name": "Resource", "Value": self.fn + ":live"}]
        self.assertEqual(self.total("Invocations", alias), 1)
        ev = alias + [{"Name": "ExecutedVersion", "Value": self.version}]
        self.assertEqual(self.total("Invocations", ev), 1)
        plain = [{"Name": "Resource", "Value": self.fn}, {"Name": "FunctionName", "Value": self.fn}]
        self.assertEqual(self.total("Invocations", plain), self.N)

    def test_one_minute_periods(self):
        dps = self.stats("Invocations", ["Sum"], Period=60)
        self.assertEqual(sum(d["Sum"] for d in dps), self.N + 1)
        for d in dps:
            self.assertEqual(d["Timestamp"].second, 0)

    def test_list_metrics(self):
        ms = self.cw.list_metrics(Namespace="AWS/Lambda", Dimensions=[{"Name": "FunctionName", "Value": self.fn}])["Metrics"]
        names = {m["MetricName"] for m in ms}
        self.assertTrue({"Invocations", "Errors", "Duration", "ConcurrentExecutions"} <= names, names)
        for m in ms:
            self.assertEqual(m["Namespace"], "AWS/Lambda")
            self.assertIn({"Name": "FunctionName", "Value": self.fn}, m["Dimensions"])
        only = self.cw.list_metrics(MetricName="Throttles")["Metrics"]
        self.assertTrue(only and all(m["MetricName"] == "Throttles" for m in only), only)
        self.assertEqual(self.cw.list_metrics(Namespace="AWS/EC2")["Metrics"], [])
        active = self.cw.list_metrics(Namespace="AWS/Lambda", RecentlyActive="PT3H")["Metrics"]
        self.assertEqual(len(active), len(self.cw.list_metrics(Namespace="AWS/Lambda")["Metrics"]))

    def test_get_metric_data(self):
        def q(i, metric, stat):
            return {"Id": i, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                                                        "Dimensions": [{"Name": "FunctionName", "Value": self.fn}]},
                                             "Period": 60, "Stat": stat}}
        r = self.cw.get_metric_data(MetricDataQueries=[q("inv", "Invocations", "Sum"), q("err", "Errors", "Sum"),
                                                       q("dur", "Duration", "p90"), q("none", "Throttles", "Sum")],
                                    StartTime=self.start, EndTime=self.end)
        res = {x["Id"]: x for x in r["MetricDataResults"]}
        self.assertEqual(sum(res["inv"]["Values"]), self.N + 1)
        self.assertEqual(sum(res["err"]["Values"]), self.K)
        self.assertTrue(all(v > 0 for v in res["dur"]["Values"]))
        self.assertEqual(res["none"]["Values"], [])
        self.assertEqual(res["inv"]["StatusCode"], "Complete")
        self.assertEqual(res["inv"]["Label"], "Invocations")
        ts = res["inv"]["Timestamps"]
        self.assertEqual(ts, sorted(ts, reverse=True))  # TimestampDescending by default

    def test_errors_in_aws_form(self):
        c = self.cw
        with self.assertRaises(c.exceptions.InvalidParameterValueException) as cm:
            c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", StartTime=self.start,
                                    EndTime=self.end, Period=61, Statistics=["Sum"])
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(c.exceptions.InvalidParameterValueException):
            c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", StartTime=self.end,
                                    EndTime=self.start, Period=60, Statistics=["Sum"])
        with self.assertRaises(c.exceptions.InvalidParameterCombinationException):
            c.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", Period=60, Statistics=["Sum"],
                                    StartTime=utcnow() - datetime.timedelta(days=3), EndTime=utcnow())
        raw = self.server.client("cloudwatch", validate=False)
        with self.assertRaises(raw.exceptions.MissingRequiredParameterException):
            raw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations", StartTime=self.start,
                                      EndTime=self.end, Period=60)


class TestCloudWatchClis(MetricsTestCase):
    def run_cli(self, cli, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_PAGER="")
        p = subprocess.run([cli, "--endpoint-url", self.server.endpoint, "cloudwatch"] + list(args),
                           capture_output=True, text=True, env=env, timeout=60)
        return p

    def check_cli(self, cli):
        base = ["get-metric-statistics", "--namespace", "AWS/Lambda", "--dimensions",
                "Name=FunctionName,Value=%s" % self.fn, "--start-time", iso(self.start), "--end-time", iso(self.end),
                "--period", "3600"]
        for metric, stat, want in (("Invocations", "Sum", self.N + 1), ("Errors", "Sum", self.K),
                                   ("Duration", "SampleCount", self.N + 1)):
            p = self.run_cli(cli, *(base + ["--metric-name", metric, "--statistics", stat]))
            self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(p.stdout)
            self.assertEqual(out["Label"], metric)
            self.assertEqual(sum(d[stat] for d in out["Datapoints"]), want, out)
        p = self.run_cli(cli, "list-metrics", "--namespace", "AWS/Lambda", "--metric-name", "Errors")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn({"Name": "FunctionName", "Value": self.fn},
                      [d for m in json.loads(p.stdout)["Metrics"] for d in m["Dimensions"]])
        p = self.run_cli(cli, *(base + ["--metric-name", "Invocations", "--statistics", "Sum", "--period", "90"]))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidParameterValue", p.stderr)

    def test_cli_v1(self):
        cli = cli_v1()
        if not cli:
            self.skipTest("no AWS CLI v1 (tools/deps.sh test installs one)")
        self.check_cli(cli)

    def test_cli_v2_query_protocol(self):
        if not os.access(CLI_V2, os.X_OK):
            self.skipTest("no /usr/bin/aws (Debian's awscli)")
        self.check_cli(CLI_V2)
        # the query protocol's XML, as AWS writes it
        body = ("Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%%2FLambda&MetricName=Invocations"
                "&Dimensions.member.1.Name=FunctionName&Dimensions.member.1.Value=%s&StartTime=%s&EndTime=%s"
                "&Period=3600&Statistics.member.1=Sum" % (self.fn, iso(self.start), iso(self.end)))
        req = urllib.request.Request(self.server.endpoint + "/", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=10) as r:
            xml = r.read().decode()
        self.assertIn('<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">', xml)
        self.assertIn("<Sum>%d</Sum>" % (self.N + 1), xml.replace(".0</Sum>", "</Sum>"))
        req = urllib.request.Request(self.server.endpoint + "/", data=b"Action=Nope&Version=2010-08-01", method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        self.assertIn("<Code>InvalidAction</Code>", cm.exception.read().decode())

    def cbor_call(self, op, params):
        """op through Smithy's rpc-v2-cbor protocol, serialised and parsed by botocore's own codec for it
        (botocore 1.43 prefers JSON 1.0 for CloudWatch when both are offered)."""
        import botocore.parsers
        import botocore.serialize
        model = self.cw.meta.service_model.operation_model(op)
        req = botocore.serialize.create_serializer("smithy-rpc-v2-cbor").serialize_to_request(params, model)
        self.assertTrue(req["url_path"].startswith("/service/GraniteServiceVersion20100801/operation/"))
        http = urllib.request.Request(self.server.endpoint + req["url_path"], data=req["body"], method="POST",
                                      headers=dict(req["headers"]))
        try:
            with urllib.request.urlopen(http, timeout=10) as r:
                status, headers, body = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, dict(e.headers), e.read()
        self.assertEqual(headers.get("smithy-protocol"), "rpc-v2-cbor")
        parsed = botocore.parsers.create_parser("smithy-rpc-v2-cbor").parse(
            {"status_code": status, "headers": headers, "body": body}, model.output_shape)
        return status, parsed

    def test_rpc_v2_cbor(self):
        status, out = self.cbor_call("GetMetricStatistics", {
            "Namespace": "AWS/Lambda", "MetricName": "Duration", "StartTime": self.start, "EndTime": self.end,
            "Period": 3600, "Statistics": ["SampleCount"], "ExtendedStatistics": ["p90"],
            "Dimensions": [{"Name": "FunctionName", "Value": self.fn}]})
        self.assertEqual(status, 200, out)
        self.assertEqual(sum(d["SampleCount"] for d in out["Datapoints"]), self.N + 1)
        self.assertIsInstance(out["Datapoints"][0]["Timestamp"], datetime.datetime)
        self.assertGreater(out["Datapoints"][0]["ExtendedStatistics"]["p90"], 0)
        status, out = self.cbor_call("ListMetrics", {"Namespace": "AWS/Lambda", "MetricName": "Errors"})
        self.assertEqual(status, 200)
        self.assertTrue(out["Metrics"])
        status, out = self.cbor_call("GetMetricData", {"StartTime": self.start, "EndTime": self.end, "MetricDataQueries": [
            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors",
                                                  "Dimensions": [{"Name": "FunctionName", "Value": self.fn}]},
                                       "Period": 60, "Stat": "Sum"}}]})
        self.assertEqual(sum(out["MetricDataResults"][0]["Values"]), self.K)
        status, out = self.cbor_call("GetMetricStatistics", {
            "Namespace": "AWS/Lambda", "MetricName": "Duration", "StartTime": self.start, "EndTime": self.end,
            "Period": 59, "Statistics": ["Sum"]})
        self.assertEqual(status, 400)
        self.assertEqual(out["Error"]["Code"], "InvalidParameterValue")

    def test_json_1_0(self):
        body = json.dumps({"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistics": ["Sum"], "Period": 3600,
                           "StartTime": self.start.timestamp(), "EndTime": self.end.timestamp(),
                           "Dimensions": [{"Name": "FunctionName", "Value": self.fn}]}).encode()
        req = urllib.request.Request(self.server.endpoint + "/", data=body, method="POST", headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricStatistics"})
        with urllib.request.urlopen(req, timeout=10) as r:
            out = json.loads(r.read())
        self.assertEqual(sum(d["Sum"] for d in out["Datapoints"]), self.K)
        req = urllib.request.Request(self.server.endpoint + "/", data=b"{}", method="POST", headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.GetMetricStatistics"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 400)
        self.assertEqual(cm.exception.headers["x-amzn-query-error"], "MissingParameter;Sender")
        self.assertEqual(json.loads(cm.exception.read())["__type"],
                         "com.amazonaws.cloudwatch#MissingRequiredParameterException")


class TestPrometheus(MetricsTestCase):
    def scrape(self):
        with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            return r.read().decode()

    def test_text_format(self):
        text = self.scrape()
        self.assertIn("# TYPE lambda_invocations_total counter\n", text)
        self.assertIn("# TYPE lambda_duration_milliseconds histogram\n", text)
        line = 'lambda_invocations_total{account="000000000000",region="us-east-1",function="%s",resource="%s"} %d\n' % (
            self.fn, self.fn, self.N)
        self.assertIn(line, text)
        alias = ('lambda_invocations_total{account="000000000000",region="us-east-1",function="%s",resource="%s:live",'
                 'version="%s"} 1\n' % (self.fn, self.fn, self.version))
        self.assertIn(alias, text)
        self.assertIn('lambda_errors_total{account="000000000000",region="us-east-1",function="%s",resource="%s"} %d\n'
                      % (self.fn, self.fn, self.K), text)
        self.assertIn('lambda_duration_milliseconds_count{account="000000000000",region="us-east-1",function="%s",'
                      'resource="%s"} %d\n' % (self.fn, self.fn, self.N), text)
        self.assertIn('le="+Inf"} %d\n' % self.N, text)

    def test_prometheus_server_scrapes(self):
        prom = shutil.which("prometheus")
        if not prom:
            self.skipTest("no prometheus (tools/deps.sh test installs Debian's)")
        d = tempfile.mkdtemp(prefix="lambdad-prom-")
        port = free_port()
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: lambdad\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % self.server.port)
        log = open(os.path.join(d, "prometheus.log"), "wb")
        proc = subprocess.Popen([prom, "--config.file", os.path.join(d, "prometheus.yml"),
                                 "--storage.tsdb.path", os.path.join(d, "data"),
                                 "--web.listen-address", "127.0.0.1:%d" % port], stdout=log, stderr=log)
        try:
            q = urllib.parse.quote('lambda_invocations_total{function="%s",resource="%s"}' % (self.fn, self.fn))
            end, got = time.time() + 60, None
            while time.time() < end:
                self.assertIsNone(proc.poll(), "prometheus exited")
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/query?query=%s" % (port, q), timeout=5) as r:
                        res = json.loads(r.read())["data"]["result"]
                    if res:
                        got = res
                        break
                except (OSError, ValueError):
                    pass
                time.sleep(0.5)
            self.assertIsNotNone(got, "prometheus never scraped the counter")
            self.assertEqual(len(got), 1, got)
            self.assertEqual(float(got[0]["value"][1]), self.N)
            self.assertEqual(got[0]["metric"]["job"], "lambdad")
            self.assertEqual(got[0]["metric"]["account"], "000000000000")
            # the target is healthy: every scrape parsed
            with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/targets" % port, timeout=5) as r:
                targets = json.loads(r.read())["data"]["activeTargets"]
            self.assertEqual(targets[0]["health"], "up", targets)
        finally:
            stop_process(proc)
            log.close()
            shutil.rmtree(d, ignore_errors=True)


class TestRestart(unittest.TestCase):
    def test_metrics_survive_a_clean_restart(self):
        s = Server().start()
        try:
            lam = s.client()
            make_function(lam, "keep")
            for _ in range(4):
                lam.invoke(FunctionName="keep", Payload=b"{}")
            self.assertEqual(s.stop(), 0)
            self.assertTrue(os.path.exists(os.path.join(s.data_dir, "metrics.json")))
            s.start()
            cw = s.client("cloudwatch")
            r = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations",
                                         Dimensions=[{"Name": "FunctionName", "Value": "keep"}],
                                         StartTime=utcnow() - datetime.timedelta(hours=1),
                                         EndTime=utcnow() + datetime.timedelta(minutes=1), Period=3600,
                                         Statistics=["Sum"])
            self.assertEqual(sum(d["Sum"] for d in r["Datapoints"]), 4)
            # the Prometheus counter continues from the saved total
            lam.invoke(FunctionName="keep", Payload=b"{}")
            with urllib.request.urlopen(s.endpoint + "/metrics", timeout=10) as resp:
                text = resp.read().decode()
            self.assertIn('function="keep",resource="keep"} 5\n', text)
        finally:
            code = s.stop()
            log = s.log()
            s.cleanup()
        self.assertEqual(code, 0, log)
        self.assertNotIn("AddressSanitizer", log)

    def test_a_corrupt_file_is_set_aside(self):
        d = tempfile.mkdtemp(prefix="lambdad-test-")
        with open(os.path.join(d, "metrics.json"), "w") as f:
            f.write('{"version": 1, "series": [{"scope": 7}]}')
        s = Server(data_dir=d).start()
        try:
            with urllib.request.urlopen(s.endpoint + "/metrics", timeout=10) as r:
                self.assertIn("lambdad_metrics_series 0\n", r.read().decode())
            self.assertTrue(os.path.exists(os.path.join(d, "metrics.json.bad")))
            self.assertIn("set aside", s.log())
        finally:
            s.stop()
            shutil.rmtree(d, ignore_errors=True)


class TestSeriesCap(LambdadTestCase):
    CAP = 12
    server_env = {"LAMBDAD_METRICS_MAX_SERIES": str(CAP)}

    def test_cap_holds_against_many_functions(self):
        # every throttled function adds Throttles {FunctionName} and {FunctionName, Resource}
        for i in range(15):
            name = self.name("cap")
            make_function(self.lam, name)
            self.lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
            with self.assertRaises(self.lam.exceptions.TooManyRequestsException):
                self.lam.invoke(FunctionName=name, Payload=b"{}")
        cw = self.server.client("cloudwatch")
        self.assertEqual(len(cw.list_metrics()["Metrics"]), self.CAP)
        with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
            self.assertIn("lambdad_metrics_series %d\n" % self.CAP, r.read().decode())
        self.assertEqual(self.server.log().count("new series are not recorded"), 1)
        # the server still serves and the series it has still count
        total = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Throttles",
                                         StartTime=utcnow() - datetime.timedelta(hours=1),
                                         EndTime=utcnow() + datetime.timedelta(minutes=1), Period=3600,
                                         Statistics=["Sum"])["Datapoints"]
        self.assertEqual(total[0]["Sum"], 15)


class TestAsyncMetrics(LambdadTestCase):
    server_args = ("--async-retry-base-ms", "600")

    def test_async_queue_metrics(self):
        name = self.name("async")
        make_function(self.lam, name)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        for i in range(5):
            r = self.lam.invoke(FunctionName=name, InvocationType="Event",
                                Payload=json.dumps({"fail": i < 2}).encode())
            self.assertEqual(r["StatusCode"], 202)
        cw = self.server.client("cloudwatch")
        dims = [{"Name": "FunctionName", "Value": name}]

        def total(metric, stat="Sum"):
            dps = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
                                           StartTime=utcnow() - datetime.timedelta(hours=1),
                                           EndTime=utcnow() + datetime.timedelta(minutes=1), Period=3600,
                                           Statistics=[stat])["Datapoints"]
            return sum(d[stat] for d in dps)

        end = time.time() + 30
        while total("Invocations") < 5 or total("AsyncEventsDropped") < 2:
            self.assertLess(time.time(), end, "the events did not run")
            time.sleep(0.2)
        self.assertEqual(total("AsyncEventsReceived"), 5)
        self.assertEqual(total("AsyncEventAge", "SampleCount"), 5)
        self.assertGreaterEqual(total("AsyncEventAge", "Minimum"), 0)
        self.assertEqual(total("Errors"), 2)
        self.assertEqual(total("AsyncEventsDropped"), 2)  # no retries: the failures leave at once


class TestStreamMetrics(MotoTestCase):
    """A Kinesis mapping: IteratorAge per invoked batch, PolledEventCount and FilteredOutEventCount per
    mapping (EventSourceMappingUUID)."""

    def test_iterator_age_and_mapping_counts(self):
        kinesis = self.aws("kinesis")
        stream = self.name("s")
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
        for kind in ("keep", "keep", "drop", "keep"):
            kinesis.put_record(StreamName=stream, Data=json.dumps({"kind": kind}).encode(), PartitionKey="k")
        name = self.name("fn")
        make_function(self.lam, name)
        uuid = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10,
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["keep"]}})}]})["UUID"]
        cw = self.server.client("cloudwatch")

        def stat(metric, dims, s="Sum"):
            dps = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
                                           StartTime=utcnow() - datetime.timedelta(hours=1),
                                           EndTime=utcnow() + datetime.timedelta(minutes=1), Period=3600,
                                           Statistics=[s])["Datapoints"]
            return sum(d[s] for d in dps)

        esm = [{"Name": "EventSourceMappingUUID", "Value": uuid}]
        fn = [{"Name": "FunctionName", "Value": name}]
        end = time.time() + 40
        while stat("PolledEventCount", esm) < 4 or stat("IteratorAge", fn, "SampleCount") < 1:
            self.assertLess(time.time(), end, "the mapping's metrics did not come")
            time.sleep(0.5)
        self.assertEqual(stat("PolledEventCount", esm), 4)
        self.assertEqual(stat("FilteredOutEventCount", esm), 1)
        self.assertEqual(stat("InvokedEventCount", esm), 3)
        self.assertGreaterEqual(stat("IteratorAge", fn, "Minimum"), 0)
        self.assertGreaterEqual(stat("Invocations", fn), 1)
        with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
            self.assertIn('lambda_esm_polled_events_total{account="000000000000",region="us-east-1",'
                          'event_source_mapping="%s"} 4\n' % uuid, r.read().decode())


class TestDeliveryFailureMetrics(MotoTestCase):
    """DeadLetterErrors and DestinationDeliveryFailures: a failing event whose DLQ and OnFailure
    destination are SQS queues that do not exist (moto refuses the sends)."""
    moto_server_args = ("--async-retry-base-ms", "600")

    def test_dead_letter_and_destination_failures(self):
        name = self.name("dlq")
        gone = "arn:aws:sqs:us-east-1:000000000000:no-such-queue-%d" % os.getpid()
        make_function(self.lam, name)
        self.lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": gone})
        self.settled(name)
        self.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                                  DestinationConfig={"OnFailure": {"Destination": gone}})
        self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true}')
        cw = self.server.client("cloudwatch")
        dims = [{"Name": "FunctionName", "Value": name}]

        def total(metric):
            dps = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims,
                                           StartTime=utcnow() - datetime.timedelta(hours=1),
                                           EndTime=utcnow() + datetime.timedelta(minutes=1), Period=3600,
                                           Statistics=["Sum"])["Datapoints"]
            return sum(d["Sum"] for d in dps)

        end = time.time() + 60
        while total("DeadLetterErrors") < 1 or total("DestinationDeliveryFailures") < 1:
            self.assertLess(time.time(), end, "no delivery failure was counted:\n" + self.server.log())
            time.sleep(0.5)
        self.assertEqual(total("DeadLetterErrors"), 1)
        self.assertEqual(total("DestinationDeliveryFailures"), 1)
        self.assertEqual(total("AsyncEventsDropped"), 1)


class TestMetricsListenAndEnforce(unittest.TestCase):
    def test_enforce_and_metrics_listen(self):
        mport = free_port()
        s = Server(extra_args=["--auth", "enforce", "--metrics-listen", "127.0.0.1:%d" % mport])
        s.start()
        try:
            key = s.create_key("111111111111")
            lam = s.client_for(key)
            make_function(lam, "secure", role="arn:aws:iam::111111111111:role/r")
            lam.invoke(FunctionName="secure", Payload=b"{}")
            # the API's port wants a signature for /metrics and for CloudWatch ...
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(s.endpoint + "/metrics", timeout=10)
            self.assertEqual(cm.exception.code, 403)
            with self.assertRaises(s.client("cloudwatch").exceptions.ClientError) as cm:
                s.client("cloudwatch").list_metrics()  # a key the store does not know
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
            self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")
            # unsigned, and signed for the service lambda: refused in the query protocol's words
            body = b"Action=ListMetrics&Version=2010-08-01"
            hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(urllib.request.Request(s.endpoint + "/", data=body, headers=hdrs), timeout=10)
            self.assertEqual(cm.exception.code, 403)
            self.assertIn("<Code>MissingAuthenticationToken</Code>", cm.exception.read().decode())
            areq = AWSRequest(method="POST", url=s.endpoint + "/", data=body, headers=hdrs)
            SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "lambda", "us-east-1").add_auth(areq)
            p = areq.prepare()
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(urllib.request.Request(p.url, data=p.body, headers=dict(p.headers)), timeout=10)
            self.assertEqual(cm.exception.code, 403)
            self.assertIn("<Code>SignatureDoesNotMatch</Code>", cm.exception.read().decode())
            SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "monitoring", "us-east-1").add_auth(
                areq := AWSRequest(method="POST", url=s.endpoint + "/", data=body, headers=hdrs))
            p = areq.prepare()
            with urllib.request.urlopen(urllib.request.Request(p.url, data=p.body, headers=dict(p.headers)),
                                        timeout=10) as r:
                self.assertIn("<ListMetricsResponse", r.read().decode())
            # ... signed for the service monitoring
            cw = s.client_for(key, service="cloudwatch")
            ms = cw.list_metrics(Namespace="AWS/Lambda", MetricName="Invocations")["Metrics"]
            self.assertIn([{"Name": "FunctionName", "Value": "secure"}], [m["Dimensions"] for m in ms])
            # the default account sees none of account 111111111111's metrics
            other = s.client_for(s.create_key("222222222222"), service="cloudwatch")
            self.assertEqual(other.list_metrics()["Metrics"], [])
            # --metrics-listen serves /metrics unauthenticated, and nothing else
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10) as r:
                self.assertIn('lambda_invocations_total{account="111111111111",region="us-east-1",function="secure",'
                              'resource="secure"} 1\n', r.read().decode())
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen("http://127.0.0.1:%d/2015-03-31/functions/" % mport, timeout=10)
            self.assertEqual(cm.exception.code, 404)
        finally:
            code = s.stop()
            log = s.log()
            s.cleanup()
        self.assertEqual(code, 0, log)
        self.assertNotIn("AddressSanitizer", log)


if __name__ == "__main__":
    unittest.main()
