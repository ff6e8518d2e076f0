/*
 * esm.c - CreateEventSourceMapping, GetEventSourceMapping,
 * UpdateEventSourceMapping, DeleteEventSourceMapping, ListEventSourceMappings.
 *
 * An event source mapping is an "esm" record keyed by its UUID in the scope
 * ACCOUNT:REGION, in AWS's EventSourceMappingConfiguration shape (members in
 * the model's order), plus internal fields: _Source (the source type),
 * _Enabled (what the mapping settles to) and _Tags (CreateEventSourceMapping's
 * Tags, read and written by tags.c; every write here keeps them).
 *
 * The source type comes from the EventSourceArn's service (sqs, kinesis,
 * dynamodb, kafka for Amazon MSK, mq, rds for DocumentDB) or from
 * SelfManagedEventSource (self-managed Kafka). It decides the defaults AWS
 * fills in (BatchSize, the stream fields, StateTransitionReason...), which
 * parameters are accepted, and the duplicate-mapping message.
 *
 * States: lambdad does not poll sources yet, so the transitions AWS makes once
 * a poller has picked a change up happen through the settle service
 * (settle.h), at the end of the loop iteration after the response is
 * queued: Creating/Enabling/Updating/Disabling settle to Enabled or
 * Disabled, and Deleting removes the record (esm_settle). A crash between
 * the two is completed at the next start-up (settle_recover).
 *
 * Sources are not contacted: lambdad cannot see the SQS queues, streams and
 * brokers, so a well-formed ARN of a supported type is accepted as existing
 * (an ARN of the right service but the wrong form gets AWS's not-found
 * message for that service).
 */
#include "api/api.h"
#include "api/settle.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "pollers/pollers.h"
#include "loop.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/arn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 100

enum src { SRC_SQS, SRC_KINESIS, SRC_DYNAMODB, SRC_MSK, SRC_KAFKA, SRC_MQ, SRC_DOCDB };

static const struct srcinfo {
	const char *name;       /* _Source, and the ARN's service for ARN sources */
	int stream;             /* Kinesis / DynamoDB Streams semantics */
	int kafka;              /* MSK or self-managed Kafka */
	int batch;              /* default BatchSize */
	const char *reason;     /* StateTransitionReason */
} srcs[] = {
	[SRC_SQS] = { "sqs", 0, 0, 10, "USER_INITIATED" },
	[SRC_KINESIS] = { "kinesis", 1, 0, 100, "User action" },
	[SRC_DYNAMODB] = { "dynamodb", 1, 0, 100, "User action" },
	[SRC_MSK] = { "kafka", 0, 1, 100, "USER_INITIATED" },
	[SRC_KAFKA] = { "self-managed-kafka", 0, 1, 100, "USER_INITIATED" },
	[SRC_MQ] = { "mq", 0, 0, 100, "USER_INITIATED" },
	[SRC_DOCDB] = { "rds", 0, 0, 100, "USER_INITIATED" },
};

/* EventSourceMappingConfiguration's members in the model's order: records
 * are kept in this order so that responses list members as AWS does */
static const char *const order[] = {
	"UUID", "StartingPosition", "StartingPositionTimestamp", "BatchSize", "MaximumBatchingWindowInSeconds",
	"ParallelizationFactor", "EventSourceArn", "FilterCriteria", "FunctionArn", "LastModified",
	"LastProcessingResult", "State", "StateTransitionReason", "DestinationConfig", "Topics", "Queues",
	"SourceAccessConfigurations", "SelfManagedEventSource", "MaximumRecordAgeInSeconds",
	"BisectBatchOnFunctionError", "MaximumRetryAttempts", "TumblingWindowInSeconds", "FunctionResponseTypes",
	"AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig", "ScalingConfig",
	"DocumentDBEventSourceConfig", "KMSKeyArn", "FilterCriteriaError", "EventSourceMappingArn", "MetricsConfig",
	"LoggingConfig", "ProvisionedPollerConfig", NULL,
};

/* request members copied into the record as given (create and update) */
static const char *const plain[] = {
	"BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MaximumRecordAgeInSeconds",
	"BisectBatchOnFunctionError", "MaximumRetryAttempts", "TumblingWindowInSeconds", "FunctionResponseTypes",
	"SourceAccessConfigurations", "ScalingConfig", "AmazonManagedKafkaEventSourceConfig",
	"SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig", "KMSKeyArn", "MetricsConfig",
	"LoggingConfig", "ProvisionedPollerConfig", NULL,
};

/* parameters that only some source types take, and which */
static const struct {
	const char *member;
	unsigned types; /* bit per enum src */
} only_for[] = {
#define B(x) (1u << (x))
	{ "ParallelizationFactor", B(SRC_KINESIS) | B(SRC_DYNAMODB) },
	{ "BisectBatchOnFunctionError", B(SRC_KINESIS) | B(SRC_DYNAMODB) | B(SRC_MSK) | B(SRC_KAFKA) },
	{ "MaximumRecordAgeInSeconds", B(SRC_KINESIS) | B(SRC_DYNAMODB) | B(SRC_MSK) | B(SRC_KAFKA) },
	{ "MaximumRetryAttempts", B(SRC_KINESIS) | B(SRC_DYNAMODB) | B(SRC_MSK) | B(SRC_KAFKA) },
	{ "TumblingWindowInSeconds", B(SRC_KINESIS) | B(SRC_DYNAMODB) },
	{ "FunctionResponseTypes", B(SRC_KINESIS) | B(SRC_DYNAMODB) | B(SRC_SQS) | B(SRC_MSK) | B(SRC_KAFKA) },
	{ "ScalingConfig", B(SRC_SQS) },
	{ "Topics", B(SRC_MSK) | B(SRC_KAFKA) },
	{ "Queues", B(SRC_MQ) },
	{ "SourceAccessConfigurations", B(SRC_MSK) | B(SRC_KAFKA) | B(SRC_MQ) | B(SRC_DOCDB) },
	{ "AmazonManagedKafkaEventSourceConfig", B(SRC_MSK) },
	{ "SelfManagedKafkaEventSourceConfig", B(SRC_KAFKA) },
	{ "DocumentDBEventSourceConfig", B(SRC_DOCDB) },
#undef B
};

static const char *str_in(req_t *r, const char *k)
{
	return json_string_value(json_object_get(r->in, k));
}

static void esm_arn(req_t *r, const char *uuid, char *out, size_t n)
{
	snprintf(out, n, "arn:%s:lambda:%s:%s:event-source-mapping:%s", arn_partition(r->region), r->region,
		 r->account, uuid);
}

static int src_of(json_t *doc)
{
	const char *s = json_string_value(json_object_get(doc, "_Source"));
	for (size_t i = 0; s && i < sizeof(srcs) / sizeof(srcs[0]); i++)
		if (!strcmp(srcs[i].name, s))
			return (int)i;
	return SRC_SQS;
}

/* a new object with doc's members in the model's order, internal ones last */
static json_t *ordered(json_t *doc)
{
	json_t *o = json_object();
	for (const char *const *k = order; *k; k++) {
		json_t *v = json_object_get(doc, *k);
		if (v)
			json_object_set(o, *k, v);
	}
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v)
		if (!json_object_get(o, k))
			json_object_set(o, k, v);
	return o;
}

static int unsupported(req_t *r, const char *member)
{
	return apierr_set(r, "InvalidParameterValueException",
			  "Unsupported %s parameter for given event source mapping type.", member);
}

/* ---- the source ---- */

/* the source type of an EventSourceArn, or -1 for one AWS does not map */
static int classify_arn(const char *arn)
{
	char service[64];
	if (sscanf(arn, "arn:%*[^:]:%63[^:]:", service) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++)
		if (i != SRC_KAFKA && !strcmp(srcs[i].name, service))
			return (int)i;
	return -1;
}

/* AWS's answer for a source that does not exist */
static int source_missing(req_t *r, int src, const char *arn)
{
	if (src == SRC_SQS)
		return apierr_set(r, "InvalidParameterValueException",
				  "Error occurred while ReceiveMessage. SQS Error Code: "
				  "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue "
				  "does not exist.");
	return apierr_set(r, "InvalidParameterValueException", "Stream not found: %s", arn);
}

/* the same, for ARNs of the right service whose form cannot name one */
static int check_source_form(req_t *r, int src, const char *arn)
{
	struct arn a;
	if (arn_parse(arn, &a))
		return source_missing(r, src, arn);
	const char *res = a.resource;
	switch (src) {
	case SRC_SQS:
		return *res && !strpbrk(res, "/:") ? 0 : source_missing(r, src, arn);
	case SRC_KINESIS:
		return !strncmp(res, "stream/", 7) && res[7] && res[7] != '/' ? 0 : source_missing(r, src, arn);
	case SRC_DYNAMODB: {
		const char *s = strstr(res, "/stream/");
		return !strncmp(res, "table/", 6) && s && s > res + 6 && s[8] ? 0 : source_missing(r, src, arn);
	}
	default:
		return 0;
	}
}

static int is_fifo(const char *arn)
{
	size_t n = arn ? strlen(arn) : 0;
	return n > 5 && !strcmp(arn + n - 5, ".fifo");
}

/* ---- filter patterns ---- */

static int valid_matcher(json_t *m);

/* {"prefix": ...}, {"numeric": [...]}, ...: one operator per object */
static int valid_operator(json_t *m)
{
	if (json_object_size(m) != 1)
		return 0;
	const char *op = json_object_iter_key(json_object_iter(m));
	json_t *v = json_object_iter_value(json_object_iter(m));
	if (!strcmp(op, "prefix") || !strcmp(op, "suffix"))
		return json_is_string(v) || (json_is_object(v) && json_object_size(v) == 1 &&
					     json_is_string(json_object_get(v, "equals-ignore-case")));
	if (!strcmp(op, "equals-ignore-case") || !strcmp(op, "wildcard") || !strcmp(op, "cidr"))
		return json_is_string(v);
	if (!strcmp(op, "exists"))
		return json_is_boolean(v);
	if (!strcmp(op, "anything-but")) {
		if (json_is_string(v) || json_is_number(v))
			return 1;
		if (json_is_object(v))
			return valid_operator(v);
		if (!json_is_array(v) || !json_array_size(v))
			return 0;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			if (!json_is_string(e) && !json_is_number(e))
				return 0;
		return 1;
	}
	if (!strcmp(op, "numeric")) {
		/* [op, number] or [op, number, op, number] */
		size_t n = json_array_size(v);
		if (n != 2 && n != 4)
			return 0;
		for (size_t i = 0; i < n; i += 2) {
			const char *o = json_string_value(json_array_get(v, i));
			if (!o || (strcmp(o, "=") && strcmp(o, "<") && strcmp(o, "<=") && strcmp(o, ">") &&
				   strcmp(o, ">=")) ||
			    !json_is_number(json_array_get(v, i + 1)))
				return 0;
		}
		return 1;
	}
	return 0;
}

static int valid_matcher(json_t *m)
{
	if (json_is_object(m))
		return valid_operator(m);
	return json_is_string(m) || json_is_number(m) || json_is_null(m) || json_is_boolean(m);
}

/* an event pattern: nested objects whose leaves are non-empty arrays of
 * matchers */
static int valid_pattern(json_t *p, int depth)
{
	if (!json_is_object(p) || !json_object_size(p) || depth > 32)
		return 0;
	const char *k;
	json_t *v;
	json_object_foreach(p, k, v) {
		if (!strcmp(k, "$or")) { /* an array of patterns, any of which may match */
			size_t i;
			json_t *e;
			if (!json_is_array(v) || json_array_size(v) < 2)
				return 0;
			json_array_foreach(v, i, e)
				if (!valid_pattern(e, depth + 1))
					return 0;
		} else if (json_is_object(v)) {
			if (!valid_pattern(v, depth + 1))
				return 0;
		} else if (json_is_array(v) && json_array_size(v)) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e)
				if (!valid_matcher(e))
					return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

static int check_filters(req_t *r, json_t *fc)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(fc, "Filters"), i, f) {
		const char *text = json_string_value(json_object_get(f, "Pattern"));
		json_error_t err;
		json_t *p = text ? json_loads(text, JSON_REJECT_DUPLICATES, &err) : NULL;
		int ok = p && valid_pattern(p, 0);
		json_decref(p);
		if (!ok)
			return apierr_set(r, "InvalidParameterValueException", "Invalid filter pattern definition.");
	}
	return 0;
}

/* ---- rules per source type ---- */

/* DestinationConfig: OnFailure for streams and Kafka only, never OnSuccess */
static int check_destination(req_t *r, int src, json_t *dc)
{
	if (!dc)
		return 0;
	if (json_object_get(dc, "OnSuccess") ||
	    (json_object_get(dc, "OnFailure") && !srcs[src].stream && !srcs[src].kafka))
		return unsupported(r, "DestinationConfig");
	return 0;
}

/* StartingPosition and StartingPositionTimestamp (create only) */
static int check_position(req_t *r, int src, const char *arn)
{
	const char *pos = str_in(r, "StartingPosition");
	json_t *ts = json_object_get(r->in, "StartingPositionTimestamp");
	if (src == SRC_SQS) {
		if (pos || ts)
			return apierr_set(r, "InvalidParameterValueException",
					  "StartingPosition is not valid for SQS event sources.");
		return 0;
	}
	if (src == SRC_MQ) {
		if (pos || ts)
			return unsupported(r, "StartingPosition");
		return 0;
	}
	/* Kafka (self-managed, as recorded, and MSK alike) starts at
	 * TRIM_HORIZON when none is given (create fills it in): only Kinesis and
	 * DynamoDB streams require one */
	if (!pos && srcs[src].kafka)
		return ts ? apierr_set(r, "InvalidParameterValueException",
				       "Timestamp only valid with StartingPosition AT_TIMESTAMP")
			  : 0;
	if (!pos)
		return apierr_set(r, "InvalidParameterValueException",
				  "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
				  "constraint: Member must not be null.");
	if (src == SRC_DYNAMODB && !strcmp(pos, "AT_TIMESTAMP"))
		return apierr_set(r, "InvalidParameterValueException", "Unsupported starting position for arn type: %s",
				  arn);
	if (ts && strcmp(pos, "AT_TIMESTAMP") != 0)
		return apierr_set(r, "InvalidParameterValueException",
				  "Timestamp only valid with StartingPosition AT_TIMESTAMP");
	return 0;
}

/*
 * The rules for the members given in r->in against the merged record doc
 * (create and update): parameters of other source types, destinations,
 * filters, batch size and window.
 */
static int check_config(req_t *r, int src, json_t *doc)
{
	int rc;
	for (size_t i = 0; i < sizeof(only_for) / sizeof(only_for[0]); i++)
		if (json_object_get(r->in, only_for[i].member) && !(only_for[i].types & (1u << src)))
			return unsupported(r, only_for[i].member);
	if ((rc = check_destination(r, src, json_object_get(r->in, "DestinationConfig"))) ||
	    (rc = check_filters(r, json_object_get(r->in, "FilterCriteria"))))
		return rc;
	if (src == SRC_SQS) {
		json_int_t batch = json_integer_value(json_object_get(doc, "BatchSize"));
		json_int_t window = json_integer_value(json_object_get(doc, "MaximumBatchingWindowInSeconds"));
		const char *arn = json_string_value(json_object_get(doc, "EventSourceArn"));
		if (is_fifo(arn)) {
			if (batch > 10)
				return apierr_set(r, "InvalidParameterValueException",
						  "Maximum batch size must be between 1 and 10 inclusive");
			if (window > 0)
				return apierr_set(r, "InvalidParameterValueException",
						  "Batching window is not supported for FIFO queues");
		}
		if (batch > 10 && window == 0)
			return apierr_set(r, "InvalidParameterValueException",
					  "Maximum batch window in seconds must be greater than 0 if maximum batch size "
					  "is greater than 10");
	}
	return 0;
}

/* the members each type requires on create, after the position rules */
static int check_required(req_t *r, int src)
{
	if (srcs[src].kafka && !json_object_get(r->in, "Topics"))
		return apierr_set(r, "InvalidParameterValueException", "Required 'topics' parameter is missing.");
	if (src == SRC_MQ && !json_object_get(r->in, "Queues"))
		return apierr_set(r, "InvalidParameterValueException", "Required 'queues' parameter is missing.");
	if (src == SRC_MQ && !json_object_get(r->in, "SourceAccessConfigurations"))
		return apierr_set(r, "InvalidParameterValueException",
				  "Required 'sourceAccessConfigurations' parameter is missing.");
	if (src == SRC_DOCDB && !json_object_get(r->in, "DocumentDBEventSourceConfig"))
		return apierr_set(r, "InvalidParameterValueException",
				  "Required 'documentDBEventSourceConfig' parameter is missing.");
	return 0;
}

/* ---- applying members ---- */

static void set_filters(json_t *doc, json_t *fc)
{
	if (!fc)
		return;
	if (json_array_size(json_object_get(fc, "Filters")))
		json_object_set(doc, "FilterCriteria", fc);
	else
		json_object_del(doc, "FilterCriteria"); /* AWS drops an empty criteria */
}

static void set_destination(json_t *doc, int src, json_t *dc)
{
	if (!dc && !srcs[src].stream)
		return;
	json_t *d = dc ? json_deep_copy(dc) : json_object();
	if (srcs[src].stream && !json_object_get(d, "OnFailure"))
		json_object_set_new(d, "OnFailure", json_object());
	if (dc || !json_object_get(doc, "DestinationConfig"))
		json_object_set_new(doc, "DestinationConfig", d);
	else
		json_decref(d);
}

/* copies the configuration members of r->in onto doc */
static void apply_members(req_t *r, int src, json_t *doc)
{
	for (const char *const *k = plain; *k; k++) {
		json_t *v = json_object_get(r->in, *k);
		if (v && !json_is_null(v))
			json_object_set(doc, *k, v);
	}
	set_filters(doc, json_object_get(r->in, "FilterCriteria"));
	set_destination(doc, src, json_object_get(r->in, "DestinationConfig"));
}

/* LastModified: epoch seconds with milliseconds, as AWS sends it */
static void touch(json_t *doc)
{
	json_object_set_new(doc, "LastModified", json_real((double)loop_wall_ms() / 1000.0));
}

/*
 * Resolves FunctionName (every form: name, NAME:QUALIFIER, partial and full
 * ARNs) to the FunctionArn AWS records, qualified as given. The function and
 * its version or alias must exist ("Function does not exist").
 */
static int resolve_function(req_t *r, const char *fname, struct fnref *ref, char *arn, size_t n)
{
	json_t *cfg = NULL;
	int rc = lookup_ref(r, fname, NULL, ref);
	if (rc)
		return rc;
	rc = lookup_config_peek(r, ref, ref->qualifier, &cfg);
	json_decref(cfg);
	if (rc == LD_EAPI)
		return apierr_set(r, "InvalidParameterValueException", "Function does not exist");
	if (rc)
		return rc;
	lookup_arn(ref, ref->qualifier, arn, n);
	return 0;
}

/* ---- states ---- */

static int is_deleting(json_t *doc)
{
	const char *state = json_string_value(json_object_get(doc, "State"));
	return state && !strcmp(state, "Deleting");
}

static int transitional(const char *state)
{
	return state && (!strcmp(state, "Creating") || !strcmp(state, "Enabling") || !strcmp(state, "Updating") ||
			 !strcmp(state, "Disabling") || !strcmp(state, "Deleting"));
}

/* completes the transition of one record: Deleting removes it, the others
 * become Enabled or Disabled */
int esm_settle(server_t *srv, const char *scope, const char *uuid)
{
	json_t *doc = NULL;
	int rc = rec_get(srv->store, REC_ESM, scope, uuid, &doc);
	if (rc)
		return rc == LD_ENOTFOUND ? 0 : rc;
	const char *state = json_string_value(json_object_get(doc, "State"));
	if (state && !strcmp(state, "Deleting")) {
		rc = rec_del(srv->store, REC_ESM, scope, uuid);
		if (rc == LD_ENOTFOUND)
			rc = 0;
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s/", uuid);
		if (!rc && (rc = rec_del_prefix(srv->store, REC_ESM_CHECKPOINT, scope, prefix)) == LD_ENOTFOUND)
			rc = 0; /* a stream mapping's checkpoints go with it */
	} else if (transitional(state)) {
		int on = json_is_true(json_object_get(doc, "_Enabled"));
		json_object_set_new(doc, "State", json_string(on ? "Enabled" : "Disabled"));
		rc = rec_put(srv->store, REC_ESM, scope, uuid, doc);
	}
	json_decref(doc);
	if (!rc)
		pollers_sync(srv, scope, uuid); /* Enabled polls, Disabled or gone stops */
	return rc;
}

static void scope_of(req_t *r, char *scope, size_t n)
{
	snprintf(scope, n, "%s:%s", r->account, r->region);
}

/* loads the mapping named by the UUID member; AWS's not-found error */
static int load(req_t *r, json_t **doc)
{
	char scope[96];
	const char *uuid = str_in(r, "UUID");
	scope_of(r, scope, sizeof(scope));
	int rc = strlen(uuid) < 40 ? rec_get(r->srv->store, REC_ESM, scope, uuid, doc) : LD_ENOTFOUND;
	if (!rc && is_deleting(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		rc = LD_ENOTFOUND;
	}
	if (rc == LD_ENOTFOUND)
		return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
	return rc;
}

/* stores doc (in the model's order) and answers it; schedules the settle */
static int save_and_answer(req_t *r, json_t *doc)
{
	char scope[96];
	const char *uuid = json_string_value(json_object_get(doc, "UUID"));
	json_t *o = ordered(doc);
	scope_of(r, scope, sizeof(scope));
	int rc = rec_put(r->srv->store, REC_ESM, scope, uuid, o);
	if (rc) {
		json_decref(o);
		return rc;
	}
	if (transitional(json_string_value(json_object_get(o, "State"))))
		settle_schedule(r->srv, REC_ESM, scope, uuid);
	r->out = o;
	return 0;
}

/* ---- duplicates ---- */

struct dup {
	int src;
	const char *source_arn;
	const char *function_arn;
	json_t *endpoints;  /* self-managed Kafka bootstrap servers of the request */
	json_t *topics;
	char uuid[40];
};

static int shares_string(json_t *a, json_t *b)
{
	size_t i, j;
	json_t *x, *y;
	json_array_foreach(a, i, x)
		json_array_foreach(b, j, y)
			if (json_equal(x, y))
				return 1;
	return 0;
}

static int dup_cb(void *ud, const char *key, const char *text, size_t len)
{
	struct dup *d = ud;
	json_error_t err;
	json_t *doc = json_loadb(text, len, 0, &err);
	if (!doc)
		return 0;
	const char *fa = json_string_value(json_object_get(doc, "FunctionArn"));
	const char *sa = json_string_value(json_object_get(doc, "EventSourceArn"));
	int same = !is_deleting(doc) && fa && !strcmp(fa, d->function_arn);
	if (same && d->src == SRC_KAFKA)
		same = shares_string(d->endpoints,
				     json_object_get(json_object_get(json_object_get(doc, "SelfManagedEventSource"),
								     "Endpoints"),
						     "KAFKA_BOOTSTRAP_SERVERS"));
	else if (same)
		same = sa && d->source_arn && !strcmp(sa, d->source_arn);
	if (same && srcs[d->src].kafka)
		same = shares_string(d->topics, json_object_get(doc, "Topics"));
	if (same)
		snprintf(d->uuid, sizeof(d->uuid), "%s", key);
	json_decref(doc);
	return same;
}

static void join_strings(json_t *a, char *out, size_t n)
{
	size_t i, at = 0;
	json_t *e;
	out[0] = '\0';
	json_array_foreach(a, i, e) {
		int w = snprintf(out + at, n - at, "%s%s", i ? "," : "", json_string_value(e) ? json_string_value(e) : "");
		if (w < 0 || (size_t)w >= n - at)
			break;
		at += (size_t)w;
	}
}

/* AWS's conflict when the function already maps this source (and topic) */
static int check_duplicate(req_t *r, int src, const struct fnref *ref, const char *function_arn)
{
	char scope[96];
	struct dup d = { src, str_in(r, "EventSourceArn"), function_arn,
			 json_object_get(json_object_get(json_object_get(r->in, "SelfManagedEventSource"), "Endpoints"),
					 "KAFKA_BOOTSTRAP_SERVERS"),
			 json_object_get(r->in, "Topics"), "" };
	scope_of(r, scope, sizeof(scope));
	int rc = rec_list(r->srv->store, REC_ESM, scope, NULL, NULL, 0, dup_cb, &d);
	if (rc || !d.uuid[0])
		return rc;
	if (srcs[src].kafka) {
		char sources[1024], topics[512];
		if (src == SRC_KAFKA)
			join_strings(d.endpoints, sources, sizeof(sources));
		else
			snprintf(sources, sizeof(sources), "%s", d.source_arn);
		join_strings(d.topics, topics, sizeof(topics));
		return apierr_set(r, "ResourceConflictException",
				  "An event source mapping with event source (\"%s\"), function (\"%s\"), topics "
				  "(\"%s\") already exists. Please update or delete the existing mapping with UUID %s",
				  sources, function_arn, topics, d.uuid);
	}
	if (src == SRC_SQS)
		return apierr_set(r, "ResourceConflictException",
				  "An event source mapping with SQS arn (\" %s \") and function (\" %s \") already "
				  "exists. Please update or delete the existing mapping with UUID %s",
				  d.source_arn, ref->name, d.uuid);
	return apierr_set(r, "ResourceConflictException",
			  "The event source arn (\" %s \") and function (\" %s \") provided mapping already exists. "
			  "Please update or delete the existing mapping with UUID %s",
			  d.source_arn, ref->name, d.uuid);
}

/* ---- handlers ---- */

/* the defaults AWS fills in per source type */
static void set_defaults(json_t *doc, int src)
{
	json_object_set_new(doc, "BatchSize", json_integer(srcs[src].batch));
	if (src == SRC_SQS || srcs[src].stream)
		json_object_set_new(doc, "MaximumBatchingWindowInSeconds", json_integer(0));
	if (srcs[src].stream) {
		json_object_set_new(doc, "ParallelizationFactor", json_integer(1));
		json_object_set_new(doc, "MaximumRecordAgeInSeconds", json_integer(-1));
		json_object_set_new(doc, "BisectBatchOnFunctionError", json_false());
		json_object_set_new(doc, "MaximumRetryAttempts", json_integer(-1));
		json_object_set_new(doc, "TumblingWindowInSeconds", json_integer(0));
	}
	if (src == SRC_SQS || srcs[src].stream)
		json_object_set_new(doc, "FunctionResponseTypes", json_array());
	if (src != SRC_SQS)
		json_object_set_new(doc, "LastProcessingResult", json_string("No records processed"));
}

/* a CreateEventSourceMapping past its first checks, while its source's
 * existence is asked (pollers_check_source) */
struct creation {
	req_t *r;
	json_t *doc;
	int src;
	struct fnref ref;
	char function_arn[512];
	char uuid[37];
};

/* the rest of a creation once the source is known to exist (or cannot be
 * asked): duplicates, then the record */
static int create_rest(struct creation *c)
{
	req_t *r = c->r;
	json_t *doc = c->doc;
	int src = c->src, rc;
	const char *uuid = c->uuid;
	char arn[200];
	if ((rc = check_duplicate(r, src, &c->ref, c->function_arn)))
		return rc;
	const char *pos = str_in(r, "StartingPosition");
	if (!pos && srcs[src].kafka)
		pos = "TRIM_HORIZON";
	if (pos)
		json_object_set_new(doc, "StartingPosition", json_string(pos));
	json_t *ts = json_object_get(r->in, "StartingPositionTimestamp");
	if (json_is_number(ts))
		json_object_set_new(doc, "StartingPositionTimestamp", json_real(json_number_value(ts)));
	else if (json_is_string(ts))
		json_object_set_new(doc, "StartingPositionTimestamp", json_real(strtod(json_string_value(ts), NULL)));
	json_object_set_new(doc, "FunctionArn", json_string(c->function_arn));
	touch(doc);
	int enabled = !json_is_false(json_object_get(r->in, "Enabled"));
	json_object_set_new(doc, "State", json_string(enabled ? "Creating" : "Disabled"));
	json_object_set_new(doc, "StateTransitionReason", json_string(srcs[src].reason));
	json_t *v;
	if ((v = json_object_get(r->in, "Topics")))
		json_object_set(doc, "Topics", v);
	if ((v = json_object_get(r->in, "Queues")))
		json_object_set(doc, "Queues", v);
	if ((v = json_object_get(r->in, "SelfManagedEventSource")))
		json_object_set(doc, "SelfManagedEventSource", v);
	/* Kafka consumers get the mapping's UUID as their group when none is given */
	const char *kc = src == SRC_MSK ? "AmazonManagedKafkaEventSourceConfig"
		       : src == SRC_KAFKA ? "SelfManagedKafkaEventSourceConfig" : NULL;
	if (kc) {
		json_t *k = json_object_get(doc, kc);
		k = k ? json_deep_copy(k) : json_object();
		if (!json_object_get(k, "ConsumerGroupId"))
			json_object_set_new(k, "ConsumerGroupId", json_string(uuid));
		json_object_set_new(doc, kc, k);
	}
	esm_arn(r, uuid, arn, sizeof(arn));
	json_object_set_new(doc, "EventSourceMappingArn", json_string(arn));
	json_object_set_new(doc, "_Source", json_string(srcs[src].name));
	json_object_set_new(doc, "_Enabled", json_boolean(enabled));
	if ((v = json_object_get(r->in, "Tags")) && json_object_size(v))
		json_object_set(doc, "_Tags", v);
	return save_and_answer(r, doc);
}

static void creation_free(struct creation *c)
{
	json_decref(c->doc);
	free(c);
}

static void on_source_checked(void *ud, int found)
{
	struct creation *c = ud;
	int rc = found == 0 ? source_missing(c->r, c->src, str_in(c->r, "EventSourceArn")) : create_rest(c);
	req_finish(c->r, rc);
	creation_free(c);
}

int api_create_event_source_mapping(req_t *r)
{
	const char *source_arn = str_in(r, "EventSourceArn");
	struct creation *c = NULL;
	int src, rc;
	/* the order of AWS's checks: destination kind, the source, its
	 * parameters, the function, the source's existence, duplicates */
	json_t *dc = json_object_get(r->in, "DestinationConfig");
	if (dc && json_object_get(dc, "OnSuccess"))
		return unsupported(r, "DestinationConfig");
	if (json_object_get(r->in, "SelfManagedEventSource")) {
		if (!json_object_get(r->in, "SourceAccessConfigurations"))
			return apierr_set(r, "InvalidParameterValueException",
					  "Required 'sourceAccessConfigurations' parameter is missing.");
		src = SRC_KAFKA;
	} else if (!source_arn || (src = classify_arn(source_arn)) < 0) {
		return apierr_set(r, "InvalidParameterValueException", "Unrecognized event source.");
	}
	if (!(c = calloc(1, sizeof(*c))) || !(c->doc = json_object())) {
		free(c);
		return LD_ENOMEM;
	}
	c->r = r;
	c->src = src;
	json_t *doc = c->doc;
	ids_uuid4(c->uuid);
	json_object_set_new(doc, "UUID", json_string(c->uuid));
	set_defaults(doc, src);
	if (source_arn && src != SRC_KAFKA)
		json_object_set_new(doc, "EventSourceArn", json_string(source_arn));
	apply_members(r, src, doc);
	if ((rc = check_position(r, src, source_arn)) || (rc = check_config(r, src, doc)) ||
	    (rc = check_required(r, src)) ||
	    (rc = resolve_function(r, str_in(r, "FunctionName"), &c->ref, c->function_arn, sizeof(c->function_arn))) ||
	    (source_arn && src != SRC_KAFKA && (rc = check_source_form(r, src, source_arn))))
		goto out;
	if (source_arn && src != SRC_KAFKA &&
	    pollers_check_source(r->srv, source_arn, on_source_checked, c) == 0)
		return LD_EPENDING; /* on_source_checked goes on */
	rc = create_rest(c);
out:
	creation_free(c);
	return rc;
}

int api_get_event_source_mapping(req_t *r)
{
	json_t *doc = NULL;
	int rc = load(r, &doc);
	if (!rc)
		r->out = doc;
	return rc;
}

int api_update_event_source_mapping(req_t *r)
{
	json_t *doc = NULL;
	int rc = load(r, &doc);
	if (rc)
		return rc;
	int src = src_of(doc);
	const char *fname = str_in(r, "FunctionName");
	struct fnref ref;
	char function_arn[512];
	apply_members(r, src, doc);
	if ((rc = check_config(r, src, doc)) ||
	    (fname && (rc = resolve_function(r, fname, &ref, function_arn, sizeof(function_arn)))))
		goto out;
	if (fname)
		json_object_set_new(doc, "FunctionArn", json_string(function_arn));
	/* Updating, or Enabling / Disabling when Enabled changes the target */
	int was = json_is_true(json_object_get(doc, "_Enabled"));
	json_t *en = json_object_get(r->in, "Enabled");
	int on = json_is_boolean(en) ? json_is_true(en) : was;
	json_object_set_new(doc, "State", json_string(on == was ? "Updating" : on ? "Enabling" : "Disabling"));
	json_object_set_new(doc, "_Enabled", json_boolean(on));
	touch(doc);
	rc = save_and_answer(r, doc);
out:
	json_decref(doc);
	return rc;
}

int api_delete_event_source_mapping(req_t *r)
{
	json_t *doc = NULL;
	int rc = load(r, &doc);
	if (rc)
		return rc;
	json_object_set_new(doc, "State", json_string("Deleting"));
	rc = save_and_answer(r, doc);
	json_decref(doc);
	return rc;
}

struct filter {
	const char *source_arn;
	const char *function_arn;
};

static json_t *list_item(void *ud, const char *key, json_t *doc)
{
	const struct filter *f = ud;
	const char *sa = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fa = json_string_value(json_object_get(doc, "FunctionArn"));
	if (is_deleting(doc) || (f->source_arn && (!sa || strcmp(sa, f->source_arn))) ||
	    (f->function_arn && (!fa || strcmp(fa, f->function_arn))))
		return NULL;
	return json_incref(doc);
}

int api_list_event_source_mappings(req_t *r)
{
	char scope[96], function_arn[512];
	const char *fname = str_in(r, "FunctionName");
	struct filter f = { str_in(r, "EventSourceArn"), NULL };
	struct page p;
	if (fname) {
		/* the filter names a function as a mapping records it; it need
		 * not exist (AWS lists nothing then) */
		struct fnref ref;
		int rc = lookup_ref(r, fname, NULL, &ref);
		if (rc)
			return rc;
		lookup_arn(&ref, ref.qualifier, function_arn, sizeof(function_arn));
		f.function_arn = function_arn;
	}
	scope_of(r, scope, sizeof(scope));
	page_init(&p, r, LIST_MAX);
	p.marker_first = 1; /* this list answers NextMarker before the mappings */
	int rc = page_list(&p, r, REC_ESM, scope, NULL, list_item, &f);
	if (!rc)
		rc = page_answer(&p, r, "EventSourceMappings");
	page_free(&p);
	return rc;
}
