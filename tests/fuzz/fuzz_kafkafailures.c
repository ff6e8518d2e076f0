/*
 * fuzz_kafkafailures.c - libFuzzer harness for what a Kafka mapping's
 * function answers under ReportBatchItemFailures (pollers/kafkasrc.c,
 * kafkasrc_failures): the input is the function's response; against a
 * fixed event of two partitions it must give NULL or an object whose every
 * member is one of the event's partitions with one of its offsets, without
 * a sanitizer report. Replayed over tests/fuzz/corpus/kafkafailures by
 * tests/fuzz/replay_main.c.
 */
#include "pollers/kafkasrc.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *recs = json_pack("{s:[{s:i},{s:i}],s:[{s:i}]}", "t-0", "offset", 5, "offset", 6, "t-1", "offset", 0);
	if (!recs)
		return 0;
	json_t *f = kafkasrc_failures((const char *)data, size, recs);
	const char *k;
	json_t *v;
	json_object_foreach(f, k, v) {
		json_int_t o = json_integer_value(v);
		if (!json_object_get(recs, k) || !(o == 5 || o == 6 || o == 0))
			abort();
	}
	json_decref(f);
	json_decref(recs);
	return 0;
}
