/*
 * pattern.c - matching event patterns (pattern.h).
 */
#include "util/pattern.h"

#include <fnmatch.h>
#include <string.h>
#include <strings.h>

static int starts(const char *s, const char *p, int nocase)
{
	size_t n = strlen(p);
	return strlen(s) >= n && (nocase ? !strncasecmp(s, p, n) : !strncmp(s, p, n));
}

static int ends(const char *s, const char *p, int nocase)
{
	size_t a = strlen(s), b = strlen(p);
	return a >= b && (nocase ? !strcasecmp(s + a - b, p) : !strcmp(s + a - b, p));
}

/* {"prefix": "x"} or {"prefix": {"equals-ignore-case": "x"}} against s */
static int affix(json_t *arg, const char *s, int prefix)
{
	const char *p = json_string_value(arg);
	int nocase = 0;
	if (!p && json_is_object(arg)) {
		p = json_string_value(json_object_get(arg, "equals-ignore-case"));
		nocase = 1;
	}
	if (!p || !s)
		return 0;
	return prefix ? starts(s, p, nocase) : ends(s, p, nocase);
}

static int equal(json_t *m, json_t *v)
{
	if (json_is_number(m))
		return json_is_number(v) && json_number_value(m) == json_number_value(v);
	if (json_is_string(m))
		return json_is_string(v) && !strcmp(json_string_value(m), json_string_value(v));
	if (json_is_null(m))
		return json_is_null(v);
	if (json_is_boolean(m))
		return json_is_boolean(v) && json_is_true(m) == json_is_true(v);
	return 0;
}

static int numeric(json_t *ops, json_t *v)
{
	if (!json_is_number(v) || !json_is_array(ops) || (json_array_size(ops) != 2 && json_array_size(ops) != 4))
		return 0;
	double x = json_number_value(v);
	for (size_t i = 0; i + 1 < json_array_size(ops); i += 2) {
		const char *o = json_string_value(json_array_get(ops, i));
		json_t *n = json_array_get(ops, i + 1);
		if (!o || !json_is_number(n))
			return 0;
		double y = json_number_value(n);
		int ok = !strcmp(o, "=") ? x == y : !strcmp(o, "<") ? x < y : !strcmp(o, "<=") ? x <= y
						   : !strcmp(o, ">") ? x > y : !strcmp(o, ">=") ? x >= y : 0;
		if (!ok)
			return 0;
	}
	return 1;
}

/* one matcher against one present value */
static int matcher(json_t *m, json_t *v)
{
	if (!json_is_object(m))
		return equal(m, v);
	if (json_object_size(m) != 1)
		return 0;
	const char *op = json_object_iter_key(json_object_iter(m));
	json_t *arg = json_object_iter_value(json_object_iter(m));
	const char *s = json_string_value(v);
	if (!strcmp(op, "prefix"))
		return affix(arg, s, 1);
	if (!strcmp(op, "suffix"))
		return affix(arg, s, 0);
	if (!strcmp(op, "equals-ignore-case"))
		return s && json_string_value(arg) && !strcasecmp(s, json_string_value(arg));
	if (!strcmp(op, "wildcard"))
		return s && json_string_value(arg) && fnmatch(json_string_value(arg), s, FNM_NOESCAPE) == 0;
	if (!strcmp(op, "numeric"))
		return numeric(arg, v);
	if (!strcmp(op, "exists"))
		return json_is_true(arg); /* called for present values only */
	if (!strcmp(op, "anything-but")) {
		if (json_is_array(arg)) {
			size_t i;
			json_t *e;
			json_array_foreach(arg, i, e) if (equal(e, v)) return 0;
			return 1;
		}
		if (json_is_object(arg))
			return !matcher(arg, v) && (s != NULL);
		return !equal(arg, v);
	}
	return 0;
}

/* a field (v, NULL when missing) against an array of matchers */
static int field(json_t *matchers, json_t *v)
{
	size_t i;
	json_t *m;
	json_array_foreach(matchers, i, m) {
		if (!v) {
			if (json_is_object(m) && json_is_false(json_object_get(m, "exists")) && json_object_size(m) == 1)
				return 1;
			continue;
		}
		if (json_is_array(v)) {
			size_t k;
			json_t *e;
			json_array_foreach(v, k, e) if (matcher(m, e)) return 1;
		} else if (matcher(m, v)) {
			return 1;
		}
	}
	return 0;
}

static int match(json_t *pattern, json_t *event, int depth)
{
	if (!json_is_object(pattern) || depth > 32)
		return 0;
	const char *k;
	json_t *p;
	json_object_foreach(pattern, k, p) {
		if (!strcmp(k, "$or")) {
			int any = 0;
			size_t i;
			json_t *alt;
			json_array_foreach(p, i, alt) any |= match(alt, event, depth + 1);
			if (!any)
				return 0;
			continue;
		}
		json_t *v = json_is_object(event) ? json_object_get(event, k) : NULL;
		if (json_is_object(p)) {
			int ok = 0;
			if (json_is_object(v)) {
				ok = match(p, v, depth + 1);
			} else if (json_is_array(v)) {
				size_t i;
				json_t *e;
				json_array_foreach(v, i, e) ok |= json_is_object(e) && match(p, e, depth + 1);
			}
			if (!ok)
				return 0;
		} else if (!json_is_array(p) || !field(p, v)) {
			return 0;
		}
	}
	return 1;
}

int pattern_match(json_t *pattern, json_t *event)
{
	return match(pattern, event, 0);
}

int pattern_filters_match(json_t *fc, json_t *event)
{
	json_t *filters = json_object_get(fc, "Filters");
	if (!json_array_size(filters))
		return 1;
	size_t i;
	json_t *f;
	json_array_foreach(filters, i, f) {
		json_t *p = json_loads(json_string_value(json_object_get(f, "Pattern")) ?: "", 0, NULL);
		int ok = p && pattern_match(p, event);
		json_decref(p);
		if (ok)
			return 1;
	}
	return 0;
}
