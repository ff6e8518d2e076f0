/*
 * launch.c - starting and taking down execution environments (launch.h).
 */
#include "exec/launch.h"
#include "auth/auth.h"
#include "auth/keys.h"
#include "blobs/blobs.h"
#include "blobs/zip.h"
#include "exec/envlog.h"
#include "exec/extensions.h"
#include "exec/image.h"
#include "exec/runtimes.h"
#include "exec/telemetry.h"
#include "exec/uidpool.h"
#include "loop.h"
#include "quotas.h"
#include "util/arn.h"
#include "util/disk.h"
#include "util/err.h"
#include "util/file.h"
#include "util/ids.h"
#include "util/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- code and layers ---- */

/* DATA/<sub>/<name>/: the archives `hexes` extracted in order into one
 * directory (later ones overwrite earlier files), once: built under a
 * temporary name and renamed into place, so a half-extracted tree is never
 * seen; a concurrent builder's rename wins and ours is dropped. */
static int extract_once(server_t *srv, const char *sub, const char *name, const char *const *hexes, size_t n,
			uint64_t need, char *out, size_t outn)
{
	char tmp[PATH_MAX], rnd[17];
	snprintf(out, outn, "%s/%s/%s", srv->data_dir, sub, name);
	if (access(out, F_OK) == 0)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/%s", srv->data_dir, sub);
	mkdir(tmp, 0755);
	ids_hex(rnd, 8);
	snprintf(tmp, sizeof(tmp), "%s/%s/.%s-%s", srv->data_dir, sub, name, rnd);
	/* readable by the environments' uids whatever the umask (zip_extract
	 * sets its entries' modes itself) */
	if (mkdir(tmp, 0755) < 0 || chmod(tmp, 0755) < 0)
		return LD_EIO;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		void *zip = NULL;
		size_t len = 0;
		if (!hexes[i])
			break; /* as before: the archives up to a record without one */
		/* the unzipped size when the record has it, else at least the
		 * archive's: kept out of the data directory's reserve (util/disk.h) */
		if (!(rc = blobs_read(srv->blobs, hexes[i], &zip, &len)) &&
		    !(rc = disk_room(srv->disk, i == 0 && need > len ? need : len, tmp, "extracting code")))
			rc = zip_extract(zip, len, tmp, QUOTA_UNZIPPED);
		if (rc == LD_EIO && disk_room(srv->disk, 0, tmp, "extracting code"))
			rc = LD_ENOSPC; /* the file system filled up meanwhile */
		free(zip);
	}
	if (!rc && rename(tmp, out) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		rc = LD_EIO;
	if (rc && file_rm_rf(tmp))
		fprintf(stderr, "lambdad: could not remove %s\n", tmp);
	return rc;
}

/* DATA/code/<hex>/: the function's code */
static int code_dir(server_t *srv, const char *hex, uint64_t unzipped, char *out, size_t n)
{
	const char *one[1] = { hex };
	return extract_once(srv, "code", hex, one, 1, unzipped, out, n);
}

/* DATA/opt/<digest of the layer list>/: the function's layers extracted in
 * order (later ones overwrite earlier files, as on AWS), once per list.
 * *out is "" when the function has no layers. */
static int layers_dir(server_t *srv, json_t *cfg, char *out, size_t n)
{
	json_t *layers = json_object_get(cfg, "Layers");
	const char *hexes[QUOTA_LAYERS];
	char digest[65];
	size_t i, nl = json_array_size(layers);
	json_t *l;
	out[0] = '\0';
	if (!nl)
		return 0;
	if (nl > QUOTA_LAYERS)
		return LD_ECORRUPT;
	buf_t ids;
	buf_init(&ids, 0);
	json_array_foreach(layers, i, l) {
		hexes[i] = json_string_value(json_object_get(l, "_CodeHex"));
		buf_printf(&ids, "%s;", hexes[i]);
	}
	blobs_digest(ids.data, ids.len, digest, NULL);
	buf_free(&ids);
	int rc = extract_once(srv, "opt", digest, hexes, nl, 0, out, n);
	if (rc)
		out[0] = '\0';
	return rc;
}

/* Python runtime clients run from a read-only /var/runtime, where python
 * cannot write its bytecode cache: compile it once per interpreter, on the
 * host, before the first environment of that interpreter starts. */
static void compile_python_client(struct exec *x, const struct runtime_info *rt)
{
	if (strmap_get(x->compiled, rt->interp))
		return;
	char cmd[2 * PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "'%s' -m compileall -q '%s' >/dev/null 2>&1", rt->interp,
		 runtimes_client_dir(x->runtimes, RUNTIME_PYTHON));
	if (system(cmd) != 0)
		fprintf(stderr, "lambdad: could not precompile the python runtime client for %s\n", rt->id);
	strmap_put(x->compiled, rt->interp, x); /* any non-NULL value: done */
}

/* ---- the environment's variables ---- */

struct envp {
	char *v[64];
	int n;
};

static void env_add(struct envp *ev, const char *k, const char *v)
{
	if (ev->n >= 63 || !v)
		return;
	size_t kl = strlen(k);
	for (int i = 0; i < ev->n; i++) {
		if (ev->v[i] && !strncmp(ev->v[i], k, kl) && ev->v[i][kl] == '=') {
			free(ev->v[i]);
			if (asprintf(&ev->v[i], "%s=%s", k, v) < 0)
				ev->v[i] = NULL;
			return;
		}
	}
	if (asprintf(&ev->v[ev->n], "%s=%s", k, v) >= 0)
		ev->n++;
}

/* an unreserved variable Lambda presets: the function's own value wins */
static void env_preset(struct envp *ev, const char *k, const char *v)
{
	size_t kl = strlen(k);
	for (int i = 0; i < ev->n; i++)
		if (ev->v[i] && !strncmp(ev->v[i], k, kl) && ev->v[i][kl] == '=')
			return;
	env_add(ev, k, v);
}

static void env_free(struct envp *ev)
{
	for (int i = 0; i < ev->n; i++)
		free(ev->v[i]);
}

/* The execution role's credentials. With --auth enforce (a shared server),
 * and in permissive mode when lambdad was started without credentials of
 * its own, temporary credentials minted for this environment, in memory
 * only, acting as the function's account and role session
 * (arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION): a function's SDK calls
 * to lambdad act in the function's account, signed and isolated like
 * anyone's, and lambdad's own credentials never reach functions of a shared
 * server. In permissive mode (local development) with credentials of its
 * own, functions get those, so that their SDK calls reach the same
 * endpoints (moto's, LocalStack's) as lambdad's own calls. */
static void credentials(struct env *e, struct envp *ev)
{
	struct pool *p = e->pool;
	server_t *srv = p->x->srv;
	if (srv->auth_mode != AUTH_ENFORCE && getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY")) {
		static const char *const creds[] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
		for (size_t c = 0; c < sizeof(creds) / sizeof(creds[0]); c++)
			if (getenv(creds[c]))
				env_add(ev, creds[c], getenv(creds[c]));
		return;
	}
	struct keys_minted m;
	char account[32], principal[400];
	const char *role = json_string_value(json_object_get(p->cfg, "Role"));
	const char *slash = role ? strrchr(role, '/') : NULL;
	const char *region = strchr(p->scope, ':');
	region = region ? region + 1 : "";
	snprintf(account, sizeof(account), "%.*s", (int)strcspn(p->scope, ":"), p->scope);
	snprintf(principal, sizeof(principal), "arn:%s:sts::%s:assumed-role/%s/%s", arn_partition(region), account,
		 slash ? slash + 1 : "lambda", p->name);
	if (keys_mint(srv->keys, account, principal, ENV_CREDENTIALS_TTL_S, &m) == 0) {
		snprintf(e->cred_id, sizeof(e->cred_id), "%s", m.access_key_id);
		env_add(ev, "AWS_ACCESS_KEY_ID", m.access_key_id);
		env_add(ev, "AWS_SECRET_ACCESS_KEY", m.secret);
		env_add(ev, "AWS_SESSION_TOKEN", m.session_token);
	}
	OPENSSL_cleanse(&m, sizeof(m));
}

/* Where a function's SDK calls go: AWS_ENDPOINT_URL_LAMBDA to lambdad itself
 * (the sandbox shares the host's loopback), and, when lambdad talks to
 * other services through --aws-endpoint-url or AWS_ENDPOINT_URL* variables
 * of its own, the same endpoints (the SDKs read AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_<SERVICE>). The function's own variables win. */
static void endpoints(server_t *srv, struct envp *ev, int isolated)
{
	char self[96], port[24];
	str_u64(port, (uint64_t)srv->listen_port);
	const char *host = srv->listen_host;
	/* isolated: the API socket inside the environment's namespace (netns.h) */
	if (isolated || !host || !strcmp(host, "0.0.0.0") || !strcmp(host, "*") || !host[0])
		host = "127.0.0.1"; /* all addresses: loopback is one of them */
	str_join(self, sizeof(self), "http://", host, ":", port, NULL);
	env_preset(ev, "AWS_ENDPOINT_URL_LAMBDA", self);
	for (char **v = environ; *v; v++) {
		const char *eq = strchr(*v, '=');
		if (!eq || strncmp(*v, "AWS_ENDPOINT_URL", 16) != 0 || !strncmp(*v, "AWS_ENDPOINT_URL_LAMBDA=", 24))
			continue;
		char name[128];
		size_t n = (size_t)(eq - *v);
		if (n >= sizeof(name))
			continue;
		memcpy(name, *v, n);
		name[n] = '\0';
		env_preset(ev, name, eq + 1);
	}
	if (srv->aws_endpoint)
		env_preset(ev, "AWS_ENDPOINT_URL", srv->aws_endpoint);
}

/* Lambda's variables (the function's own first: Lambda's override them,
 * except the presets, which the function's own win over) */
static void variables(struct env *e, struct envp *ev, const char *task, const char *rtdir, json_t *image_env)
{
	struct pool *p = e->pool;
	json_t *cfg = p->cfg;
	char runapi[32], mem[16];
	snprintf(runapi, sizeof(runapi), "127.0.0.1:%d", e->port);
	snprintf(mem, sizeof(mem), "%d", (int)json_integer_value(json_object_get(cfg, "MemorySize")));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(cfg, "Environment"), "Variables"), k, v)
		env_add(ev, k, json_string_value(v));
	/* a container image's ENV: under the function's own, over Lambda's presets */
	size_t ii;
	json_array_foreach(image_env, ii, v) {
		const char *kv = json_string_value(v), *eq = kv ? strchr(kv, '=') : NULL;
		char key[256];
		if (!eq || (size_t)(eq - kv) >= sizeof(key))
			continue;
		memcpy(key, kv, (size_t)(eq - kv));
		key[eq - kv] = '\0';
		env_preset(ev, key, eq + 1);
	}
	env_preset(ev, "PATH", "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin");
	env_preset(ev, "LANG", "en_US.UTF-8");
	env_preset(ev, "LD_LIBRARY_PATH",
		   "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
	env_preset(ev, "AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
	/* where the X-Ray SDKs send segments (UDP): lambdad runs no X-Ray daemon,
	 * so the datagrams go to a loopback port nobody reads, as harmless as
	 * AWS's daemon is invisible */
	env_preset(ev, "AWS_XRAY_DAEMON_ADDRESS", ENV_XRAY_HOST ":" ENV_XRAY_PORT);
	env_add(ev, "_AWS_XRAY_DAEMON_ADDRESS", ENV_XRAY_HOST);
	env_add(ev, "_AWS_XRAY_DAEMON_PORT", ENV_XRAY_PORT);
	env_add(ev, "_HANDLER", json_string_value(json_object_get(cfg, "Handler")));
	if (e->image_handler)
		env_add(ev, "_HANDLER", e->image_handler);
	env_add(ev, "AWS_REGION", strchr(p->scope, ':') + 1);
	env_add(ev, "AWS_DEFAULT_REGION", strchr(p->scope, ':') + 1);
	env_add(ev, "AWS_LAMBDA_FUNCTION_NAME", p->name);
	env_add(ev, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem);
	env_add(ev, "AWS_LAMBDA_FUNCTION_VERSION", p->version);
	env_add(ev, "AWS_LAMBDA_INITIALIZATION_TYPE", e->prov ? "provisioned-concurrency" : "on-demand");
	env_add(ev, "AWS_LAMBDA_LOG_GROUP_NAME",
		json_string_value(json_object_get(json_object_get(cfg, "LoggingConfig"), "LogGroup")));
	env_add(ev, "AWS_LAMBDA_LOG_STREAM_NAME", e->stream);
	env_add(ev, "AWS_LAMBDA_RUNTIME_API", runapi);
	env_add(ev, "LAMBDA_TASK_ROOT", task);
	env_add(ev, "LAMBDA_RUNTIME_DIR", rtdir ? rtdir : "/var/runtime");
	env_add(ev, "TZ", ":UTC");
	env_add(ev, "PWD", task);
	endpoints(p->x->srv, ev, e->net.ns_fd >= 0);
	credentials(e, ev);
	if (e->json_logs) {
		env_add(ev, "AWS_LAMBDA_LOG_FORMAT", "JSON");
		const char *level = json_string_value(
			json_object_get(json_object_get(cfg, "LoggingConfig"), "ApplicationLogLevel"));
		if (level)
			env_add(ev, "AWS_LAMBDA_LOG_LEVEL", level);
	}
}

/* ---- traces: what a killed daemon leaves is found by the next ----
 *
 * While an environment lives, DATA/run/env-<id> holds its sandbox trace
 * (sandbox.h): its runtime's pid, uid and cgroups. The file goes with the
 * environment. A daemon killed with kill -9 cannot clean up: its runtimes
 * die with it (PDEATHSIG), but only once the kernel has torn the dead
 * daemon down, and their cgroups stay. The next daemon of the data
 * directory (the store's lock makes it the only one) reaps every trace it
 * finds before anything runs: nothing of the old daemon runs a resumed
 * event a second time, and no cgroup leaks. */

static void trace_path(struct env *e, char *out, size_t n)
{
	snprintf(out, n, "%s/run/env-%llu", e->pool->x->srv->data_dir, (unsigned long long)e->id);
}

static void trace_write(struct env *e)
{
	char path[PATH_MAX], line[SANDBOX_TRACE_MAX + 1];
	if (sandbox_trace(e->proc, line, sizeof(line) - 1))
		return;
	strcat(line, "\n");
	trace_path(e, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		fprintf(stderr, "lambdad: cannot record environment %s: %s\n", path, strerror(errno));
	close(fd);
}

void launch_reap_leftovers(server_t *srv)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/run", srv->data_dir);
	mkdir(dir, 0700);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, left = 0;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "env-", 4) != 0)
			continue;
		char path[PATH_MAX + 300], line[SANDBOX_TRACE_MAX + 2];
		snprintf(path, sizeof(path), "%s/%.255s", dir, de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t len = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
		if (fd >= 0)
			close(fd);
		line[len > 0 ? len : 0] = '\0';
		if (len > 0 && sandbox_reap_trace(line) == LD_EIO)
			left++;
		unlink(path);
		n++;
	}
	if (d)
		closedir(d);
	if (n)
		fprintf(stderr, "lambdad: reaped %d environments of a previous run%s\n", n,
			left ? " (some processes or cgroups would not go)" : "");
}

/* ---- the loop's view of an environment ---- */

void launch_drain(struct env *e)
{
	char buf[8192];
	while (e->out_fd >= 0) {
		ssize_t n = read(e->out_fd, buf, sizeof(buf));
		if (n > 0) {
			envlog_output(e, buf, (size_t)n);
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			loop_del_fd(e->pool->x->srv->loop, e->out_fd);
			close(e->out_fd);
			e->out_fd = -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
}

static void on_output(void *ud, uint32_t events)
{
	launch_drain(ud);
}

static void on_exit_event(void *ud, uint32_t events)
{
	struct env *e = ud;
	e->pool->x->events.exited(e);
}

/* an isolated function's connection to lambdad's API (netns.h): served by
 * the HTTP front as any other */
static void on_api_accept(void *ud, uint32_t events)
{
	struct env *e = ud;
	server_t *srv = e->pool->x->srv;
	for (int i = 0; i < 16; i++) {
		int fd = accept4(e->net.api_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			break;
		if (srv->api_adopt)
			srv->api_adopt(srv, fd);
		else
			close(fd);
	}
}

static void on_init_timeout(void *ud)
{
	struct env *e = ud;
	e->timer = 0;
	e->pool->x->events.init_timeout(e);
}

/* ---- start and take down ---- */

/* argv of the runtime: the custom runtime's bootstrap, or the interpreter
 * and lambdad's runtime client (behind AWS_LAMBDA_EXEC_WRAPPER), and the
 * strings it points into */
struct cmdline {
	char *argv[12];
	int as_shell;
	char bootstrap[PATH_MAX + 32], client[PATH_MAX + 32], wrapper[PATH_MAX + 32];
	char heap[32], classpath[PATH_MAX + 256];
};

/* An environment with external extensions starts through init
 * (runtimes/rapid/init.c, shown at /var/rapid/init): its argv is
 * init N EXT... -- RUNTIME_ARGV */
struct initline {
	char *argv[QUOTA_EXTENSIONS + 16];
	char count[8], init[PATH_MAX + 32];
	char paths[QUOTA_EXTENSIONS][PATH_MAX + 300];
};

static void init_argv(struct env *e, const char *opt, char (*names)[256], int n, char *const *runtime_argv,
		      struct initline *l)
{
	const struct sandbox_ops *sb = e->pool->x->sandbox;
	char host[PATH_MAX + 300];
	int k = 0;
	snprintf(host, sizeof(host), "%s/init", runtimes_rapid_dir(e->pool->x->runtimes));
	snprintf(l->init, sizeof(l->init), "%s", sb->view("/var/rapid/init", host));
	snprintf(l->count, sizeof(l->count), "%d", n);
	l->argv[k++] = l->init;
	l->argv[k++] = l->count;
	for (int i = 0; i < n; i++) {
		char inside[300];
		snprintf(inside, sizeof(inside), "/opt/extensions/%.255s", names[i]);
		snprintf(host, sizeof(host), "%s/extensions/%s", opt, names[i]);
		snprintf(l->paths[i], sizeof(l->paths[i]), "%s", sb->view(inside, host));
		l->argv[k++] = l->paths[i];
	}
	l->argv[k++] = "--";
	for (int i = 0; runtime_argv[i] && k < (int)(sizeof(l->argv) / sizeof(*l->argv)) - 1; i++)
		l->argv[k++] = runtime_argv[i];
	l->argv[k] = NULL;
}

/* AWS_LAMBDA_EXEC_WRAPPER: the managed runtime's command line runs as the
 * arguments of the function's wrapper script (AWS; custom runtimes ignore
 * it). A wrapper that cannot be run ends the runtime as a shell's missing
 * command would (exit status 127). */
static int wrap(struct env *e, const char *code, const char *opt, struct cmdline *c)
{
	const struct sandbox_ops *sb = e->pool->x->sandbox;
	const char *w = json_string_value(json_object_get(
		json_object_get(json_object_get(e->pool->cfg, "Environment"), "Variables"), "AWS_LAMBDA_EXEC_WRAPPER"));
	if (!w || !*w)
		return 0;
	size_t n = 0;
	while (c->argv[n])
		n++;
	if (n + 2 > sizeof(c->argv) / sizeof(c->argv[0]))
		return LD_EINVAL;
	sb->resolve(w, code, opt, c->wrapper, sizeof(c->wrapper));
	memmove(&c->argv[1], &c->argv[0], (n + 1) * sizeof(c->argv[0]));
	c->argv[0] = c->wrapper;
	c->as_shell = 1;
	return 0;
}

static int command(struct env *e, const struct runtime_info *rt, const char *code, const char *opt,
		   struct envp *ev, struct cmdline *c, ld_error_t *err)
{
	const struct sandbox_ops *sb = e->pool->x->sandbox;
	const char *rtdir = sb->view("/var/runtime", runtimes_client_dir(e->pool->x->runtimes, rt->kind));
	if (rt->kind == RUNTIME_PROVIDED) {
		/* /var/task/bootstrap, else /opt/bootstrap */
		char host[PATH_MAX + 32];
		const char *inside = "/var/task/bootstrap";
		snprintf(host, sizeof(host), "%s/bootstrap", code);
		if (access(host, X_OK) != 0) {
			inside = "/opt/bootstrap";
			snprintf(host, sizeof(host), "%s/bootstrap", opt);
			if (!opt[0] || access(host, X_OK) != 0) {
				/* answered like AWS: the invocation fails with Runtime.InvalidEntrypoint */
				ld_error_set(err, "Runtime.InvalidEntrypoint", "no bootstrap");
				return LD_ENOTFOUND;
			}
		}
		snprintf(c->bootstrap, sizeof(c->bootstrap), "%s", sb->view(inside, host));
		c->argv[0] = c->bootstrap;
		return 0;
	}
	char execenv[48];
	snprintf(execenv, sizeof(execenv), "AWS_Lambda_%s", rt->id);
	env_add(ev, "AWS_EXECUTION_ENV", execenv);
	if (rt->kind == RUNTIME_PYTHON) {
		/* the SDK: through /var/runtime's symlinks into its bind; where the
		 * level has no mount namespace, the host directory itself */
		const char *sdk = runtimes_python_sdk(e->pool->x->runtimes, NULL);
		const char *sdk_view = sdk ? sb->view(RUNTIMES_PY_SDK_INSIDE, sdk) : RUNTIMES_PY_SDK_INSIDE;
		char pythonpath[3 * PATH_MAX + 32];
		int requests = runtimes_python_sdk_requests(e->pool->x->runtimes);
		str_join(pythonpath, sizeof(pythonpath), rtdir, requests ? ":" : "", requests ? rtdir : "",
			 requests ? "/_sdk_requests" : "", strcmp(sdk_view, RUNTIMES_PY_SDK_INSIDE) ? ":" : "",
			 strcmp(sdk_view, RUNTIMES_PY_SDK_INSIDE) ? sdk_view : "", NULL);
		env_preset(ev, "PYTHONPATH", pythonpath);
		env_add(ev, "LC_CTYPE", "C.UTF-8");
		snprintf(c->client, sizeof(c->client), "%s/bootstrap.py", rtdir);
	} else if (rt->kind == RUNTIME_JAVA) {
		/* AWS's JVM options: C1 only, the heap from MemorySize (85%), the
		 * serial collector; JAVA_TOOL_OPTIONS (the function's) adds to them */
		int mem = (int)json_integer_value(json_object_get(e->pool->cfg, "MemorySize"));
		snprintf(c->heap, sizeof(c->heap), "-Xmx%dm", (mem > 0 ? mem : 128) * 85 / 100);
		str_join(c->classpath, sizeof(c->classpath), rtdir, "/classes:" RUNTIMES_JAVA_JACKSON, NULL);
		int i = 0;
		c->argv[i++] = (char *)sb->view(rt->inside, rt->interp);
		c->argv[i++] = "-XX:+TieredCompilation";
		c->argv[i++] = "-XX:TieredStopAtLevel=1";
		c->argv[i++] = "-XX:+UseSerialGC";
		c->argv[i++] = "-Xshare:auto";
		c->argv[i++] = c->heap;
		c->argv[i++] = "-cp";
		c->argv[i++] = c->classpath;
		c->argv[i++] = "lambdad.Bootstrap";
		c->argv[i] = NULL;
		return wrap(e, code, opt, c);
	} else {
		/* the SDK: /var/runtime/node_modules links into its bind; where the
		 * level has no mount namespace, the host directory itself */
		const char *sdk = runtimes_node_sdk(e->pool->x->runtimes, NULL);
		const char *sdk_view = sdk ? sb->view(RUNTIMES_NODE_SDK_INSIDE, sdk) : RUNTIMES_NODE_SDK_INSIDE;
		char node_path[PATH_MAX + 200];
		snprintf(node_path, sizeof(node_path),
			 "/opt/nodejs/node%d/node_modules:/opt/nodejs/node_modules:%s:/var/runtime:/var/task",
			 atoi(rt->id + strlen("nodejs")),
			 strcmp(sdk_view, RUNTIMES_NODE_SDK_INSIDE) ? sdk_view : "/var/runtime/node_modules");
		env_preset(ev, "NODE_PATH", node_path);
		snprintf(c->client, sizeof(c->client), "%s/bootstrap.js", rtdir);
	}
	c->argv[0] = (char *)sb->view(rt->inside, rt->interp);
	c->argv[1] = c->client;
	c->argv[2] = NULL;
	return wrap(e, code, opt, c);
}

int launch_env(struct pool *p, struct invocation *inv, struct prov *prov, struct env **out, ld_error_t *err)
{
	struct exec *x = p->x;
	json_t *cfg = p->cfg;
	const char *runtime = json_string_value(json_object_get(cfg, "Runtime"));
	const struct runtime_info *rt = runtimes_get(x->runtimes, runtime);
	char code[PATH_MAX], opt[PATH_MAX];
	struct envp ev = { .n = 0 };
	struct cmdline cmd = { .argv = { NULL } };
	struct env *e = NULL;
	int rc, image = image_is(cfg);
	struct image_run *img = NULL;
	if (image) {
		if (!(img = calloc(1, sizeof(*img))))
			return LD_ENOMEM;
		if ((rc = image_prepare(x->srv, cfg, img, err))) {
			free(img);
			return rc;
		}
	}
	if (!rt && !image)
		return ld_error_set(err, "InvalidRuntimeException",
				    "The runtime parameter of %s is not supported by this lambdad host.",
				    runtime ? runtime : "(none)");
	if (x->nenvs >= ENV_MAX) {
		free(img);
		return ld_error_set(err, "TooManyRequestsException", "Rate Exceeded.");
	}
	code[0] = opt[0] = '\0';
	if (!image && ((rc = code_dir(x->srv, json_string_value(json_object_get(cfg, "_CodeHex")),
				       (uint64_t)json_integer_value(json_object_get(cfg, "_UnzippedSize")), code, sizeof(code))) ||
		       (rc = layers_dir(x->srv, cfg, opt, sizeof(opt)))))
		return rc;
	char exts[QUOTA_EXTENSIONS][256];
	int next = image ? image_extensions(img, exts, QUOTA_EXTENSIONS) : ext_list(opt, exts, QUOTA_EXTENSIONS);
	if (next > QUOTA_EXTENSIONS || (next > 0 && !runtimes_rapid_dir(x->runtimes))) {
		free(img);
		return ld_error_set(err, "Extension.LaunchError", "%s",
				    next > QUOTA_EXTENSIONS ? "ErrTooManyExtensions"
							    : "lambdad's init (runtimes/rapid/bin/init) is not built: run make");
	}
	if (rt && rt->kind == RUNTIME_PYTHON)
		compile_python_client(x, rt);
	if (!(e = calloc(1, sizeof(*e)))) {
		free(img);
		return LD_ENOMEM;
	}
	e->image_handler = img ? img->handler : NULL;
	e->pool = p;
	e->prov = prov;
	e->init_reported = prov != NULL; /* its first invocation is warm: no Init Duration */
	e->id = ++x->next_env_id;
	e->out_fd = e->pid_fd = e->listen_fd = -1;
	netns_slot_init(&e->net);
	envlog_open(e);
	if (next > 0 && (rc = tele_start(e))) /* extensions may subscribe: the init's events are kept for them */
		goto fail;
	if (rt)
		envlog_init_start(e, rt);
	e->uid = geteuid();
	if (x->ids) {
		if (uidpool_take(x->ids, &e->uid) != 0) {
			rc = ld_error_set(err, "TooManyRequestsException", "Rate Exceeded.");
			goto fail;
		}
		e->own_uid = 1;
	}
	if (x->netns) {
		/* isolated: the Runtime API is a socket inside its own namespace */
		if ((rc = netns_take(x->netns, &e->net)))
			goto fail;
		e->listen_fd = rapi_adopt_env(x->rapi, e->id, e->net.rapi_fd, &e->port);
		e->net.rapi_fd = -1; /* rapi's now */
		if (e->net.api_fd >= 0 && loop_add_fd(x->srv->loop, e->net.api_fd, EPOLLIN, on_api_accept, e)) {
			close(e->net.api_fd);
			e->net.api_fd = -1;
		}
	} else {
		e->listen_fd = rapi_open_env(x->rapi, e->id, e->uid, &e->port);
	}
	if (e->listen_fd < 0) {
		rc = e->listen_fd;
		goto fail;
	}
	const char *task = image ? "/var/task" : x->sandbox->view("/var/task", code);
	variables(e, &ev, task,
		  image ? "/var/runtime" : x->sandbox->view("/var/runtime", runtimes_client_dir(x->runtimes, rt->kind)),
		  img ? img->env : NULL);
	if (image) {
		memcpy(cmd.argv, img->argv, sizeof(cmd.argv) - sizeof(char *));
		if (img->argv[sizeof(cmd.argv) / sizeof(*cmd.argv) - 1]) {
			rc = ld_error_set(err, "Runtime.InvalidEntrypoint", "The command has too many words");
			goto fail;
		}
	} else if ((rc = command(e, rt, code, opt, &ev, &cmd, err))) {
		goto fail;
	}
	ev.v[ev.n] = NULL;
	struct initline *il = NULL;
	int ctl[2] = { -1, -1 };
	if (next > 0) {
		if (!(il = calloc(1, sizeof(*il)))) {
			rc = LD_ENOMEM;
			goto fail;
		}
		init_argv(e, opt, exts, next, cmd.argv, il);
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) != 0) {
			free(il);
			rc = LD_EIO;
			goto fail;
		}
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		if (il) {
			close(ctl[0]);
			close(ctl[1]);
			free(il);
		}
		rc = LD_EIO;
		goto fail;
	}
	struct sandbox_bind binds[3];
	int nbinds = 0;
	if (rt && rt->prefix[0])
		binds[nbinds++] = (struct sandbox_bind){ rt->prefix, "/var/lang" };
	const char *sdk = !rt ? NULL
			  : rt->kind == RUNTIME_PYTHON ? runtimes_python_sdk(x->runtimes, NULL)
			  : rt->kind == RUNTIME_NODEJS ? runtimes_node_sdk(x->runtimes, NULL)
						       : NULL;
	if (sdk)
		binds[nbinds++] = (struct sandbox_bind){
			sdk, rt->kind == RUNTIME_PYTHON ? RUNTIMES_PY_SDK_INSIDE : RUNTIMES_NODE_SDK_INSIDE
		};
	if (il)
		binds[nbinds++] = (struct sandbox_bind){ runtimes_rapid_dir(x->runtimes), "/var/rapid" };
	int tmp_mb = (int)json_integer_value(json_object_get(json_object_get(cfg, "EphemeralStorage"), "Size"));
	struct sandbox_spec spec = {
		.level = x->sandbox->level, .caps = &x->caps, .argv = il ? il->argv : cmd.argv,
		.exec_as_shell = il ? 0 : cmd.as_shell, .stdin_fd = ctl[1],
		.envp = ev.v, .cwd = img ? img->cwd : task, .code_dir = image ? NULL : code, .layers_dir = opt[0] ? opt : NULL,
		.runtime_dir = rt ? runtimes_client_dir(x->runtimes, rt->kind) : NULL, .binds = binds, .nbinds = nbinds,
		.hostname = NULL, .image_dir = img ? img->dir : NULL, .image_layers = img ? img->layers : NULL,
		.nimage_layers = img ? img->nlayers : 0,
		.tmp_mb = tmp_mb > 0 ? tmp_mb : 512, .memory_mb = (int)json_integer_value(json_object_get(cfg, "MemorySize")),
		.pids_max = ENV_NPROC, .nofile = 1024, .nproc = e->own_uid ? ENV_NPROC : 0, .uid = e->uid,
		.gid = (gid_t)e->uid, .hide_dir = x->srv->data_dir, .stdout_fd = pipefd[1], .stderr_fd = pipefd[1],
		.netns_fd = e->net.ns_fd,
	};
	struct sandbox_failure why = { 0 };
	e->spawn_us = env_now_us();
	rc = sandbox_spawn(&spec, &e->proc, &why);
	close(pipefd[1]);
	e->out_fd = pipefd[0];
	free(il);
	free(img);
	img = NULL;
	if (ctl[1] >= 0)
		close(ctl[1]);
	if (!rc && ctl[0] >= 0) {
		e->via_init = 1;
		if ((rc = ext_attach(e, exts, next, ctl[0])))
			sandbox_free(e->proc);
	} else if (ctl[0] >= 0) {
		close(ctl[0]);
	}
	if (rc) {
		fprintf(stderr, "lambdad: spawning %s failed at %s: %s\n", p->name, why.step ? why.step : "?",
			strerror(why.err));
		goto fail;
	}
	trace_write(e);
	fcntl(e->out_fd, F_SETFL, O_NONBLOCK);
	loop_add_fd(x->srv->loop, e->out_fd, EPOLLIN, on_output, e);
	e->pid_fd = sandbox_fd(e->proc);
	if (e->pid_fd >= 0)
		loop_add_fd(x->srv->loop, e->pid_fd, EPOLLIN, on_exit_event, e);
	e->state = ENV_INIT;
	e->cur = inv;
	e->timer = loop_timer(x->srv->loop, QUOTA_INIT_MS, on_init_timeout, e);
	char id[24];
	str_u64(id, e->id);
	strmap_put(x->envs, id, e);
	e->next = p->envs;
	p->envs = e;
	x->nenvs++;
	env_free(&ev);
	*out = e;
	return 0;
fail:
	free(img);
	env_free(&ev);
	ext_free(e);
	tele_free(e);
	if (e->out_fd >= 0)
		close(e->out_fd);
	rapi_close_env(x->rapi, e->listen_fd);
	if (e->net.api_fd >= 0)
		loop_del_fd(x->srv->loop, e->net.api_fd);
	netns_release(&e->net);
	if (e->cred_id[0])
		keys_revoke(x->srv->keys, e->cred_id);
	if (e->own_uid)
		uidpool_give(x->ids, e->uid);
	envlog_close(e);
	free(e);
	return rc;
}

void launch_destroy(struct env *e)
{
	struct exec *x = e->pool->x;
	char id[24], path[PATH_MAX];
	str_u64(id, e->id);
	strmap_del(x->envs, id);
	if (e->out_fd >= 0)
		launch_drain(e); /* what the runtime still wrote */
	if (e->out_fd >= 0) {
		loop_del_fd(x->srv->loop, e->out_fd);
		close(e->out_fd);
	}
	if (e->pid_fd >= 0)
		loop_del_fd(x->srv->loop, e->pid_fd);
	if (e->timer)
		loop_cancel(x->srv->loop, e->timer);
	rapi_close_env(x->rapi, e->listen_fd);
	ext_free(e);  /* what extensions still wrote is logged */
	tele_free(e); /* and sent */
	sandbox_free(e->proc); /* no process of the environment is left */
	if (e->net.api_fd >= 0)
		loop_del_fd(x->srv->loop, e->net.api_fd);
	netns_release(&e->net); /* and its namespace goes with the last of them */
	trace_path(e, path, sizeof(path));
	unlink(path);
	if (e->cred_id[0])
		keys_revoke(x->srv->keys, e->cred_id);
	if (e->own_uid)
		uidpool_give(x->ids, e->uid);
	envlog_close(e);
	free(e->init_error);
	free(e);
	x->nenvs--;
}
