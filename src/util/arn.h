/*
 * arn.h - ARNs: the AWS partition of a region for the ARNs lambdad
 * writes, and splitting one into its parts.
 *
 * arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE; the partition follows from
 * the region: cn-* is aws-cn, us-gov-* is aws-us-gov, the rest is aws.
 */
#ifndef LD_ARN_H
#define LD_ARN_H

#include <stddef.h>

/* "aws", "aws-cn" or "aws-us-gov" (static strings). */
const char *arn_partition(const char *region);

/* arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] of the
 * function NAME in scope "ACCOUNT:REGION" into out (qualifier NULL or "":
 * unqualified). */
void arn_function(char *out, size_t n, const char *scope, const char *name, const char *qualifier);

/* An ARN split: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, pointers
 * into a copy (the resource keeps its ':'s). */
struct arn {
	char copy[1024];
	const char *partition, *service, *region, *account, *resource;
};

/* Splits s into *a. 0, or LD_EINVAL (not an ARN, too long, empty partition
 * or resource). */
int arn_parse(const char *s, struct arn *a);

#endif
