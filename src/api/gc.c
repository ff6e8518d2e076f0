/*
 * gc.c - collecting unreferenced code archives and image layers (gc.h).
 *
 * Mark: every function version (its _CodeHex, _ImageLayers) and layer
 * version (_CodeHex) of every scope. Sweep: DATA/blobs/XX/HEX.zip,
 * DATA/code/HEX and DATA/layers/HEX that were not marked. Temporary
 * names (a dot first: half-built trees, lambdad's own top layer) are
 * never touched, nor is anything not named like a digest.
 */
#include "api/gc.h"
#include "blobs/blobs.h"
#include "images/registry.h"
#include "records/records.h"
#include "util/err.h"
#include "util/file.h"
#include "util/strmap.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mark {
	server_t *srv;
	strmap_t *live;
	enum rec_kind kind;
	int rc;
};

static void keep(struct mark *m, const char *hex)
{
	if (hex && strlen(hex) == 64 && !strmap_get(m->live, hex))
		strmap_put(m->live, hex, m);
}

static int doc_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct mark *m = ud;
	json_t *d = json_loadb(doc, len, 0, NULL);
	if (!d)
		return 0;
	keep(m, json_string_value(json_object_get(d, "_CodeHex")));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(d, "_ImageLayers"), i, v) keep(m, json_string_value(v));
	json_decref(d);
	return 0;
}

static int scope_cb(void *ud, const char *scope, const char *doc, size_t len)
{
	struct mark *m = ud;
	int rc = rec_list(m->srv->store, m->kind, scope, NULL, NULL, 0, doc_cb, m);
	if (rc)
		m->rc = rc;
	return rc;
}

static int is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

/* entries HEX (or HEX + suffix) of dir that are not live: removed */
static int sweep(const char *dir, const char *suffix, strmap_t *live, unsigned long long *bytes)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	size_t sl = suffix ? strlen(suffix) : 0;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < sl || (sl && strcmp(e->d_name + len - sl, suffix)))
			continue;
		char hex[80];
		if (len - sl >= sizeof(hex))
			continue;
		memcpy(hex, e->d_name, len - sl);
		hex[len - sl] = '\0';
		if (!is_hex64(hex, len - sl) || strmap_get(live, hex))
			continue;
		char path[PATH_MAX + 300];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) ? file_rm_rf(path) == 0 : unlink(path) == 0) {
			n++;
			if (bytes && S_ISREG(st.st_mode))
				*bytes += (unsigned long long)st.st_size;
		}
	}
	if (d)
		closedir(d);
	return n;
}

int gc_collect(server_t *srv, struct gc_stats *st)
{
	struct gc_stats s = { 0 };
	struct mark m = { .srv = srv };
	if (strmap_new(&m.live))
		return LD_ENOMEM;
	static const enum rec_kind kinds[] = { REC_VERSION, REC_LAYER_VERSION };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds) && !m.rc; i++) {
		m.kind = kinds[i];
		int rc = rec_scopes(srv->store, kinds[i], scope_cb, &m);
		if (rc && !m.rc)
			m.rc = rc;
	}
	if (m.rc) {
		strmap_free(m.live, NULL);
		return m.rc; /* nothing is removed on a partial mark */
	}
	char dir[PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/blobs", srv->data_dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX + 400];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		s.blobs += sweep(sub, ".zip", m.live, &s.bytes);
	}
	if (d)
		closedir(d);
	snprintf(dir, sizeof(dir), "%s/code", srv->data_dir);
	s.code_dirs = sweep(dir, NULL, m.live, NULL);
	registry_layers_dir(srv->data_dir, dir, sizeof(dir));
	s.layers = sweep(dir, NULL, m.live, NULL);
	strmap_free(m.live, NULL);
	if (st)
		*st = s;
	return 0;
}
