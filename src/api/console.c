/*
 * console.c - the web console's route (see console.h): GET and HEAD under
 * /_lambdad/console/.
 *
 * /_lambdad/console               -> 308 to /_lambdad/console/
 * /_lambdad/console/              -> index.html
 * /_lambdad/console/runtimes.json -> {"Runtimes": [...]}, what this host runs
 * /_lambdad/console/<file>        -> the embedded file; assets/ (hashed
 *                                    names) are cached for a year, the rest
 *                                    revalidated (ETag, If-None-Match: 304)
 * /_lambdad/console/<app route>   -> index.html (a path whose last segment
 *                                    has no dot and is not under assets/)
 * anything else                   -> 404, a JSON message
 */
#include "api/console.h"

#include "exec/exec.h"
#include "exec/runtimes.h"
#include "model/model.h"
#include "util/err.h"
#include "util/jsonw.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct console_file *console_file(const char *path)
{
	for (size_t i = 0; i < console_nfiles; i++)
		if (!strcmp(console_files[i].path, path))
			return &console_files[i];
	return NULL;
}

/* gzip acceptable: named in Accept-Encoding and not refused with q=0 */
static int accepts_gzip(req_t *r)
{
	const char *ae = r->header(r, "Accept-Encoding");
	const char *g = ae ? strstr(ae, "gzip") : NULL;
	if (!g)
		return 0;
	g += 4;
	while (*g == ' ')
		g++;
	if (*g == ';') {
		const char *q = strstr(g, "q=");
		if (q && strtod(q + 2, NULL) <= 0.0)
			return 0;
	}
	return 1;
}

/* the headers every console answer carries */
static int common_headers(req_t *r)
{
	int rc;
	if ((rc = req_add_header(r, "X-Content-Type-Options", "nosniff")) ||
	    (rc = req_add_header(r, "Referrer-Policy", "no-referrer")) ||
	    (rc = req_add_header(r, "X-Frame-Options", "DENY")))
		return rc;
	return 0;
}

static int not_found(req_t *r, const char *path)
{
	int rc;
	json_t *doc = json_pack("{s:s,s:s}", "Type", "User", "message", "");
	if (!doc)
		return LD_ENOMEM;
	char msg[512];
	snprintf(msg, sizeof msg, "No console file %.400s", path);
	json_object_set_new(doc, "message", json_string(msg));
	buf_reset(&r->raw);
	rc = jsonw_dump(doc, &r->raw);
	json_decref(doc);
	r->status = 404;
	r->content_type = "application/json";
	return rc ? rc : common_headers(r);
}

static int send_file(req_t *r, const struct console_file *f, int immutable)
{
	int rc;
	if ((rc = common_headers(r)) || (rc = req_add_header(r, "ETag", f->etag)) ||
	    (rc = req_add_header(r, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache")))
		return rc;
	if (!strcmp(f->path, "index.html") &&
	    (rc = req_add_header(r, "Content-Security-Policy",
				 "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
				 "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")))
		return rc;
	if (f->gz && (rc = req_add_header(r, "Vary", "Accept-Encoding")))
		return rc;
	r->content_type = f->content_type;
	const char *inm = r->header(r, "If-None-Match");
	if (inm && strstr(inm, f->etag)) {
		r->status = 304;
		return 0;
	}
	r->status = 200;
	buf_reset(&r->raw);
	if (f->gz && accepts_gzip(r)) {
		if ((rc = req_add_header(r, "Content-Encoding", "gzip")))
			return rc;
		return buf_append(&r->raw, f->gz, f->gz_len);
	}
	return buf_append(&r->raw, f->data, f->len);
}

/* runtimes.json: the model's runtime ids this host has an interpreter for */
static int send_runtimes(req_t *r)
{
	int rc = LD_ENOMEM;
	const struct runtimes *rts = exec_runtimes(r->srv);
	const struct shape *s = model_shape("Runtime");
	json_t *doc = json_object(), *list = json_array();
	if (!doc || !list)
		goto out;
	for (size_t i = 0; s && i < s->nenums; i++)
		if (runtimes_get(rts, s->enums[i]) && json_array_append_new(list, json_string(s->enums[i])))
			goto out;
	if (json_object_set(doc, "Runtimes", list))
		goto out;
	buf_reset(&r->raw);
	if ((rc = jsonw_dump(doc, &r->raw)) || (rc = common_headers(r)) ||
	    (rc = req_add_header(r, "Cache-Control", "no-cache")))
		goto out;
	r->status = 200;
	r->content_type = "application/json";
out:
	json_decref(list);
	json_decref(doc);
	return rc;
}

int api_console(req_t *r)
{
	const char *path = r->path + strlen(CONSOLE_PREFIX);
	if (*path == '\0') {
		r->status = 308;
		return req_add_header(r, "Location", CONSOLE_PREFIX "/");
	}
	if (*path != '/') /* /_lambdad/consoleX: not the console's */
		return not_found(r, r->path);
	path++;
	if (*path == '\0')
		path = "index.html";
	if (!strcmp(path, "runtimes.json"))
		return send_runtimes(r);
	const struct console_file *f = console_file(path);
	if (f)
		return send_file(r, f, !strncmp(path, "assets/", 7));
	const char *last = strrchr(path, '/');
	last = last ? last + 1 : path;
	if (strchr(last, '.') || !strncmp(path, "assets/", 7) || strstr(path, "..") || !(f = console_file("index.html")))
		return not_found(r, r->path);
	return send_file(r, f, 0); /* one of the app's own routes */
}
