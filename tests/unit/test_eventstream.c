/*
 * test_eventstream.c - unit tests of util/eventstream: the CRC32 check
 * value, and the spec's PayloadChunk / InvokeComplete test vectors (checked
 * by botocore's parser).
 */
#include "t.h"
#include "util/err.h"
#include "util/eventstream.h"

#include <stdio.h>
#include <stdlib.h>

static void hex(const buf_t *b, char *out)
{
	for (size_t i = 0; i < b->len; i++)
		sprintf(out + 2 * i, "%02x", (unsigned char)b->data[i]);
	out[2 * b->len] = '\0';
}

static void test_crc32(void)
{
	CHECK(es_crc32(0, "123456789", 9) == 0xCBF43926u);
	CHECK(es_crc32(es_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
	CHECK(es_crc32(0, "", 0) == 0);
}

static void test_vectors(void)
{
	char h[1024];
	buf_t b;
	buf_init(&b, 0);
	CHECK(es_payload_chunk(&b, "hi", 2) == 0);
	hex(&b, h);
	CHECK_STR(h, "0000006c0000005ab25efdcf0b3a6576656e742d7479706507000c5061796c6f61644368756e6b0d3a636f6e74656e"
		     "742d747970650700186170706c69636174696f6e2f6f637465742d73747265616d0d3a6d6573736167652d747970"
		     "650700056576656e7468691162e469");
	buf_reset(&b);
	CHECK(es_invoke_complete(&b, "{}") == 0);
	hex(&b, h);
	CHECK_STR(h, "00000066000000541f56c8690b3a6576656e742d7479706507000e496e766f6b65436f6d706c6574650d3a636f6e74"
		     "656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d74797065070005657665"
		     "6e747b7d7006d467");
	buf_free(&b);
}

static void test_limits(void)
{
	buf_t b;
	buf_init(&b, 64);
	CHECK(es_payload_chunk(&b, "hi", 2) == LD_ETOOBIG);
	CHECK(b.len == 0);
	char name[300];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	struct es_header hd = { name, "v" };
	buf_init(&b, 0);
	CHECK(es_message(&b, &hd, 1, "", 0) == LD_EINVAL);
	buf_free(&b);
}

int main(void)
{
	T_RUN(test_crc32);
	T_RUN(test_vectors);
	T_RUN(test_limits);
	return t_done("test_eventstream");
}
