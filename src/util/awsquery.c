/*
 * awsquery.c - the query protocol's form decoding and XML encoding (awsquery.h).
 */
#include "util/awsquery.h"

#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* percent-decodes s[0..n) ('+' is a space) into a new string; *bad set
 * for an encoded NUL, which would cut the string short */
static char *form_decode(const char *s, size_t n, int *bad)
{
	char *o = malloc(n + 1), *w = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+') {
			*w++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && (hi = hexv(s[i + 1])) >= 0 && (lo = hexv(s[i + 2])) >= 0) {
			if (!(hi | lo))
				*bad = 1;
			*w++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = 0;
	return o;
}

/* lists are built as objects keyed "#NNNN" and turned into arrays at the end */
static int set_path(json_t *root, char *name, const char *value)
{
	char *parts[AWSQUERY_MAX_DEPTH + 1];
	int n = 0;
	size_t len = strlen(name);
	if (!len || name[0] == '.' || name[len - 1] == '.' || strstr(name, ".."))
		return LD_EINVAL; /* an empty part */
	for (char *save = NULL, *p = strtok_r(name, ".", &save); p; p = strtok_r(NULL, ".", &save)) {
		if (n >= AWSQUERY_MAX_DEPTH)
			return LD_EINVAL;
		parts[n++] = p;
	}
	if (!n)
		return LD_EINVAL;
	json_t *cur = root;
	for (int i = 0; i < n; i++) {
		char key[32];
		const char *k = parts[i];
		if (!strcmp(parts[i], "member") && i + 1 < n) {
			char *end;
			long idx = strtol(parts[i + 1], &end, 10);
			if (*end || idx < 1 || idx > AWSQUERY_MAX_INDEX)
				return LD_EINVAL;
			snprintf(key, sizeof(key), "#%04ld", idx);
			k = key;
			i++;
		}
		if (!*k)
			return LD_EINVAL;
		json_t *next = json_object_get(cur, k);
		if (i == n - 1) {
			if (next)
				return LD_EINVAL; /* the same name twice, or a name and its parts */
			return json_object_set_new(cur, k, json_string(value)) ? LD_EINVAL : 0;
		}
		if (!next) {
			next = json_object();
			if (!next)
				return LD_ENOMEM;
			if (json_object_set_new(cur, k, next))
				return LD_EINVAL; /* a key that is not UTF-8 */
		} else if (!json_is_object(next)) {
			return LD_EINVAL;
		}
		cur = next;
	}
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* objects whose keys are all "#NNNN" become arrays, recursively */
static json_t *finish(json_t *v, int depth)
{
	if (!json_is_object(v) || depth > AWSQUERY_MAX_DEPTH + 1)
		return json_incref(v);
	size_t n = json_object_size(v), i = 0;
	const char *k;
	json_t *x;
	int list = n > 0;
	json_object_foreach(v, k, x) if (k[0] != '#') list = 0;
	if (!list) {
		json_t *o = json_object();
		json_object_foreach(v, k, x) json_object_set_new(o, k, finish(x, depth + 1));
		return o;
	}
	const char **keys = malloc(n * sizeof(*keys));
	json_t *a = json_array();
	if (!keys || !a) {
		free(keys);
		json_decref(a);
		return NULL;
	}
	json_object_foreach(v, k, x) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (i = 0; i < n; i++)
		json_array_append_new(a, finish(json_object_get(v, keys[i]), depth + 1));
	free(keys);
	return a;
}

int awsquery_decode(const char *body, size_t len, json_t **out)
{
	int rc = 0, count = 0;
	json_t *root = json_object();
	*out = NULL;
	if (!root)
		return LD_ENOMEM;
	size_t i = 0;
	while (i < len && !rc) {
		size_t j = i;
		while (j < len && body[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(body + i, '=', j - i);
			size_t klen = eq ? (size_t)(eq - (body + i)) : j - i;
			int bad = 0;
			char *k = form_decode(body + i, klen, &bad);
			char *v = eq ? form_decode(eq + 1, (size_t)(body + j - eq - 1), &bad) : strdup("");
			if (!k || !v)
				rc = LD_ENOMEM;
			else if (++count > AWSQUERY_MAX_PARAMS || bad)
				rc = LD_EINVAL;
			if (!rc)
				rc = set_path(root, k, v);
			free(k);
			free(v);
		}
		i = j + 1;
	}
	if (!rc && !(*out = finish(root, 0)))
		rc = LD_ENOMEM;
	json_decref(root);
	return rc;
}

static int is_in(const char *const *list, const char *k)
{
	for (size_t i = 0; list && i < 64 && list[i]; i++)
		if (!strcmp(list[i], k))
			return 1;
	return 0;
}

int awsquery_escape(buf_t *out, const char *s)
{
	int rc = 0;
	for (const char *p = s; !rc && *p; p++) {
		switch (*p) {
		case '&': rc = buf_puts(out, "&amp;"); break;
		case '<': rc = buf_puts(out, "&lt;"); break;
		case '>': rc = buf_puts(out, "&gt;"); break;
		case '"': rc = buf_puts(out, "&quot;"); break;
		case '\'': rc = buf_puts(out, "&apos;"); break;
		default: rc = buf_append(out, p, 1);
		}
	}
	return rc;
}

static int put_scalar(buf_t *out, json_t *v, int ts)
{
	if (json_is_number(v) && ts) {
		double d = json_number_value(v);
		time_t t = (time_t)floor(d);
		struct tm tm;
		char s[64];
		if (!gmtime_r(&t, &tm))
			return LD_EINVAL;
		strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return buf_puts(out, s);
	}
	if (json_is_integer(v))
		return buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return buf_printf(out, "%.17g", json_real_value(v));
	if (json_is_true(v))
		return buf_puts(out, "true");
	if (json_is_false(v))
		return buf_puts(out, "false");
	if (json_is_string(v))
		return awsquery_escape(out, json_string_value(v));
	return 0;
}

static int put_value(buf_t *out, json_t *v, int ts, int map, const char *const *ts_keys, const char *const *map_keys,
		     int depth);

static int put_members(buf_t *out, json_t *obj, const char *const *ts_keys, const char *const *map_keys, int depth)
{
	const char *k;
	json_t *x;
	int rc = 0;
	json_object_foreach(obj, k, x) {
		if (json_is_null(x))
			continue;
		rc = buf_printf(out, "<%s>", k);
		if (!rc)
			rc = put_value(out, x, is_in(ts_keys, k), is_in(map_keys, k), ts_keys, map_keys, depth + 1);
		if (!rc)
			rc = buf_printf(out, "</%s>", k);
		if (rc)
			break;
	}
	return rc;
}

static int put_value(buf_t *out, json_t *v, int ts, int map, const char *const *ts_keys, const char *const *map_keys,
		     int depth)
{
	int rc = 0;
	if (depth > 32)
		return LD_EINVAL;
	if (json_is_object(v) && map) {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x) {
			rc = buf_puts(out, "<entry><key>");
			if (!rc)
				rc = awsquery_escape(out, k);
			if (!rc)
				rc = buf_puts(out, "</key><value>");
			if (!rc)
				rc = put_value(out, x, 0, 0, ts_keys, map_keys, depth + 1);
			if (!rc)
				rc = buf_puts(out, "</value></entry>");
			if (rc)
				break;
		}
		return rc;
	}
	if (json_is_object(v))
		return put_members(out, v, ts_keys, map_keys, depth);
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			rc = buf_puts(out, "<member>");
			if (!rc)
				rc = put_value(out, x, ts, 0, ts_keys, map_keys, depth + 1);
			if (!rc)
				rc = buf_puts(out, "</member>");
			if (rc)
				break;
		}
		return rc;
	}
	return put_scalar(out, v, ts);
}

int awsquery_xml(buf_t *out, const char *xmlns, const char *action, json_t *result, const char *request_id,
		 const char *const *ts_keys, const char *const *map_keys)
{
	int rc = buf_printf(out, "<%sResponse xmlns=\"%s\">\n  <%sResult>", action, xmlns, action);
	if (!rc && result)
		rc = put_members(out, result, ts_keys, map_keys, 0);
	if (!rc)
		rc = buf_printf(out, "</%sResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  "
				     "</ResponseMetadata>\n</%sResponse>\n",
				action, request_id, action);
	return rc;
}

int awsquery_error_xml(buf_t *out, const char *xmlns, const char *sender, const char *code, const char *message,
		       const char *request_id)
{
	int rc = buf_printf(out, "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n"
				 "    <Message>",
			    xmlns, sender, code);
	if (!rc)
		rc = awsquery_escape(out, message);
	if (!rc)
		rc = buf_printf(out, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n",
				request_id);
	return rc;
}
