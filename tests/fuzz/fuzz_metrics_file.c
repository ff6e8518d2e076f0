/*
 * fuzz_metrics_file.c - libFuzzer harness for the metrics file
 * (DATA/metrics.json, metrics/metrics.c's metrics_load_doc).
 *
 * Any JSON document is taken or refused (LD_ECORRUPT) without a sanitizer
 * report; what was taken answers a query and renders as Prometheus text.
 * Replayed over tests/fuzz/corpus/metrics_file.
 */
#include "metrics/metrics.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void agg_cb(void *ud, const struct metrics_agg *a)
{
	(void)metrics_percentile(a, 99);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	metrics_t *m = NULL;
	if (!doc)
		return 0;
	if (metrics_open(NULL, 64, &m) == 0) {
		(void)metrics_load_doc(m, doc);
		const char *names[] = { "FunctionName" }, *values[] = { "f" };
		(void)metrics_query(m, "a:b", M_DURATION, 1, names, values, 0, INT64_MAX / 2, 60, agg_cb, NULL);
		buf_t out;
		buf_init(&out, 1 << 22);
		(void)metrics_prometheus(m, &out);
		buf_free(&out);
		metrics_close(m);
	}
	json_decref(doc);
	return 0;
}
