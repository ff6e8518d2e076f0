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

#include "router.h"

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
/* code.c: lambdad's own download path behind Code.Location */
int api_download_code(req_t *r);
/* Code.Location for the blob `hex`: an expiring URL on this server, signed
 * with the server's URL key, written into out. */
void api_code_location(req_t *r, const char *hex, char *out, size_t n);

#endif
