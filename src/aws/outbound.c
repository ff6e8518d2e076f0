/*
 * outbound.c - libcurl's multi interface driven by the loop (see outbound.h).
 *
 * curl asks for sockets to be watched through on_socket(): each watched
 * socket gets a small struct osock (the loop callback's ud, also attached to
 * the socket with curl_multi_assign) that lives until curl says
 * CURL_POLL_REMOVE. curl's single timeout is one loop timer, re-armed from
 * on_timer_set(). After every curl_multi_socket_action() the finished
 * transfers are collected by collect() and reported; callbacks therefore
 * only ever run from a loop fd or timer callback, never from inside curl
 * and never from outbound_request().
 */
#include "aws/outbound.h"
#include "util/err.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define OUTBOUND_DEFAULT_MAX_RESPONSE (64 * 1024)
#define OUTBOUND_DEFAULT_CONNECT_MS 5000L
#define OUTBOUND_DEFAULT_TIMEOUT_MS 30000L

struct osock {
	outbound_t *ob;
	curl_socket_t fd;
	struct osock *prev, *next;
};

struct xfer {
	outbound_t *ob;
	CURL *curl;
	struct curl_slist *headers;
	char *body;                  /* the request body, owned */
	buf_t resp;                  /* the response body, capped */
	int too_big;                 /* the write callback refused the body */
	outbound_cb cb;
	void *ud;
	char errbuf[CURL_ERROR_SIZE];
	int netns_fd;                /* req->netns_fd duplicated, or -1 */
	struct xfer *prev, *next;
};

struct outbound {
	loop_t *loop;
	CURLM *multi;
	int64_t timer_id;            /* 0 when none */
	struct osock *socks;
	struct xfer *xfers;
	size_t pending;
	int closing;                 /* outbound_free is running */
};

static void list_unlink_sock(outbound_t *ob, struct osock *so)
{
	if (so->prev)
		so->prev->next = so->next;
	else
		ob->socks = so->next;
	if (so->next)
		so->next->prev = so->prev;
}

static void list_unlink_xfer(outbound_t *ob, struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		ob->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	ob->pending--;
}

static void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->curl)
		curl_easy_cleanup(x->curl);
	curl_slist_free_all(x->headers);
	if (x->netns_fd >= 0)
		close(x->netns_fd);
	free(x->body);
	buf_free(&x->resp);
	free(x);
}

/* Reports x to its owner and frees it. x is already out of the multi and
 * out of the list. */
static void xfer_finish(struct xfer *x, CURLcode res, const char *forced_error)
{
	outbound_result_t r = { .body = "", .error = "" };
	long status = 0;

	if (x->curl)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	r.status = status;
	if (forced_error) {
		r.rc = LD_EREMOTE;
		r.error = forced_error;
	} else if (x->too_big) {
		r.rc = LD_ETOOBIG;
		r.error = "response body over its cap";
	} else if (res != CURLE_OK) {
		r.rc = res == CURLE_OUT_OF_MEMORY ? LD_ENOMEM : LD_EREMOTE;
		r.timed_out = res == CURLE_OPERATION_TIMEDOUT;
		r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(res);
	} else {
		r.body = x->resp.data ? x->resp.data : "";
		r.len = x->resp.len;
	}
	x->cb(x->ud, &r);
	xfer_free(x);
}

/* Reports every transfer curl has finished. */
static void collect(outbound_t *ob)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(ob->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		CURL *e = m->easy_handle;
		CURLcode res = m->data.result;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(ob->multi, e);
		if (!x)
			continue;
		list_unlink_xfer(ob, x);
		xfer_finish(x, res, NULL);
	}
}

static void on_fd(void *ud, uint32_t events)
{
	struct osock *so = ud;
	outbound_t *ob = so->ob;
	curl_socket_t fd = so->fd; /* so may be freed inside socket_action */
	int action = 0, running = 0;
	if (events & EPOLLIN)
		action |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		action |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		action |= CURL_CSELECT_ERR;
	curl_multi_socket_action(ob->multi, fd, action, &running);
	collect(ob);
}

static void on_timeout(void *ud)
{
	outbound_t *ob = ud;
	int running = 0;
	ob->timer_id = 0;
	curl_multi_socket_action(ob->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(ob);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
	outbound_t *ob = userp;
	(void)multi;
	if (ob->timer_id) {
		loop_cancel(ob->loop, ob->timer_id);
		ob->timer_id = 0;
	}
	if (timeout_ms < 0)
		return 0;
	int64_t id = loop_timer(ob->loop, (uint64_t)timeout_ms, on_timeout, ob);
	if (id < 0)
		return -1;
	ob->timer_id = id;
	return 0;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	outbound_t *ob = userp;
	struct osock *so = socketp;
	(void)e;

	if (what == CURL_POLL_REMOVE) {
		if (so) {
			loop_del_fd(ob->loop, s);
			list_unlink_sock(ob, so);
			free(so);
			curl_multi_assign(ob->multi, s, NULL);
		}
		return 0;
	}
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (so)
		return loop_mod_fd(ob->loop, s, ev) ? -1 : 0;
	so = calloc(1, sizeof *so);
	if (!so)
		return -1;
	so->ob = ob;
	so->fd = s;
	if (loop_add_fd(ob->loop, s, ev, on_fd, so)) {
		/* a stale registration of a closed socket with this number */
		loop_del_fd(ob->loop, s);
		if (loop_add_fd(ob->loop, s, ev, on_fd, so)) {
			free(so);
			return -1;
		}
	}
	so->next = ob->socks;
	if (ob->socks)
		ob->socks->prev = so;
	ob->socks = so;
	curl_multi_assign(ob->multi, s, so);
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;
	int rc = buf_append(&x->resp, data, len);
	if (rc) {
		x->too_big = rc == LD_ETOOBIG;
		return 0; /* ends the transfer with CURLE_WRITE_ERROR */
	}
	return len;
}

int outbound_new(loop_t *loop, outbound_t **out)
{
	static int curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return LD_ENOMEM;
		curl_ready = 1;
	}
	outbound_t *ob = calloc(1, sizeof *ob);
	if (!ob)
		return LD_ENOMEM;
	ob->loop = loop;
	if (!(ob->multi = curl_multi_init())) {
		free(ob);
		return LD_ENOMEM;
	}
	curl_multi_setopt(ob->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(ob->multi, CURLMOPT_SOCKETDATA, ob);
	curl_multi_setopt(ob->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(ob->multi, CURLMOPT_TIMERDATA, ob);
	curl_multi_setopt(ob->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)OUTBOUND_MAX_HOST_CONNS);
	*out = ob;
	return 0;
}

void outbound_set_host_conns(outbound_t *ob, long n)
{
	curl_multi_setopt(ob->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n > 0 ? n : 1L);
}

void outbound_free(outbound_t *ob)
{
	if (!ob)
		return;
	ob->closing = 1;
	while (ob->xfers) {
		struct xfer *x = ob->xfers;
		curl_multi_remove_handle(ob->multi, x->curl);
		list_unlink_xfer(ob, x);
		xfer_finish(x, CURLE_OK, "aborted");
	}
	curl_multi_cleanup(ob->multi); /* closes cached connections (POLL_REMOVE) */
	while (ob->socks) {
		struct osock *so = ob->socks;
		loop_del_fd(ob->loop, so->fd);
		list_unlink_sock(ob, so);
		free(so);
	}
	if (ob->timer_id)
		loop_cancel(ob->loop, ob->timer_id);
	free(ob);
}

size_t outbound_pending(const outbound_t *ob)
{
	return ob ? ob->pending : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION of a request with a netns_fd: the socket is
 * made inside that namespace (a socket keeps the namespace it was made in),
 * and the thread comes straight back to its own */
static curl_socket_t open_in_netns(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = clientp;
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return CURL_SOCKET_BAD;
	if (setns(x->netns_fd, CLONE_NEWNET) != 0) {
		close(home);
		return CURL_SOCKET_BAD;
	}
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (setns(home, CLONE_NEWNET) != 0) {
		fprintf(stderr, "lambdad: outbound: cannot return to the daemon's network namespace\n");
		abort();
	}
	close(home);
	return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

int outbound_request(outbound_t *ob, const outbound_req_t *req, outbound_cb cb, void *ud)
{
	int rc = LD_EINVAL;
	struct xfer *x = NULL;

	if (!req->method || !*req->method || !req->url || !*req->url || !cb || ob->closing)
		return LD_EINVAL;
	if (ob->pending >= OUTBOUND_MAX_PENDING)
		return LD_ETOOBIG;
	rc = LD_ENOMEM;
	if (!(x = calloc(1, sizeof *x)))
		goto fail;
	x->ob = ob;
	x->netns_fd = -1;
	x->cb = cb;
	x->ud = ud;
	buf_init(&x->resp, req->max_response ? req->max_response : OUTBOUND_DEFAULT_MAX_RESPONSE);
	if (!(x->curl = curl_easy_init()))
		goto fail;
	for (size_t i = 0; i < req->nheaders; i++) {
		struct curl_slist *l = curl_slist_append(x->headers, req->headers[i]);
		if (!l)
			goto fail;
		x->headers = l;
	}
	/* no "Expect: 100-continue" round trip for large bodies */
	struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
	if (!l)
		goto fail;
	x->headers = l;

	CURL *c = x->curl;
	rc = LD_EINVAL;
	if (curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK)
		goto fail;
	if (req->len || strcmp(req->method, "GET")) {
		rc = LD_ENOMEM;
		if (!(x->body = malloc(req->len ? req->len : 1)))
			goto fail;
		if (req->len)
			memcpy(x->body, req->body, req->len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	if (req->netns_fd > 0) {
		/* another namespace's 127.0.0.1:PORT is another endpoint than
		 * ours or a third's: no connection of the cache may serve it */
		if ((x->netns_fd = fcntl(req->netns_fd, F_DUPFD_CLOEXEC, 3)) < 0)
			goto fail;
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_in_netns);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms ? req->connect_timeout_ms : OUTBOUND_DEFAULT_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : OUTBOUND_DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)x);

	rc = LD_ENOMEM;
	if (curl_multi_add_handle(ob->multi, c) != CURLM_OK)
		goto fail;
	x->next = ob->xfers;
	if (ob->xfers)
		ob->xfers->prev = x;
	ob->xfers = x;
	ob->pending++;
	return 0;
fail:
	xfer_free(x);
	return rc;
}
