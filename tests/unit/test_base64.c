/*
 * test_base64.c - unit tests of util/base64: RFC 4648's test vectors both
 * ways, padding taken off, strictness about length and alphabet, the
 * bounded decode, and binary data with NULs.
 */
#include "t.h"
#include "util/base64.h"
#include "util/err.h"

#include <stdlib.h>

static const char *const vectors[][2] = {
	{ "", "" },         { "f", "Zg==" },         { "fo", "Zm8=" },         { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char *enc = b64_encode(vectors[i][0], strlen(vectors[i][0]));
		CHECK_STR(enc, vectors[i][1]);
		CHECK(strlen(enc) == B64_ENCODED_LEN(strlen(vectors[i][0])));
		free(enc);
		unsigned char *dec = NULL;
		size_t n = 99;
		CHECK(b64_decode(vectors[i][1], strlen(vectors[i][1]), &dec, &n) == 0);
		CHECK(n == strlen(vectors[i][0]));
		CHECK_STR((char *)dec, vectors[i][0]);
		free(dec);
	}
}

static void test_strict(void)
{
	unsigned char *dec = NULL;
	size_t n;
	CHECK(b64_decode("Zm9", 3, &dec, &n) == LD_EINVAL);   /* length not a multiple of 4 */
	CHECK(b64_decode("Zm9*", 4, &dec, &n) == LD_EINVAL);  /* outside the alphabet */
	CHECK(b64_decode("Z===", 4, &dec, &n) == LD_EINVAL);
	CHECK(dec == NULL);
}

static void test_bounded_and_binary(void)
{
	const unsigned char bin[] = { 0, 1, 2, 0, 255, 254 };
	char enc[B64_ENCODED_LEN(sizeof(bin)) + 1];
	CHECK(b64_encode_to(enc, bin, sizeof(bin)) == 8);
	unsigned char out[16];
	size_t n = 0;
	CHECK(b64_decode_to(enc, 8, out, sizeof(out), &n) == 0);
	CHECK(n == sizeof(bin) && !memcmp(out, bin, n));
	CHECK(b64_decode_to(enc, 8, out, 5, &n) == LD_ETOOBIG);
}

int main(void)
{
	T_RUN(test_vectors);
	T_RUN(test_strict);
	T_RUN(test_bounded_and_binary);
	return t_done("test_base64");
}
