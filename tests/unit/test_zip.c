/*
 * test_zip.c - zip_scan and zip_extract on zips built at run time: by the
 * `zip` command for an ordinary package, by libarchive's writer (plus a few
 * byte patches) for the hostile ones the zip command would not produce.
 * Every destination lives directly under one temporary base directory, and
 * the last test checks that nothing else ever appeared there.
 */
#include "blobs/zip.h"
#include "quotas.h"
#include "util/err.h"
#include "t.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MB (1024 * 1024)

static char base[] = "/tmp/test_zip.XXXXXX";

typedef struct ent {
	const char *name;
	mode_t type;      /* AE_IFREG, AE_IFDIR or AE_IFLNK; 0 means AE_IFREG */
	mode_t perm;      /* 0 means 0644 */
	const char *text; /* file data, or link target */
	size_t zeros;     /* file data of this many zero bytes instead */
} ent_t;

/* An archive built in memory by libarchive's writer. Caller frees. */
static unsigned char *build(int (*format)(struct archive *), const ent_t *ents,
			    size_t n, size_t *len)
{
	static const char zero[65536];
	size_t cap = 4 * MB;
	unsigned char *out = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	format(a);
	archive_write_open_memory(a, out, cap, len);
	for (size_t i = 0; i < n; i++) {
		mode_t type = ents[i].type ? ents[i].type : AE_IFREG;
		size_t size = ents[i].zeros ? ents[i].zeros
			      : type == AE_IFREG && ents[i].text ? strlen(ents[i].text) : 0;

		archive_entry_clear(e);
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_filetype(e, type);
		archive_entry_set_perm(e, ents[i].perm ? ents[i].perm : type == AE_IFDIR ? 0755 : 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		if (type == AE_IFLNK)
			archive_entry_set_symlink(e, ents[i].text);
		CHECK(archive_write_header(a, e) == ARCHIVE_OK);
		for (size_t left = ents[i].zeros; left > 0;) {
			size_t k = left < sizeof zero ? left : sizeof zero;
			archive_write_data(a, zero, k);
			left -= k;
		}
		if (type == AE_IFREG && ents[i].text)
			archive_write_data(a, ents[i].text, size);
	}
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	return out;
}

static unsigned char *build_zip(const ent_t *ents, size_t n, size_t *len)
{
	return build(archive_write_set_format_zip, ents, n, len);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = malloc(4 * MB);

	*len = f ? fread(p, 1, 4 * MB, f) : 0;
	if (f)
		fclose(f);
	return p;
}

/* A new empty destination directory base/name; returns a static path. */
static const char *dest(const char *name)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/%s", base, name);
	CHECK(mkdir(path, 0755) == 0);
	return path;
}

static int exists(const char *dir, const char *rel)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	return lstat(path, &st) == 0 ? st.st_mode : 0;
}

static const char *read_text(const char *dir, const char *rel)
{
	static char text[256];
	char path[1024];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	if ((f = fopen(path, "r"))) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

static const char *link_of(const char *dir, const char *rel)
{
	static char target[256];
	char path[1024];
	ssize_t n;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	n = readlink(path, target, sizeof target - 1);
	target[n < 0 ? 0 : n] = '\0';
	return target;
}

/* Sets the unix file type and mode of the first central directory entry. */
static void patch_mode(unsigned char *zip, size_t len, unsigned mode)
{
	unsigned char *cd = memmem(zip, len, "PK\1\2", 4);

	CHECK(cd != NULL);
	if (cd) {
		cd[40] = mode & 0xff;
		cd[41] = mode >> 8;
	}
}

static void test_normal_package(void)
{
	char cmd[1024], zpath[64];
	unsigned char *zip;
	size_t len;
	zip_info_t info;
	const char *out;

	snprintf(zpath, sizeof zpath, "%s/pkg.zip", base);
	snprintf(cmd, sizeof cmd,
		 "set -e; cd %s && mkdir -p src/lib/a/b && cd src && "
		 "printf '#!/bin/sh\\necho hi\\n' > bootstrap && chmod 755 bootstrap && "
		 "printf 'data' > lib/a/b/data.txt && chmod 644 lib/a/b/data.txt && "
		 "printf 's' > suid && chmod 4755 suid && "
		 "printf 'p' > private && chmod 600 private && "
		 "ln -s a/b/data.txt lib/link && zip -qry ../pkg.zip .",
		 base);
	CHECK(system(cmd) == 0);
	zip = slurp(zpath, &len);

	CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, &info) == 0);
	CHECK(info.entries == 8); /* 3 dirs, 4 files, 1 link */
	CHECK(info.unzipped_bytes == 18 + 4 + 1 + 1 + strlen("a/b/data.txt"));

	out = dest("out-normal");
	CHECK(zip_extract(zip, len, out, QUOTA_UNZIPPED) == 0);
	CHECK(mode_of(out, "bootstrap") == (S_IFREG | 0755));
	CHECK(mode_of(out, "suid") == (S_IFREG | 0755));
	CHECK(mode_of(out, "private") == (S_IFREG | 0644));
	CHECK(mode_of(out, "lib/a/b/data.txt") == (S_IFREG | 0644));
	CHECK(mode_of(out, "lib/a") == (S_IFDIR | 0755));
	CHECK_STR(read_text(out, "bootstrap"), "#!/bin/sh\necho hi\n");
	CHECK(S_ISLNK(mode_of(out, "lib/link")));
	CHECK_STR(link_of(out, "lib/link"), "a/b/data.txt");
	CHECK_STR(read_text(out, "lib/link"), "data");
	free(zip);
}

static void test_empty_input(void)
{
	static const unsigned char empty[22] = { 'P', 'K', 5, 6 };
	unsigned char commented[26] = { 'P', 'K', 5, 6 };
	zip_info_t info = { 1, 1 };

	CHECK(zip_scan(empty, sizeof empty, QUOTA_UNZIPPED, &info) == 0);
	CHECK(info.entries == 0 && info.unzipped_bytes == 0);
	commented[20] = 4;
	memcpy(commented + 22, "note", 4);
	CHECK(zip_scan(commented, sizeof commented, QUOTA_UNZIPPED, NULL) == 0);
	CHECK(zip_extract(empty, sizeof empty, dest("out-empty"), QUOTA_UNZIPPED) == 0);

	CHECK(zip_scan(empty, 0, QUOTA_UNZIPPED, &info) == LD_ECORRUPT);
	CHECK(zip_scan(empty, 21, QUOTA_UNZIPPED, NULL) == LD_ECORRUPT);
	CHECK(zip_extract(empty, 0, dest("out-zero"), QUOTA_UNZIPPED) == LD_ECORRUPT);
}

static void test_not_a_zip(void)
{
	static const ent_t files[] = { { .name = "a.txt", .text = "hello" } };
	unsigned char junk[4096], *tar;
	size_t len;

	srand(42);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	CHECK(zip_scan(junk, sizeof junk, QUOTA_UNZIPPED, NULL) == LD_ECORRUPT);
	memcpy(junk, "PK\3\4", 4);
	CHECK(zip_scan(junk, sizeof junk, QUOTA_UNZIPPED, NULL) == LD_ECORRUPT);
	CHECK(zip_extract(junk, sizeof junk, dest("out-junk"), QUOTA_UNZIPPED) == LD_ECORRUPT);

	tar = build(archive_write_set_format_pax_restricted, files, 1, &len);
	CHECK(zip_scan(tar, len, QUOTA_UNZIPPED, NULL) == LD_ECORRUPT);
	free(tar);
}

static void test_truncated(void)
{
	static const ent_t files[] = {
		{ .name = "dir/", .type = AE_IFDIR },
		{ .name = "dir/a.txt", .text = "some text that deflates, some text" },
		{ .name = "b.bin", .zeros = 1000 },
	};
	size_t len, bad = 0;
	unsigned char *zip = build_zip(files, 3, &len);

	CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == 0);
	for (size_t cut = 1; cut < len; cut++)
		bad += zip_scan(zip, cut, QUOTA_UNZIPPED, NULL) != LD_ECORRUPT;
	CHECK(bad == 0);
	CHECK(zip_extract(zip, len / 2, dest("out-truncated"), QUOTA_UNZIPPED) == LD_ECORRUPT);
	free(zip);
}

static void test_bad_crc(void)
{
	static const ent_t files[] = { { .name = "a.txt", .text = "checked" } };
	size_t len;
	unsigned char *zip = build_zip(files, 1, &len);
	unsigned char *cd = memmem(zip, len, "PK\1\2", 4);

	CHECK(cd != NULL);
	if (cd)
		cd[16] ^= 0xff; /* the CRC-32 the central directory records */
	CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == LD_ECORRUPT);
	free(zip);
}

static void test_unsafe_names(void)
{
	char abs[600];
	const char *names[] = { "../evil", "a/../../evil", "..", abs, "a\\..\\evil" };

	snprintf(abs, sizeof abs, "%s/abs-evil", base);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		ent_t ents[] = { { .name = "ok.txt", .text = "ok" },
				 { .name = names[i], .text = "pwned" } };
		size_t len;
		unsigned char *zip = build_zip(ents, 2, &len);
		char name[32];

		snprintf(name, sizeof name, "out-name%zu", i);
		CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == LD_EUNSAFE);
		CHECK(zip_extract(zip, len, dest(name), QUOTA_UNZIPPED) == LD_EUNSAFE);
		free(zip);
	}
	CHECK(!exists(base, "evil") && !exists(base, "abs-evil"));
}

static void test_symlinks(void)
{
	static const struct { const char *name, *target; int ok; } links[] = {
		{ "l", "/etc/passwd", 0 },
		{ "a/l", "../../x", 0 },
		{ "l", "../x", 0 },
		{ "a/l", "b/../..", 0 },
		{ "a/l", "..\\x", 0 },
		{ "bin/tool", "../lib/tool", 1 },
		{ "a/b/c", "../../x", 1 },
		{ "l", "lib", 1 },
	};

	for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
		ent_t ents[] = { { .name = links[i].name, .type = AE_IFLNK,
				   .perm = 0777, .text = links[i].target } };
		int want = links[i].ok ? 0 : LD_EUNSAFE;
		size_t len;
		unsigned char *zip = build_zip(ents, 1, &len);
		char name[32];
		const char *out;

		snprintf(name, sizeof name, "out-link%zu", i);
		out = dest(name);
		CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == want);
		CHECK(zip_extract(zip, len, out, QUOTA_UNZIPPED) == want);
		if (links[i].ok)
			CHECK_STR(link_of(out, links[i].name), links[i].target);
		free(zip);
	}
}

static void test_write_through_link(void)
{
	static const ent_t via_dir[] = {
		{ .name = "sub/", .type = AE_IFDIR },
		{ .name = "d", .type = AE_IFLNK, .perm = 0777, .text = "sub" },
		{ .name = "d/f", .text = "through" },
	};
	static const ent_t over_file[] = {
		{ .name = "t", .text = "orig" },
		{ .name = "f", .type = AE_IFLNK, .perm = 0777, .text = "t" },
		{ .name = "f", .text = "new" },
	};
	size_t len;
	unsigned char *zip = build_zip(via_dir, 3, &len);
	const char *out = dest("out-via");

	CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == 0); /* names alone are fine */
	CHECK(zip_extract(zip, len, out, QUOTA_UNZIPPED) == LD_EUNSAFE);
	CHECK(!exists(out, "sub/f"));
	free(zip);

	zip = build_zip(over_file, 3, &len);
	out = dest("out-over");
	CHECK(zip_extract(zip, len, out, QUOTA_UNZIPPED) == 0);
	CHECK_STR(read_text(out, "t"), "orig");
	CHECK(mode_of(out, "f") == (S_IFREG | 0644));
	CHECK_STR(read_text(out, "f"), "new");
	free(zip);
}

static void test_special_files(void)
{
	static const ent_t one[] = { { .name = "node", .text = "x" } };
	static const unsigned modes[] = { S_IFCHR | 0644, S_IFBLK | 0644, S_IFSOCK | 0644,
					  S_IFIFO | 0644 };

	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		size_t len;
		unsigned char *zip = build_zip(one, 1, &len);
		char name[32];
		const char *out;
		int rc;

		patch_mode(zip, len, modes[i]);
		snprintf(name, sizeof name, "out-special%zu", i);
		out = dest(name);
		rc = zip_extract(zip, len, out, QUOTA_UNZIPPED);
		if (S_ISFIFO(modes[i])) { /* libarchive reads it as a plain file */
			CHECK(rc == LD_EUNSAFE || (rc == 0 && S_ISREG(mode_of(out, "node"))));
		} else {
			CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == LD_EUNSAFE);
			CHECK(rc == LD_EUNSAFE);
			CHECK(!exists(out, "node"));
		}
		free(zip);
	}
}

static void test_utf8_name(void)
{
	static const ent_t one[] = { { .name = "cafXX.txt", .text = "au lait" } };
	size_t len;
	unsigned char *zip = build_zip(one, 1, &len), *p;
	unsigned char *lh = memmem(zip, len, "PK\3\4", 4), *cd = memmem(zip, len, "PK\1\2", 4);
	const char *out;

	/* rename to "café.txt" in both headers and set their UTF-8 flag, bit 11
	 * of the flags at offset 6 (local header) and 8 (central directory) */
	CHECK(lh && cd);
	if (!lh || !cd)
		return;
	lh[7] |= 0x08;
	cd[9] |= 0x08;
	while ((p = memmem(zip, len, "cafXX", 5)))
		memcpy(p, "caf\xc3\xa9", 5);
	CHECK(zip_scan(zip, len, QUOTA_UNZIPPED, NULL) == 0);
	out = dest("out-utf8");
	CHECK(zip_extract(zip, len, out, QUOTA_UNZIPPED) == 0);
	CHECK_STR(read_text(out, "caf\xc3\xa9.txt"), "au lait");
	free(zip);
}

static void test_bomb(void)
{
	static const ent_t bomb[] = { { .name = "zeros", .zeros = 5 * MB } };
	size_t len;
	unsigned char *zip = build_zip(bomb, 1, &len), *cd, *lh;
	zip_info_t info;
	const char *out;
	int rc;

	CHECK(len < 64 * 1024);
	CHECK(zip_scan(zip, len, MB, &info) == LD_ETOOBIG);
	CHECK(info.entries == 0);
	out = dest("out-bomb");
	CHECK(zip_extract(zip, len, out, MB) == LD_ETOOBIG);
	CHECK(mode_of(out, "zeros") != 0);
	{
		struct stat st;
		char path[600];

		snprintf(path, sizeof path, "%s/zeros", out);
		CHECK(stat(path, &st) == 0 && st.st_size <= MB);
	}
	CHECK(zip_scan(zip, len, 8 * MB, &info) == 0);
	CHECK(info.entries == 1 && info.unzipped_bytes == 5 * MB);

	/* the same bomb declaring 10 bytes in both headers */
	cd = memmem(zip, len, "PK\1\2", 4);
	lh = memmem(zip, len, "PK\3\4", 4);
	CHECK(cd && lh);
	if (cd && lh) {
		memcpy(cd + 24, "\12\0\0\0", 4);
		memcpy(lh + 22, "\12\0\0\0", 4);
	}
	rc = zip_scan(zip, len, MB, NULL);
	CHECK(rc == LD_ETOOBIG || rc == LD_ECORRUPT);
	rc = zip_scan(zip, len, 8 * MB, &info);
	CHECK(rc == LD_ECORRUPT || (rc == 0 && info.unzipped_bytes == 5 * MB));
	free(zip);
}

static void test_missing_dest(void)
{
	static const unsigned char empty[22] = { 'P', 'K', 5, 6 };
	char path[600];

	snprintf(path, sizeof path, "%s/no-such-dir", base);
	CHECK(zip_extract(empty, sizeof empty, path, QUOTA_UNZIPPED) == LD_EIO);
}

/* Nothing but the destinations and the test's own src tree and zip. */
static void test_nothing_outside(void)
{
	DIR *d = opendir(base);
	struct dirent *de;

	CHECK(d != NULL);
	while (d && (de = readdir(d))) {
		const char *n = de->d_name;
		int ours = !strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "src") ||
			   !strcmp(n, "pkg.zip") || !strncmp(n, "out-", 4);
		if (!ours)
			fprintf(stderr, "  stray file: %s/%s\n", base, n);
		CHECK(ours);
	}
	if (d)
		closedir(d);
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(base))
		return 1;
	T_RUN(test_normal_package);
	T_RUN(test_empty_input);
	T_RUN(test_not_a_zip);
	T_RUN(test_truncated);
	T_RUN(test_bad_crc);
	T_RUN(test_unsafe_names);
	T_RUN(test_symlinks);
	T_RUN(test_write_through_link);
	T_RUN(test_special_files);
	T_RUN(test_utf8_name);
	T_RUN(test_bomb);
	T_RUN(test_missing_dest);
	T_RUN(test_nothing_outside);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return t_done("zip");
}
