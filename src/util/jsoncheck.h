/*
 * jsoncheck.h - is this JSON? Without building it.
 *
 * An invoke payload is checked for being JSON (AWS refuses anything else)
 * and then handed on as bytes: building a tree only to throw it away costs
 * an allocation per value. This runs yajl's streaming parser with no
 * callbacks: any JSON value at the top level, UTF-8 validated, nothing
 * after it but white space. On failure it says where, never what (the
 * payload is sensitive: the message names no part of it).
 */
#ifndef LD_JSONCHECK_H
#define LD_JSONCHECK_H

#include <stddef.h>

struct jsoncheck_error {
	char what[128]; /* yajl's description of the problem, without the text */
	int line;       /* 1-based position of the problem */
	int column;
};

/* 0 when text[0..len) is one JSON value, else LD_EINVAL with *err filled
 * (err may be NULL), or LD_ENOMEM. */
int jsoncheck(const char *text, size_t len, struct jsoncheck_error *err);

#endif
