/*
 * pattern.h - event patterns, the grammar of event source mappings'
 * FilterCriteria (and EventBridge's), matched against an event document.
 *
 * A pattern is an object whose keys name the event's fields; a key's value
 * is a nested pattern (the field must be an object that matches it) or an
 * array of matchers, any of which may match the field (when the field is
 * an array, any of its elements). Every key must match. "$or" holds an
 * array of patterns, any of which may match. Matchers: a string, number,
 * boolean or null (equality; numbers compare as numbers), {"prefix": s},
 * {"suffix": s} (either with {"equals-ignore-case": s} inside),
 * {"equals-ignore-case": s}, {"wildcard": "a*b"}, {"exists": true|false},
 * {"anything-but": value | [values] | {"prefix"|"suffix": s}} (the field
 * must be there), {"numeric": [op, n (, op, n)]} with =, <, <=, >, >=.
 * Facts from AWS's "Lambda event filtering" and EventBridge content
 * filtering pages.
 */
#ifndef LD_PATTERN_H
#define LD_PATTERN_H

#include <jansson.h>

/* 1 when event matches pattern, 0 when not (or the pattern is malformed). */
int pattern_match(json_t *pattern, json_t *event);

/* 1 when event matches any of FilterCriteria's Filters[].Pattern (JSON
 * text), or there are none; 0 otherwise. */
int pattern_filters_match(json_t *filter_criteria, json_t *event);

#endif
