/*
 * test_jsonread.c - util/jsonread.c reads plain request bodies to the tree
 * jansson reads, and declines (NULL: jansson's turn) everything where the
 * two could differ.
 */
#include "t.h"
#include "util/jsonread.h"

#include <jansson.h>

static json_t *fast(const char *text)
{
	return jsonread_object(text, strlen(text));
}

static void test_reads(void)
{
	const char *body = "{\"FunctionName\":\"f\",\"Code\":{\"ZipFile\":\"UEsDBAoAAAAAAA==\"},\"Timeout\":3,"
			   "\"Real\":1.5e3,\"Neg\":-0,\"Esc\":\"a\\n\\\"b\\\\/\",\"L\":[true,false,null,[],{}],"
			   "\"U\":\"caf\xc3\xa9\"}";
	json_t *a = fast(body), *b = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
	CHECK(a && b && json_equal(a, b));
	CHECK(json_is_integer(json_object_get(a, "Timeout")));
	CHECK(json_is_real(json_object_get(a, "Real")));
	CHECK_STR(json_string_value(json_object_get(a, "Esc")), "a\n\"b\\/");
	/* key order kept */
	CHECK_STR(json_object_iter_key(json_object_iter(a)), "FunctionName");
	json_decref(a);
	json_decref(b);
	a = fast("{\"a\":1} \r\n\t");
	CHECK(a && json_integer_value(json_object_get(a, "a")) == 1);
	json_decref(a);
}

static void test_declines(void)
{
	static const char *const texts[] = {
		"",                                  /* empty */
		"[1]",                               /* not an object */
		" {\"a\":1}",                        /* leading space: jansson's */
		"{\"a\":1,\"a\":2}",                 /* duplicate key */
		"{\"s\":\"\\ud800\"}",               /* lone surrogate */
		"{\"s\":\"\\u00e9\"}",               /* any \\u escape */
		"{\"n\":123456789012345678901234567890}", /* integer out of range */
		"{\"r\":1e400}",                     /* real overflow */
		"{\"r\":1e-400}",                    /* underflow: left to jansson */
		"{\"b\":\"\xc0\xaf\"}",              /* overlong UTF-8 */
		"{\"a\":1} x",                       /* trailing garbage */
		"{\"s\":\"]\"}\"",                    /* an unfinished string after the root (fuzz_jsonread) */
		"{\"a\":1}\"x}",
		"{\"a\":\f1}",                        /* form feed: white space to yajl only (fuzz_jsonread) */
		"{\"a\":\v1}",
		"{\"c\":\"tab\there\"}",             /* raw control character */
		"{\"a\":01}",                        /* leading zero */
		"{\"a\":1,}",                        /* trailing comma */
		"{\"a\":1 /* c */}",                 /* comment */
		"{\"a\":",                           /* truncated */
		NULL,
	};
	for (const char *const *t = texts; *t; t++) {
		json_t *v = fast(*t);
		if (v)
			fprintf(stderr, "  read: %s\n", *t);
		CHECK(v == NULL);
		json_decref(v);
	}
	/* nesting deeper than the reader keeps */
	char deep[2100];
	size_t n = 0;
	deep[n++] = '{';
	deep[n++] = '"';
	deep[n++] = 'a';
	deep[n++] = '"';
	deep[n++] = ':';
	for (int i = 0; i < 600; i++)
		deep[n++] = '[';
	for (int i = 0; i < 600; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	CHECK(fast(deep) == NULL);
}

int main(void)
{
	T_RUN(test_reads);
	T_RUN(test_declines);
	return t_done("test_jsonread");
}
