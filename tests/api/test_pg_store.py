"""The PostgreSQL store backend (--store postgresql://..., src/store/pg.c), end to end.

The module starts Debian's PostgreSQL 15 itself: initdb into a temporary directory, pg_ctl start on a
free loopback port with its socket in that directory (as the postgres user when the tests run as
root: the server refuses to run as root), stopped in tearDownModule. Every test class gets a database
of its own. A few existing suites run again unchanged against PostgreSQL (their classes are
subclassed with --store), and the classes below cover what only this backend has: Marker paging
over many functions, restarts after kill -9, a second data directory on the same database, the
one-lambdad-per-database lock and a lost connection. The module skips, saying why, when the
PostgreSQL binaries are missing.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import ACCOUNT, REGION, ROLE, LambdadTestCase, Server, free_port, make_zip

import test_aliases
import test_async
import test_codesigning
import test_concurrency
import test_esm
import test_functions
import test_invokeconfig
import test_layers
import test_policy
import test_settings
import test_tags
import test_urls
import test_versions

PG_BIN = os.environ.get("LAMBDAD_PG_BIN", "/usr/lib/postgresql/15/bin")
PG = {}  # the running cluster: dir, port, runas


def _as_pg(argv):
    """argv run as the cluster's owner (runuser to postgres when the tests run as root)."""
    if PG["runas"]:
        return ["runuser", "-u", PG["runas"], "--"] + argv
    return argv


def _pg_ctl(*args, timeout=60):
    return subprocess.run(_as_pg([os.path.join(PG_BIN, "pg_ctl"), "-D", os.path.join(PG["dir"], "data")]
                                 + list(args)), capture_output=True, text=True, timeout=timeout)


def _pg_start():
    return _pg_ctl("-w", "-t", "30", "-l", os.path.join(PG["dir"], "pg.log"),
                   "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off" % (PG["port"], PG["dir"]),
                   "start")


def setUpModule():
    for b in ("initdb", "pg_ctl", "postgres", "createdb"):
        if not os.access(os.path.join(PG_BIN, b), os.X_OK):
            raise unittest.SkipTest("PostgreSQL 15 is not installed (%s/%s missing: tools/deps.sh test "
                                    "installs Debian's postgresql)" % (PG_BIN, b))
    runas = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise unittest.SkipTest("running as root and there is no postgres user to run PostgreSQL as")
        runas = "postgres"
    d = tempfile.mkdtemp(prefix="lambdad-pg-")
    if runas:
        shutil.chown(d, user=runas)
    PG.update(dir=d, port=free_port(), runas=runas)
    p = subprocess.run(_as_pg([os.path.join(PG_BIN, "initdb"), "-D", os.path.join(d, "data"), "-U", "lambdad",
                               "-E", "UTF8", "--locale=C", "-A", "trust", "--no-sync"]),
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("initdb failed: " + p.stdout + p.stderr)
    p = _pg_start()
    if p.returncode != 0:
        raise RuntimeError("pg_ctl start failed: " + p.stdout + p.stderr + _pg_log())


def tearDownModule():
    if PG.get("dir"):
        _pg_ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(PG["dir"], ignore_errors=True)


def _pg_log():
    try:
        with open(os.path.join(PG["dir"], "pg.log")) as f:
            return f.read()[-2000:]
    except OSError:
        return ""


_ndb = [0]


def new_database():
    """A new empty database of the cluster; its URI."""
    _ndb[0] += 1
    name = "ld%d_%d" % (os.getpid(), _ndb[0])
    p = subprocess.run([os.path.join(PG_BIN, "createdb"), "-h", "127.0.0.1", "-p", str(PG["port"]),
                        "-U", "lambdad", name], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("createdb failed: " + p.stderr)
    return "postgresql://lambdad@127.0.0.1:%d/%s" % (PG["port"], name)


def psql(uri, sql):
    p = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", uri, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("psql failed: " + p.stderr)
    return p.stdout


class OnPostgres:
    """Mixed in before an existing LambdadTestCase suite: the same tests with the class's lambdad on a
    database of its own."""

    @classmethod
    def setUpClass(cls):
        cls.store_uri = new_database()
        cls.server_args = tuple(cls.server_args) + ("--store", cls.store_uri)
        super().setUpClass()


# the existing suites, unchanged, on PostgreSQL
class PgCreateFunction(OnPostgres, test_functions.TestCreateFunction):
    pass


class PgGetFunction(OnPostgres, test_functions.TestGetFunction):
    pass


class PgUpdateFunction(OnPostgres, test_functions.TestUpdateFunction):
    pass


class PgDeleteFunction(OnPostgres, test_functions.TestDeleteFunction):
    pass


class PgListFunctions(OnPostgres, test_functions.TestListFunctions):
    pass


class PgPublishVersion(OnPostgres, test_versions.TestPublishVersion):
    pass


class PgListVersions(OnPostgres, test_versions.TestListVersions):
    pass


class PgAliasCrud(OnPostgres, test_aliases.TestAliasCrud):
    pass


class PgListAliases(OnPostgres, test_aliases.TestListAliases):
    pass


class PgPolicyAddAndGet(OnPostgres, test_policy.TestAddAndGet):
    pass


class PgPolicyRemove(OnPostgres, test_policy.TestRemoveAndRevisions):
    pass


class PgLayersPublish(OnPostgres, test_layers.TestPublishAndGet):
    pass


class PgLayersListing(OnPostgres, test_layers.TestListing):
    pass


class PgLayersPersistence(OnPostgres, test_layers.TestPersistence):
    pass


class PgAsyncInvoke(OnPostgres, test_async.TestAsyncInvoke):
    pass


class PgTags(OnPostgres, test_tags.TestTags):
    pass


class PgEicLifecycle(OnPostgres, test_invokeconfig.TestLifecycle):
    pass


class PgEicErrors(OnPostgres, test_invokeconfig.TestErrors):
    pass


class PgEicDestinations(OnPostgres, test_invokeconfig.TestDestinations):
    pass


class PgEicQualifiers(OnPostgres, test_invokeconfig.TestQualifiers):
    pass


class PgEicRestart(OnPostgres, test_invokeconfig.TestCliAndRestart):
    pass


class PgUrlLifecycle(OnPostgres, test_urls.TestLifecycle):
    pass


class PgUrlQualifiers(OnPostgres, test_urls.TestQualifiers):
    pass


class PgUrlRestart(OnPostgres, test_urls.TestCliAndRestart):
    pass


class PgReservedConcurrency(OnPostgres, test_concurrency.TestReservedConcurrency):
    pass


class PgProvisionedConcurrency(OnPostgres, test_concurrency.TestProvisionedConcurrency):
    pass


class PgConcurrencyPersistence(OnPostgres, test_concurrency.TestConcurrencyPersistence):
    pass


class PgCodeSigningConfigs(OnPostgres, test_codesigning.TestCodeSigningConfigs):
    pass


class PgCodeSigningList(OnPostgres, test_codesigning.TestCodeSigningList):
    pass


class PgFunctionCodeSigning(OnPostgres, test_codesigning.TestFunctionCodeSigning):
    pass


class PgCodeSigningPersistence(OnPostgres, test_codesigning.TestCodeSigningPersistence):
    pass


class PgEsmShapes(OnPostgres, test_esm.TestShapes):
    pass


class PgEsmErrors(OnPostgres, test_esm.TestErrors):
    pass


class PgEsmListAndPersistence(OnPostgres, test_esm.TestListAndPersistence):
    pass


class PgRecursion(OnPostgres, test_settings.TestRecursion):
    pass


class PgRuntimeManagement(OnPostgres, test_settings.TestRuntimeManagement):
    pass


def all_functions(lam):
    """{name: RevisionId} of every function, every page."""
    return {f["FunctionName"]: f["RevisionId"]
            for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]}


ECHO = "def handler(event, context):\n    return {'echo': event}\n"


class PgCase(LambdadTestCase):
    """A server on a database of its own (cls.store_uri)."""

    @classmethod
    def setUpClass(cls):
        cls.store_uri = new_database()
        cls.server_args = ("--store", cls.store_uri)
        super().setUpClass()

    def make(self, name, code=ECHO):
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                 Code={"ZipFile": make_zip({"app.py": code})}, Timeout=10)
        return self.settled(name, deadline_s=20)

    def restart(self):
        """kill -9 of the class's lambdad, then a new one on the same database and data directory."""
        self.assertEqual(self.server.kill9(), -9)
        self.server.start()


class TestPgStore(PgCase):
    def test_schema_in_the_database(self):
        name = self.name("schema")
        self.make(name)
        self.assertEqual(psql(self.store_uri, "SELECT value FROM lambdad_meta WHERE name='schema_version'").strip(),
                         "1")
        rows = psql(self.store_uri, "SELECT kind || ' ' || key FROM docs WHERE key LIKE '%s%%' ORDER BY 1"
                    % name).split()
        self.assertIn("fn", rows)
        self.assertIn(name + "/$LATEST", rows)
        # the keys compare bytewise
        self.assertEqual(psql(self.store_uri, "SELECT collation_name FROM information_schema.columns "
                                              "WHERE table_name='docs' AND column_name='key'").strip(), "C")
        # the document is the configuration GetFunctionConfiguration answers with
        doc = json.loads(bytes.fromhex(psql(self.store_uri, "SELECT encode(doc, 'hex') FROM docs WHERE "
                                                            "kind='ver' AND key='%s/$LATEST'" % name).strip()))
        self.assertEqual(doc["FunctionName"], name)

    def test_marker_paging_over_many_functions(self):
        prefix = self.name("page")
        names = sorted("%s-%03d" % (prefix, i) for i in range(57))
        zipped = make_zip({"app.py": ECHO})
        for n in names:
            self.lam.create_function(FunctionName=n, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                     Code={"ZipFile": zipped})
        seen, marker, pages = [], None, 0
        while True:
            kw = {"Marker": marker} if marker else {}
            r = self.lam.list_functions(**kw)
            pages += 1
            self.assertLessEqual(len(r["Functions"]), 50)
            seen += [f["FunctionName"] for f in r["Functions"]]
            marker = r.get("NextMarker")
            if not marker:
                break
            self.assertLess(pages, 10)
        self.assertGreaterEqual(pages, 2)
        mine = [n for n in seen if n.startswith(prefix + "-")]
        self.assertEqual(mine, names)  # every one once, in key order
        # MaxItems pages
        got, marker = [], None
        for _ in range(100):
            kw = {"Marker": marker} if marker else {}
            r = self.lam.list_functions(MaxItems=7, **kw)
            got += [f["FunctionName"] for f in r["Functions"]]
            marker = r.get("NextMarker")
            if not marker:
                break
        self.assertEqual([n for n in got if n.startswith(prefix + "-")], names)

    def test_invoke_event_and_restart_after_kill9(self):
        name = self.name("keep")
        self.make(name, code=test_async.WORKER)
        r = self.lam.invoke(FunctionName=name, Payload=b'{"tag": "sync"}')
        self.assertEqual(json.loads(r["Payload"].read())["echo"], {"tag": "sync"})
        v = self.lam.publish_version(FunctionName=name, Description="v1")["Version"]
        self.lam.create_alias(FunctionName=name, Name="live", FunctionVersion=v)
        self.lam.add_permission(FunctionName=name, StatementId="s1", Action="lambda:InvokeFunction",
                                Principal="s3.amazonaws.com")
        self.lam.tag_resource(Resource="arn:aws:lambda:%s:%s:function:%s" % (REGION, ACCOUNT, name),
                              Tags={"team": "pg"})
        # an Event invoke is queued in the store and runs
        r = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"tag": "ev1"}')
        self.assertEqual(r["StatusCode"], 202)
        end = time.time() + 30
        while not any(a["tag"] == "ev1" for a in test_async.lines_with(self.server, name, "ATTEMPT ")):
            self.assertLess(time.time(), end, "the Event invoke did not run")
            time.sleep(0.05)
        self.restart()
        c = self.lam.get_function_configuration(FunctionName=name)
        self.assertEqual(c["FunctionName"], name)
        self.assertEqual([x["Version"] for x in self.lam.list_versions_by_function(FunctionName=name)["Versions"]],
                         ["$LATEST", v])
        self.assertEqual(self.lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"], v)
        pol = json.loads(self.lam.get_policy(FunctionName=name)["Policy"])
        self.assertEqual([s["Sid"] for s in pol["Statement"]], ["s1"])
        self.assertEqual(self.lam.get_function(FunctionName=name)["Tags"], {"team": "pg"})
        r = self.lam.invoke(FunctionName=name, Qualifier="live", Payload=b'{"tag": "after"}')
        self.assertEqual(json.loads(r["Payload"].read())["echo"], {"tag": "after"})
        # an Event invoke after the restart runs too
        self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"tag": "ev2"}')
        end = time.time() + 30
        while not any(a["tag"] == "ev2" for a in test_async.lines_with(self.server, name, "ATTEMPT ")):
            self.assertLess(time.time(), end, "the Event invoke after the restart did not run")
            time.sleep(0.05)

    def test_second_data_directory_sees_the_functions(self):
        names = [self.name("shared") for _ in range(3)]
        for n in names:
            self.make(n)
        self.lam.delete_function(FunctionName=names[2])
        before = all_functions(self.lam)
        # the class's lambdad stops; another one, on a new data directory and the same database, starts
        self.assertEqual(self.server.kill9(), -9)
        second = Server(extra_args=self.server_args)
        try:
            second.start()
            lam = second.client()
            after = all_functions(lam)
            self.assertEqual(after, before)
            self.assertIn(names[0], after)
            self.assertNotIn(names[2], after)
            # its writes land in the same database
            lam.update_function_configuration(FunctionName=names[0], Description="from the second")
            self.assertIn("from the second", psql(self.store_uri, "SELECT convert_from(doc, 'UTF8') FROM docs "
                                                                  "WHERE kind='ver' AND key='%s/$LATEST'" % names[0]))
            self.assertEqual(second.stop(), 0)
        finally:
            second.cleanup()
            self.server.start()
        # the first sees them after its restart
        self.assertEqual(self.lam.get_function_configuration(FunctionName=names[0])["Description"],
                         "from the second")


class TestEventQueueSurvivesKill9(PgCase):
    """Event invokes are queued in PostgreSQL: kill -9 with most of them queued, and after a restart every
    one reaches the success destination (at least once)."""

    N = 60

    def test_kill9_loses_no_event(self):
        worker, sink = self.name("dur-worker"), self.name("dur-sink")
        self.make(worker, code=test_async.WORKER)
        self.make(sink, code=test_async.SINK)
        self.lam.put_function_event_invoke_config(
            FunctionName=worker,
            DestinationConfig={"OnSuccess": {"Destination": "arn:aws:lambda:%s:%s:function:%s"
                                              % (REGION, ACCOUNT, sink)}})
        for i in range(self.N):
            r = self.lam.invoke(FunctionName=worker, InvocationType="Event",
                                Payload=json.dumps({"tag": "t%03d" % i, "sleep": 0.5}))
            self.assertEqual(r["StatusCode"], 202)
        queued = int(psql(self.store_uri, "SELECT count(*) FROM docs WHERE kind = 'async'"))
        self.assertGreater(queued, 0, "no event record in the database")
        self.assertEqual(self.server.kill9(), -9)
        done_before = {r["requestPayload"]["tag"] for r in test_async.lines_with(self.server, sink, "RECORD ")}
        self.assertLess(len(done_before), self.N, "the kill came too late to prove anything")
        self.server.start()
        want = {"t%03d" % i for i in range(self.N)}
        end = time.time() + 120
        got = set()
        while time.time() < end:
            got = {r["requestPayload"]["tag"] for r in test_async.lines_with(self.server, sink, "RECORD ")}
            if got >= want:
                break
            time.sleep(0.2)
        self.assertEqual(sorted(want - got), [], "events lost across kill -9")


class TestOneLambdadPerDatabase(PgCase):
    def test_second_lambdad_on_the_database_is_refused(self):
        other = Server(extra_args=self.server_args)
        try:
            with self.assertRaises(RuntimeError) as cm:
                other.start()
            self.assertIn("another lambdad uses this database", str(cm.exception))
        finally:
            other.cleanup()
        # the first still serves
        self.assertEqual(self.lam.list_functions()["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_bad_store_argument(self):
        p = subprocess.run([harness.BIN, "serve", "--listen", "127.0.0.1:%d" % free_port(), "--store", "mysql"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad --store 'mysql'", p.stderr)

    def test_unreachable_database(self):
        d = tempfile.mkdtemp(prefix="lambdad-test-")
        try:
            p = subprocess.run([harness.BIN, "serve", "--listen", "127.0.0.1:%d" % free_port(), "--data-dir", d,
                                "--store", "postgresql://lambdad@127.0.0.1:%d/none?connect_timeout=5" % free_port()],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1)
            self.assertIn("store (postgresql): connecting", p.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class TestLostConnection(PgCase):
    def test_server_restart_answers_service_exception_then_reconnects(self):
        name = self.name("lost")
        self.make(name)
        p = _pg_ctl("-m", "fast", "-w", "stop")
        self.assertEqual(p.returncode, 0, p.stderr)
        try:
            # the database is down: ServiceException (500), and the daemon keeps serving
            with self.assertRaises(self.lam.exceptions.ClientError) as cm:
                self.lam.list_functions()
            self.assertEqual(cm.exception.response["Error"]["Code"], "ServiceException")
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 500)
        finally:
            p = _pg_start()
            self.assertEqual(p.returncode, 0, p.stderr + _pg_log())
        # the next call connects again
        end = time.time() + 30
        while True:
            try:
                got = [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]
                break
            except self.lam.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ServiceException")
                self.assertLess(time.time(), end, "lambdad did not reconnect")
                time.sleep(0.1)
        self.assertIn(name, got)
        self.lam.update_function_configuration(FunctionName=name, Description="after the reconnect")
        self.assertEqual(self.lam.get_function_configuration(FunctionName=name)["Description"],
                         "after the reconnect")


if __name__ == "__main__":
    unittest.main()
