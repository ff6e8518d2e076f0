/*
 * layers.c: layer versions, their permissions, and listing
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_publish_layer_version(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation PublishLayerVersion");
}

int api_get_layer_version(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetLayerVersion");
}

int api_get_layer_version_by_arn(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetLayerVersionByArn");
}

int api_delete_layer_version(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteLayerVersion");
}

int api_list_layers(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListLayers");
}

int api_list_layer_versions(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListLayerVersions");
}

int api_add_layer_version_permission(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation AddLayerVersionPermission");
}

int api_remove_layer_version_permission(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation RemoveLayerVersionPermission");
}

int api_get_layer_version_policy(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetLayerVersionPolicy");
}
