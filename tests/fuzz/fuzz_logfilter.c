/*
 * fuzz_logfilter.c - libFuzzer harness for CloudWatch Logs filter patterns
 * (util/logfilter.c).
 *
 * The input's first line is the pattern, the rest the log event's message.
 * Any pattern must compile or be refused (LD_EINVAL, LD_ETOOBIG), and any
 * message must match or not, without a sanitizer report. Replayed over
 * tests/fuzz/corpus/logfilter by tests/fuzz/replay_main.c.
 */
#include "util/logfilter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - (const char *)data) : size;
	char *pattern = malloc(plen + 1);
	if (!pattern)
		return 0;
	memcpy(pattern, data, plen);
	pattern[plen] = 0;
	logfilter_t *f = NULL;
	if (logfilter_compile(pattern, &f) == 0) {
		const char *msg = nl ? nl + 1 : "";
		size_t mlen = nl ? size - plen - 1 : 0;
		(void)logfilter_match(f, msg, mlen);
		logfilter_free(f);
	}
	free(pattern);
	return 0;
}
