/*
 * jsonw.c - compact JSON writer for jansson values (see jsonw.h).
 *
 * Strings are copied in runs between the bytes that need escaping (quote,
 * backslash, control characters); everything else, including UTF-8 (which
 * jansson validated when the value was made), passes through unchanged.
 */
#include "util/jsonw.h"
#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int put_string(buf_t *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = buf_append(out, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = buf_append(out, s + run, i - run);
		char esc[7] = { '\\', 0 };
		size_t elen = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (!rc)
			rc = buf_append(out, esc, elen);
		run = i + 1;
	}
	if (!rc)
		rc = buf_append(out, s + run, n - run);
	return rc ? rc : buf_append(out, "\"", 1);
}

static int put_integer(buf_t *out, json_int_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return buf_append(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

static int put_real(buf_t *out, double d)
{
	char tmp[32];
	if (!isfinite(d))
		return LD_EINVAL;
	/* jansson's form: the shortest %.17g that round-trips, with ".0" for integers */
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*g", p, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (!strpbrk(tmp, ".eE"))
		strcat(tmp, ".0");
	return buf_puts(out, tmp);
}

int jsonw_dump(json_t *v, buf_t *out)
{
	int rc = 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *e;
		int first = 1;
		rc = buf_append(out, "{", 1);
		json_object_foreach(v, k, e) {
			if (rc)
				break;
			if (!first)
				rc = buf_append(out, ",", 1);
			first = 0;
			if (!rc)
				rc = put_string(out, k, strlen(k));
			if (!rc)
				rc = buf_append(out, ":", 1);
			if (!rc)
				rc = jsonw_dump(e, out);
		}
		return rc ? rc : buf_append(out, "}", 1);
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		rc = buf_append(out, "[", 1);
		json_array_foreach(v, i, e) {
			if (rc)
				break;
			if (i)
				rc = buf_append(out, ",", 1);
			if (!rc)
				rc = jsonw_dump(e, out);
		}
		return rc ? rc : buf_append(out, "]", 1);
	}
	case JSON_STRING:
		return put_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return put_integer(out, json_integer_value(v));
	case JSON_REAL:
		return put_real(out, json_real_value(v));
	case JSON_TRUE:
		return buf_append(out, "true", 4);
	case JSON_FALSE:
		return buf_append(out, "false", 5);
	case JSON_NULL:
		return buf_append(out, "null", 4);
	}
	return LD_EINVAL;
}
