/*
 * test_records.c - unit tests of the record layer (records/records.h) on a
 * real SQLite store in a temporary directory: the keys it makes, typed
 * get/put/del of functions, versions, aliases and policies, what a
 * qualifier resolves to (rec_config), the weighted alias route, and the
 * delete cascades (a qualifier's records, a whole function's).
 */
#include "records/records.h"
#include "store/store.h"
#include "t.h"
#include "util/err.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SC "123456789012:us-east-1"

static char dir[256];

static store_t *open_store(void)
{
	store_t *s = NULL;
	CHECK(store_open("sqlite", dir, &s) == 0);
	return s;
}

static json_t *doc(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	CHECK(j != NULL);
	return j;
}

static void put_version(store_t *s, const char *name, const char *version)
{
	json_t *cfg = json_pack("{s:s,s:s}", "FunctionName", name, "Version", version);
	CHECK(rec_version_put(s, SC, name, version, cfg) == 0);
	json_decref(cfg);
}

static void test_keys(void)
{
	char k[128];
	rec_version_key("f", "$LATEST", k, sizeof(k));
	CHECK_STR(k, "f/$LATEST");
	rec_version_key("f", NULL, k, sizeof(k));
	CHECK_STR(k, "f/$LATEST");
	rec_version_key("f", "7", k, sizeof(k));
	CHECK_STR(k, "f/0000000007"); /* numeric versions sort in key order */
	rec_policy_key("f", NULL, k, sizeof(k));
	CHECK_STR(k, "f/");
	rec_policy_key("f", "$LATEST", k, sizeof(k));
	CHECK_STR(k, "f/");
	rec_policy_key("f", "PROD", k, sizeof(k));
	CHECK_STR(k, "f/PROD");
	rec_qualifier_key("f", "3", k, sizeof(k));
	CHECK_STR(k, "f/3");
	CHECK(rec_is_version("12"));
	CHECK(!rec_is_version("1a"));
	CHECK(!rec_is_version("$LATEST"));
	CHECK(!rec_is_version(""));
}

static void test_function_and_versions(void)
{
	store_t *s = open_store();
	json_t *got = NULL;
	CHECK(rec_function_get(s, SC, "f", 0, &got) == LD_ENOTFOUND);
	json_t *meta = doc("{\"Tags\":{\"a\":\"b\"}}");
	CHECK(rec_function_put(s, SC, "f", meta) == 0);
	json_decref(meta);
	CHECK(rec_function_get(s, SC, "f", 0, &got) == 0);
	CHECK_STR(json_string_value(json_object_get(json_object_get(got, "Tags"), "a")), "b");
	json_decref(got);
	/* another scope does not see it */
	CHECK(rec_function_get(s, "123456789012:eu-west-1", "f", 0, &got) == LD_ENOTFOUND);

	put_version(s, "f", "$LATEST");
	put_version(s, "f", "1");
	put_version(s, "f", "2");
	CHECK(rec_version_get(s, SC, "f", "2", 0, &got) == 0);
	CHECK_STR(json_string_value(json_object_get(got, "Version")), "2");
	json_decref(got);
	/* a peeked document is shared: two peeks give the same content */
	json_t *p1 = NULL, *p2 = NULL;
	CHECK(rec_version_get(s, SC, "f", "1", REC_PEEK, &p1) == 0);
	CHECK(rec_version_get(s, SC, "f", "1", REC_PEEK, &p2) == 0);
	CHECK(json_equal(p1, p2));
	json_decref(p1);
	json_decref(p2);
	CHECK(rec_version_del(s, SC, "f", "1") == 0);
	CHECK(rec_version_get(s, SC, "f", "1", 0, &got) == LD_ENOTFOUND);
	store_close(s);
}

static void test_config_resolves_qualifiers(void)
{
	store_t *s = open_store();
	json_t *cfg = NULL, *alias = NULL;
	put_version(s, "g", "$LATEST");
	put_version(s, "g", "4");
	json_t *a = doc("{\"Name\":\"PROD\",\"FunctionVersion\":\"4\"}");
	CHECK(rec_alias_put(s, SC, "g", "PROD", a) == 0);
	json_decref(a);

	CHECK(rec_config(s, SC, "g", NULL, 0, &cfg, &alias) == 0);
	CHECK_STR(json_string_value(json_object_get(cfg, "Version")), "$LATEST");
	CHECK(alias == NULL);
	json_decref(cfg);
	CHECK(rec_config(s, SC, "g", "4", 0, &cfg, &alias) == 0);
	CHECK_STR(json_string_value(json_object_get(cfg, "Version")), "4");
	json_decref(cfg);
	CHECK(rec_config(s, SC, "g", "PROD", 0, &cfg, &alias) == 0);
	CHECK_STR(json_string_value(json_object_get(cfg, "Version")), "4");
	CHECK_STR(json_string_value(json_object_get(alias, "Name")), "PROD");
	json_decref(cfg);
	json_decref(alias);
	alias = NULL;
	CHECK(rec_config(s, SC, "g", "9", 0, &cfg, &alias) == LD_ENOTFOUND);
	CHECK(rec_config(s, SC, "g", "BETA", 0, &cfg, &alias) == LD_ENOTFOUND);
	store_close(s);
}

static void test_alias_route_weights(void)
{
	json_t *plain = doc("{\"FunctionVersion\":\"1\"}");
	CHECK_STR(rec_alias_route(plain), "1");
	json_decref(plain);
	json_t *w = doc("{\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":0.25}}}");
	int second = 0, n = 4000;
	for (int i = 0; i < n; i++) {
		const char *v = rec_alias_route(w);
		CHECK(!strcmp(v, "1") || !strcmp(v, "2"));
		second += !strcmp(v, "2");
	}
	/* 25% of 4000 = 1000; binomial sd ~27, so 800..1200 fails only when broken */
	CHECK(second > 800 && second < 1200);
	json_decref(w);
	json_t *all = doc("{\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":1.0}}}");
	CHECK_STR(rec_alias_route(all), "2");
	json_decref(all);
	json_t *none = doc("{\"FunctionVersion\":\"1\",\"RoutingConfig\":{\"AdditionalVersionWeights\":{\"2\":0.0}}}");
	for (int i = 0; i < 100; i++)
		CHECK_STR(rec_alias_route(none), "1");
	json_decref(none);
}

static void test_policies_and_cascades(void)
{
	store_t *s = open_store();
	json_t *st = NULL, *got = NULL;
	put_version(s, "h", "$LATEST");
	put_version(s, "h", "1");
	json_t *meta = doc("{}");
	CHECK(rec_function_put(s, SC, "h", meta) == 0);
	json_decref(meta);
	json_t *a = doc("{\"Name\":\"LIVE\",\"FunctionVersion\":\"1\"}");
	CHECK(rec_alias_put(s, SC, "h", "LIVE", a) == 0);
	json_decref(a);
	json_t *pol = doc("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"s1\"}]}");
	CHECK(rec_policy_put(s, SC, "h", NULL, pol) == 0);
	CHECK(rec_policy_put(s, SC, "h", "LIVE", pol) == 0);
	json_decref(pol);
	CHECK(rec_policy_statements(s, SC, "h", "$LATEST", &st) == 0);
	CHECK(json_array_size(st) == 1);
	json_decref(st);
	CHECK(rec_policy_statements(s, SC, "h", "1", &st) == LD_ENOTFOUND);
	json_t *ic = doc("{\"MaximumRetryAttempts\":1}");
	CHECK(rec_put(s, REC_INVOKE_CONFIG, SC, "h/LIVE", ic) == 0);
	json_decref(ic);

	/* deleting the alias's records leaves the function's */
	CHECK(rec_delete_qualifier(s, SC, "h", "LIVE") == 0);
	CHECK(rec_policy_get(s, SC, "h", "LIVE", 0, &got) == LD_ENOTFOUND);
	CHECK(rec_invoke_config_get(s, SC, "h", "LIVE", 0, &got) == LD_ENOTFOUND);
	CHECK(rec_policy_get(s, SC, "h", NULL, 0, &got) == 0);
	json_decref(got);

	/* a function named with the other's prefix survives its deletion */
	put_version(s, "h2", "$LATEST");
	CHECK(rec_delete_function(s, SC, "h") == 0);
	CHECK(rec_function_get(s, SC, "h", 0, &got) == LD_ENOTFOUND);
	CHECK(rec_version_get(s, SC, "h", "1", 0, &got) == LD_ENOTFOUND);
	CHECK(rec_alias_get(s, SC, "h", "LIVE", 0, &got) == LD_ENOTFOUND);
	CHECK(rec_policy_get(s, SC, "h", NULL, 0, &got) == LD_ENOTFOUND);
	CHECK(rec_version_get(s, SC, "h2", NULL, 0, &got) == 0);
	json_decref(got);
	store_close(s);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ld-test-records-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	T_RUN(test_keys);
	T_RUN(test_function_and_versions);
	T_RUN(test_config_resolves_qualifiers);
	T_RUN(test_alias_route_weights);
	T_RUN(test_policies_and_cascades);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return t_done("test_records");
}
