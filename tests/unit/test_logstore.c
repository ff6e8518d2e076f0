/*
 * test_logstore.c - unit tests of logs/logstore: groups and streams kept
 * across a reopen, segments sealed and summarised, reading by time forward
 * and backward, a torn tail cut at open, the global cap dropping the oldest
 * segments, the disk's reserve dropping them and then refusing output
 * (with a line saying so at the next append), retention, tokens and
 * on-disk names.
 */
#include "t.h"
#include "logs/logstore.h"
#include "util/disk.h"
#include "util/err.h"
#include "util/file.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define SCOPE "000000000000:us-east-1"

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/test-logstore-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static int put(logstore_t *ls, ls_stream_t *s, int64_t ts, const char *msg)
{
	struct logstore_event ev = { ts, 0, msg, strlen(msg) };
	return logstore_append(ls, s, &ev, 1);
}

static void test_reopen(void)
{
	char *dir = tmpdir();
	logstore_t *ls;
	ls_group_t *g;
	ls_stream_t *s;
	CHECK(logstore_open(dir, NULL, &ls) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "/aws/lambda/f", &g) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "/aws/lambda/f", &g) == LD_EEXIST);
	CHECK(logstore_stream_create(ls, g, "2026/01/01/[$LATEST]abc", &s) == 0);
	CHECK(logstore_stream_create(ls, g, "2026/01/01/[$LATEST]abc", &s) == LD_EEXIST);
	CHECK(put(ls, s, 1000, "one\n") == 0);
	CHECK(put(ls, s, 3000, "three\n") == 0);
	CHECK(put(ls, s, 2000, "two\n") == 0);
	CHECK(logstore_group_set_retention(ls, g, 7) == 0);
	logstore_close(ls);

	CHECK(logstore_open(dir, NULL, &ls) == 0);
	g = logstore_group(ls, SCOPE, "/aws/lambda/f");
	CHECK(g != NULL);
	CHECK(logstore_group(ls, "111111111111:us-east-1", "/aws/lambda/f") == NULL);
	if (g) {
		struct logstore_group_info gi;
		logstore_group_info(g, &gi);
		CHECK(gi.retention_days == 7);
		CHECK(gi.bytes == 3 * 24 + 4 + 6 + 4);
		s = logstore_stream(g, "2026/01/01/[$LATEST]abc");
		CHECK(s != NULL);
		if (s) {
			struct logstore_stream_info si;
			logstore_stream_info(s, &si);
			CHECK(si.events == 3 && si.first_ts == 1000 && si.last_ts == 3000);
			CHECK(si.last_ingest > 0);
			logstore_cursor_t *c;
			struct logstore_event ev;
			CHECK(logstore_cursor_open(ls, s, (struct logstore_pos){ 0, 0 }, 0, -1, &c) == 0);
			CHECK(logstore_cursor_next(c, &ev, NULL, NULL) == 1 && ev.len == 4 && !memcmp(ev.msg, "one\n", 4));
			CHECK(logstore_cursor_next(c, &ev, NULL, NULL) == 1 && ev.ts == 3000);
			CHECK(logstore_cursor_next(c, &ev, NULL, NULL) == 1 && ev.ts == 2000);
			CHECK(logstore_cursor_next(c, &ev, NULL, NULL) == 0);
			logstore_cursor_close(c);
		}
		ls_stream_t **v;
		CHECK(logstore_streams(g, &v) == 1);
		free(v);
		CHECK(logstore_group_delete(ls, g) == 0);
	}
	CHECK(logstore_group(ls, SCOPE, "/aws/lambda/f") == NULL);
	logstore_close(ls);
	CHECK(logstore_open(dir, NULL, &ls) == 0);
	CHECK(logstore_group(ls, SCOPE, "/aws/lambda/f") == NULL);
	logstore_close(ls);
	file_rm_rf(dir);
	free(dir);
}

struct got {
	int64_t ts[64];
	int n;
};

static void on_event(void *ud, const struct logstore_event *ev, struct logstore_pos at, struct logstore_pos next)
{
	struct got *g = ud;
	if (g->n < 64)
		g->ts[g->n++] = ev->ts;
}

static void test_segments_and_seek(void)
{
	char *dir = tmpdir();
	logstore_t *ls;
	ls_group_t *g;
	ls_stream_t *s;
	char msg[200];
	/* a cap of 16 MB, segments of 4 KB */
	struct logstore_opts o = { .max_bytes = 16u << 20, .segment_bytes = 4096 };
	CHECK(logstore_open(dir, &o, &ls) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "g", &g) == 0);
	CHECK(logstore_stream_create(ls, g, "s", &s) == 0);
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = 0;
	for (int i = 0; i < 2000; i++)
		CHECK(put(ls, s, 100000 + i, msg) == 0);
	logstore_close(ls);
	CHECK(logstore_open(dir, &o, &ls) == 0);
	g = logstore_group(ls, SCOPE, "g");
	s = g ? logstore_stream(g, "s") : NULL;
	CHECK(s != NULL);
	if (!s)
		goto out;
	struct logstore_stream_info si;
	logstore_stream_info(s, &si);
	CHECK(si.events == 2000 && si.first_ts == 100000 && si.last_ts == 101999);
	CHECK(si.end.seg > 100); /* many segments */
	/* forward from a time: the first event is the asked one */
	logstore_cursor_t *c;
	struct logstore_event ev;
	struct logstore_pos at, next;
	CHECK(logstore_cursor_open(ls, s, (struct logstore_pos){ 0, 0 }, 101990, 101995, &c) == 0);
	int n = 0;
	int64_t first = -1;
	while (logstore_cursor_next(c, &ev, &at, &next) == 1) {
		if (first < 0)
			first = ev.ts;
		n++;
	}
	logstore_cursor_close(c);
	CHECK(first == 101990 && n == 6);
	/* backward: the last 5, oldest first; then the 5 before them */
	struct got got = { .n = 0 };
	struct logstore_pos p;
	CHECK(logstore_read_back(ls, s, LOGSTORE_POS_END, 0, -1, 5, SIZE_MAX, 0, on_event, &got, &p) == 0);
	CHECK(got.n == 5 && got.ts[0] == 101995 && got.ts[4] == 101999);
	got.n = 0;
	CHECK(logstore_read_back(ls, s, p, 0, -1, 5, SIZE_MAX, 0, on_event, &got, &p) == 0);
	CHECK(got.n == 5 && got.ts[0] == 101990 && got.ts[4] == 101994);
	/* a byte budget: 3 messages of 199 bytes fit in 600, a 4th does not */
	got.n = 0;
	struct logstore_pos q;
	CHECK(logstore_read_back(ls, s, LOGSTORE_POS_END, 0, -1, 50, 600, 0, on_event, &got, &q) == 0);
	CHECK(got.n == 3 && got.ts[0] == 101997 && got.ts[2] == 101999);
	got.n = 0;
	CHECK(logstore_read_back(ls, s, LOGSTORE_POS_END, 0, -1, 50, 10, 0, on_event, &got, &q) == 0);
	CHECK(got.n == 1 && got.ts[0] == 101999); /* at least one */
	/* a position is resumed exactly */
	CHECK(logstore_cursor_open(ls, s, p, 0, -1, &c) == 0);
	CHECK(logstore_cursor_next(c, &ev, NULL, NULL) == 1 && ev.ts == 101990);
	logstore_cursor_close(c);
out:
	logstore_close(ls);
	file_rm_rf(dir);
	free(dir);
}

static void test_torn_tail(void)
{
	char *dir = tmpdir();
	logstore_t *ls;
	ls_group_t *g;
	ls_stream_t *s;
	char path[512];
	CHECK(logstore_open(dir, NULL, &ls) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "g", &g) == 0);
	CHECK(logstore_stream_create(ls, g, "s", &s) == 0);
	CHECK(put(ls, s, 1, "first") == 0);
	CHECK(put(ls, s, 2, "second") == 0);
	logstore_close(ls);
	snprintf(path, sizeof(path), "%s/logs/%s/g/s/00000001.seg", dir, SCOPE);
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 24 * 2 + 11);
	/* half a record: a header promising more than there is */
	int fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	if (fd >= 0) {
		unsigned char half[30] = { 100, 0, 0, 0 };
		CHECK(write(fd, half, sizeof(half)) == (ssize_t)sizeof(half));
		close(fd);
	}
	/* a reader beside the server changes nothing */
	struct logstore_opts ro = { .readonly = 1 };
	CHECK(logstore_open(dir, &ro, &ls) == 0);
	logstore_close(ls);
	CHECK(stat(path, &st) == 0 && st.st_size == 24 * 2 + 11 + 30);
	CHECK(logstore_open(dir, NULL, &ls) == 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 24 * 2 + 11);
	g = logstore_group(ls, SCOPE, "g");
	s = g ? logstore_stream(g, "s") : NULL;
	CHECK(s != NULL);
	if (s) {
		struct logstore_stream_info si;
		CHECK(put(ls, s, 3, "third") == 0);
		logstore_stream_info(s, &si);
		CHECK(si.events == 3 && si.last_ts == 3);
	}
	logstore_close(ls);
	file_rm_rf(dir);
	free(dir);
}

static void test_cap_drops_oldest(void)
{
	char *dir = tmpdir();
	logstore_t *ls;
	ls_group_t *g1, *g2;
	ls_stream_t *old, *young;
	char msg[1001];
	struct logstore_opts o = { .max_bytes = 65536 }; /* segments of 4 KB */
	memset(msg, 'x', 1000);
	msg[1000] = 0;
	CHECK(logstore_open(dir, &o, &ls) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "old", &g1) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "young", &g2) == 0);
	CHECK(logstore_stream_create(ls, g1, "s", &old) == 0);
	CHECK(logstore_stream_create(ls, g2, "s", &young) == 0);
	struct logstore_event ev = { 1, 1000, msg, 1000 };
	for (int i = 0; i < 40; i++)
		CHECK(logstore_append(ls, old, &ev, 1) == 0);
	ev.ingest = 2000;
	for (int i = 0; i < 200; i++)
		CHECK(logstore_append(ls, young, &ev, 1) == 0);
	struct logstore_stats st;
	logstore_stats(ls, &st);
	CHECK(st.bytes <= 65536);
	CHECK(st.dropped_segments > 0);
	struct logstore_stream_info si;
	logstore_stream_info(old, &si);
	CHECK(si.events == 0 && si.bytes == 0); /* all of the oldest went first */
	logstore_stream_info(young, &si);
	CHECK(si.events > 40);
	logstore_close(ls);
	/* the files agree */
	CHECK(logstore_open(dir, &o, &ls) == 0);
	logstore_stats(ls, &st);
	CHECK(st.bytes <= 65536 && st.groups == 2 && st.streams == 2);
	logstore_close(ls);
	file_rm_rf(dir);
	free(dir);
}

/* the number of events of s */
static int count_events(logstore_t *ls, ls_stream_t *s)
{
	logstore_cursor_t *c;
	struct logstore_event e;
	int n = 0;
	if (logstore_cursor_open(ls, s, (struct logstore_pos){ 0, 0 }, 0, -1, &c))
		return -1;
	while (logstore_cursor_next(c, &e, NULL, NULL) == 1)
		n++;
	logstore_cursor_close(c);
	return n;
}

static void test_reserve_drops_then_refuses(void)
{
	char *dir = tmpdir();
	logstore_t *ls;
	ls_group_t *g;
	ls_stream_t *a, *b;
	disk_t *d;
	char msg[1001];
	memset(msg, 'x', 1000);
	msg[1000] = 0;
	CHECK(disk_open(dir, &(struct disk_reserve){ 1, 0, 0, 0 }, &d) == 0);
	struct logstore_opts o = { .segment_bytes = 4096, .disk = d };
	CHECK(logstore_open(dir, &o, &ls) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "g", &g) == 0);
	CHECK(logstore_stream_create(ls, g, "a", &a) == 0);
	CHECK(logstore_stream_create(ls, g, "b", &b) == 0);
	for (int i = 0; i < 20; i++)
		CHECK(put(ls, a, 1, msg) == 0);
	/* a reserve past all the free space: every segment goes, then the append is refused */
	struct statvfs v;
	CHECK(statvfs(dir, &v) == 0);
	uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
	disk_set_reserve(d, &(struct disk_reserve){ avail + (1ull << 30), 0, 0, 0 });
	CHECK(put(ls, b, 2, "lost line\n") == LD_ENOSPC);
	CHECK(put(ls, b, 3, "lost too\n") == LD_ENOSPC);
	struct logstore_stats st;
	logstore_stats(ls, &st);
	CHECK(st.bytes == 0 && st.dropped_segments >= 5);
	struct logstore_stream_info si;
	logstore_stream_info(a, &si);
	CHECK(si.events == 0);
	/* room again: the next append says what was lost, then stores its own */
	disk_set_reserve(d, &(struct disk_reserve){ 1, 0, 0, 0 });
	CHECK(put(ls, b, 4, "after\n") == 0);
	logstore_cursor_t *c;
	struct logstore_event ev;
	int n = 0;
	CHECK(logstore_cursor_open(ls, b, (struct logstore_pos){ 0, 0 }, 0, -1, &c) == 0);
	while (logstore_cursor_next(c, &ev, NULL, NULL) == 1) {
		if (n == 0)
			CHECK(ev.len > 40 && !memcmp(ev.msg, "lambdad: 2 events (19 bytes) of this stream were dropped", 56));
		if (n == 1)
			CHECK(ev.len == 6 && !memcmp(ev.msg, "after\n", 6));
		n++;
	}
	logstore_cursor_close(c);
	CHECK(n == 2);
	/* and only once */
	CHECK(put(ls, b, 5, "later\n") == 0);
	CHECK(count_events(ls, b) == 3);
	logstore_close(ls);
	disk_close(d);
	file_rm_rf(dir);
	free(dir);
}

static void test_retention(void)
{
	char *dir = tmpdir();
	logstore_t *ls;
	ls_group_t *g;
	ls_stream_t *s, *t;
	int64_t now = logstore_now_ms();
	CHECK(logstore_open(dir, NULL, &ls) == 0);
	CHECK(logstore_group_create(ls, SCOPE, "g", &g) == 0);
	CHECK(logstore_stream_create(ls, g, "mixed", &s) == 0);
	CHECK(logstore_stream_create(ls, g, "old", &t) == 0);
	CHECK(put(ls, s, now - 3 * 86400000LL, "old") == 0);
	CHECK(put(ls, s, now - 1000, "new") == 0);
	CHECK(put(ls, t, now - 3 * 86400000LL, "old") == 0);
	CHECK(logstore_expire(ls, now) == 0); /* no retention: nothing */
	CHECK(logstore_group_set_retention(ls, g, 1) == 0);
	CHECK(logstore_expire(ls, now) == 1); /* "old"'s one segment */
	struct logstore_stream_info si;
	logstore_stream_info(s, &si);
	CHECK(si.events == 1 && si.first_ts == now - 1000 && si.bytes == 24 + 3);
	logstore_stream_info(t, &si);
	CHECK(si.events == 0);
	logstore_close(ls);
	CHECK(logstore_open(dir, NULL, &ls) == 0);
	g = logstore_group(ls, SCOPE, "g");
	s = g ? logstore_stream(g, "mixed") : NULL;
	if (s) {
		logstore_stream_info(s, &si);
		CHECK(si.events == 1 && si.first_ts == now - 1000);
	}
	CHECK(s != NULL);
	logstore_close(ls);
	file_rm_rf(dir);
	free(dir);
}

static void test_tokens_and_names(void)
{
	char tok[40], dir;
	struct logstore_pos p;
	logstore_token_format('f', (struct logstore_pos){ 7, 123456 }, tok);
	CHECK_STR(tok, "f/000000000700000000000000123456");
	CHECK(logstore_token_parse(tok, &dir, &p) == 0 && dir == 'f' && p.seg == 7 && p.off == 123456);
	logstore_token_format('b', LOGSTORE_POS_END, tok);
	CHECK(logstore_token_parse(tok, &dir, &p) == 0 && dir == 'b' && p.seg == UINT32_MAX && p.off == UINT64_MAX);
	CHECK(logstore_token_parse("f/1", &dir, &p) == LD_EINVAL);
	CHECK(logstore_token_parse("x/000000000700000000000000123456", &dir, &p) == LD_EINVAL);
	CHECK(logstore_token_parse("f/00000000070000000000000012345a", &dir, &p) == LD_EINVAL);
	CHECK(logstore_token_parse("f/999999999999999999999999999999", &dir, &p) == LD_EINVAL);
	CHECK(logstore_token_parse(NULL, &dir, &p) == LD_EINVAL);
	char enc[201];
	logstore_dirname("/aws/lambda/fn", enc);
	CHECK_STR(enc, "%2Faws%2Flambda%2Ffn");
	logstore_dirname(".hidden", enc);
	CHECK_STR(enc, "%2Ehidden");
	logstore_dirname("2026/12/05/[$LATEST]ab", enc);
	CHECK_STR(enc, "2026%2F12%2F05%2F%5B%24LATEST%5Dab");
	char longname[513];
	memset(longname, '/', 512);
	longname[512] = 0;
	logstore_dirname(longname, enc);
	CHECK(strlen(enc) <= 200 && strchr(enc, '~'));
	char other[513];
	memcpy(other, longname, sizeof(other));
	other[511] = 'a';
	char enc2[201];
	logstore_dirname(other, enc2);
	CHECK(strcmp(enc, enc2) != 0);
	uint64_t count;
	CHECK(logstore_valid_prefix("", 0, &count) == 0 && count == 0);
}

int main(void)
{
	T_RUN(test_reopen);
	T_RUN(test_segments_and_seek);
	T_RUN(test_torn_tail);
	T_RUN(test_cap_drops_oldest);
	T_RUN(test_reserve_drops_then_refuses);
	T_RUN(test_retention);
	T_RUN(test_tokens_and_names);
	return t_done("test_logstore");
}
