/*
 * code.c - the download behind GetFunction's Code.Location.
 *
 * GET /_lambdad/code/<sha256>.zip?X-Amz-Expires=T&X-Amz-Signature=S returns
 * exactly the stored zip while T (epoch seconds) has not passed and S is the
 * HMAC that functions.c computed with the server's URL key, as a presigned
 * S3 URL would. Anything else is 403, with S3's AccessDenied body.
 */
#include "api/api.h"
#include "blobs/blobs.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_download_code_check(server_t *srv, const char *hex, long long expires, const char *sig);

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
	if (api_download_code_check(r->srv, hex, strtoll(exp, NULL, 10), sig)) {
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
