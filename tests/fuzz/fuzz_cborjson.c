/*
 * fuzz_cborjson.c - libFuzzer harness for CBOR request bodies (util/cborjson.c,
 * CloudWatch's rpc-v2-cbor protocol).
 *
 * Any input decodes into a document or is refused (LD_EINVAL), without a
 * sanitizer report or a deep recursion; a decoded document encodes again
 * and decodes to an equal one. Replayed over tests/fuzz/corpus/cborjson.
 */
#include "util/cborjson.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL, *back = NULL;
	unsigned char *cb = NULL;
	size_t len = 0;
	if (cborjson_decode(data, size, &v) != 0)
		return 0;
	if (cborjson_encode(v, NULL, &cb, &len) == 0 && cborjson_decode(cb, len, &back) == 0 && !json_equal(v, back))
		abort();
	free(cb);
	json_decref(back);
	json_decref(v);
	return 0;
}
