/*
 * arn.c - partitions of regions (arn.h).
 */
#include "util/arn.h"
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
