/*
 * fuzz_extapi.c - libFuzzer harness for the Extensions, Telemetry and Logs
 * APIs' request handling (exec/extensions.c, exec/telemetry.c): what an
 * extension sends after rapi has parsed the HTTP (rapi itself is fuzzed by
 * fuzz_rapi.c).
 *
 * An input is a sequence of calls separated by a line "~~~"; each call is
 * one line "OP NAME|ID|ERROR-TYPE|FEATURES" (OP one of register, next,
 * init-error, exit-error, telemetry, logs; an ID of "@N" stands for the
 * identifier the Nth successful register got) followed by the body. They go
 * to ext_call() on one environment in its init phase (a function named
 * "fn", version $LATEST, its handler "app.handler"), as rapi would pass
 * them. Every answer must be a JSON object, or "OK" as a JSON string for a
 * subscription: {"errorMessage","errorType"} strings for 4xx/5xx,
 * {"status":"OK"} for 202, the register document (with the identifier
 * header) for a register's 200. A next of a registered extension (which
 * would wait) is skipped.
 */
#include "exec/env.h"
#include "exec/extensions.h"
#include "exec/telemetry.h"
#include "loop.h"
#include "server.h"
#include "util/err.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct rapi_answer *a, enum rapi_ext_op op)
{
	if (!a->body)
		abort();
	json_error_t err;
	json_t *doc = json_loads(a->body, JSON_DECODE_ANY, &err);
	if (!doc)
		abort();
	if (a->status >= 400) {
		if (!json_is_string(json_object_get(doc, "errorMessage")) ||
		    !json_is_string(json_object_get(doc, "errorType")))
			abort();
	} else if (a->status == 202) {
		if (strcmp(json_string_value(json_object_get(doc, "status")), "OK"))
			abort();
	} else if (a->status == 200 && op == RAPI_EXT_REGISTER) {
		if (!a->ext_id || strcmp(json_string_value(json_object_get(doc, "functionName")), "fn"))
			abort();
	} else if (a->status == 200) {
		if (!json_is_string(doc) || strcmp(json_string_value(doc), "OK"))
			abort();
	} else {
		abort();
	}
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char *word;
		enum rapi_ext_op op;
	} ops[] = { { "register", RAPI_EXT_REGISTER },     { "next", RAPI_EXT_NEXT },
		    { "init-error", RAPI_EXT_INIT_ERROR }, { "exit-error", RAPI_EXT_EXIT_ERROR },
		    { "telemetry", RAPI_EXT_TELEMETRY },   { "logs", RAPI_EXT_LOGS } };
	server_t srv = { 0 };
	struct exec x = { 0 };
	struct pool p = { 0 };
	struct env e = { 0 };
	if (size > 1 << 20 || loop_new(&srv.loop))
		return 0;
	x.srv = &srv;
	p.x = &x;
	snprintf(p.scope, sizeof(p.scope), "000000000000:us-east-1");
	snprintf(p.name, sizeof(p.name), "fn");
	snprintf(p.version, sizeof(p.version), "$LATEST");
	p.cfg = json_pack("{s:s}", "Handler", "app.handler");
	e.pool = &p;
	e.state = ENV_INIT;
	e.out_fd = e.pid_fd = e.listen_fd = -1;
	char ids[16][37];
	int nids = 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *call = text, *next; call; call = next) {
		next = strstr(call, "\n~~~\n");
		if (next) {
			*next = '\0';
			next += 5;
		}
		char *nl = strchr(call, '\n');
		const char *body = nl ? nl + 1 : "";
		if (nl)
			*nl = '\0';
		char *fields[5] = { call, NULL, NULL, NULL, NULL };
		char *sp = strchr(call, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		fields[1] = sp + 1;
		for (int i = 2; i < 5; i++) {
			char *bar = strchr(fields[i - 1], '|');
			if (!bar)
				break;
			*bar = '\0';
			fields[i] = bar + 1;
		}
		int op = -1;
		for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
			if (!strcmp(fields[0], ops[i].word))
				op = (int)ops[i].op;
		if (op < 0)
			continue;
		const char *id = fields[2];
		if (id && id[0] == '@' && atoi(id + 1) >= 0 && atoi(id + 1) < nids)
			id = ids[atoi(id + 1)];
		/* a next of a registered extension would be kept: rapi's handle is
		 * not there to keep (only the refusals are exercised) */
		int known = 0;
		for (int i = 0; id && i < nids; i++)
			known |= !strcmp(id, ids[i]);
		if (op == RAPI_EXT_NEXT && known)
			continue;
		struct rapi_ext_call c = { .op = (enum rapi_ext_op)op, .name = fields[1], .id = id, .error_type = fields[3],
					   .features = fields[4], .body = body, .len = strlen(body) };
		struct rapi_answer a = { 0 };
		if (ext_call(&x, &e, &c, NULL, &a) != 0)
			abort();
		check(&a, (enum rapi_ext_op)op);
		if (op == RAPI_EXT_REGISTER && a.status == 200 && nids < 16)
			snprintf(ids[nids++], sizeof(ids[0]), "%s", a.ext_id);
		free(a.body);
	}
	free(text);
	ext_free(&e);
	tele_free(&e);
	tele_stop(&x); /* deliveries it started never ran: the loop did not turn */
	json_decref(p.cfg);
	loop_free(srv.loop);
	return 0;
}
