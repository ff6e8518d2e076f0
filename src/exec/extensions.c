/*
 * extensions.c - an environment's extensions (extensions.h).
 *
 * Facts from AWS (the developer guide's Extensions API page, and the
 * runtime interface emulator's handlers, whose texts the real service
 * shares): the error documents are 403 {"errorMessage","errorType"} with
 * the types below; a register answers 200 with the function's name,
 * version and handler (and accountId when asked for with
 * Lambda-Extension-Accept-Feature); init/error and exit/error answer 202
 * {"status":"OK"}; event/next answers the event with
 * Lambda-Extension-Event-Identifier.
 */
#include "exec/extensions.h"
#include "exec/envlog.h"
#include "exec/telemetry.h"
#include "loop.h"
#include "quotas.h"
#include "util/err.h"
#include "util/ids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum ext_state { STARTED, REGISTERED, READY, RUNNING, INIT_ERROR, EXIT_ERROR, EXITED, LAUNCH_ERROR };
static const char *const state_names[] = { "Started",   "Registered", "Ready",  "Running",
					   "InitError", "ExitError",  "Exited", "LaunchError" };

struct ext {
	char name[256];
	char id[37];
	int external;            /* started by init (its index is the position) */
	int invoke, shutdown;    /* subscribed events */
	enum ext_state state;
	struct rapi_next *waiting;
	int exited;              /* init reported its exit */
	int shutdown_sent;
};

struct extset {
	struct env *env;
	struct ext v[QUOTA_EXTENSIONS];
	int n;                   /* extensions (external first, in init's order) */
	int n_external;
	int ctl;                 /* init's control socket, or -1 */
	int out;                 /* the extensions' output pipe (from init), or -1 */
	buf_t line;              /* a partial output line */
	int runtime_started;     /* init was told to start the runtime */
	int runtime_exited;
	int closed;              /* registration closed */
	const char *fail_type;   /* the first fatal error */
	char fail_msg[256];
	/* shutdown */
	int shutting_down;
	char reason[16];
	int64_t timer;
	uint64_t shutdown_start_us;
	int events_sent;
};

static void changed(struct env *e)
{
	struct exec *x = e->pool->x;
	if (x->events.ext_changed)
		x->events.ext_changed(e);
}

/* ---- answers ---- */

static int answer(struct rapi_answer *out, unsigned status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int answer(struct rapi_answer *out, unsigned status, const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rapi_error_answer(out, status, type, msg);
}

static int accepted(struct rapi_answer *out)
{
	out->status = 202;
	out->body = strdup("{\"status\":\"OK\"}");
	return 0;
}

/* ---- the set ---- */

int ext_list(const char *opt, char (*names)[256], int n)
{
	char dir[4200];
	if (!opt || !opt[0])
		return 0;
	snprintf(dir, sizeof(dir), "%s/extensions", opt);
	struct dirent **ents = NULL;
	int k = scandir(dir, &ents, NULL, alphasort), found = 0;
	for (int i = 0; i < k; i++) {
		struct stat st;
		char path[4500];
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
		    strlen(ents[i]->d_name) < 256) {
			if (found < n)
				snprintf(names[found], 256, "%s", ents[i]->d_name);
			found++;
		}
		free(ents[i]);
	}
	free(ents);
	return found;
}

static struct extset *set_of(struct env *e)
{
	if (!e->ext) {
		struct extset *s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->env = e;
		s->ctl = s->out = -1;
		buf_init(&s->line, 64 * 1024);
		e->ext = s;
	}
	return e->ext;
}

static void tell_init(struct extset *s, const char *msg)
{
	if (s->ctl >= 0)
		(void)send(s->ctl, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void fail(struct extset *s, const char *type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct extset *s, const char *type, const char *fmt, ...)
{
	if (s->fail_type)
		return; /* the first one stands */
	s->fail_type = type;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->fail_msg, sizeof(s->fail_msg), fmt, ap);
	va_end(ap);
}

/* every external extension registered: the runtime may start */
static void maybe_start_runtime(struct extset *s)
{
	if (s->runtime_started || s->fail_type)
		return;
	for (int i = 0; i < s->n_external; i++)
		if (s->v[i].state == STARTED)
			return;
	s->runtime_started = 1;
	tell_init(s, "R");
}

/* ---- the extensions' output ---- */

static void ext_output_line(struct extset *s, const char *line, size_t n)
{
	envlog_line(s->env, line, n);
	tele_line(s->env, TELE_EXTENSION, line, n);
}

static void on_ext_output(void *ud, uint32_t events)
{
	struct extset *s = ud;
	char chunk[16384];
	for (;;) {
		ssize_t n = read(s->out, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				loop_del_fd(s->env->pool->x->srv->loop, s->out);
				close(s->out);
				s->out = -1;
			}
			return;
		}
		buf_append(&s->line, chunk, (size_t)n);
		char *start = s->line.data, *nl;
		while ((nl = memchr(start, '\n', s->line.len - (size_t)(start - s->line.data)))) {
			ext_output_line(s, start, (size_t)(nl - start) + 1);
			start = nl + 1;
		}
		size_t rest = s->line.len - (size_t)(start - s->line.data);
		if (rest >= 32 * 1024) {
			ext_output_line(s, start, rest);
			rest = 0;
		}
		memmove(s->line.data, start, rest);
		s->line.len = rest;
	}
}

/* ---- what init says ---- */

static void exit_text(int status, char *out, size_t n)
{
	if (WIFEXITED(status))
		snprintf(out, n, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(out, n, "signal: %s", WTERMSIG(status) == SIGKILL ? "killed" : strsignal(WTERMSIG(status)));
}

static void shutdown_done(struct extset *s);

static void on_ctl(void *ud, uint32_t events)
{
	struct extset *s = ud;
	struct env *e = s->env;
	for (;;) {
		char m[64];
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = { m, sizeof(m) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		ssize_t k = recvmsg(s->ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0 || errno != EAGAIN) {
				/* init is gone: the environment's pidfd says so too */
				loop_del_fd(e->pool->x->srv->loop, s->ctl);
				close(s->ctl);
				s->ctl = -1;
			}
			return;
		}
		m[k] = '\0';
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		if (m[0] == 'P' && c && c->cmsg_type == SCM_RIGHTS && s->out < 0) {
			memcpy(&s->out, CMSG_DATA(c), sizeof(int));
			fcntl(s->out, F_SETFL, O_NONBLOCK);
			loop_add_fd(e->pool->x->srv->loop, s->out, EPOLLIN, on_ext_output, s);
			continue;
		}
		char who[8];
		int status = 0;
		if (m[0] == 'X' && sscanf(m, "X %7s %d", who, &status) == 2) {
			if (who[0] == 'R') {
				s->runtime_exited = 1;
				if (s->shutting_down) {
					shutdown_done(s); /* goes on to the extensions' part */
					continue;
				}
				if (e->pool->x->events.runtime_exited)
					e->pool->x->events.runtime_exited(e, status);
				continue;
			}
			int i = atoi(who);
			if (i < 0 || i >= s->n_external)
				continue;
			struct ext *x = &s->v[i];
			x->exited = 1;
			if (s->shutting_down) {
				if (x->state != INIT_ERROR && x->state != EXIT_ERROR)
					x->state = EXITED;
				shutdown_done(s);
				continue;
			}
			char why[96];
			exit_text(status, why, sizeof(why));
			if (x->state == INIT_ERROR)
				fail(s, "Extension.InitError", "%s", why);
			else if (x->state == EXIT_ERROR)
				fail(s, "Extension.ExitError", "%s", why);
			else if (x->state != LAUNCH_ERROR)
				fail(s, "Extension.Crash", "%s", WIFEXITED(status) && !WEXITSTATUS(status) ? "exit code 0" : why);
			if (x->state != INIT_ERROR && x->state != EXIT_ERROR && x->state != LAUNCH_ERROR)
				x->state = EXITED;
			changed(e);
		} else if (m[0] == 'L' && sscanf(m, "L %7s %d", who, &status) == 2) {
			int i = atoi(who);
			if (i < 0 || i >= s->n_external)
				continue;
			s->v[i].state = LAUNCH_ERROR;
			fail(s, "Extension.LaunchError", "fork/exec /opt/extensions/%s: %s", s->v[i].name, strerror(status));
			changed(e);
		}
	}
}

int ext_attach(struct env *e, char (*names)[256], int n, int ctl)
{
	struct extset *s = set_of(e);
	if (!s) {
		close(ctl);
		return LD_ENOMEM;
	}
	for (int i = 0; i < n && i < QUOTA_EXTENSIONS; i++) {
		struct ext *x = &s->v[i];
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", names[i]);
		ids_uuid4(x->id);
		x->external = 1;
		x->state = STARTED;
	}
	s->n = s->n_external = n < QUOTA_EXTENSIONS ? n : QUOTA_EXTENSIONS;
	s->ctl = ctl;
	loop_add_fd(e->pool->x->srv->loop, ctl, EPOLLIN, on_ctl, s);
	return 0;
}

/* ---- the API ---- */

static struct ext *by_id(struct extset *s, const char *id)
{
	for (int i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].id, id))
			return &s->v[i];
	return NULL;
}

static int is_uuid(const char *id)
{
	if (strlen(id) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !strchr("0123456789abcdefABCDEF", id[i]))
			return 0;
	}
	return 1;
}

static int do_register(struct env *e, const struct rapi_ext_call *c, struct rapi_answer *out)
{
	struct extset *s = e->ext;
	if (!c->name || !c->name[0])
		return answer(out, 403, "Extension.InvalidExtensionName", "Empty extension name");
	json_error_t jerr;
	json_t *doc = c->len ? json_loadb(c->body, c->len, 0, &jerr) : NULL;
	if (!doc) {
		return answer(out, 403, "InvalidRequestFormat", "%s",
			      c->len ? jerr.text : "unexpected end of JSON input");
	}
	json_t *keys = json_object_get(doc, "configurationKeys");
	json_t *events = json_object_get(doc, "events");
	int rc = 0, invoke = 0, shutdown = 0;
	if (!json_is_object(doc) || (events && !json_is_array(events) && !json_is_null(events))) {
		rc = answer(out, 403, "InvalidRequestFormat", "json: cannot unmarshal the request into RegisterRequest");
		goto out;
	}
	if (json_is_array(keys) && json_array_size(keys)) {
		rc = answer(out, 403, "InvalidRequestFormat", "configurationKeys are deprecated; use environment variables instead");
		goto out;
	}
	struct ext *x = NULL;
	for (int i = 0; s && i < s->n_external; i++)
		if (!strcmp(s->v[i].name, c->name))
			x = &s->v[i];
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		const char *name = json_string_value(ev);
		if (name && !strcmp(name, "INVOKE")) {
			invoke = 1;
		} else if (name && !strcmp(name, "SHUTDOWN")) {
			if (!x) {
				rc = answer(out, 403, "Extension.InvalidEventType",
					    "SHUTDOWN: ShutdownEventNotSupportedForInternalExtension");
				goto out;
			}
			shutdown = 1;
		} else {
			rc = answer(out, 403, "Extension.InvalidEventType", "%s: ErrorInvalidEventType", name ? name : "");
			goto out;
		}
	}
	if (x) {
		if (x->state != STARTED) {
			rc = answer(out, 403, "Extension.InvalidExtensionState",
				    "State transition from %s to Registered failed for extension %s. Error: State "
				    "transition is not allowed",
				    state_names[x->state], x->name);
			goto out;
		}
	} else {
		if ((s && s->closed) || e->state != ENV_INIT) {
			rc = answer(out, 403, "Extension.RegistrationClosed", "Extension registration closed already");
			goto out;
		}
		for (int k = 0; s && k < s->n; k++)
			if (!strcmp(s->v[k].name, c->name)) {
				rc = answer(out, 403, "Extension.InvalidExtensionState",
					    "Extension with this name already registered");
				goto out;
			}
		if (s && s->n >= QUOTA_EXTENSIONS) {
			rc = answer(out, 403, "Extension.TooManyExtensions", "Extension limit (%d) reached", QUOTA_EXTENSIONS);
			goto out;
		}
		if (!(s = set_of(e))) {
			rc = LD_ENOMEM;
			goto out;
		}
		x = &s->v[s->n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", c->name);
		ids_uuid4(x->id);
	}
	x->state = REGISTERED;
	x->invoke = invoke;
	x->shutdown = shutdown;
	/* {"functionName","functionVersion","handler"[,"accountId"]} */
	const char *handler = json_string_value(json_object_get(e->pool->cfg, "Handler"));
	json_t *body = json_pack("{s:s,s:s,s:s}", "functionName", e->pool->name, "functionVersion", e->pool->version,
				 "handler", handler ? handler : "");
	if (c->features && strstr(c->features, "accountId")) {
		char account[16] = "";
		sscanf(e->pool->scope, "%15[0-9]", account);
		json_object_set_new(body, "accountId", json_string(account));
	}
	out->status = 200;
	out->body = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	out->ext_id = x->id;
	json_decref(body);
	maybe_start_runtime(s);
	changed(e);
out:
	json_decref(doc);
	return rc;
}

/* the SHUTDOWN event for x, which waits in its next call */
static void send_shutdown(struct extset *s, struct ext *x)
{
	char ev_id[37];
	ids_uuid4(ev_id);
	int64_t deadline = loop_wall_ms() + QUOTA_SHUTDOWN_MS - (int64_t)((env_now_us() - s->shutdown_start_us) / 1000);
	json_t *doc = json_pack("{s:s,s:s,s:I}", "eventType", "SHUTDOWN", "shutdownReason", s->reason, "deadlineMs",
				(json_int_t)deadline);
	struct rapi_answer a = { 200, doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL, x->id, ev_id };
	json_decref(doc);
	rapi_answer(x->waiting, &a);
	x->waiting = NULL;
	x->shutdown_sent = 1;
	x->state = RUNNING;
}

static int do_next(struct env *e, struct ext *x, struct rapi_next *n, struct rapi_answer *out)
{
	struct extset *s = e->ext;
	if (x->waiting || (x->state != REGISTERED && x->state != RUNNING))
		return answer(out, 403, "Extension.InvalidExtensionState",
			      "State transition from %s to Ready failed for extension %s. Error: State transition is not "
			      "allowed",
			      state_names[x->state], x->id);
	x->state = READY;
	x->waiting = n;
	if (s->shutting_down && s->events_sent && x->shutdown && !x->shutdown_sent) {
		send_shutdown(s, x);
		return 1;
	}
	changed(e);
	return 1;
}

static int do_error(struct env *e, struct ext *x, const struct rapi_ext_call *c, struct rapi_answer *out)
{
	int init = c->op == RAPI_EXT_INIT_ERROR;
	if (!c->error_type || !c->error_type[0])
		return answer(out, 403, "Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found");
	int ok = init ? x->state == REGISTERED : (x->state == REGISTERED || x->state == READY || x->state == RUNNING);
	if (!ok)
		return answer(out, 403, "Extension.InvalidExtensionState",
			      "State transition from %s to %s failed for extension %s. Error: State transition is not "
			      "allowed",
			      state_names[x->state], init ? "InitError" : "Exited", x->id);
	x->state = init ? INIT_ERROR : EXIT_ERROR;
	/* no further call of it succeeds, and the environment fails with
	 * AWS's type for it (whatever type the extension reported) */
	fail(e->ext, init ? "Extension.InitError" : "Extension.ExitError", "%s", c->error_type);
	envlog_printf(e, "EXTENSION\tName: %s\tState: %s\tEvents: [%s%s%s]\n", x->name, init ? "InitError" : "ExitError",
		      x->invoke ? "INVOKE" : "", x->invoke && x->shutdown ? "," : "", x->shutdown ? "SHUTDOWN" : "");
	changed(e);
	return accepted(out);
}

int ext_call(struct exec *xx, struct env *e, const struct rapi_ext_call *c, struct rapi_next *n,
	     struct rapi_answer *out)
{
	if (!e || (e->state == ENV_DEAD && !(e->ext && e->ext->shutting_down)))
		return answer(out, 500, "InternalServerError", "Internal Server Error");
	if (c->op == RAPI_EXT_REGISTER)
		return do_register(e, c, out);
	if (!c->id || !c->id[0])
		return answer(out, 403, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header");
	if (!is_uuid(c->id))
		return answer(out, 403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier");
	struct ext *x = by_id(e->ext, c->id);
	if (!x) {
		if (c->op == RAPI_EXT_INIT_ERROR || c->op == RAPI_EXT_EXIT_ERROR)
			return answer(out, 403, "Extension.UnknownExtensionIdentifier", "Unknown Lambda-Extension-Identifier");
		return answer(out, 403, "Extension.UnknownExtensionIdentifier", "Unknown extension %s", c->id);
	}
	switch (c->op) {
	case RAPI_EXT_NEXT:
		return do_next(e, x, n, out);
	case RAPI_EXT_INIT_ERROR:
	case RAPI_EXT_EXIT_ERROR:
		return do_error(e, x, c, out);
	case RAPI_EXT_TELEMETRY:
	case RAPI_EXT_LOGS: {
		int types, rc = tele_subscribe(e, x->name, c->op == RAPI_EXT_LOGS, c->body, c->len, out, &types);
		if (types)
			envlog_subscribed(e, c->op == RAPI_EXT_LOGS, x->name, types);
		return rc;
	}
	default:
		return answer(out, 404, "InvalidURL", "Invalid URL");
	}
}

/* ---- the lifecycle ---- */

void ext_close_registration(struct env *e)
{
	struct extset *s = e->ext;
	if (!s || s->closed)
		return;
	s->closed = 1;
}

int ext_ready(const struct env *e)
{
	const struct extset *s = e->ext;
	if (!s)
		return 1;
	for (int i = 0; i < s->n; i++) {
		const struct ext *x = &s->v[i];
		if (x->state == STARTED || x->state == RUNNING || (x->state == REGISTERED))
			return 0;
	}
	return 1;
}

const char *ext_failure(const struct env *e, const char **message)
{
	const struct extset *s = e->ext;
	if (!s || !s->fail_type)
		return NULL;
	if (message)
		*message = s->fail_msg;
	return s->fail_type;
}

/* the EXTENSION lines and platform.extension records of a finished init */
void ext_init_done(struct env *e)
{
	struct extset *s = e->ext;
	for (int i = 0; s && i < s->n; i++) {
		struct ext *x = &s->v[i];
		char events[32];
		snprintf(events, sizeof(events), "%s%s%s", x->invoke ? "INVOKE" : "", x->invoke && x->shutdown ? "," : "",
			 x->shutdown ? "SHUTDOWN" : "");
		envlog_printf(e, "EXTENSION\tName: %s\tState: %s\tEvents: [%s]\n", x->name, state_names[x->state], events);
		json_t *list = json_array();
		if (x->invoke)
			json_array_append_new(list, json_string("INVOKE"));
		if (x->shutdown)
			json_array_append_new(list, json_string("SHUTDOWN"));
		tele_emit(e, TELE_PLATFORM, "platform.extension",
			  json_pack("{s:s,s:s,s:o}", "name", x->name, "state", state_names[x->state], "events", list));
	}
}

void ext_invoke(struct env *e, const char *request_id, int64_t deadline_ms, const char *arn, const char *trace)
{
	struct extset *s = e->ext;
	for (int i = 0; s && i < s->n; i++) {
		struct ext *x = &s->v[i];
		if (!x->invoke || !x->waiting)
			continue;
		char ev_id[37];
		ids_uuid4(ev_id);
		json_t *doc = json_pack("{s:s,s:I,s:s,s:s}", "eventType", "INVOKE", "deadlineMs", (json_int_t)deadline_ms,
					"requestId", request_id, "invokedFunctionArn", arn);
		if (trace && *trace)
			json_object_set_new(doc, "tracing", json_pack("{s:s,s:s}", "type", "X-Amzn-Trace-Id", "value", trace));
		struct rapi_answer a = { 200, doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL, x->id,
					 ev_id };
		json_decref(doc);
		rapi_answer(x->waiting, &a);
		x->waiting = NULL;
		x->state = RUNNING;
	}
}

/* ---- shutdown ---- */

static void on_shutdown_timer(void *ud);

/* the extensions' part of the shutdown: SHUTDOWN events */
static void shutdown_extensions(struct extset *s)
{
	struct loop *loop = s->env->pool->x->srv->loop;
	s->events_sent = 1;
	int waiting_for = 0;
	for (int i = 0; i < s->n_external; i++) {
		struct ext *x = &s->v[i];
		if (!x->shutdown || x->exited)
			continue;
		waiting_for++;
		if (x->waiting)
			send_shutdown(s, x);
	}
	if (!waiting_for) {
		s->shutting_down = 2; /* done */
		s->env->pool->x->events.shutdown_done(s->env);
		return;
	}
	uint64_t spent_ms = (env_now_us() - s->shutdown_start_us) / 1000;
	if (s->timer)
		loop_cancel(loop, s->timer);
	s->timer = loop_timer(loop, spent_ms < QUOTA_SHUTDOWN_MS ? QUOTA_SHUTDOWN_MS - spent_ms : 0, on_shutdown_timer, s);
}

/* the runtime exited, or an extension did: go on when the part is done */
static void shutdown_done(struct extset *s)
{
	if (s->shutting_down != 1)
		return;
	if (!s->events_sent) {
		if (s->runtime_exited)
			shutdown_extensions(s);
		return;
	}
	for (int i = 0; i < s->n_external; i++)
		if (s->v[i].shutdown && !s->v[i].exited)
			return;
	if (s->timer)
		loop_cancel(s->env->pool->x->srv->loop, s->timer);
	s->timer = 0;
	s->shutting_down = 2;
	s->env->pool->x->events.shutdown_done(s->env);
}

static void on_shutdown_timer(void *ud)
{
	struct extset *s = ud;
	s->timer = 0;
	if (s->shutting_down != 1)
		return;
	if (!s->events_sent) {
		shutdown_extensions(s); /* the runtime had its 300 ms */
		return;
	}
	s->shutting_down = 2;
	s->env->pool->x->events.shutdown_done(s->env);
}

int ext_shutdown(struct env *e, const char *reason)
{
	struct extset *s = e->ext;
	int any = 0;
	for (int i = 0; s && i < s->n_external; i++)
		if (s->v[i].shutdown && !s->v[i].exited && s->v[i].state != STARTED)
			any = 1;
	if (!any || s->ctl < 0 || s->shutting_down)
		return 0;
	s->shutting_down = 1;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	tele_flush(e); /* what the extensions are owed goes before their SHUTDOWN */
	s->shutdown_start_us = env_now_us();
	/* kept calls of internal extensions and of extensions without
	 * SHUTDOWN end now; the others get their event */
	for (int i = 0; i < s->n; i++) {
		struct ext *x = &s->v[i];
		if (x->waiting && (!x->external || !x->shutdown)) {
			rapi_abandon(x->waiting);
			x->waiting = NULL;
		}
	}
	if (s->runtime_started && !s->runtime_exited) {
		tell_init(s, "T");
		s->timer = loop_timer(e->pool->x->srv->loop, QUOTA_SHUTDOWN_RUNTIME_MS, on_shutdown_timer, s);
	} else {
		shutdown_extensions(s);
	}
	return 1;
}

static void count_shutting(void *ud, const char *key, void *val)
{
	struct env *e = val;
	if (e->ext && e->ext->shutting_down == 1)
		(*(int *)ud)++;
}

int ext_shutting_down(const struct exec *x)
{
	int n = 0;
	strmap_each(x->envs, count_shutting, &n);
	return n;
}

void ext_free(struct env *e)
{
	struct extset *s = e->ext;
	if (!s)
		return;
	struct loop *loop = e->pool->x->srv->loop;
	if (s->timer)
		loop_cancel(loop, s->timer);
	for (int i = 0; i < s->n; i++)
		if (s->v[i].waiting)
			rapi_abandon(s->v[i].waiting);
	if (s->out >= 0) {
		on_ext_output(s, EPOLLIN); /* what they still wrote */
		if (s->out >= 0) {
			loop_del_fd(loop, s->out);
			close(s->out);
		}
	}
	if (s->line.len)
		ext_output_line(s, s->line.data, s->line.len);
	if (s->ctl >= 0) {
		loop_del_fd(loop, s->ctl);
		close(s->ctl);
	}
	buf_free(&s->line);
	free(s);
	e->ext = NULL;
}
