/*
 * fuzz_sigv4.c - libFuzzer harness for SigV4 parsing and verification.
 *
 * The input is read as a small HTTP request: "METHOD path?query\n", then
 * "name: value" header lines, an empty line and the body. Every header value
 * goes through sigv4_parse_authorization(), and the whole request through
 * verify_request() with a key store that knows AKIDEXAMPLE, at a fixed time
 * (2024-03-01T12:00:00Z). Any input must end in 0 or LD_EINVAL with an error
 * named, without a sanitizer report; verify's headers_only check (before
 * the body) must refuse exactly as the full check does, or pass. Replayed over tests/fuzz/corpus/sigv4
 * by tests/fuzz/replay_main.c.
 */
#include "auth/verify.h"
#include "util/err.h"
#include "util/sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 64

typedef struct fz {
	const char *name[MAX_HEADERS];
	const char *value[MAX_HEADERS];
	size_t n;
} fz_t;

static const char *fz_get(void *ctx, const char *name)
{
	fz_t *f = ctx;
	for (size_t i = 0; i < f->n; i++)
		if (!strcasecmp(f->name[i], name))
			return f->value[i];
	return NULL;
}

static void fz_each(void *ctx, void (*fn)(void *, const char *, const char *), void *arg)
{
	fz_t *f = ctx;
	for (size_t i = 0; i < f->n; i++)
		fn(arg, f->name[i], f->value[i]);
}

static int fz_lookup(void *ctx, const char *akid, const char *token, verify_key_t *key)
{
	if (strcmp(akid, "AKIDEXAMPLE"))
		return LD_ENOTFOUND;
	strcpy(key->secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	strcpy(key->account_id, "123456789012");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	size_t textlen = strlen(s); /* the text part ends at a NUL, if any */

	fz_t f = { .n = 0 };
	char *body = s + textlen, *line = s, *nl;
	const char *method = "GET", *path = "/", *query = NULL;
	int first = 1;
	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (first) {
			char *sp = strchr(line, ' ');
			method = line;
			if (sp) {
				*sp = '\0';
				path = sp + 1;
				char *q = strchr(sp + 1, '?');
				if (q) {
					*q = '\0';
					query = q + 1;
				}
			}
			first = 0;
		} else if (!*line) {
			body = nl + 1;
			break;
		} else if (f.n < MAX_HEADERS) {
			char *colon = strchr(line, ':');
			if (colon) {
				*colon = '\0';
				char *v = colon + 1;
				while (*v == ' ')
					v++;
				f.name[f.n] = line;
				f.value[f.n++] = v;
			}
		}
		line = nl + 1;
	}

	for (size_t i = 0; i < f.n; i++) {
		sigv4_auth_t a;
		int rc = sigv4_parse_authorization(f.value[i], &a);
		if (rc != 0 && rc != LD_EINVAL)
			abort();
		if (rc == 0 && (strlen(a.signature) != SIGV4_HEX_LEN || strlen(a.date) != 8))
			abort();
	}

	verify_request_t req = { method, path, query, fz_get, fz_each, &f,
				 body, (size_t)(s + size - body), NULL, 1709294400 };
	verify_opts_t opts = { NULL, NULL, 0, fz_lookup, NULL };
	verify_result_t res;
	int rc = verify_request(&req, &opts, &res);
	if (rc == LD_EINVAL && (!res.error || res.status != 403 || !res.message[0]))
		abort();
	if (rc == 0 && (res.error || strcmp(res.account_id, "123456789012")))
		abort();
	if (rc != 0 && rc != LD_EINVAL && rc != LD_ENOMEM && rc != LD_ETOOBIG)
		abort();
	/* the check before the body (headers_only) refuses nothing the full
	 * check accepts, and what it refuses the full check refuses alike */
	verify_result_t pre;
	opts.headers_only = 1;
	int prc = verify_request(&req, &opts, &pre);
	if (rc == 0 && prc != 0)
		abort();
	if (prc == LD_EINVAL && (rc != LD_EINVAL || strcmp(pre.error, res.error) || strcmp(pre.message, res.message)))
		abort();
	free(s);
	return 0;
}
