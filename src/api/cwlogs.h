/*
 * cwlogs.h - the CloudWatch Logs API on lambdad's port (JSON 1.1,
 * X-Amz-Target: Logs_20140328.<Op>), over the log store (logs/logstore.h).
 *
 * The router hands every request whose X-Amz-Target starts with
 * "Logs_20140328." to cwlogs_dispatch() after authenticating it for
 * service "logs"; the operation validates its input from the logs model's
 * constraints (botocore's logs-2014-03-28, checked here: InvalidParameterException
 * with AWS's "N validation errors detected: ..." text), works on
 * srv->logs and answers JSON 1.1. docs/logs.md lists the operations.
 */
#ifndef LD_API_CWLOGS_H
#define LD_API_CWLOGS_H

#include "req.h"

/* Runs operation op ("PutLogEvents") of r. 0 with r->raw holding the
 * answer, LD_EAPI with AWS's error recorded, or another LD_E* code. */
int cwlogs_dispatch(req_t *r, const char *op);

/* Starts the retention sweep (a timer every srv->logs_sweep_ms) / stops it
 * and ends the live tail sessions (call before the HTTP front stops). */
void cwlogs_start(server_t *srv);
void cwlogs_stop(server_t *srv);

/* Parses the nextToken of DescribeLogGroups / DescribeLogStreams ("d/N")
 * and FilterLogEvents ("e/TIMESTAMP/SKIP"): 0 or LD_EINVAL. For the fuzzer. */
int cwlogs_parse_describe_token(const char *tok, size_t *offset);
int cwlogs_parse_filter_token(const char *tok, long long *ts, unsigned long long *skip);

#endif
