/*
 * server.h - the daemon's configuration and the state every handler shares.
 *
 * There is one server_t per process, created by main.c and passed to every
 * request through req_t. All fields are owned by main.c and live until exit.
 */
#ifndef LD_SERVER_H
#define LD_SERVER_H

#include <stdint.h>

struct loop;
struct store;
struct blobs;
struct keys;
struct exec;
struct async;
struct outbound;
struct logstore;
struct cwlogs;
struct metrics;
struct disk;
struct http;

typedef struct server {
	/* configuration */
	const char *listen_host;     /* "127.0.0.1" */
	int listen_port;             /* 9001 */
	const char *data_dir;
	const char *account_id;      /* default account, "000000000000" */
	const char *region;          /* default region, "us-east-1" */
	const char *aws_endpoint;    /* --aws-endpoint-url, or NULL */
	int account_concurrency;     /* account concurrency limit (1000) */
	int auth_mode;               /* AUTH_ENFORCE or AUTH_PERMISSIVE (auth/auth.h) */
	const char *const *image_registries; /* --image-registry HOST=URL mappings, NULL-terminated (images/registry.h) */
	const char *const *msk_clusters; /* --msk-cluster CLUSTER=HOST:PORT[,...] mappings, NULL-terminated (pollers/kafka.c) */
	unsigned long long logs_max_bytes; /* --logs-max-bytes: the log store's cap (logs/logstore.h), 0: default */
	unsigned long long logs_env_rate;  /* --logs-env-rate: bytes/s of output one environment may log (exec/envlog.c), 0: default */
	int logs_sweep_ms;           /* --logs-sweep-ms: how often retention is enforced (api/cwlogs.c), 0: default */
	unsigned long long disk_reserve; /* --disk-reserve BYTES, 0: a percentage or the default (util/disk.h) */
	unsigned disk_reserve_pct;   /* --disk-reserve N%, 0: bytes or the default */
	int kafka_sasl_plaintext;        /* --kafka-sasl-plaintext: Kafka SASL without TLS (pollers/kafkaauth.h) */
	const char *const *mq_brokers; /* --mq-broker KEY=amqp://HOST:PORT mappings, NULL-terminated (pollers/rabbitmq.h) */
	const char *metrics_listen;  /* --metrics-listen HOST:PORT: GET /metrics there, unauthenticated; or NULL */
	int max_connections;         /* --max-connections (http.h), 0: default */
	int max_connections_per_address; /* --max-connections-per-address, 0: default, -1: none */
	int header_timeout_s;        /* --header-timeout, 0: default, -1: none */
	int min_body_rate;           /* --min-body-rate bytes/s, 0: default, -1: none */
	unsigned long long max_body_memory; /* --max-body-memory: request bodies held in memory at once (http.c), 0: default */
	/* state */
	struct loop *loop;
	struct store *store;
	struct blobs *blobs;
	struct keys *keys;           /* the access key store (auth/keys.h) */
	struct exec *exec;           /* execution's state (exec/env.h), NULL until exec_start */
	struct async *async;         /* the async queue's state (exec/async.c), NULL until async_start */
	struct pulls *pulls;         /* image pulls in flight (images/pull.c), NULL when none ever ran */
	struct pollers *pollers;     /* event source pollers (pollers/pollers.c), NULL until pollers_start */
	struct logstore *logs;       /* the log store (logs/logstore.h), NULL until opened */
	struct cwlogs *cwlogs;       /* the CloudWatch Logs API's state: retention sweep, live tails (api/cwlogs.c) */
	struct outbound *dest_ob;    /* destinations' deliveries (exec/destinations.c), NULL until the first */
	struct metrics *metrics;     /* AWS/Lambda metrics (metrics/metrics.h), NULL in tools without them */
	struct disk *disk;           /* the data directory's free-space reserve (util/disk.h), NULL: none kept */
	unsigned char url_key[32];   /* signs Code.Location URLs */
	int64_t started_ms;
	struct http *http;           /* the API's HTTP front (http.h), NULL until it serves */
	/* http_adopt (http.h), for rooms below the front: serve an accepted
	 * connection as the API's (isolated functions' calls, exec/launch.c) */
	int (*api_adopt)(struct server *srv, int fd);
} server_t;

#endif
