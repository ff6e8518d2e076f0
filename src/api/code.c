/*
 * code.c - function and layer code: taking it in, and giving it back.
 *
 * Intake (code_take): the code of CreateFunction, UpdateFunctionCode and
 * PublishLayerVersion comes as a base64 ZipFile, as an S3 object (a
 * SigV4-signed GetObject to --aws-endpoint-url / AWS_ENDPOINT_URL[_S3]), or
 * as an ImageUri. A zip is checked (50 MB zipped, 250 MB really unzipped,
 * no entry that escapes its directory) and stored once in the
 * content-addressed blob store under its SHA-256; the document gets
 * CodeSha256, CodeSize and the internal _CodeHex and _UnzippedSize. Errors
 * are AWS's, with AWS's texts.
 *
 * Download: GET /_lambdad/code/<sha256>.zip?X-Amz-Expires=T&X-Amz-Signature=S returns
 * exactly the stored zip while T (epoch seconds) has not passed and S is the
 * HMAC that api_code_location() computed with the server's URL key, as a
 * presigned S3 URL would. Anything else is 403, with S3's AccessDenied body.
 */
#include "api/code.h"
#include "api/api.h"
#include "aws/s3.h"
#include "blobs/blobs.h"
#include "blobs/zip.h"
#include "model/apierr.h"
#include "quotas.h"
#include "util/base64.h"
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

void code_location(req_t *r, const char *hex, char *out, size_t n)
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

/* ---- intake ---- */

const char *code_image_digest(const char *uri)
{
	const char *d = uri ? strstr(uri, "@sha256:") : NULL;
	if (!d)
		return NULL;
	d += 8;
	if (strspn(d, "0123456789abcdef") != 64 || d[64])
		return NULL;
	return d;
}

static int fetch_s3(req_t *r, json_t *code, buf_t *out)
{
	s3_config_t c;
	s3_error_t e;
	memset(&e, 0, sizeof(e));
	s3_config_from_env(&c, r->srv->aws_endpoint, r->region);
	int rc = s3_get_object(&c, json_string_value(json_object_get(code, "S3Bucket")),
			       json_string_value(json_object_get(code, "S3Key")),
			       json_string_value(json_object_get(code, "S3ObjectVersion")), QUOTA_ZIP, out, &e);
	if (rc == LD_ETOOBIG)
		return apierr_set(r, "RequestEntityTooLargeException", "Zipped size must be smaller than %u bytes",
				  QUOTA_ZIP);
	if (rc)
		return apierr_set(r, "InvalidParameterValueException",
				  "Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s",
				  e.code[0] ? e.code : "ServiceUnavailable",
				  e.message[0] ? e.message : "The S3 endpoint could not be reached");
	return 0;
}

int code_take(req_t *r, json_t *code, json_t *cfg)
{
	unsigned char *zip = NULL;
	size_t len = 0;
	buf_t s3;
	int rc;
	buf_init(&s3, QUOTA_ZIP);
	json_t *zf = json_object_get(code, "ZipFile");
	const char *image = json_string_value(json_object_get(code, "ImageUri"));
	if (json_is_string(zf)) {
		rc = b64_decode(json_string_value(zf), json_string_length(zf), &zip, &len);
		if (rc == LD_EINVAL) {
			rc = apierr_set(r, "InvalidParameterValueException",
					"Could not unzip uploaded file. Please check your file, then try to upload again.");
			goto out;
		}
		if (rc)
			goto out;
	} else if (json_object_get(code, "S3Bucket") || json_object_get(code, "S3Key")) {
		if (!json_object_get(code, "S3Bucket") || !json_object_get(code, "S3Key")) {
			rc = apierr_set(r, "InvalidParameterValueException",
					"Please provide a source for function code.");
			goto out;
		}
		if ((rc = fetch_s3(r, code, &s3)))
			goto out;
		zip = (unsigned char *)buf_steal(&s3, &len);
	} else if (image) {
		/* AWS reports the image's digest; lambdad knows it only when the
		 * URI names it (it does not pull images yet) */
		char digest[45];
		const char *pinned = code_image_digest(image);
		if (!pinned)
			blobs_digest(image, strlen(image), NULL, digest);
		json_object_set_new(cfg, "CodeSha256", json_string(pinned ? pinned : digest));
		json_object_set_new(cfg, "CodeSize", json_integer(0));
		json_object_set_new(cfg, "_ImageUri", json_string(image));
		/* pulled again (a tag may have moved): the settle service pulls it */
		json_object_del(cfg, "_ImageResolved");
		json_object_del(cfg, "_ImageDigest");
		json_object_del(cfg, "_ImageLayers");
		json_object_del(cfg, "_ImageConfig");
		rc = 0;
		goto out;
	} else {
		rc = apierr_set(r, "InvalidParameterValueException", "Please provide a source for function code.");
		goto out;
	}
	if (len > QUOTA_ZIP) {
		rc = apierr_set(r, "RequestEntityTooLargeException", "Zipped size must be smaller than %u bytes",
				QUOTA_ZIP);
		goto out;
	}
	zip_info_t info;
	rc = zip_scan(zip, len, QUOTA_UNZIPPED, &info);
	if (rc == LD_ETOOBIG) {
		rc = apierr_set(r, "InvalidParameterValueException", "Unzipped size must be smaller than %u bytes",
				QUOTA_UNZIPPED);
		goto out;
	}
	if (rc) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"Could not unzip uploaded file. Please check your file, then try to upload again.");
		goto out;
	}
	char hex[65], b64[45];
	blobs_digest(zip, len, hex, b64);
	if ((rc = blobs_put(r->srv->blobs, zip, len, hex)))
		goto out;
	json_object_set_new(cfg, "CodeSha256", json_string(b64));
	json_object_set_new(cfg, "CodeSize", json_integer((json_int_t)len));
	json_object_set_new(cfg, "_CodeHex", json_string(hex));
	json_object_set_new(cfg, "_UnzippedSize", json_integer((json_int_t)info.unzipped_bytes));
	json_object_del(cfg, "_ImageUri");
	json_object_del(cfg, "_ImageResolved");
	json_object_del(cfg, "_ImageDigest");
	json_object_del(cfg, "_ImageLayers");
	json_object_del(cfg, "_ImageConfig");
out:
	free(zip);
	buf_free(&s3);
	return rc;
}
