/*
 * arn.c - partitions of regions (arn.h).
 */
#include "util/arn.h"

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
	int alen = colon ? (int)(colon - scope) : 0;
	if (qualifier && *qualifier)
		snprintf(out, n, "arn:%s:lambda:%s:%.*s:function:%s:%s", arn_partition(region), region, alen, scope,
			 name, qualifier);
	else
		snprintf(out, n, "arn:%s:lambda:%s:%.*s:function:%s", arn_partition(region), region, alen, scope, name);
}
