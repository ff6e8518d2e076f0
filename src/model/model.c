/*
 * model.c - compiles the embedded Lambda API model and validates inputs.
 *
 * The JSON text from model_data.c is parsed once with jansson and kept alive:
 * every name in the compiled structures points into it. Shapes are created
 * in two passes (allocate all, then resolve references) because they refer
 * to each other. Patterns are compiled with PCRE2 (the model's patterns use
 * look-arounds that POSIX regex lacks) and always match the whole value, as
 * Java's String.matches does on AWS's side.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "model/model.h"
#include "util/buf.h"
#include "util/err.h"

#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *g_root;
static struct shape *g_shapes;
static size_t g_nshapes;
static json_t *g_index; /* shape name -> index in g_shapes */
static struct model_op *g_ops;
static size_t g_nops;
static pcre2_match_data *g_md;

static enum shape_type type_of(const char *t)
{
	static const struct { const char *n; enum shape_type t; } map[] = {
		{ "structure", SHAPE_STRUCTURE }, { "list", SHAPE_LIST }, { "map", SHAPE_MAP },
		{ "string", SHAPE_STRING }, { "integer", SHAPE_INTEGER }, { "long", SHAPE_LONG },
		{ "boolean", SHAPE_BOOLEAN }, { "blob", SHAPE_BLOB }, { "timestamp", SHAPE_TIMESTAMP },
		{ "double", SHAPE_DOUBLE }, { "float", SHAPE_FLOAT },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].n, t) == 0)
			return map[i].t;
	return SHAPE_STRING;
}

const struct shape *model_shape(const char *name)
{
	json_t *ix = g_index ? json_object_get(g_index, name) : NULL;
	return ix ? &g_shapes[json_integer_value(ix)] : NULL;
}

static const struct shape *ref_shape(json_t *ref)
{
	const char *n = json_string_value(json_object_get(ref, "shape"));
	return n ? model_shape(n) : NULL;
}

static enum member_loc loc_of(const char *l)
{
	if (!l)
		return LOC_BODY;
	if (!strcmp(l, "uri"))
		return LOC_URI;
	if (!strcmp(l, "querystring"))
		return LOC_QUERY;
	if (!strcmp(l, "header"))
		return LOC_HEADER;
	if (!strcmp(l, "statusCode"))
		return LOC_STATUS;
	return LOC_BODY;
}

static int compile_shape(struct shape *s, const char *name, json_t *def)
{
	const char *k;
	json_t *v;
	s->name = name;
	s->type = type_of(json_string_value(json_object_get(def, "type")));
	if ((v = json_object_get(def, "min"))) {
		s->has_min = 1;
		s->min = json_number_value(v);
	}
	if ((v = json_object_get(def, "max"))) {
		s->has_max = 1;
		s->max = json_number_value(v);
	}
	if ((v = json_object_get(def, "pattern"))) {
		int err;
		PCRE2_SIZE off;
		s->pattern_src = json_string_value(v);
		s->pattern = pcre2_compile((PCRE2_SPTR)s->pattern_src, PCRE2_ZERO_TERMINATED,
					   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &err, &off, NULL);
		if (!s->pattern)
			return LD_ECORRUPT;
		pcre2_jit_compile(s->pattern, PCRE2_JIT_COMPLETE); /* optional speed-up */
	}
	if ((v = json_object_get(def, "enum"))) {
		s->nenums = json_array_size(v);
		s->enums = calloc(s->nenums + 1, sizeof(char *));
		if (!s->enums)
			return LD_ENOMEM;
		for (size_t i = 0; i < s->nenums; i++)
			s->enums[i] = json_string_value(json_array_get(v, i));
	}
	s->member = ref_shape(json_object_get(def, "member"));
	s->key = ref_shape(json_object_get(def, "key"));
	s->value = ref_shape(json_object_get(def, "value"));
	s->payload = json_string_value(json_object_get(def, "payload"));
	s->streaming = json_is_true(json_object_get(def, "streaming"));
	if ((v = json_object_get(def, "error")))
		s->error_status = (int)json_integer_value(json_object_get(v, "httpStatusCode"));
	json_t *members = json_object_get(def, "members");
	if (members) {
		json_t *req = json_object_get(def, "required");
		s->nmembers = json_object_size(members);
		s->members = calloc(s->nmembers ? s->nmembers : 1, sizeof(struct member));
		if (!s->members)
			return LD_ENOMEM;
		size_t i = 0;
		json_object_foreach(members, k, v) {
			struct member *m = &s->members[i++];
			m->name = k;
			m->shape = ref_shape(v);
			m->loc = loc_of(json_string_value(json_object_get(v, "location")));
			m->loc_name = json_string_value(json_object_get(v, "locationName"));
			if (!m->loc_name)
				m->loc_name = k;
			size_t j;
			json_t *r;
			json_array_foreach(req, j, r)
				if (!strcmp(json_string_value(r), k))
					m->required = 1;
		}
	}
	return 0;
}

static int split_uri(struct model_op *op, const char *uri)
{
	char *u = strdup(uri);
	if (!u)
		return LD_ENOMEM;
	char *q = strchr(u, '?');
	if (q) {
		*q++ = '\0';
		char *eq = strchr(q, '=');
		if (eq)
			*eq++ = '\0';
		op->query_key = q;
		op->query_val = eq ? eq : "";
	}
	size_t n = 0;
	for (char *p = u; *p; p++)
		n += *p == '/';
	op->segs = calloc(n + 2, sizeof(char *));
	if (!op->segs) {
		free(u);
		return LD_ENOMEM;
	}
	char *save = NULL;
	for (char *t = strtok_r(u, "/", &save); t; t = strtok_r(NULL, "/", &save))
		op->segs[op->nsegs++] = t;
	/* u is now owned by segs[0] (first token starts at u+1; keep u alive) */
	op->uri = uri;
	return 0;
}

int model_load(void)
{
	json_error_t jerr;
	int rc = LD_ECORRUPT;
	g_root = json_loads(model_json, 0, &jerr);
	if (!g_root)
		return LD_ECORRUPT;
	json_t *shapes = json_object_get(g_root, "shapes");
	json_t *ops = json_object_get(g_root, "operations");
	g_nshapes = json_object_size(shapes);
	g_shapes = calloc(g_nshapes, sizeof(*g_shapes));
	g_index = json_object();
	g_md = pcre2_match_data_create(64, NULL);
	if (!g_shapes || !g_index || !g_md)
		return LD_ENOMEM;
	const char *k;
	json_t *v;
	size_t i = 0;
	json_object_foreach(shapes, k, v)
		json_object_set_new(g_index, k, json_integer((json_int_t)i++));
	i = 0;
	json_object_foreach(shapes, k, v)
		if ((rc = compile_shape(&g_shapes[i++], k, v)))
			return rc;
	g_nops = json_object_size(ops);
	g_ops = calloc(g_nops, sizeof(*g_ops));
	if (!g_ops)
		return LD_ENOMEM;
	i = 0;
	json_object_foreach(ops, k, v) {
		struct model_op *op = &g_ops[i++];
		json_t *http = json_object_get(v, "http");
		op->name = k;
		op->method = json_string_value(json_object_get(http, "method"));
		op->status = (int)json_integer_value(json_object_get(http, "responseCode"));
		if (!op->status)
			op->status = 200;
		op->input = ref_shape(json_object_get(v, "input"));
		op->output = ref_shape(json_object_get(v, "output"));
		if ((rc = split_uri(op, json_string_value(json_object_get(http, "requestUri")))))
			return rc;
	}
	return 0;
}

void model_unload(void)
{
	for (size_t i = 0; i < g_nshapes; i++) {
		pcre2_code_free(g_shapes[i].pattern);
		free(g_shapes[i].enums);
		free(g_shapes[i].members);
	}
	for (size_t i = 0; i < g_nops; i++) {
		if (g_ops[i].segs)
			free((char *)g_ops[i].segs[0] - 1);
		free(g_ops[i].segs);
	}
	free(g_shapes);
	free(g_ops);
	pcre2_match_data_free(g_md);
	json_decref(g_index);
	json_decref(g_root);
	g_shapes = NULL;
	g_ops = NULL;
	g_index = g_root = NULL;
	g_nshapes = g_nops = 0;
}

const struct model_op *model_ops(size_t *n)
{
	*n = g_nops;
	return g_ops;
}

const struct model_op *model_op_find(const char *name)
{
	for (size_t i = 0; i < g_nops; i++)
		if (!strcmp(g_ops[i].name, name))
			return &g_ops[i];
	return NULL;
}

const struct member *model_member(const struct shape *s, const char *name)
{
	for (size_t i = 0; s && i < s->nmembers; i++)
		if (!strcmp(s->members[i].name, name))
			return &s->members[i];
	return NULL;
}

int model_pattern_match(const struct shape *s, const char *str, size_t len)
{
	if (!s->pattern)
		return 1;
	int rc = pcre2_match(s->pattern, (PCRE2_SPTR)str, len, 0, 0, g_md, NULL);
	return rc >= 0;
}

void model_path_name(const char *member, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", member);
	if (out[0])
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* ---- validation ---- */

struct vctx {
	buf_t msg;
	int count;
	int oom;
};

/* Java-style rendering of a value, as AWS prints it in messages */
static void render_value(buf_t *b, json_t *v, int top)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (top)
			buf_printf(b, "'%s'", json_string_value(v));
		else
			buf_puts(b, json_string_value(v));
		break;
	case JSON_INTEGER:
		buf_printf(b, top ? "'%" JSON_INTEGER_FORMAT "'" : "%" JSON_INTEGER_FORMAT,
			   json_integer_value(v));
		break;
	case JSON_REAL:
		buf_printf(b, top ? "'%g'" : "%g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		buf_printf(b, top ? "'%s'" : "%s", json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		buf_puts(b, "null");
		break;
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		buf_puts(b, top ? "'[" : "[");
		json_array_foreach(v, i, e) {
			if (i)
				buf_puts(b, ", ");
			render_value(b, e, 0);
		}
		buf_puts(b, top ? "]'" : "]");
		break;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *e;
		int first = 1;
		buf_puts(b, top ? "'{" : "{");
		json_object_foreach(v, k, e) {
			buf_printf(b, "%s%s=", first ? "" : ", ", k);
			render_value(b, e, 0);
			first = 0;
		}
		buf_puts(b, top ? "}'" : "}");
		break;
	}
	}
}

static void violation(struct vctx *c, json_t *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void violation(struct vctx *c, json_t *v, const char *path, const char *fmt, ...)
{
	va_list ap;
	if (c->count++)
		buf_puts(&c->msg, "; ");
	buf_puts(&c->msg, "Value ");
	if (v)
		render_value(&c->msg, v, 1);
	else
		buf_puts(&c->msg, "null");
	buf_printf(&c->msg, " at '%s' failed to satisfy constraint: ", path);
	va_start(ap, fmt);
	if (buf_vprintf(&c->msg, fmt, ap))
		c->oom = 1;
	va_end(ap);
}

static void fmt_num(char *out, size_t n, double d)
{
	if (d == floor(d) && fabs(d) < 1e18)
		snprintf(out, n, "%lld", (long long)d);
	else
		snprintf(out, n, "%g", d);
}

static void check_length(struct vctx *c, const struct shape *s, json_t *v, const char *path, double len)
{
	char num[32];
	if (s->has_max && len > s->max) {
		fmt_num(num, sizeof(num), s->max);
		violation(c, v, path, "Member must have length less than or equal to %s", num);
	}
	if (s->has_min && len < s->min) {
		fmt_num(num, sizeof(num), s->min);
		violation(c, v, path, "Member must have length greater than or equal to %s", num);
	}
}

static void validate_value(struct vctx *c, const struct shape *s, json_t *v, const char *path);

static void validate_struct(struct vctx *c, const struct shape *s, json_t *obj, const char *path)
{
	char sub[512], pn[128];
	for (size_t i = 0; i < s->nmembers; i++) {
		const struct member *m = &s->members[i];
		json_t *v = json_object_get(obj, m->name);
		model_path_name(m->name, pn, sizeof(pn));
		if (path[0])
			snprintf(sub, sizeof(sub), "%s.%s", path, pn);
		else
			snprintf(sub, sizeof(sub), "%s", pn);
		if (!v || json_is_null(v)) {
			if (m->required)
				violation(c, NULL, sub, "Member must not be null");
			continue;
		}
		if (m->shape)
			validate_value(c, m->shape, v, sub);
	}
}

static void validate_value(struct vctx *c, const struct shape *s, json_t *v, const char *path)
{
	char num[32], sub[600];
	switch (s->type) {
	case SHAPE_STRUCTURE:
		if (json_is_object(v))
			validate_struct(c, s, v, path);
		break;
	case SHAPE_LIST:
		if (!json_is_array(v))
			break;
		check_length(c, s, v, path, (double)json_array_size(v));
		if (s->member) {
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				snprintf(sub, sizeof(sub), "%s.%zu.member", path, i + 1);
				validate_value(c, s->member, e, sub);
			}
		}
		break;
	case SHAPE_MAP:
		if (!json_is_object(v))
			break;
		check_length(c, s, v, path, (double)json_object_size(v));
		{
			const char *k;
			json_t *e;
			json_object_foreach(v, k, e) {
				if (s->key) {
					json_t *ks = json_string(k);
					snprintf(sub, sizeof(sub), "%s.key", path);
					if (ks)
						validate_value(c, s->key, ks, sub);
					json_decref(ks);
				}
				if (s->value) {
					snprintf(sub, sizeof(sub), "%s.value", path);
					validate_value(c, s->value, e, sub);
				}
			}
		}
		break;
	case SHAPE_STRING:
		if (!json_is_string(v))
			break;
		{
			const char *str = json_string_value(v);
			size_t len = json_string_length(v);
			check_length(c, s, v, path, (double)len); /* AWS counts characters; ASCII in practice */
			if (s->pattern && !model_pattern_match(s, str, len))
				violation(c, v, path, "Member must satisfy regular expression pattern: %s",
					  s->pattern_src);
			if (s->enums) {
				int ok = 0;
				for (size_t i = 0; i < s->nenums && !ok; i++)
					ok = !strcmp(s->enums[i], str);
				if (!ok) {
					buf_t e;
					buf_init(&e, 0);
					for (size_t i = 0; i < s->nenums; i++)
						buf_printf(&e, "%s%s", i ? ", " : "", s->enums[i]);
					violation(c, v, path, "Member must satisfy enum value set: [%s]",
						  e.data ? e.data : "");
					buf_free(&e);
				}
			}
		}
		break;
	case SHAPE_INTEGER:
	case SHAPE_LONG:
	case SHAPE_DOUBLE:
	case SHAPE_FLOAT:
		if (!json_is_number(v))
			break;
		{
			double d = json_number_value(v);
			if (s->has_max && d > s->max) {
				fmt_num(num, sizeof(num), s->max);
				violation(c, v, path, "Member must have value less than or equal to %s", num);
			}
			if (s->has_min && d < s->min) {
				fmt_num(num, sizeof(num), s->min);
				violation(c, v, path, "Member must have value greater than or equal to %s", num);
			}
		}
		break;
	default:
		break;
	}
}

int model_validate(const struct shape *s, json_t *doc, char **msg)
{
	struct vctx c;
	buf_init(&c.msg, 64 * 1024);
	c.count = 0;
	c.oom = 0;
	*msg = NULL;
	if (s)
		validate_struct(&c, s, doc, "");
	if (c.oom && !c.msg.len) {
		buf_free(&c.msg);
		return LD_ENOMEM;
	}
	if (c.count) {
		buf_t out;
		buf_init(&out, 0);
		buf_printf(&out, "%d validation error%s detected: %s", c.count, c.count > 1 ? "s" : "",
			   c.msg.data ? c.msg.data : "");
		*msg = buf_steal(&out, NULL);
	}
	buf_free(&c.msg);
	return c.count;
}

/* ---- JSON types ---- */

static int type_ok(const struct shape *s, json_t *v)
{
	if (json_is_null(v))
		return 1; /* null members are treated as absent */
	switch (s->type) {
	case SHAPE_STRUCTURE:
	case SHAPE_MAP:
		return json_is_object(v);
	case SHAPE_LIST:
		return json_is_array(v);
	case SHAPE_STRING:
	case SHAPE_BLOB:
		return json_is_string(v);
	case SHAPE_INTEGER:
	case SHAPE_LONG:
		return json_is_integer(v);
	case SHAPE_DOUBLE:
	case SHAPE_FLOAT:
		return json_is_number(v);
	case SHAPE_BOOLEAN:
		return json_is_boolean(v);
	case SHAPE_TIMESTAMP:
		return json_is_number(v) || json_is_string(v);
	}
	return 1;
}

static int typecheck(const struct shape *s, json_t *v, char *where, size_t n)
{
	if (!type_ok(s, v)) {
		snprintf(where, n, "%s", s->name);
		return LD_EINVAL;
	}
	const char *k;
	json_t *e;
	size_t i;
	switch (s->type) {
	case SHAPE_STRUCTURE:
		json_object_foreach(v, k, e) {
			const struct member *m = model_member(s, k);
			if (m && m->shape && typecheck(m->shape, e, where, n))
				return LD_EINVAL;
		}
		break;
	case SHAPE_LIST:
		json_array_foreach(v, i, e)
			if (s->member && typecheck(s->member, e, where, n))
				return LD_EINVAL;
		break;
	case SHAPE_MAP:
		json_object_foreach(v, k, e)
			if (s->value && typecheck(s->value, e, where, n))
				return LD_EINVAL;
		break;
	default:
		break;
	}
	return 0;
}

int model_typecheck(const struct shape *s, json_t *doc, char *where, size_t n)
{
	return s ? typecheck(s, doc, where, n) : 0;
}
