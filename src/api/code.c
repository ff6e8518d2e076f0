/*
 * code.c - the download behind GetFunction's Code.Location.
 *
 * GET /_lambdad/code/<sha256>.zip?X-Amz-Expires=T&X-Amz-Signature=S returns
 * exactly the stored zip while T (epoch seconds) has not passed and S is the
 * HMAC that api_code_location() computed with the server's URL key, as a
 * presigned S3 URL would. Anything else is 403, with S3's AccessDenied body.
 */
#include "api/api.h"
#include "blobs/blobs.h"
#include "loop.h"
#include "util/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_URL_TTL_S 600

/* HMAC-SHA256(url_key, "<hex>:<expires>") as 64 hex digits. The last result
 * is remembered: GetFunction of one function within a second signs the same
 * message again. */
static void sign(server_t *srv, const char *hex, long long expires, char sig[65])
{
	static char last_hex[65], last_sig[65];
	static long long last_expires;
	static const unsigned char *last_key;
	if (last_key == srv->url_key && last_expires == expires && !strcmp(last_hex, hex)) {
		memcpy(sig, last_sig, 65);
		return;
	}
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[32];
	unsigned int maclen = 0;
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "%s:%lld", hex, expires);
	HMAC(EVP_sha256(), srv->url_key, sizeof(srv->url_key), (unsigned char *)msg, (size_t)n, mac, &maclen);
	for (unsigned i = 0; i < 32; i++) {
		sig[2 * i] = digits[mac[i] >> 4];
		sig[2 * i + 1] = digits[mac[i] & 15];
	}
	sig[64] = '\0';
	snprintf(last_hex, sizeof(last_hex), "%s", hex);
	memcpy(last_sig, sig, 65);
	last_expires = expires;
	last_key = srv->url_key;
}

void api_code_location(req_t *r, const char *hex, char *out, size_t n)
{
	char sig[65], fallback[300];
	long long expires = (long long)(loop_wall_ms() / 1000) + CODE_URL_TTL_S;
	sign(r->srv, hex, expires, sig);
	const char *host = r->host;
	if (!host) {
		snprintf(fallback, sizeof(fallback), "%s:%d", r->srv->listen_host, r->srv->listen_port);
		host = fallback;
	}
	snprintf(out, n, "http://%s/_lambdad/code/%s.zip?X-Amz-Expires=%lld&X-Amz-Signature=%s", host, hex,
		 expires, sig);
}

static int check(server_t *srv, const char *hex, long long expires, const char *sig)
{
	char want[65];
	if (expires < loop_wall_ms() / 1000 || strlen(sig) != 64)
		return LD_EINVAL;
	sign(srv, hex, expires, want);
	return CRYPTO_memcmp(want, sig, 64) == 0 ? 0 : LD_EINVAL;
}

static void deny(req_t *r)
{
	r->status = 403;
	r->content_type = "application/xml";
	buf_puts(&r->raw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
			  "<Message>Request has expired or the signature does not match</Message></Error>");
}

int api_download_code(req_t *r)
{
	char hex[65];
	const char *name = r->path + strlen("/_lambdad/code/");
	const char *exp = req_query(r, "X-Amz-Expires");
	const char *sig = req_query(r, "X-Amz-Signature");
	if (strlen(name) != 68 || strcmp(name + 64, ".zip") != 0 || !exp || !sig) {
		deny(r);
		return 0;
	}
	memcpy(hex, name, 64);
	hex[64] = '\0';
	if (check(r->srv, hex, strtoll(exp, NULL, 10), sig)) {
		deny(r);
		return 0;
	}
	void *data = NULL;
	size_t len = 0;
	int rc = blobs_read(r->srv->blobs, hex, &data, &len);
	if (rc == LD_ENOTFOUND) {
		deny(r);
		return 0;
	}
	if (rc)
		return rc;
	buf_init(&r->raw, 0);
	rc = buf_append(&r->raw, data, len);
	free(data);
	r->status = 200;
	r->content_type = "application/zip";
	return rc;
}
