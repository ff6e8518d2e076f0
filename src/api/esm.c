/*
 * esm.c: event source mappings
 *
 * Placeholder while the family is being written: each action answers as
 * an operation lambdad does not implement yet.
 */
#include "api/api.h"
#include "model/apierr.h"

int api_create_event_source_mapping(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation CreateEventSourceMapping");
}

int api_get_event_source_mapping(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation GetEventSourceMapping");
}

int api_update_event_source_mapping(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation UpdateEventSourceMapping");
}

int api_delete_event_source_mapping(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation DeleteEventSourceMapping");
}

int api_list_event_source_mappings(req_t *r)
{
	return apierr_set(r, "UnknownOperationException", "Unknown operation ListEventSourceMappings");
}
