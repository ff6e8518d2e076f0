/*
 * model.h - the Lambda API model (botocore's service-2.json), compiled.
 *
 * model_load() turns the generated model_json text into operations and shapes
 * once at start-up. The router matches requests against the operations'
 * HTTP bindings; model_validate() checks an input document against its shape
 * the way AWS's front end does (required, type, length, range, pattern, enum)
 * and writes AWS's ValidationException message. The model is immutable after
 * loading and lives for the whole process.
 */
#ifndef LD_MODEL_H
#define LD_MODEL_H

#include <jansson.h>
#include <stddef.h>

extern const char model_json[];

enum shape_type {
	SHAPE_STRUCTURE, SHAPE_LIST, SHAPE_MAP, SHAPE_STRING, SHAPE_INTEGER,
	SHAPE_LONG, SHAPE_BOOLEAN, SHAPE_BLOB, SHAPE_TIMESTAMP, SHAPE_DOUBLE,
	SHAPE_FLOAT,
};

enum member_loc { LOC_BODY, LOC_URI, LOC_QUERY, LOC_HEADER, LOC_STATUS };

struct shape;

struct member {
	const char *name;          /* e.g. "FunctionName" */
	const char *loc_name;      /* locationName for uri/query/header */
	enum member_loc loc;
	int required;
	int sensitive;             /* the member or its shape is marked sensitive */
	const struct shape *shape;
};

struct shape {
	const char *name;
	enum shape_type type;
	int has_min, has_max;
	double min, max;
	void *pattern;             /* compiled pcre2 code, or NULL */
	const char *pattern_src;
	const char **enums;        /* NULL-terminated, or NULL */
	size_t nenums;
	struct member *members;    /* structures */
	size_t nmembers;
	const char *payload;       /* structure member carried as the raw body */
	const struct shape *member, *key, *value; /* list / map */
	int error_status;          /* exceptions: HTTP status code, else 0 */
	int nullable_member;       /* AWS omits "must not be null" for it as a member */
	int enum_by_handler;       /* enum checked by the handler, not the validator */
	const char *const *list_enum_msg; /* list: members checked against their enum, this set reported */
	int streaming;
	int sensitive;             /* marked "sensitive" in the model */
	int holds_sensitive;       /* sensitive, or a member/key/value inside it is:
				    * validation messages never show its value */
};

struct model_op {
	const char *name;          /* "CreateFunction" */
	const char *method;        /* "POST" */
	const char *uri;           /* "/2015-03-31/functions/{FunctionName}" */
	const char **segs;         /* path split on '/', NULL-terminated */
	size_t nsegs;
	const char *query_key;     /* constant query of the binding ("find"), or NULL */
	const char *query_val;     /* its value ("LayerVersion") */
	int status;                /* success status code */
	const struct shape *input, *output;
};

/* The runtimes AWS accepts for new functions and updates, in the order AWS
 * lists them in its messages (CreateFunction's Runtime error, a layer's
 * CompatibleRuntimes). NULL-terminated, static. */
extern const char *const model_supported_runtimes[];

/* Compiles the embedded model. 0, or LD_ECORRUPT / LD_ENOMEM. */
int model_load(void);
void model_unload(void);

const struct model_op *model_ops(size_t *n);
const struct model_op *model_op_find(const char *name);
const struct shape *model_shape(const char *name);
const struct member *model_member(const struct shape *s, const char *name);

/* Full-match of a string against a shape's pattern (1 match, 0 not). */
int model_pattern_match(const struct shape *s, const char *str, size_t len);

/*
 * Validates doc (a JSON object in the shape of `s`) like AWS's front end.
 * Returns the number of violations; when > 0, *msg (caller frees) holds
 * "N validation error(s) detected: Value ... at '...' failed to satisfy
 * constraint: ...; ...". A value whose shape is sensitive (or holds sensitive
 * members) is never shown: AWS writes "Value at '...' failed ..." for it.
 * Returns a negative LD_E* code on allocation failure.
 */
int model_validate(const struct shape *s, json_t *doc, char **msg);

/* Checks the JSON types of doc against shape s (unknown members are ignored,
 * as AWS ignores them). 0, or LD_EINVAL with the offending shape's name in
 * where. */
int model_typecheck(const struct shape *s, json_t *doc, char *where, size_t n);

/* AWS's rendering of a member path component: "FunctionName" -> "functionName". */
void model_path_name(const char *member, char *out, size_t outlen);

#endif
