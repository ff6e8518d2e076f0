/*
 * main.c - the lambdad command line: `lambdad serve ...`, `lambdad logs NAME`
 * `lambdad keys ...` (auth/keyscli.c) and `lambdad runtime list|install`
 * (exec/runtimecli.c).
 *
 * Parses options, opens the data directory (store, blobs, the key that signs
 * code download URLs), finishes any state transition a crash interrupted,
 * starts the HTTP front on the event loop and runs until SIGTERM or SIGINT,
 * then shuts down cleanly.
 */
#include "api/api.h"
#include "auth/auth.h"
#include "auth/keys.h"
#include "api/gc.h"
#include "api/settle.h"
#include "blobs/blobs.h"
#include "exec/async.h"
#include "exec/destinations.h"
#include "exec/exec.h"
#include "exec/runtimecli.h"
#include "exec/runtimes.h"
#include "http.h"
#include "images/pull.h"
#include "pollers/pollers.h"
#include "loop.h"
#include "model/model.h"
#include "quotas.h"
#include "router.h"
#include "server.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: lambdad keys create|list|delete ... (lambdad keys --help)\n"
	      "       lambdad runtime list|install ... (lambdad runtime --help)\n"
	      "       lambdad logs NAME [--follow] [--data-dir DIR] [--account-id ID] [--region REGION]\n"
	      "       lambdad serve [--listen HOST:PORT] [--data-dir DIR] [--account-id ID]\n"
	      "                     [--region REGION] [--aws-endpoint-url URL]\n"
	      "                     [--account-concurrency N] [--idle-timeout SECONDS] [--python-sdk DIR]\n"
	      "                     [--runtime ID=INTERPRETER]... [--sandbox full|process]\n"
	      "                     [--runtimes-dir DIR] [--async-retry-base-ms N]\n"
	      "                     [--auth enforce|permissive] [--image-registry HOST=URL]...\n"
	      "                     [--mq-broker BROKER-ID-OR-HOST=amqp://HOST:PORT]...\n"
	      "                     [--msk-cluster CLUSTER-ARN-OR-NAME=HOST:PORT[,HOST:PORT...]]...\n"
	      "                     [--kafka-sasl-plaintext]\n"
	      "defaults: --listen 127.0.0.1:9001 --data-dir ./data --account-id 000000000000\n"
	      "          --region us-east-1 --account-concurrency 1000\n"
	      "          --auth permissive on a loopback address, enforce otherwise\n",
	      f);
}

static int load_url_key(server_t *srv)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/url.key", srv->data_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, srv->url_key, sizeof(srv->url_key));
		close(fd);
		if (n == (ssize_t)sizeof(srv->url_key))
			return 0;
	}
	if (ids_random(srv->url_key, sizeof(srv->url_key)))
		return LD_EIO;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return LD_EIO;
	int ok = write(fd, srv->url_key, sizeof(srv->url_key)) == (ssize_t)sizeof(srv->url_key) && fsync(fd) == 0;
	close(fd);
	return ok && rename(tmp, path) == 0 ? 0 : LD_EIO;
}

static void on_signal(void *ud, uint32_t events)
{
	server_t *srv = ud;
	loop_stop(srv->loop);
}

/* HOST:PORT into srv; host is copied into `host` (left untouched in argv) */
static int parse_listen(server_t *srv, const char *arg, char *host, size_t hostlen)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	if (!colon || (size_t)(colon - arg) >= hostlen)
		return LD_EINVAL;
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return LD_EINVAL;
	srv->listen_host = host;
	srv->listen_port = (int)port;
	return 0;
}

/* 127.0.0.0/8, ::1 or localhost: the default mode there is permissive */
static int is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "localhost") || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]");
}

/* Says why --listen ADDRESS cannot be served, in the system's words
 * ("address already in use") and what to do about it. */
static void listen_failed(const char *address, int err, int oserr)
{
	char why[256];
	if (err == LD_EINVAL) {
		fprintf(stderr, "lambdad: cannot listen on %s: the host must be an IPv4 address, e.g. "
			"--listen 127.0.0.1:9001\n", address);
		return;
	}
	snprintf(why, sizeof(why), "%s", oserr ? strerror(oserr) : ld_strerror(err));
	if (why[0] >= 'A' && why[0] <= 'Z')
		why[0] = (char)(why[0] - 'A' + 'a');
	fprintf(stderr, "lambdad: cannot listen on %s: %s%s\n", address, why,
		oserr == EADDRINUSE ? " (another process listens on that port: stop it, or choose another "
				      "with --listen HOST:PORT)"
				    : "");
}

static int serve(int argc, char **argv)
{
	static char host[256];
	server_t srv = { .data_dir = "./data", .account_id = "000000000000", .region = "us-east-1",
			 .account_concurrency = QUOTA_ACCOUNT_CONCURRENCY };
	http_t *http = NULL;
	int sfd = -1, lfd = -1, rc = 1;
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "account-id", required_argument, NULL, 'a' },
		{ "region", required_argument, NULL, 'r' },
		{ "aws-endpoint-url", required_argument, NULL, 'e' },
		{ "account-concurrency", required_argument, NULL, 'c' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "runtime", required_argument, NULL, 'R' },
		{ "sandbox", required_argument, NULL, 's' },
		{ "runtimes-dir", required_argument, NULL, 'D' },
		{ "python-sdk", required_argument, NULL, 'P' },
		{ "async-retry-base-ms", required_argument, NULL, 'B' },
		{ "auth", required_argument, NULL, 'A' },
		{ "image-registry", required_argument, NULL, 'I' },
		{ "mq-broker", required_argument, NULL, 'M' },
		{ "msk-cluster", required_argument, NULL, 'K' },
		{ "kafka-sasl-plaintext", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "127.0.0.1:9001";
	const char *overrides[32] = { NULL };
	static const char *registries[17], *brokers[17], *clusters[17];
	int nrt = 0, nreg = 0, nmq = 0, nmsk = 0, auth = -1;
	static char rtdir[4096];
	struct exec_options xopt = { .idle_timeout_s = 300, .runtimes_dir = NULL, .runtime_overrides = overrides,
				     .sandbox_level = -1 };
	struct async_options aopt = { .retry_base_ms = 60000 };
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'd': srv.data_dir = optarg; break;
		case 'a': srv.account_id = optarg; break;
		case 'r': srv.region = optarg; break;
		case 'e': srv.aws_endpoint = optarg; break;
		case 'c': srv.account_concurrency = atoi(optarg); break;
		case 'i': xopt.idle_timeout_s = atoi(optarg); break;
		case 'R':
			if (nrt < 31)
				overrides[nrt++] = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "full"))
				xopt.sandbox_level = 1;
			else if (!strcmp(optarg, "process"))
				xopt.sandbox_level = 0;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'D': xopt.runtimes_dir = optarg; break;
		case 'P': xopt.python_sdk = optarg; break;
		case 'B': aopt.retry_base_ms = atoi(optarg); break;
		case 'I':
			if (nreg < 16 && strchr(optarg, '='))
				registries[nreg++] = optarg;
			srv.image_registries = registries;
			break;
		case 'M':
			if (nmq >= 16 || !strchr(optarg, '=') || optarg[0] == '=' ||
			    (strncmp(strchr(optarg, '=') + 1, "amqp://", 7))) {
				fprintf(stderr, "lambdad: --mq-broker takes BROKER-ID-OR-HOST=amqp://HOST:PORT (at most 16)\n");
				return 2;
			}
			brokers[nmq++] = optarg;
			srv.mq_brokers = brokers;
			break;
		case 'K':
			if (nmsk >= 16 || !strchr(optarg, '=') || optarg[0] == '=' || !strchr(optarg, '=')[1]) {
				fprintf(stderr, "lambdad: --msk-cluster takes CLUSTER-ARN-OR-NAME=HOST:PORT[,HOST:PORT...] "
						"(at most 16)\n");
				return 2;
			}
			clusters[nmsk++] = optarg;
			srv.msk_clusters = clusters;
			break;
		case 'Q': /* Kafka SASL without TLS (pollers/kafkaauth.h) */
			srv.kafka_sasl_plaintext = 1;
			break;
		case 'A':
			if (!strcmp(optarg, "enforce"))
				auth = AUTH_ENFORCE;
			else if (!strcmp(optarg, "permissive"))
				auth = AUTH_PERMISSIVE;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (parse_listen(&srv, listen, host, sizeof(host))) {
		fprintf(stderr, "lambdad: bad --listen address '%s'\n", listen);
		return 2;
	}
	srv.auth_mode = auth >= 0 ? auth : is_loopback(srv.listen_host) ? AUTH_PERMISSIVE : AUTH_ENFORCE;
	/* the port first: a second server started by mistake stops here, before
	 * it touches the data directory (and its queue) of the first */
	int oserr = 0, err = http_listen(&srv, &lfd, &oserr);
	if (err) {
		listen_failed(listen, err, oserr);
		return 1;
	}
	if (mkdir(srv.data_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "lambdad: cannot create %s: %s\n", srv.data_dir, strerror(errno));
		close(lfd);
		return 1;
	}
	if (model_load() || router_init()) {
		fprintf(stderr, "lambdad: the embedded API model does not load\n");
		close(lfd);
		return 1;
	}
	if (loop_new(&srv.loop) || store_open("sqlite", srv.data_dir, &srv.store) ||
	    blobs_open(srv.data_dir, &srv.blobs) || load_url_key(&srv) || keys_open(srv.data_dir, &srv.keys)) {
		fprintf(stderr, "lambdad: cannot open the data directory %s\n", srv.data_dir);
		goto out;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || loop_add_fd(srv.loop, sfd, EPOLLIN, on_signal, &srv))
		goto out;
	if (!xopt.runtimes_dir) {
		/* the runtime clients live in runtimes/ at the top of the tree the
		 * binary was built in (build/lambdad, build/test/lambdad) */
		if (runtimes_locate(rtdir, sizeof(rtdir)) == 0)
			xopt.runtimes_dir = rtdir;
		if (!xopt.runtimes_dir)
			fprintf(stderr, "lambdad: runtimes/ not found beside the binary; use --runtimes-dir\n");
	}
	if (exec_start(&srv, &xopt)) {
		fprintf(stderr, "lambdad: cannot start the execution service\n");
		goto out;
	}
	/* after exec_start reaped a previous run's environments, before anything
	 * can run or pull: what no record references goes */
	struct gc_stats gs;
	if (gc_collect(&srv, &gs) == 0 && (gs.blobs || gs.code_dirs || gs.layers))
		fprintf(stderr, "lambdad: removed %d unreferenced code archives (%llu bytes), %d code trees, %d image layers\n",
			gs.blobs, gs.bytes, gs.code_dirs, gs.layers);
	/* after exec_start: settling decides whether this host can run a
	 * function's runtime */
	if (settle_recover(&srv))
		fprintf(stderr, "lambdad: warning: completing the transitions a crash interrupted failed\n");
	/* reservations and provisioned environments, before anything runs */
	if (concurrency_restore(&srv))
		fprintf(stderr, "lambdad: warning: restoring concurrency settings failed\n");
	if (async_start(&srv, &aopt)) {
		fprintf(stderr, "lambdad: cannot resume the async queue\n");
		goto out;
	}
	if (pollers_start(&srv))
		fprintf(stderr, "lambdad: warning: starting the event source pollers failed\n");
	else if (pollers_count(&srv))
		fprintf(stderr, "lambdad: %d event source mappings polled\n", pollers_count(&srv));
	err = http_start(&srv, lfd, &http);
	lfd = -1; /* the front's now */
	if (err) {
		fprintf(stderr, "lambdad: cannot serve HTTP on %s:%d: %s\n", srv.listen_host, srv.listen_port,
			ld_strerror(err));
		goto out;
	}
	srv.started_ms = loop_wall_ms();
	if (srv.auth_mode == AUTH_ENFORCE)
		fprintf(stderr, "lambdad: auth: enforce (every API request must be signed by a key of %s/auth; %zu keys%s)\n",
			srv.data_dir, keys_count(srv.keys),
			keys_count(srv.keys) ? "" : ": create one with `lambdad keys create --account-id ID`");
	else
		fprintf(stderr, "lambdad: auth: permissive (signatures are not verified; unsigned requests act as "
			"account %s; do not expose this server to a network)\n", srv.account_id);
	fprintf(stderr, "lambdad: listening on http://%s:%d (data %s, account %s, region %s)\n",
		srv.listen_host, srv.listen_port, srv.data_dir, srv.account_id, srv.region);
	rc = loop_run(srv.loop) ? 1 : 0;
	fprintf(stderr, "lambdad: shutting down\n");
out:
	async_stop(&srv); /* queued events stay in the store */
	pollers_stop(&srv); /* before exec_stop and dest_shutdown: what they answer finds its poller stopped */
	dest_shutdown(&srv); /* deliveries in flight end (LD_EREMOTE) while the loop exists */
	pull_stop(&srv); /* image pulls in flight end; their functions stay Pending until the next start */
	exec_stop(&srv); /* answers invocations still waiting, before the front stops */
	async_free(&srv); /* nothing calls back into the queue any more */
	http_stop(http);
	if (lfd >= 0)
		close(lfd);
	if (sfd >= 0) {
		loop_del_fd(srv.loop, sfd);
		close(sfd);
	}
	store_close(srv.store);
	blobs_close(srv.blobs);
	keys_close(srv.keys);
	loop_free(srv.loop);
	model_unload();
	return rc;
}

/* ---- lambdad logs NAME [--follow] ---- */

struct logfile {
	char path[4096];
	time_t mtime;
};

static int by_mtime(const void *a, const void *b)
{
	const struct logfile *x = a, *y = b;
	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* copies what file f has beyond *pos to stdout */
static void dump_from(const char *path, off_t *pos)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fseeko(f, *pos, SEEK_SET) == 0) {
		char buf[8192];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			fwrite(buf, 1, n, stdout);
			*pos += (off_t)n;
		}
	}
	fclose(f);
	fflush(stdout);
}

/* Without --data-dir, `lambdad logs` looks in ./data (the default of serve,
 * when run from the same directory) and in the data directory of every
 * `lambdad serve` running on this machine, which it reads from /proc: the
 * server's --data-dir (default ./data) resolved against the server's working
 * directory. The one of them holding the function's logs is used. */
enum { LOGS_MAXDIRS = 16 };

struct datadir {
	char path[PATH_MAX]; /* canonical */
	char how[96];        /* how it was found, for messages */
	int has;             /* DATA/logs/ACCOUNT:REGION/NAME is a directory */
};

/* adds path (once) when it is a directory; has: it holds logs/SUB */
static void add_datadir(struct datadir *d, int *n, const char *path, const char *how, const char *sub)
{
	char real[PATH_MAX], logs[PATH_MAX + 512];
	struct stat st;
	if (*n >= LOGS_MAXDIRS || !realpath(path, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	for (int i = 0; i < *n; i++)
		if (!strcmp(d[i].path, real))
			return;
	memcpy(d[*n].path, real, sizeof(real));
	snprintf(d[*n].how, sizeof(d[*n].how), "%s", how);
	snprintf(logs, sizeof(logs), "%s/logs/%s", real, sub);
	d[*n].has = stat(logs, &st) == 0 && S_ISDIR(st.st_mode);
	(*n)++;
}

/* The --data-dir of process pid if it is a `lambdad serve`, made absolute
 * with its working directory (readable for the user's own processes). */
static int server_data_dir(const char *pid, char *out, size_t cap)
{
	char path[64], args[8192], cwd[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%.20s/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t len = read(fd, args, sizeof(args) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	args[len] = '\0';
	const char *end = args + len, *arg0 = args, *arg1 = args + strlen(args) + 1;
	const char *base = strrchr(arg0, '/');
	if (strcmp(base ? base + 1 : arg0, "lambdad") || arg1 >= end || strcmp(arg1, "serve"))
		return -1;
	const char *dir = "./data";
	for (const char *a = arg1; a < end; a += strlen(a) + 1) {
		if (!strncmp(a, "--data-dir=", 11))
			dir = a + 11;
		else if (!strcmp(a, "--data-dir") && a + strlen(a) + 1 < end)
			dir = a + strlen(a) + 1;
	}
	if (dir[0] == '/') {
		snprintf(out, cap, "%s", dir);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%.20s/cwd", pid);
	ssize_t n = readlink(path, cwd, sizeof(cwd) - 1);
	if (n <= 0)
		return -1;
	cwd[n] = '\0';
	snprintf(out, cap, "%s/%s", cwd, dir);
	return 0;
}

static void list_datadirs(const struct datadir *d, int n, int only_has)
{
	for (int i = 0; i < n; i++)
		if (!only_has || d[i].has)
			fprintf(stderr, "  %s (%s)\n", d[i].path, d[i].how);
}

/* Chooses the data directory for NAME's logs into dir (DATA/logs/...);
 * 0, or 1 after saying on stderr where it looked and what to do. */
static int find_logs_dir(const char *name, const char *account, const char *region, int follow, char *dir,
			 size_t cap)
{
	static struct datadir d[LOGS_MAXDIRS];
	int n = 0, has = 0, pick = -1;
	char here[PATH_MAX], sub[512];
	snprintf(sub, sizeof(sub), "%s:%s/%s", account, region, name);
	add_datadir(d, &n, "./data", "./data here", sub);
	DIR *proc = opendir("/proc");
	struct dirent *e;
	while (proc && (e = readdir(proc))) {
		char path[PATH_MAX + 64], how[96];
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || server_data_dir(e->d_name, path, sizeof(path)))
			continue;
		snprintf(how, sizeof(how), "the data directory of `lambdad serve`, pid %.20s", e->d_name);
		add_datadir(d, &n, path, how, sub);
	}
	if (proc)
		closedir(proc);
	for (int i = 0; i < n; i++)
		if (d[i].has) {
			has++;
			pick = i;
		}
	if (has == 0 && follow && n == 1)
		pick = 0; /* the function may not have run yet */
	if (has > 1) {
		fprintf(stderr, "lambdad: %s has logs in several data directories:\n", name);
		list_datadirs(d, n, 1);
		fprintf(stderr, "choose one with --data-dir DIR\n");
		return 1;
	}
	if (pick < 0 && n == 0) {
		if (!getcwd(here, sizeof(here)))
			snprintf(here, sizeof(here), ".");
		fprintf(stderr, "lambdad: no logs for %s: there is no ./data in %s and no `lambdad serve` is running "
			"to ask for its data directory; pass the server's --data-dir DIR\n", name, here);
		return 1;
	}
	if (pick < 0) {
		fprintf(stderr, "lambdad: no logs for %s (account %s, region %s) in logs/%s of:\n", name, account,
			region, sub);
		list_datadirs(d, n, 0);
		fprintf(stderr, "pass the server's --data-dir DIR, or --account-id ID / --region REGION if the "
			"function is in another account or region\n");
		return 1;
	}
	snprintf(dir, cap, "%s/logs/%s", d[pick].path, sub);
	return 0;
}

/* Prints a function's log streams (the .log files of DATA/logs/ACCOUNT:REGION/NAME),
 * oldest first; --follow keeps printing what is appended (bounded by the
 * number of streams it tracks, polling every 200 ms until interrupted). */
static int logs(int argc, char **argv)
{
	const char *data_dir = NULL, *account = "000000000000", *region = "us-east-1", *name = NULL;
	int follow = 0, c;
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' }, { "account-id", required_argument, NULL, 'a' },
		{ "region", required_argument, NULL, 'r' },   { "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'a': account = optarg; break;
		case 'r': region = optarg; break;
		case 'f': follow = 1; break;
		default:
			fputs("usage: lambdad keys create|list|delete ... (lambdad keys --help)\n"
	      "       lambdad logs NAME [--follow] [--data-dir DIR] [--account-id ID] [--region R]\n", stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs("usage: lambdad keys create|list|delete ... (lambdad keys --help)\n"
	      "       lambdad logs NAME [--follow] [--data-dir DIR] [--account-id ID] [--region R]\n", stderr);
		return 2;
	}
	name = argv[optind];
	char dir[PATH_MAX + 512]; /* DATA/logs/ACCOUNT:REGION/NAME */
	if (data_dir)
		snprintf(dir, sizeof(dir), "%s/logs/%s:%s/%s", data_dir, account, region, name);
	else if (find_logs_dir(name, account, region, follow, dir, sizeof(dir)))
		return 1;
	enum { MAXF = 4096 };
	static struct logfile files[MAXF];
	static off_t pos[MAXF];
	int nfiles = 0;
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d)) && nfiles < MAXF) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof(path), "%.3000s/%.1024s", dir, e->d_name);
			int known = 0;
			for (int i = 0; i < nfiles && !known; i++)
				known = !strcmp(files[i].path, path);
			struct stat st;
			if (!known && stat(path, &st) == 0) {
				snprintf(files[nfiles].path, sizeof(files[nfiles].path), "%s", path);
				files[nfiles].mtime = st.st_mtime;
				pos[nfiles++] = 0;
			}
		}
		if (d)
			closedir(d);
		else if (!follow) {
			fprintf(stderr, "lambdad: no logs for %s in %s\n", name, dir);
			return 1;
		}
		if (!follow) {
			qsort(files, (size_t)nfiles, sizeof(files[0]), by_mtime);
			for (int i = 0; i < nfiles; i++)
				dump_from(files[i].path, &pos[i]);
			return 0;
		}
		for (int i = 0; i < nfiles; i++)
			dump_from(files[i].path, &pos[i]);
		usleep(200 * 1000);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return serve(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "logs"))
		return logs(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "keys"))
		return keys_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "image-pull"))
		return pull_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "runtime"))
		return runtimecli_main(argc - 1, argv + 1);
	usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return 2;
}
