/*
 * fuzz_layer.c - libFuzzer harness for container image layer unpacking
 * (blobs/layer.c): tar (plain, gzip or zstd) with whiteouts, opaque
 * directories, symlinks and hard links, unpacked for real.
 *
 * Each input is written to a file in a scratch directory and unpacked into
 * scratch/dest with a cap of 8 MiB. Whatever the result, nothing may appear
 * in the scratch directory besides the input file and dest (an escape
 * through "..", a symlink or a hard link would put it there: the input
 * names paths like ../escaped and symlinks to ..), and no symlink may have
 * been followed to write outside dest. Any violation aborts. The scratch
 * directory is removed and made again for every input.
 */
#include "blobs/layer.h"
#include "util/err.h"

#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char scratch[64];
	if (!scratch[0])
		snprintf(scratch, sizeof(scratch), "/tmp/lambdad-fuzz-layer-%d", (int)getpid());
	nftw(scratch, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(scratch, 0700) != 0)
		abort();
	char in[128], dest[128];
	snprintf(in, sizeof(in), "%s/layer", scratch);
	snprintf(dest, sizeof(dest), "%s/dest", scratch);
	FILE *f = fopen(in, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if (mkdir(dest, 0755) != 0)
		abort();
	int rc = layer_extract(in, dest, 8u << 20, NULL);
	if (rc != 0 && rc != LD_ECORRUPT && rc != LD_ETOOBIG && rc != LD_EUNSAFE && rc != LD_EIO)
		abort();
	DIR *d = opendir(scratch);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "layer") &&
		    strcmp(e->d_name, "dest"))
			abort(); /* something escaped */
	if (d)
		closedir(d);
	nftw(scratch, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
