/*
 * kafka_mock.c - the Kafka cluster of the black-box tests
 * (tests/api/test_kafka.py). Debian ships no Kafka broker, so this is
 * librdkafka's own mock cluster (rdkafka_mock.h, librdkafka's test
 * facility): brokers in this process on loopback ports, speaking the Kafka
 * protocol well enough for producers and consumer groups (joins,
 * rebalances, commits). It is a test tool, built into build/test/ and never
 * part of lambdad.
 *
 * Usage: kafka_mock [BROKERS]. It prints one line, {"bootstrap":
 * "127.0.0.1:PORT,..."}, then reads one JSON command a line on stdin and
 * answers each with one JSON line on stdout:
 *   {"op":"topic","name":T,"partitions":N}         -> {"ok":true}
 *   {"op":"produce","topic":T,"partition":P (optional),"key":K (optional,
 *    null or absent: none),"value":V,"headers":[[NAME,VALUE],...] (optional),
 *    "timestamp":MS (optional: the record's create time; now when absent)}
 *                                                   -> {"partition":P,"offset":O}
 *   {"op":"committed","group":G,"topic":T,"partition":P}
 *                                                   -> {"offset":O} (-1001: none)
 * Failures answer {"error":"..."}. It exits at the end of its input.
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (4u << 20) /* a command line; longer ones are refused */

struct delivery {
	int done;
	rd_kafka_resp_err_t err;
	int32_t partition;
	int64_t offset;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct delivery *d = m->_private;
	d->done = 1;
	d->err = m->err;
	d->partition = m->partition;
	d->offset = m->offset;
}

static void answer(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	printf("%s\n", text ? text : "{\"error\":\"out of memory\"}");
	fflush(stdout);
	free(text);
	json_decref(doc);
}

static json_t *error(const char *what)
{
	return json_pack("{s:s}", "error", what);
}

static json_t *produce(rd_kafka_t *producer, json_t *cmd)
{
	const char *topic = json_string_value(json_object_get(cmd, "topic"));
	json_t *key = json_object_get(cmd, "key"), *value = json_object_get(cmd, "value");
	json_t *part = json_object_get(cmd, "partition");
	if (!topic || !json_is_string(value) || (key && !json_is_null(key) && !json_is_string(key)))
		return error("produce needs topic and value (strings)");
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(4);
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(cmd, "headers"), i, h) {
		const char *name = json_string_value(json_array_get(h, 0)), *v = json_string_value(json_array_get(h, 1));
		if (name && v)
			rd_kafka_header_add(hdrs, name, -1, v, (ssize_t)strlen(v));
	}
	struct delivery d = { 0 };
	const char *k = json_string_value(key);
	rd_kafka_resp_err_t err = rd_kafka_producev(
		producer, RD_KAFKA_V_TOPIC(topic),
		RD_KAFKA_V_PARTITION(json_is_integer(part) ? (int32_t)json_integer_value(part) : RD_KAFKA_PARTITION_UA),
		RD_KAFKA_V_KEY(k, k ? strlen(k) : 0),
		RD_KAFKA_V_VALUE((void *)json_string_value(value), json_string_length(value)),
		RD_KAFKA_V_TIMESTAMP((int64_t)json_integer_value(json_object_get(cmd, "timestamp"))),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(&d), RD_KAFKA_V_END);
	if (err) {
		rd_kafka_headers_destroy(hdrs); /* not taken on failure */
		return error(rd_kafka_err2str(err));
	}
	rd_kafka_flush(producer, 10000);
	if (!d.done)
		return error("not delivered within 10 s");
	if (d.err)
		return error(rd_kafka_err2str(d.err));
	return json_pack("{s:i,s:I}", "partition", (int)d.partition, "offset", (json_int_t)d.offset);
}

static json_t *committed(const char *bootstrap, json_t *cmd)
{
	const char *group = json_string_value(json_object_get(cmd, "group"));
	const char *topic = json_string_value(json_object_get(cmd, "topic"));
	json_t *part = json_object_get(cmd, "partition");
	if (!group || !topic || !json_is_integer(part))
		return error("committed needs group, topic and partition");
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr))) {
		rd_kafka_conf_destroy(conf);
		return error(errstr);
	}
	rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!c) {
		rd_kafka_conf_destroy(conf);
		return error(errstr);
	}
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(list, topic, (int32_t)json_integer_value(part));
	rd_kafka_resp_err_t err = rd_kafka_committed(c, list, 10000);
	json_t *out = err ? error(rd_kafka_err2str(err))
		    : list->elems[0].err ? error(rd_kafka_err2str(list->elems[0].err))
					 : json_pack("{s:I}", "offset", (json_int_t)list->elems[0].offset);
	rd_kafka_topic_partition_list_destroy(list);
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	return out;
}

int main(int argc, char **argv)
{
	int brokers = argc > 1 ? atoi(argv[1]) : 1;
	char errstr[512];
	/* the handle that owns the mock cluster */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!owner) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, brokers > 0 ? brokers : 1);
	if (!mc) {
		fprintf(stderr, "kafka_mock: no mock cluster\n");
		return 1;
	}
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof(errstr))) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!producer) {
		fprintf(stderr, "kafka_mock: %s\n", errstr);
		return 1;
	}
	answer(json_pack("{s:s}", "bootstrap", bootstrap));
	char *line = malloc(LINE_MAX_BYTES);
	if (!line)
		return 1;
	while (fgets(line, LINE_MAX_BYTES, stdin)) {
		size_t n = strlen(line);
		if (n && line[n - 1] != '\n' && !feof(stdin)) { /* too long: the rest of it goes too */
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				;
			answer(error("command too long"));
			continue;
		}
		json_t *cmd = json_loadb(line, n, 0, NULL);
		const char *op = json_string_value(json_object_get(cmd, "op"));
		if (!op) {
			answer(error("a command is a JSON object with op"));
		} else if (!strcmp(op, "topic")) {
			const char *name = json_string_value(json_object_get(cmd, "name"));
			json_int_t parts = json_integer_value(json_object_get(cmd, "partitions"));
			rd_kafka_resp_err_t err =
				name ? rd_kafka_mock_topic_create(mc, name, parts > 0 ? (int)parts : 1, 1)
				     : RD_KAFKA_RESP_ERR__INVALID_ARG;
			answer(err ? error(rd_kafka_err2str(err)) : json_pack("{s:b}", "ok", 1));
		} else if (!strcmp(op, "produce")) {
			answer(produce(producer, cmd));
		} else if (!strcmp(op, "committed")) {
			answer(committed(bootstrap, cmd));
		} else {
			answer(error("unknown op"));
		}
		json_decref(cmd);
	}
	free(line);
	rd_kafka_flush(producer, 5000);
	rd_kafka_destroy(producer);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(owner);
	return 0;
}
