/*
 * image.c - starting a container image function (image.h).
 */
#include "exec/image.h"
#include "images/registry.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int image_is(json_t *cfg)
{
	const char *t = json_string_value(json_object_get(cfg, "PackageType"));
	return t && !strcmp(t, "Image");
}

/* The top layer: the mount points of the sandbox, and the environment's
 * own /etc/hosts (sandbox.localdomain), made once per data directory. */
static int top_layer(const char *dir)
{
	char path[4200];
	static const char *const dirs[] = { "proc", "dev", "tmp", "oldroot", "var/rapid", "var/task", "opt", "etc" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(path, sizeof(path), "%s/" IMAGE_TOP_LAYER "/%s", dir, dirs[i]);
		if (file_mkdir_p(path, 0755))
			return -1;
	}
	snprintf(path, sizeof(path), "%s/" IMAGE_TOP_LAYER "/etc/hosts", dir);
	if (access(path, R_OK) == 0)
		return 0;
	static const char hosts[] = "127.0.0.1\tlocalhost\n127.0.0.1\tsandbox.localdomain sandbox\n"
				    "::1\tlocalhost ip6-localhost ip6-loopback\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int ok = write(fd, hosts, sizeof(hosts) - 1) == (ssize_t)(sizeof(hosts) - 1);
	close(fd);
	return ok ? 0 : -1;
}

/* Whether path (absolute, inside the image) is a file of its layers, from
 * the top: a layer's whiteout (a 0:0 character device) hides it below. */
static int in_image(const struct image_run *r, const char *path)
{
	char host[PATH_MAX + 200];
	for (int i = 1; i < r->nlayers; i++) {
		struct stat st;
		snprintf(host, sizeof(host), "%s/%s%s", r->dir, r->layers[i], path);
		if (lstat(host, &st) != 0)
			continue;
		if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
			return 0;
		return 1;
	}
	return 0;
}

/* a word without a slash, found in the image's PATH */
static int look_up(struct image_run *r, const char *word)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	size_t i;
	json_t *v;
	json_array_foreach(r->env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, "PATH=", 5))
			path = s + 5;
	}
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(r->path0, sizeof(r->path0), "%.*s/%s", (int)n, path, word);
		if (r->path0[0] == '/' && in_image(r, r->path0))
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

int image_prepare(server_t *srv, json_t *cfg, struct image_run *r, ld_error_t *err)
{
	memset(r, 0, sizeof(*r));
	json_t *layers = json_object_get(cfg, "_ImageLayers");
	json_t *conf = json_object_get(cfg, "_ImageConfig");
	json_t *over = json_object_get(json_object_get(cfg, "ImageConfigResponse"), "ImageConfig");
	if (!json_is_array(layers) || !json_array_size(layers))
		return ld_error_set(err, "InvalidImage", "The image of this function is not pulled.");
	if (json_array_size(layers) + 1 > sizeof(r->layers) / sizeof(*r->layers))
		return ld_error_set(err, "InvalidImage", "The image has more layers than lambdad can stack.");
	registry_layers_dir(srv->data_dir, r->dir, sizeof(r->dir));
	if (top_layer(r->dir))
		return ld_error_set(err, "InvalidImage", "The image's root cannot be prepared.");
	r->layers[r->nlayers++] = IMAGE_TOP_LAYER;
	for (size_t i = json_array_size(layers); i-- > 0;)
		r->layers[r->nlayers++] = json_string_value(json_array_get(layers, i));
	r->env = json_object_get(conf, "Env");
	if (!json_is_array(r->env))
		r->env = NULL;
	json_t *entry = json_object_get(over, "EntryPoint");
	if (!json_is_array(entry))
		entry = json_object_get(conf, "Entrypoint");
	json_t *cmd = json_object_get(over, "Command");
	if (!json_is_array(cmd))
		cmd = json_object_get(conf, "Cmd");
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(entry, i, v) if (n < IMAGE_ARGV_MAX && json_string_value(v)) r->argv[n++] =
		(char *)json_string_value(v);
	json_array_foreach(cmd, i, v) if (n < IMAGE_ARGV_MAX && json_string_value(v)) r->argv[n++] =
		(char *)json_string_value(v);
	r->argv[n] = NULL;
	r->handler = json_string_value(json_array_get(cmd, 0));
	const char *wd = json_string_value(json_object_get(over, "WorkingDirectory"));
	if (!wd || !*wd)
		wd = json_string_value(json_object_get(conf, "WorkingDir"));
	r->cwd = wd && *wd == '/' ? wd : "/";
	if (!n)
		return ld_error_set(err, "Runtime.InvalidEntrypoint", "No command specified");
	if (strchr(r->argv[0], '/') && r->argv[0][0] != '/') {
		/* relative to the working directory */
		snprintf(r->path0, sizeof(r->path0), "%s/%s", strcmp(r->cwd, "/") ? r->cwd : "", r->argv[0]);
		r->argv[0] = r->path0;
	} else if (!strchr(r->argv[0], '/')) {
		if (look_up(r, r->argv[0]))
			return ld_error_set(err, "Runtime.InvalidEntrypoint", "exec: \"%s\": executable file not found in $PATH",
					    r->argv[0]);
		r->argv[0] = r->path0;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int image_extensions(const struct image_run *r, char (*names)[256], int n)
{
	char seen[4 * 64][256];
	int nseen = 0, found = 0;
	char (*all)[256] = calloc(4 * 64, 256);
	if (!all)
		return 0;
	for (int i = 1; i < r->nlayers; i++) {
		char dir[PATH_MAX + 300];
		snprintf(dir, sizeof(dir), "%s/%s/opt/extensions", r->dir, r->layers[i]);
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.' || strlen(e->d_name) >= 256)
				continue;
			int dup = 0;
			for (int k = 0; k < nseen; k++)
				dup |= !strcmp(seen[k], e->d_name);
			if (dup || nseen >= (int)(sizeof(seen) / sizeof(*seen)))
				continue;
			snprintf(seen[nseen++], 256, "%s", e->d_name);
			char path[PATH_MAX + 600];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
				continue; /* a whiteout (0:0 device), a directory, not executable */
			snprintf(all[found++], 256, "%s", e->d_name);
		}
		int opaque = d && getxattr(dir, "trusted.overlay.opaque", (char[2]){ 0 }, 1) == 1;
		if (d)
			closedir(d);
		if (opaque)
			break;
	}
	qsort(all, (size_t)found, 256, by_name);
	for (int i = 0; i < found && i < n; i++)
		memcpy(names[i], all[i], 256);
	free(all);
	return found;
}
