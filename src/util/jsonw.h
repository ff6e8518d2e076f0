/*
 * jsonw.h - fast serialisation of jansson values into a buf_t.
 *
 * Responses are serialised on every request, and jansson's json_dumps costs
 * about 70 instructions per output byte (per-character escaping through a
 * callback, printf for numbers). This writer produces the same compact JSON
 * (UTF-8 passed through, the same escapes, object keys in insertion order)
 * at a fraction of the cost. It only writes; parsing stays with jansson.
 *
 * Object members whose name starts with '_' are lambdad's internal fields
 * (no AWS member name does): they are never written, so stored documents
 * can be answered as they are without leaking them (jsonw_dump_all, for
 * the store's own text, writes them).
 */
#ifndef LD_JSONW_H
#define LD_JSONW_H

#include <jansson.h>

#include "util/buf.h"

/* Appends the compact JSON text of v to out. 0, LD_ETOOBIG (out's cap),
 * LD_ENOMEM, or LD_EINVAL for a value that has no JSON form (NaN). */
int jsonw_dump(json_t *v, buf_t *out);

/* The same with the internal fields written too: the text of a stored
 * document (the store writes every document it keeps with it). */
int jsonw_dump_all(json_t *v, buf_t *out);

#endif
