/*
 * fuzz_zip.c - libFuzzer harness for zip_scan: any bytes must come back as
 * 0 or an LD_E* code, within the cap, without a sanitizer report. Run by
 * libFuzzer (make fuzz) or replayed over tests/fuzz/corpus/zip by
 * tests/fuzz/replay_main.c.
 */
#include "blobs/zip.h"
#include "util/err.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t cap = 8 * 1024 * 1024;
	zip_info_t info;
	int rc = zip_scan(data, size, cap, &info);

	if (rc > 0 || (rc == 0 && info.unzipped_bytes > cap))
		abort();
	return 0;
}
