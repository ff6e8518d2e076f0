/*
 * test_door.c - unit tests of the one door into execution (exec/door.h) in
 * its resolve-only mode, on a real SQLite store in a temporary directory:
 * the qualifier as invoked ($LATEST when unqualified, a version, an alias),
 * an alias's RoutingConfig weights followed (drawn per call), a version
 * that is not Active refused with AWS's ResourceConflictException, a
 * missing function, version or alias answered with AWS's
 * ResourceNotFoundException naming the qualified ARN, and the caller's
 * check run only once the target resolved and is Active.
 */
#include "exec/door.h"
#include "records/records.h"
#include "server.h"
#include "store/store.h"
#include "t.h"
#include "util/err.h"

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#define SC "123456789012:us-east-1"

static char dir[256];
static server_t srv;

static void version(const char *name, const char *v, const char *state)
{
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "FunctionName", name, "Version", v, "State", state);
	CHECK(rec_version_put(srv.store, SC, name, v, cfg) == 0);
	json_decref(cfg);
}

/* resolve-only door call: rc; the version or the error into out */
static int door(const char *name, const char *qual, char *out, size_t n)
{
	struct door_call c = { .scope = SC, .name = name, .qualifier = qual, .payload = "{}", .payload_len = 2,
			       .resolve_only = 1 };
	ld_error_t err = { 0 };
	int rc = door_invoke(&srv, &c, NULL, NULL, &err);
	if (rc == 0)
		snprintf(out, n, "%s", c.version);
	else
		snprintf(out, n, "%s: %s", err.type ? err.type : "?", err.message ? err.message : "");
	json_decref(c.config);
	ld_error_clear(&err);
	return rc;
}

static void test_qualifiers(void)
{
	char out[512];
	version("f", "$LATEST", "Active");
	version("f", "1", "Active");
	json_t *a = json_pack("{s:s,s:s}", "Name", "LIVE", "FunctionVersion", "1");
	CHECK(rec_alias_put(srv.store, SC, "f", "LIVE", a) == 0);
	json_decref(a);
	CHECK(door("f", NULL, out, sizeof(out)) == 0);
	CHECK_STR(out, "$LATEST");
	CHECK(door("f", "", out, sizeof(out)) == 0);
	CHECK_STR(out, "$LATEST");
	CHECK(door("f", "1", out, sizeof(out)) == 0);
	CHECK_STR(out, "1");
	CHECK(door("f", "LIVE", out, sizeof(out)) == 0);
	CHECK_STR(out, "1");
}

static void test_missing(void)
{
	char out[512];
	CHECK(door("nope", NULL, out, sizeof(out)) == LD_EAPI);
	CHECK_STR(out, "ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope:$LATEST");
	CHECK(door("f", "9", out, sizeof(out)) == LD_EAPI);
	CHECK_STR(out, "ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:9");
	CHECK(door("f", "BETA", out, sizeof(out)) == LD_EAPI);
	CHECK_STR(out, "ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:BETA");
}

static void test_not_active(void)
{
	char out[512];
	version("g", "$LATEST", "Pending");
	CHECK(door("g", NULL, out, sizeof(out)) == LD_EAPI);
	CHECK_STR(out, "ResourceConflictException: The operation cannot be performed at this time. The function is "
		       "currently in the following state: Pending");
	version("g", "$LATEST", "Failed");
	CHECK(door("g", NULL, out, sizeof(out)) == LD_EAPI);
	CHECK(strstr(out, "following state: Failed") != NULL);
}

static void test_weights(void)
{
	char out[512];
	version("w", "$LATEST", "Active");
	version("w", "1", "Active");
	version("w", "2", "Active");
	json_t *a = json_pack("{s:s,s:s,s:{s:{s:f}}}", "Name", "CANARY", "FunctionVersion", "1", "RoutingConfig",
			      "AdditionalVersionWeights", "2", 0.3);
	CHECK(rec_alias_put(srv.store, SC, "w", "CANARY", a) == 0);
	json_decref(a);
	int twos = 0, n = 2000;
	for (int i = 0; i < n; i++) {
		CHECK(door("w", "CANARY", out, sizeof(out)) == 0);
		twos += !strcmp(out, "2");
	}
	/* 30% of 2000 = 600, sd ~20: 500..700 fails only when the weights are not followed */
	CHECK(twos > 500 && twos < 700);
	/* the weighted version must be Active too */
	version("w", "2", "Pending");
	int refused = 0;
	for (int i = 0; i < 200; i++)
		refused += door("w", "CANARY", out, sizeof(out)) == LD_EAPI;
	CHECK(refused > 20 && refused < 120);
}

static int check_calls;
static int check_refuses(void *ud, struct door_call *c)
{
	(void)ud, (void)c;
	check_calls++;
	return LD_EINVAL;
}

static void test_check_runs_after_resolution(void)
{
	struct door_call c = { .scope = SC, .name = "nope", .payload = "{}", .payload_len = 2, .resolve_only = 1,
			       .check = check_refuses };
	ld_error_t err = { 0 };
	CHECK(door_invoke(&srv, &c, NULL, NULL, &err) == LD_EAPI); /* not found comes first */
	CHECK(check_calls == 0);
	ld_error_clear(&err);
	c.name = "f";
	CHECK(door_invoke(&srv, &c, NULL, NULL, &err) == LD_EINVAL);
	CHECK(check_calls == 1);
	json_decref(c.config);
	ld_error_clear(&err);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ld-test-door-XXXXXX");
	if (!mkdtemp(dir) || store_open("sqlite", dir, &srv.store))
		return 1;
	T_RUN(test_qualifiers);
	T_RUN(test_missing);
	T_RUN(test_not_active);
	T_RUN(test_weights);
	T_RUN(test_check_runs_after_resolution);
	store_close(srv.store);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return t_done("test_door");
}
