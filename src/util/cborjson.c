/*
 * cborjson.c - CBOR <-> jansson with libcbor (cborjson.h).
 */
#include "util/cborjson.h"

#include "util/base64.h"
#include "util/err.h"

#include <cbor.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* a text or byte string's bytes, definite or chunked, into a new buffer */
static int string_bytes(cbor_item_t *it, char **out, size_t *len)
{
	size_t n = 0, total = 0;
	*out = NULL;
	*len = 0;
	if ((cbor_isa_string(it) ? cbor_string_is_definite(it) : cbor_bytestring_is_definite(it))) {
		total = cbor_isa_string(it) ? cbor_string_length(it) : cbor_bytestring_length(it);
		char *b = malloc(total + 1);
		if (!b)
			return LD_ENOMEM;
		if (total)
			memcpy(b, cbor_isa_string(it) ? cbor_string_handle(it) : cbor_bytestring_handle(it), total);
		b[total] = 0;
		*out = b;
		*len = total;
		return 0;
	}
	cbor_item_t **chunks = cbor_isa_string(it) ? cbor_string_chunks_handle(it) : cbor_bytestring_chunks_handle(it);
	n = cbor_isa_string(it) ? cbor_string_chunk_count(it) : cbor_bytestring_chunk_count(it);
	for (size_t i = 0; i < n; i++)
		total += cbor_isa_string(chunks[i]) ? cbor_string_length(chunks[i]) : cbor_bytestring_length(chunks[i]);
	char *b = malloc(total + 1);
	if (!b)
		return LD_ENOMEM;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = cbor_isa_string(chunks[i]) ? cbor_string_length(chunks[i]) : cbor_bytestring_length(chunks[i]);
		const unsigned char *h =
			cbor_isa_string(chunks[i]) ? cbor_string_handle(chunks[i]) : cbor_bytestring_handle(chunks[i]);
		if (l)
			memcpy(b + off, h, l);
		off += l;
	}
	b[total] = 0;
	*out = b;
	*len = total;
	return 0;
}

static int to_json(cbor_item_t *it, int depth, json_t **out)
{
	int rc = 0;
	char *s = NULL;
	size_t len = 0;
	*out = NULL;
	if (depth > CBORJSON_MAX_DEPTH)
		return LD_EINVAL;
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT: {
		uint64_t v = cbor_get_int(it);
		*out = v <= INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
		break;
	}
	case CBOR_TYPE_NEGINT: {
		uint64_t v = cbor_get_int(it);
		*out = v < INT64_MAX ? json_integer(-1 - (json_int_t)v) : json_real(-1.0 - (double)v);
		break;
	}
	case CBOR_TYPE_STRING:
		if ((rc = string_bytes(it, &s, &len)))
			return rc;
		*out = json_stringn(s, len); /* NULL for invalid UTF-8 */
		free(s);
		if (!*out)
			return LD_EINVAL;
		return 0;
	case CBOR_TYPE_BYTESTRING: {
		if ((rc = string_bytes(it, &s, &len)))
			return rc;
		char *b64 = b64_encode(s, len);
		if (b64)
			*out = json_string(b64);
		free(b64);
		free(s);
		break;
	}
	case CBOR_TYPE_ARRAY: {
		json_t *a = json_array();
		cbor_item_t **h = cbor_array_handle(it);
		size_t n = cbor_array_size(it);
		for (size_t i = 0; a && i < n; i++) {
			json_t *v;
			if ((rc = to_json(h[i], depth + 1, &v))) {
				json_decref(a);
				return rc;
			}
			if (v && json_array_append_new(a, v)) {
				json_decref(a);
				return LD_ENOMEM;
			}
		}
		*out = a;
		break;
	}
	case CBOR_TYPE_MAP: {
		json_t *o = json_object();
		struct cbor_pair *h = cbor_map_handle(it);
		size_t n = cbor_map_size(it);
		for (size_t i = 0; o && i < n; i++) {
			json_t *v;
			if (!cbor_isa_string(h[i].key)) {
				json_decref(o);
				return LD_EINVAL;
			}
			if ((rc = string_bytes(h[i].key, &s, &len))) {
				json_decref(o);
				return rc;
			}
			if (strlen(s) != len || (rc = to_json(h[i].value, depth + 1, &v))) {
				free(s);
				json_decref(o);
				return rc ? rc : LD_EINVAL;
			}
			if (v && json_object_set_new(o, s, v)) {
				free(s);
				json_decref(o);
				return LD_EINVAL; /* invalid UTF-8 key */
			}
			free(s);
		}
		*out = o;
		break;
	}
	case CBOR_TYPE_TAG: {
		cbor_item_t *inner = cbor_tag_item(it);
		rc = to_json(inner, depth + 1, out);
		cbor_decref(&inner);
		return rc;
	}
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_float_ctrl_is_ctrl(it)) {
			if (cbor_is_bool(it))
				*out = json_boolean(cbor_get_bool(it));
			else if (cbor_is_null(it))
				*out = json_null();
			else
				return 0; /* undefined and other simple values: left out */
		} else {
			double d = cbor_float_get_float(it);
			if (!isfinite(d))
				return LD_EINVAL; /* JSON has no NaN or infinity */
			*out = json_real(d);
		}
		break;
	default:
		return LD_EINVAL;
	}
	return *out ? 0 : LD_ENOMEM;
}

/* ---- the nesting check ----
 * cbor_load() builds any depth, and cbor_decref() frees recursively: a
 * document of a million nested arrays would overflow the stack. Its
 * nesting is measured first with libcbor's streaming decoder, which builds
 * nothing: a stack of the items each open container still expects. */
struct nest {
	long rem[CBORJSON_MAX_DEPTH + 2]; /* -1: indefinite, ends with a break */
	int depth;
	int bad;
};

static void consumed(struct nest *n)
{
	while (n->depth > 0) {
		long *r = &n->rem[n->depth - 1];
		if (*r < 0 || --*r > 0)
			return;
		n->depth--; /* the container is complete: one item of its parent */
	}
}

static void push(struct nest *n, long items)
{
	if (n->depth >= CBORJSON_MAX_DEPTH + 1) {
		n->bad = 1;
		return;
	}
	n->rem[n->depth++] = items;
	if (items == 0) {
		n->depth--;
		consumed(n);
	}
}

static void n_item(void *c) { consumed(c); }
static void n_u8(void *c, uint8_t v) { consumed(c); }
static void n_u16(void *c, uint16_t v) { consumed(c); }
static void n_u32(void *c, uint32_t v) { consumed(c); }
static void n_u64(void *c, uint64_t v) { consumed(c); }
static void n_str(void *c, cbor_data d, uint64_t l) { consumed(c); }
static void n_flt(void *c, float v) { consumed(c); }
static void n_dbl(void *c, double v) { consumed(c); }
static void n_bool(void *c, bool v) { consumed(c); }
static void n_indef(void *c) { push(c, -1); }
static void n_array(void *c, uint64_t k) { push(c, k > LONG_MAX / 2 ? LONG_MAX / 2 : (long)k); }
static void n_map(void *c, uint64_t k) { push(c, k > LONG_MAX / 4 ? LONG_MAX / 2 : (long)(2 * k)); }
static void n_tag(void *c, uint64_t v) { push(c, 1); }
static void n_break(void *c)
{
	struct nest *n = c;
	if (n->depth <= 0 || n->rem[n->depth - 1] >= 0) {
		n->bad = 1;
		return;
	}
	n->depth--;
	consumed(n);
}

static const struct cbor_callbacks nest_cb = {
	.uint8 = n_u8, .uint16 = n_u16, .uint32 = n_u32, .uint64 = n_u64,
	.negint8 = n_u8, .negint16 = n_u16, .negint32 = n_u32, .negint64 = n_u64,
	.byte_string_start = n_indef, .byte_string = n_str, .string = n_str, .string_start = n_indef,
	.indef_array_start = n_indef, .array_start = n_array, .indef_map_start = n_indef, .map_start = n_map,
	.tag = n_tag, .float2 = n_flt, .float4 = n_flt, .float8 = n_dbl,
	.undefined = n_item, .null = n_item, .boolean = n_bool, .indef_break = n_break,
};

static int check_nesting(const unsigned char *p, size_t len)
{
	struct nest n = { .depth = 0 };
	size_t off = 0;
	while (off < len && !n.bad) {
		struct cbor_decoder_result r = cbor_stream_decode(p + off, len - off, &nest_cb, &n);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
			return LD_EINVAL;
		off += r.read;
		if (n.depth == 0)
			break; /* one whole item: trailing bytes are cbor_load's to refuse */
	}
	return n.bad || n.depth ? LD_EINVAL : 0;
}

int cborjson_decode(const void *data, size_t len, json_t **out)
{
	struct cbor_load_result res;
	*out = NULL;
	if (!len || check_nesting(data, len))
		return LD_EINVAL;
	cbor_item_t *it = cbor_load(data, len, &res);
	if (!it)
		return res.error.code == CBOR_ERR_MEMERROR ? LD_ENOMEM : LD_EINVAL;
	int rc = res.read != len ? LD_EINVAL : to_json(it, 0, out);
	if (!rc && !*out)
		rc = LD_EINVAL; /* a document that is only an undefined value */
	cbor_decref(&it);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int is_ts_key(const char *const *ts_keys, const char *k)
{
	for (size_t i = 0; ts_keys && ts_keys[i]; i++)
		if (!strcmp(ts_keys[i], k))
			return 1;
	return 0;
}

static cbor_item_t *timestamp(json_t *v)
{
	cbor_item_t *n = cbor_build_float8(json_number_value(v));
	if (!n)
		return NULL;
	cbor_item_t *t = cbor_build_tag(1, n);
	cbor_decref(&n);
	return t;
}

static cbor_item_t *from_json(json_t *v, const char *const *ts_keys, int ts)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		cbor_item_t *m = cbor_new_definite_map(json_object_size(v));
		const char *k;
		json_t *x;
		if (!m)
			return NULL;
		json_object_foreach(v, k, x) {
			cbor_item_t *key = cbor_build_string(k), *val = from_json(x, ts_keys, is_ts_key(ts_keys, k));
			int ok = key && val && cbor_map_add(m, (struct cbor_pair){ .key = key, .value = val });
			if (key)
				cbor_decref(&key);
			if (val)
				cbor_decref(&val);
			if (!ok) {
				cbor_decref(&m);
				return NULL;
			}
		}
		return m;
	}
	case JSON_ARRAY: {
		cbor_item_t *a = cbor_new_definite_array(json_array_size(v));
		size_t i;
		json_t *x;
		if (!a)
			return NULL;
		json_array_foreach(v, i, x) {
			cbor_item_t *val = from_json(x, ts_keys, ts);
			int ok = val && cbor_array_push(a, val);
			if (val)
				cbor_decref(&val);
			if (!ok) {
				cbor_decref(&a);
				return NULL;
			}
		}
		return a;
	}
	case JSON_STRING:
		return cbor_build_stringn(json_string_value(v), json_string_length(v)); /* NUL bytes too */
	case JSON_INTEGER: {
		if (ts)
			return timestamp(v);
		json_int_t i = json_integer_value(v);
		return i >= 0 ? cbor_build_uint64((uint64_t)i) : cbor_build_negint64((uint64_t)(-1 - i));
	}
	case JSON_REAL:
		return ts ? timestamp(v) : cbor_build_float8(json_real_value(v));
	case JSON_TRUE:
		return cbor_build_bool(true);
	case JSON_FALSE:
		return cbor_build_bool(false);
	default:
		return cbor_new_null();
	}
}

int cborjson_encode(json_t *v, const char *const *ts_keys, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	cbor_item_t *it = from_json(v, ts_keys, 0);
	if (!it)
		return LD_ENOMEM;
	size_t cap = 0;
	size_t n = cbor_serialize_alloc(it, out, &cap);
	cbor_decref(&it);
	if (!n) {
		free(*out);
		*out = NULL;
		return LD_ENOMEM;
	}
	*len = n;
	return 0;
}
