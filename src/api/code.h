/*
 * code.h - function and layer code: intake into the blob store, and the
 * expiring download URL of Code.Location (code.c).
 */
#ifndef LD_API_CODE_H
#define LD_API_CODE_H

#include <jansson.h>
#include <stddef.h>

#include "req.h"

/* Takes the code of `code` (a document with ZipFile, S3Bucket/S3Key/
 * S3ObjectVersion or ImageUri: CreateFunction's Code, UpdateFunctionCode's
 * input, PublishLayerVersion's Content) into the blob store and sets
 * CodeSha256, CodeSize and the internal code fields of doc. Records AWS's
 * error and returns LD_EAPI when the code is refused. */
int code_take(req_t *r, json_t *code, json_t *doc);

/* The hex digest an image URI pins (REPO[:TAG]@sha256:HEX), or NULL for a
 * tag (pointing into uri). */
const char *code_image_digest(const char *uri);

/* Code.Location for the blob `hex`: an expiring URL on this server, signed
 * with the server's URL key, written into out. */
void code_location(req_t *r, const char *hex, char *out, size_t n);

#endif
