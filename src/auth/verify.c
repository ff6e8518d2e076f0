/*
 * verify.c - SigV4 verification of incoming requests (see verify.h).
 *
 * The steps follow AWS's own order: find the authentication (header or
 * query), parse it (IncompleteSignatureException with AWS's messages), check
 * the credential scope and the time (InvalidSignatureException), look the key
 * up (UnrecognizedClientException), rebuild the canonical request from what
 * arrived with util/sigv4 and compare signatures in constant time.
 */
#include "auth/verify.h"

#include "util/buf.h"
#include "util/err.h"
#include "util/sigv4.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define E_MISSING "MissingAuthenticationTokenException"
#define E_INCOMPLETE "IncompleteSignatureException"
#define E_UNRECOGNIZED "UnrecognizedClientException"
#define E_INVALID "InvalidSignatureException"
#define E_EXPIRED "ExpiredTokenException"
#define MSG_BAD_SIG                                                                        \
	"The request signature we calculated does not match the signature you provided. " \
	"Check your AWS Secret Access Key and signing method. Consult the service "        \
	"documentation for details."

#define MAX_QUERY_PARAMS 1024
#define MAX_SIGNED_VALUES 1024
#define CANON_CAP (1024 * 1024)

/* Derived signing keys (kSigning) of recent (key id, date, region, service,
 * secret): a key is valid for a whole UTC day, and deriving it costs four
 * HMACs, more than the rest of a verification. Direct-mapped by a hash of
 * the scope; an entry counts only when the secret is the same one (compared
 * in constant time), so a replaced or deleted key never reuses it. The
 * daemon verifies on one thread; this is process-wide state. */
#define KEY_CACHE 64
static struct key_cache_entry {
	char scope[129 + 9 + 64 + 64 + 4]; /* "AKID/YYYYMMDD/region/service" */
	char secret[129];
	unsigned char key[32];
} key_cache[KEY_CACHE];

static int signing_key(const sigv4_scope_t *scope, const char *akid, const char *secret, unsigned char key[32])
{
	char id[sizeof key_cache[0].scope];
	int n = snprintf(id, sizeof id, "%s/%.8s/%s/%s", akid, scope->date_time, scope->region, scope->service);
	if (n < 0 || (size_t)n >= sizeof id || strlen(secret) >= sizeof key_cache[0].secret)
		return sigv4_signing_key(scope, secret, key);
	uint32_t h = 2166136261u;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct key_cache_entry *e = &key_cache[h % KEY_CACHE];
	size_t slen = strlen(secret);
	if (!strcmp(e->scope, id) && strlen(e->secret) == slen && CRYPTO_memcmp(e->secret, secret, slen) == 0) {
		memcpy(key, e->key, 32);
		return 0;
	}
	int rc = sigv4_signing_key(scope, secret, key);
	if (rc)
		return rc;
	OPENSSL_cleanse(e, sizeof *e);
	memcpy(e->scope, id, (size_t)n + 1);
	memcpy(e->secret, secret, slen + 1);
	memcpy(e->key, key, 32);
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int fail(verify_result_t *res, const char *error, const char *fmt, ...)
{
	va_list ap;
	res->error = error;
	res->status = 403;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof res->message, fmt, ap);
	va_end(ap);
	return LD_EINVAL;
}

void verify_format_time(time_t t, char out[17])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm))
		strcpy(out, "19700101T000000Z");
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int verify_parse_time(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se;
	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || digits(s, 4, &y) ||
	    digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
	    digits(s + 11, 2, &mi) || digits(s + 13, 2, &se))
		return LD_EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return LD_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*t = timegm(&tm);
	char back[17];
	verify_format_time(*t, back);
	if (se != 60 && strcmp(back, s)) /* 20240231 and friends */
		return LD_EINVAL;
	return 0;
}

/* RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT", the Date header's form. */
static int parse_http_date(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return LD_EINVAL;
	*t = timegm(&tm);
	return 0;
}

/* Decodes %XX escapes of [p, p+n) into a new string ('+' stays '+').
 * Sets *nul when an escape decodes to NUL. */
static char *pct_decode(const char *p, size_t n, int *nul)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (p[i] == '%' && i + 2 < n && (hi = OPENSSL_hexchar2int((unsigned char)p[i + 1])) >= 0 &&
		    (lo = OPENSSL_hexchar2int((unsigned char)p[i + 2])) >= 0) {
			*o = (char)(hi << 4 | lo);
			if (!*o)
				*nul = 1;
			o++;
			i += 2;
		} else {
			*o++ = p[i];
		}
	}
	*o = '\0';
	return out;
}

typedef struct query {
	sigv4_kv_t kv[MAX_QUERY_PARAMS];
	size_t n;
	int nul;
} query_t;

static void query_free(query_t *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free((char *)q->kv[i].name);
		free((char *)q->kv[i].value);
	}
	q->n = 0;
}

/* Splits a raw query string into decoded pairs. 0, LD_ENOMEM, LD_ETOOBIG. */
static int query_parse(const char *raw, query_t *q)
{
	q->n = 0;
	q->nul = 0;
	if (!raw)
		return 0;
	for (const char *p = raw; *p;) {
		size_t len = strcspn(p, "&");
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t nlen = eq ? (size_t)(eq - p) : len;
			if (q->n == MAX_QUERY_PARAMS)
				return LD_ETOOBIG;
			char *name = pct_decode(p, nlen, &q->nul);
			char *value = eq ? pct_decode(eq + 1, len - nlen - 1, &q->nul)
					 : pct_decode("", 0, &q->nul);
			if (!name || !value) {
				free(name);
				free(value);
				return LD_ENOMEM;
			}
			q->kv[q->n].name = name;
			q->kv[q->n].value = value;
			q->n++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* The value of query parameter name (exact case); *count gets the number
 * of occurrences. */
static const char *query_get(const query_t *q, const char *name, int *count)
{
	const char *v = NULL;
	*count = 0;
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->kv[i].name, name)) {
			if (!v)
				v = q->kv[i].value;
			(*count)++;
		}
	return v;
}

/* botocore's normalize_url_path + quote(safe='/~'): dot segments and empty
 * segments removed, a trailing slash kept, then every byte but unreserved
 * and '/' percent-encoded (so "%3A" becomes "%253A"). */
static int canonical_uri(const char *path, buf_t *out)
{
	buf_t norm;
	int rc = 0;
	size_t plen = path ? strlen(path) : 0;
	buf_init(&norm, CANON_CAP);
	if (!plen) {
		rc = buf_puts(out, "/");
		goto out;
	}
	/* walk segments; ".." pops the last one */
	size_t *stack = malloc((plen / 2 + 2) * sizeof *stack), depth = 0;
	if (!stack) {
		rc = LD_ENOMEM;
		goto out;
	}
	for (const char *p = path; *p && !rc;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && !memcmp(p, "..", 2)) {
			if (depth)
				norm.len = stack[--depth], norm.data[norm.len] = '\0';
		} else if (len && !(len == 1 && *p == '.')) {
			stack[depth++] = norm.len;
			if (!(rc = buf_puts(&norm, "/")))
				rc = buf_append(&norm, p, len);
		}
		p += len;
		if (*p == '/')
			p++;
	}
	free(stack);
	if (rc)
		goto out;
	if (path[0] != '/' && norm.len)
		memmove(norm.data, norm.data + 1, norm.len--); /* keeps the NUL */
	if (path[plen - 1] == '/' && depth)
		rc = buf_puts(&norm, "/");
	if (!rc && path[0] == '/' && !depth)
		rc = buf_puts(&norm, "/");
	if (!rc)
		rc = sigv4_uri_encode(out, norm.data ? norm.data : "", norm.len, 1);
out:
	buf_free(&norm);
	return rc;
}

/* Collecting the signed headers' values through each_header. */
typedef struct collect {
	char **names;      /* signed header names, lowercase */
	size_t nnames;
	int *seen;
	sigv4_kv_t *kv;    /* (name, value) per occurrence */
	size_t n;
	int overflow;
} collect_t;

static void collect_one(void *arg, const char *name, const char *value)
{
	collect_t *c = arg;
	for (size_t i = 0; i < c->nnames; i++) {
		if (strcasecmp(c->names[i], name))
			continue;
		if (c->n == MAX_SIGNED_VALUES) {
			c->overflow = 1;
			return;
		}
		c->seen[i] = 1;
		c->kv[c->n].name = c->names[i];
		c->kv[c->n].value = value ? value : "";
		c->n++;
		return;
	}
}

static int has_signed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ";");
		if (len == n && !memcmp(p, name, n))
			return 1;
		p += len;
		if (*p == ';')
			p++;
	}
	return 0;
}

/* Diagnoses an Authorization header that sigv4_parse_authorization()
 * refused, with AWS's messages. */
static int diagnose_authorization(const char *h, int have_date, verify_result_t *res)
{
	const char *cred = strstr(h, "Credential=");
	if (!strncmp(h, SIGV4_ALGORITHM " ", strlen(SIGV4_ALGORITHM) + 1) && cred) {
		const char *v = cred + strlen("Credential=");
		size_t len = strcspn(v, ", ");
		int slashes = 0;
		for (size_t i = 0; i < len; i++)
			slashes += v[i] == '/';
		if (slashes != 4)
			return fail(res, E_INCOMPLETE,
				    "Credential must have exactly 5 slash-delimited elements, e.g. "
				    "keyid/date/region/service/term, got '%.*s'",
				    (int)(len > 256 ? 256 : len), v);
		const char *term = v + len;
		while (term > v && term[-1] != '/')
			term--;
		if ((size_t)(v + len - term) != 12 || memcmp(term, "aws4_request", 12))
			return fail(res, E_INCOMPLETE,
				    "Credential should be scoped with a valid terminator: "
				    "'aws4_request', not '%.*s'. ",
				    (int)(v + len - term > 64 ? 64 : v + len - term), term);
	}
	int is_v4 = !strncmp(h, SIGV4_ALGORITHM " ", strlen(SIGV4_ALGORITHM) + 1);
	char msg[512] = "";
	size_t m = 0;
	if (!is_v4 || !cred)
		m += (size_t)snprintf(msg + m, sizeof msg - m,
				      "Authorization header requires 'Credential' parameter. ");
	if (!is_v4 || !strstr(h, "Signature="))
		m += (size_t)snprintf(msg + m, sizeof msg - m,
				      "Authorization header requires 'Signature' parameter. ");
	if (!is_v4 || !strstr(h, "SignedHeaders="))
		m += (size_t)snprintf(msg + m, sizeof msg - m,
				      "Authorization header requires 'SignedHeaders' parameter. ");
	if (!have_date)
		snprintf(msg + m, sizeof msg - m,
			 "Authorization header requires existence of either a 'X-Amz-Date' or a "
			 "'Date' header. ");
	if (!msg[0]) /* all parts there, one of them malformed */
		snprintf(msg, sizeof msg, "Authorization header is malformed. ");
	return fail(res, E_INCOMPLETE, "%sAuthorization=%.400s", msg, h);
}

/* The parsed authentication, from either form. */
typedef struct authn {
	sigv4_auth_t a;
	char date_time[17];       /* ISO basic, what the string to sign uses */
	time_t t;
	long expires;             /* presigned: X-Amz-Expires, -1 if absent */
	const char *token;        /* session token or NULL */
} authn_t;

static int parse_header_form(const verify_request_t *req, const char *h, authn_t *an,
			     verify_result_t *res)
{
	const char *xdate = req->header(req->header_ctx, "x-amz-date");
	const char *date = xdate ? NULL : req->header(req->header_ctx, "date");
	if (sigv4_parse_authorization(h, &an->a))
		return diagnose_authorization(h, xdate || date, res);
	snprintf(res->access_key_id, sizeof res->access_key_id, "%s", an->a.access_key_id);
	snprintf(res->region, sizeof res->region, "%s", an->a.region);
	if (!xdate && !date)
		return fail(res, E_INCOMPLETE,
			    "Authorization header requires existence of either a 'X-Amz-Date' or "
			    "a 'Date' header. Authorization=%.400s", h);
	if (xdate) {
		if (verify_parse_time(xdate, &an->t))
			return fail(res, E_INCOMPLETE,
				    "Date must be in ISO-8601 'basic format'. Got '%.64s'. See "
				    "http://en.wikipedia.org/wiki/ISO_8601", xdate);
	} else if (parse_http_date(date, &an->t)) {
		return fail(res, E_INCOMPLETE,
			    "Date must be in ISO-8601 'basic format'. Got '%.64s'. See "
			    "http://en.wikipedia.org/wiki/ISO_8601", date);
	}
	verify_format_time(an->t, an->date_time);
	if (xdate && strcmp(an->date_time, xdate)) /* leap second */
		snprintf(an->date_time, sizeof an->date_time, "%s", xdate);
	an->expires = -1;
	an->token = req->header(req->header_ctx, "x-amz-security-token");
	return 0;
}

static int parse_query_form(const query_t *q, authn_t *an, verify_result_t *res)
{
	static const char *const required[] = {
		"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date",
		"X-Amz-SignedHeaders",
	};
	const char *v[5];
	int count;
	for (int i = 0; i < 5; i++) {
		v[i] = query_get(q, required[i], &count);
		if (!v[i] || count > 1)
			return fail(res, E_INCOMPLETE,
				    "AWS query-string parameters must include '%s'. Re-examine the "
				    "query-string parameters.", required[i]);
	}
	if (strcmp(v[0], SIGV4_ALGORITHM))
		return fail(res, E_INCOMPLETE,
			    "X-Amz-Algorithm only supports \"" SIGV4_ALGORITHM "\"");
	/* reuse the header parser for the three parts */
	buf_t h;
	buf_init(&h, 8192);
	int rc = buf_printf(&h, SIGV4_ALGORITHM " Credential=%s, SignedHeaders=%s, Signature=%s",
			    v[1], v[4], v[2]);
	if (rc == 0 && (strpbrk(v[1], ", ") || strpbrk(v[4], ", ") || strpbrk(v[2], ", ")))
		rc = LD_EINVAL;
	if (rc == 0)
		rc = sigv4_parse_authorization(h.data, &an->a);
	buf_free(&h);
	if (rc) {
		size_t len = strlen(v[1]);
		int slashes = 0;
		for (size_t i = 0; i < len; i++)
			slashes += v[1][i] == '/';
		if (slashes != 4)
			return fail(res, E_INCOMPLETE,
				    "Credential must have exactly 5 slash-delimited elements, e.g. "
				    "keyid/date/region/service/term, got '%.256s'", v[1]);
		return fail(res, E_INCOMPLETE,
			    "AWS query-string parameters are malformed. Re-examine the "
			    "query-string parameters.");
	}
	snprintf(res->access_key_id, sizeof res->access_key_id, "%s", an->a.access_key_id);
	snprintf(res->region, sizeof res->region, "%s", an->a.region);
	if (verify_parse_time(v[3], &an->t))
		return fail(res, E_INCOMPLETE,
			    "Date must be in ISO-8601 'basic format'. Got '%.64s'. See "
			    "http://en.wikipedia.org/wiki/ISO_8601", v[3]);
	snprintf(an->date_time, sizeof an->date_time, "%s", v[3]);
	an->expires = -1;
	const char *e = query_get(q, "X-Amz-Expires", &count);
	if (e) {
		char *end;
		long x = strtol(e, &end, 10);
		if (count > 1 || !*e || *end || e[0] == '-' || e[0] == '+' || x < 1 ||
		    x > VERIFY_MAX_EXPIRES)
			return fail(res, E_INCOMPLETE,
				    "X-Amz-Expires must be a number of seconds between 1 and %d, "
				    "got '%.32s'", VERIFY_MAX_EXPIRES, e);
		an->expires = x;
	}
	an->token = query_get(q, "X-Amz-Security-Token", &count);
	return 0;
}

static int check_scope_and_time(const verify_request_t *req, const verify_opts_t *opts,
				const authn_t *an, verify_result_t *res)
{
	const char *service = opts->service ? opts->service : "lambda";
	int skew = opts->skew_seconds > 0 ? opts->skew_seconds : VERIFY_DEFAULT_SKEW;
	char now_s[17], edge_s[17];

	if (strncmp(an->a.date, an->date_time, 8))
		return fail(res, E_INVALID,
			    "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
			    "version of date from HTTP: '%s' != '%.8s', from '%s'.",
			    an->a.date, an->date_time, an->date_time);
	if (opts->region && strcmp(an->a.region, opts->region))
		return fail(res, E_INVALID, "Credential should be scoped to a valid region, not '%s'. ",
			    an->a.region);
	if (strcmp(an->a.service, service))
		return fail(res, E_INVALID, "Credential should be scoped to correct service: '%s'. ",
			    service);
	if (!has_signed(an->a.signed_headers, "host"))
		return fail(res, E_INCOMPLETE,
			    "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
			    "Authorization.");

	verify_format_time(req->now, now_s);
	if (an->t > req->now + skew) {
		verify_format_time(req->now + skew, edge_s);
		return fail(res, E_INVALID,
			    "Signature not yet current: %s is still later than %s (%s + %d min.)",
			    an->date_time, edge_s, now_s, skew / 60);
	}
	if (an->expires >= 0) {
		if (req->now - an->t > an->expires) {
			verify_format_time(req->now - an->expires, edge_s);
			if (an->expires % 60 == 0)
				return fail(res, E_INVALID,
					    "Signature expired: %s is now earlier than %s (%s - %ld min.)",
					    an->date_time, edge_s, now_s, an->expires / 60);
			return fail(res, E_INVALID,
				    "Signature expired: %s is now earlier than %s (%s - %ld sec.)",
				    an->date_time, edge_s, now_s, an->expires);
		}
	} else if (an->t < req->now - skew) {
		verify_format_time(req->now - skew, edge_s);
		return fail(res, E_INVALID,
			    "Signature expired: %s is now earlier than %s (%s - %d min.)",
			    an->date_time, edge_s, now_s, skew / 60);
	}
	return 0;
}

/* Rebuilds the canonical request and compares signatures. */
static int check_signature(const verify_request_t *req, const query_t *q, const authn_t *an,
			   const char *secret, int presigned, verify_result_t *res)
{
	buf_t uri, query, canon;
	collect_t c = { 0 };
	char *list = NULL, hash[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];
	const char *payload_hash;
	int rc;

	buf_init(&uri, CANON_CAP);
	buf_init(&query, CANON_CAP);
	buf_init(&canon, CANON_CAP);

	/* query: everything but X-Amz-Signature in the presigned form */
	sigv4_kv_t *kv = malloc((q->n + 1) * sizeof *kv);
	size_t nkv = 0;
	if (!kv) {
		rc = LD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < q->n; i++)
		if (!presigned || strcmp(q->kv[i].name, "X-Amz-Signature"))
			kv[nkv++] = q->kv[i];
	if ((rc = canonical_uri(req->path, &uri)) || (rc = sigv4_canonical_query(kv, nkv, &query)))
		goto out;

	/* signed headers, every occurrence in arrival order */
	list = strdup(an->a.signed_headers);
	size_t maxn = 1;
	for (const char *p = an->a.signed_headers; *p; p++)
		maxn += *p == ';';
	c.names = calloc(maxn, sizeof *c.names);
	c.seen = calloc(maxn, sizeof *c.seen);
	c.kv = malloc((MAX_SIGNED_VALUES + maxn) * sizeof *c.kv); /* c.n counts what is set */
	if (!list || !c.names || !c.seen || !c.kv) {
		rc = LD_ENOMEM;
		goto out;
	}
	for (char *save = NULL, *n = strtok_r(list, ";", &save); n; n = strtok_r(NULL, ";", &save))
		c.names[c.nnames++] = n;
	req->each_header(req->header_ctx, collect_one, &c);
	if (c.overflow) {
		rc = fail(res, E_INVALID, MSG_BAD_SIG);
		goto out;
	}
	for (size_t i = 0; i < c.nnames; i++) /* absent: signed as empty, so it cannot match */
		if (!c.seen[i]) {
			c.kv[c.n].name = c.names[i];
			c.kv[c.n].value = "";
			c.n++;
		}

	/* payload: the body's hash (botocore signs it in both forms for services
	 * other than S3), unless the client declared UNSIGNED-PAYLOAD */
	const char *declared = req->header(req->header_ctx, "x-amz-content-sha256");
	if (declared && !strcmp(declared, "UNSIGNED-PAYLOAD")) {
		payload_hash = "UNSIGNED-PAYLOAD";
	} else if (req->payload_hash) {
		payload_hash = req->payload_hash;
	} else {
		if ((rc = sigv4_sha256_hex(req->payload ? req->payload : "", req->payload_len,
					   hash)))
			goto out;
		payload_hash = hash;
	}

	sigv4_request_t sr = { req->method ? req->method : "", uri.data, query.data ? query.data : "",
			       c.kv, c.n, payload_hash };
	sigv4_scope_t scope = { an->date_time, an->a.region, an->a.service };
	rc = sigv4_canonical_request(&sr, &canon, NULL);
	if (rc == LD_EINVAL || rc == LD_ETOOBIG) {
		rc = fail(res, E_INVALID, MSG_BAD_SIG);
		goto out;
	}
	if (rc)
		goto out;
	unsigned char skey[32];
	rc = signing_key(&scope, an->a.access_key_id, secret, skey);
	if (!rc)
		rc = sigv4_signature_with_key(&scope, skey, canon.data, canon.len, sig);
	OPENSSL_cleanse(skey, sizeof skey);
	if (rc == LD_EINVAL) {
		rc = fail(res, E_INVALID, MSG_BAD_SIG);
		goto out;
	}
	if (rc)
		goto out;
	if (q->nul || !sigv4_signature_equal(sig, an->a.signature))
		rc = fail(res, E_INVALID, MSG_BAD_SIG);
out:
	OPENSSL_cleanse(sig, sizeof sig);
	free(kv);
	free(list);
	free(c.names);
	free(c.seen);
	free(c.kv);
	buf_free(&uri);
	buf_free(&query);
	buf_free(&canon);
	return rc;
}

int verify_request(const verify_request_t *req, const verify_opts_t *opts, verify_result_t *res)
{
	query_t *q = malloc(sizeof *q); /* 16 KB: not zeroed, q->n counts what is set */
	authn_t an;
	verify_key_t key;
	int rc, count;

	memset(res, 0, sizeof *res);
	memset(&an, 0, sizeof an);
	memset(&key, 0, sizeof key);
	if (!q)
		return LD_ENOMEM;
	q->n = 0;
	q->nul = 0;
	rc = query_parse(req->query, q);
	if (rc == LD_ETOOBIG) {
		rc = fail(res, E_INVALID, MSG_BAD_SIG);
		goto out;
	}
	if (rc)
		goto out;

	const char *h = req->header(req->header_ctx, "authorization");
	int presigned = query_get(q, "X-Amz-Algorithm", &count) ||
			query_get(q, "X-Amz-Credential", &count) ||
			query_get(q, "X-Amz-Signature", &count);
	if (h && presigned) {
		rc = fail(res, E_INCOMPLETE,
			  "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
			  "parameter or the Authorization header should be specified");
		goto out;
	}
	if (!h && !presigned) {
		rc = fail(res, E_MISSING, "Missing Authentication Token");
		goto out;
	}
	res->presigned = presigned;
	if ((rc = presigned ? parse_query_form(q, &an, res) : parse_header_form(req, h, &an, res)) ||
	    (rc = check_scope_and_time(req, opts, &an, res)))
		goto out;

	rc = opts->lookup(opts->lookup_ctx, an.a.access_key_id, an.token, &key);
	if (rc == LD_ENOTFOUND) {
		rc = fail(res, E_UNRECOGNIZED, "The security token included in the request is invalid.");
		goto out;
	}
	if (rc || opts->headers_only)
		goto out;
	if ((rc = check_signature(req, q, &an, key.secret, presigned, res)))
		goto out;
	if (key.expires && (long long)req->now >= key.expires) {
		rc = fail(res, E_EXPIRED, "The security token included in the request is expired");
		goto out;
	}
	snprintf(res->account_id, sizeof res->account_id, "%s", key.account_id);
	snprintf(res->principal_arn, sizeof res->principal_arn, "%s", key.principal_arn);
out:
	OPENSSL_cleanse(&key, sizeof key);
	query_free(q);
	free(q);
	if (rc && rc != LD_EINVAL)
		res->error = NULL;
	return rc;
}
