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
#include "api/cwlogs.h"
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
#include "logs/logstore.h"
#include "loop.h"
#include "metrics/metrics.h"
#include "model/model.h"
#include "quotas.h"
#include "router.h"
#include "server.h"
#include "store/store.h"
#include "util/disk.h"
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
	      "                     [--logs-max-bytes N] [--logs-env-rate BYTES-PER-SECOND] [--logs-sweep-ms N]\n"
	      "                     [--disk-reserve BYTES|N%]\n"
	      "                     [--metrics-listen HOST:PORT]\n"
	      "                     [--max-connections N] [--max-connections-per-address N]\n"
	      "                     [--header-timeout SECONDS] [--min-body-rate BYTES-PER-SECOND]\n"
	      "                     [--kafka-sasl-plaintext] [--function-network host|isolated]\n"
	      "                     [--function-cpu proportional|unlimited]\n"
	      "                     [--max-body-memory BYTES]\n"
	      "                     [--store sqlite|postgresql://USER@HOST:PORT/DB]\n"
	      "defaults: --listen 127.0.0.1:9001 --data-dir ./data --account-id 000000000000\n"
	      "          --region us-east-1 --account-concurrency 1000\n"
	      "          --logs-max-bytes 1073741824 (1 GiB) --logs-env-rate 2097152 --logs-sweep-ms 600000\n"
	      "          --disk-reserve 67108864 (64 MB; at most 10% of the data directory's file system)\n"
	      "          --max-connections 4000 --max-connections-per-address 256 (0: no cap)\n"
	      "          --header-timeout 10 --min-body-rate 500 (0: off)\n"
	      "          --max-body-memory 268435456 (256 MiB; larger bodies go to files)\n"
	      "          --store sqlite (DATA/lambdad.db)\n"
	      "          --auth permissive on a loopback address, enforce otherwise\n"
	      "          --function-network isolated under --auth enforce, host otherwise\n"
	      "          --function-cpu proportional under --auth enforce, unlimited otherwise\n",
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
	http_t *http = NULL, *mhttp = NULL;
	int sfd = -1, lfd = -1, mfd = -1, rc = 1;
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
		{ "function-network", required_argument, NULL, 'N' },
		{ "runtimes-dir", required_argument, NULL, 'D' },
		{ "python-sdk", required_argument, NULL, 'P' },
		{ "async-retry-base-ms", required_argument, NULL, 'B' },
		{ "auth", required_argument, NULL, 'A' },
		{ "image-registry", required_argument, NULL, 'I' },
		{ "mq-broker", required_argument, NULL, 'M' },
		{ "msk-cluster", required_argument, NULL, 'K' },
		{ "logs-max-bytes", required_argument, NULL, 'L' },
		{ "logs-env-rate", required_argument, NULL, 'E' },
		{ "logs-sweep-ms", required_argument, NULL, 'S' },
		{ "disk-reserve", required_argument, NULL, 'X' },
		{ "metrics-listen", required_argument, NULL, 'm' },
		{ "kafka-sasl-plaintext", no_argument, NULL, 'Q' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "max-connections-per-address", required_argument, NULL, 'p' },
		{ "header-timeout", required_argument, NULL, 'H' },
		{ "min-body-rate", required_argument, NULL, 'b' },
		{ "function-cpu", required_argument, NULL, 'U' },
		{ "max-body-memory", required_argument, NULL, 'Y' },
		{ "store", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = "127.0.0.1:9001", *store = "sqlite";
	const char *overrides[32] = { NULL };
	static const char *registries[17], *brokers[17], *clusters[17];
	int nrt = 0, nreg = 0, nmq = 0, nmsk = 0, auth = -1;
	static char rtdir[4096];
	struct exec_options xopt = { .idle_timeout_s = 300, .runtimes_dir = NULL, .runtime_overrides = overrides,
				     .sandbox_level = -1, .cpu_proportional = -1 };
	struct async_options aopt = { .retry_base_ms = 60000 };
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'd': srv.data_dir = optarg; break;
		case 'a': srv.account_id = optarg; break;
		case 'r': srv.region = optarg; break;
		case 'e': srv.aws_endpoint = optarg; break;
		case 'm': srv.metrics_listen = optarg; break;
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
		case 'N':
			if (strcmp(optarg, "host") && strcmp(optarg, "isolated")) {
				usage(stderr);
				return 2;
			}
			xopt.function_network = !strcmp(optarg, "isolated") ? EXEC_NET_ISOLATED : EXEC_NET_HOST;
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
		case 'L':
		case 'E':
		case 'S': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || end == optarg || !v || (c == 'S' && v > 86400000ull) ||
			    (c == 'L' && v < 65536)) {
				fprintf(stderr, "lambdad: --%s takes a positive number%s\n",
					c == 'L' ? "logs-max-bytes" : c == 'E' ? "logs-env-rate" : "logs-sweep-ms",
					c == 'L' ? " of bytes, at least 65536" : "");
				return 2;
			}
			if (c == 'L')
				srv.logs_max_bytes = v;
			else if (c == 'E')
				srv.logs_env_rate = v;
			else
				srv.logs_sweep_ms = (int)v;
			break;
		}
		case 'X': {
			uint64_t bytes;
			if (disk_parse_reserve(optarg, &bytes, &srv.disk_reserve_pct)) {
				fprintf(stderr, "lambdad: --disk-reserve takes a number of bytes or a percentage up to 50%%\n");
				return 2;
			}
			srv.disk_reserve = bytes;
			break;
		}
		case 'C':
		case 'p':
		case 'H':
		case 'b': {
			/* connection slots (http.h); 0 turns a cap or deadline off,
			 * except --max-connections */
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < (c == 'C') || v > 1000000) {
				fprintf(stderr, "lambdad: --%s takes a number%s\n",
					c == 'C' ? "max-connections" : c == 'p' ? "max-connections-per-address" :
					c == 'H' ? "header-timeout" : "min-body-rate", c == 'C' ? " from 1" : " (0: off)");
				return 2;
			}
			int *to = c == 'C' ? &srv.max_connections : c == 'p' ? &srv.max_connections_per_address :
				  c == 'H' ? &srv.header_timeout_s : &srv.min_body_rate;
			*to = c == 'C' ? (int)v : v ? (int)v : -1;
			break;
		}
		case 'U':
			if (!strcmp(optarg, "proportional") || !strcmp(optarg, "unlimited")) {
				xopt.cpu_proportional = optarg[0] == 'p';
			} else {
				usage(stderr);
				return 2;
			}
			break;
		case 'Y': { /* request bodies held in memory at once (http.c) */
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || end == optarg || !v || optarg[0] == '-') {
				fprintf(stderr, "lambdad: --max-body-memory takes a positive number of bytes\n");
				return 2;
			}
			srv.max_body_memory = v;
			break;
		}
		case 'g': /* the metadata store: sqlite or a PostgreSQL conninfo (store/store.h) */
			store = optarg;
			if (strcmp(store, "sqlite") && strncmp(store, "postgresql://", 13) &&
			    strncmp(store, "postgres://", 11) && !strchr(store, '=')) {
				fprintf(stderr, "lambdad: bad --store '%s': sqlite, or a PostgreSQL URI "
					"postgresql://USER@HOST:PORT/DB\n", store);
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
	if (xopt.cpu_proportional < 0) /* a shared deployment shares the CPU as Lambda does */
		xopt.cpu_proportional = srv.auth_mode == AUTH_ENFORCE;
	if (xopt.function_network == EXEC_NET_DEFAULT)
		xopt.function_network = srv.auth_mode == AUTH_ENFORCE ? EXEC_NET_ISOLATED_OR_HOST : EXEC_NET_HOST;
	/* the port first: a second server started by mistake stops here, before
	 * it touches the data directory (and its queue) of the first */
	int oserr = 0, err = http_listen(&srv, &lfd, &oserr);
	if (err) {
		listen_failed(listen, err, oserr);
		return 1;
	}
	/* --metrics-listen: GET /metrics alone, unauthenticated (docs/metrics.md) */
	static char mhost[256];
	int mport = 0;
	if (srv.metrics_listen) {
		const char *colon = strrchr(srv.metrics_listen, ':');
		char *end = NULL;
		long p = colon ? strtol(colon + 1, &end, 10) : -1;
		if (!colon || colon == srv.metrics_listen || (size_t)(colon - srv.metrics_listen) >= sizeof(mhost) ||
		    !colon[1] || *end || p < 0 || p > 65535) {
			fprintf(stderr, "lambdad: bad --metrics-listen address '%s' (HOST:PORT)\n", srv.metrics_listen);
			close(lfd);
			return 2;
		}
		snprintf(mhost, sizeof(mhost), "%.*s", (int)(colon - srv.metrics_listen), srv.metrics_listen);
		mport = (int)p;
		if ((err = http_listen_addr(mhost, &mport, &mfd, &oserr))) {
			listen_failed(srv.metrics_listen, err, oserr);
			close(lfd);
			return 1;
		}
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
	if (loop_new(&srv.loop) || disk_open(srv.data_dir,
						  &(struct disk_reserve){ srv.disk_reserve, srv.disk_reserve_pct,
									  QUOTA_DISK_RESERVE, QUOTA_DISK_RESERVE_PCT },
						  &srv.disk) ||
	    store_open(store, srv.data_dir, &srv.store) || blobs_open(srv.data_dir, &srv.blobs) ||
	    load_url_key(&srv) || keys_open(srv.data_dir, &srv.keys) ||
	    logstore_open(srv.data_dir, &(struct logstore_opts){ .max_bytes = srv.logs_max_bytes, .disk = srv.disk },
			  &srv.logs)) {
		fprintf(stderr, "lambdad: cannot open the data directory %s\n", srv.data_dir);
		goto out;
	}
	srv.store->disk = srv.disk; /* out-of-space reports of the store and the blobs */
	blobs_use_disk(srv.blobs, srv.disk);
	/* LAMBDAD_METRICS_MAX_SERIES lowers the series cap (tests of the cap) */
	const char *cap = getenv("LAMBDAD_METRICS_MAX_SERIES");
	if (metrics_open(srv.data_dir, cap ? (size_t)strtoul(cap, NULL, 10) : 0, &srv.metrics) ||
	    metrics_start(srv.metrics, srv.loop)) {
		fprintf(stderr, "lambdad: cannot open the metrics of %s\n", srv.data_dir);
		goto out;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the system's zone named explicitly: with TZ unset glibc stats
	 * /etc/localtime at every mktime (libarchive makes one per zip entry
	 * scanned), with TZ set it reads it once */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
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
	cwlogs_start(&srv);
	http_raise_nofile(&srv);
	err = http_start(&srv, lfd, &http);
	if (!err) {
		srv.http = http;
		srv.api_adopt = http_adopt;
	}
	lfd = -1; /* the front's now */
	if (err) {
		fprintf(stderr, "lambdad: cannot serve HTTP on %s:%d: %s\n", srv.listen_host, srv.listen_port,
			ld_strerror(err));
		goto out;
	}
	if (mfd >= 0) {
		err = http_start_metrics(&srv, mfd, &mhttp);
		mfd = -1;
		if (err) {
			fprintf(stderr, "lambdad: cannot serve /metrics on %s: %s\n", srv.metrics_listen, ld_strerror(err));
			goto out;
		}
		fprintf(stderr, "lambdad: metrics: GET http://%s:%d/metrics (unauthenticated)\n", mhost, mport);
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
	cwlogs_stop(&srv);
	srv.http = NULL;
	srv.api_adopt = NULL;
	http_stop(http);
	http_stop(mhttp);
	metrics_close(srv.metrics); /* saved, after the last invocation ended */
	srv.metrics = NULL;
	if (lfd >= 0)
		close(lfd);
	if (mfd >= 0)
		close(mfd);
	if (sfd >= 0) {
		loop_del_fd(srv.loop, sfd);
		close(sfd);
	}
	store_close(srv.store);
	blobs_close(srv.blobs);
	keys_close(srv.keys);
	logstore_close(srv.logs); /* after exec_stop: environments' last lines are in */
	disk_close(srv.disk);
	loop_free(srv.loop);
	model_unload();
	return rc;
}

/* ---- lambdad logs NAME [--follow] ---- */

struct followed {
	char name[LOGSTORE_NAME_MAX + 1];
	struct logstore_pos pos;
};

static int by_creation(const void *a, const void *b)
{
	struct logstore_stream_info x, y;
	logstore_stream_info(*(ls_stream_t *const *)a, &x);
	logstore_stream_info(*(ls_stream_t *const *)b, &y);
	if (x.created != y.created)
		return x.created < y.created ? -1 : 1;
	return strcmp(x.name, y.name);
}

/* prints the events of s after *pos, moving *pos past them */
static void print_stream(logstore_t *ls, ls_stream_t *s, struct logstore_pos *pos)
{
	logstore_cursor_t *c;
	struct logstore_event ev;
	struct logstore_pos next;
	if (logstore_cursor_open(ls, s, *pos, 0, -1, &c))
		return;
	while (logstore_cursor_next(c, &ev, NULL, &next) == 1) {
		fwrite(ev.msg, 1, ev.len, stdout);
		if (!ev.len || ev.msg[ev.len - 1] != '\n')
			fputc('\n', stdout);
		*pos = next;
	}
	logstore_cursor_close(c);
	fflush(stdout);
}

/* One pass over group NAME of DATA's store: every stream oldest first, each
 * from where the last pass left it (f, *nf: at most cap streams followed).
 * 0, or 1 when the group is not there. */
static int logs_pass(const char *data, const char *scope, const char *group, struct followed *f, int *nf, int cap)
{
	logstore_t *ls;
	struct logstore_opts o = { .readonly = 1, .only_scope = scope, .only_group = group };
	if (logstore_open(data, &o, &ls))
		return 1;
	ls_group_t *g = logstore_group(ls, scope, group);
	if (!g) {
		logstore_close(ls);
		return 1;
	}
	ls_stream_t **v;
	size_t n = logstore_streams(g, &v);
	if (n)
		qsort(v, n, sizeof(*v), by_creation);
	for (size_t i = 0; i < n; i++) {
		struct logstore_stream_info si;
		logstore_stream_info(v[i], &si);
		int k;
		for (k = 0; k < *nf && strcmp(f[k].name, si.name); k++)
			;
		if (k == *nf) {
			if (*nf >= cap)
				continue;
			snprintf(f[k].name, sizeof(f[k].name), "%s", si.name);
			f[k].pos = (struct logstore_pos){ 0, 0 };
			(*nf)++;
		}
		print_stream(ls, v[i], &f[k].pos);
	}
	free(v);
	logstore_close(ls);
	return 0;
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
	int has;             /* DATA/logs/ACCOUNT:REGION/<group> holds the function's log group */
};

/* adds path (once) when it is a directory; has: it holds logs/SUB/.group */
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
	snprintf(logs, sizeof(logs), "%s/logs/%s/.group", real, sub);
	d[*n].has = stat(logs, &st) == 0 && S_ISREG(st.st_mode);
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
	char here[PATH_MAX], sub[512], group[LOGSTORE_NAME_MAX + 16], enc[201];
	snprintf(group, sizeof(group), "/aws/lambda/%s", name);
	logstore_dirname(group, enc);
	snprintf(sub, sizeof(sub), "%s:%s/%s", account, region, enc);
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
		fprintf(stderr, "lambdad: no logs for %s (log group %s, account %s, region %s) in logs/%s of:\n", name,
			group, account, region, sub);
		list_datadirs(d, n, 0);
		fprintf(stderr, "pass the server's --data-dir DIR, or --account-id ID / --region REGION if the "
			"function is in another account or region\n");
		return 1;
	}
	snprintf(dir, cap, "%s", d[pick].path);
	return 0;
}

/* Prints a function's log group /aws/lambda/NAME from the log store of the
 * data directory, its streams oldest first; --follow keeps printing what is
 * appended (at most LOGS_FOLLOWED streams, reading the store every 200 ms
 * until interrupted). */
enum { LOGS_FOLLOWED = 4096 };

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
	char dir[PATH_MAX + 512], scope[96], group[LOGSTORE_NAME_MAX + 16];
	snprintf(scope, sizeof(scope), "%s:%s", account, region);
	snprintf(group, sizeof(group), "/aws/lambda/%s", name);
	if (data_dir)
		snprintf(dir, sizeof(dir), "%s", data_dir);
	else if (find_logs_dir(name, account, region, follow, dir, sizeof(dir)))
		return 1;
	static struct followed f[LOGS_FOLLOWED];
	int nf = 0;
	if (!follow) {
		if (logs_pass(dir, scope, group, f, &nf, LOGS_FOLLOWED)) {
			fprintf(stderr, "lambdad: no logs for %s (log group %s) in %s/logs/%s\n", name, group, dir, scope);
			return 1;
		}
		return 0;
	}
	for (;;) {
		logs_pass(dir, scope, group, f, &nf, LOGS_FOLLOWED);
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
