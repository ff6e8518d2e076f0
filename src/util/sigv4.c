/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h).
 *
 * The canonical request is METHOD, URI, query, one "name:value" line per
 * header, the signed-header list and the payload hash, joined by newlines.
 * The string to sign names the algorithm, the time, the credential scope and
 * the SHA-256 of the canonical request. The signing key is an HMAC chain
 * over "AWS4" + secret, date, region, service and "aws4_request"; the
 * signature is the hex HMAC of the string to sign under that key. SHA-256
 * and HMAC come from OpenSSL's libcrypto.
 */
#include "util/sigv4.h"
#include "util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *bstr(const buf_t *b)
{
	return b->data ? b->data : "";
}

int sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1])
{
	unsigned char md[32];
	if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
		return LD_ENOMEM;
	to_hex(md, sizeof md, out);
	return 0;
}

static int hmac(const void *key, size_t klen, const char *msg, size_t mlen, unsigned char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, md, &mdlen))
		return LD_ENOMEM;
	memcpy(out, md, 32); /* out may alias key */
	OPENSSL_cleanse(md, sizeof md);
	return 0;
}

int sigv4_uri_encode(buf_t *out, const char *s, size_t len, int keep_slash)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			    c == '~' || (c == '/' && keep_slash);
		char esc[3] = { '%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15] };
		int rc = plain ? buf_append(out, &c, 1) : buf_append(out, esc, 3);
		if (rc)
			return rc;
	}
	return 0;
}

/* One encoded query parameter, for sorting. */
struct qparam {
	buf_t name, value;
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(bstr(&x->name), bstr(&y->name));
	return c ? c : strcmp(bstr(&x->value), bstr(&y->value));
}

int sigv4_canonical_query(const sigv4_kv_t *params, size_t n, buf_t *out)
{
	int rc = 0;
	struct qparam *q = n ? calloc(n, sizeof *q) : NULL;
	if (n && !q)
		return LD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *v = params[i].value ? params[i].value : "";
		buf_init(&q[i].name, 0);
		buf_init(&q[i].value, 0);
		if ((rc = sigv4_uri_encode(&q[i].name, params[i].name, strlen(params[i].name), 0)) ||
		    (rc = sigv4_uri_encode(&q[i].value, v, strlen(v), 0)))
			goto out;
	}
	if (n)
		qsort(q, n, sizeof *q, qparam_cmp);
	for (size_t i = 0; i < n; i++) {
		if ((rc = buf_printf(out, "%s%s=%s", i ? "&" : "", bstr(&q[i].name),
				     bstr(&q[i].value))))
			goto out;
	}
out:
	for (size_t i = 0; i < n; i++) {
		buf_free(&q[i].name);
		buf_free(&q[i].value);
	}
	free(q);
	return rc;
}

/* A header to sign, remembered by its position so that sorting is stable. */
struct hdr {
	const sigv4_kv_t *kv;
	size_t pos;
};

static int name_cmp(const char *a, const char *b)
{
	for (; *a && lower(*a) == lower(*b); a++, b++)
		;
	return (unsigned char)lower(*a) - (unsigned char)lower(*b);
}

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = name_cmp(x->kv->name, y->kv->name);
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static int append_lower(buf_t *out, const char *s)
{
	for (int rc; *s; s++) {
		char c = lower(*s);
		if ((rc = buf_append(out, &c, 1)))
			return rc;
	}
	return 0;
}

/* Appends v without leading and trailing blanks, inner runs as one space. */
static int append_trimmed(buf_t *out, const char *v)
{
	int rc, blank = 0;
	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			blank = 1;
			continue;
		}
		if (blank && (rc = buf_append(out, " ", 1)))
			return rc;
		blank = 0;
		if ((rc = buf_append(out, v, 1)))
			return rc;
	}
	return 0;
}

int sigv4_canonical_request(const sigv4_request_t *req, buf_t *canon, buf_t *signed_headers)
{
	if (!req->method || !req->uri || !req->payload_hash || !req->headers || !req->nheaders)
		return LD_EINVAL;
	for (size_t i = 0; i < req->nheaders; i++)
		if (!req->headers[i].name || !req->headers[i].name[0] || !req->headers[i].value)
			return LD_EINVAL;

	int rc;
	buf_t names;
	buf_init(&names, 0);
	struct hdr *h = calloc(req->nheaders, sizeof *h);
	if (!h)
		return LD_ENOMEM;
	for (size_t i = 0; i < req->nheaders; i++)
		h[i] = (struct hdr){ &req->headers[i], i };
	qsort(h, req->nheaders, sizeof *h, hdr_cmp);

	if ((rc = buf_printf(canon, "%s\n%s\n%s\n", req->method, req->uri,
			     req->query ? req->query : "")))
		goto out;
	for (size_t i = 0; i < req->nheaders; i++) {
		int repeat = i && name_cmp(h[i - 1].kv->name, h[i].kv->name) == 0;
		if (repeat) {
			rc = buf_append(canon, ",", 1);
		} else {
			if (i && (rc = buf_append(canon, "\n", 1)))
				goto out;
			if ((i && (rc = buf_append(&names, ";", 1))) ||
			    (rc = append_lower(&names, h[i].kv->name)) ||
			    (rc = append_lower(canon, h[i].kv->name)))
				goto out;
			rc = buf_append(canon, ":", 1);
		}
		if (rc || (rc = append_trimmed(canon, h[i].kv->value)))
			goto out;
	}
	if ((rc = buf_printf(canon, "\n\n%s\n%s", bstr(&names), req->payload_hash)))
		goto out;
	if (signed_headers)
		rc = buf_puts(signed_headers, bstr(&names));
out:
	buf_free(&names);
	free(h);
	return rc;
}

static int scope_valid(const sigv4_scope_t *s)
{
	const char *t = s->date_time;
	if (!t || strlen(t) != 16 || t[8] != 'T' || t[15] != 'Z')
		return 0;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (t[i] < '0' || t[i] > '9'))
			return 0;
	return s->region && s->region[0] && !strchr(s->region, '/') &&
	       s->service && s->service[0] && !strchr(s->service, '/');
}

int sigv4_signing_key(const sigv4_scope_t *scope, const char *secret_key, unsigned char key[32])
{
	if (!scope_valid(scope) || !secret_key)
		return LD_EINVAL;
	int rc;
	buf_t secret;
	buf_init(&secret, 0);
	/* kDate, kRegion, kService, kSigning */
	if ((rc = buf_printf(&secret, "AWS4%s", secret_key)) ||
	    (rc = hmac(secret.data, secret.len, scope->date_time, 8, key)) ||
	    (rc = hmac(key, 32, scope->region, strlen(scope->region), key)) ||
	    (rc = hmac(key, 32, scope->service, strlen(scope->service), key)) ||
	    (rc = hmac(key, 32, "aws4_request", 12, key)))
		OPENSSL_cleanse(key, 32);
	if (secret.data)
		OPENSSL_cleanse(secret.data, secret.len);
	buf_free(&secret);
	return rc;
}

int sigv4_signature_with_key(const sigv4_scope_t *scope, const unsigned char key[32], const char *canon,
			     size_t len, char sig[SIGV4_HEX_LEN + 1])
{
	if (!scope_valid(scope))
		return LD_EINVAL;
	int rc;
	char canon_hash[SIGV4_HEX_LEN + 1];
	unsigned char out[32];
	buf_t sts;
	buf_init(&sts, 0);
	if ((rc = sigv4_sha256_hex(canon, len, canon_hash)) ||
	    (rc = buf_printf(&sts, SIGV4_ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s",
			     scope->date_time, scope->date_time, scope->region,
			     scope->service, canon_hash)) ||
	    (rc = hmac(key, 32, sts.data, sts.len, out)))
		goto out;
	to_hex(out, sizeof out, sig);
out:
	OPENSSL_cleanse(out, sizeof out);
	buf_free(&sts);
	return rc;
}

int sigv4_signature(const sigv4_scope_t *scope, const char *secret_key,
		    const char *canon, size_t len, char sig[SIGV4_HEX_LEN + 1])
{
	unsigned char key[32];
	int rc = sigv4_signing_key(scope, secret_key, key);
	if (!rc)
		rc = sigv4_signature_with_key(scope, key, canon, len, sig);
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

int sigv4_authorization(buf_t *out, const char *access_key_id, const sigv4_scope_t *scope,
			const char *signed_headers, const char *sig)
{
	if (!scope_valid(scope) || !access_key_id || !signed_headers || !sig)
		return LD_EINVAL;
	return buf_printf(out, SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, "
			  "SignedHeaders=%s, Signature=%s", access_key_id, scope->date_time,
			  scope->region, scope->service, signed_headers, sig);
}

int sigv4_sign_request(const sigv4_request_t *req, const sigv4_scope_t *scope,
		       const char *access_key_id, const char *secret_key, buf_t *authorization)
{
	int rc;
	char sig[SIGV4_HEX_LEN + 1];
	buf_t canon, names;
	buf_init(&canon, 0);
	buf_init(&names, 0);
	if ((rc = sigv4_canonical_request(req, &canon, &names)) ||
	    (rc = sigv4_signature(scope, secret_key, canon.data, canon.len, sig)))
		goto out;
	rc = sigv4_authorization(authorization, access_key_id, scope, names.data, sig);
out:
	buf_free(&canon);
	buf_free(&names);
	return rc;
}

/* Copies [p, end) into dst (size n) if it is non-empty and fits. */
static int copy_field(char *dst, size_t n, const char *p, const char *end)
{
	size_t len = (size_t)(end - p);
	if (len == 0 || len >= n || memchr(p, '\0', len))
		return LD_EINVAL;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

/* "AKID/YYYYMMDD/region/service/aws4_request" */
static int parse_credential(const char *p, const char *end, sigv4_auth_t *a)
{
	char *dst[4] = { a->access_key_id, a->date, a->region, a->service };
	size_t cap[4] = { sizeof a->access_key_id, sizeof a->date, sizeof a->region,
			  sizeof a->service };
	for (int i = 0; i < 4; i++) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		if (!slash || copy_field(dst[i], cap[i], p, slash))
			return LD_EINVAL;
		p = slash + 1;
	}
	if ((size_t)(end - p) != 12 || memcmp(p, "aws4_request", 12) || strlen(a->date) != 8)
		return LD_EINVAL;
	for (int i = 0; i < 8; i++)
		if (a->date[i] < '0' || a->date[i] > '9')
			return LD_EINVAL;
	return 0;
}

static int parse_signed_headers(const char *p, const char *end, sigv4_auth_t *a)
{
	for (const char *c = p; c < end; c++) {
		int name_char = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				*c == '-' || *c == '_' || *c == '.';
		int sep_ok = *c == ';' && c > p && c + 1 < end && c[1] != ';';
		if (!name_char && !sep_ok)
			return LD_EINVAL;
	}
	return copy_field(a->signed_headers, sizeof a->signed_headers, p, end);
}

static int parse_signature(const char *p, const char *end, sigv4_auth_t *a)
{
	if (end - p != SIGV4_HEX_LEN)
		return LD_EINVAL;
	for (const char *c = p; c < end; c++)
		if (!*c || !strchr(hexdig, *c))
			return LD_EINVAL;
	return copy_field(a->signature, sizeof a->signature, p, end);
}

int sigv4_parse_authorization(const char *header, sigv4_auth_t *out)
{
	static const struct {
		const char *key;
		int (*parse)(const char *, const char *, sigv4_auth_t *);
	} parts[] = {
		{ "Credential=", parse_credential },
		{ "SignedHeaders=", parse_signed_headers },
		{ "Signature=", parse_signature },
	};
	enum { NPARTS = sizeof parts / sizeof parts[0] };
	int seen[NPARTS] = { 0 };
	const size_t alg = strlen(SIGV4_ALGORITHM);

	memset(out, 0, sizeof *out);
	if (!header || strncmp(header, SIGV4_ALGORITHM, alg) || header[alg] != ' ')
		goto bad;
	for (const char *p = header + alg;;) {
		while (*p == ' ')
			p++;
		const char *end = p + strcspn(p, ", ");
		size_t i;
		for (i = 0; i < NPARTS; i++)
			if (!strncmp(p, parts[i].key, strlen(parts[i].key)))
				break;
		if (i == NPARTS || seen[i]++ ||
		    parts[i].parse(p + strlen(parts[i].key), end, out))
			goto bad;
		for (p = end; *p == ' '; p++)
			;
		if (!*p)
			break;
		if (*p++ != ',')
			goto bad;
	}
	if (seen[0] && seen[1] && seen[2])
		return 0;
bad:
	memset(out, 0, sizeof *out);
	return LD_EINVAL;
}

int sigv4_signature_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}
