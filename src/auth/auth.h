/*
 * auth.h - who is calling: the gate's authentication of API requests and of
 * AWS_IAM function URL requests, in the server's mode.
 *
 *   enforce     every API request must carry a valid SigV4 signature (header
 *               or presigned query) by a key of the key store (keys.h); the
 *               key's account and principal become the caller. The default
 *               when listening on a non-loopback address.
 *   permissive  for local development, the default on loopback: a signature
 *               is parsed but not verified; its access key id selects the
 *               account when a key of that id exists; anything else, signed
 *               or not, is the server's default account.
 *
 * Either way the region is the credential scope's, else the server's default.
 */
#ifndef LD_AUTH_AUTH_H
#define LD_AUTH_AUTH_H

#include "auth/verify.h"
#include "req.h"

enum auth_mode {
	AUTH_PERMISSIVE = 0,
	AUTH_ENFORCE = 1,
};

/* The mode's name ("enforce", "permissive"). */
const char *auth_mode_name(int mode);

/* Sets r->account, r->region and r->principal for an API request. Returns
 * 0, or LD_EAPI with AWS's error recorded (enforce: a missing or bad
 * signature), or another LD_E* code for an internal failure. */
int auth_identify(req_t *r);

/* auth_identify() for a request of another AWS service on the same port
 * (CloudWatch Logs' X-Amz-Target operations, CloudWatch's metrics), which
 * is not a Lambda operation: under enforce its signature must verify with
 * that service's scope (`logs`, `monitoring`). */
int auth_identify_service(req_t *r, const char *service);

/* Under enforce, the checks of auth_identify_service(r, service) that need
 * no body, before any of it is read (the HTTP front, through
 * router_precheck): the authentication present and well formed, the
 * credential scope, the time within the skew and the key known. 0 when they
 * pass (or in permissive mode; the signature is checked with the body
 * later); LD_EAPI with the error the full check would give recorded;
 * another LD_E* code for an internal failure. Sets nothing else in r. */
int auth_precheck(req_t *r, const char *service);

/* The access key id and region of r's credential (Authorization header, or
 * X-Amz-Credential of a presigned request), parsed, not verified: 0, or
 * LD_ENOTFOUND when r carries none. region may be "" */
int auth_credential(req_t *r, char akid[129], char region[64]);

/* Verifies r's signature for service `lambda` whatever the mode (function
 * URLs with AuthType AWS_IAM), setting r->account / r->principal to the
 * signer's on success. 0 when verified; LD_EAPI with AWS's error recorded
 * otherwise; another LD_E* code for an internal failure. */
int auth_verify_signature(req_t *r);

#endif
