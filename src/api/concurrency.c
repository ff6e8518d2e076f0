/*
 * concurrency.c: reserved and provisioned concurrency
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_put_function_concurrency(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation PutFunctionConcurrency");
}

int api_get_function_concurrency(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetFunctionConcurrency");
}

int api_delete_function_concurrency(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteFunctionConcurrency");
}

int api_put_provisioned_concurrency_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation PutProvisionedConcurrencyConfig");
}

int api_get_provisioned_concurrency_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetProvisionedConcurrencyConfig");
}

int api_delete_provisioned_concurrency_config(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteProvisionedConcurrencyConfig");
}

int api_list_provisioned_concurrency_configs(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListProvisionedConcurrencyConfigs");
}
