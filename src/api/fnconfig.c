/*
 * fnconfig.c - configuration fields, code intake and the state machine
 * shared by the function handlers (see fnconfig.h).
 */
#include "api/fnconfig.h"
#include "api/layers.h"
#include "blobs/blobs.h"
#include "exec/exec.h"
#include "exec/runtimes.h"
#include "images/pull.h"
#include "loop.h"
#include "model/apierr.h"
#include "model/model.h"
#include "quotas.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/arn.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *const reserved_env[] = {
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ", NULL,
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

void fnconfig_runtime_arn(const char *region, const char *runtime, const char *arch, char *out, size_t n)
{
	/* a stable id per runtime and architecture in the form AWS uses (64 hex
	 * digits): AWS's ARN changes when either changes */
	unsigned char d[SHA256_DIGEST_LENGTH];
	char hex[65], what[128];
	snprintf(what, sizeof(what), "%s/%s", runtime, arch && *arch ? arch : "x86_64");
	SHA256((const unsigned char *)what, strlen(what), d);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	snprintf(out, n, "arn:%s:lambda:%s::runtime:%s", arn_partition(region), region, hex);
}

void fnconfig_touch(json_t *cfg)
{
	char id[37], t[29];
	ids_uuid4(id);
	ids_time_lambda(loop_wall_ms(), t);
	json_object_set_new(cfg, "RevisionId", json_string(id));
	json_object_set_new(cfg, "LastModified", json_string(t));
}

static int check_runtime(req_t *r, const char *rt)
{
	if (in_list(model_supported_runtimes, rt))
		return 0;
	const struct shape *s = model_shape("Runtime");
	for (size_t i = 0; s && i < s->nenums; i++)
		if (!strcmp(s->enums[i], rt))
			return apierr_set(r, "InvalidParameterValueException",
					  "The runtime parameter of %s is no longer supported for creating or "
					  "updating AWS Lambda functions. We recommend you use a supported runtime "
					  "while creating or updating functions.",
					  rt);
	buf_t list;
	buf_init(&list, 0);
	for (const char *const *p = model_supported_runtimes; *p; p++)
		buf_printf(&list, "%s%s", p == model_supported_runtimes ? "" : ", ", *p);
	int rc = apierr_set(r, "InvalidParameterValueException",
			    "Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum "
			    "value set: [%s] or be a valid ARN",
			    rt, list.data);
	buf_free(&list);
	return rc;
}

static int check_environment(req_t *r, json_t *vars)
{
	buf_t used;
	const char *k;
	json_t *v;
	int rc = 0;
	buf_init(&used, 0);
	json_object_foreach(vars, k, v)
		if (in_list(reserved_env, k))
			buf_printf(&used, "%s%s", used.len ? ", " : "", k);
	if (used.len) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"Lambda was unable to configure your environment variables because the "
				"environment variables you have provided contains reserved keys that are "
				"currently not supported for modification. Reserved keys used in this request: %s",
				used.data);
		goto out;
	}
	char *text = json_dumps(vars, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text && strlen(text) > QUOTA_ENVIRONMENT)
		rc = apierr_set(r, "InvalidParameterValueException",
				"Lambda was unable to configure your environment variables because the "
				"environment variables you have provided exceeded the 4KB limit. String "
				"measured: %s",
				text);
	free(text);
out:
	buf_free(&used);
	return rc;
}

/* copies member `name` of `in` to cfg when present (and not null) */
static int copy_member(json_t *cfg, json_t *in, const char *name)
{
	json_t *v = json_object_get(in, name);
	if (!v || json_is_null(v))
		return 0;
	json_object_set(cfg, name, v);
	return 1;
}

static void set_logging(json_t *cfg, json_t *in, const char *name, int is_create)
{
	json_t *lc = json_object_get(cfg, "LoggingConfig");
	if (!lc) {
		lc = json_object();
		json_object_set_new(cfg, "LoggingConfig", lc);
	}
	json_t *given = json_object_get(in, "LoggingConfig");
	const char *k;
	json_t *v;
	json_object_foreach(given, k, v)
		json_object_set(lc, k, v);
	if (!json_object_get(lc, "LogFormat"))
		json_object_set_new(lc, "LogFormat", json_string("Text"));
	if (!json_object_get(lc, "LogGroup")) {
		char g[200];
		snprintf(g, sizeof(g), "/aws/lambda/%s", name);
		json_object_set_new(lc, "LogGroup", json_string(g));
	}
	/* JSON format implies the level settings AWS reports for it */
	if (!strcmp(json_string_value(json_object_get(lc, "LogFormat")), "JSON")) {
		if (!json_object_get(lc, "ApplicationLogLevel"))
			json_object_set_new(lc, "ApplicationLogLevel", json_string("INFO"));
		if (!json_object_get(lc, "SystemLogLevel"))
			json_object_set_new(lc, "SystemLogLevel", json_string("INFO"));
	} else {
		json_object_del(lc, "ApplicationLogLevel");
		json_object_del(lc, "SystemLogLevel");
	}
	(void)is_create;
}

static void set_vpc(json_t *cfg, json_t *vpc)
{
	json_t *sn = json_object_get(vpc, "SubnetIds");
	json_t *sg = json_object_get(vpc, "SecurityGroupIds");
	json_t *out = json_object();
	json_object_set_new(out, "SubnetIds", sn ? json_deep_copy(sn) : json_array());
	json_object_set_new(out, "SecurityGroupIds", sg ? json_deep_copy(sg) : json_array());
	/* lambdad has no VPCs: a configured one gets a stable id derived from its subnets */
	if (json_array_size(sn)) {
		char hex[65];
		char *t = json_dumps(sn, JSON_COMPACT);
		blobs_digest(t, strlen(t), hex, NULL);
		free(t);
		char id[32];
		snprintf(id, sizeof(id), "vpc-%.17s", hex);
		json_object_set_new(out, "VpcId", json_string(id));
	} else {
		json_object_set_new(out, "VpcId", json_string(""));
	}
	json_t *ipv6 = json_object_get(vpc, "Ipv6AllowedForDualStack");
	json_object_set_new(out, "Ipv6AllowedForDualStack", json_boolean(json_is_true(ipv6)));
	json_object_set_new(cfg, "VpcConfig", out);
}

/* the limit on a function's code and layers unzipped together, checked once
 * both are known: when the layers are set (config) and when code is taken */
int fnconfig_check_unzipped(req_t *r, json_t *cfg)
{
	json_int_t total = json_integer_value(json_object_get(cfg, "_UnzippedSize")) +
			   json_integer_value(json_object_get(cfg, "_LayersUnzipped"));
	if (json_object_get(cfg, "_LayersUnzipped") && total > (json_int_t)QUOTA_UNZIPPED)
		return apierr_set(r, "InvalidParameterValueException",
				  "Function code combined with layers exceeds the maximum allowed size of %u bytes. "
				  "The actual size is %" JSON_INTEGER_FORMAT " bytes.",
				  QUOTA_UNZIPPED, total);
	return 0;
}

/* Layers as AWS reports them (Arn, CodeSize), after AWS's checks
 * (layers.c); their unzipped size is kept in _LayersUnzipped */
static int set_layers(req_t *r, const struct fnref *ref, json_t *cfg, json_t *arns)
{
	json_t *out = NULL;
	json_int_t unzipped = 0;
	int rc = layers_for_function(r, ref, arns, &out, &unzipped);
	if (rc)
		return rc;
	if (json_array_size(out)) {
		json_object_set_new(cfg, "Layers", out);
		json_object_set_new(cfg, "_LayersUnzipped", json_integer(unzipped));
		/* on create the code comes later: the handler checks it then */
		return json_object_get(cfg, "_UnzippedSize") ? fnconfig_check_unzipped(r, cfg) : 0;
	}
	json_decref(out);
	json_object_del(cfg, "Layers");
	json_object_del(cfg, "_LayersUnzipped");
	return 0;
}

int fnconfig_apply(req_t *r, const struct fnref *ref, json_t *cfg, int is_create)
{
	json_t *in = r->in;
	json_t *v;
	int rc;
	const char *rt = json_string_value(json_object_get(in, "Runtime"));
	if (rt && (rc = check_runtime(r, rt)))
		return rc;
	json_t *vars = json_object_get(json_object_get(in, "Environment"), "Variables");
	if (vars && (rc = check_environment(r, vars)))
		return rc;

	if (is_create) {
		char arn[400];
		lookup_arn(ref, NULL, arn, sizeof(arn));
		json_object_set_new(cfg, "FunctionName", json_string(ref->name));
		json_object_set_new(cfg, "FunctionArn", json_string(arn));
		json_object_set_new(cfg, "Description", json_string(""));
		json_object_set_new(cfg, "Timeout", json_integer(3));
		json_object_set_new(cfg, "MemorySize", json_integer(128));
		json_object_set_new(cfg, "Version", json_string("$LATEST"));
		json_object_set_new(cfg, "TracingConfig", json_pack("{s:s}", "Mode", "PassThrough"));
		json_object_set_new(cfg, "EphemeralStorage", json_pack("{s:i}", "Size", 512));
		json_object_set_new(cfg, "SnapStart",
				    json_pack("{s:s,s:s}", "ApplyOn", "None", "OptimizationStatus", "Off"));
		json_object_set_new(cfg, "Architectures", json_pack("[s]", "x86_64"));
		json_object_set_new(cfg, "PackageType", json_string("Zip"));
		copy_member(cfg, in, "PackageType");
		copy_member(cfg, in, "Architectures");
	}
	copy_member(cfg, in, "Role");
	copy_member(cfg, in, "Handler");
	copy_member(cfg, in, "Description");
	copy_member(cfg, in, "Timeout");
	copy_member(cfg, in, "MemorySize");
	if (copy_member(cfg, in, "Runtime")) {
		char arn[200];
		fnconfig_runtime_arn(ref->region, rt,
				     json_string_value(json_array_get(json_object_get(cfg, "Architectures"), 0)), arn,
				     sizeof(arn));
		json_object_set_new(cfg, "RuntimeVersionConfig", json_pack("{s:s}", "RuntimeVersionArn", arn));
	}
	if ((v = json_object_get(in, "Environment"))) {
		json_t *env = json_object();
		json_object_set_new(env, "Variables", vars ? json_deep_copy(vars) : json_object());
		json_object_set_new(cfg, "Environment", env);
	}
	if ((v = json_object_get(in, "TracingConfig")) && json_object_get(v, "Mode"))
		json_object_set_new(cfg, "TracingConfig", json_pack("{s:O}", "Mode", json_object_get(v, "Mode")));
	if ((v = json_object_get(in, "EphemeralStorage")))
		json_object_set_new(cfg, "EphemeralStorage", json_pack("{s:O}", "Size", json_object_get(v, "Size")));
	if ((v = json_object_get(in, "SnapStart"))) {
		json_t *apply = json_object_get(v, "ApplyOn");
		json_object_set_new(cfg, "SnapStart",
				    json_pack("{s:O,s:s}", "ApplyOn", apply ? apply : json_string("None"),
					      "OptimizationStatus", "Off"));
	}
	if ((v = json_object_get(in, "DeadLetterConfig"))) {
		if (json_object_get(v, "TargetArn") && json_string_length(json_object_get(v, "TargetArn")))
			json_object_set_new(cfg, "DeadLetterConfig", json_deep_copy(v));
		else
			json_object_del(cfg, "DeadLetterConfig");
	}
	if ((v = json_object_get(in, "KMSKeyArn"))) {
		if (json_string_length(v))
			json_object_set(cfg, "KMSKeyArn", v);
		else
			json_object_del(cfg, "KMSKeyArn");
	}
	if ((v = json_object_get(in, "VpcConfig")))
		set_vpc(cfg, v);
	if ((v = json_object_get(in, "Layers")) && (rc = set_layers(r, ref, cfg, v)))
		return rc;
	if ((v = json_object_get(in, "FileSystemConfigs"))) {
		if (json_array_size(v))
			json_object_set(cfg, "FileSystemConfigs", v);
		else
			json_object_del(cfg, "FileSystemConfigs");
	}
	if ((v = json_object_get(in, "ImageConfig")))
		json_object_set_new(cfg, "ImageConfigResponse", json_pack("{s:O}", "ImageConfig", v));
	if (is_create || json_object_get(in, "LoggingConfig"))
		set_logging(cfg, in, ref->name, is_create);
	return 0;
}

/* ---- state machine ---- */


/* 1 with the reason in why when this host cannot run the configuration */
static int unrunnable(server_t *srv, json_t *cfg, char *why, size_t n)
{
	const char *type = json_string_value(json_object_get(cfg, "PackageType"));
	if (type && !strcmp(type, "Image")) {
		const char *reason = NULL;
		if (exec_runs_images(srv, &reason) == 0)
			return 0;
		snprintf(why, n, "%s", reason);
		return 1;
	}
	return runtimes_missing(exec_runtimes(srv), json_string_value(json_object_get(cfg, "Runtime")), why, n) != 0;
}

/* ---- container images: a version settles once its image is pulled ---- */

struct image_wait {
	char scope[96], key[400], uri[1024];
};

static int transitional(json_t *cfg)
{
	const char *state = json_string_value(json_object_get(cfg, "State"));
	const char *upd = json_string_value(json_object_get(cfg, "LastUpdateStatus"));
	return (state && !strcmp(state, "Pending")) || (upd && !strcmp(upd, "InProgress"));
}

static void image_failed(json_t *cfg, const char *code, const char *message)
{
	/* AWS's texts for the codes a pull can end in */
	const char *why = !strcmp(code, "ImageAccessDenied")
				  ? "Lambda does not have permission to access the ECR image. Check the ECR permissions."
				  : message;
	json_object_set_new(cfg, "State", json_string("Failed"));
	json_object_set_new(cfg, "StateReason", json_string(why));
	json_object_set_new(cfg, "StateReasonCode", json_string(code));
	json_object_set_new(cfg, "LastUpdateStatus", json_string("Failed"));
	json_object_set_new(cfg, "LastUpdateStatusReason", json_string(why));
	json_object_set_new(cfg, "LastUpdateStatusReasonCode", json_string(code));
	char id[37];
	ids_uuid4(id);
	json_object_set_new(cfg, "RevisionId", json_string(id));
}

static void on_pulled(server_t *srv, void *ud, json_t *res)
{
	struct image_wait *w = ud;
	json_t *cfg = NULL;
	if (!res) { /* the daemon stops: the version stays Pending, pulled again at the next start */
		free(w);
		return;
	}
	if (rec_get(srv->store, REC_VERSION, w->scope, w->key, &cfg) == 0 && transitional(cfg)) {
		const char *uri = json_string_value(json_object_get(cfg, "_ImageUri"));
		const char *err = json_string_value(json_object_get(res, "error"));
		if (uri && !strcmp(uri, w->uri)) {
			if (err) {
				const char *msg = json_string_value(json_object_get(res, "message"));
				fprintf(stderr, "lambdad: pulling %s failed: %s\n", uri, msg ? msg : err);
				image_failed(cfg, err, msg ? msg : err);
				rec_put(srv->store, REC_VERSION, w->scope, w->key, cfg);
			} else {
				const char *digest = json_string_value(json_object_get(res, "digest"));
				json_object_set_new(cfg, "CodeSha256", json_string(digest ? digest : ""));
				json_object_set(cfg, "_ImageLayers", json_object_get(res, "layers"));
				json_object_set(cfg, "_ImageConfig", json_object_get(res, "config"));
				json_object_set_new(cfg, "_ImageDigest", json_string(digest ? digest : ""));
				json_object_set_new(cfg, "_ImageResolved", json_string(uri));
				if (rec_put(srv->store, REC_VERSION, w->scope, w->key, cfg) == 0)
					fnconfig_settle(srv, w->scope, w->key); /* now it settles */
			}
		}
	}
	json_decref(cfg);
	free(w);
}

/* An image function's version that is not pulled yet: its pull starts (or
 * is joined), and it stays transitional until it ends. 1 when it waits. */
static int await_image(server_t *srv, const char *scope, const char *key, json_t *cfg)
{
	const char *type = json_string_value(json_object_get(cfg, "PackageType"));
	const char *uri = json_string_value(json_object_get(cfg, "_ImageUri"));
	const char *resolved = json_string_value(json_object_get(cfg, "_ImageResolved"));
	if (!type || strcmp(type, "Image") || !uri || (resolved && !strcmp(resolved, uri)))
		return 0;
	const char *why;
	if (exec_runs_images(srv, &why))
		return 0; /* unrunnable() says why */
	struct image_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return 1; /* stays transitional until the next start */
	snprintf(w->scope, sizeof(w->scope), "%s", scope);
	snprintf(w->key, sizeof(w->key), "%s", key);
	snprintf(w->uri, sizeof(w->uri), "%s", uri);
	json_t *arch = json_array_get(json_object_get(cfg, "Architectures"), 0);
	if (pull_start(srv, uri, json_string_value(arch) ? json_string_value(arch) : "x86_64", on_pulled, w)) {
		free(w);
		fprintf(stderr, "lambdad: cannot start pulling %s\n", uri);
	}
	return 1;
}

/* the transition of a Pending / InProgress configuration, applied to cfg;
 * 1 when cfg changed */
static int settle_doc(server_t *srv, json_t *cfg)
{
	int changed = 0;
	const char *state = json_string_value(json_object_get(cfg, "State"));
	const char *upd = json_string_value(json_object_get(cfg, "LastUpdateStatus"));
	const char *code = json_string_value(json_object_get(cfg, "StateReasonCode"));
	int pending = state && !strcmp(state, "Pending"), in_progress = upd && !strcmp(upd, "InProgress");
	char why[512];
	if ((pending || in_progress) && unrunnable(srv, cfg, why, sizeof(why))) {
		/* the host cannot run it: Failed, saying what is missing, so that
		 * waiters stop with the reason instead of every invoke failing */
		json_object_set_new(cfg, "State", json_string("Failed"));
		json_object_set_new(cfg, "StateReason", json_string(why));
		json_object_set_new(cfg, "StateReasonCode", json_string("InvalidRuntime"));
		json_object_set_new(cfg, "LastUpdateStatus", json_string("Failed"));
		json_object_set_new(cfg, "LastUpdateStatusReason", json_string(why));
		json_object_set_new(cfg, "LastUpdateStatusReasonCode", json_string("InvalidRuntime"));
		changed = 1;
	} else {
		if (pending || (in_progress && state && !strcmp(state, "Failed") && code &&
				!strcmp(code, "InvalidRuntime"))) {
			/* created, or an update made a function this host could not
			 * run runnable again */
			json_object_set_new(cfg, "State", json_string("Active"));
			json_object_del(cfg, "StateReason");
			json_object_del(cfg, "StateReasonCode");
			json_object_set_new(cfg, "LastUpdateStatus", json_string("Successful"));
			changed = 1;
		}
		if (in_progress) {
			json_object_set_new(cfg, "LastUpdateStatus", json_string("Successful"));
			json_object_del(cfg, "LastUpdateStatusReason");
			json_object_del(cfg, "LastUpdateStatusReasonCode");
			changed = 1;
		}
	}
	if (changed) {
		/* $LATEST gets a new RevisionId when a change is applied; a published
		 * version keeps the one it was created with (AWS) */
		const char *ver = json_string_value(json_object_get(cfg, "Version"));
		if (!ver || !strcmp(ver, "$LATEST")) {
			char id[37];
			ids_uuid4(id);
			json_object_set_new(cfg, "RevisionId", json_string(id));
		}
	}
	return changed;
}

int fnconfig_settle_now(server_t *srv, json_t *cfg)
{
	const char *type = json_string_value(json_object_get(cfg, "PackageType"));
	if (type && !strcmp(type, "Image"))
		return 0; /* settles when its pull ends */
	settle_doc(srv, cfg);
	return 1;
}

int fnconfig_settle(server_t *srv, const char *scope, const char *key)
{
	json_t *cfg = NULL;
	int rc = rec_get(srv->store, REC_VERSION, scope, key, &cfg);
	if (rc)
		return rc == LD_ENOTFOUND ? 0 : rc; /* deleted meanwhile */
	const char *state = json_string_value(json_object_get(cfg, "State"));
	const char *upd = json_string_value(json_object_get(cfg, "LastUpdateStatus"));
	int pending = state && !strcmp(state, "Pending"), in_progress = upd && !strcmp(upd, "InProgress");
	if ((pending || in_progress) && await_image(srv, scope, key, cfg)) {
		json_decref(cfg);
		return 0;
	}
	if (settle_doc(srv, cfg))
		rc = rec_put(srv->store, REC_VERSION, scope, key, cfg);
	json_decref(cfg);
	return rc;
}
