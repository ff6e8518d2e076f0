/*
 * fuzz_awsquery.c - libFuzzer harness for the query protocol's form bodies
 * (util/awsquery.c, CloudWatch for the AWS CLI v2).
 *
 * Any input decodes into a document or is refused, and a decoded document
 * renders as XML, without a sanitizer report. Replayed over
 * tests/fuzz/corpus/awsquery.
 */
#include "util/awsquery.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ts[] = { "StartTime", NULL }, *const maps[] = { "Dimensions", NULL };
	json_t *v = NULL;
	if (awsquery_decode((const char *)data, size, &v) != 0)
		return 0;
	buf_t out;
	buf_init(&out, 1 << 20);
	(void)awsquery_xml(&out, "urn:x", "Fuzz", v, "id", ts, maps);
	buf_free(&out);
	json_decref(v);
	return 0;
}
