/*
 * runtimes.c - runtime id -> interpreter discovery (see runtimes.h).
 *
 * python3.X looks for a binary named python3.X in /usr/bin, /usr/local/bin
 * and the install trees of pyenv (~/.pyenv/versions/3.X.*) and of
 * /opt/python*; nodejsNN.x looks for node in /usr/bin and /usr/local/bin and
 * accepts it only when its major version (from `node --version`, run once)
 * is NN. Paths are resolved with realpath, so a symlink to the real binary is
 * fine while a shim script is not (it is not an ELF file).
 */
#include "exec/runtimes.h"
#include "model/model.h"
#include "util/err.h"

#include <dirent.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RUNTIMES 64

static struct runtime_info table[MAX_RUNTIMES];
static size_t ntable;
static char client_root[PATH_MAX];
static char python_dir[PATH_MAX + 16], node_dir[PATH_MAX + 16];
static char summary[1024];

static int is_elf(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(magic, 1, 4, f);
	fclose(f);
	return n == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

/* candidate -> real ELF binary, and the install tree above its bin/ */
static int accept_binary(struct runtime_info *rt, const char *candidate)
{
	char real[PATH_MAX];
	if (!realpath(candidate, real) || access(real, X_OK) != 0 || !is_elf(real))
		return 0;
	snprintf(rt->interp, sizeof(rt->interp), "%s", real);
	/* /usr/bin/python3.11 -> prefix /usr is the host's own tree: bound
	 * already, so the interpreter keeps its host path inside */
	char *slash = strrchr(real, '/');
	*slash = '\0';
	char *bin = strrchr(real, '/');
	if (bin && !strcmp(bin, "/bin") && strncmp(real, "/usr/", 5) != 0 && strcmp(real, "/usr/bin") != 0) {
		*bin = '\0';
		snprintf(rt->prefix, sizeof(rt->prefix), "%s", real);
		snprintf(rt->inside, sizeof(rt->inside), "/var/lang/bin/%s", slash + 1);
	} else {
		rt->prefix[0] = '\0';
		snprintf(rt->inside, sizeof(rt->inside), "%s", rt->interp);
	}
	return 1;
}

static void find_python(struct runtime_info *rt)
{
	const char *ver = rt->id + strlen("python"); /* "3.11" */
	char cand[PATH_MAX];
	const char *dirs[] = { "/usr/bin", "/usr/local/bin" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(cand, sizeof(cand), "%s/python%s", dirs[i], ver);
		if (accept_binary(rt, cand))
			return;
	}
	const char *home = getenv("HOME");
	char pat[PATH_MAX];
	glob_t g;
	const char *roots[] = { home ? home : "/root", "/root" };
	for (size_t r = 0; r < 2; r++) {
		snprintf(pat, sizeof(pat), "%s/.pyenv/versions/%s.*/bin/python%s", roots[r], ver, ver);
		if (glob(pat, 0, NULL, &g) == 0) {
			for (size_t i = g.gl_pathc; i-- > 0;) /* newest patch release last in glob order */
				if (accept_binary(rt, g.gl_pathv[i])) {
					globfree(&g);
					return;
				}
		}
		globfree(&g);
	}
}

static int node_major(const char *bin)
{
	char cmd[PATH_MAX + 32], out[64] = "";
	snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", bin);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return out[0] == 'v' ? atoi(out + 1) : -1;
}

static void find_node(struct runtime_info *rt)
{
	static int major = -2;
	static char found[PATH_MAX];
	if (major == -2) {
		major = -1;
		const char *cands[] = { "/usr/bin/node", "/usr/local/bin/node" };
		for (size_t i = 0; i < 2 && major < 0; i++) {
			struct runtime_info probe = { 0 };
			if (accept_binary(&probe, cands[i]) && (major = node_major(probe.interp)) > 0)
				snprintf(found, sizeof(found), "%s", cands[i]);
		}
	}
	int want = atoi(rt->id + strlen("nodejs"));
	if (major > 0 && want == major)
		accept_binary(rt, found);
}

static enum runtime_kind kind_of(const char *id)
{
	if (!strncmp(id, "provided", 8))
		return RUNTIME_PROVIDED;
	if (!strncmp(id, "python3.", 8))
		return RUNTIME_PYTHON;
	if (!strncmp(id, "nodejs", 6) && strcmp(id, "nodejs") != 0)
		return RUNTIME_NODEJS;
	return RUNTIME_OTHER;
}

/* The clients' directory, absolute (the sandbox binds it): the one given
 * when it holds python/bootstrap.py, else the first runtimes/ holding it in
 * the directories above it (build/test/../runtimes is build/runtimes, while
 * the clients live in the source tree's runtimes/). */
static void find_client_root(const char *given)
{
	char dir[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];
	snprintf(client_root, sizeof(client_root), "%s", given);
	if (realpath(given, real))
		snprintf(client_root, sizeof(client_root), "%s", real);
	snprintf(cand, sizeof(cand), "%s/python/bootstrap.py", client_root);
	if (access(cand, R_OK) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", given);
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return;
		*slash = '\0';
		snprintf(cand, sizeof(cand), "%s/runtimes/python/bootstrap.py", dir);
		if (access(cand, R_OK) == 0) {
			snprintf(cand, sizeof(cand), "%s/runtimes", dir);
			if (realpath(cand, real))
				snprintf(client_root, sizeof(client_root), "%s", real);
			return;
		}
	}
}

static struct runtime_info *find(const char *id)
{
	for (size_t i = 0; i < ntable; i++)
		if (!strcmp(table[i].id, id))
			return &table[i];
	return NULL;
}

int runtimes_init(const char *runtimes_dir, const char *const *overrides)
{
	const struct shape *s = model_shape("Runtime");
	ntable = 0;
	find_client_root(runtimes_dir ? runtimes_dir : "runtimes");
	snprintf(python_dir, sizeof(python_dir), "%s/python", client_root);
	snprintf(node_dir, sizeof(node_dir), "%s/nodejs", client_root);
	for (size_t i = 0; s && i < s->nenums && ntable < MAX_RUNTIMES; i++) {
		struct runtime_info *rt = &table[ntable];
		memset(rt, 0, sizeof(*rt));
		snprintf(rt->id, sizeof(rt->id), "%s", s->enums[i]);
		rt->kind = kind_of(rt->id);
		if (rt->kind == RUNTIME_OTHER)
			continue;
		if (rt->kind == RUNTIME_PYTHON)
			find_python(rt);
		else if (rt->kind == RUNTIME_NODEJS)
			find_node(rt);
		ntable++;
	}
	for (const char *const *o = overrides; o && *o; o++) {
		const char *eq = strchr(*o, '=');
		char id[32];
		if (!eq || (size_t)(eq - *o) >= sizeof(id))
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(eq - *o), *o);
		struct runtime_info *rt = find(id);
		if (!rt || !accept_binary(rt, eq + 1))
			fprintf(stderr, "lambdad: --runtime %s: not a runtime id and interpreter binary\n", *o);
	}
	summary[0] = '\0';
	for (size_t i = 0; i < ntable; i++) {
		if (table[i].kind != RUNTIME_PROVIDED && !table[i].interp[0])
			continue;
		size_t n = strlen(summary), m = strlen(table[i].id);
		if (n + m + 2 > sizeof(summary))
			break;
		if (n)
			summary[n++] = ' ';
		memcpy(summary + n, table[i].id, m + 1);
	}
	return 0;
}

const struct runtime_info *runtimes_get(const char *id)
{
	const struct runtime_info *rt = id ? find(id) : NULL;
	if (!rt || (rt->kind != RUNTIME_PROVIDED && !rt->interp[0]))
		return NULL;
	return rt;
}

int runtimes_missing(const char *id, char *out, size_t n)
{
	if (runtimes_get(id))
		return 0;
	switch (id ? kind_of(id) : RUNTIME_OTHER) {
	case RUNTIME_PYTHON:
		snprintf(out, n,
			 "The runtime %s cannot run on this lambdad host: it needs a %s interpreter (install one, e.g. with "
			 "pyenv or the distribution's python3.%s package, or name it with --runtime %s=/path/to/%s) and a "
			 "restart of lambdad.",
			 id, id, id + strlen("python3."), id, id);
		break;
	case RUNTIME_NODEJS:
		snprintf(out, n,
			 "The runtime %s cannot run on this lambdad host: it needs node %d (put a node %d binary in "
			 "/usr/local/bin or name it with --runtime %s=/path/to/node) and a restart of lambdad.",
			 id, atoi(id + strlen("nodejs")), atoi(id + strlen("nodejs")), id);
		break;
	default:
		snprintf(out, n, "The runtime %s cannot run on this lambdad host: lambdad runs python3.x, nodejs*.x and "
			 "provided runtimes only.", id ? id : "(none)");
	}
	return LD_ENOTFOUND;
}

const char *runtimes_client_dir(enum runtime_kind kind)
{
	switch (kind) {
	case RUNTIME_PYTHON: return python_dir;
	case RUNTIME_NODEJS: return node_dir;
	default: return NULL;
	}
}

const char *runtimes_describe(void)
{
	return summary;
}
