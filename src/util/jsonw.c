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
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* the index of the first byte of s[i..n) that needs an escape (n if none),
 * eight bytes at a time: a word has a byte below 0x20, a quote or a
 * backslash exactly when these classic has-less / has-zero tests say so */
static size_t clean_run(const char *s, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	while (i + 8 <= n) {
		uint64_t w, q, b;
		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if (((w - ones * 0x20) & ~w & highs) | ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs))
			break;
		i += 8;
	}
	while (i < n && !needs_escape((unsigned char)s[i]))
		i++;
	return i;
}

/* Room for the plain case (quotes and bytes) is reserved up front and the
 * runs between escapes are copied straight into the buffer; an escape (rare
 * in practice) reserves the extra bytes it needs. */
static int put_string(buf_t *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = buf_reserve(out, n + 2);
	if (rc)
		return rc;
	size_t at = out->len;
	out->data[at++] = '"';
	size_t i = 0;
	while (i < n) {
		/* the run of bytes that pass through, copied at once */
		size_t run = clean_run(s, i, n);
		memcpy(out->data + at, s + i, run - i);
		at += run - i;
		i = run;
		if (i == n)
			break;
		unsigned char c = (unsigned char)s[i++];
		out->len = at;
		if ((rc = buf_reserve(out, 6 + (n - i) + 1)))
			return rc;
		char *p = out->data + at;
		*p++ = '\\';
		switch (c) {
		case '"': *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\b': *p++ = 'b'; break;
		case '\f': *p++ = 'f'; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		default:
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
		at = (size_t)(p - out->data);
	}
	out->data[at++] = '"';
	out->len = at;
	out->data[at] = '\0';
	return 0;
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

static int dump(json_t *v, buf_t *out, int all)
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
			if (k[0] == '_' && !all)
				continue; /* internal field */
			if (!first)
				rc = buf_append(out, ",", 1);
			first = 0;
			if (!rc)
				rc = put_string(out, k, strlen(k));
			if (!rc)
				rc = buf_append(out, ":", 1);
			if (!rc)
				rc = dump(e, out, all);
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
				rc = dump(e, out, all);
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

int jsonw_dump(json_t *v, buf_t *out)
{
	return dump(v, out, 0);
}

int jsonw_dump_all(json_t *v, buf_t *out)
{
	return dump(v, out, 1);
}
