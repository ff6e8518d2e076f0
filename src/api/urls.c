/*
 * urls.c: function URL configs
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_create_function_url_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation CreateFunctionUrlConfig");
}

int api_get_function_url_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetFunctionUrlConfig");
}

int api_update_function_url_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation UpdateFunctionUrlConfig");
}

int api_delete_function_url_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteFunctionUrlConfig");
}

int api_list_function_url_configs(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListFunctionUrlConfigs");
}
