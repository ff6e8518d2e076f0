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

/*
 * Where AWS's live service validates differently from the published model,
 * its error messages show it (see the recordings summarised in
 * docs/aws-facts.md): newer patterns (the "eusc-" partition prefix), bounds
 * the model omits, and enum orders. These entries replace the model's values
 * so that both the check and the message match AWS.
 */
struct override {
	const char *shape;
	const char *pattern;      /* NULL: keep */
	int set_len;              /* 1: replace min/max with the values below */
	double min, max;
	const char *const *enums; /* NULL: keep */
	int nullable_member;      /* as a list member: no "must not be null" */
	int enum_by_handler;      /* the handler checks the enum with its own error */
	/* a list whose members AWS checks against their full enum but reports
	 * with this (shorter) set, unwrapped: a layer's CompatibleRuntimes
	 * accepts deprecated runtimes, and names only the supported ones */
	const char *const *list_enum_msg;
};

static const char *const recursive_loop_enum[] = { "Terminate", "Allow", NULL };
static const char *const event_source_position_enum[] = { "LATEST", "AT_TIMESTAMP", "TRIM_HORIZON", NULL };
const char *const model_supported_runtimes[] = {
	"nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x",
	"nodejs22.x", "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4",
	"ruby3.2", "python3.8", "python3.9", "java17", "nodejs16.x", "dotnet10", "dotnet8",
	"java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2", NULL,
};

static const struct override overrides[] = {
	{ "FunctionName",
	  "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
	  "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?" },
	{ "NamespacedFunctionName",
	  "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
	  "(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?" },
	{ "TaggableResource",
	  "arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:"
	  "[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]"
	  "{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
	  "capacity-provider:[a-zA-Z0-9-_]+)" },
	{ "LayerVersionArn",
	  "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:"
	  "[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)",
	  1, 1, 2048 },
	{ "DestinationArn",
	  "$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}"
	  "((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)" },
	{ "SubnetId", "subnet-[0-9a-z]*", 1, 0, 1024, NULL, 1 },
	{ "SecurityGroupId", "sg-[0-9a-zA-Z]*", 1, 0, 1024, NULL, 1 },
	{ "RecursiveLoop", NULL, 0, 0, 0, recursive_loop_enum },
	{ "EventSourcePosition", NULL, 0, 0, 0, event_source_position_enum },
	/* Runtime is checked by fnconfig.c: AWS answers InvalidParameterValueException */
	{ "Runtime", NULL, 0, 0, 0, NULL, 0, 1 },
	{ "CompatibleRuntimes", NULL, 0, 0, 0, NULL, 0, 0, model_supported_runtimes },
};

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

static int compile_pattern(struct shape *s, const char *src)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code_free(s->pattern);
	s->pattern_src = src;
	s->pattern = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
				   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &err, &off, NULL);
	if (!s->pattern)
		return LD_ECORRUPT;
	pcre2_jit_compile(s->pattern, PCRE2_JIT_COMPLETE); /* optional speed-up */
	return 0;
}

static int apply_overrides(void)
{
	for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
		const struct override *o = &overrides[i];
		struct shape *s = (struct shape *)model_shape(o->shape);
		if (!s)
			continue;
		if (o->pattern && compile_pattern(s, o->pattern))
			return LD_ECORRUPT;
		if (o->set_len) {
			s->has_min = s->has_max = 1;
			s->min = o->min;
			s->max = o->max;
		}
		if (o->enums) {
			free(s->enums);
			s->enums = NULL;
			s->nenums = 0;
			while (o->enums[s->nenums])
				s->nenums++;
			s->enums = calloc(s->nenums + 1, sizeof(char *));
			if (!s->enums)
				return LD_ENOMEM;
			memcpy(s->enums, o->enums, s->nenums * sizeof(char *));
		}
		s->nullable_member = o->nullable_member;
		s->enum_by_handler = o->enum_by_handler;
		s->list_enum_msg = o->list_enum_msg;
	}
	return 0;
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
	if ((v = json_object_get(def, "pattern")) && compile_pattern(s, json_string_value(v)))
		return LD_ECORRUPT;
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
	s->sensitive = json_is_true(json_object_get(def, "sensitive"));
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
			m->sensitive = json_is_true(json_object_get(v, "sensitive"));
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

/* holds_sensitive for every shape and the sensitive flag of every member
 * (set on the member or on its shape): the closure over members, list
 * members, map keys and values, computed to a fixed point because shapes
 * may refer to each other in cycles */
static void mark_sensitive(void)
{
	int changed = 1;
	for (size_t i = 0; i < g_nshapes; i++) {
		struct shape *s = &g_shapes[i];
		s->holds_sensitive = s->sensitive;
		for (size_t j = 0; j < s->nmembers; j++)
			if (s->members[j].shape && s->members[j].shape->sensitive)
				s->members[j].sensitive = 1;
	}
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < g_nshapes; i++) {
			struct shape *s = &g_shapes[i];
			int h = s->holds_sensitive;
			for (size_t j = 0; j < s->nmembers && !h; j++)
				h = s->members[j].sensitive ||
				    (s->members[j].shape && s->members[j].shape->holds_sensitive);
			h = h || (s->member && s->member->holds_sensitive) || (s->key && s->key->holds_sensitive) ||
			    (s->value && s->value->holds_sensitive);
			if (h && !s->holds_sensitive) {
				s->holds_sensitive = 1;
				changed = 1;
			}
		}
	}
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
	if ((rc = apply_overrides()))
		return rc;
	mark_sensitive();
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
	size_t n = strlen(member);
	if (!outlen)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, member, n);
	out[n] = '\0';
	if (out[0])
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* ---- validation ----
 *
 * The messages follow AWS's request validator: one item per violated
 * constraint, "Value <v> at '<path>' failed to satisfy constraint: <c>",
 * values rendered as Java prints them. A violation inside a list element or
 * map entry of scalars is reported once, at the container, listing every
 * constraint of the element shape ("Member must satisfy constraint: [...]").
 * Members bound to the query string and headers are checked before body
 * members, and path labels last, which is the order AWS reports them in.
 */

struct vctx {
	buf_t msg;
	int count;
	int oom;
	int sensitive; /* > 0 inside a member marked sensitive */
};

/* Java's Double.toString for ordinary magnitudes: "2.0", "0.5", "-1.0" */
static void java_double(char *out, size_t n, double d)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(out, n, "%.*g", p, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (!strpbrk(out, ".eEn"))
		strncat(out, ".0", n - strlen(out) - 1);
}

static int is_double_shape(const struct shape *s)
{
	return s && (s->type == SHAPE_DOUBLE || s->type == SHAPE_FLOAT);
}

/* s (may be NULL) is the value's shape: AWS prints a Double as Java does
 * ("2.0") even when the request carried an integer */
static void render_value(buf_t *b, json_t *v, int top, const struct shape *s)
{
	char num[64];
	switch (json_typeof(v)) {
	case JSON_STRING:
		buf_printf(b, top ? "'%s'" : "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		if (is_double_shape(s)) {
			java_double(num, sizeof(num), (double)json_integer_value(v));
			buf_printf(b, top ? "'%s'" : "%s", num);
			break;
		}
		buf_printf(b, top ? "'%" JSON_INTEGER_FORMAT "'" : "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		java_double(num, sizeof(num), json_real_value(v));
		buf_printf(b, top ? "'%s'" : "%s", num);
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
			render_value(b, e, 0, s ? s->member : NULL);
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
			render_value(b, e, 0, s && s->type == SHAPE_MAP ? s->value : NULL);
			first = 0;
		}
		buf_puts(b, top ? "}'" : "}");
		break;
	}
	}
}

static void violation(struct vctx *c, const struct shape *s, json_t *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void violation(struct vctx *c, const struct shape *s, json_t *v, const char *path, const char *fmt, ...)
{
	va_list ap;
	if (c->count++)
		buf_puts(&c->msg, "; ");
	buf_puts(&c->msg, "Value ");
	/* AWS never shows a sensitive value, not even its type: "Value at ..." */
	if (!v) {
		buf_puts(&c->msg, "null ");
	} else if (!c->sensitive && !(s && s->holds_sensitive)) {
		render_value(&c->msg, v, 1, s);
		buf_puts(&c->msg, " ");
	}
	buf_printf(&c->msg, "at '%s' failed to satisfy constraint: ", path);
	va_start(ap, fmt);
	if (buf_vprintf(&c->msg, fmt, ap))
		c->oom = 1;
	va_end(ap);
}

static int is_number_shape(const struct shape *s)
{
	return s->type == SHAPE_INTEGER || s->type == SHAPE_LONG || s->type == SHAPE_DOUBLE ||
	       s->type == SHAPE_FLOAT;
}

static void fmt_bound(char *out, size_t n, const struct shape *s, double d)
{
	if (s->type == SHAPE_DOUBLE || s->type == SHAPE_FLOAT)
		java_double(out, n, d);
	else
		snprintf(out, n, "%lld", (long long)d);
}

/* the constraint texts of a shape, in AWS's order; returns how many */
static int constraint_texts(const struct shape *s, buf_t *out, const char *sep)
{
	char num[64];
	int n = 0;
	const char *unit = is_number_shape(s) ? "value" : "length";
	if (s->has_max) {
		fmt_bound(num, sizeof(num), s, s->max);
		buf_printf(out, "%sMember must have %s less than or equal to %s", n++ ? sep : "", unit, num);
	}
	if (s->has_min) {
		fmt_bound(num, sizeof(num), s, s->min);
		buf_printf(out, "%sMember must have %s greater than or equal to %s", n++ ? sep : "", unit, num);
	}
	if (s->pattern)
		buf_printf(out, "%sMember must satisfy regular expression pattern: %s", n++ ? sep : "",
			   s->pattern_src);
	if (s->enums) {
		buf_printf(out, "%sMember must satisfy enum value set: [", n++ ? sep : "");
		for (size_t i = 0; i < s->nenums; i++)
			buf_printf(out, "%s%s", i ? ", " : "", s->enums[i]);
		buf_puts(out, "]");
	}
	return n;
}

/* does a scalar value satisfy every constraint of its shape? */
static int scalar_ok(const struct shape *s, json_t *v)
{
	if (!v || json_is_null(v))
		return 0;
	if (s->type == SHAPE_STRING) {
		if (!json_is_string(v))
			return 1; /* type errors are reported by model_typecheck */
		double len = (double)json_string_length(v);
		if ((s->has_max && len > s->max) || (s->has_min && len < s->min))
			return 0;
		if (s->pattern && !model_pattern_match(s, json_string_value(v), json_string_length(v)))
			return 0;
		if (s->enums && !s->enum_by_handler) {
			for (size_t i = 0; i < s->nenums; i++)
				if (!strcmp(s->enums[i], json_string_value(v)))
					return 1;
			return 0;
		}
		return 1;
	}
	if (is_number_shape(s) && json_is_number(v)) {
		double d = json_number_value(v);
		return !((s->has_max && d > s->max) || (s->has_min && d < s->min));
	}
	return 1;
}

static void wrapped(struct vctx *c, const struct shape *cs, json_t *container, const char *path, const char *lead,
		    const struct shape *s, int not_null)
{
	buf_t t;
	buf_init(&t, 0);
	constraint_texts(s, &t, ", ");
	if (not_null)
		buf_printf(&t, "%sMember must not be null", t.len ? ", " : "");
	violation(c, cs, container, path, "%s must satisfy constraint: [%s]", lead, t.data ? t.data : "");
	buf_free(&t);
}

static void validate_value(struct vctx *c, const struct shape *s, json_t *v, const char *path);

/* the max/min items for a measure n of v: a string's or a container's
 * length, or a number's value */
static void check_bounds(struct vctx *c, const struct shape *s, json_t *v, const char *path, double n)
{
	char num[64];
	const char *unit = is_number_shape(s) ? "value" : "length";
	if (s->has_max && n > s->max) {
		fmt_bound(num, sizeof(num), s, s->max);
		violation(c, s, v, path, "Member must have %s less than or equal to %s", unit, num);
	}
	if (s->has_min && n < s->min) {
		fmt_bound(num, sizeof(num), s, s->min);
		violation(c, s, v, path, "Member must have %s greater than or equal to %s", unit, num);
	}
}

static void validate_members(struct vctx *c, const struct shape *s, json_t *obj, const char *path, int pass)
{
	char sub[512], pn[128];
	for (size_t i = 0; i < s->nmembers; i++) {
		const struct member *m = &s->members[i];
		/* pass 0: query and header members, 1: body, 2: path labels */
		int mp = m->loc == LOC_URI ? 2 : m->loc == LOC_BODY ? 1 : 0;
		if (pass >= 0 && mp != pass)
			continue;
		json_t *v = json_object_get(obj, m->name);
		int absent = !v || json_is_null(v);
		if ((absent && !m->required) || (!absent && !m->shape))
			continue; /* nothing to check: no path to write (most members of a request) */
		model_path_name(m->name, pn, sizeof(pn));
		size_t pl = strlen(path), nl = strlen(pn);
		if (pl + nl + 2 > sizeof(sub))
			continue;
		memcpy(sub, path, pl);
		if (pl)
			sub[pl++] = '.';
		memcpy(sub + pl, pn, nl + 1);
		if (absent) {
			violation(c, NULL, NULL, sub, "Member must not be null");
			continue;
		}
		c->sensitive += m->sensitive;
		validate_value(c, m->shape, v, sub);
		c->sensitive -= m->sensitive;
	}
}

static void validate_struct(struct vctx *c, const struct shape *s, json_t *obj, const char *path)
{
	validate_members(c, s, obj, path, -1);
}

static void validate_list(struct vctx *c, const struct shape *s, json_t *v, const char *path)
{
	char sub[600];
	check_bounds(c, s, v, path, (double)json_array_size(v));
	if (!s->member)
		return;
	size_t i;
	json_t *e;
	if (s->list_enum_msg && s->member->enums) {
		json_array_foreach(v, i, e) {
			size_t j = 0;
			const char *str = json_string_value(e);
			while (str && j < s->member->nenums && strcmp(s->member->enums[j], str) != 0)
				j++;
			if (str && j < s->member->nenums)
				continue;
			buf_t t;
			buf_init(&t, 0);
			for (const char *const *p = s->list_enum_msg; *p; p++)
				buf_printf(&t, "%s%s", p == s->list_enum_msg ? "" : ", ", *p);
			violation(c, s, v, path, "Member must satisfy enum value set: [%s]", t.data ? t.data : "");
			buf_free(&t);
			return;
		}
		return;
	}
	json_array_foreach(v, i, e) {
		if (s->member->type == SHAPE_STRUCTURE || s->member->type == SHAPE_LIST ||
		    s->member->type == SHAPE_MAP) {
			snprintf(sub, sizeof(sub), "%s.%zu.member", path, i + 1);
			validate_value(c, s->member, e, sub);
		} else if (!scalar_ok(s->member, e)) {
			wrapped(c, s, v, path, "Member", s->member, !s->member->nullable_member);
			return;
		}
	}
}

static void validate_map(struct vctx *c, const struct shape *s, json_t *v, const char *path)
{
	check_bounds(c, s, v, path, (double)json_object_size(v));
	const char *k;
	json_t *e;
	int bad_key = 0, bad_value = 0;
	json_object_foreach(v, k, e) {
		if (s->key && !bad_key) {
			json_t *ks = json_string(k);
			bad_key = ks && !scalar_ok(s->key, ks);
			json_decref(ks);
		}
		if (s->value && !bad_value) {
			if (s->value->type == SHAPE_STRUCTURE || s->value->type == SHAPE_LIST ||
			    s->value->type == SHAPE_MAP)
				validate_value(c, s->value, e, path);
			else
				bad_value = !scalar_ok(s->value, e);
		}
	}
	/* AWS lists no "Member must not be null" for map keys (recorded for
	 * AdditionalVersionWeights and Environment.Variables) */
	if (bad_key)
		wrapped(c, s, v, path, "Map keys", s->key, 0);
	if (bad_value)
		wrapped(c, s, v, path, "Map value", s->value, !s->value->nullable_member);
}

static void validate_value(struct vctx *c, const struct shape *s, json_t *v, const char *path)
{
	switch (s->type) {
	case SHAPE_STRUCTURE:
		if (json_is_object(v))
			validate_struct(c, s, v, path);
		return;
	case SHAPE_LIST:
		if (json_is_array(v))
			validate_list(c, s, v, path);
		return;
	case SHAPE_MAP:
		if (json_is_object(v))
			validate_map(c, s, v, path);
		return;
	default:
		break;
	}
	if (scalar_ok(s, v))
		return;
	/* one item per violated constraint, in AWS's order */
	check_bounds(c, s, v, path, s->type == SHAPE_STRING ? (double)json_string_length(v) : json_number_value(v));
	if (s->type != SHAPE_STRING)
		return;
	if (s->pattern && !model_pattern_match(s, json_string_value(v), json_string_length(v)))
		violation(c, s, v, path, "Member must satisfy regular expression pattern: %s", s->pattern_src);
	if (s->enums && !s->enum_by_handler) {
		int ok = 0;
		for (size_t i = 0; i < s->nenums && !ok; i++)
			ok = !strcmp(s->enums[i], json_string_value(v));
		if (!ok) {
			buf_t e;
			buf_init(&e, 0);
			for (size_t i = 0; i < s->nenums; i++)
				buf_printf(&e, "%s%s", i ? ", " : "", s->enums[i]);
			violation(c, s, v, path, "Member must satisfy enum value set: [%s]", e.data ? e.data : "");
			buf_free(&e);
		}
	}
}

int model_validate(const struct shape *s, json_t *doc, char **msg)
{
	struct vctx c;
	buf_init(&c.msg, 64 * 1024);
	c.count = 0;
	c.oom = 0;
	c.sensitive = 0;
	*msg = NULL;
	for (int pass = 0; s && pass < 3; pass++)
		validate_members(&c, s, doc, "", pass);
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
