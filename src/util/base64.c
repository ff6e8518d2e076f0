/*
 * base64.c - standard base64 on OpenSSL's block codec (base64.h).
 *
 * EVP_DecodeBlock decodes whole 4-character groups and counts '=' padding
 * as zero bytes; the padding is taken off here, and input whose length is
 * not a multiple of 4 is refused before it is looked at.
 */
#include "util/base64.h"
#include "util/err.h"

#include <openssl/evp.h>
#include <stdlib.h>

size_t b64_encode_to(char *out, const void *data, size_t n)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)n);
}

char *b64_encode(const void *data, size_t n)
{
	char *out = malloc(B64_ENCODED_LEN(n) + 1);
	if (out)
		b64_encode_to(out, data, n);
	return out;
}

int b64_decode_to(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
	if (n % 4 || n > (size_t)1 << 30)
		return LD_EINVAL;
	if (n >= 3 && s[n - 3] == '=')
		return LD_EINVAL; /* at most two '=', at the end (the codec checks the rest) */
	if (n / 4 * 3 > cap)
		return LD_ETOOBIG;
	int len = n ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : 0;
	if (len < 0)
		return LD_EINVAL;
	len -= (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
	if (len < 0)
		return LD_EINVAL;
	if ((size_t)len < cap)
		out[len] = '\0';
	*outlen = (size_t)len;
	return 0;
}

int b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	if (n % 4 || n > (size_t)1 << 30)
		return LD_EINVAL;
	unsigned char *p = malloc(n / 4 * 3 + 1);
	if (!p)
		return LD_ENOMEM;
	int rc = b64_decode_to(s, n, p, n / 4 * 3 + 1, outlen);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}
