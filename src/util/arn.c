/*
 * arn.c - partitions of regions (arn.h).
 */
#include "util/arn.h"

#include <string.h>

const char *arn_partition(const char *region)
{
	if (!strncmp(region, "cn-", 3))
		return "aws-cn";
	if (!strncmp(region, "us-gov-", 7))
		return "aws-us-gov";
	return "aws";
}
