/*
 * cborjson.h - CBOR documents to and from jansson values (libcbor), for the
 * services lambdad answers in Smithy's rpc-v2-cbor protocol (CloudWatch).
 *
 * Decoding: maps with text keys become objects, arrays arrays, text strings
 * strings, integers integers (beyond int64: reals), floats reals, booleans
 * and null themselves, byte strings base64 strings, and an epoch-seconds
 * timestamp (tag 1) its number; other tags their content. Undefined values
 * are left out. Nesting is capped at CBORJSON_MAX_DEPTH. Encoding is the
 * reverse for what JSON holds, with the values of the keys that ts_keys
 * names (a NULL-terminated list) written as tag 1 timestamps (numbers, or
 * arrays of numbers).
 */
#ifndef LD_UTIL_CBORJSON_H
#define LD_UTIL_CBORJSON_H

#include <jansson.h>
#include <stddef.h>

#define CBORJSON_MAX_DEPTH 32

/* The document of data[0..len) into *out (the caller's, json_decref): 0, or
 * LD_EINVAL for malformed CBOR, trailing bytes, a non-text map key, too deep
 * a nesting; LD_ENOMEM. */
int cborjson_decode(const void *data, size_t len, json_t **out);

/* v as CBOR into *out (malloc'd, the caller frees) and *len: 0 or LD_ENOMEM. */
int cborjson_encode(json_t *v, const char *const *ts_keys, unsigned char **out, size_t *len);

#endif
