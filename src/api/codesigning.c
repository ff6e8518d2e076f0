/*
 * codesigning.c: code signing configs and their functions
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_create_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation CreateCodeSigningConfig");
}

int api_get_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetCodeSigningConfig");
}

int api_update_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation UpdateCodeSigningConfig");
}

int api_delete_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteCodeSigningConfig");
}

int api_list_code_signing_configs(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListCodeSigningConfigs");
}

int api_put_function_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation PutFunctionCodeSigningConfig");
}

int api_get_function_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetFunctionCodeSigningConfig");
}

int api_delete_function_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteFunctionCodeSigningConfig");
}

int api_list_functions_by_code_signing_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListFunctionsByCodeSigningConfig");
}
