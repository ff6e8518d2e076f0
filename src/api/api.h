/*
 * api.h - the request handlers, one file per resource family under src/api/.
 *
 * Every handler has the router's signature: it reads the validated req->in,
 * does its work through the store and blobs, and either sets req->out (the
 * response members) and returns 0, or records an AWS error with apierr_set()
 * and returns LD_EAPI (any other negative code becomes a ServiceException).
 * Handlers never re-validate what the model already checked.
 */
#ifndef LD_API_H
#define LD_API_H

#include "req.h"

/* functions.c */
int api_create_function(req_t *r);
int api_get_function(req_t *r);
int api_get_function_configuration(req_t *r);
int api_update_function_code(req_t *r);
int api_update_function_configuration(req_t *r);
int api_delete_function(req_t *r);
int api_list_functions(req_t *r);
/* versions.c */
int api_publish_version(req_t *r);
int api_list_versions_by_function(req_t *r);
/* aliases.c */
int api_create_alias(req_t *r);
int api_get_alias(req_t *r);
int api_update_alias(req_t *r);
int api_delete_alias(req_t *r);
int api_list_aliases(req_t *r);
/* tags.c */
int api_tag_resource(req_t *r);
int api_untag_resource(req_t *r);
int api_list_tags(req_t *r);
/* account.c */
int api_get_account_settings(req_t *r);
/* settings.c: per-function runtime management and recursion settings */
int api_get_runtime_management_config(req_t *r);
int api_put_runtime_management_config(req_t *r);
int api_get_function_recursion_config(req_t *r);
int api_put_function_recursion_config(req_t *r);
/* layers.c: layer versions, their permissions, and listing */
int api_publish_layer_version(req_t *r);
int api_get_layer_version(req_t *r);
int api_get_layer_version_by_arn(req_t *r);
int api_delete_layer_version(req_t *r);
int api_list_layers(req_t *r);
int api_list_layer_versions(req_t *r);
int api_add_layer_version_permission(req_t *r);
int api_remove_layer_version_permission(req_t *r);
int api_get_layer_version_policy(req_t *r);
/* policy.c: function resource policies */
int api_add_permission(req_t *r);
int api_remove_permission(req_t *r);
int api_get_policy(req_t *r);
/* codesigning.c: code signing configs and their functions */
int api_create_code_signing_config(req_t *r);
int api_get_code_signing_config(req_t *r);
int api_update_code_signing_config(req_t *r);
int api_delete_code_signing_config(req_t *r);
int api_list_code_signing_configs(req_t *r);
int api_put_function_code_signing_config(req_t *r);
int api_get_function_code_signing_config(req_t *r);
int api_delete_function_code_signing_config(req_t *r);
int api_list_functions_by_code_signing_config(req_t *r);
/* CreateFunction's check of CodeSigningConfigArn: 0 when the config exists
 * in the caller's account and region, else AWS's
 * CodeSigningConfigNotFoundException recorded (LD_EAPI). */
int codesigning_check_arn(req_t *r, const char *arn);
/* concurrency.c: reserved and provisioned concurrency */
int api_put_function_concurrency(req_t *r);
int api_get_function_concurrency(req_t *r);
int api_delete_function_concurrency(req_t *r);
int api_put_provisioned_concurrency_config(req_t *r);
int api_get_provisioned_concurrency_config(req_t *r);
int api_delete_provisioned_concurrency_config(req_t *r);
int api_list_provisioned_concurrency_configs(req_t *r);
/* The account's UnreservedConcurrentExecutions in scope "ACCOUNT:REGION":
 * the concurrency limit less what functions reserve (or, without a
 * reservation, provision). 0 or a store error. */
int concurrency_unreserved(req_t *r, const char *scope, json_int_t *out);
/* Makes execution follow the function's records: its reservation, and the
 * environments of its provisioned configurations (started, moved with an
 * alias, released when gone). Call after the function, a version or an
 * alias changed or went. */
void concurrency_sync(server_t *srv, const char *scope, const char *name);
/* Start-up: concurrency_sync for every function that needs it. 0 or a store error. */
int concurrency_restore(server_t *srv);
/* invokeconfig.c: event invoke configs (async retries, destinations) */
int api_put_function_event_invoke_config(req_t *r);
int api_update_function_event_invoke_config(req_t *r);
int api_get_function_event_invoke_config(req_t *r);
int api_delete_function_event_invoke_config(req_t *r);
int api_list_function_event_invoke_configs(req_t *r);
/* urls.c: function URL configs */
int api_create_function_url_config(req_t *r);
int api_get_function_url_config(req_t *r);
int api_update_function_url_config(req_t *r);
int api_delete_function_url_config(req_t *r);
int api_list_function_url_configs(req_t *r);
/* esm.c: event source mappings */
int api_create_event_source_mapping(req_t *r);
int api_get_event_source_mapping(req_t *r);
int api_update_event_source_mapping(req_t *r);
int api_delete_event_source_mapping(req_t *r);
int api_list_event_source_mappings(req_t *r);
/* Completes the transition of the mapping (scope, uuid): Creating,
 * Enabling, Updating and Disabling settle to Enabled or Disabled, Deleting
 * removes the record (the settle service's entry for mappings, settle.h).
 * 0 or the store's error. */
int esm_settle(server_t *srv, const char *scope, const char *uuid);
/* urlserve.c: requests to function URLs */
int api_function_url(req_t *r);
/* invoke.c */
int api_invoke(req_t *r);
int api_invoke_with_response_stream(req_t *r);
int api_invoke_async(req_t *r);
/* code.c: lambdad's own download path behind Code.Location (code.h) */
int api_download_code(req_t *r);

/* cloudwatch.c: the CloudWatch metrics API (query, JSON 1.0, rpc-v2-cbor) and GET /metrics */
int api_cloudwatch(req_t *r);
int api_metrics(req_t *r);
int api_metrics_open(req_t *r);

#endif
