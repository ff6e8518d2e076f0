/*
 * logfilter.c - CloudWatch Logs filter patterns (logfilter.h).
 *
 * A pattern compiles into one of three shapes: a list of terms, an
 * expression tree over JSON selectors, or a list of fields with
 * expression trees over field names. Expressions live in one array of
 * nodes (and, or, comparison) referring to each other by index.
 */
#include "util/logfilter.h"
#include "util/err.h"

#include <ctype.h>
#include <jansson.h>
#include <regex.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

enum shape { LF_ALL, LF_TERMS, LF_JSON, LF_FIELDS };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_TRUE, OP_FALSE, OP_NULL, OP_NOT_EXISTS };
enum node_type { N_AND, N_OR, N_CMP };

struct value {
	char *text;     /* the string (wildcards kept), or NULL */
	int is_num;     /* an unquoted number */
	double num;
	int is_re;      /* %regex% */
	regex_t re;
};

struct node {
	enum node_type type;
	int a, b;       /* N_AND, N_OR: operands */
	char *path;     /* N_CMP: "$.a[0].b" or a field's name */
	enum op op;
	struct value v;
};

struct term {
	char mode;      /* ' ' every, '?' any, '-' none */
	struct value v; /* text or regex */
};

struct field {
	char *name;     /* NULL for "..." */
	int expr;       /* a node, or -1 */
};

struct logfilter {
	enum shape shape;
	struct term terms[LOGFILTER_MAX_NODES];
	int nterms;
	struct node nodes[LOGFILTER_MAX_NODES];
	int nnodes;
	int root;
	struct field fields[LOGFILTER_MAX_NODES];
	int nfields;
};

/* ---- parsing ---- */

struct parser {
	const char *s;
	size_t i, n;
	logfilter_t *f;
	int rc;         /* the first error */
	int regexes;
};

static int fail(struct parser *p, int rc)
{
	if (!p->rc)
		p->rc = rc;
	return -1;
}

static void skip(struct parser *p)
{
	while (p->i < p->n && isspace((unsigned char)p->s[p->i]))
		p->i++;
}

static int peek(struct parser *p, const char *tok)
{
	size_t k = strlen(tok);
	return p->i + k <= p->n && !memcmp(p->s + p->i, tok, k);
}

/* a keyword (IS, TRUE, NOT, EXISTS ...), case-insensitive, then not a name character */
static int keyword(struct parser *p, const char *kw)
{
	size_t k = strlen(kw);
	if (p->i + k > p->n || strncasecmp(p->s + p->i, kw, k))
		return 0;
	if (p->i + k < p->n && (isalnum((unsigned char)p->s[p->i + k]) || p->s[p->i + k] == '_'))
		return 0;
	p->i += k;
	return 1;
}

/* AWS's restricted regular expressions: letters, digits, the symbols
 * :_#=@/;,- and the operators ^$?[]{}|\*+. (no groups), two per pattern;
 * besides, no quantifier right after another and repeat counts of at most
 * LOGFILTER_MAX_REPEAT, so that compiling one stays cheap */
static int re_allowed(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		if (!isalnum(c) && !strchr(":_#=@/;,-^$?[]{}|\\*+. ", c))
			return 0;
		int quant = strchr("*+?", c) || c == '}';
		if (quant && i + 1 < len && strchr("*+?{", t[i + 1]))
			return 0;
		if (c == '{') {
			char *end;
			long a = strtol(t + i + 1, &end, 10), b = a;
			if (*end == ',')
				b = strtol(end + 1, &end, 10);
			if (a > LOGFILTER_MAX_REPEAT || b > LOGFILTER_MAX_REPEAT || a < 0 || b < 0)
				return 0;
		}
	}
	return 1;
}

static int compile_re(struct parser *p, struct value *v, const char *text, size_t len)
{
	if (++p->regexes > LOGFILTER_MAX_REGEX || !re_allowed(text, len))
		return fail(p, LD_EINVAL);
	char *re = strndup(text, len);
	if (!re)
		return fail(p, LD_ENOMEM);
	int bad = !len || regcomp(&v->re, re, REG_EXTENDED | REG_NOSUB);
	free(re);
	if (bad)
		return fail(p, LD_EINVAL);
	v->is_re = 1;
	return 0;
}

/* "quoted" (with \" and \\), %regex%, or a bare word up to a space or
 * one of stop; numbers are recognised in bare words only */
static int value(struct parser *p, struct value *v, const char *stop)
{
	skip(p);
	if (p->i >= p->n)
		return fail(p, LD_EINVAL);
	char c = p->s[p->i];
	if (c == '%') {
		const char *end = memchr(p->s + p->i + 1, '%', p->n - p->i - 1);
		if (!end)
			return fail(p, LD_EINVAL);
		int rc = compile_re(p, v, p->s + p->i + 1, (size_t)(end - (p->s + p->i + 1)));
		p->i = (size_t)(end - p->s) + 1;
		return rc;
	}
	if (c == '"') {
		char *out = malloc(p->n - p->i);
		size_t k = 0;
		if (!out)
			return fail(p, LD_ENOMEM);
		for (p->i++; p->i < p->n && p->s[p->i] != '"'; p->i++) {
			if (p->s[p->i] == '\\' && p->i + 1 < p->n)
				p->i++;
			out[k++] = p->s[p->i];
		}
		if (p->i >= p->n) {
			free(out);
			return fail(p, LD_EINVAL);
		}
		p->i++;
		out[k] = 0;
		v->text = out;
		return 0;
	}
	size_t start = p->i;
	while (p->i < p->n && !isspace((unsigned char)p->s[p->i]) && !strchr(stop, p->s[p->i]))
		p->i++;
	if (p->i == start)
		return fail(p, LD_EINVAL);
	if (!(v->text = strndup(p->s + start, p->i - start)))
		return fail(p, LD_ENOMEM);
	char *end;
	v->num = strtod(v->text, &end);
	v->is_num = *end == 0 && end != v->text && !strchr(v->text, '*');
	return 0;
}

static int new_node(struct parser *p)
{
	if (p->f->nnodes >= LOGFILTER_MAX_NODES)
		return fail(p, LD_ETOOBIG);
	return p->f->nnodes++;
}

/* SELECTOR OP VALUE | SELECTOR IS TRUE|FALSE|NULL | SELECTOR NOT EXISTS */
static int comparison(struct parser *p, int json)
{
	skip(p);
	size_t start = p->i;
	if (json && !peek(p, "$"))
		return fail(p, LD_EINVAL);
	while (p->i < p->n) {
		char c = p->s[p->i];
		if (isalnum((unsigned char)c) || strchr("_-$.[]@:", c))
			p->i++;
		else
			break;
	}
	if (p->i == start || (json && p->i - start < 2))
		return fail(p, LD_EINVAL);
	int k = new_node(p);
	if (k < 0)
		return -1;
	struct node *nd = &p->f->nodes[k];
	nd->type = N_CMP;
	if (!(nd->path = strndup(p->s + start, p->i - start)))
		return fail(p, LD_ENOMEM);
	skip(p);
	static const struct { const char *tok; enum op op; } ops[] = {
		{ "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE }, { "=", OP_EQ }, { "<", OP_LT }, { ">", OP_GT },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (peek(p, ops[i].tok)) {
			p->i += strlen(ops[i].tok);
			nd->op = ops[i].op;
			if (value(p, &nd->v, json ? ")&|}" : ")&|],"))
				return -1;
			if (nd->op >= OP_LT && nd->op <= OP_GE && !nd->v.is_num)
				return fail(p, LD_EINVAL); /* ordering compares numbers only */
			return k;
		}
	if (keyword(p, "IS")) {
		skip(p);
		if (keyword(p, "TRUE"))
			nd->op = OP_TRUE;
		else if (keyword(p, "FALSE"))
			nd->op = OP_FALSE;
		else if (keyword(p, "NULL"))
			nd->op = OP_NULL;
		else
			return fail(p, LD_EINVAL);
		return k;
	}
	if (keyword(p, "NOT")) {
		skip(p);
		if (keyword(p, "EXISTS")) {
			nd->op = OP_NOT_EXISTS;
			return k;
		}
	}
	return fail(p, LD_EINVAL);
}

static int expr(struct parser *p, int json, int depth);

static int unary(struct parser *p, int json, int depth)
{
	skip(p);
	if (peek(p, "(")) {
		p->i++;
		int k = expr(p, json, depth + 1);
		skip(p);
		if (k < 0 || !peek(p, ")"))
			return fail(p, LD_EINVAL);
		p->i++;
		return k;
	}
	return comparison(p, json);
}

/* and binds tighter than or */
static int expr(struct parser *p, int json, int depth)
{
	if (depth > 16)
		return fail(p, LD_ETOOBIG);
	int left = -1;
	for (;;) {
		int term = unary(p, json, depth);
		if (term < 0)
			return -1;
		for (;;) {
			skip(p);
			if (!peek(p, "&&"))
				break;
			p->i += 2;
			int right = unary(p, json, depth);
			int k = right < 0 ? -1 : new_node(p);
			if (k < 0)
				return -1;
			p->f->nodes[k] = (struct node){ .type = N_AND, .a = term, .b = right };
			term = k;
		}
		if (left < 0) {
			left = term;
		} else {
			int k = new_node(p);
			if (k < 0)
				return -1;
			p->f->nodes[k] = (struct node){ .type = N_OR, .a = left, .b = term };
			left = k;
		}
		skip(p);
		if (!peek(p, "||"))
			return left;
		p->i += 2;
	}
}

static int parse_json(struct parser *p)
{
	p->i++; /* { */
	p->f->shape = LF_JSON;
	p->f->root = expr(p, 1, 0);
	skip(p);
	if (p->f->root < 0 || !peek(p, "}"))
		return fail(p, LD_EINVAL);
	p->i++;
	skip(p);
	return p->i == p->n ? 0 : fail(p, LD_EINVAL);
}

static int parse_fields(struct parser *p)
{
	p->i++; /* [ */
	p->f->shape = LF_FIELDS;
	for (;;) {
		skip(p);
		if (p->f->nfields >= LOGFILTER_MAX_NODES)
			return fail(p, LD_ETOOBIG);
		struct field *fd = &p->f->fields[p->f->nfields++];
		fd->expr = -1;
		if (peek(p, "...")) {
			for (int i = 0; i < p->f->nfields - 1; i++)
				if (!p->f->fields[i].name)
					return fail(p, LD_EINVAL); /* one "..." at most */
			p->i += 3;
		} else {
			size_t start = p->i;
			while (p->i < p->n && (isalnum((unsigned char)p->s[p->i]) || p->s[p->i] == '_'))
				p->i++;
			if (p->i == start)
				return fail(p, LD_EINVAL);
			if (!(fd->name = strndup(p->s + start, p->i - start)))
				return fail(p, LD_ENOMEM);
			skip(p);
			if (!peek(p, ",") && !peek(p, "]")) { /* conditions on this field */
				p->i = start;
				if ((fd->expr = expr(p, 0, 0)) < 0)
					return -1;
			}
		}
		skip(p);
		if (peek(p, ",")) {
			p->i++;
			continue;
		}
		if (!peek(p, "]"))
			return fail(p, LD_EINVAL);
		p->i++;
		skip(p);
		return p->i == p->n ? 0 : fail(p, LD_EINVAL);
	}
}

static int parse_terms(struct parser *p)
{
	p->f->shape = LF_TERMS;
	for (;;) {
		skip(p);
		if (p->i >= p->n)
			return 0;
		if (p->f->nterms >= LOGFILTER_MAX_NODES)
			return fail(p, LD_ETOOBIG);
		struct term *t = &p->f->terms[p->f->nterms++];
		t->mode = ' ';
		if (p->s[p->i] == '?' || p->s[p->i] == '-') {
			t->mode = p->s[p->i++];
			if (p->i >= p->n || isspace((unsigned char)p->s[p->i]))
				return fail(p, LD_EINVAL);
		}
		if (value(p, &t->v, ""))
			return -1;
	}
}

int logfilter_compile(const char *pattern, logfilter_t **out)
{
	*out = NULL;
	if (!pattern)
		return LD_EINVAL;
	size_t n = strlen(pattern);
	if (n > LOGFILTER_MAX_PATTERN)
		return LD_ETOOBIG;
	logfilter_t *f = calloc(1, sizeof(*f));
	if (!f)
		return LD_ENOMEM;
	struct parser p = { pattern, 0, n, f, 0, 0 };
	skip(&p);
	if (p.i == n)
		f->shape = LF_ALL;
	else if (peek(&p, "{"))
		parse_json(&p);
	else if (peek(&p, "["))
		parse_fields(&p);
	else
		parse_terms(&p);
	if (p.rc) {
		logfilter_free(f);
		return p.rc;
	}
	*out = f;
	return 0;
}

static void value_free(struct value *v)
{
	free(v->text);
	if (v->is_re)
		regfree(&v->re);
}

void logfilter_free(logfilter_t *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nterms; i++)
		value_free(&f->terms[i].v);
	for (int i = 0; i < f->nnodes; i++) {
		free(f->nodes[i].path);
		value_free(&f->nodes[i].v);
	}
	for (int i = 0; i < f->nfields; i++)
		free(f->fields[i].name);
	free(f);
}

/* ---- matching ---- */

/* s[0..n) against a pattern where * is any run of characters */
static int glob(const char *pat, const char *s, size_t n)
{
	size_t i = 0, star_p = (size_t)-1, star_i = 0, pn = strlen(pat), k = 0;
	while (i < n) {
		if (k < pn && pat[k] == '*') {
			star_p = k++;
			star_i = i;
		} else if (k < pn && pat[k] == s[i]) {
			k++;
			i++;
		} else if (star_p != (size_t)-1) {
			k = star_p + 1;
			i = ++star_i;
		} else {
			return 0;
		}
	}
	while (k < pn && pat[k] == '*')
		k++;
	return k == pn;
}

static int regex_hit(const regex_t *re, const char *s, size_t n)
{
	char *z = strndup(s, n);
	int m = z && regexec(re, z, 0, NULL, 0) == 0;
	free(z);
	return m;
}

/* = and != on a text: the pattern's text (wildcards) or regex, or a number */
static int text_equals(const struct value *v, const char *s, size_t n)
{
	if (v->is_re)
		return regex_hit(&v->re, s, n);
	if (v->is_num) {
		char buf[64], *end;
		if (n && n < sizeof(buf)) {
			memcpy(buf, s, n);
			buf[n] = 0;
			double d = strtod(buf, &end);
			if (*end == 0)
				return d == v->num;
		}
	}
	return glob(v->text, s, n);
}

static int order(enum op op, double a, double b)
{
	switch (op) {
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	default: return 0;
	}
}

/* the JSON value a selector names, or NULL */
static json_t *select_json(json_t *doc, const char *path)
{
	const char *s = path + 1; /* after $ */
	json_t *cur = doc;
	while (*s && cur) {
		if (*s == '.') {
			s++;
			size_t k = strcspn(s, ".[");
			if (!k)
				return NULL;
			char name[256];
			if (k >= sizeof(name))
				return NULL;
			memcpy(name, s, k);
			name[k] = 0;
			cur = json_object_get(cur, name);
			s += k;
		} else if (*s == '[') {
			char *end;
			long idx = strtol(s + 1, &end, 10);
			if (*end != ']' || idx < 0)
				return NULL;
			cur = json_array_get(cur, (size_t)idx);
			s = end + 1;
		} else {
			return NULL;
		}
	}
	return cur;
}

static int json_cmp(const struct node *nd, json_t *doc)
{
	json_t *v = select_json(doc, nd->path);
	switch (nd->op) {
	case OP_NOT_EXISTS: return v == NULL;
	case OP_TRUE: return json_is_true(v);
	case OP_FALSE: return json_is_false(v);
	case OP_NULL: return json_is_null(v);
	default: break;
	}
	if (!v)
		return 0;
	if (nd->op != OP_EQ && nd->op != OP_NE)
		return json_is_number(v) && order(nd->op, json_number_value(v), nd->v.num);
	int eq;
	if (json_is_number(v) && nd->v.is_num)
		eq = json_number_value(v) == nd->v.num;
	else if (json_is_string(v))
		eq = text_equals(&nd->v, json_string_value(v), json_string_length(v));
	else if (json_is_boolean(v) && nd->v.text && !nd->v.is_re)
		eq = !strcmp(nd->v.text, json_is_true(v) ? "true" : "false");
	else
		eq = 0;
	return nd->op == OP_EQ ? eq : !eq;
}

struct span {
	const char *s;
	size_t n;
};

/* the field named name among the pattern's, matched to spans */
static int field_cmp(const struct node *nd, const logfilter_t *f, const struct span *at)
{
	const struct span *sp = NULL;
	for (int i = 0; i < f->nfields; i++)
		if (f->fields[i].name && !strcmp(f->fields[i].name, nd->path))
			sp = &at[i];
	if (!sp || !sp->s)
		return nd->op == OP_NOT_EXISTS;
	if (nd->op == OP_EQ || nd->op == OP_NE) {
		int eq = text_equals(&nd->v, sp->s, sp->n);
		return nd->op == OP_EQ ? eq : !eq;
	}
	if (nd->op < OP_LT || nd->op > OP_GE)
		return 0;
	char buf[64], *end;
	if (!sp->n || sp->n >= sizeof(buf))
		return 0;
	memcpy(buf, sp->s, sp->n);
	buf[sp->n] = 0;
	double d = strtod(buf, &end);
	return *end == 0 && order(nd->op, d, nd->v.num);
}

static int eval(const logfilter_t *f, int k, json_t *doc, const struct span *at, int depth)
{
	const struct node *nd = &f->nodes[k];
	if (depth > 64)
		return 0;
	switch (nd->type) {
	case N_AND: return eval(f, nd->a, doc, at, depth + 1) && eval(f, nd->b, doc, at, depth + 1);
	case N_OR: return eval(f, nd->a, doc, at, depth + 1) || eval(f, nd->b, doc, at, depth + 1);
	default: return doc ? json_cmp(nd, doc) : field_cmp(nd, f, at);
	}
}

static int terms_match(const logfilter_t *f, const char *msg, size_t len)
{
	int any_seen = 0, any_hit = 0;
	for (int i = 0; i < f->nterms; i++) {
		const struct term *t = &f->terms[i];
		int hit = t->v.is_re ? regex_hit(&t->v.re, msg, len)
				     : memmem(msg, len, t->v.text, strlen(t->v.text)) != NULL;
		if (t->mode == ' ' && !hit)
			return 0;
		if (t->mode == '-' && hit)
			return 0;
		if (t->mode == '?') {
			any_seen = 1;
			any_hit |= hit;
		}
	}
	return !any_seen || any_hit;
}

/* splits msg into at most max fields; a "quoted" or [bracketed] one counts as one */
static int split(const char *msg, size_t len, struct span *out, int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && msg[i] == ' ')
			i++;
		if (i >= len)
			break;
		if (n >= max)
			return -1;
		char close = msg[i] == '"' ? '"' : msg[i] == '[' ? ']' : 0;
		if (close) {
			const char *end = memchr(msg + i + 1, close, len - i - 1);
			size_t stop = end ? (size_t)(end - msg) : len;
			out[n++] = (struct span){ msg + i + 1, stop - i - 1 };
			i = stop + 1;
		} else {
			size_t start = i;
			while (i < len && msg[i] != ' ')
				i++;
			out[n++] = (struct span){ msg + start, i - start };
		}
	}
	return n;
}

static int fields_match(const logfilter_t *f, const char *msg, size_t len)
{
	struct span got[LOGFILTER_MAX_NODES * 2], at[LOGFILTER_MAX_NODES];
	int n = split(msg, len, got, (int)(sizeof(got) / sizeof(got[0])));
	if (n < 0)
		return 0;
	int ell = -1, named = 0;
	for (int i = 0; i < f->nfields; i++) {
		if (!f->fields[i].name)
			ell = i;
		else
			named++;
	}
	if (ell < 0 ? n != f->nfields : n < named)
		return 0;
	/* fields before "..." from the start, after it from the end */
	for (int i = 0; i < f->nfields; i++) {
		if (ell < 0 || i < ell)
			at[i] = got[i];
		else if (i == ell)
			at[i] = (struct span){ NULL, 0 };
		else
			at[i] = got[n - (f->nfields - i)];
	}
	for (int i = 0; i < f->nfields; i++)
		if (f->fields[i].expr >= 0 && !eval(f, f->fields[i].expr, NULL, at, 0))
			return 0;
	return 1;
}

int logfilter_match(const logfilter_t *f, const char *msg, size_t len)
{
	switch (f->shape) {
	case LF_ALL: return 1;
	case LF_TERMS: return terms_match(f, msg, len);
	case LF_FIELDS: return fields_match(f, msg, len);
	case LF_JSON: {
		json_t *doc = json_loadb(msg, len, 0, NULL);
		int m = json_is_object(doc) && eval(f, f->root, doc, NULL, 0);
		json_decref(doc);
		return m;
	}
	}
	return 0;
}
