/*
 * invokeconfig.c: event invoke configs (async retries, destinations)
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_put_function_event_invoke_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation PutFunctionEventInvokeConfig");
}

int api_update_function_event_invoke_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation UpdateFunctionEventInvokeConfig");
}

int api_get_function_event_invoke_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetFunctionEventInvokeConfig");
}

int api_delete_function_event_invoke_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteFunctionEventInvokeConfig");
}

int api_list_function_event_invoke_configs(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListFunctionEventInvokeConfigs");
}
