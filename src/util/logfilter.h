/*
 * logfilter.h - CloudWatch Logs filter patterns (FilterLogEvents, metric and
 * subscription filters, Live Tail), compiled once and matched against log
 * events' messages.
 *
 * Three forms, as AWS's "Filter pattern syntax" page defines them:
 *
 *   terms        ERROR Exception       every term appears (case-sensitive)
 *                ?ERROR ?WARN          any of the ?terms appears
 *                ERROR -Retry          and no -term appears
 *                "connection reset"    a quoted phrase is one term
 *                %[hc]at%              a term may be a regular expression
 *                (empty pattern)       every event
 *   JSON         { $.level = "ERROR" && ($.latency > 100 || $.code != 2*) }
 *                selectors $.a.b, $.a[0], $.a.b[1].c; = and != on strings
 *                (with * wildcards, or %regex%) and numbers; <, <=, >, >= on
 *                numbers; IS TRUE / IS FALSE / IS NULL; NOT EXISTS; a
 *                message that is not a JSON object matches nothing
 *   space-       [ip, user, ..., status = 4*, bytes > 1000]
 *   delimited    the message's fields split at spaces, a "quoted" or
 *                [bracketed] field counting as one (without its quotes or
 *                brackets); one "..." stands for any number of fields; a field
 *                may carry conditions joined by && and ||; without "..."
 *                the counts must be equal
 *
 * Regular expressions are POSIX extended ones (regcomp), within %...%,
 * restricted as AWS restricts them: letters, digits, :_#=@/;,- and the
 * operators ^$?[]{}|\*+. only (no groups), two per pattern.
 * Limits: a pattern of at most LOGFILTER_MAX_PATTERN bytes, at most
 * LOGFILTER_MAX_NODES terms, conditions or fields.
 */
#ifndef LD_LOGFILTER_H
#define LD_LOGFILTER_H

#include <stddef.h>

#define LOGFILTER_MAX_PATTERN 1024 /* FilterLogEvents' filterPattern: 1024 characters */
#define LOGFILTER_MAX_NODES 128
#define LOGFILTER_MAX_REGEX 2      /* regular expressions in one pattern (AWS's quota) */
#define LOGFILTER_MAX_REPEAT 100   /* {m,n} counts in them */

typedef struct logfilter logfilter_t;

/* Compiles pattern (NUL-terminated). 0 with *out set, LD_EINVAL for a
 * pattern AWS would refuse ("Invalid filter pattern"), LD_ETOOBIG past the
 * limits, LD_ENOMEM. */
int logfilter_compile(const char *pattern, logfilter_t **out);

/* 1 when the message (len bytes, need not be NUL-terminated) matches, else 0. */
int logfilter_match(const logfilter_t *f, const char *msg, size_t len);

void logfilter_free(logfilter_t *f);

#endif
