/*
 * test_telemetry.c - unit tests of exec/telemetry.c and exec/extensions.c
 * without a sandbox: one environment in its init phase on a real loop,
 * subscriptions delivering over TCP to a socket the test listens on, and
 * the list of a layer's extensions.
 */
#include "exec/env.h"
#include "exec/extensions.h"
#include "exec/telemetry.h"
#include "loop.h"
#include "server.h"
#include "t.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
	server_t srv;
	struct exec x;
	struct pool p;
	struct env e;
};

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	loop_new(&f->srv.loop);
	f->x.srv = &f->srv;
	f->p.x = &f->x;
	snprintf(f->p.scope, sizeof(f->p.scope), "000000000000:us-east-1");
	snprintf(f->p.name, sizeof(f->p.name), "fn");
	snprintf(f->p.version, sizeof(f->p.version), "$LATEST");
	f->p.cfg = json_pack("{s:s}", "Handler", "app.handler");
	f->e.pool = &f->p;
	f->e.state = ENV_INIT;
}

static void teardown(struct fixture *f)
{
	ext_free(&f->e);
	tele_free(&f->e);
	tele_stop(&f->x);
	json_decref(f->p.cfg);
	loop_free(f->srv.loop);
}

static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int call(struct fixture *f, enum rapi_ext_op op, const char *name, const char *id, const char *body,
		struct rapi_answer *a)
{
	struct rapi_ext_call c = { .op = op, .name = name, .id = id, .body = body ? body : "",
				   .len = body ? strlen(body) : 0 };
	memset(a, 0, sizeof(*a));
	return ext_call(&f->x, &f->e, &c, NULL, a);
}

/* reads the NDJSON the subscription delivered, for up to ms of loop time */
static json_t *read_events(struct fixture *f, int conn, int want, int ms)
{
	json_t *all = json_array();
	char buf[65536];
	size_t have = 0;
	for (int i = 0; i < ms / 5 && (int)json_array_size(all) < want; i++) {
		loop_run_once(f->srv.loop, 5);
		ssize_t n = recv(conn, buf + have, sizeof(buf) - 1 - have, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		have += (size_t)n;
		buf[have] = '\0';
		char *start = buf, *nl;
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			json_t *ev = json_loads(start, 0, NULL);
			if (ev)
				json_array_append_new(all, ev);
			start = nl + 1;
		}
		memmove(buf, start, have - (size_t)(start - buf));
		have -= (size_t)(start - buf);
	}
	return all;
}

static int has_type(json_t *evs, const char *type)
{
	size_t i;
	json_t *ev;
	int n = 0;
	json_array_foreach(evs, i, ev) n += !strcmp(json_string_value(json_object_get(ev, "type")), type);
	return n;
}

static void test_subscribe_and_deliver(void)
{
	struct fixture f;
	setup(&f);
	int port, lfd = listener(&port);
	CHECK(lfd >= 0);
	CHECK(tele_start(&f.e) == 0);
	tele_emit(&f.e, TELE_PLATFORM, "platform.initStart", json_pack("{s:s}", "phase", "init"));
	struct rapi_answer a;
	CHECK(call(&f, RAPI_EXT_REGISTER, "agent", NULL, "{\"events\":[\"INVOKE\"]}", &a) == 0);
	CHECK(a.status == 200);
	char id[40];
	snprintf(id, sizeof(id), "%s", a.ext_id ? a.ext_id : "");
	free(a.body);
	char sub[300];
	snprintf(sub, sizeof(sub),
		 "{\"schemaVersion\":\"2022-07-01\",\"types\":[\"platform\",\"function\"],\"buffering\":{\"timeoutMs\":25},"
		 "\"destination\":{\"protocol\":\"TCP\",\"port\":%d}}",
		 port);
	CHECK(call(&f, RAPI_EXT_TELEMETRY, NULL, id, sub, &a) == 0);
	CHECK(a.status == 200);
	CHECK_STR(a.body, "\"OK\"");
	free(a.body);
	/* a function line and an extension line (not subscribed) */
	tele_line(&f.e, TELE_FUNCTION, "hello\n", 6);
	tele_line(&f.e, TELE_EXTENSION, "ignored\n", 8);
	int conn = -1;
	for (int i = 0; i < 200 && conn < 0; i++) {
		loop_run_once(f.srv.loop, 5);
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	CHECK(conn >= 0);
	json_t *evs = read_events(&f, conn, 3, 1000);
	/* the init's event from before the subscription, the subscription's own, the line */
	CHECK(has_type(evs, "platform.initStart") == 1);
	CHECK(has_type(evs, "platform.telemetrySubscription") == 1);
	CHECK(has_type(evs, "function") == 1);
	CHECK(has_type(evs, "extension") == 0);
	json_decref(evs);
	/* closed after init */
	tele_close(&f.e);
	f.e.state = ENV_IDLE;
	CHECK(call(&f, RAPI_EXT_TELEMETRY, NULL, id, sub, &a) == 0);
	CHECK(a.status == 403);
	CHECK(a.body && strstr(a.body, "Telemetry.SubscriptionClosed"));
	free(a.body);
	close(conn);
	close(lfd);
	teardown(&f);
}

static void test_validation(void)
{
	struct fixture f;
	setup(&f);
	struct rapi_answer a;
	call(&f, RAPI_EXT_REGISTER, "agent", NULL, "{}", &a);
	char id[40];
	snprintf(id, sizeof(id), "%s", a.ext_id ? a.ext_id : "");
	free(a.body);
	static const char *const bad[] = {
		"not json",
		"{\"schemaVersion\":\"2022-07-01\",\"types\":[],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox:1\"}}",
		"{\"schemaVersion\":\"2022-07-01\",\"types\":[\"platform\"],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://example.com:80/\"}}",
		"{\"schemaVersion\":\"2022-07-01\",\"types\":[\"platform\"],\"destination\":{\"protocol\":\"UDP\"}}",
		"{\"schemaVersion\":\"2022-07-01\",\"types\":[\"platform\"],\"buffering\":{\"timeoutMs\":5},"
		"\"destination\":{\"protocol\":\"TCP\",\"port\":9}}",
		"{\"schemaVersion\":\"1999-01-01\",\"types\":[\"platform\"],\"destination\":{\"protocol\":\"TCP\",\"port\":9}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK(call(&f, RAPI_EXT_TELEMETRY, NULL, id, bad[i], &a) == 0);
		CHECK(a.status == 400);
		CHECK(a.body && strstr(a.body, "\"errorType\":\"ValidationError\""));
		free(a.body);
	}
	/* the Logs API has its own type, and refuses once the Telemetry API is in use */
	CHECK(call(&f, RAPI_EXT_LOGS, NULL, id, "{\"types\":[]}", &a) == 0);
	CHECK(a.status == 400 && a.body && strstr(a.body, "Logs.ValidationError"));
	free(a.body);
	teardown(&f);
}

static void test_list(void)
{
	char dir[] = "/tmp/lambdad-ext-XXXXXX", path[200];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/extensions", dir);
	mkdir(path, 0755);
	static const char *const files[] = { "b-agent", "a-agent", "not-exec", ".hidden" };
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/extensions/%s", dir, files[i]);
		FILE *fp = fopen(path, "w");
		if (fp)
			fclose(fp);
		chmod(path, i == 2 ? 0644 : 0755);
	}
	snprintf(path, sizeof(path), "%s/extensions/subdir", dir);
	mkdir(path, 0755);
	char names[4][256];
	CHECK(ext_list(dir, names, 4) == 2);
	CHECK_STR(names[0], "a-agent");
	CHECK_STR(names[1], "b-agent");
	CHECK(ext_list("", names, 4) == 0);
	CHECK(ext_list("/nonexistent", names, 4) == 0);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	T_RUN(test_subscribe_and_deliver);
	T_RUN(test_validation);
	T_RUN(test_list);
	return t_done("test_telemetry");
}
