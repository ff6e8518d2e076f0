/*
 * test_jsonw.c - util/jsonw.c writes exactly what jansson's compact
 * json_dumps writes but for the case of \u00XX hex digits (strings with
 * escapes anywhere in and around the eight-byte runs, UTF-8, numbers,
 * nesting), leaves internal '_' members out, and jsonw_dump_all keeps them.
 */
#include "t.h"
#include "util/buf.h"
#include "util/jsonw.h"

#include <jansson.h>
#include <stdlib.h>

/* 1 when jsonw_dump_all(v) is byte for byte json_dumps(v, JSON_COMPACT),
 * except that jsonw writes the hex digits of a \u00XX escape in lower case
 * (what lambdad has always answered) where jansson writes upper case */
static int same_as_jansson(json_t *v)
{
	buf_t b;
	buf_init(&b, 0);
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	for (char *p = want ? strstr(want, "\\u00") : NULL; p; p = strstr(p + 1, "\\u00"))
		for (int i = 4; i < 6; i++)
			if (p[i] >= 'A' && p[i] <= 'F')
				p[i] = (char)(p[i] - 'A' + 'a');
	int ok = want && jsonw_dump_all(v, &b) == 0 && b.data && !strcmp(b.data, want);
	if (!ok)
		fprintf(stderr, "  jansson %s\n  jsonw   %s\n", want ? want : "(null)", b.data ? b.data : "(null)");
	free(want);
	buf_free(&b);
	return ok;
}

static void test_strings(void)
{
	static const char *const specials[] = { "\"", "\\", "\n", "\x01", "\x1f", "\t", "\xc3\xa9", " ", "/", "\x7f" };
	char s[64];
	/* every special byte at every position of strings of 0..20 bytes */
	for (size_t len = 0; len <= 20; len++) {
		for (size_t at = 0; at < len; at++) {
			for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
				size_t n = 0, sl = strlen(specials[k]);
				for (size_t i = 0; i < len && n + sl < sizeof(s) - 1; i++) {
					if (i == at) {
						memcpy(s + n, specials[k], sl);
						n += sl;
					} else {
						s[n++] = (char)('a' + i % 26);
					}
				}
				json_t *v = json_stringn(s, n);
				CHECK(v && same_as_jansson(v));
				json_decref(v);
			}
		}
		memset(s, 'x', len);
		json_t *v = json_stringn(s, len);
		CHECK(v && same_as_jansson(v));
		json_decref(v);
	}
	json_t *v = json_string("ab\"cdefghij\\klmnopqrstuvwxyz\x02\x03\"\"\"\"\"\"\"\"\"0123456789\xe2\x82\xac");
	CHECK(same_as_jansson(v));
	json_decref(v);
}

static void test_documents(void)
{
	json_t *v = json_pack("{s:s,s:i,s:I,s:f,s:b,s:n,s:[s,i,{s:s}],s:{}}", "Name", "f\xc3\xa9", "Size", 128,
			      "Big", (json_int_t)-9007199254740993LL, "Real", 0.25, "T", 1, "N", "List", "x", 3,
			      "k", "v\n", "Empty");
	CHECK(same_as_jansson(v));
	/* internal members: written by jsonw_dump_all only */
	json_object_set_new(v, "_CodeHex", json_string("abc"));
	CHECK(same_as_jansson(v));
	buf_t b;
	buf_init(&b, 0);
	CHECK(jsonw_dump(v, &b) == 0);
	CHECK(b.data && !strstr(b.data, "_CodeHex"));
	buf_free(&b);
	json_decref(v);
}

int main(void)
{
	T_RUN(test_strings);
	T_RUN(test_documents);
	return t_done("test_jsonw");
}
