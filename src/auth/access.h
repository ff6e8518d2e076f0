/*
 * access.h - evaluating resource-based policies (function policies, layer
 * version policies) for a request, as IAM evaluates them.
 *
 * A statement grants the request when its Effect is Allow and its Principal,
 * Action, Resource and every Condition match; an explicit Deny that matches
 * wins over any Allow. Principals match "*", {"AWS": "*"}, the caller's
 * account (an account id or arn:...:iam::ACCOUNT:root) or the caller's own
 * ARN; service principals never match a caller with access keys. Actions and
 * resources are IAM globs (* and ?), actions case-insensitive. Conditions:
 * String(Not)Equals, String(Not)EqualsIgnoreCase, String(Not)Like,
 * Arn(Not)Equals, Arn(Not)Like and Bool, over the keys the request has
 * (aws:PrincipalAccount, aws:PrincipalArn, lambda:FunctionUrlAuthType);
 * a positive operator on a key the request lacks does not match (so
 * AWS:SourceArn, AWS:SourceAccount and aws:PrincipalOrgID conditions, which
 * only services and organizations satisfy, never match a direct caller), a
 * negated one does. An operator this module does not know never matches.
 */
#ifndef LD_AUTH_ACCESS_H
#define LD_AUTH_ACCESS_H

#include <jansson.h>

struct access_request {
	const char *action;        /* "lambda:InvokeFunction" */
	const char *resource;      /* the ARN the request acts on */
	const char *account;       /* the caller's account */
	const char *principal;     /* the caller's ARN (user/role/root), or NULL */
	const char *url_auth_type; /* lambda:FunctionUrlAuthType, or NULL */
};

/* 1 when the statements (a policy's Statement array, or one statement
 * object) allow the request, 0 when not. */
int access_allows(json_t *statements, const struct access_request *q);

/* IAM's glob: '*' any run, '?' one character; nocase for actions. */
int access_glob(const char *pattern, const char *s, int nocase);

/* The statement of policy (a document {"Statement": [...]}) whose Sid is
 * sid, or NULL; *index (when given) gets its position. Borrowed from policy.
 * Function and layer version policies share it. */
json_t *access_find_statement(json_t *policy, const char *sid, size_t *index);

#endif
