/*
 * test_spool.c - unit tests of util/spool: a small body stays in memory
 * (NUL-terminated, no hash, charged to the budget and released), a body
 * declared large goes to a file from its first byte, one growing past the
 * threshold or the budget moves there with its bytes, the file's view is
 * the body mapped and NUL-terminated with its SHA-256, the cap holds, and
 * a directory that cannot take the file fails with LD_EIO.
 */
#include "t.h"
#include "util/err.h"
#include "util/sigv4.h"
#include "util/spool.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/lambdad-spool-XXXXXX";

static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 16);
	}
}

/* appends n bytes of data in pieces of `piece` */
static int feed(spool_t *s, const char *data, size_t n, size_t piece)
{
	for (size_t off = 0; off < n; off += piece) {
		int rc = spool_append(s, data + off, n - off < piece ? n - off : piece);
		if (rc)
			return rc;
	}
	return 0;
}

static void test_small_in_memory(void)
{
	spool_budget_t b = { .limit = 1 << 20 };
	spool_t s;
	const char *data, *sha;
	size_t len;
	spool_init(&s, &b, dir, 1024, 4096, 0);
	CHECK(spool_finish(&s, &data, &len, &sha) == 0 && len == 0 && data && !*data && !sha);
	CHECK(spool_append(&s, "hello ", 6) == 0 && spool_append(&s, "world", 5) == 0);
	CHECK(!spool_on_disk(&s) && b.used > 0 && b.used == s.charged);
	CHECK(spool_finish(&s, &data, &len, &sha) == 0);
	CHECK(len == 11 && !strcmp(data, "hello world") && sha == NULL);
	CHECK(spool_buffer(&s) == &s.mem);
	spool_free(&s);
	CHECK(b.used == 0 && b.spilled == 0);
	spool_free(&s); /* twice is harmless */
	CHECK(b.used == 0);
}

static void check_file_body(spool_t *s, const char *want, size_t n)
{
	const char *data, *sha;
	size_t len;
	char hex[SIGV4_HEX_LEN + 1];
	CHECK(spool_on_disk(s) && spool_buffer(s) == NULL);
	CHECK(spool_finish(s, &data, &len, &sha) == 0);
	CHECK(len == n && !memcmp(data, want, n) && data[n] == '\0');
	CHECK(sigv4_sha256_hex(want, n, hex) == 0);
	CHECK_STR(sha, hex);
	/* finishing again gives the same view */
	const char *d2, *s2;
	size_t l2;
	CHECK(spool_finish(s, &d2, &l2, &s2) == 0 && d2 == data && l2 == len && !strcmp(s2, hex));
}

static void test_declared_large_goes_to_a_file(void)
{
	spool_budget_t b = { .limit = 1 << 20 };
	spool_t s;
	size_t n = 300000;
	char *body = malloc(n);
	fill(body, n, 1);
	spool_init(&s, &b, dir, 65536, 1 << 20, n);
	CHECK(spool_append(&s, body, 10) == 0);
	CHECK(spool_on_disk(&s) && b.used == 0 && b.spilled == 1);
	CHECK(feed(&s, body + 10, n - 10, 4093) == 0);
	check_file_body(&s, body, n);
	CHECK(b.used == 0);
	spool_free(&s);
	free(body);
}

static void test_growing_past_the_threshold(void)
{
	spool_budget_t b = { .limit = 1 << 20 };
	spool_t s;
	size_t n = 200000;
	char *body = malloc(n);
	fill(body, n, 2);
	spool_init(&s, &b, dir, 65536, 1 << 20, 0); /* chunked: length unknown */
	CHECK(feed(&s, body, 60000, 1000) == 0);
	CHECK(!spool_on_disk(&s) && b.used >= 60000);
	CHECK(feed(&s, body + 60000, n - 60000, 7000) == 0);
	CHECK(b.used == 0 && b.spilled == 1); /* the memory went with the move */
	check_file_body(&s, body, n);
	spool_free(&s);
	free(body);
}

static void test_budget(void)
{
	spool_budget_t b = { .limit = 10000 };
	spool_t s1, s2, s3;
	char body[6000];
	fill(body, sizeof(body), 3);
	spool_init(&s1, &b, dir, 65536, 65536, 0);
	spool_init(&s2, &b, dir, 65536, 65536, 0);
	CHECK(spool_append(&s1, body, 6000) == 0 && !spool_on_disk(&s1));
	size_t used = b.used;
	CHECK(used >= 6000 && used <= 10000);
	/* no room left for the second: it goes to a file, the first stays */
	CHECK(spool_append(&s2, body, 6000) == 0 && spool_on_disk(&s2));
	CHECK(b.used == used);
	check_file_body(&s2, body, 6000);
	spool_free(&s1);
	CHECK(b.used == 0);
	/* room again */
	spool_init(&s3, &b, dir, 65536, 65536, 0);
	CHECK(spool_append(&s3, body, 6000) == 0 && !spool_on_disk(&s3));
	/* a buffer taken over by a handler stays charged until spool_free */
	buf_t *taken = spool_buffer(&s3);
	buf_t mine = *taken;
	buf_init(taken, 0);
	CHECK(b.used > 0);
	spool_free(&s3);
	CHECK(b.used == 0);
	CHECK(mine.len == 6000 && !memcmp(mine.data, body, 6000));
	buf_free(&mine);
	spool_free(&s2);
}

static void test_cap(void)
{
	spool_budget_t b = { .limit = 1 << 20 };
	spool_t s;
	char body[5000] = { 0 };
	spool_init(&s, &b, dir, 1024, 4000, 0);
	CHECK(spool_append(&s, body, 3000) == 0);
	CHECK(spool_append(&s, body, 1001) == LD_ETOOBIG);
	CHECK(spool_append(&s, body, 1000) == 0); /* in a file now, exactly at the cap */
	CHECK(spool_append(&s, body, 1) == LD_ETOOBIG);
	CHECK(s.len == 4000);
	spool_free(&s);
	CHECK(b.used == 0);
}

static void test_no_directory(void)
{
	spool_budget_t b = { .limit = 1 << 20 };
	spool_t s;
	char body[2000] = { 0 };
	spool_init(&s, &b, "/nonexistent/lambdad-spool", 1024, 1 << 20, 0);
	CHECK(spool_append(&s, body, 1000) == 0);
	CHECK(spool_append(&s, body, 1000) == LD_EIO);
	spool_free(&s);
	CHECK(b.used == 0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	T_RUN(test_small_in_memory);
	T_RUN(test_declared_large_goes_to_a_file);
	T_RUN(test_growing_past_the_threshold);
	T_RUN(test_budget);
	T_RUN(test_cap);
	T_RUN(test_no_directory);
	rmdir(dir);
	return t_done("test_spool");
}
