/*
 * test_console.c - unit tests of the console's route (api/console.h): the
 * embedded files (tools/genconsole.py's table), what each path answers
 * (redirect, index, assets with their caching, the app's routes, 404 JSON,
 * runtimes.json), gzip negotiation and ETag revalidation, on requests
 * built here as the HTTP front builds them.
 */
#include "api/console.h"
#include "model/model.h"
#include "server.h"
#include "t.h"
#include "util/err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static server_t srv;

struct treq {
	req_t r; /* first: the header callback gets &treq.r */
	const char *accept_encoding;
	const char *if_none_match;
};

static const char *hdr(req_t *r, const char *name)
{
	struct treq *t = (struct treq *)r;
	if (!strcasecmp(name, "Accept-Encoding"))
		return t->accept_encoding;
	if (!strcasecmp(name, "If-None-Match"))
		return t->if_none_match;
	return NULL;
}

/* runs the route for path; the answer stays in t->r (req_cleanup after) */
static int get(struct treq *t, const char *path, const char *ae, const char *inm)
{
	memset(t, 0, sizeof(*t));
	t->r.srv = &srv;
	t->r.method = "GET";
	t->r.path = path;
	t->r.header = hdr;
	t->accept_encoding = ae;
	t->if_none_match = inm;
	buf_init(&t->r.raw, 0);
	return api_console(&t->r);
}

static const char *resp_header(req_t *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static void test_embedded_files(void)
{
	const struct console_file *index = console_file("index.html");
	CHECK(index != NULL);
	if (!index)
		return;
	CHECK_STR(index->content_type, "text/html; charset=utf-8");
	CHECK(strlen(index->etag) == 34 && index->etag[0] == '"' && index->etag[33] == '"');
	int js = 0, css = 0;
	for (size_t i = 0; i < console_nfiles; i++) {
		const struct console_file *f = &console_files[i];
		CHECK(f->len > 0);
		CHECK(!f->gz || (f->gz_len > 2 && (unsigned char)f->gz[0] == 0x1f && (unsigned char)f->gz[1] == 0x8b));
		if (!strncmp(f->path, "assets/", 7) && strstr(f->path, ".js")) {
			js++;
			CHECK_STR(f->content_type, "text/javascript; charset=utf-8");
			CHECK(strstr(index->data, f->path) != NULL); /* index.html loads it */
		}
		if (!strncmp(f->path, "assets/", 7) && strstr(f->path, ".css"))
			css++;
	}
	CHECK(js == 1);
	CHECK(css == 1);
	CHECK(console_file("nope.html") == NULL);
}

static void test_paths(void)
{
	struct treq t;
	const struct console_file *index = console_file("index.html");

	CHECK(get(&t, "/_lambdad/console", NULL, NULL) == 0);
	CHECK(t.r.status == 308);
	CHECK_STR(resp_header(&t.r, "Location"), "/_lambdad/console/");
	req_cleanup(&t.r);

	CHECK(get(&t, "/_lambdad/console/", NULL, NULL) == 0);
	CHECK(t.r.status == 200);
	CHECK(index && t.r.raw.len == index->len && !memcmp(t.r.raw.data, index->data, index->len));
	CHECK_STR(resp_header(&t.r, "Cache-Control"), "no-cache");
	CHECK(resp_header(&t.r, "Content-Security-Policy") != NULL);
	CHECK_STR(resp_header(&t.r, "X-Content-Type-Options"), "nosniff");
	req_cleanup(&t.r);

	/* the app's own routes are index.html */
	CHECK(get(&t, "/_lambdad/console/functions/my-fn/logs", NULL, NULL) == 0);
	CHECK(t.r.status == 200 && index && t.r.raw.len == index->len);
	req_cleanup(&t.r);

	for (size_t i = 0; i < console_nfiles; i++) {
		char path[512];
		snprintf(path, sizeof path, "/_lambdad/console/%s", console_files[i].path);
		CHECK(get(&t, path, NULL, NULL) == 0);
		CHECK(t.r.status == 200);
		CHECK_STR(t.r.content_type, console_files[i].content_type);
		CHECK_STR(resp_header(&t.r, "ETag"), console_files[i].etag);
		if (!strncmp(console_files[i].path, "assets/", 7))
			CHECK_STR(resp_header(&t.r, "Cache-Control"), "public, max-age=31536000, immutable");
		req_cleanup(&t.r);
	}

	const char *missing[] = { "/_lambdad/console/assets/none.js", "/_lambdad/console/x.css",
				  "/_lambdad/console/assets/dir", "/_lambdad/console/a/../index.html",
				  "/_lambdad/consolex" };
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
		CHECK(get(&t, missing[i], NULL, NULL) == 0);
		CHECK(t.r.status == 404);
		CHECK_STR(t.r.content_type, "application/json");
		json_t *doc = json_loadb(t.r.raw.data, t.r.raw.len, 0, NULL);
		const char *msg = json_string_value(json_object_get(doc, "message"));
		CHECK(msg && strstr(msg, "No console file") != NULL);
		json_decref(doc);
		req_cleanup(&t.r);
	}
}

static void test_gzip_and_etag(void)
{
	struct treq t;
	const struct console_file *f = NULL;
	for (size_t i = 0; i < console_nfiles; i++)
		if (console_files[i].gz && !strncmp(console_files[i].path, "assets/", 7))
			f = &console_files[i];
	CHECK(f != NULL);
	if (!f)
		return;
	char path[512];
	snprintf(path, sizeof path, "/_lambdad/console/%s", f->path);
	struct {
		const char *ae;
		int gz;
	} cases[] = {
		{ NULL, 0 }, { "gzip", 1 }, { "deflate, gzip", 1 }, { "br, gzip;q=0.5", 1 },
		{ "gzip;q=0", 0 }, { "gzip; q=0.0, identity", 0 }, { "deflate", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(get(&t, path, cases[i].ae, NULL) == 0);
		CHECK(t.r.status == 200);
		const char *ce = resp_header(&t.r, "Content-Encoding");
		if (cases[i].gz) {
			CHECK(ce && !strcmp(ce, "gzip"));
			CHECK(t.r.raw.len == f->gz_len);
		} else {
			CHECK(ce == NULL);
			CHECK(t.r.raw.len == f->len);
		}
		CHECK_STR(resp_header(&t.r, "Vary"), "Accept-Encoding");
		req_cleanup(&t.r);
	}
	CHECK(get(&t, path, "gzip", f->etag) == 0);
	CHECK(t.r.status == 304 && t.r.raw.len == 0);
	req_cleanup(&t.r);
	CHECK(get(&t, path, NULL, "\"0000\"") == 0);
	CHECK(t.r.status == 200 && t.r.raw.len == f->len);
	req_cleanup(&t.r);
}

static void test_runtimes_json(void)
{
	struct treq t;
	/* no execution (srv.exec NULL): no runtime can run, the list is empty */
	CHECK(get(&t, "/_lambdad/console/runtimes.json", NULL, NULL) == 0);
	CHECK(t.r.status == 200);
	CHECK_STR(t.r.content_type, "application/json");
	json_t *doc = json_loadb(t.r.raw.data, t.r.raw.len, 0, NULL);
	CHECK(json_is_array(json_object_get(doc, "Runtimes")));
	CHECK(json_array_size(json_object_get(doc, "Runtimes")) == 0);
	json_decref(doc);
	req_cleanup(&t.r);
}

int main(void)
{
	if (model_load()) {
		fprintf(stderr, "test_console: model_load failed\n");
		return 1;
	}
	srv.account_id = "000000000000";
	srv.region = "us-east-1";
	T_RUN(test_embedded_files);
	T_RUN(test_paths);
	T_RUN(test_gzip_and_etag);
	T_RUN(test_runtimes_json);
	model_unload();
	return t_done("console");
}
