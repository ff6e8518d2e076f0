/*
 * test_buf.c - unit tests of util/buf: appends, the hard cap, printf, reset
 * and steal, and the NUL terminator the callers rely on.
 */
#include "t.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>

static void test_append_and_terminator(void)
{
	buf_t b;
	buf_init(&b, 0);
	CHECK(b.data == NULL && b.len == 0);
	CHECK(buf_append(&b, "abc", 3) == 0);
	CHECK(buf_puts(&b, "def") == 0);
	CHECK(b.len == 6);
	CHECK_STR(b.data, "abcdef");
	CHECK(buf_append(&b, "x\0y", 3) == 0); /* binary data keeps its length */
	CHECK(b.len == 9 && b.data[7] == '\0' && b.data[8] == 'y' && b.data[9] == '\0');
	CHECK(buf_append(&b, NULL, 0) == 0);
	CHECK(b.len == 9);
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0);
}

static void test_growth(void)
{
	buf_t b;
	buf_init(&b, 0);
	char chunk[1000];
	memset(chunk, 'z', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		CHECK(buf_append(&b, chunk, sizeof(chunk)) == 0);
	CHECK(b.len == 100000 && b.alloc > b.len);
	CHECK(b.data[99999] == 'z' && b.data[100000] == '\0');
	buf_free(&b);
}

static void test_cap(void)
{
	buf_t b;
	buf_init(&b, 8);
	CHECK(buf_append(&b, "12345678", 8) == 0);      /* exactly the cap */
	CHECK(buf_append(&b, "9", 1) == LD_ETOOBIG);
	CHECK(b.len == 8);                               /* unchanged on failure */
	CHECK_STR(b.data, "12345678");
	buf_reset(&b);
	CHECK(b.len == 0 && b.data && b.data[0] == '\0');
	CHECK(buf_append(&b, "123456789", 9) == LD_ETOOBIG);
	CHECK(b.len == 0);
	CHECK(buf_printf(&b, "%s", "too long for it") == LD_ETOOBIG);
	CHECK(b.len == 0);
	CHECK(buf_append(&b, "x", (size_t)-1) == LD_ETOOBIG); /* no overflow in the check */
	buf_free(&b);
}

static void test_printf(void)
{
	buf_t b;
	buf_init(&b, 0);
	CHECK(buf_printf(&b, "%d-%s", 42, "x") == 0);
	CHECK(buf_printf(&b, "%s", "") == 0);
	CHECK(buf_printf(&b, "|%05.1f", 3.14159) == 0);
	CHECK_STR(b.data, "42-x|003.1");
	CHECK(b.len == strlen("42-x|003.1"));
	char big[5000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(buf_printf(&b, "%s!", big) == 0);          /* grows past the first allocation */
	CHECK(b.len == 10 + 4999 + 1 && b.data[b.len - 1] == '!');
	buf_free(&b);
}

static void test_steal(void)
{
	buf_t b;
	size_t n = 99;
	buf_init(&b, 0);
	char *p = buf_steal(&b, &n);                     /* empty: an allocated "" */
	CHECK(p && p[0] == '\0' && n == 0);
	free(p);
	buf_puts(&b, "hello");
	p = buf_steal(&b, &n);
	CHECK_STR(p, "hello");
	CHECK(n == 5);
	CHECK(b.data == NULL && b.len == 0 && b.alloc == 0);
	free(p);
	CHECK(buf_puts(&b, "again") == 0);               /* usable after a steal */
	CHECK_STR(b.data, "again");
	buf_free(&b);
}

int main(void)
{
	T_RUN(test_append_and_terminator);
	T_RUN(test_growth);
	T_RUN(test_cap);
	T_RUN(test_printf);
	T_RUN(test_steal);
	return t_done("test_buf");
}
