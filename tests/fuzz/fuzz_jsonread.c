/*
 * fuzz_jsonread.c - libFuzzer harness for util/jsonread.c, differential:
 * whenever jsonread_object reads the input, jansson (json_loadb with
 * JSON_REJECT_DUPLICATES, as router.c reads bodies) must read it too, to an
 * equal tree with the same key order and the same integer / real kinds;
 * any disagreement aborts. Replayed over tests/fuzz/corpus/jsonread by
 * tests/fuzz/replay_main.c.
 */
#include "util/jsonread.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* equal, with object keys in the same order and numbers of the same kind */
static int same(json_t *a, json_t *b)
{
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a)) {
		void *ia = json_object_iter(a), *ib = json_object_iter(b);
		for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib))
			if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) ||
			    !same(json_object_iter_value(ia), json_object_iter_value(ib)))
				return 0;
		return !ia && !ib;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *fast = jsonread_object((const char *)data, size);
	if (!fast)
		return 0;
	json_error_t err;
	json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	if (!ref || !same(fast, ref))
		abort();
	json_decref(ref);
	json_decref(fast);
	return 0;
}
