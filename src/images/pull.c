/*
 * pull.c - image pulls in child processes (pull.h).
 */
#include "images/pull.h"
#include "images/registry.h"
#include "loop.h"
#include "util/buf.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define PULL_OUTPUT_MAX (1024 * 1024) /* the child's JSON line */
#define PULL_MAX_MAPS 16

extern char **environ;

struct waiter {
	struct waiter *next;
	pull_done_fn done;
	void *ud;
};

struct pull {
	struct pull *next;
	server_t *srv;
	char uri[1024], arch[16];
	pid_t pid;
	int fd;
	buf_t out;
	struct waiter *waiters;
};

struct pulls {
	struct pull *list;
};

static struct pulls *state(server_t *srv)
{
	if (!srv->pulls)
		srv->pulls = calloc(1, sizeof(struct pulls));
	return srv->pulls;
}

static void finish(struct pull *p)
{
	server_t *srv = p->srv;
	struct pulls *ps = srv->pulls;
	for (struct pull **pp = &ps->list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	loop_del_fd(srv->loop, p->fd);
	close(p->fd);
	int status = 0;
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	json_t *res = p->out.len ? json_loadb(p->out.data, p->out.len, 0, NULL) : NULL;
	if (!json_is_object(res)) {
		json_decref(res);
		res = json_pack("{s:s,s:s}", "error", "InvalidImage", "message",
				"the image could not be pulled (the pull process failed)");
	}
	for (struct waiter *w = p->waiters, *next; w; w = next) {
		next = w->next;
		w->done(srv, w->ud, res);
		free(w);
	}
	json_decref(res);
	buf_free(&p->out);
	free(p);
}

static void on_output(void *ud, uint32_t events)
{
	struct pull *p = ud;
	char chunk[16384];
	for (;;) {
		ssize_t n = read(p->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			buf_append(&p->out, chunk, (size_t)n); /* past the cap: the JSON is cut, and refused */
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			finish(p);
		return;
	}
}

int pull_start(server_t *srv, const char *uri, const char *arch, pull_done_fn done, void *ud)
{
	struct pulls *ps = state(srv);
	struct waiter *w = calloc(1, sizeof(*w));
	if (!ps || !w) {
		free(w);
		return LD_ENOMEM;
	}
	w->done = done;
	w->ud = ud;
	for (struct pull *p = ps->list; p; p = p->next)
		if (!strcmp(p->uri, uri) && !strcmp(p->arch, arch)) {
			w->next = p->waiters;
			p->waiters = w;
			return 0;
		}
	struct pull *p = calloc(1, sizeof(*p));
	int fds[2] = { -1, -1 };
	if (!p || pipe2(fds, O_CLOEXEC) != 0) {
		free(p);
		free(w);
		return LD_EIO;
	}
	p->srv = srv;
	snprintf(p->uri, sizeof(p->uri), "%s", uri);
	snprintf(p->arch, sizeof(p->arch), "%s", arch);
	buf_init(&p->out, PULL_OUTPUT_MAX);
	const char *argv[8 + 2 * PULL_MAX_MAPS] = { "lambdad", "image-pull", "--data-dir", srv->data_dir, "--arch", arch };
	int k = 6;
	for (int i = 0; srv->image_registries && srv->image_registries[i] && i < PULL_MAX_MAPS; i++) {
		argv[k++] = "--image-registry";
		argv[k++] = srv->image_registries[i];
	}
	argv[k++] = uri;
	argv[k] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	int rc = posix_spawn(&p->pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		buf_free(&p->out);
		free(p);
		free(w);
		return LD_EIO;
	}
	p->fd = fds[0];
	fcntl(p->fd, F_SETFL, O_NONBLOCK);
	p->waiters = w;
	p->next = ps->list;
	ps->list = p;
	loop_add_fd(srv->loop, p->fd, EPOLLIN, on_output, p);
	return 0;
}

void pull_stop(server_t *srv)
{
	struct pulls *ps = srv->pulls;
	if (!ps)
		return;
	for (struct pull *p = ps->list, *next; p; p = next) {
		next = p->next;
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		loop_del_fd(srv->loop, p->fd);
		close(p->fd);
		for (struct waiter *w = p->waiters, *wn; w; w = wn) {
			wn = w->next;
			w->done(srv, w->ud, NULL); /* abandoned: only its ud is let go */
			free(w);
		}
		buf_free(&p->out);
		free(p);
	}
	free(ps);
	srv->pulls = NULL;
}

int pull_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "arch", required_argument, NULL, 'a' },
		{ "image-registry", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *maps[PULL_MAX_MAPS + 1] = { NULL };
	struct registry_opts o = { .arch = "x86_64", .maps = maps };
	int nmaps = 0, c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			o.data_dir = optarg;
		else if (c == 'a')
			o.arch = optarg;
		else if (c == 'm' && nmaps < PULL_MAX_MAPS)
			maps[nmaps++] = optarg;
		else
			return 2;
	}
	if (!o.data_dir || optind != argc - 1) {
		fprintf(stderr, "usage: lambdad image-pull --data-dir DIR [--arch x86_64|arm64] "
				"[--image-registry HOST=URL]... IMAGE_URI\n");
		return 2;
	}
	o.uri = argv[optind];
	json_t *res = NULL;
	if (registry_pull(&o, &res))
		return 1;
	char *text = json_dumps(res, JSON_COMPACT);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(res);
	return 0;
}
