/*
 * jsonread.h - request bodies read into jansson trees by yajl's lexer.
 *
 * jansson's reader costs about 120 instructions a byte, and a body is
 * mostly one long string (CreateFunction's base64 ZipFile is most of its
 * user-space time). yajl scans strings a table lookup a byte. jsonread
 * builds, from yajl's events, the very tree json_loadb(text, len,
 * JSON_REJECT_DUPLICATES) builds for a JSON object, and gives up (NULL)
 * whenever the two readers could disagree: any error, a top level that is
 * not an object, a duplicate key, a \u escape anywhere in the text, a
 * number jansson would refuse (out of range) or a string it would
 * (invalid UTF-8), nesting deeper than jansson's limit. The caller then
 * reads the text with jansson, which answers exactly as before (its error
 * texts included). tests/fuzz/fuzz_jsonread.c checks the agreement.
 */
#ifndef LD_JSONREAD_H
#define LD_JSONREAD_H

#include <jansson.h>
#include <stddef.h>

/* The object text[0..len) holds (a new reference), or NULL: not one, not
 * sure, or out of memory (ask jansson). */
json_t *jsonread_object(const char *text, size_t len);

#endif
