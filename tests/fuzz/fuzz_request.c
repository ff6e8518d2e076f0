/*
 * fuzz_request.c - libFuzzer harness for the request path: router, gate,
 * model validation, handlers, store and blobs, as http.c drives them.
 *
 * One input is up to 8 requests separated by a line "~~~". Each request is
 * written like HTTP/1.1 without the version:
 *
 *     METHOD /path?query
 *     Header-Name: value
 *     ...
 *     <empty line>
 *     body bytes
 *
 * The path and query are percent-decoded as libmicrohttpd does, the query
 * becomes the qargs document, and the request goes through router_dispatch()
 * on a server_t built once in a temporary data directory (store, blobs,
 * loop). Deferred callbacks the handlers schedule run after each request,
 * as they would in the daemon's loop, and the store is emptied before each
 * input so that an input is a reproducible scenario. Every response must
 * have a status in 200..599, a JSON body when it says application/json, and
 * an x-amzn-RequestId header. FUZZ_REQUEST_TRACE=1 prints each exchange.
 * Run by libFuzzer (make build/fuzz/fuzz_request)
 * or replayed over tests/fuzz/corpus/request by tests/fuzz/replay_main.c.
 */
#include "blobs/blobs.h"
#include "loop.h"
#include "model/model.h"
#include "router.h"
#include "server.h"
#include "store/store.h"

#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQS 8
#define MAX_HDRS 8
#define SEP "\n~~~\n"

/* every record kind the handlers write, emptied between inputs */
static const char *const kinds[] = { "fn", "ver", "alias", "layer", "layerver", "policy", "esm", "url", "eic", "csc", "pcc" };

static server_t srv;
static char data_dir[256];
static int trace;

struct freq {
	req_t r; /* first: the header callback gets &freq.r */
	const char *names[MAX_HDRS], *values[MAX_HDRS];
	size_t nhdrs;
};

static const char *hdr_lookup(req_t *r, const char *name)
{
	struct freq *f = (struct freq *)r;
	for (size_t i = 0; i < f->nhdrs; i++)
		if (!strcasecmp(f->names[i], name))
			return f->values[i];
	return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void teardown(void)
{
	store_close(srv.store);
	blobs_close(srv.blobs);
	loop_free(srv.loop);
	model_unload();
	nftw(data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(data_dir, sizeof(data_dir), "%s/lambdad-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	srv.account_id = "000000000000";
	srv.region = "us-east-1";
	srv.account_concurrency = 1000;
	srv.data_dir = data_dir;
	memset(srv.url_key, 0x5a, sizeof(srv.url_key));
	if (!mkdtemp(data_dir) || model_load() || router_init() || loop_new(&srv.loop) ||
	    store_open("sqlite", data_dir, &srv.store) || blobs_open(data_dir, &srv.blobs)) {
		fprintf(stderr, "fuzz_request: setup failed\n");
		abort();
	}
	trace = getenv("FUZZ_REQUEST_TRACE") != NULL;
	atexit(teardown);
}

static int collect_scope(void *ud, const char *scope, const char *doc, size_t len)
{
	json_array_append_new(ud, json_string(scope));
	return 0;
}

static void wipe_store(void)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_t *scopes = json_array();
		size_t i;
		json_t *s;
		srv.store->ops->scopes(srv.store, kinds[k], collect_scope, scopes);
		json_array_foreach(scopes, i, s)
			store_del_prefix(srv.store, kinds[k], json_string_value(s), "");
		json_decref(scopes);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* in-place %XX decoding (and '+' as space in queries), like MHD_http_unescape */
static void unescape(char *s, int plus)
{
	char *o = s;
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && (hi = hexval(s[1])) >= 0 && (lo = hexval(s[2])) >= 0) {
			*o++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*o++ = plus && *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
}

/* "a=1&b&a=2" -> {"a": ["1", "2"], "b": [""]}, at most 256 values a name */
static json_t *parse_query(char *q)
{
	json_t *args = json_object();
	char *save = NULL;
	for (char *t = q ? strtok_r(q, "&", &save) : NULL; t; t = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(t, '=');
		if (eq)
			*eq++ = '\0';
		unescape(t, 1);
		if (eq)
			unescape(eq, 1);
		json_t *arr = json_object_get(args, t);
		if (!arr) {
			arr = json_array();
			json_object_set_new(args, t, arr);
		}
		if (json_array_size(arr) < 256)
			json_array_append_new(arr, json_string(eq ? eq : ""));
	}
	return args;
}

static void check_response(req_t *r)
{
	if (r->status < 200 || r->status > 599) {
		fprintf(stderr, "fuzz_request: status %d\n", r->status);
		abort();
	}
	if (r->content_type && !strcmp(r->content_type, "application/json")) {
		json_error_t err;
		json_t *doc = json_loadb(r->raw.data ? r->raw.data : "", r->raw.len,
					 JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (!doc) {
			fprintf(stderr, "fuzz_request: body is not JSON (%s): %.*s\n", err.text,
				(int)r->raw.len, r->raw.data ? r->raw.data : "");
			abort();
		}
		json_decref(doc);
	}
	size_t i;
	for (i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, "x-amzn-RequestId") && strlen(r->headers[i].value) == 36)
			break;
	if (i == r->nheaders) {
		fprintf(stderr, "fuzz_request: no x-amzn-RequestId\n");
		abort();
	}
}

/* one request from text[0..len) (a private, NUL-terminated copy) */
static void run_request(char *text, size_t len)
{
	struct freq f;
	memset(&f, 0, sizeof(f));
	char *end = text + len;
	char *nl = memchr(text, '\n', len);
	char *line_end = nl ? nl : end;
	*line_end = '\0';
	/* request line */
	char root[] = "/";
	char *sp = strchr(text, ' ');
	char *target = sp ? sp + 1 : root;
	if (sp)
		*sp = '\0';
	char *query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	unescape(target, 0);
	/* headers, up to the first empty line */
	char *p = nl ? nl + 1 : end;
	while (p < end) {
		char *e = memchr(p, '\n', (size_t)(end - p));
		char *le = e ? e : end;
		*le = '\0';
		if (p == le) {
			p = le + 1;
			break;
		}
		char *colon = strchr(p, ':');
		if (colon && f.nhdrs < MAX_HDRS) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ')
				v++;
			f.names[f.nhdrs] = p;
			f.values[f.nhdrs++] = v;
		}
		p = le + 1;
	}
	req_t *r = &f.r;
	r->srv = &srv;
	r->method = text;
	r->path = target;
	r->header = hdr_lookup;
	r->host = hdr_lookup(r, "Host");
	r->qargs = parse_query(query);
	r->body = p < end ? p : "";
	r->body_len = p < end ? (size_t)(end - p) : 0;
	/* http.c refuses bodies above the route's limit before dispatching */
	r->route = router_route(r->method, r->host, r->path, r->qargs);
	if (r->body_len <= router_body_limit(r->route)) {
		if (!router_precheck(r)) /* as http.c does before reading the body */
			router_dispatch(r);
		if (trace)
			fprintf(stderr, "%s %s -> %d %.300s\n", r->method, r->path, r->status,
				r->raw.data ? r->raw.data : "");
		check_response(r);
		req_cleanup(r);
	}
	json_decref(r->qargs);
	loop_run_once(srv.loop, 0); /* deferred work (state settling) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		setup();
		ready = 1;
	}
	wipe_store();
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *p = copy, *end = copy + size;
	for (int n = 0; n < MAX_REQS && p <= end; n++) {
		char *sep = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
		char *stop = sep ? sep : end;
		*stop = '\0';
		run_request(p, (size_t)(stop - p));
		if (!sep)
			break;
		p = sep + strlen(SEP);
	}
	free(copy);
	return 0;
}
