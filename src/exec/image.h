/*
 * image.h - how a container image function's environment starts (exec/
 * room; docs/images.md): its command line, working directory and
 * variables from the image's config and the function's ImageConfig, and
 * its root from the pulled layers (images/registry.h).
 *
 * As AWS: ImageConfig's EntryPoint, Command and WorkingDirectory override
 * the image's ENTRYPOINT, CMD and WORKDIR; the command is ENTRYPOINT
 * followed by CMD; _HANDLER is CMD's first word; the image's ENV comes
 * under the function's variables and over Lambda's presets (PATH...). A
 * command word without a slash is looked up in the image's PATH.
 */
#ifndef LD_EXEC_IMAGE_H
#define LD_EXEC_IMAGE_H

#include <jansson.h>

#include "exec/env.h"
#include "util/err.h"

#define IMAGE_ARGV_MAX 32
#define IMAGE_TOP_LAYER ".lambdad-top" /* the mount points every image root needs */

struct image_run {
	char *argv[IMAGE_ARGV_MAX + 1]; /* argv[0] absolute; the strings point into cfg or path0 */
	char path0[4096];
	const char *cwd;
	const char *handler;            /* CMD's first word, or NULL */
	json_t *env;                    /* the image's ENV ("K=V" strings; borrowed from cfg), or NULL */
	char dir[4096];                 /* DATA/layers */
	const char *layers[130];        /* top first: IMAGE_TOP_LAYER, then the image's, into cfg */
	int nlayers;
};

/* 1 when cfg is a PackageType Image configuration. */
int image_is(json_t *cfg);

/* Fills *out for cfg (a pulled image function's configuration; the
 * environment's pool keeps cfg alive). 0, or LD_EAPI with err set
 * (Runtime.InvalidEntrypoint: no command, or it is not found; InvalidImage:
 * not pulled, too many layers). */
int image_prepare(server_t *srv, json_t *cfg, struct image_run *out, ld_error_t *err);

/* The image's external extensions: executable files of /opt/extensions in
 * its layers as they stack (a whiteout hides, an opaque directory ends the
 * search), by name, into names (n of 256). Returns how many there are
 * (possibly more than n). */
int image_extensions(const struct image_run *r, char (*names)[256], int n);

#endif
