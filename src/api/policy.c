/*
 * policy.c: function resource policies
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_add_permission(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation AddPermission");
}

int api_remove_permission(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation RemovePermission");
}

int api_get_policy(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetPolicy");
}
