/*
 * jsonread.c - yajl events into a jansson tree (jsonread.h).
 *
 * Containers are attached to their parent when they open, so one pending
 * object key is all the state besides the stack of open containers. Any
 * doubt sets `fail` and stops the parse; the partial tree is freed.
 */
#include "util/jsonread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* jansson refuses nesting deeper than 2048; far below that is left to it */
#define MAX_DEPTH 512
/* a number longer than this is left to jansson */
#define MAX_NUMBER 64

struct reader {
	json_t *root;
	json_t *stack[MAX_DEPTH];
	int depth;
	char *key; /* the pending object key (yajl's buffer may be reused) */
	size_t keylen;
	yajl_handle h;
	size_t end; /* where the root ended: yajl reports a partial token after it as a clean end */
};

/* attaches v (stolen) to the open container, or makes it the root; 1 to go on */
static int add(struct reader *rd, json_t *v)
{
	if (!v)
		return 0;
	if (rd->depth == 0) {
		if (rd->root) {
			json_decref(v);
			return 0;
		}
		rd->root = v;
		return 1;
	}
	json_t *top = rd->stack[rd->depth - 1];
	if (json_is_array(top))
		return json_array_append_new(top, v) == 0;
	if (!rd->key || json_object_getn(top, rd->key, rd->keylen)) {
		json_decref(v); /* a duplicate key: jansson words the error */
		return 0;
	}
	int ok = json_object_setn_new(top, rd->key, rd->keylen, v) == 0;
	free(rd->key);
	rd->key = NULL;
	return ok;
}

static int on_null(void *ctx)
{
	return add(ctx, json_null());
}

static int on_boolean(void *ctx, int b)
{
	return add(ctx, json_boolean(b));
}

static int on_number(void *ctx, const char *s, size_t len)
{
	char tmp[MAX_NUMBER + 1], *end;
	if (len > MAX_NUMBER)
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	if (strpbrk(tmp, ".eE")) {
		double d = strtod(tmp, &end);
		if (errno || *end)
			return 0;
		return add(ctx, json_real(d));
	}
	long long i = strtoll(tmp, &end, 10);
	if (errno || *end)
		return 0;
	return add(ctx, json_integer((json_int_t)i));
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	return add(ctx, json_stringn((const char *)s, len)); /* NULL for what jansson refuses */
}

static int open_container(struct reader *rd, json_t *c)
{
	if (!c || rd->depth == MAX_DEPTH) {
		json_decref(c);
		return 0;
	}
	if (!add(rd, json_incref(c))) {
		json_decref(c);
		return 0;
	}
	rd->stack[rd->depth++] = c;
	json_decref(c); /* the parent (or root) holds it */
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, json_object());
}

static int on_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct reader *rd = ctx;
	free(rd->key);
	rd->key = malloc(len + 1);
	if (!rd->key)
		return 0;
	memcpy(rd->key, k, len);
	rd->key[len] = '\0';
	rd->keylen = len;
	return 1;
}

static int on_end(void *ctx)
{
	struct reader *rd = ctx;
	if (rd->depth == 0)
		return 0;
	if (--rd->depth == 0)
		rd->end = yajl_get_bytes_consumed(rd->h); /* the lexer's offset, just past the bracket */
	return 1;
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, json_array());
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

json_t *jsonread_object(const char *text, size_t len)
{
	/* jansson checks the code points of \u escapes (lone surrogates, \u0000)
	 * where yajl substitutes, and yajl takes more control characters for
	 * white space (form feed, vertical tab) than JSON's four: any \u escape
	 * and any control character but tab, LF and CR is jansson's */
	if (len < 2 || text[0] != '{' || memmem(text, len, "\\u", 2))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return NULL;
	}
	struct reader rd;
	memset(&rd, 0, sizeof(rd));
	yajl_handle h = yajl_alloc(&callbacks, NULL, &rd);
	if (!h)
		return NULL;
	rd.h = h;
	yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	free(rd.key);
	/* nothing but JSON white space after the root (yajl lets an unfinished
	 * token there pass) */
	size_t at = rd.end;
	while (at < len && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
		at++;
	if (st != yajl_status_ok || rd.depth != 0 || !json_is_object(rd.root) || !rd.end || at != len) {
		json_decref(rd.root);
		return NULL;
	}
	return rd.root;
}
