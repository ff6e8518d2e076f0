/*
 * fuzz_zip.c - libFuzzer harness for a function's code zip, taken the way
 * lambdad takes one: zip_scan first (what intake, api/code.c, calls on an
 * upload) and, when that accepts the archive, zip_extract (what exec/launch.c
 * calls before a cold start) into a scratch directory "root" below a fresh
 * temporary directory, which is removed afterwards. So the extraction path
 * (walking names one component at a time, symlink refusal, the size cap,
 * modes) is fuzzed, not only the parser.
 *
 * Any input must give (abort() otherwise, besides any sanitizer report):
 *   - from zip_scan 0 or a documented LD_E* code, and on 0 an unzipped size
 *     within the cap;
 *   - for an archive zip_scan accepted, from zip_extract 0 or LD_EUNSAFE (an
 *     entry through a symlink or a file of an earlier entry, which zip_scan
 *     cannot see): intake must not accept what a cold start cannot unpack;
 *   - nothing written beside "root" in the temporary directory;
 *   - inside "root" only directories (0755), regular files (0644 or 0755)
 *     and symlinks, their bytes within the cap.
 * Caps are 8 MB here, not AWS's 250 MB (quotas.h), to keep each run short.
 *
 * libFuzzer (make fuzz-run) prints a counter line at exit, "fuzz_zip: N
 * inputs, S accepted by zip_scan, E extracted, U refused while extracting",
 * which shows that extraction is reached. tests/fuzz/replay_main.c replays
 * tests/fuzz/corpus/zip with the same checks (without the line). Temporary
 * directories go under $TMPDIR (default /tmp).
 */
#include "blobs/zip.h"
#include "util/err.h"
#include "util/file.h"

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CAP (8u * 1024 * 1024)

/* the harness's own counters (a test program, not lambdad's state) */
static struct {
	unsigned long inputs, accepted, extracted, refused;
	uint64_t bytes; /* of the tree being checked */
	int bad;        /* the tree being checked broke a rule */
} st;

static void print_counts(void)
{
	fprintf(stderr, "fuzz_zip: %lu inputs, %lu accepted by zip_scan, %lu extracted, %lu refused while extracting\n",
		st.inputs, st.accepted, st.extracted, st.refused);
}

/* libFuzzer calls this once (replay_main does not, so replay output stays as it is) */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	atexit(print_counts);
	return 0;
}

static int check_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	mode_t m = sb->st_mode & 07777;

	if (S_ISDIR(sb->st_mode))
		st.bad |= m != 0755;
	else if (S_ISREG(sb->st_mode))
		st.bad |= (m != 0644 && m != 0755), st.bytes += (uint64_t)sb->st_size;
	else if (S_ISLNK(sb->st_mode))
		st.bytes += (uint64_t)sb->st_size;
	else
		st.bad = 1;
	return 0;
}

/* 1 when tmp holds exactly one entry, "root" */
static int only_root(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	int n = 0, ok = 1;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		ok &= !strcmp(e->d_name, "root");
	}
	closedir(d);
	return ok && n == 1;
}

static void extract(const uint8_t *data, size_t size)
{
	const char *base = getenv("TMPDIR");
	char tmp[PATH_MAX], root[PATH_MAX];
	int rc;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s/fuzz_zip.XXXXXX", base && *base ? base : "/tmp") >= sizeof tmp)
		return; /* the machine, not the input */
	if (!mkdtemp(tmp))
		return;
	if ((size_t)snprintf(root, sizeof root, "%s/root", tmp) >= sizeof root ||
	    mkdir(root, 0755) < 0 || chmod(root, 0755) < 0) /* whatever the umask */
		goto out;
	rc = zip_extract(data, size, root, CAP);
	if (rc == 0)
		st.extracted++;
	else if (rc == LD_EUNSAFE)
		st.refused++;
	else
		abort(); /* accepted at intake, cannot be unpacked */
	if (!only_root(tmp))
		abort(); /* something was written outside root */
	if (rc == 0) {
		st.bytes = 0;
		st.bad = 0;
		if (nftw(root, check_one, 16, FTW_PHYS) != 0)
			abort();
		if (st.bad || st.bytes > CAP)
			abort();
	}
out:
	if (file_rm_rf(tmp) != 0)
		abort(); /* a tree we cannot remove: a mode broke the rules */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zip_info_t info;
	int rc = zip_scan(data, size, CAP, &info);

	st.inputs++;
	if (rc != 0 && rc != LD_ECORRUPT && rc != LD_ETOOBIG && rc != LD_EUNSAFE && rc != LD_ENOMEM)
		abort();
	if (rc == 0) {
		if (info.unzipped_bytes > CAP)
			abort();
		st.accepted++;
		extract(data, size);
	}
	return 0;
}
