/*
 * quotas.h - AWS Lambda's quotas, named once.
 *
 * Every limit that AWS documents (Lambda quotas, developer guide
 * "gettingstarted-limits") or that its answers reveal, as lambdad enforces
 * it. Code refers to these names, never to the numbers, so that a limit is
 * read and changed in one place. Sizes are bytes unless the name says
 * otherwise.
 */
#ifndef LD_QUOTAS_H
#define LD_QUOTAS_H

/* invocation payloads */
#define QUOTA_SYNC_PAYLOAD 6291456u         /* Invoke request and response: 6 MB */
#define QUOTA_SYNC_RESPONSE 6291556u        /* the Runtime API takes 6 MB + 100 (interop.MaxPayloadSize) */
#define QUOTA_ASYNC_PAYLOAD 1048576u        /* Invoke with InvocationType Event: 1 MB */
#define QUOTA_INVOKEASYNC_PAYLOAD 262144u   /* the deprecated InvokeAsync: 256 KB */
#define QUOTA_API_REQUEST 6815744u          /* any other API request body: 6.5 MB (above every JSON input the model allows) */
#define QUOTA_STREAM_RESPONSE (20u * 1024 * 1024) /* InvokeWithResponseStream and streamed URLs: 20 MB */

/* deployment packages */
#define QUOTA_CODE_REQUEST 70167211u        /* a CreateFunction / UpdateFunctionCode body: 50 MB as base64 in JSON */
#define QUOTA_ZIP 52428800u                 /* a zip uploaded directly: 50 MB */
#define QUOTA_UNZIPPED 262144000u           /* code and layers unzipped: 250 MB */
#define QUOTA_CODE_STORAGE 80530636800LL    /* the account's code storage: 75 GB */
#define QUOTA_LAYERS 5                      /* layers of one function */

/* configuration */
#define QUOTA_ENVIRONMENT 4096u             /* a function's environment variables, as JSON */
#define QUOTA_TAGS 50                       /* tags of one resource */
#define QUOTA_POLICY 20480                  /* a function's resource policy, compact JSON: 20 KB */

/* execution */
#define QUOTA_INIT_MS 10000                 /* the init phase of an on-demand environment: 10 s */
#define QUOTA_EXTENSIONS 10                 /* extensions of one environment, external and internal */
#define QUOTA_SHUTDOWN_MS 2000              /* the shutdown phase with external extensions */
#define QUOTA_SHUTDOWN_RUNTIME_MS 300       /* of which the runtime gets this after SIGTERM */
#define QUOTA_TELEMETRY_ITEMS 10000         /* a telemetry subscription's buffer: items (1,000-10,000) */
#define QUOTA_TELEMETRY_BYTES 1048576       /* and bytes (256 KB-1 MB) */
#define QUOTA_ACCOUNT_CONCURRENCY 1000      /* the default account concurrency */

/* event source mappings */
#define QUOTA_SQS_POLLERS_START 5           /* an SQS mapping's pollers at the start of a backlog */
#define QUOTA_SQS_POLLERS_PER_MINUTE 60     /* and how many more a minute it adds while messages wait */
#define QUOTA_KAFKA_WINDOW_MS 500           /* a Kafka (MSK, self-managed) mapping's batching window when it sets none */

/* CloudWatch Logs (PutLogEvents, as botocore's logs model documents it) */
#define QUOTA_LOGS_BATCH 1048576u           /* a batch: the messages' UTF-8 bytes + 26 per event */
#define QUOTA_LOGS_EVENT_OVERHEAD 26u       /* what each event counts beyond its message */
#define QUOTA_LOGS_EVENT 1048576u           /* one event (256 KB until 2025; 1 MB now) */
#define QUOTA_LOGS_EVENTS 10000             /* events in one batch */
#define QUOTA_LOGS_PAST_MS (14LL * 86400000) /* events older than 14 days are rejected */
#define QUOTA_LOGS_FUTURE_MS (2LL * 3600000) /* and events more than 2 hours ahead */
#define QUOTA_LOGS_SPAN_MS (24LL * 3600000) /* a batch's valid events span at most 24 hours */
#define QUOTA_LOGS_DESCRIBE_LIMIT 50        /* DescribeLogGroups / DescribeLogStreams page */
#define QUOTA_LOGS_GET_LIMIT 10000          /* GetLogEvents / FilterLogEvents: events per answer */
#define QUOTA_LOGS_GET_BYTES 1048576u       /* and their bytes (1 MB) */
#define QUOTA_LOGS_LIVETAIL_MS (3LL * 3600000) /* a StartLiveTail session lasts at most 3 hours */
#define QUOTA_LOGS_LIVETAIL_EVENTS 500      /* events of one sessionUpdate (more are sampled out) */

/* lambdad's own caps on function output (docs/logs.md) */
#define QUOTA_LOGS_STORE_BYTES (1024ull * 1024 * 1024) /* --logs-max-bytes default: the whole store, 1 GiB */
#define QUOTA_LOGS_ENV_RATE (2u * 1024 * 1024)  /* --logs-env-rate default: bytes/s one environment may log */
#define QUOTA_LOGS_ENV_BURST_S 5            /* the burst it may log at once: this many seconds of its rate */
#define QUOTA_LOGS_SWEEP_MS 600000          /* --logs-sweep-ms default: retention enforced every 10 minutes */

/* lambdad's own headroom on the data directory's file system (util/disk.h, docs/store.md) */
#define QUOTA_DISK_RESERVE (64ull * 1024 * 1024) /* --disk-reserve default: bulk writers leave 64 MB free ... */
#define QUOTA_DISK_RESERVE_PCT 10           /* ... or 10% of the file system when that is less */
/* lambdad's own caps on request bodies in flight (http.c, docs/http.md) */
#define QUOTA_BODY_SPILL 1048576u           /* a body larger than this goes to a temporary file, not memory */
#define QUOTA_BODY_MEMORY (256u * 1024 * 1024) /* --max-body-memory default: bodies held in memory at once */

#define QUOTA_MB_PER_VCPU 1769              /* Lambda: CPU in proportion to MemorySize, 1,769 MB = one vCPU */

#endif
