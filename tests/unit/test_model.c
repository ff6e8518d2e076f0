/*
 * test_model.c - unit tests of the compiled API model: it loads, the
 * operations the router serves carry the HTTP bindings the SDKs use, member
 * locations are right, and model_validate() writes AWS's ValidationException
 * messages for scalar constraints (required, length, pattern, enum, range,
 * and the plural form), and never shows a value of a shape the model marks
 * sensitive (audited against every such shape of the model). List and map
 * element messages are otherwise not asserted here: their wording is being
 * aligned with AWS separately.
 */
#include "model/model.h"
#include "t.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>

#define ROLE "arn:aws:iam::000000000000:role/lambda-role"

/* model_validate() on op's input with the JSON text doc; the message, or
 * "(none)" when valid (static storage, overwritten by the next call) */
static const char *validate(const char *op, const char *doc, int *count)
{
	static char out[8192];
	const struct model_op *o = model_op_find(op);
	json_error_t err;
	json_t *in = json_loads(doc, 0, &err);
	char *msg = NULL;
	CHECK(o && in);
	if (!o || !in) {
		json_decref(in);
		return "(bad test input)";
	}
	int n = model_validate(o->input, in, &msg);
	if (count)
		*count = n;
	snprintf(out, sizeof(out), "%s", msg ? msg : "(none)");
	CHECK((n > 0) == (msg != NULL));
	free(msg);
	json_decref(in);
	return out;
}

static void test_load(void)
{
	size_t n = 0;
	const struct model_op *ops = model_ops(&n);
	CHECK(ops != NULL && n > 60); /* the Lambda API has ~80 operations */
	CHECK(model_op_find("NoSuchOperation") == NULL);
	CHECK(model_shape("NoSuchShape") == NULL);
	const struct shape *s = model_shape("MemorySize");
	CHECK(s && s->type == SHAPE_INTEGER && s->has_min && s->min == 128);
	s = model_shape("Alias");
	CHECK(s && s->type == SHAPE_STRING && s->pattern);
	/* whole-value matches, look-arounds supported */
	CHECK(s && model_pattern_match(s, "live", 4));
	CHECK(s && !model_pattern_match(s, "123", 3));
	CHECK(s && !model_pattern_match(s, "live!", 5));
	s = model_shape("ResourceNotFoundException");
	CHECK(s && s->error_status == 404);
	char pn[64];
	model_path_name("FunctionName", pn, sizeof(pn));
	CHECK_STR(pn, "functionName");
}

static void test_route_bindings(void)
{
	static const struct { const char *op, *method, *uri; int status; } want[] = {
		{ "CreateFunction", "POST", "/2015-03-31/functions", 201 },
		{ "GetFunction", "GET", "/2015-03-31/functions/{FunctionName}", 200 },
		{ "GetFunctionConfiguration", "GET", "/2015-03-31/functions/{FunctionName}/configuration", 200 },
		{ "UpdateFunctionCode", "PUT", "/2015-03-31/functions/{FunctionName}/code", 200 },
		{ "UpdateFunctionConfiguration", "PUT", "/2015-03-31/functions/{FunctionName}/configuration", 200 },
		{ "DeleteFunction", "DELETE", "/2015-03-31/functions/{FunctionName}", 200 }, /* model says 200 */
		{ "ListFunctions", "GET", "/2015-03-31/functions", 200 },
		{ "PublishVersion", "POST", "/2015-03-31/functions/{FunctionName}/versions", 201 },
		{ "ListVersionsByFunction", "GET", "/2015-03-31/functions/{FunctionName}/versions", 200 },
		{ "CreateAlias", "POST", "/2015-03-31/functions/{FunctionName}/aliases", 201 },
		{ "GetAlias", "GET", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", 200 },
		{ "UpdateAlias", "PUT", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", 200 },
		{ "DeleteAlias", "DELETE", "/2015-03-31/functions/{FunctionName}/aliases/{Name}", 204 },
		{ "ListAliases", "GET", "/2015-03-31/functions/{FunctionName}/aliases", 200 },
		{ "TagResource", "POST", "/2017-03-31/tags/{Resource}", 204 },
		{ "UntagResource", "DELETE", "/2017-03-31/tags/{Resource}", 204 },
		{ "ListTags", "GET", "/2017-03-31/tags/{Resource}", 200 },
		{ "GetAccountSettings", "GET", "/2016-08-19/account-settings", 200 },
		{ "GetRuntimeManagementConfig", "GET", "/2021-07-20/functions/{FunctionName}/runtime-management-config", 200 },
		{ "PutRuntimeManagementConfig", "PUT", "/2021-07-20/functions/{FunctionName}/runtime-management-config", 200 },
		{ "GetFunctionRecursionConfig", "GET", "/2024-08-31/functions/{FunctionName}/recursion-config", 200 },
		{ "PutFunctionRecursionConfig", "PUT", "/2024-08-31/functions/{FunctionName}/recursion-config", 200 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct model_op *op = model_op_find(want[i].op);
		CHECK(op != NULL);
		if (!op) {
			fprintf(stderr, "  missing operation %s\n", want[i].op);
			continue;
		}
		CHECK_STR(op->method, want[i].method);
		CHECK_STR(op->uri, want[i].uri);
		CHECK(op->status == want[i].status);
		CHECK(op->query_key == NULL);
		CHECK(op->input != NULL);
	}
	/* path segments, labels kept with their braces */
	const struct model_op *op = model_op_find("GetAlias");
	CHECK(op && op->nsegs == 5);
	if (op && op->nsegs == 5) {
		CHECK_STR(op->segs[0], "2015-03-31");
		CHECK_STR(op->segs[2], "{FunctionName}");
		CHECK_STR(op->segs[4], "{Name}");
		CHECK(op->segs[5] == NULL);
	}
	/* a binding with a constant query */
	op = model_op_find("GetLayerVersionByArn");
	CHECK(op && op->query_key && op->query_val);
	if (op && op->query_key) {
		CHECK_STR(op->query_key, "find");
		CHECK_STR(op->query_val, "LayerVersion");
		CHECK(op->nsegs == 2);
	}
}

static void test_member_locations(void)
{
	const struct model_op *op = model_op_find("GetFunction");
	const struct member *m = op ? model_member(op->input, "FunctionName") : NULL;
	CHECK(m && m->loc == LOC_URI && m->required);
	m = op ? model_member(op->input, "Qualifier") : NULL;
	CHECK(m && m->loc == LOC_QUERY && !m->required);
	if (m)
		CHECK_STR(m->loc_name, "Qualifier");
	op = model_op_find("UntagResource");
	m = op ? model_member(op->input, "TagKeys") : NULL;
	CHECK(m && m->loc == LOC_QUERY && m->shape && m->shape->type == SHAPE_LIST);
	if (m)
		CHECK_STR(m->loc_name, "tagKeys");
	op = model_op_find("CreateFunction");
	m = op ? model_member(op->input, "Code") : NULL;
	CHECK(m && m->loc == LOC_BODY && m->required && m->shape->type == SHAPE_STRUCTURE);
	CHECK(op && model_member(op->input, "NoSuchMember") == NULL);
	op = model_op_find("Invoke");
	CHECK(op && op->input && op->input->payload);
	if (op && op->input && op->input->payload)
		CHECK_STR(op->input->payload, "Payload");
	m = op ? model_member(op->input, "InvocationType") : NULL;
	CHECK(m && m->loc == LOC_HEADER);
	if (m)
		CHECK_STR(m->loc_name, "X-Amz-Invocation-Type");
}

static void test_validate_valid(void)
{
	int n = -1;
	CHECK_STR(validate("GetFunction", "{\"FunctionName\": \"my-fn\"}", &n), "(none)");
	CHECK(n == 0);
	CHECK_STR(validate("GetFunction", "{\"FunctionName\": \"arn:aws:lambda:us-east-1:123456789012:function:f:live\","
					  " \"Qualifier\": \"$LATEST\"}", &n), "(none)");
	CHECK_STR(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
					     " \"MemorySize\": 128, \"Timeout\": 900, \"Unknown\": [1]}", &n),
		  "(none)");
	CHECK(n == 0);
	CHECK_STR(validate("ListFunctions", "{}", &n), "(none)");
}

static void test_validate_required(void)
{
	int n = 0;
	CHECK_STR(validate("GetFunction", "{}", &n),
		  "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: "
		  "Member must not be null");
	CHECK(n == 1);
	/* null is absent */
	CHECK_STR(validate("GetFunction", "{\"FunctionName\": null}", NULL),
		  "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: "
		  "Member must not be null");
}

static void test_validate_length(void)
{
	char doc[1024], want[1024], d[300];
	memset(d, 'd', 257);
	d[257] = '\0';
	snprintf(doc, sizeof(doc), "{\"FunctionName\": \"f\", \"Role\": \"%s\", \"Code\": {}, \"Description\": \"%s\"}",
		 ROLE, d);
	snprintf(want, sizeof(want), "1 validation error detected: Value '%s' at 'description' failed to satisfy "
		 "constraint: Member must have length less than or equal to 256", d);
	CHECK_STR(validate("CreateFunction", doc, NULL), want);
	/* one item per violated constraint of a value: length, then pattern */
	const struct shape *alias = model_shape("Alias");
	snprintf(want, sizeof(want), "2 validation errors detected: Value '' at 'name' failed to satisfy constraint: "
		 "Member must have length greater than or equal to 1; Value '' at 'name' failed to satisfy "
		 "constraint: Member must satisfy regular expression pattern: %s", alias ? alias->pattern_src : "");
	CHECK_STR(validate("GetAlias", "{\"FunctionName\": \"f\", \"Name\": \"\"}", NULL), want);
}

static void test_validate_pattern(void)
{
	const struct shape *s = model_shape("NamespacedFunctionName");
	char want[2048];
	CHECK(s && s->pattern_src);
	if (!s || !s->pattern_src)
		return;
	snprintf(want, sizeof(want), "1 validation error detected: Value 'bad name!' at 'functionName' failed to "
		 "satisfy constraint: Member must satisfy regular expression pattern: %s", s->pattern_src);
	CHECK_STR(validate("GetFunction", "{\"FunctionName\": \"bad name!\"}", NULL), want);
	/* a pattern with a look-ahead: an alias name cannot be all digits */
	s = model_shape("Alias");
	snprintf(want, sizeof(want), "1 validation error detected: Value '42' at 'name' failed to "
		 "satisfy constraint: Member must satisfy regular expression pattern: %s", s ? s->pattern_src : "");
	CHECK_STR(validate("GetAlias", "{\"FunctionName\": \"f\", \"Name\": \"42\"}", NULL), want);
}

static void test_validate_enum(void)
{
	const struct shape *s = model_shape("TracingMode");
	CHECK(s && s->nenums >= 2);
	if (!s || !s->enums)
		return;
	buf_t want;
	buf_init(&want, 0);
	buf_puts(&want, "1 validation error detected: Value 'Bogus' at 'tracingConfig.mode' failed to satisfy "
		 "constraint: Member must satisfy enum value set: [");
	for (size_t i = 0; i < s->nenums; i++)
		buf_printf(&want, "%s%s", i ? ", " : "", s->enums[i]);
	buf_puts(&want, "]");
	CHECK_STR(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
					     " \"TracingConfig\": {\"Mode\": \"Bogus\"}}", NULL),
		  want.data);
	CHECK_STR(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
					     " \"TracingConfig\": {\"Mode\": \"Active\"}}", NULL),
		  "(none)");
	buf_free(&want);
}

static void test_validate_range(void)
{
	CHECK_STR(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
					     " \"MemorySize\": 64}", NULL),
		  "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: "
		  "Member must have value greater than or equal to 128");
	CHECK_STR(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
					     " \"MemorySize\": 40000}", NULL),
		  "1 validation error detected: Value '40000' at 'memorySize' failed to satisfy constraint: "
		  "Member must have value less than or equal to 32768");
	CHECK_STR(validate("ListFunctions", "{\"MaxItems\": 0}", NULL),
		  "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: "
		  "Member must have value greater than or equal to 1");
	CHECK_STR(validate("ListFunctions", "{\"MaxItems\": 10001}", NULL),
		  "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint: "
		  "Member must have value less than or equal to 10000");
}

/* msg is "N validation errors detected: " and the items joined by "; ", in
 * any order (the order of members is AWS's business, not this test's) */
static void check_plural(const char *msg, int n, const char *const *items)
{
	char head[64];
	snprintf(head, sizeof(head), "%d validation errors detected: ", n);
	CHECK(!strncmp(msg, head, strlen(head)));
	size_t len = strlen(head);
	for (int i = 0; i < n; i++) {
		const char *at = strstr(msg, items[i]);
		CHECK(at != NULL);
		if (at)
			len += strlen(items[i]) + (i ? 2 : 0);
	}
	CHECK(strlen(msg) == len); /* nothing else but the "; " separators */
	int seps = 0;
	for (const char *p = msg; (p = strstr(p, "; ")); p += 2)
		seps++;
	CHECK(seps == n - 1);
}

static void test_validate_plural(void)
{
	int n = 0;
	static const char *const two[] = {
		"Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
		"Value '1' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
	};
	check_plural(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
							  " \"Timeout\": 0, \"MemorySize\": 1}", &n),
		     2, two);
	CHECK(n == 2);
	static const char *const three[] = {
		"Value null at 'functionName' failed to satisfy constraint: Member must not be null",
		"Value null at 'role' failed to satisfy constraint: Member must not be null",
		"Value null at 'code' failed to satisfy constraint: Member must not be null",
	};
	check_plural(validate("CreateFunction", "{}", &n), 3, three);
	CHECK(n == 3);
}

static void test_typecheck(void)
{
	const struct model_op *op = model_op_find("CreateFunction");
	char where[128] = "";
	json_t *doc = json_loads("{\"FunctionName\": 5}", 0, NULL);
	CHECK(model_typecheck(op->input, doc, where, sizeof(where)) == LD_EINVAL);
	CHECK_STR(where, "FunctionName");
	json_decref(doc);
	doc = json_loads("{\"Code\": {\"ZipFile\": 1}}", 0, NULL);
	CHECK(model_typecheck(op->input, doc, where, sizeof(where)) == LD_EINVAL);
	CHECK_STR(where, "Blob");
	json_decref(doc);
	doc = json_loads("{\"MemorySize\": 1.5}", 0, NULL);
	CHECK(model_typecheck(op->input, doc, where, sizeof(where)) == LD_EINVAL);
	json_decref(doc);
	doc = json_loads("{\"FunctionName\": null, \"Publish\": true, \"Unknown\": {}, \"Layers\": [\"a\"]}", 0, NULL);
	CHECK(model_typecheck(op->input, doc, where, sizeof(where)) == 0);
	json_decref(doc);
}

/* every shape marked sensitive, every member targeting one, and every
 * container of one is known as such to the compiled model */
static void test_sensitive_audit(void)
{
	json_t *root = json_loads(model_json, 0, NULL);
	json_t *shapes = json_object_get(root, "shapes");
	const char *name, *mname;
	json_t *def, *mdef;
	int nsensitive = 0, nmembers = 0;
	CHECK(shapes != NULL);
	json_object_foreach(shapes, name, def) {
		const struct shape *s = model_shape(name);
		CHECK(s != NULL);
		if (!s)
			continue;
		int want = json_is_true(json_object_get(def, "sensitive"));
		nsensitive += want;
		CHECK(s->sensitive == want);
		if (want)
			CHECK(s->holds_sensitive);
		json_object_foreach(json_object_get(def, "members"), mname, mdef) {
			const char *target = json_string_value(json_object_get(mdef, "shape"));
			json_t *tdef = json_object_get(shapes, target);
			int ms = json_is_true(json_object_get(mdef, "sensitive")) ||
				 json_is_true(json_object_get(tdef, "sensitive"));
			const struct member *m = model_member(s, mname);
			CHECK(m && m->sensitive == ms);
			if (ms) {
				nmembers++;
				CHECK(s->holds_sensitive);
			}
		}
		static const char *const inner[] = { "member", "key", "value", NULL };
		for (const char *const *k = inner; *k; k++) {
			const char *target = json_string_value(json_object_get(json_object_get(def, *k), "shape"));
			if (target && json_is_true(json_object_get(json_object_get(shapes, target), "sensitive")))
				CHECK(s->holds_sensitive);
		}
	}
	/* botocore's model marks a dozen shapes (environment variables, payloads,
	 * blobs, error texts) and ~25 members */
	CHECK(nsensitive >= 10 && nmembers >= 20);
	const struct shape *s = model_shape("EnvironmentVariables");
	CHECK(s && s->sensitive && s->key && s->key->sensitive && s->value && s->value->sensitive);
	s = model_shape("Environment");
	CHECK(s && !s->sensitive && s->holds_sensitive);
	s = model_shape("StackTraceEntries");
	CHECK(s && !s->sensitive && s->holds_sensitive);
	s = model_shape("Description");
	CHECK(s && !s->sensitive && !s->holds_sensitive);
	json_decref(root);
}

static void test_validate_sensitive(void)
{
	static const char env_msg[] =
		"1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
		"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
		"[a-zA-Z]([a-zA-Z0-9_])+]";
	CHECK_STR(validate("CreateFunction", "{\"FunctionName\": \"f\", \"Role\": \"" ROLE "\", \"Code\": {},"
					     " \"Environment\": {\"Variables\": {\"A\": \"1\"}}}", NULL),
		  env_msg);
	CHECK_STR(validate("UpdateFunctionConfiguration",
			   "{\"FunctionName\": \"f\", \"Environment\": {\"Variables\": {\"OK_KEY\": \"v\","
			   " \"bad-key-SECRET\": \"SECRET-VALUE\"}}}", NULL),
		  env_msg);
	/* a sensitive string over its length: no value either (OperationPayload) */
	size_t big = 6291457;
	char *doc = malloc(big + 512);
	CHECK(doc != NULL);
	if (doc) {
		int n = snprintf(doc, 512, "{\"DurableExecutionArn\": \"x\", \"CheckpointToken\": \"t\", \"Updates\": "
				 "[{\"Id\": \"1\", \"Type\": \"STEP\", \"Action\": \"START\", \"Payload\": \"");
		memset(doc + n, 'p', big);
		strcpy(doc + n + big, "\"}]}");
		const char *msg = validate("CheckpointDurableExecution", doc, NULL);
		CHECK(strstr(msg, "Value at 'updates.1.member.payload' failed to satisfy constraint: Member must have "
				  "length less than or equal to 6291456") != NULL);
		CHECK(strstr(msg, "ppp") == NULL);
		free(doc);
	}
	/* ordinary map keys still show the map, and list no "must not be null" (recorded) */
	CHECK_STR(validate("UpdateAlias", "{\"FunctionName\": \"f\", \"Name\": \"live\", \"RoutingConfig\": "
					  "{\"AdditionalVersionWeights\": {\"$LATEST\": 0.5}}}", NULL),
		  "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed "
		  "to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal "
		  "to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression "
		  "pattern: [0-9]+]");
}

int main(void)
{
	if (model_load()) {
		printf("FAIL - model_load\n");
		return t_done("test_model") | 1;
	}
	T_RUN(test_load);
	T_RUN(test_route_bindings);
	T_RUN(test_member_locations);
	T_RUN(test_validate_valid);
	T_RUN(test_validate_required);
	T_RUN(test_validate_length);
	T_RUN(test_validate_pattern);
	T_RUN(test_validate_enum);
	T_RUN(test_validate_range);
	T_RUN(test_validate_plural);
	T_RUN(test_typecheck);
	T_RUN(test_sensitive_audit);
	T_RUN(test_validate_sensitive);
	model_unload();
	return t_done("test_model");
}
