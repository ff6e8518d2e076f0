/*
 * registry.h - pulling a container image from an OCI / Docker Registry HTTP
 * API v2 registry into the data directory's layer store (images/ room;
 * docs/images.md).
 *
 * Blocking (libcurl easy): it runs in `lambdad image-pull`, a child process
 * the daemon starts per pull (images/pull.c), never on the daemon's loop.
 *
 * An image URI is REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST] (TAG defaults to
 * latest). The registry's base URL is the one a mapping names
 * (`--image-registry HOST=URL`, HOST may be *.SUFFIX, URL may carry
 * user:password@ for basic auth; ECR's hosts are mapped this way), else http:// for loopback hosts (127.0.0.0/8, localhost) and
 * https:// otherwise. Anonymous access, basic auth, and bearer tokens
 * (a 401 with WWW-Authenticate: Bearer realm=...,service=...,scope=...) are
 * handled as the registry asks.
 *
 * The pull: the manifest (an index or manifest list is resolved to the
 * linux image of the function's architecture), the config blob, every
 * layer blob not yet in the store; every document and blob is checked
 * against its sha256 digest. Layers are unpacked once each into
 * DATA/layers/<hex> (blobs/layer.h: overlayfs lower directories), built
 * under a temporary name and renamed into place; images share them.
 */
#ifndef LD_REGISTRY_H
#define LD_REGISTRY_H

#include <jansson.h>
#include <stddef.h>

#define REGISTRY_MAX_IMAGE (10ULL * 1024 * 1024 * 1024) /* AWS: an image of at most 10 GB (unpacked) */
#define REGISTRY_MAX_MANIFEST (4 * 1024 * 1024)          /* a manifest or config document */

struct registry_opts {
	const char *data_dir;
	const char *uri;            /* the function's ImageUri */
	const char *arch;           /* "x86_64" (amd64) or "arm64" */
	const char *const *maps;    /* "HOST=URL" mappings, NULL-terminated (may be NULL) */
};

/* Pulls o->uri. On success *out is {"digest":"<64 hex>","config":{Entrypoint,Cmd,WorkingDir,Env},
 * "layers":["<hex>",...] (bottom first),"downloaded":N,"reused":N}; on failure
 * {"error":"ImageAccessDenied|InvalidImage","message":"..."}. Returns 0 for both (the caller
 * prints it), LD_ENOMEM otherwise. */
int registry_pull(const struct registry_opts *o, json_t **out);

/* The layer store directory: DATA/layers. */
void registry_layers_dir(const char *data_dir, char *out, size_t n);

#endif
