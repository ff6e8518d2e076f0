/*
 * registry.c - pulling an image from a registry (registry.h).
 *
 * Facts of the Registry HTTP API v2 (the distribution spec): GET
 * /v2/<name>/manifests/<reference> with the Accept types of the manifest
 * formats, GET /v2/<name>/blobs/<digest>; a 401 names in WWW-Authenticate
 * how to authenticate; a token endpoint answers {"token"} or
 * {"access_token"}.
 */
#include "images/registry.h"
#include "blobs/layer.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/file.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ACCEPT_MANIFESTS                                                                                   \
	"Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

struct reg {
	CURL *c;
	char base[600];       /* scheme://host[:port] */
	char userpwd[300];    /* basic credentials of the mapping, or "" */
	char repo[300];
	char bearer[8192];    /* a token, once asked for */
	char www[2048];       /* WWW-Authenticate of the last answer */
	char ctype[256];      /* Content-Type of the last answer */
	/* the body's sink */
	buf_t *mem;
	FILE *file;
	EVP_MD_CTX *sha;
	unsigned long long size, cap;
	int over;
};

void registry_layers_dir(const char *data_dir, char *out, size_t n)
{
	snprintf(out, n, "%s/layers", data_dir);
}

static json_t *failure(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *failure(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s,s:s}", "error", code, "message", msg);
}

/* ---- the URI ---- */

struct uri {
	char host[256];       /* registry host[:port] */
	char repo[300];
	char ref[160];        /* tag, or sha256:<hex> */
	int by_digest;
};

static int parse_uri(const char *s, struct uri *u)
{
	memset(u, 0, sizeof(*u));
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(u->host))
		return -1;
	memcpy(u->host, s, (size_t)(slash - s));
	const char *rest = slash + 1, *at = strchr(rest, '@');
	const char *last_slash = strrchr(rest, '/');
	const char *colon = strrchr(last_slash ? last_slash : rest, ':');
	size_t rl;
	if (at) {
		if (strncmp(at + 1, "sha256:", 7) || strlen(at + 1) != 71)
			return -1;
		snprintf(u->ref, sizeof(u->ref), "%s", at + 1);
		u->by_digest = 1;
		rl = (size_t)((colon && colon < at ? colon : at) - rest);
	} else if (colon) {
		snprintf(u->ref, sizeof(u->ref), "%s", colon + 1);
		rl = (size_t)(colon - rest);
	} else {
		snprintf(u->ref, sizeof(u->ref), "latest");
		rl = strlen(rest);
	}
	if (!rl || rl >= sizeof(u->repo) || !u->ref[0])
		return -1;
	memcpy(u->repo, rest, rl);
	return 0;
}

static int is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strncmp(host, "localhost", 9) || !strncmp(host, "[::1]", 5);
}

/* the registry's base URL and credentials for host; -1 for an ECR host
 * that no mapping names (ECR wants AWS's own token exchange: lambdad pulls
 * ECR URIs from the registry a mapping points them to) */
static int base_of(const struct registry_opts *o, const char *host, struct reg *r)
{
	for (const char *const *m = o->maps; m && *m; m++) {
		const char *eq = strchr(*m, '=');
		if (!eq)
			continue;
		size_t kl = (size_t)(eq - *m), hl = strlen(host);
		/* HOST, or *.SUFFIX for every host ending in .SUFFIX (ECR's
		 * ACCOUNT.dkr.ecr.REGION.amazonaws.com: *.amazonaws.com) */
		int wild = kl > 2 && (*m)[0] == '*' && (*m)[1] == '.';
		if (wild ? (hl < kl - 1 || strncmp(host + hl - (kl - 1), *m + 1, kl - 1))
			 : (strncmp(*m, host, kl) || host[kl]))
			continue;
		const char *url = eq + 1, *scheme_end = strstr(url, "://");
		const char *at = scheme_end ? strchr(scheme_end + 3, '@') : NULL;
		const char *slash = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
		if (at && (!slash || at < slash)) {
			snprintf(r->userpwd, sizeof(r->userpwd), "%.*s", (int)(at - scheme_end - 3), scheme_end + 3);
			snprintf(r->base, sizeof(r->base), "%.*s%s", (int)(scheme_end + 3 - url), url, at + 1);
		} else {
			snprintf(r->base, sizeof(r->base), "%s", url);
		}
		size_t n = strlen(r->base);
		while (n && r->base[n - 1] == '/')
			r->base[--n] = '\0';
		return 0;
	}
	if (strstr(host, ".dkr.ecr.") && strstr(host, ".amazonaws.com"))
		return -1;
	snprintf(r->base, sizeof(r->base), "%s://%s", is_loopback(host) ? "http" : "https", host);
	return 0;
}

/* ---- HTTP ---- */

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reg *r = ud;
	size_t len = size * n;
	char line[2048];
	snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1), p);
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncasecmp(line, "WWW-Authenticate:", 17))
		snprintf(r->www, sizeof(r->www), "%s", line + 17 + strspn(line + 17, " "));
	else if (!strncasecmp(line, "Content-Type:", 13))
		snprintf(r->ctype, sizeof(r->ctype), "%s", line + 13 + strspn(line + 13, " "));
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reg *r = ud;
	size_t len = size * n;
	r->size += len;
	if (r->size > r->cap) {
		r->over = 1;
		return 0;
	}
	if (r->sha)
		EVP_DigestUpdate(r->sha, p, len);
	if (r->mem && buf_append(r->mem, p, len))
		return 0;
	if (r->file && fwrite(p, 1, len, r->file) != len)
		return 0;
	return len;
}

/* "Bearer realm="...",service="...",scope="..."": the value of key */
static int auth_param(const char *www, const char *key, char *out, size_t n)
{
	const char *p = strstr(www, key);
	while (p && (p[strlen(key)] != '=' || (p > www && p[-1] != ' ' && p[-1] != ',')))
		p = strstr(p + 1, key);
	if (!p)
		return -1;
	p += strlen(key) + 1;
	int quoted = *p == '"';
	p += quoted;
	size_t len = quoted ? strcspn(p, "\"") : strcspn(p, ",");
	if (len >= n)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static long perform(struct reg *r, const char *url, const char *accept)
{
	struct curl_slist *h = NULL;
	char auth[8300];
	if (accept)
		h = curl_slist_append(h, accept);
	if (r->bearer[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->bearer);
		h = curl_slist_append(h, auth);
	}
	curl_easy_reset(r->c);
	curl_easy_setopt(r->c, CURLOPT_URL, url);
	curl_easy_setopt(r->c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(r->c, CURLOPT_FOLLOWLOCATION, 1L); /* blobs may live elsewhere (S3 redirects) */
	curl_easy_setopt(r->c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(r->c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(r->c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(r->c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(r->c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->userpwd[0] && !r->bearer[0]) {
		curl_easy_setopt(r->c, CURLOPT_USERPWD, r->userpwd);
		curl_easy_setopt(r->c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	r->www[0] = r->ctype[0] = '\0';
	CURLcode rc = curl_easy_perform(r->c);
	curl_slist_free_all(h);
	long status = 0;
	curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &status);
	return rc == CURLE_OK ? status : -1;
}

/* a bearer token for the last 401's challenge */
static int get_token(struct reg *r)
{
	char realm[1024], service[512] = "", scope[512] = "", url[2600];
	if (strncasecmp(r->www, "Bearer ", 7) || auth_param(r->www, "realm", realm, sizeof(realm)))
		return -1;
	auth_param(r->www, "service", service, sizeof(service));
	if (auth_param(r->www, "scope", scope, sizeof(scope)))
		snprintf(scope, sizeof(scope), "repository:%s:pull", r->repo);
	char *es = curl_easy_escape(r->c, service, 0), *sc = curl_easy_escape(r->c, scope, 0);
	snprintf(url, sizeof(url), "%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?", es ? es : "",
		 sc ? sc : "");
	curl_free(es);
	curl_free(sc);
	buf_t body;
	buf_init(&body, 64 * 1024);
	r->mem = &body;
	r->file = NULL;
	r->sha = NULL;
	r->size = 0;
	r->cap = 64 * 1024;
	long st = perform(r, url, NULL);
	r->mem = NULL;
	json_t *doc = st == 200 && body.len ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(doc, "token"));
	if (!t)
		t = json_string_value(json_object_get(doc, "access_token"));
	int rc = t && strlen(t) < sizeof(r->bearer) ? 0 : -1;
	if (!rc)
		snprintf(r->bearer, sizeof(r->bearer), "%s", t);
	json_decref(doc);
	buf_free(&body);
	return rc;
}

/* GET path into mem or file, with its sha256 (hex into digest); a 401 is
 * answered once with a token. Returns the status, -1 when no answer came. */
static long fetch(struct reg *r, const char *path, const char *accept, buf_t *mem, FILE *file,
		  unsigned long long cap, char digest[65])
{
	char url[1200];
	snprintf(url, sizeof(url), "%s/v2/%s/%s", r->base, r->repo, path);
	for (int attempt = 0; attempt < 2; attempt++) {
		r->mem = mem;
		r->file = file;
		r->size = 0;
		r->cap = cap;
		r->over = 0;
		r->sha = EVP_MD_CTX_new();
		EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL);
		if (mem)
			mem->len = 0;
		if (file) {
			rewind(file);
			if (ftruncate(fileno(file), 0) != 0)
				return -1;
		}
		long st = perform(r, url, accept);
		unsigned char md[32];
		unsigned int mdlen = 0;
		EVP_DigestFinal_ex(r->sha, md, &mdlen);
		EVP_MD_CTX_free(r->sha);
		r->sha = NULL;
		for (int i = 0; i < 32; i++)
			sprintf(digest + 2 * i, "%02x", md[i]);
		if (st == 401 && attempt == 0 && !r->bearer[0] && get_token(r) == 0)
			continue;
		return r->over ? -2 : st;
	}
	return 401;
}

/* ---- the pull ---- */

static const char *hex_of(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71)
		return NULL;
	for (const char *p = digest + 7; *p; p++)
		if (!strchr("0123456789abcdef", *p))
			return NULL;
	return digest + 7;
}

static const char *arch_of(const char *a)
{
	return a && !strcmp(a, "arm64") ? "arm64" : "amd64";
}

/* one layer into the store, unless it is there */
static json_t *layer(struct reg *r, const char *store, const char *hex, int *downloaded)
{
	char dir[PATH_MAX + 80], tmp[PATH_MAX + 100], blob[PATH_MAX + 120];
	snprintf(dir, sizeof(dir), "%s/%s", store, hex);
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return NULL; /* unpacked before */
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-%d", store, hex, (int)getpid());
	snprintf(blob, sizeof(blob), "%s.tar", tmp);
	FILE *f = fopen(blob, "w+e");
	if (!f)
		return failure("InvalidImage", "cannot write the layer store: %s", strerror(errno));
	char path[200], got[65];
	snprintf(path, sizeof(path), "blobs/sha256:%s", hex);
	long st_code = fetch(r, path, NULL, NULL, f, REGISTRY_MAX_IMAGE, got);
	json_t *err = NULL;
	if (fflush(f) != 0)
		st_code = -1;
	fclose(f);
	(*downloaded)++;
	if (st_code != 200) {
		err = failure(st_code == 401 || st_code == 403 || st_code == 404 ? "ImageAccessDenied" : "InvalidImage",
			      "layer sha256:%s: %s %ld", hex, st_code == -2 ? "too large" : "HTTP", st_code);
	} else if (strcmp(got, hex)) {
		err = failure("InvalidImage", "layer sha256:%s does not match its digest (got sha256:%s)", hex, got);
	} else if (mkdir(tmp, 0755) != 0) {
		err = failure("InvalidImage", "cannot write the layer store: %s", strerror(errno));
	} else {
		int rc = layer_extract(blob, tmp, REGISTRY_MAX_IMAGE, NULL);
		if (rc)
			err = failure("InvalidImage", "layer sha256:%s cannot be unpacked: %s", hex, ld_strerror(rc));
		else if (rename(tmp, dir) != 0 && errno != ENOTEMPTY && errno != EEXIST)
			err = failure("InvalidImage", "cannot write the layer store: %s", strerror(errno));
	}
	unlink(blob);
	file_rm_rf(tmp); /* a failed or lost race's leftovers */
	return err;
}

static json_t *pull(const struct registry_opts *o, struct reg *r)
{
	struct uri u;
	if (parse_uri(o->uri, &u))
		return failure("InvalidImage", "%s is not an image URI", o->uri);
	if (base_of(o, u.host, r))
		return failure("ImageAccessDenied", "%s is an ECR host that no --image-registry mapping names", u.host);
	snprintf(r->repo, sizeof(r->repo), "%s", u.repo);
	buf_t body;
	buf_init(&body, REGISTRY_MAX_MANIFEST);
	char got[65], path[400];
	json_t *doc = NULL, *res = NULL;
	snprintf(path, sizeof(path), "manifests/%s", u.ref);
	long st = fetch(r, path, ACCEPT_MANIFESTS, &body, NULL, REGISTRY_MAX_MANIFEST, got);
	if (st != 200) {
		res = failure(st == -1 ? "ImageAccessDenied" : st == 401 || st == 403 || st == 404 ? "ImageAccessDenied"
												   : "InvalidImage",
			      st == -1 ? "the registry of %s cannot be reached" : "the manifest of %s: HTTP %ld", o->uri,
			      st);
		goto out;
	}
	if (u.by_digest && strcmp(got, hex_of(u.ref))) {
		res = failure("InvalidImage", "the manifest of %s does not match its digest", o->uri);
		goto out;
	}
	doc = json_loadb(body.data, body.len, 0, NULL);
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	json_t *list = json_object_get(doc, "manifests");
	if (json_is_array(list) || (mt && strstr(mt, "index")) || (mt && strstr(mt, "manifest.list"))) {
		/* an index: the linux image of the function's architecture */
		const char *want = arch_of(o->arch), *pick = NULL;
		size_t i;
		json_t *m;
		json_array_foreach(list, i, m) {
			json_t *pl = json_object_get(m, "platform");
			const char *os = json_string_value(json_object_get(pl, "os"));
			const char *arch = json_string_value(json_object_get(pl, "architecture"));
			if (os && arch && !strcmp(os, "linux") && !strcmp(arch, want)) {
				pick = json_string_value(json_object_get(m, "digest"));
				break;
			}
		}
		if (!hex_of(pick)) {
			res = failure("InvalidImage", "%s has no linux/%s image", o->uri, want);
			goto out;
		}
		char want_hex[65];
		snprintf(want_hex, sizeof(want_hex), "%s", hex_of(pick));
		snprintf(path, sizeof(path), "manifests/sha256:%s", want_hex);
		json_decref(doc);
		doc = NULL;
		st = fetch(r, path, ACCEPT_MANIFESTS, &body, NULL, REGISTRY_MAX_MANIFEST, got);
		if (st != 200 || strcmp(got, want_hex)) {
			res = failure(st == 200 ? "InvalidImage" : "ImageAccessDenied", "the linux/%s manifest of %s: %s", want,
				      o->uri, st == 200 ? "digest mismatch" : "not found");
			goto out;
		}
		doc = json_loadb(body.data, body.len, 0, NULL);
	}
	char digest[65];
	snprintf(digest, sizeof(digest), "%s", got);
	json_t *cfgd = json_object_get(doc, "config");
	json_t *layers = json_object_get(doc, "layers");
	const char *cfg_hex = hex_of(json_string_value(json_object_get(cfgd, "digest")));
	if (!cfg_hex || !json_is_array(layers)) {
		res = failure("InvalidImage", "the image manifest, config or layer media type for the source image %s is "
					      "not supported.",
			      o->uri);
		goto out;
	}
	snprintf(path, sizeof(path), "blobs/sha256:%s", cfg_hex);
	st = fetch(r, path, NULL, &body, NULL, REGISTRY_MAX_MANIFEST, got);
	json_t *config = st == 200 && !strcmp(got, cfg_hex) ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	if (!config) {
		res = failure("InvalidImage", "the config of %s cannot be read", o->uri);
		goto out;
	}
	json_t *cc = json_object_get(config, "config");
	json_t *keep = json_object();
	static const char *const keys[] = { "Entrypoint", "Cmd", "WorkingDir", "Env" };
	for (size_t i = 0; i < 4; i++)
		if (json_object_get(cc, keys[i]) && !json_is_null(json_object_get(cc, keys[i])))
			json_object_set(keep, keys[i], json_object_get(cc, keys[i]));
	json_decref(config);
	char store[PATH_MAX];
	registry_layers_dir(o->data_dir, store, sizeof(store));
	file_mkdir_p(store, 0700);
	json_t *hexes = json_array();
	int downloaded = 0, total = 0;
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		const char *lt = json_string_value(json_object_get(l, "mediaType"));
		const char *lh = hex_of(json_string_value(json_object_get(l, "digest")));
		if (!lh || (lt && !strstr(lt, "tar"))) {
			res = failure("InvalidImage", "the image manifest, config or layer media type for the source image %s "
						      "is not supported.",
				      o->uri);
			json_decref(keep);
			json_decref(hexes);
			goto out;
		}
		json_t *err = layer(r, store, lh, &downloaded);
		if (err) {
			res = err;
			json_decref(keep);
			json_decref(hexes);
			goto out;
		}
		json_array_append_new(hexes, json_string(lh));
		total++;
	}
	res = json_pack("{s:s,s:o,s:o,s:i,s:i}", "digest", digest, "config", keep, "layers", hexes, "downloaded",
			downloaded, "reused", total - downloaded);
out:
	json_decref(doc);
	buf_free(&body);
	return res;
}

int registry_pull(const struct registry_opts *o, json_t **out)
{
	struct reg *r = calloc(1, sizeof(*r));
	if (!r || curl_global_init(CURL_GLOBAL_DEFAULT) || !(r->c = curl_easy_init())) {
		free(r);
		return LD_ENOMEM;
	}
	*out = pull(o, r);
	curl_easy_cleanup(r->c);
	free(r);
	return *out ? 0 : LD_ENOMEM;
}
