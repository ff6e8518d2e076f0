/*
 * test_disk.c - unit tests of util/disk: --disk-reserve's parser, the
 * reserve for a file system's size, disk_room on the machine's real file
 * system, the codes of disk_failed, and the ballast.
 */
#include "t.h"
#include "util/disk.h"
#include "util/err.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MB (1024ull * 1024)

static void test_parse(void)
{
	uint64_t b;
	unsigned p;
	CHECK(disk_parse_reserve("67108864", &b, &p) == 0 && b == 67108864 && p == 0);
	CHECK(disk_parse_reserve("5%", &b, &p) == 0 && b == 0 && p == 5);
	CHECK(disk_parse_reserve("0", &b, &p) == 0 && b == 0 && p == 0);
	CHECK(disk_parse_reserve("50%", &b, &p) == 0 && p == 50);
	CHECK(disk_parse_reserve("51%", &b, &p) == LD_EINVAL);
	CHECK(disk_parse_reserve("", &b, &p) == LD_EINVAL);
	CHECK(disk_parse_reserve("-1", &b, &p) == LD_EINVAL);
	CHECK(disk_parse_reserve("12MB", &b, &p) == LD_EINVAL);
	CHECK(disk_parse_reserve("5%%", &b, &p) == LD_EINVAL);
	CHECK(disk_parse_reserve("99999999999999999999999", &b, &p) == LD_EINVAL);
	CHECK(disk_parse_reserve(NULL, &b, &p) == LD_EINVAL);
}

static void test_reserve_for(void)
{
	struct disk_reserve def = { 0, 0, 64 * MB, 10 };
	CHECK(disk_reserve_for(100 * 1024 * MB, &def) == 64 * MB); /* a big file system: the bytes */
	CHECK(disk_reserve_for(64 * MB, &def) == 64 * MB / 10);      /* a small one: 10% of it */
	struct disk_reserve bytes = { 8 * MB, 0, 64 * MB, 10 };
	CHECK(disk_reserve_for(64 * MB, &bytes) == 8 * MB);
	struct disk_reserve pct = { 0, 25, 64 * MB, 10 };
	CHECK(disk_reserve_for(64 * MB, &pct) == 16 * MB);
	CHECK(disk_reserve_for(UINT64_MAX, &pct) > UINT64_MAX / 5); /* no overflow */
}

static void test_room_and_ballast(void)
{
	char dir[] = "/tmp/lambdad-disk-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	struct statvfs v;
	CHECK(statvfs(dir, &v) == 0);
	uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
	disk_t *d = NULL;
	/* a reserve of 8 MB: a 2 MB ballast when there is room for it */
	CHECK(disk_open(dir, &(struct disk_reserve){ 8 * MB, 0, 64 * MB, 10 }, &d) == 0);
	char ballast[64];
	snprintf(ballast, sizeof(ballast), "%s/.ballast", dir);
	struct stat st;
	if (avail > 64 * MB)
		CHECK(stat(ballast, &st) == 0 && (uint64_t)st.st_size == 2 * MB);
	CHECK(disk_room(d, 0, "x", "test") == 0 || avail < 16 * MB);
	CHECK(disk_room(d, avail, NULL, NULL) == LD_ENOSPC); /* everything free: past the reserve */
	CHECK(disk_room(d, avail, "x", "test") == LD_ENOSPC);
	struct disk_stats s;
	disk_stats(d, &s);
	CHECK(s.reserve == 8 * MB && s.failures == 1 && s.size > 0);
	CHECK(disk_failed(d, ENOSPC, "x", "test") == LD_ENOSPC);
	CHECK(disk_failed(d, EDQUOT, "x", "test") == LD_ENOSPC);
	CHECK(disk_failed(d, EACCES, "x", "test") == LD_EIO);
	disk_stats(d, &s);
	CHECK(s.failures == 3);
	disk_close(d);
	CHECK(disk_room(NULL, UINT64_MAX, "x", "test") == 0);
	/* reopened with a smaller reserve: the old ballast is the wrong size and goes */
	CHECK(disk_open(dir, &(struct disk_reserve){ 4 * MB, 0, 64 * MB, 10 }, &d) == 0);
	if (avail > 64 * MB)
		CHECK(stat(ballast, &st) == 0 && (uint64_t)st.st_size == 1 * MB);
	disk_close(d);
	unlink(ballast);
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	T_RUN(test_parse);
	T_RUN(test_reserve_for);
	T_RUN(test_room_and_ballast);
	return t_done("test_disk");
}
