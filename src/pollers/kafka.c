/*
 * kafka.c - consuming a self-managed Kafka cluster for one event source
 * mapping (kafka.h).
 *
 * Shape: one librdkafka high-level consumer per mapping. Its main queue is
 * redirected to the consumer queue (rd_kafka_poll_set_consumer), so that
 * records, rebalances, commit results and errors all come from there, and
 * that queue writes to an eventfd when it stops being empty
 * (rd_kafka_queue_io_event_enable). The loop watches the eventfd; drain()
 * takes records with rd_kafka_consumer_poll(rk, 0), which also runs the
 * callbacks, on the loop's thread. A tick serves the queue every second
 * whatever happens (a paused consumer still has to be served, within
 * max.poll.interval.ms).
 *
 * Records wait in `pending` (in the order polled, so in order per
 * partition) until a batch is ready; one batch is in process at a time
 * (invoking, or waiting to be retried). pending holds at most BatchSize
 * records and KAFKA_PENDING_BYTES; when it is full the assigned partitions
 * are paused (librdkafka fetches them again from the last record polled on
 * resume). A batch that succeeded moves each partition's commit position
 * past its records; commit() sends the positions that moved
 * (rd_kafka_commit, async) and a failed commit is sent again at the next
 * tick. A rebalance that takes partitions away drops their pending records
 * and forgets their positions: the batch in process then commits nothing
 * (the epoch changed) and is not retried, and the group's next consumer of
 * those partitions reads them again from the last commit.
 *
 * A failed batch is retried until MaximumRetryAttempts retries failed;
 * then give_up() takes its records out (r->rec dropped, as if filtered),
 * sends their failure record to OnFailure and, once that is delivered,
 * run_batch() finds nothing left and batch_done() commits past them.
 * Records older than MaximumRecordAgeInSeconds leave a batch the same way
 * before each attempt. BisectBatchOnFunctionError puts a failed batch's
 * second half back at the front of pending (split_n caps the next batch
 * to it), so that each partition's order holds. ReportBatchItemFailures:
 * partly_done() takes out and commits what the answer says is done, the
 * rest is retried as a failed batch.
 *
 * Start: when SourceAccessConfigurations name secrets, they are read first
 * (GetSecretValue, one at a time); the consumer is made with kafkaauth.h's
 * settings once they are all there. A secret that cannot be read, or a
 * consumer librdkafka refuses, is tried again every KAFKA_SECRET_RETRY_MS.
 *
 * Lifetime: a stopped poller closes and destroys its consumer at once
 * (bounded by KAFKA_CLOSE_MS); the struct waits for what is in flight (an
 * invocation, a failure record's delivery, a GetSecretValue), and is freed
 * when the last of them ends.
 */
#include "pollers/kafka.h"
#include "pollers/kafkaauth.h"
#include "pollers/kafkasrc.h"
#include "aws/awscall.h"
#include "exec/destinations.h"
#include "exec/door.h"
#include "loop.h"
#include "quotas.h"
#include "util/arn.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/pattern.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define KAFKA_TICK_MS 1000          /* the consumer queue is served at least this often */
#define KAFKA_DRAIN_MAX 1000        /* records taken in one turn of the loop; the rest on the next */
#define KAFKA_PENDING_BYTES (2 * POLLER_BATCH_BYTES)      /* records polled and not yet in a batch */
#define KAFKA_RETRY_MS 500          /* the first pause before a failed batch runs again */
#define KAFKA_RETRY_MAX_MS 30000    /* the longest */
#define KAFKA_THROTTLE_MS 1000      /* before a throttled batch asks again */
#define KAFKA_DEST_RETRIES 10      /* MaximumRetryAttempts when it is -1 and OnFailure is set (AWS's rule) */
#define KAFKA_SECRET_RETRY_MS 10000 /* a secret that could not be read (or used) is read again after this */
#define KAFKA_SECRET_CALL_MS 10000  /* one GetSecretValue */
#define KAFKA_SECRET_RESPONSE_MAX (256u << 10) /* its answer: a 64 KB secret, JSON-escaped in a JSON answer */
#define KAFKA_CLOSE_MS 2000         /* a stopped consumer's close waits at most this */
#define KAFKA_SERVERS_MAX 3100      /* 10 bootstrap servers of up to 300 characters (the API's limits) */
/* consumer settings: a consumer that died leaves its group after 6 s (the
 * smallest session a broker accepts by default); fetched records wait in
 * librdkafka's queue up to 16 MB */
#define KAFKA_SESSION_MS "6000"
#define KAFKA_HEARTBEAT_MS "2000"
#define KAFKA_QUEUED_KB "16384"

/* a topic-partition the consumer met; kept for the poller's life (records
 * point to it) */
struct kpart {
	struct kpart *next;
	char topic[256];        /* Kafka topic names have at most 249 characters */
	int32_t partition;
	char key[272];          /* "TOPIC-PARTITION", the event's key */
	int assigned;
	int64_t done;           /* the offset to commit: one past the last record processed; -1 none */
	int dirty;              /* done moved since it was last committed */
};

/* one record polled */
struct krec {
	struct krec *next;
	struct kpart *kp;
	int64_t offset;
	int64_t ts_ms;
	json_t *rec;            /* its event record; NULL when FilterCriteria keep it out */
	size_t bytes;           /* what it adds to an event */
};

struct kafka_poller {
	server_t *srv;
	char scope[96], uuid[40];
	char fn_name[160], qualifier[140];
	char servers[KAFKA_SERVERS_MAX];
	char msk_arn[300];          /* an Amazon MSK cluster's ARN, "" for a self-managed one */
	char fn_arn[300];           /* the mapping's FunctionArn (failure records) */
	char on_failure[300];       /* DestinationConfig.OnFailure.Destination, "" none */
	int max_retries;            /* MaximumRetryAttempts, -1: as long as it takes */
	int max_age_s;              /* MaximumRecordAgeInSeconds, -1: any age */
	int bisect;                 /* BisectBatchOnFunctionError */
	int report_failures;        /* FunctionResponseTypes has ReportBatchItemFailures */
	size_t split_n;             /* the next batch holds at most this many kept records (a split's second half); 0: BatchSize */
	int batch_size;
	uint64_t window_ms;
	json_t *filters;
	/* authentication (kafkaauth.h): the secrets are read before the consumer is made */
	outbound_t *ob;
	aws_config_t sm_cfg;        /* Secrets Manager at --aws-endpoint-url */
	enum kafkaauth_kind auth_kind;
	char auth_secret[2048], ca_secret[2048];
	json_t *auth_doc, *ca_doc;  /* their SecretStrings, parsed, while they are read */
	int calling;                /* a GetSecretValue is in flight */
	int64_t secret_timer;
	char group[256], reset[16];
	json_t *topics;
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue; /* the consumer queue */
	int efd;
	int stopped;
	int64_t tick_timer, window_timer, retry_timer, drain_timer;
	struct kpart *parts;
	/* records polled, not in a batch yet */
	struct krec *pending, **pending_tail;
	size_t pending_n, pending_kept, pending_bytes;
	uint64_t gather_ms;     /* when the first kept record of pending came */
	int paused;
	/* the batch in process */
	struct krec *batch;
	int batch_epoch;
	int attempts;
	int invoking;
	int delivering;         /* a failure record is on its way to OnFailure */
	char request_id[37];
	char version[24];       /* the last attempt's ExecutedVersion */
	int function_error;     /* the last attempt ended in a function error */
	int epoch;              /* counts the rebalances that took partitions away */
	char last_result[POLLER_RESULT_MAX];
	struct poller_stats stats;
};

static void drain(struct kafka_poller *p);
static void step(struct kafka_poller *p);

/* ---- small things ---- */

static int64_t timer_at(struct kafka_poller *p, uint64_t ms, loop_cb cb, void *ud)
{
	int64_t t = loop_timer(p->srv->loop, ms, cb, ud);
	return t > 0 ? t : 0;
}

static void cancel(struct kafka_poller *p, int64_t *t)
{
	if (*t)
		loop_cancel(p->srv->loop, *t);
	*t = 0;
}

/* LastProcessingResult, stored when it changes */
static void result(struct kafka_poller *p, const char *what)
{
	poller_result(p->srv, p->scope, p->uuid, p->last_result, what);
}

static struct kpart *kpart_find(struct kafka_poller *p, const char *topic, int32_t partition)
{
	for (struct kpart *kp = p->parts; kp; kp = kp->next)
		if (kp->partition == partition && !strcmp(kp->topic, topic))
			return kp;
	return NULL;
}

static struct kpart *kpart_get(struct kafka_poller *p, const char *topic, int32_t partition)
{
	struct kpart *kp = kpart_find(p, topic, partition);
	if (kp || strlen(topic) >= sizeof(kp->topic))
		return kp;
	if (!(kp = calloc(1, sizeof(*kp))))
		return NULL;
	snprintf(kp->topic, sizeof(kp->topic), "%s", topic);
	kp->partition = partition;
	kafkasrc_key(topic, partition, kp->key, sizeof(kp->key));
	kp->done = -1;
	kp->next = p->parts;
	p->parts = kp;
	return kp;
}

static void krec_free_list(struct krec *r)
{
	while (r) {
		struct krec *next = r->next;
		json_decref(r->rec);
		free(r);
		r = next;
	}
}

static void poller_free(struct kafka_poller *p)
{
	krec_free_list(p->pending);
	krec_free_list(p->batch);
	while (p->parts) {
		struct kpart *kp = p->parts;
		p->parts = kp->next;
		free(kp);
	}
	json_decref(p->filters);
	json_decref(p->topics);
	json_decref(p->auth_doc);
	json_decref(p->ca_doc);
	free(p);
}

/* ---- records ---- */

/* whether FilterCriteria keep m */
static int kept(struct kafka_poller *p, const rd_kafka_message_t *m)
{
	if (!p->filters)
		return 1;
	json_t *view = kafkasrc_filter_view(m->payload, m->len);
	int keep = view && pattern_filters_match(p->filters, view);
	json_decref(view);
	return keep;
}

/* m's event record (kafkasrc.h); *bytes: its size in an event */
static json_t *event_record(const rd_kafka_message_t *m, struct kpart *kp, size_t *bytes)
{
	rd_kafka_timestamp_type_t tt;
	struct kafkasrc_msg km = { .topic = kp->topic, .partition = m->partition, .offset = m->offset,
				   .key = m->key, .key_len = m->key_len, .value = m->payload, .value_len = m->len };
	km.timestamp = rd_kafka_message_timestamp(m, &tt);
	km.ts_type = tt == RD_KAFKA_TIMESTAMP_CREATE_TIME	? KAFKASRC_TS_CREATE
		     : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? KAFKASRC_TS_LOG_APPEND
								 : KAFKASRC_TS_NONE;
	rd_kafka_headers_t *hdrs = NULL;
	struct kafkasrc_header *hs = NULL;
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_header_cnt(hdrs)) {
		size_t n = rd_kafka_header_cnt(hdrs);
		if (!(hs = calloc(n, sizeof(*hs))))
			return NULL;
		for (size_t i = 0; i < n; i++)
			if (rd_kafka_header_get_all(hdrs, i, &hs[i].name, &hs[i].value, &hs[i].len))
				hs[i].name = NULL; /* left out */
		km.headers = hs;
		km.nheaders = n;
	}
	json_t *r = kafkasrc_record(&km, bytes);
	free(hs);
	return r;
}

static int pending_full(struct kafka_poller *p)
{
	return p->pending_n >= (size_t)p->batch_size || p->pending_bytes >= KAFKA_PENDING_BYTES;
}

/* a record polled joins pending; 0, or LD_ENOMEM (nothing changed: drain
 * has the partition read again from this record) */
static int take_message(struct kafka_poller *p, const rd_kafka_message_t *m)
{
	struct kpart *kp = kpart_get(p, rd_kafka_topic_name(m->rkt), m->partition);
	struct krec *r = kp ? calloc(1, sizeof(*r)) : NULL;
	if (!r)
		return LD_ENOMEM;
	r->kp = kp;
	r->offset = m->offset;
	rd_kafka_timestamp_type_t tt;
	r->ts_ms = rd_kafka_message_timestamp(m, &tt);
	int keep = kept(p, m);
	if (keep && !(r->rec = event_record(m, kp, &r->bytes))) {
		free(r);
		return LD_ENOMEM;
	}
	p->stats.polled++;
	if (keep) {
		if (!p->pending_kept)
			p->gather_ms = loop_now_ms();
		p->pending_kept++;
		p->pending_bytes += r->bytes;
	} else {
		p->stats.filtered++;
	}
	*p->pending_tail = r;
	p->pending_tail = &r->next;
	p->pending_n++;
	return 0;
}

/* drops the pending records of partitions no longer assigned */
static void pending_forget_unassigned(struct kafka_poller *p)
{
	struct krec **pp = &p->pending;
	p->pending_tail = &p->pending;
	while (*pp) {
		struct krec *r = *pp;
		if (r->kp->assigned) {
			pp = &r->next;
			p->pending_tail = pp;
			continue;
		}
		*pp = r->next;
		p->pending_n--;
		if (r->rec) {
			p->pending_kept--;
			p->pending_bytes -= r->bytes;
		}
		json_decref(r->rec);
		free(r);
	}
}

/* ---- the consumer ---- */

static void set_paused(struct kafka_poller *p, int pause)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	if (p->paused == pause || rd_kafka_assignment(p->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(p->rk, parts) : rd_kafka_resume_partitions(p->rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
		p->paused = pause;
}

/* the group's rebalances (eager: everything is taken away, then given) */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_poller *p = opaque;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (int i = 0; !p->stopped && i < parts->cnt; i++) {
			struct kpart *kp = kpart_get(p, parts->elems[i].topic, parts->elems[i].partition);
			if (kp)
				kp->assigned = 1;
		}
		rd_kafka_assign(rk, parts);
		if (p->paused && !p->stopped) /* new partitions wait too while pending is full */
			rd_kafka_pause_partitions(rk, parts);
		return;
	}
	if (!p->stopped) {
		for (int i = 0; i < parts->cnt; i++) {
			struct kpart *kp = kpart_find(p, parts->elems[i].topic, parts->elems[i].partition);
			if (kp) {
				kp->assigned = 0;
				kp->done = -1;
				kp->dirty = 0;
			}
		}
		p->epoch++;
		pending_forget_unassigned(p);
		p->paused = 0;
	}
	rd_kafka_assign(rk, NULL);
}

/* sends the commit positions that moved (async; on_commit has the answer) */
static void commit(struct kafka_poller *p)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
	if (!list)
		return;
	for (struct kpart *kp = p->parts; kp; kp = kp->next)
		if (kp->assigned && kp->dirty && kp->done >= 0) {
			rd_kafka_topic_partition_list_add(list, kp->topic, kp->partition)->offset = kp->done;
			kp->dirty = 0;
		}
	if (list->cnt) {
		rd_kafka_resp_err_t err = rd_kafka_commit(p->rk, list, 1);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			fprintf(stderr, "lambdad: kafka mapping %s: commit failed: %s (again in a second)\n", p->uuid,
				rd_kafka_err2str(err));
			for (int i = 0; i < list->cnt; i++) {
				struct kpart *kp = kpart_find(p, list->elems[i].topic, list->elems[i].partition);
				if (kp)
					kp->dirty = 1;
			}
		}
	}
	rd_kafka_topic_partition_list_destroy(list);
}

/* a commit's answer: what failed is sent again at the next tick (unless a
 * later position replaced it) */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct kafka_poller *p = opaque;
	if (p->stopped || !offsets || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return;
	for (int i = 0; i < offsets->cnt; i++) {
		rd_kafka_resp_err_t e = err ? err : offsets->elems[i].err;
		if (!e)
			continue;
		struct kpart *kp = kpart_find(p, offsets->elems[i].topic, offsets->elems[i].partition);
		if (kp && kp->assigned && kp->done == offsets->elems[i].offset) {
			kp->dirty = 1;
			fprintf(stderr, "lambdad: kafka mapping %s: commit of %s at %lld failed: %s (again in a second)\n",
				p->uuid, kp->key, (long long)kp->done, rd_kafka_err2str(e));
		}
	}
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_poller *p = opaque;
	fprintf(stderr, "lambdad: kafka mapping %s: %s\n", p->uuid, reason);
	if (p->stopped)
		return;
	/* what the cluster or its certificates refused, as AWS words it */
	if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)
		result(p, p->auth_kind == KAFKAAUTH_MTLS ? "PROBLEM: Server failed to authenticate Lambda"
							 : "PROBLEM: SASL authentication failed");
	else if (err == RD_KAFKA_RESP_ERR__SSL || strstr(reason, "SSL handshake failed")) /* or a transport error in it */
		result(p, strstr(reason, "certificate verify failed") ? "PROBLEM: Lambda failed to authenticate server"
		       : p->auth_kind == KAFKAAUTH_MTLS		      ? "PROBLEM: Server failed to authenticate Lambda"
								      : "PROBLEM: Lambda failed to authenticate server");
	else if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
		 err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
		 err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
		result(p, "PROBLEM: Cluster failed to authorize Lambda");
}

/* librdkafka's own log lines, from its threads: they touch nothing of lambdad's */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fprintf(stderr, "lambdad: kafka %s: %s: %s\n", rd_kafka_name(rk), fac, buf);
}

/* m's partition is fetched again from m (a record that could not be kept) */
static void read_again(struct kafka_poller *p, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(1);
	if (!at)
		return;
	rd_kafka_topic_partition_list_add(at, rd_kafka_topic_name(m->rkt), m->partition)->offset = m->offset;
	rd_kafka_error_t *e = rd_kafka_seek_partitions(p->rk, at, 0);
	fprintf(stderr, "lambdad: kafka mapping %s: out of memory; %s [%d] is read again from %lld%s\n", p->uuid,
		rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, e ? " (seek failed)" : "");
	if (e)
		rd_kafka_error_destroy(e);
	rd_kafka_topic_partition_list_destroy(at);
}

static void on_drain_timer(void *ud)
{
	struct kafka_poller *p = ud;
	p->drain_timer = 0;
	drain(p);
}

/* takes what the consumer queue holds (and runs its callbacks) */
static void drain(struct kafka_poller *p)
{
	int n = 0;
	while (!p->stopped && n < KAFKA_DRAIN_MAX) {
		if (pending_full(p)) {
			set_paused(p, 1);
			break;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(p->rk, 0);
		if (!m)
			break;
		n++;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "lambdad: kafka mapping %s: %s\n", p->uuid, rd_kafka_message_errstr(m));
		} else if (take_message(p, m)) {
			/* out of memory: the partition is read again from this record, a little later */
			read_again(p, m);
			rd_kafka_message_destroy(m);
			if (!p->drain_timer)
				p->drain_timer = timer_at(p, KAFKA_TICK_MS, on_drain_timer, p);
			return;
		}
		rd_kafka_message_destroy(m);
	}
	if (p->stopped)
		return;
	if (n == KAFKA_DRAIN_MAX && !p->drain_timer)
		p->drain_timer = timer_at(p, 0, on_drain_timer, p);
	step(p);
}

static void on_readable(void *ud, uint32_t events)
{
	struct kafka_poller *p = ud;
	uint64_t v;
	while (read(p->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		; /* reset before the queue is read: what comes meanwhile signals again */
	drain(p);
}

static void on_tick(void *ud)
{
	struct kafka_poller *p = ud;
	p->tick_timer = timer_at(p, KAFKA_TICK_MS, on_tick, p);
	commit(p); /* what failed to commit before */
	drain(p);
}

/* ---- batches ---- */

/* the event's "records" of the batch's kept records */
static json_t *batch_records(struct kafka_poller *p)
{
	json_t *recs = json_object();
	if (!recs)
		return NULL;
	for (struct krec *r = p->batch; r; r = r->next) {
		if (!r->rec)
			continue;
		json_t *list = json_object_get(recs, r->kp->key);
		if (!list && (!(list = json_array()) || json_object_set_new(recs, r->kp->key, list))) {
			json_decref(recs);
			return NULL;
		}
		if (json_array_append(list, r->rec)) {
			json_decref(recs);
			return NULL;
		}
	}
	return recs;
}

static json_t *event_of(struct kafka_poller *p)
{
	json_t *recs = batch_records(p);
	return recs ? kafkasrc_event(p->msk_arn[0] ? p->msk_arn : NULL, p->servers, recs) : NULL;
}

/* the batch is done with: its records' offsets are committed (unless a
 * rebalance took partitions away meanwhile) and the next one may start */
static void batch_done(struct kafka_poller *p)
{
	if (p->batch_epoch == p->epoch) {
		for (struct krec *r = p->batch; r; r = r->next)
			if (r->kp->assigned && r->offset + 1 > r->kp->done) {
				r->kp->done = r->offset + 1;
				r->kp->dirty = 1;
			}
		commit(p);
	}
	krec_free_list(p->batch);
	p->batch = NULL;
	p->attempts = 0;
	if (!p->drain_timer) /* on the loop: no recursion through batches that need no invoke */
		p->drain_timer = timer_at(p, 0, on_drain_timer, p);
}

static void run_batch(struct kafka_poller *p);
static int batch_kept(struct kafka_poller *p);

/* the batch still holds records for the function */
static int batch_kept(struct kafka_poller *p)
{
	for (struct krec *r = p->batch; r; r = r->next)
		if (r->rec)
			return 1;
	return 0;
}

static void on_retry_timer(void *ud)
{
	struct kafka_poller *p = ud;
	p->retry_timer = 0;
	run_batch(p);
}

static void retry_later(struct kafka_poller *p, uint64_t ms)
{
	p->retry_timer = timer_at(p, ms ? ms : 1, on_retry_timer, p);
}

static uint64_t backoff_ms(int attempts)
{
	uint64_t ms = KAFKA_RETRY_MS;
	for (int i = 1; i < attempts && ms < KAFKA_RETRY_MAX_MS; i++)
		ms *= 2;
	return ms < KAFKA_RETRY_MAX_MS ? ms : KAFKA_RETRY_MAX_MS;
}

/* ReportBatchItemFailures named failures ({"TOPIC-PARTITION": lowest
 * offset}): the records before them in their partitions, and those of the
 * other partitions, are done (committed, unless a rebalance came between);
 * the rest stays the batch, to be retried */
static void partly_done(struct kafka_poller *p, json_t *fails)
{
	struct krec **pp = &p->batch;
	while (*pp) {
		struct krec *r = *pp;
		json_t *low = json_object_get(fails, r->kp->key);
		if (low && r->offset >= json_integer_value(low)) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (p->batch_epoch == p->epoch && r->kp->assigned && r->offset + 1 > r->kp->done) {
			r->kp->done = r->offset + 1;
			r->kp->dirty = 1;
		}
		json_decref(r->rec);
		free(r);
	}
	if (p->batch_epoch == p->epoch)
		commit(p);
}

/* ---- giving up (MaximumRetryAttempts, MaximumRecordAgeInSeconds) ---- */

static void on_delivered(void *ud, int rc)
{
	struct kafka_poller *p = ud;
	p->delivering = 0;
	if (p->stopped) {
		if (!p->invoking && !p->calling)
			poller_free(p);
		return;
	}
	if (rc)
		fprintf(stderr, "lambdad: the failure record of kafka mapping %s could not go to %s (%s)\n", p->uuid,
			p->on_failure, ld_strerror(rc));
	run_batch(p); /* what is left of the batch, or its end */
}

/* the failure record of the event text (payload_size bytes) of records */
static char *failure_record(struct kafka_poller *p, json_t *records, const char *text, const char *condition)
{
	char now[25];
	ids_time_iso(loop_wall_ms(), now);
	json_t *info = kafkasrc_batch_info(p->msk_arn[0] ? p->msk_arn : NULL, p->servers, records, strlen(text));
	json_t *doc = json_pack("{s:{s:s,s:s,s:s,s:i}}", "requestContext", "requestId", p->request_id, "functionArn",
				p->fn_arn, "condition", condition, "approximateInvokeCount", p->attempts);
	if (!doc || !info) {
		json_decref(doc);
		json_decref(info);
		return NULL;
	}
	json_object_set_new(doc, "responseContext",
			    !strcmp(condition, "RetryAttemptsExhausted")
				    ? json_pack("{s:i,s:s,s:o}", "statusCode", 200, "executedVersion",
						p->version[0] ? p->version : "$LATEST", "functionError",
						p->function_error ? json_string("Unhandled") : json_null())
				    : json_null());
	json_object_set_new(doc, "version", json_string("1.0"));
	json_object_set_new(doc, "timestamp", json_string(now));
	json_object_set_new(doc, "KafkaBatchInfo", info);
	if (dest_kind(p->on_failure) == DEST_S3) /* S3 keeps the event too, as a string */
		json_object_set_new(doc, "payload", json_string(text));
	char *body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return body;
}

/* The kept records of the batch older than cutoff_ms (0: all of them) are
 * given up: they leave the batch (committed past with it) and their failure
 * record goes to OnFailure. 1: the delivery is in flight (on_delivered goes
 * on), 0: nothing to wait for. */
static int give_up(struct kafka_poller *p, int64_t cutoff_ms, const char *condition)
{
	json_t *recs = json_object();
	size_t n = 0;
	for (struct krec *r = p->batch; recs && r; r = r->next) {
		if (!r->rec || (cutoff_ms && !(r->ts_ms > 0 && r->ts_ms < cutoff_ms)))
			continue;
		json_t *list = json_object_get(recs, r->kp->key);
		if (!list && (!(list = json_array()) || json_object_set_new(recs, r->kp->key, list)))
			break;
		json_array_append_new(list, r->rec); /* the record's reference moves */
		r->rec = NULL;
		n++;
	}
	if (!n) {
		json_decref(recs);
		return 0;
	}
	fprintf(stderr, "lambdad: kafka mapping %s gives up %zu record(s) (%s)\n", p->uuid, n, condition);
	p->stats.failed++;
	if (!p->on_failure[0]) {
		json_decref(recs);
		return 0;
	}
	json_t *ev = kafkasrc_event(p->msk_arn[0] ? p->msk_arn : NULL, p->servers, json_incref(recs));
	char *text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *body = text ? failure_record(p, recs, text, condition) : NULL;
	json_decref(ev);
	json_decref(recs);
	free(text);
	int rc = LD_ENOMEM;
	if (body) {
		struct dest_attrs at = { .function_arn = p->fn_arn, .success = 0, .s3_prefix = NULL };
		char prefix[300];
		snprintf(prefix, sizeof(prefix), "aws/lambda/%s", p->uuid);
		at.s3_prefix = prefix;
		rc = dest_send(p->srv, p->on_failure, body, strlen(body), &at, on_delivered, p);
		free(body);
	}
	if (rc) {
		fprintf(stderr, "lambdad: the failure record of kafka mapping %s could not go to %s (%s)\n", p->uuid,
			p->on_failure, ld_strerror(rc));
		return 0;
	}
	p->delivering = 1;
	return 1;
}

/* BisectBatchOnFunctionError: the batch's second half (by kept records)
 * goes back to the front of pending, in order, to be the next batch; 0, or
 * 1 when the batch holds fewer than two kept records */
static int bisect(struct kafka_poller *p)
{
	size_t kept_n = 0;
	for (struct krec *r = p->batch; r; r = r->next)
		kept_n += r->rec != NULL;
	if (kept_n < 2)
		return 1;
	struct krec **cut = &p->batch, **tail = NULL;
	for (size_t k = 0; k < kept_n / 2; cut = &(*cut)->next)
		k += (*cut)->rec != NULL;
	struct krec *back = *cut;
	*cut = NULL;
	size_t n = 0;
	for (struct krec *r = back; r; r = r->next) {
		n++;
		if (r->rec) {
			p->pending_kept++;
			p->pending_bytes += r->bytes;
		}
		tail = &r->next;
	}
	if (!p->pending)
		p->pending_tail = tail;
	*tail = p->pending;
	p->pending = back;
	p->pending_n += n;
	p->gather_ms = 0; /* due at once */
	p->split_n = kept_n - kept_n / 2;
	return 0;
}

/* a failed attempt: split (BisectBatchOnFunctionError; a split is not a
 * retry), retried later, or given up once MaximumRetryAttempts retries
 * failed */
static void failed(struct kafka_poller *p)
{
	if (p->bisect && p->function_error && !bisect(p)) {
		p->attempts = 0;
		retry_later(p, KAFKA_RETRY_MS);
		return;
	}
	if (p->max_retries >= 0 && p->attempts > p->max_retries) {
		if (!give_up(p, 0, "RetryAttemptsExhausted"))
			run_batch(p); /* nothing kept is left: the batch ends */
		return;
	}
	retry_later(p, backoff_ms(p->attempts));
}

static void on_invoked(void *ud, struct exec_result *res)
{
	struct kafka_poller *p = ud;
	p->invoking = 0;
	if (p->stopped) {
		if (!p->delivering && !p->calling)
			poller_free(p);
		return;
	}
	p->function_error = res->ok && res->function_error;
	if (!res->ok || res->function_error) {
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		failed(p);
		return;
	}
	json_t *fails = NULL;
	if (p->report_failures) {
		json_t *recs = batch_records(p);
		fails = recs ? kafkasrc_failures(res->payload, res->payload_len, recs) : NULL;
		json_decref(recs);
		if (!fails) { /* an answer that names what the event did not hold: all of it again */
			p->stats.failed++;
			result(p, "PROBLEM: Function call failed");
			failed(p);
			return;
		}
	}
	if (json_object_size(fails)) {
		partly_done(p, fails);
		json_decref(fails);
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		failed(p);
		return;
	}
	json_decref(fails);
	result(p, "OK");
	batch_done(p);
}

static void run_batch(struct kafka_poller *p)
{
	if (p->batch_epoch != p->epoch) {
		/* a rebalance took partitions away since the batch was taken:
		 * their next consumer reads them from the last commit, and so
		 * does this one when they come back */
		krec_free_list(p->batch);
		p->batch = NULL;
		p->attempts = 0;
		if (!p->drain_timer)
			p->drain_timer = timer_at(p, 0, on_drain_timer, p);
		return;
	}
	if (p->max_age_s >= 0 && give_up(p, loop_wall_ms() - (int64_t)p->max_age_s * 1000, "RecordAgeExceeded"))
		return; /* on_delivered runs what is left */
	if (!batch_kept(p)) { /* everything was given up */
		batch_done(p);
		return;
	}
	json_t *ev = event_of(p);
	char *text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ev);
	if (!text) {
		retry_later(p, KAFKA_THROTTLE_MS);
		return;
	}
	ids_uuid4(p->request_id);
	struct door_call c = { .scope = p->scope, .name = p->fn_name, .qualifier = p->qualifier, .payload = text,
			       .payload_len = strlen(text), .request_id = p->request_id };
	ld_error_t err = { 0 };
	int rc = door_invoke(p->srv, &c, on_invoked, p, &err);
	snprintf(p->version, sizeof(p->version), "%s", c.version);
	p->function_error = 0;
	json_decref(c.config);
	free(text);
	if (rc == 0) {
		p->invoking = 1;
		p->attempts++;
		p->stats.invoked++;
		return;
	}
	if (rc == LD_ETHROTTLED) { /* no room now: not an attempt */
		p->stats.throttled++;
		retry_later(p, KAFKA_THROTTLE_MS);
	} else {
		p->stats.failed++;
		p->attempts++;
		result(p, "PROBLEM: Function call failed");
		fprintf(stderr, "lambdad: kafka mapping %s: invoke of %s refused: %s\n", p->uuid, p->fn_name,
			err.message ? err.message : ld_strerror(rc));
		ld_error_clear(&err);
		failed(p);
		return;
	}
	ld_error_clear(&err);
}

/* the next batch leaves pending: up to BatchSize kept records and the
 * batch's byte limit, with the filtered records among them */
static void take_batch(struct kafka_poller *p)
{
	struct krec **tail = &p->batch;
	size_t kept_n = 0, bytes = 0, max = p->split_n ? p->split_n : (size_t)p->batch_size;
	p->split_n = 0;
	while (p->pending) {
		struct krec *r = p->pending;
		if (r->rec) {
			if (kept_n >= max || (kept_n && bytes + r->bytes > POLLER_BATCH_BYTES))
				break;
			kept_n++;
			bytes += r->bytes;
			p->pending_kept--;
			p->pending_bytes -= r->bytes;
		}
		p->pending = r->next;
		p->pending_n--;
		r->next = NULL;
		*tail = r;
		tail = &r->next;
	}
	if (!p->pending)
		p->pending_tail = &p->pending;
	if (p->pending_kept)
		p->gather_ms = loop_now_ms();
	p->batch_epoch = p->epoch;
	p->attempts = 0;
	if (!kept_n) { /* all filtered out: committed past without an invoke */
		batch_done(p);
		return;
	}
	struct krec *first = p->batch;
	while (first && !first->rec)
		first = first->next;
	if (first && first->ts_ms > 0)
		p->stats.lag_ms = loop_wall_ms() - first->ts_ms;
	run_batch(p);
}

static void on_window_timer(void *ud)
{
	struct kafka_poller *p = ud;
	p->window_timer = 0;
	step(p);
}

/* what comes next: a batch when one is ready and none is in process */
static void step(struct kafka_poller *p)
{
	if (p->stopped || p->batch)
		return;
	if (p->paused && !pending_full(p))
		set_paused(p, 0);
	if (!p->pending)
		return;
	uint64_t now = loop_now_ms(), due = p->gather_ms + p->window_ms;
	if (!p->pending_kept || p->pending_kept >= (size_t)p->batch_size || p->pending_bytes >= POLLER_BATCH_BYTES ||
	    pending_full(p) || now >= due) {
		cancel(p, &p->window_timer);
		take_batch(p);
		return;
	}
	if (!p->window_timer)
		p->window_timer = timer_at(p, due - now, on_window_timer, p);
}

/* ---- start, stop ---- */

static int conf_set(rd_kafka_conf_t *conf, const char *uuid, const char *name, const char *value)
{
	char errstr[256];
	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return 0;
	fprintf(stderr, "lambdad: kafka mapping %s: %s=%s: %s\n", uuid, name, value, errstr);
	return LD_EINVAL;
}

/* the consumer of p, subscribed; 0 or LD_E* (logged) */
static int consumer_new(struct kafka_poller *p, const char *group, const char *reset, json_t *topics, json_t *auth)
{
	char client[64], errstr[512];
	snprintf(client, sizeof(client), "lambdad-%s", p->uuid);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (!conf)
		return LD_ENOMEM;
	if (conf_set(conf, p->uuid, "bootstrap.servers", p->servers) || conf_set(conf, p->uuid, "group.id", group) ||
	    conf_set(conf, p->uuid, "client.id", client) || conf_set(conf, p->uuid, "enable.auto.commit", "false") ||
	    conf_set(conf, p->uuid, "enable.auto.offset.store", "false") ||
	    conf_set(conf, p->uuid, "auto.offset.reset", reset) ||
	    conf_set(conf, p->uuid, "session.timeout.ms", KAFKA_SESSION_MS) ||
	    conf_set(conf, p->uuid, "heartbeat.interval.ms", KAFKA_HEARTBEAT_MS) ||
	    conf_set(conf, p->uuid, "queued.max.messages.kbytes", KAFKA_QUEUED_KB)) {
		rd_kafka_conf_destroy(conf);
		return LD_EINVAL;
	}
	const char *name;
	json_t *v;
	json_object_foreach(auth, name, v) {
		char errstr2[256];
		if (rd_kafka_conf_set(conf, name, json_string_value(v), errstr2, sizeof(errstr2)) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "lambdad: kafka mapping %s: %s: %s\n", p->uuid, name, errstr2); /* not the value */
			rd_kafka_conf_destroy(conf);
			return LD_EINVAL;
		}
	}
	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	if (!(p->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "lambdad: kafka mapping %s: no consumer: %s\n", p->uuid, errstr);
		if (auth)
			result(p, "PROBLEM: Provided certificate or private key is invalid");
		rd_kafka_conf_destroy(conf);
		return LD_EINVAL;
	}
	/* conf is the consumer's now */
	rd_kafka_poll_set_consumer(p->rk);
	if (!(p->queue = rd_kafka_queue_get_consumer(p->rk)))
		return LD_ENOMEM;
	static const uint64_t one = 1; /* an eventfd takes 8 bytes; librdkafka copies them */
	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return LD_EIO;
	rd_kafka_queue_io_event_enable(p->queue, p->efd, &one, sizeof(one));
	if (loop_add_fd(p->srv->loop, p->efd, EPOLLIN, on_readable, p)) {
		rd_kafka_queue_io_event_enable(p->queue, -1, NULL, 0);
		close(p->efd);
		p->efd = -1;
		return LD_EIO;
	}
	rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)json_array_size(topics));
	if (!subs)
		return LD_ENOMEM;
	size_t i;
	json_t *t;
	json_array_foreach(topics, i, t) rd_kafka_topic_partition_list_add(subs, json_string_value(t), RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(p->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "lambdad: kafka mapping %s: subscribe: %s\n", p->uuid, rd_kafka_err2str(err));
		return LD_EINVAL;
	}
	return 0;
}

/* leaves the group and destroys the consumer, waiting at most KAFKA_CLOSE_MS */
static void consumer_close(struct kafka_poller *p)
{
	if (p->efd >= 0) {
		loop_del_fd(p->srv->loop, p->efd);
		if (p->queue)
			rd_kafka_queue_io_event_enable(p->queue, -1, NULL, 0);
		close(p->efd);
		p->efd = -1;
	}
	if (!p->rk)
		return;
	if (p->queue) {
		/* the group's last events (the revocation) come on the consumer
		 * queue; records still in it are dropped, not committed */
		rd_kafka_error_t *e = rd_kafka_consumer_close_queue(p->rk, p->queue);
		uint64_t end = loop_now_ms() + KAFKA_CLOSE_MS;
		if (e)
			rd_kafka_error_destroy(e);
		else
			while (!rd_kafka_consumer_closed(p->rk) && loop_now_ms() < end) {
				rd_kafka_message_t *m = rd_kafka_consume_queue(p->queue, 50);
				if (m)
					rd_kafka_message_destroy(m);
			}
		if (!rd_kafka_consumer_closed(p->rk))
			fprintf(stderr, "lambdad: kafka mapping %s: the consumer did not close within %d ms\n", p->uuid,
				KAFKA_CLOSE_MS);
		rd_kafka_queue_destroy(p->queue);
		p->queue = NULL;
	}
	rd_kafka_destroy_flags(p->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	p->rk = NULL;
}

/* An Amazon MSK cluster's bootstrap servers, from --msk-cluster: the
 * mapping whose key is the cluster's ARN or name (arn:...:cluster/NAME/ID).
 * A new array of "HOST:PORT", or NULL (none configured). */
static json_t *msk_servers(server_t *srv, const char *arn)
{
	struct arn a;
	if (!arn || arn_parse(arn, &a) || strcmp(a.service, "kafka") || strncmp(a.resource, "cluster/", 8))
		return NULL;
	const char *name = a.resource + 8;
	size_t nlen = strcspn(name, "/");
	for (const char *const *m = srv->msk_clusters; m && *m; m++) {
		const char *eq = strchr(*m, '=');
		size_t klen = (size_t)(eq - *m);
		if (!((klen == strlen(arn) && !strncmp(*m, arn, klen)) || (klen == nlen && !strncmp(*m, name, nlen))))
			continue;
		json_t *out = json_array();
		for (const char *s = eq + 1; out && *s;) {
			size_t n = strcspn(s, ",");
			if (n)
				json_array_append_new(out, json_stringn(s, n));
			s += n + (s[n] == ',');
		}
		return out;
	}
	return NULL;
}

/* ---- the secrets, then the consumer ---- */

static void connect_consumer(struct kafka_poller *p);
static void read_secrets(struct kafka_poller *p);

static void on_secret_timer(void *ud)
{
	struct kafka_poller *p = ud;
	p->secret_timer = 0;
	read_secrets(p);
}

/* the secrets are read again a little later */
static void secrets_later(struct kafka_poller *p, const char *problem)
{
	result(p, problem);
	json_decref(p->auth_doc);
	json_decref(p->ca_doc);
	p->auth_doc = p->ca_doc = NULL;
	p->secret_timer = timer_at(p, KAFKA_SECRET_RETRY_MS, on_secret_timer, p);
}

static void on_secret(void *ud, const outbound_result_t *r)
{
	struct kafka_poller *p = ud;
	p->calling = 0;
	if (p->stopped) {
		if (!p->invoking && !p->delivering)
			poller_free(p);
		return;
	}
	const char *which = !p->auth_doc && p->auth_secret[0] ? p->auth_secret : p->ca_secret;
	json_t *doc = aws_call_json(r);
	const char *text = json_string_value(json_object_get(doc, "SecretString"));
	json_t *secret = text ? json_loads(text, 0, NULL) : NULL;
	json_decref(doc);
	if (!json_is_object(secret)) {
		char code[128], msg[256];
		aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
		fprintf(stderr, "lambdad: kafka mapping %s: the secret %s could not be read: %s %s (HTTP %ld)%s\n",
			p->uuid, which, r->rc ? r->error : code, msg, r->status,
			r->status == 200 ? " (its SecretString is not a JSON object)" : "");
		json_decref(secret);
		secrets_later(p, "PROBLEM: Lambda couldn't read the secret of SourceAccessConfigurations");
		return;
	}
	if (which == p->ca_secret)
		p->ca_doc = secret;
	else
		p->auth_doc = secret;
	read_secrets(p);
}

/* GetSecretValue of the next secret not read yet; with all read, the consumer */
static void read_secrets(struct kafka_poller *p)
{
	const char *id = p->auth_secret[0] && !p->auth_doc ? p->auth_secret
			 : p->ca_secret[0] && !p->ca_doc    ? p->ca_secret
							    : NULL;
	if (!id) {
		connect_consumer(p);
		return;
	}
	json_t *req = json_pack("{s:s}", "SecretId", id);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	aws_call_t c = { &p->sm_cfg, "secretsmanager", "POST", "/", "application/x-amz-json-1.1",
			 "secretsmanager.GetSecretValue", body, body ? strlen(body) : 0, KAFKA_SECRET_RESPONSE_MAX,
			 KAFKA_SECRET_CALL_MS };
	int rc = body ? aws_call_send(p->ob, &c, on_secret, p) : LD_ENOMEM;
	free(body);
	if (rc) {
		fprintf(stderr, "lambdad: kafka mapping %s: GetSecretValue of %s not sent (%s)\n", p->uuid, id,
			ld_strerror(rc));
		secrets_later(p, "PROBLEM: Lambda couldn't read the secret of SourceAccessConfigurations");
		return;
	}
	p->calling = 1;
}

/* the consumer, with the settings the secrets give */
static void connect_consumer(struct kafka_poller *p)
{
	const char *why = NULL;
	struct kafkaauth_plan plan = { p->auth_kind, p->auth_secret[0] ? p->auth_secret : NULL,
				       p->ca_secret[0] ? p->ca_secret : NULL };
	json_t *auth = kafkaauth_conf(&plan, p->auth_doc, p->ca_doc, p->srv->kafka_sasl_plaintext, &why);
	json_decref(p->auth_doc);
	json_decref(p->ca_doc);
	p->auth_doc = p->ca_doc = NULL;
	if (!auth) {
		fprintf(stderr, "lambdad: kafka mapping %s: %s\n", p->uuid, why);
		secrets_later(p, "PROBLEM: Lambda couldn't read the secret of SourceAccessConfigurations");
		return;
	}
	int rc = consumer_new(p, p->group, p->reset, p->topics, auth);
	json_decref(auth);
	if (rc) {
		consumer_close(p);
		if (!p->secret_timer)
			p->secret_timer = timer_at(p, KAFKA_SECRET_RETRY_MS, on_secret_timer, p);
		return;
	}
	p->tick_timer = timer_at(p, KAFKA_TICK_MS, on_tick, p);
	drain(p);
}

struct kafka_poller *kafka_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid,
					json_t *doc)
{
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	const char *msk = json_object_get(doc, "SelfManagedEventSource")
				  ? NULL
				  : json_string_value(json_object_get(doc, "EventSourceArn"));
	json_t *servers = msk ? msk_servers(srv, msk)
			      : json_incref(json_object_get(
					json_object_get(json_object_get(doc, "SelfManagedEventSource"), "Endpoints"),
					"KAFKA_BOOTSTRAP_SERVERS"));
	json_t *topics = json_object_get(doc, "Topics");
	struct arn fa;
	if (msk && !servers)
		fprintf(stderr, "lambdad: kafka mapping %s: no --msk-cluster for %s; not polled\n", uuid, msk);
	if (!fn || arn_parse(fn, &fa) || strncmp(fa.resource, "function:", 9) || !json_array_size(servers) ||
	    !json_array_size(topics) || (msk && strlen(msk) >= sizeof(((struct kafka_poller *)0)->msk_arn))) {
		json_decref(servers);
		return NULL;
	}
	struct kafka_poller *p = calloc(1, sizeof(*p));
	if (!p) {
		json_decref(servers);
		return NULL;
	}
	p->srv = srv;
	p->efd = -1;
	snprintf(p->msk_arn, sizeof(p->msk_arn), "%s", msk ? msk : "");
	p->pending_tail = &p->pending;
	snprintf(p->scope, sizeof(p->scope), "%s", scope);
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	poller_function(fa.resource + 9, p->fn_name, sizeof(p->fn_name), p->qualifier, sizeof(p->qualifier));
	size_t i, used = 0;
	json_t *s;
	json_array_foreach(servers, i, s) {
		const char *host = json_string_value(s);
		int n = host ? snprintf(p->servers + used, sizeof(p->servers) - used, "%s%s", used ? "," : "", host) : 0;
		if (n < 0 || (size_t)n >= sizeof(p->servers) - used) {
			json_decref(servers);
			poller_free(p);
			return NULL;
		}
		used += (size_t)n;
	}
	json_decref(servers);
	p->batch_size = poller_int(doc, "BatchSize", 100);
	if (p->batch_size < 1)
		p->batch_size = 1;
	json_t *w = json_object_get(doc, "MaximumBatchingWindowInSeconds");
	p->window_ms = json_is_integer(w) && json_integer_value(w) >= 0 ? (uint64_t)json_integer_value(w) * 1000
									 : QUOTA_KAFKA_WINDOW_MS;
	p->filters = poller_filters(doc);
	snprintf(p->fn_arn, sizeof(p->fn_arn), "%s", fn);
	p->max_retries = poller_int(doc, "MaximumRetryAttempts", -1);
	p->max_age_s = poller_int(doc, "MaximumRecordAgeInSeconds", -1);
	p->bisect = json_is_true(json_object_get(doc, "BisectBatchOnFunctionError"));
	size_t k;
	json_t *rt;
	json_array_foreach(json_object_get(doc, "FunctionResponseTypes"), k, rt)
		if (!strcmp(json_string_value(rt) ?: "", "ReportBatchItemFailures"))
			p->report_failures = 1;
	snprintf(p->on_failure, sizeof(p->on_failure), "%s",
		 json_string_value(json_object_get(
			 json_object_get(json_object_get(doc, "DestinationConfig"), "OnFailure"), "Destination")) ?: "");
	if (p->on_failure[0] && p->max_retries < 0) /* AWS: infinite retries with a destination are 10 */
		p->max_retries = KAFKA_DEST_RETRIES;
	snprintf(p->last_result, sizeof(p->last_result), "%s",
		 json_string_value(json_object_get(doc, "LastProcessingResult")) ?: "");
	const char *group = json_string_value(json_object_get(
		json_object_get(doc, msk ? "AmazonManagedKafkaEventSourceConfig" : "SelfManagedKafkaEventSourceConfig"),
		"ConsumerGroupId"));
	const char *pos = json_string_value(json_object_get(doc, "StartingPosition"));
	snprintf(p->group, sizeof(p->group), "%s", group && *group ? group : uuid);
	snprintf(p->reset, sizeof(p->reset), "%s", pos && !strcmp(pos, "LATEST") ? "latest" : "earliest");
	p->topics = json_incref(topics);
	p->ob = ob;
	struct kafkaauth_plan plan;
	const char *why = NULL;
	if (kafkaauth_plan(json_object_get(doc, "SourceAccessConfigurations"), msk != NULL, &plan, &why) ||
	    (plan.auth_secret && strlen(plan.auth_secret) >= sizeof(p->auth_secret)) ||
	    (plan.ca_secret && strlen(plan.ca_secret) >= sizeof(p->ca_secret))) {
		fprintf(stderr, "lambdad: kafka mapping %s: SourceAccessConfigurations: %s; not polled\n", uuid,
			why ? why : "a URI too long");
		poller_free(p);
		return NULL;
	}
	p->auth_kind = plan.kind;
	snprintf(p->auth_secret, sizeof(p->auth_secret), "%s", plan.auth_secret ? plan.auth_secret : "");
	snprintf(p->ca_secret, sizeof(p->ca_secret), "%s", plan.ca_secret ? plan.ca_secret : "");
	struct arn sa;
	const char *first = p->auth_secret[0] ? p->auth_secret : p->ca_secret;
	if (aws_config_from_env(&p->sm_cfg, "SECRETS_MANAGER", "secretsmanager", srv->aws_endpoint,
				first[0] && arn_parse(first, &sa) == 0 ? sa.region : fa.region)) {
		poller_free(p);
		return NULL;
	}
	read_secrets(p); /* none to read: the consumer at once */
	if (!p->rk && !p->calling && !p->secret_timer) {
		poller_free(p);
		return NULL;
	}
	return p;
}

const struct poller_stats *kafka_poller_stats(const struct kafka_poller *p)
{
	return &p->stats;
}

void kafka_poller_stop(struct kafka_poller *p)
{
	if (!p)
		return;
	p->stopped = 1;
	cancel(p, &p->tick_timer);
	cancel(p, &p->window_timer);
	cancel(p, &p->retry_timer);
	cancel(p, &p->drain_timer);
	cancel(p, &p->secret_timer);
	consumer_close(p);
	if (!p->invoking && !p->delivering && !p->calling)
		poller_free(p);
}
