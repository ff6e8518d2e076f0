/*
 * access.c - resource-based policy evaluation (see access.h).
 */
#include "auth/access.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int access_glob(const char *p, const char *s, int nocase)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || (nocase ? tolower((unsigned char)*p) == tolower((unsigned char)*s) : *p == *s)) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* calls match(value) for a string or each string of an array: 1 if any matches */
static int any_of(json_t *v, int (*match)(const char *value, const void *arg), const void *arg)
{
	if (json_is_string(v))
		return match(json_string_value(v), arg);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (json_is_string(e) && match(json_string_value(e), arg))
			return 1;
	}
	return 0;
}

static int match_aws_principal(const char *v, const void *arg)
{
	const struct access_request *q = arg;
	if (!strcmp(v, "*"))
		return 1;
	if (q->principal && !strcmp(v, q->principal))
		return 1;
	if (!strcmp(v, q->account))
		return 1;
	/* arn:PARTITION:iam::ACCOUNT:root */
	const char *at = strstr(v, ":iam::");
	size_t n = strlen(q->account);
	return !strncmp(v, "arn:", 4) && at && !strncmp(at + 6, q->account, n) && !strcmp(at + 6 + n, ":root");
}

static int principal_matches(json_t *p, const struct access_request *q)
{
	if (json_is_string(p))
		return !strcmp(json_string_value(p), "*");
	return any_of(json_object_get(p, "AWS"), match_aws_principal, q);
}

static int match_action(const char *v, const void *arg)
{
	return access_glob(v, arg, 1);
}

static int match_resource(const char *v, const void *arg)
{
	return access_glob(v, arg, 0);
}

/* the request's value of a condition key, or NULL */
static const char *context_value(const struct access_request *q, const char *key)
{
	if (!strcasecmp(key, "aws:PrincipalAccount"))
		return q->account;
	if (!strcasecmp(key, "aws:PrincipalArn"))
		return q->principal;
	if (!strcasecmp(key, "lambda:FunctionUrlAuthType"))
		return q->url_auth_type;
	return NULL;
}

struct cmp {
	const char *have;
	int kind; /* 0 exact, 1 ignore case, 2 glob, 3 bool */
};

static int match_value(const char *want, const void *arg)
{
	const struct cmp *c = arg;
	switch (c->kind) {
	case 0: return !strcmp(want, c->have);
	case 1: return !strcasecmp(want, c->have);
	case 2: return access_glob(want, c->have, 0);
	default: return !strcasecmp(want, c->have);
	}
}

/* one operator block {"key": value(s), ...}: every key must match */
static int operator_matches(const char *op, json_t *block, const struct access_request *q)
{
	static const struct {
		const char *name;
		int kind, negated;
	} ops[] = {
		{ "StringEquals", 0, 0 },	       { "StringNotEquals", 0, 1 }, { "StringEqualsIgnoreCase", 1, 0 },
		{ "StringNotEqualsIgnoreCase", 1, 1 }, { "StringLike", 2, 0 },	    { "StringNotLike", 2, 1 },
		{ "ArnEquals", 2, 0 },		       { "ArnLike", 2, 0 },	    { "ArnNotEquals", 2, 1 },
		{ "ArnNotLike", 2, 1 },		       { "Bool", 3, 0 },
	};
	size_t i;
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(ops[i].name, op))
			break;
	if (i == sizeof ops / sizeof ops[0] || !json_is_object(block))
		return 0;
	const char *key;
	json_t *want;
	json_object_foreach(block, key, want) {
		const char *have = context_value(q, key);
		if (!have) {
			if (!ops[i].negated)
				return 0;
			continue;
		}
		struct cmp c = { have, ops[i].kind };
		if (any_of(want, match_value, &c) == ops[i].negated)
			return 0;
	}
	return 1;
}

static int statement_matches(json_t *s, const struct access_request *q)
{
	json_t *res = json_object_get(s, "Resource");
	if (!principal_matches(json_object_get(s, "Principal"), q) ||
	    !any_of(json_object_get(s, "Action"), match_action, q->action) ||
	    (res && !any_of(res, match_resource, q->resource)))
		return 0;
	const char *op;
	json_t *block;
	json_object_foreach(json_object_get(s, "Condition"), op, block) {
		if (!operator_matches(op, block, q))
			return 0;
	}
	return 1;
}

int access_allows(json_t *statements, const struct access_request *q)
{
	int allowed = 0;
	if (json_is_object(statements)) {
		const char *effect = json_string_value(json_object_get(statements, "Effect"));
		return effect && !strcmp(effect, "Allow") && statement_matches(statements, q);
	}
	size_t i;
	json_t *s;
	json_array_foreach(statements, i, s) {
		if (!statement_matches(s, q))
			continue;
		const char *effect = json_string_value(json_object_get(s, "Effect"));
		if (effect && !strcmp(effect, "Deny"))
			return 0;
		if (effect && !strcmp(effect, "Allow"))
			allowed = 1;
	}
	return allowed;
}

json_t *access_find_statement(json_t *policy, const char *sid, size_t *index)
{
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(policy, "Statement"), i, st) {
		const char *have = json_string_value(json_object_get(st, "Sid"));
		if (have && !strcmp(have, sid)) {
			if (index)
				*index = i;
			return st;
		}
	}
	return NULL;
}
