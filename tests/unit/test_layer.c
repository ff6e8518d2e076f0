/*
 * test_layer.c - unit tests of blobs/layer.c: tars written here (ustar by
 * hand) are unpacked and the result checked: files and modes, symlinks
 * left unfollowed, hard links, whiteouts as overlayfs's 0:0 character
 * devices, opaque directories as the trusted.overlay.opaque xattr, and
 * the refusal of "..", of writing through a symlink and of hard links
 * outside the layer.
 */
#include "blobs/layer.h"
#include "t.h"
#include "util/err.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct entry {
	const char *name;
	char type;         /* '0' file, '5' dir, '2' symlink, '1' hard link */
	const char *data;  /* file content, or link target */
	unsigned mode;
};

/* a ustar archive of the entries into path */
static void write_tar(const char *path, const struct entry *e, int n)
{
	FILE *f = fopen(path, "w");
	for (int i = 0; i < n; i++) {
		char h[512];
		memset(h, 0, sizeof(h));
		snprintf(h, 100, "%s", e[i].name);
		snprintf(h + 100, 8, "%07o", e[i].mode);
		snprintf(h + 108, 8, "%07o", 0);
		snprintf(h + 116, 8, "%07o", 0);
		size_t size = e[i].type == '0' ? strlen(e[i].data) : 0;
		snprintf(h + 124, 12, "%011o", (unsigned)size);
		snprintf(h + 136, 12, "%011o", 0);
		h[156] = e[i].type;
		if (e[i].type == '2' || e[i].type == '1')
			snprintf(h + 157, 100, "%s", e[i].data);
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
		memset(h + 148, ' ', 8);
		unsigned sum = 0;
		for (int k = 0; k < 512; k++)
			sum += (unsigned char)h[k];
		snprintf(h + 148, 8, "%06o", sum);
		fwrite(h, 1, 512, f);
		if (size) {
			char pad[512] = { 0 };
			fwrite(e[i].data, 1, size, f);
			fwrite(pad, 1, (512 - size % 512) % 512, f);
		}
	}
	char end[1024] = { 0 };
	fwrite(end, 1, sizeof(end), f);
	fclose(f);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static char root[64], tarp[128], dest[128];

static void fresh(void)
{
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	mkdir(root, 0700);
	snprintf(tarp, sizeof(tarp), "%s/l.tar", root);
	snprintf(dest, sizeof(dest), "%s/dest", root);
	mkdir(dest, 0755);
}

static int unpack(const struct entry *e, int n)
{
	fresh();
	write_tar(tarp, e, n);
	return layer_extract(tarp, dest, 1 << 20, NULL);
}

static const char *at(const char *rel)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dest, rel);
	return p;
}

static void test_files_links(void)
{
	const struct entry e[] = {
		{ "./bin/", '5', NULL, 0755 },        { "bin/tool", '0', "hello", 04755 },
		{ "bin/alias", '2', "tool", 0777 },    { "bin/abs", '2', "/usr/bin/env", 0777 },
		{ "bin/hard", '1', "bin/tool", 0644 }, { "/etc/conf", '0', "x", 0600 },
	};
	CHECK(unpack(e, 6) == 0);
	struct stat st;
	CHECK(stat(at("bin/tool"), &st) == 0 && (st.st_mode & 07777) == 0755); /* no setuid */
	CHECK(lstat(at("bin/alias"), &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(lstat(at("bin/abs"), &st) == 0 && S_ISLNK(st.st_mode)); /* absolute: resolved in the sandbox */
	struct stat a, b;
	CHECK(stat(at("bin/hard"), &a) == 0 && stat(at("bin/tool"), &b) == 0 && a.st_ino == b.st_ino);
	CHECK(stat(at("etc/conf"), &st) == 0 && (st.st_mode & 0777) == 0600); /* a leading / dropped */
}

static void test_whiteouts(void)
{
	const struct entry e[] = {
		{ "etc/", '5', NULL, 0755 },
		{ "etc/.wh.secret", '0', "", 0644 },
		{ "usr/lib/", '5', NULL, 0755 },
		{ "usr/lib/.wh..wh..opq", '0', "", 0644 },
	};
	CHECK(unpack(e, 4) == 0);
	struct stat st;
	CHECK(lstat(at("etc/secret"), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	CHECK(lstat(at("etc/.wh.secret"), &st) != 0);
	char v[4] = "";
	CHECK(getxattr(at("usr/lib"), "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
}

static void test_refusals(void)
{
	const struct entry dotdot[] = { { "../escaped", '0', "no", 0644 } };
	CHECK(unpack(dotdot, 1) == LD_EUNSAFE);
	const struct entry through[] = { { "up", '2', "..", 0777 }, { "up/escaped", '0', "no", 0644 } };
	CHECK(unpack(through, 2) == LD_EUNSAFE);
	char outside[200];
	snprintf(outside, sizeof(outside), "%s/escaped", root);
	CHECK(access(outside, F_OK) != 0);
	const struct entry hard[] = { { "h", '1', "../l.tar", 0644 } };
	CHECK(unpack(hard, 1) == LD_EUNSAFE);
	const struct entry wh[] = { { ".wh...", '0', "", 0644 } };
	CHECK(unpack(wh, 1) == LD_EUNSAFE);
	fresh();
	FILE *f = fopen(tarp, "w");
	fputs("not a tar at all, just text that goes on for a while ........", f);
	fclose(f);
	CHECK(layer_extract(tarp, dest, 1 << 20, NULL) == LD_ECORRUPT);
	const struct entry big[] = { { "big", '0', "0123456789", 0644 } };
	fresh();
	write_tar(tarp, big, 1);
	CHECK(layer_extract(tarp, dest, 5, NULL) == LD_ETOOBIG);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/lambdad-test-layer-%d", (int)getpid());
	T_RUN(test_files_links);
	T_RUN(test_whiteouts);
	T_RUN(test_refusals);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return t_done("test_layer");
}
