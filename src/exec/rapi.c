/*
 * rapi.c - the Runtime API server (see rapi.h).
 *
 * libmicrohttpd runs in external-epoll mode with no listening socket; each
 * environment's listening socket is watched by the loop and every accepted
 * connection is added with MHD_add_connection(). The connection
 * notification callback runs inside that call, which is how a connection
 * gets its environment id. GET /next that must wait is suspended and
 * resumed by rapi_deliver() / rapi_abandon(); the response is queued when
 * libmicrohttpd calls the handler again after the resume.
 *
 * Replies follow the Runtime API: 202 {"status":"OK"} for accepted posts,
 * {"errorMessage","errorType"} documents for errors, a body limit of
 * QUOTA_SYNC_RESPONSE bytes (6 MB + 100) for responses.
 *
 * A streamed response (Lambda-Runtime-Function-Response-Mode: streaming) is
 * not collected: each piece of upload data libmicrohttpd hands over goes to
 * exec at once (hooks->on_chunk), and the end, with the error trailers
 * (Lambda-Runtime-Function-Error-Type / -Body) if any, to hooks->on_stream_end.
 */
#include "exec/rapi.h"
#include "loop.h"
#include "quotas.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PREFIX "/2018-06-01/runtime/"
#define EXT_PREFIX "/2020-01-01/extension/"
#define EXT_BODY_MAX (64 * 1024) /* a register, error or subscribe body */
/* Per-connection memory of libmicrohttpd: request line, headers and
 * trailers (a streamed error's base64 body rides in one) and the read
 * buffer. It is zeroed for every request, so it is kept small: a runtime's
 * requests carry a few hundred bytes of headers. */
#define RAPI_CONN_MEMORY (16 * 1024)

struct rapi {
	struct loop *loop;
	const struct rapi_hooks *hooks;
	void *ud;            /* the hooks' first argument */
	struct MHD_Daemon *d;
	int epfd;
	uint64_t due;
	uint64_t adding_env; /* the environment of the connection being added */
	int diag_fd;         /* NETLINK_SOCK_DIAG socket for owner checks, -1 until needed */
	uint32_t diag_seq;
	int diag_logged;     /* a lookup failure was logged */
};

struct listener {
	rapi_t *r;
	uint64_t env_id;
	int fd;
	uid_t owner;             /* (uid_t)-1: no check */
	struct sockaddr_in self; /* the listening address, the far end of a client's 4-tuple */
	int refusal_logged;
};

/* per connection (socket context): which environment */
struct rconn {
	uint64_t env_id;
};

/* per request */
struct rreq {
	const struct rapi_hooks *hooks; /* the rapi's */
	void *ud;
	uint64_t env_id;
	buf_t body;
	int too_big;
	int waiting;            /* suspended in GET /next */
	int in_handler;         /* on_next is running: answer without suspending */
	int answered;           /* the event (or abandon) is ready */
	struct MHD_Response *resp;
	unsigned status;
	int streaming;          /* a streamed POST .../response */
	int stream_refused;     /* exec refused a chunk (gone or oversized) */
	int stream_rc;
	char stream_id[128];
	int ext_op;             /* a call of the Extensions / Telemetry / Logs API (enum rapi_ext_op), or -1 */
};

struct rapi_next {
	struct rreq *q;
	struct MHD_Connection *c;
	rapi_t *r;
};

static void kick(void *ud)
{
	rapi_t *r = ud;
	MHD_run(r->d);
}

/* libmicrohttpd only notices a resume in MHD_run: run it once this loop
 * iteration's callbacks are done */
static void resume(struct rapi_next *n)
{
	MHD_resume_connection(n->c);
	loop_defer(n->r->loop, kick, n->r);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static enum MHD_Result error_reply(struct MHD_Connection *c, unsigned status, const char *type, const char *msg)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}\n", msg, type);
	return queue(c, status, body);
}

void rapi_deliver(struct rapi_next *n, const struct rapi_event *ev)
{
	struct rreq *q = n->q;
	/* the event's bytes go to libmicrohttpd as they are, freed once sent */
	size_t len = 0;
	char *payload = buf_steal(ev->payload, &len);
	struct MHD_Response *resp =
		payload ? MHD_create_response_from_buffer_with_free_callback(len, payload, free) : NULL;
	if (!resp)
		free(payload);
	if (resp) {
		char deadline[24];
		str_u64(deadline, ev->deadline_ms > 0 ? (uint64_t)ev->deadline_ms : 0);
		MHD_add_response_header(resp, "Content-Type", "application/json");
		MHD_add_response_header(resp, "Lambda-Runtime-Aws-Request-Id", ev->request_id);
		MHD_add_response_header(resp, "Lambda-Runtime-Deadline-Ms", deadline);
		MHD_add_response_header(resp, "Lambda-Runtime-Invoked-Function-Arn", ev->invoked_arn);
		if (ev->trace_id && *ev->trace_id)
			MHD_add_response_header(resp, "Lambda-Runtime-Trace-Id", ev->trace_id);
		if (ev->client_context && *ev->client_context)
			MHD_add_response_header(resp, "Lambda-Runtime-Client-Context", ev->client_context);
	}
	q->resp = resp;
	q->status = 200;
	q->answered = 1;
	if (!q->in_handler)
		resume(n);
	free(n);
}

void rapi_abandon(struct rapi_next *n)
{
	static const char body[] = "{\"errorMessage\":\"Internal Server Error\",\"errorType\":\"InternalServerError\"}\n";
	struct rreq *q = n->q;
	q->resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	q->status = 500;
	q->answered = 1;
	if (!q->in_handler)
		resume(n);
	free(n);
}

static enum MHD_Result send_answer(struct MHD_Connection *c, struct rreq *q);

/* a response with the JSON body (taken) and the identifier headers */
static struct MHD_Response *answer_response(const struct rapi_answer *a)
{
	char *body = a->body;
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(body ? strlen(body) : 0,
										      body ? body : (char *)"", body ? free : NULL);
	if (!resp) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (a->ext_id)
		MHD_add_response_header(resp, "Lambda-Extension-Identifier", a->ext_id);
	if (a->event_id)
		MHD_add_response_header(resp, "Lambda-Extension-Event-Identifier", a->event_id);
	return resp;
}

int rapi_error_answer(struct rapi_answer *out, unsigned status, const char *type, const char *msg)
{
	json_t *doc = json_pack("{s:s,s:s}", "errorMessage", msg, "errorType", type);
	out->status = status;
	out->body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	return 0;
}

void rapi_answer(struct rapi_next *n, const struct rapi_answer *a)
{
	struct rreq *q = n->q;
	q->resp = answer_response(a);
	q->status = a->status;
	q->answered = 1;
	if (!q->in_handler)
		resume(n);
	free(n);
}

/* a GET .../next that may wait: its handle, with the request marked as
 * waiting and inside the hook (an answer given there is sent at once) */
static struct rapi_next *hold(struct MHD_Connection *c, rapi_t *r, struct rreq *q)
{
	struct rapi_next *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->q = q;
	n->c = c;
	n->r = r;
	q->waiting = 1;
	q->in_handler = 1;
	return n;
}

/* a call of the Extensions, Telemetry or Logs API: which one, or -1 */
static int ext_op_of(const char *method, const char *url)
{
	if (!strncmp(url, EXT_PREFIX, strlen(EXT_PREFIX))) {
		const char *op = url + strlen(EXT_PREFIX);
		if (!strcmp(method, "POST") && !strcmp(op, "register"))
			return RAPI_EXT_REGISTER;
		if (!strcmp(method, "GET") && !strcmp(op, "event/next"))
			return RAPI_EXT_NEXT;
		if (!strcmp(method, "POST") && !strcmp(op, "init/error"))
			return RAPI_EXT_INIT_ERROR;
		if (!strcmp(method, "POST") && !strcmp(op, "exit/error"))
			return RAPI_EXT_EXIT_ERROR;
		return -1;
	}
	if (!strcmp(method, "PUT") && (!strcmp(url, "/2022-07-01/telemetry") || !strcmp(url, "/2022-07-01/telemetry/")))
		return RAPI_EXT_TELEMETRY;
	if (!strcmp(method, "PUT") && (!strcmp(url, "/2020-08-15/logs") || !strcmp(url, "/2020-08-15/logs/")))
		return RAPI_EXT_LOGS;
	return -1;
}

static enum MHD_Result ext_request(struct MHD_Connection *c, rapi_t *r, struct rreq *q, int op)
{
	if (q->too_big)
		return error_reply(c, 413, "RequestEntityTooLarge", "Request body too large");
	struct rapi_ext_call call = {
		.op = (enum rapi_ext_op)op,
		.name = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Extension-Name"),
		.id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Extension-Identifier"),
		.error_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Extension-Function-Error-Type"),
		.features = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Extension-Accept-Feature"),
		.body = q->body.data ? q->body.data : "",
		.len = q->body.len,
	};
	struct rapi_answer a = { 500, NULL, NULL, NULL };
	struct rapi_next *n = NULL;
	if (op == RAPI_EXT_NEXT) {
		if (!(n = hold(c, r, q)))
			return MHD_NO;
	}
	int kept = q->hooks->on_ext ? q->hooks->on_ext(q->ud, q->env_id, &call, n, &a) : 0;
	q->in_handler = 0;
	if (kept == 1) {
		if (q->answered)
			return send_answer(c, q);
		MHD_suspend_connection(c); /* rapi_answer or rapi_abandon resumes it */
		return MHD_YES;
	}
	free(n);
	q->waiting = 0;
	if (!q->hooks->on_ext)
		return error_reply(c, 404, "InvalidURL", "Invalid URL");
	struct MHD_Response *resp = answer_response(&a);
	if (!resp)
		return MHD_NO;
	enum MHD_Result ok = MHD_queue_response(c, a.status, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* "/2018-06-01/runtime/invocation/<id>/response" -> id into out */
static int request_id_of(const char *url, const char *suffix, char *out, size_t n)
{
	if (strncmp(url, PREFIX "invocation/", strlen(PREFIX "invocation/")) != 0)
		return 0; /* (and a shorter url, such as .../init/error, is not read past its end) */
	const char *p = url + strlen(PREFIX "invocation/");
	const char *slash = strchr(p, '/');
	if (!slash || strcmp(slash + 1, suffix) != 0 || (size_t)(slash - p) >= n || slash == p)
		return 0;
	memcpy(out, p, (size_t)(slash - p));
	out[slash - p] = '\0';
	return 1;
}

/* sends the answer prepared for a GET /next (an event, or the 500 that
 * ends the runtime) */
static enum MHD_Result send_answer(struct MHD_Connection *c, struct rreq *q)
{
	q->waiting = 0;
	enum MHD_Result ok = q->resp ? MHD_queue_response(c, q->status, q->resp) : MHD_NO;
	if (q->resp)
		MHD_destroy_response(q->resp);
	q->resp = NULL;
	return ok;
}

/* the answer to a posted result, from what the hook returned */
static enum MHD_Result result_reply(struct MHD_Connection *c, int rc)
{
	if (rc == LD_ENOTFOUND)
		return error_reply(c, 400, "InvalidRequestID", "Invalid request ID");
	if (rc)
		return error_reply(c, 403, "InvalidStateTransition",
				   "State transition from Ready to Response failed for runtime.");
	return queue(c, 202, "{\"status\":\"OK\"}\n");
}

static enum MHD_Result finish_post(struct MHD_Connection *c, const char *url, struct rreq *q)
{
	const char *etype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Lambda-Runtime-Function-Error-Type");
	const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *body = q->body.data ? q->body.data : "";
	char id[128];
	if (q->too_big) {
		if (request_id_of(url, "response", id, sizeof(id)))
			q->hooks->on_result(q->ud, q->env_id, id, 2, NULL, NULL, NULL);
		char msg[80];
		snprintf(msg, sizeof(msg), "Exceeded maximum allowed payload size (%u bytes).", QUOTA_SYNC_RESPONSE);
		return error_reply(c, 413, "RequestEntityTooLarge", msg);
	}
	if (!strcmp(url, PREFIX "init/error")) {
		q->hooks->on_init_error(q->ud, q->env_id, etype, body, q->body.len);
		return queue(c, 202, "{\"status\":\"OK\"}\n");
	}
	int is_error = 0;
	if (request_id_of(url, "response", id, sizeof(id)))
		is_error = 0;
	else if (request_id_of(url, "error", id, sizeof(id)))
		is_error = 1;
	else
		return error_reply(c, 404, "InvalidURL", "Invalid URL");
	return result_reply(c, q->hooks->on_result(q->ud, q->env_id, id, is_error, etype, &q->body, ctype));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct rreq *q = *con_cls;
	if (!q) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct rconn *rc = ci ? ci->socket_context : NULL;
		q = calloc(1, sizeof(*q));
		if (!q || !rc) {
			free(q);
			return MHD_NO;
		}
		q->env_id = rc->env_id;
		q->hooks = ((rapi_t *)cls)->hooks;
		q->ud = ((rapi_t *)cls)->ud;
		q->ext_op = ext_op_of(method, url);
		buf_init(&q->body, q->ext_op >= 0 ? EXT_BODY_MAX : QUOTA_SYNC_RESPONSE);
		*con_cls = q;
		const char *mode = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								 "Lambda-Runtime-Function-Response-Mode");
		if (mode && !strcasecmp(mode, "streaming") && !strcmp(method, "POST") &&
		    !strncmp(url, PREFIX "invocation/", strlen(PREFIX "invocation/")) &&
		    request_id_of(url, "response", q->stream_id, sizeof(q->stream_id)))
			q->streaming = 1;
		return MHD_YES;
	}
	if (q->streaming) {
		const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		if (*upload_size) {
			if (!q->stream_refused) {
				int rc = q->hooks->on_chunk(q->ud, q->env_id, q->stream_id, upload, *upload_size, ctype);
				if (rc) {
					q->stream_refused = 1;
					q->stream_rc = rc;
				}
			}
			*upload_size = 0;
			return MHD_YES;
		}
		const char *etype = MHD_lookup_connection_value(c, MHD_FOOTER_KIND, "Lambda-Runtime-Function-Error-Type");
		const char *ebody = MHD_lookup_connection_value(c, MHD_FOOTER_KIND, "Lambda-Runtime-Function-Error-Body");
		int rc = q->stream_refused && q->stream_rc != LD_ETOOBIG
				 ? q->stream_rc
				 : q->hooks->on_stream_end(q->ud, q->env_id, q->stream_id, ctype, q->stream_rc == LD_ETOOBIG, etype,
						      ebody);
		if (q->stream_rc == LD_ETOOBIG)
			return error_reply(c, 413, "RequestEntityTooLarge",
					   "Exceeded maximum allowed payload size (20971520 bytes).");
		return result_reply(c, rc);
	}
	if (q->waiting) {
		if (!q->answered)
			return MHD_YES;
		return send_answer(c, q);
	}
	if (*upload_size) {
		if (!q->too_big && buf_append(&q->body, upload, *upload_size))
			q->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->ext_op >= 0)
		return ext_request(c, cls, q, q->ext_op);
	if (strncmp(url, PREFIX, strlen(PREFIX)) != 0)
		return error_reply(c, 404, "InvalidURL", "Invalid URL");
	if (!strcmp(method, "GET") && !strcmp(url, PREFIX "invocation/next")) {
		struct rapi_next *n = hold(c, cls, q);
		if (!n)
			return MHD_NO;
		int refused = q->hooks->on_next(q->ud, q->env_id, n);
		q->in_handler = 0;
		if (refused) {
			free(n);
			q->waiting = 0;
			return error_reply(c, 403, "InvalidStateTransition",
					   "State transition to Ready failed for runtime.");
		}
		if (q->answered) { /* an event was ready: answer now */
			return send_answer(c, q);
		}
		MHD_suspend_connection(c); /* rapi_deliver or rapi_abandon resumes it */
		return MHD_YES;
	}
	if (!strcmp(method, "POST"))
		return finish_post(c, url, q);
	return error_reply(c, 405, "MethodNotAllowed", "Method not allowed");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct rreq *q = *con_cls;
	if (!q)
		return;
	if (q->resp)
		MHD_destroy_response(q->resp);
	buf_free(&q->body);
	free(q);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	rapi_t *r = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct rconn *rc = calloc(1, sizeof(*rc));
		if (rc)
			rc->env_id = r->adding_env;
		*socket_context = rc;
	} else {
		free(*socket_context);
		*socket_context = NULL;
	}
}

static void on_epoll(void *ud, uint32_t events)
{
	rapi_t *r = ud;
	MHD_run(r->d);
}

static int64_t prepare(void *ud)
{
	rapi_t *r = ud;
	MHD_UNSIGNED_LONG_LONG t = 0;
	for (int i = 0; i < 16; i++) {
		if (MHD_get_timeout(r->d, &t) != MHD_YES) {
			r->due = 0;
			return -1;
		}
		if (t > 0)
			break;
		MHD_run(r->d);
	}
	r->due = loop_now_ms() + t;
	return (int64_t)t;
}

/* After the wait: the timeout that came due, and the work libmicrohttpd has
 * buffered (prepare does that before the wait in loop_run(), but tests and
 * fuzzers drive the loop with loop_run_once(), which runs no prepare hooks) */
static void check(void *ud)
{
	rapi_t *r = ud;
	MHD_UNSIGNED_LONG_LONG t = 0;
	if (r->due && loop_now_ms() >= r->due) {
		r->due = 0;
		MHD_run(r->d);
	}
	for (int i = 0; i < 16 && MHD_get_timeout(r->d, &t) == MHD_YES && t == 0; i++)
		MHD_run(r->d);
}

int rapi_start(struct loop *loop, const struct rapi_hooks *hooks, void *ud, rapi_t **out)
{
	rapi_t *r = calloc(1, sizeof(*r));
	if (!r)
		return LD_ENOMEM;
	r->loop = loop;
	r->hooks = hooks;
	r->ud = ud;
	r->diag_fd = -1;
	r->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_SUSPEND_RESUME |
					MHD_USE_TURBO,
				0, NULL, NULL, on_request, r, MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, r,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)RAPI_CONN_MEMORY, MHD_OPTION_END);
	const union MHD_DaemonInfo *di = r->d ? MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di || loop_add_fd(loop, di->epoll_fd, EPOLLIN, on_epoll, r) ||
	    loop_add_hooks(loop, prepare, check, r)) {
		if (r->d)
			MHD_stop_daemon(r->d);
		free(r);
		return LD_EIO;
	}
	r->epfd = di->epoll_fd;
	*out = r;
	return 0;
}

void rapi_stop(rapi_t *r)
{
	if (!r)
		return;
	loop_del_hooks(r->loop, r);
	loop_del_fd(r->loop, r->epfd);
	MHD_stop_daemon(r->d);
	if (r->diag_fd >= 0)
		close(r->diag_fd);
	free(r);
}

static void diag_failed(rapi_t *r, const char *why, int err)
{
	if (!r->diag_logged) {
		fprintf(stderr,
			"lambdad: rapi: cannot find the owner of a Runtime API connection (%s%s%s); "
			"refusing connections to environments with an owner uid\n",
			why, err ? ": " : "", err ? strerror(err) : "");
		r->diag_logged = 1;
	}
	if (r->diag_fd >= 0) { /* start afresh next time */
		close(r->diag_fd);
		r->diag_fd = -1;
	}
}

/* The uid owning the client end of the connection peer -> l->self, from the
 * kernel's socket table. The kernel answers an exact lookup synchronously,
 * inside send(), so the reply is read without waiting. 0 and *uid; LD_ENOTFOUND
 * when no live socket owns that end (closed, or not ours to see); LD_EIO when
 * the lookup itself failed. */
static int peer_uid(rapi_t *r, const struct listener *l, const struct sockaddr_in *peer, uid_t *uid)
{
	if (r->diag_fd < 0) {
		r->diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
		if (r->diag_fd < 0) {
			diag_failed(r, "socket(NETLINK_SOCK_DIAG)", errno);
			return LD_EIO;
		}
	}
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} msg;
	memset(&msg, 0, sizeof(msg));
	msg.nh.nlmsg_len = sizeof(msg);
	msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nh.nlmsg_flags = NLM_F_REQUEST; /* no NLM_F_DUMP: the one socket with this 4-tuple */
	msg.nh.nlmsg_seq = ++r->diag_seq;
	msg.req.sdiag_family = AF_INET;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	/* the client's socket: its local end is the peer, its remote end us */
	msg.req.id.idiag_sport = peer->sin_port;
	msg.req.id.idiag_src[0] = peer->sin_addr.s_addr;
	msg.req.id.idiag_dport = l->self.sin_port;
	msg.req.id.idiag_dst[0] = l->self.sin_addr.s_addr;
	msg.req.id.idiag_cookie[0] = msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(r->diag_fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) != (ssize_t)sizeof(msg)) {
		diag_failed(r, "sock_diag request", errno);
		return LD_EIO;
	}
	/* replies to earlier requests cannot be queued (each is read in full
	 * below), but skip any reply that is not ours all the same */
	for (int i = 0; i < 4; i++) {
		union {
			struct nlmsghdr nh;
			char b[1024];
		} u;
		ssize_t n = recv(r->diag_fd, &u, sizeof(u), MSG_DONTWAIT);
		if (n < 0) {
			diag_failed(r, "sock_diag reply", errno);
			return LD_EIO;
		}
		struct nlmsghdr *nh = &u.nh;
		if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_seq != msg.nh.nlmsg_seq)
			continue;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error == -ENOENT)
				return LD_ENOTFOUND;
			diag_failed(r, "sock_diag answered", nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : 0);
			return LD_EIO;
		}
		if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			diag_failed(r, "sock_diag reply of an unexpected type", 0);
			return LD_EIO;
		}
		const struct inet_diag_msg *m = NLMSG_DATA(nh);
		/* inode 0: no file refers to the socket any more (the client closed
		 * it; a TIME_WAIT entry also reports uid 0): nobody to serve */
		if (m->idiag_inode == 0)
			return LD_ENOTFOUND;
		*uid = (uid_t)m->idiag_uid;
		return 0;
	}
	diag_failed(r, "no sock_diag reply", 0);
	return LD_EIO;
}

/* Whether the connection from peer may talk to l's environment. */
static int owner_ok(struct listener *l, const struct sockaddr_in *peer)
{
	uid_t uid = (uid_t)-1;
	if (l->owner == (uid_t)-1)
		return 1;
	int rc = peer_uid(l->r, l, peer, &uid);
	if (rc == 0 && uid == l->owner)
		return 1;
	if (rc == 0 && !l->refusal_logged) {
		fprintf(stderr, "lambdad: rapi: refused a connection from uid %u to environment %llu's Runtime API\n",
			(unsigned)uid, (unsigned long long)l->env_id);
		l->refusal_logged = 1;
	}
	return 0;
}

/* Closes with a reset, so the client sees ECONNRESET at once. */
static void refuse(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void on_accept(void *ud, uint32_t events)
{
	struct listener *l = ud;
	int added = 0;
	for (int i = 0; i < 16; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(l->fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			break;
		if (len != sizeof(sa) || sa.sin_family != AF_INET || !owner_ok(l, &sa)) {
			refuse(fd);
			continue;
		}
		l->r->adding_env = l->env_id;
		if (MHD_add_connection(l->r->d, fd, (struct sockaddr *)&sa, len) != MHD_YES)
			close(fd);
		else
			added = 1;
		l->r->adding_env = 0;
	}
	/* a new connection is only on libmicrohttpd's ready list (turbo mode
	 * adds it to its epoll set later): serve its request now */
	if (added)
		MHD_run(l->r->d);
}

/* listeners by fd, so that rapi_close_env can free them */
static struct listener *listeners[1 << 16];

/* serves the listening socket fd (bound, listening) as env_id's */
static int adopt(rapi_t *r, uint64_t env_id, uid_t owner_uid, int fd, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct listener *l = NULL;
	if (fd >= (int)(sizeof(listeners) / sizeof(listeners[0])) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sin_family != AF_INET)
		goto fail;
	l = calloc(1, sizeof(*l));
	if (!l)
		goto fail;
	*l = (struct listener){ .r = r, .env_id = env_id, .fd = fd, .owner = owner_uid, .self = sa };
	if (loop_add_fd(r->loop, fd, EPOLLIN, on_accept, l))
		goto fail;
	listeners[fd] = l;
	*port = ntohs(sa.sin_port);
	return fd;
fail:
	free(l);
	close(fd);
	return LD_EIO;
}

int rapi_open_env(rapi_t *r, uint64_t env_id, uid_t owner_uid, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return LD_EIO;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return LD_EIO;
	}
	return adopt(r, env_id, owner_uid, fd, port);
}

int rapi_adopt_env(rapi_t *r, uint64_t env_id, int fd, int *port)
{
	/* the socket's namespace holds that environment alone: no owner check
	 * (sock_diag, of the daemon's namespace, could not see the peer) */
	return adopt(r, env_id, (uid_t)-1, fd, port);
}

void rapi_close_env(rapi_t *r, int fd)
{
	if (fd < 0 || fd >= (int)(sizeof(listeners) / sizeof(listeners[0])))
		return;
	loop_del_fd(r->loop, fd);
	free(listeners[fd]);
	listeners[fd] = NULL;
	close(fd);
}
