/*
 * runtimes.c - runtime id -> interpreter discovery (see runtimes.h).
 *
 * python3.X looks for a binary named python3.X in /usr/bin, /usr/local/bin
 * and the install trees of pyenv (~/.pyenv/versions/3.X.*) and of
 * /opt/python*; nodejsNN.x looks for node in /usr/bin and /usr/local/bin and
 * accepts it only when its major version (from `node --version`, run once)
 * is NN. Paths are resolved with realpath, so a symlink to the real binary is
 * fine while a shim script is not (it is not an ELF file).
 *
 * The AWS SDK for Python (boto3 with botocore, s3transfer, jmespath,
 * dateutil, urllib3, six) is looked for in the host's package trees: every
 * pyenv version's site-packages, /usr/local/lib/python3.X/dist-packages
 * (pip) and /usr/lib/python3/dist-packages (Debian's python3-boto3). The
 * newest boto3 found serves every python runtime (runtimes.h). The AWS SDK
 * for JavaScript v3 is what tools/sdk.sh installed from the npm registry
 * into runtimes/nodejs-sdk/node_modules.
 */
#include "exec/runtimes.h"
#include "model/model.h"
#include "util/err.h"
#include "util/str.h"

#include <ctype.h>
#include <jansson.h>
#include <dirent.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RUNTIMES 64

struct runtimes {
	struct runtime_info table[MAX_RUNTIMES];
	size_t ntable;
	char client_root[PATH_MAX];
	char python_dir[PATH_MAX + 16], node_dir[PATH_MAX + 16], java_dir[PATH_MAX + 16], rapid_dir[PATH_MAX + 16];
	char summary[1024];
	int node_major;          /* the host node's major version (-1: none), probed once */
	char node[PATH_MAX];
	char py_sdk[PATH_MAX];   /* the host directory holding boto3 and its dependencies, "" if none */
	char py_sdk_version[32]; /* boto3's __version__ there */
	int py_sdk_requests;     /* its botocore imports requests (Debian's repack): runtimes/python/_sdk_requests too */
	char node_sdk[PATH_MAX + 32]; /* runtimes/nodejs-sdk/node_modules, "" if not installed */
	char node_sdk_version[32];    /* @aws-sdk/client-lambda's version there */
	char installed[PATH_MAX];     /* DATA/runtimes: what `lambdad runtime install` put there, "" if none */
};

/* The modules of the AWS SDK for Python as the python runtimes ship it
 * (runtimes/python has a symlink for each, see runtimes.h). */
static const char *const py_sdk_modules[] = { "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3",
					      "six.py" };

/* "1.43.11" from a package's __init__.py (__version__ = '1.43.11'), or "" */
static void read_version(const char *init, char *out, size_t n)
{
	char line[256];
	out[0] = '\0';
	FILE *f = fopen(init, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *q;
		if (strncmp(line, "__version__", 11) != 0 || !(q = strpbrk(line, "'\"")))
			continue;
		size_t len = strcspn(q + 1, "'\"");
		if (len < n) {
			memcpy(out, q + 1, len);
			out[len] = '\0';
		}
		break;
	}
	fclose(f);
}

/* <0, 0, >0 as dotted version a is older, the same, newer than b */
static int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		a += *a == '.';
		b += *b == '.';
		if ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b)))
			return strcmp(a, b);
	}
	return 0;
}

static void find_node_sdk(struct runtimes *rts)
{
	char dir[PATH_MAX + 32], pkg[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s/nodejs-sdk/node_modules", rts->client_root);
	snprintf(pkg, sizeof(pkg), "%s/@aws-sdk/client-lambda/package.json", dir);
	json_t *doc = json_load_file(pkg, 0, NULL);
	const char *version = json_string_value(json_object_get(doc, "version"));
	if (version && strlen(version) < sizeof(rts->node_sdk_version)) {
		snprintf(rts->node_sdk_version, sizeof(rts->node_sdk_version), "%s", version);
		snprintf(rts->node_sdk, sizeof(rts->node_sdk), "%s", dir);
	}
	json_decref(doc);
}

/* boto3's version in dir when dir holds the whole SDK, else "" */
static void sdk_version_in(const char *dir, char *version, size_t n)
{
	char path[PATH_MAX + 32];
	version[0] = '\0';
	for (size_t m = 0; m < sizeof(py_sdk_modules) / sizeof(py_sdk_modules[0]); m++) {
		snprintf(path, sizeof(path), "%s/%s", dir, py_sdk_modules[m]);
		if (access(path, R_OK) != 0)
			return; /* not the whole SDK */
	}
	snprintf(path, sizeof(path), "%s/boto3/__init__.py", dir);
	read_version(path, version, n);
}

/* Debian's botocore is repacked to import the system's requests instead of
 * its vendored copy */
static int imports_requests(const char *dir)
{
	char path[PATH_MAX + 48], text[4096];
	snprintf(path, sizeof(path), "%s/botocore/exceptions.py", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return strstr(text, "\nimport requests") != NULL;
}

int runtimes_set_python_sdk(struct runtimes *rts, const char *dir)
{
	char version[32], real[PATH_MAX];
	sdk_version_in(dir, version, sizeof(version));
	if (!version[0] || !realpath(dir, real))
		return LD_ENOTFOUND;
	str_join(rts->py_sdk, sizeof(rts->py_sdk), real, NULL);
	str_join(rts->py_sdk_version, sizeof(rts->py_sdk_version), version, NULL);
	rts->py_sdk_requests = imports_requests(real);
	return 0;
}

static void find_python_sdk(struct runtimes *rts)
{
	const char *home = getenv("HOME");
	char pats[4][PATH_MAX];
	snprintf(pats[0], PATH_MAX, "%s/.pyenv/versions/*/lib/python3.*/site-packages", home ? home : "/root");
	snprintf(pats[1], PATH_MAX, "/root/.pyenv/versions/*/lib/python3.*/site-packages");
	snprintf(pats[2], PATH_MAX, "/usr/local/lib/python3*/dist-packages");
	snprintf(pats[3], PATH_MAX, "/usr/lib/python3/dist-packages");
	for (size_t p = 0; p < 4; p++) {
		glob_t g;
		if (glob(pats[p], 0, NULL, &g) != 0) {
			globfree(&g);
			continue;
		}
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char version[32];
			sdk_version_in(g.gl_pathv[i], version, sizeof(version));
			if (version[0] && (!rts->py_sdk[0] || version_cmp(version, rts->py_sdk_version) > 0) &&
			    realpath(g.gl_pathv[i], rts->py_sdk))
				snprintf(rts->py_sdk_version, sizeof(rts->py_sdk_version), "%s", version);
		}
		globfree(&g);
	}
}

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

/* javaNN: Debian's OpenJDK NN (/usr/lib/jvm/java-NN-openjdk-*), with
 * lambdad's client compiled (runtimes/java/build.sh) and Debian's Jackson */
static void find_java(struct runtimes *rts, struct runtime_info *rt)
{
	char pat[PATH_MAX], probe[PATH_MAX + 64];
	glob_t g;
	snprintf(probe, sizeof(probe), "%s/classes/lambdad/Bootstrap.class", rts->java_dir);
	if (access(probe, R_OK) != 0 || access("/usr/share/java/jackson-databind.jar", R_OK) != 0)
		return;
	snprintf(pat, sizeof(pat), "/usr/lib/jvm/java-%d-openjdk-*/bin/java", atoi(rt->id + strlen("java")));
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0)
		accept_binary(rt, g.gl_pathv[0]);
	globfree(&g);
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

static void find_node(struct runtimes *rts, struct runtime_info *rt)
{
	if (rts->node_major == -2) {
		rts->node_major = -1;
		const char *cands[] = { "/usr/bin/node", "/usr/local/bin/node" };
		for (size_t i = 0; i < 2 && rts->node_major < 0; i++) {
			struct runtime_info probe = { 0 };
			if (accept_binary(&probe, cands[i]) && (rts->node_major = node_major(probe.interp)) > 0)
				snprintf(rts->node, sizeof(rts->node), "%s", cands[i]);
		}
	}
	int want = atoi(rt->id + strlen("nodejs"));
	if (rts->node_major > 0 && want == rts->node_major) {
		accept_binary(rt, rts->node);
		return;
	}
	/* what `lambdad runtime install nodejsNN.x` put in DATA/runtimes */
	char cand[PATH_MAX + 96];
	if (!rts->installed[0] || snprintf(cand, sizeof(cand), "%s/%s/" RUNTIMES_NODE_PACKAGE_BIN, rts->installed,
					   rt->id) >= (int)sizeof(cand))
		return;
	struct runtime_info probe = { 0 };
	if (accept_binary(&probe, cand) && node_major(probe.interp) == want)
		accept_binary(rt, cand);
}

static enum runtime_kind kind_of(const char *id)
{
	if (!strncmp(id, "provided", 8))
		return RUNTIME_PROVIDED;
	if (!strncmp(id, "python3.", 8))
		return RUNTIME_PYTHON;
	if (!strncmp(id, "nodejs", 6) && strcmp(id, "nodejs") != 0)
		return RUNTIME_NODEJS;
	if (!strcmp(id, "java11") || !strcmp(id, "java17") || !strcmp(id, "java21") || !strcmp(id, "java25"))
		return RUNTIME_JAVA;
	return RUNTIME_OTHER;
}

/* The clients' directory, absolute (the sandbox binds it): the one given
 * when it holds python/bootstrap.py, else the first runtimes/ holding it in
 * the directories above it (build/test/../runtimes is build/runtimes, while
 * the clients live in the source tree's runtimes/). */
static void find_client_root(struct runtimes *rts, const char *given)
{
	char dir[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];
	snprintf(rts->client_root, sizeof(rts->client_root), "%s", given);
	if (realpath(given, real))
		snprintf(rts->client_root, sizeof(rts->client_root), "%s", real);
	snprintf(cand, sizeof(cand), "%s/python/bootstrap.py", rts->client_root);
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
				snprintf(rts->client_root, sizeof(rts->client_root), "%s", real);
			return;
		}
	}
}

static struct runtime_info *find(struct runtimes *rts, const char *id)
{
	for (size_t i = 0; i < rts->ntable; i++)
		if (!strcmp(rts->table[i].id, id))
			return &rts->table[i];
	return NULL;
}

int runtimes_init(const char *runtimes_dir, const char *installed_dir, const char *const *overrides,
		  struct runtimes **out)
{
	struct runtimes *rts = calloc(1, sizeof(*rts));
	if (!rts)
		return LD_ENOMEM;
	if (installed_dir)
		snprintf(rts->installed, sizeof(rts->installed), "%s", installed_dir);
	rts->node_major = -2;
	const struct shape *s = model_shape("Runtime");
	rts->ntable = 0;
	find_client_root(rts, runtimes_dir ? runtimes_dir : "runtimes");
	snprintf(rts->python_dir, sizeof(rts->python_dir), "%s/python", rts->client_root);
	snprintf(rts->node_dir, sizeof(rts->node_dir), "%s/nodejs", rts->client_root);
	snprintf(rts->java_dir, sizeof(rts->java_dir), "%s/java", rts->client_root);
	snprintf(rts->rapid_dir, sizeof(rts->rapid_dir), "%s/rapid/bin", rts->client_root);
	for (size_t i = 0; s && i < s->nenums && rts->ntable < MAX_RUNTIMES; i++) {
		struct runtime_info *rt = &rts->table[rts->ntable];
		memset(rt, 0, sizeof(*rt));
		snprintf(rt->id, sizeof(rt->id), "%s", s->enums[i]);
		rt->kind = kind_of(rt->id);
		if (rt->kind == RUNTIME_OTHER)
			continue;
		if (rt->kind == RUNTIME_PYTHON)
			find_python(rt);
		else if (rt->kind == RUNTIME_NODEJS)
			find_node(rts, rt);
		else if (rt->kind == RUNTIME_JAVA)
			find_java(rts, rt);
		rts->ntable++;
	}
	for (const char *const *o = overrides; o && *o; o++) {
		const char *eq = strchr(*o, '=');
		char id[32];
		if (!eq || (size_t)(eq - *o) >= sizeof(id))
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(eq - *o), *o);
		struct runtime_info *rt = find(rts, id);
		if (!rt || !accept_binary(rt, eq + 1))
			fprintf(stderr, "lambdad: --runtime %s: not a runtime id and interpreter binary\n", *o);
	}
	find_python_sdk(rts);
	if (rts->py_sdk[0])
		rts->py_sdk_requests = imports_requests(rts->py_sdk);
	find_node_sdk(rts);
	rts->summary[0] = '\0';
	for (size_t i = 0; i < rts->ntable; i++) {
		if (rts->table[i].kind != RUNTIME_PROVIDED && !rts->table[i].interp[0])
			continue;
		size_t n = strlen(rts->summary), m = strlen(rts->table[i].id);
		if (n + m + 2 > sizeof(rts->summary))
			break;
		if (n)
			rts->summary[n++] = ' ';
		memcpy(rts->summary + n, rts->table[i].id, m + 1);
	}
	*out = rts;
	return 0;
}

const struct runtime_info *runtimes_get(const struct runtimes *rts, const char *id)
{
	const struct runtime_info *rt = rts && id ? find((struct runtimes *)rts, id) : NULL;
	if (!rt || (rt->kind != RUNTIME_PROVIDED && !rt->interp[0]))
		return NULL;
	return rt;
}

int runtimes_missing(const struct runtimes *rts, const char *id, char *out, size_t n)
{
	if (runtimes_get(rts, id))
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
			 "The runtime %s cannot run on this lambdad host: it needs node %d (`lambdad runtime install %s` "
			 "gets it from the npm registry, or name a node %d binary with --runtime %s=/path/to/node) and a "
			 "restart of lambdad.",
			 id, atoi(id + strlen("nodejs")), id, atoi(id + strlen("nodejs")), id);
		break;
	case RUNTIME_JAVA:
		snprintf(out, n,
			 "The runtime %s cannot run on this lambdad host: it needs OpenJDK %d, Debian's Jackson and "
			 "lambdad's java runtime client compiled (`lambdad runtime install %s` does all three) and a "
			 "restart of lambdad.",
			 id, atoi(id + strlen("java")), id);
		break;
	default:
		snprintf(out, n, "The runtime %s cannot run on this lambdad host: lambdad runs python3.x, nodejs*.x, "
			 "java and provided runtimes only.", id ? id : "(none)");
	}
	return LD_ENOTFOUND;
}

int runtimes_locate(char *out, size_t n)
{
	char self[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[len > 0 ? len : 0] = '\0';
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(self, '/');
		if (!slash)
			break;
		*slash = '\0';
		snprintf(probe, sizeof(probe), "%s/runtimes/python/bootstrap.py", self);
		if (access(probe, R_OK) == 0 && str_join(out, n, self, "/runtimes", NULL) != (size_t)-1)
			return 0;
	}
	return LD_ENOTFOUND;
}

int runtimes_python_sdk_requests(const struct runtimes *rts)
{
	return rts->py_sdk[0] && rts->py_sdk_requests;
}

const char *runtimes_python_sdk(const struct runtimes *rts, const char **version)
{
	if (version)
		*version = rts->py_sdk_version;
	return rts->py_sdk[0] ? rts->py_sdk : NULL;
}

const char *runtimes_node_sdk(const struct runtimes *rts, const char **version)
{
	if (version)
		*version = rts->node_sdk_version;
	return rts->node_sdk[0] ? rts->node_sdk : NULL;
}

const char *runtimes_rapid_dir(const struct runtimes *rts)
{
	char init[PATH_MAX + 64];
	snprintf(init, sizeof(init), "%s/init", rts->rapid_dir);
	return access(init, X_OK) == 0 ? rts->rapid_dir : NULL;
}

const char *runtimes_client_dir(const struct runtimes *rts, enum runtime_kind kind)
{
	switch (kind) {
	case RUNTIME_PYTHON: return rts->python_dir;
	case RUNTIME_NODEJS: return rts->node_dir;
	case RUNTIME_JAVA: return rts->java_dir;
	default: return NULL;
	}
}

void runtimes_free(struct runtimes *rts)
{
	free(rts);
}

const char *runtimes_describe(const struct runtimes *rts)
{
	return rts->summary;
}
