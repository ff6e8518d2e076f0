/*
 * layers.h - what the function handlers need from the layers family.
 *
 * A function names layer versions by ARN in CreateFunction and
 * UpdateFunctionConfiguration; layers_for_function() applies AWS's checks
 * to that list and returns the Layers member AWS reports, so that
 * fnconfig.c does not need to know how layer versions are stored.
 */
#ifndef LD_LAYERS_H
#define LD_LAYERS_H

#include <jansson.h>

#include "api/lookup.h"
#include "req.h"

/*
 * Checks the layer version ARNs `arns` (a JSON array of strings, already
 * validated against the model's pattern) for the function `ref`, as AWS
 * does: at most 5, every one in the function's region, no two versions of
 * one layer, each existing, and another account's layer version only when
 * its policy allows the function's account. On success *out (new reference,
 * owned by the caller) is [{"Arn":..., "CodeSize":..., "_CodeHex":...}, ...]
 * (the internal _CodeHex names the layer's archive for execution) and *unzipped
 * the layers' unzipped bytes together. Records AWS's error and returns
 * LD_EAPI when refused.
 */
int layers_for_function(req_t *r, const struct fnref *ref, json_t *arns, json_t **out, json_int_t *unzipped);

/* The zipped size of every layer version of the scope "ACCOUNT:REGION"
 * together (GetAccountSettings' TotalCodeSize counts them). */
int layers_code_size(req_t *r, const char *scope, json_int_t *total);

#endif
