/*
 * arn.c - partitions of regions, and splitting ARNs (arn.h).
 */
#include "util/arn.h"
#include "util/err.h"
#include "util/str.h"

#include <stdio.h>
#include <string.h>

const char *arn_partition(const char *region)
{
	if (!strncmp(region, "cn-", 3))
		return "aws-cn";
	if (!strncmp(region, "us-gov-", 7))
		return "aws-us-gov";
	return "aws";
}

void arn_function(char *out, size_t n, const char *scope, const char *name, const char *qualifier)
{
	const char *colon = strchr(scope, ':');
	const char *region = colon ? colon + 1 : "";
	char account[32];
	size_t alen = colon ? (size_t)(colon - scope) : 0;
	if (alen >= sizeof(account))
		alen = sizeof(account) - 1;
	memcpy(account, scope, alen);
	account[alen] = '\0';
	int q = qualifier && *qualifier;
	str_join(out, n, "arn:", arn_partition(region), ":lambda:", region, ":", account, ":function:", name,
		 q ? ":" : "", q ? qualifier : "", NULL);
}

int arn_parse(const char *s, struct arn *a)
{
	size_t n = strlen(s);
	if (n >= sizeof a->copy || strncmp(s, "arn:", 4))
		return LD_EINVAL;
	memcpy(a->copy, s, n + 1);
	char *parts[6], *p = a->copy;
	for (int i = 0; i < 5; i++) {
		parts[i] = p;
		p = strchr(p, ':');
		if (!p)
			return LD_EINVAL;
		*p++ = '\0';
	}
	parts[5] = p; /* the resource may hold ':' */
	a->partition = parts[1];
	a->service = parts[2];
	a->region = parts[3];
	a->account = parts[4];
	a->resource = parts[5];
	if (!*a->partition || !*a->resource)
		return LD_EINVAL;
	return 0;
}
