/*
 * jsoncheck.c - JSON validation without a tree, on yajl (jsoncheck.h).
 */
#include "util/jsoncheck.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* where byte `at` of text is, as a 1-based line and column */
static void position(const char *text, size_t at, int *line, int *column)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < at; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*column = c;
}

int jsoncheck(const char *text, size_t len, struct jsoncheck_error *err)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	if (!h)
		return LD_ENOMEM;
	yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	int rc = 0;
	if (st != yajl_status_ok) {
		rc = LD_EINVAL;
		if (err) {
			/* verbose 0: the description only, no quote of the text */
			unsigned char *why = yajl_get_error(h, 0, (const unsigned char *)text, len);
			snprintf(err->what, sizeof(err->what), "%s", why ? (const char *)why : "invalid JSON");
			size_t n = strlen(err->what);
			while (n && (err->what[n - 1] == '\n' || err->what[n - 1] == ' '))
				err->what[--n] = '\0';
			if (why)
				yajl_free_error(h, why);
			size_t at = yajl_get_bytes_consumed(h);
			position(text, at > len ? len : at, &err->line, &err->column);
		}
	}
	yajl_free(h);
	return rc;
}
