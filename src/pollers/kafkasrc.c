/*
 * kafkasrc.c - the Kafka event records, filter view and event (kafkasrc.h).
 */
#include "pollers/kafkasrc.h"
#include "util/base64.h"
#include "util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kafkasrc_key(const char *topic, int32_t partition, char *out, size_t n)
{
	snprintf(out, n, "%s-%d", topic, (int)partition);
}

static json_t *header_of(const struct kafkasrc_header *h, size_t *bytes)
{
	json_t *list = json_array();
	for (size_t k = 0; list && h->value && k < h->len; k++)
		if (json_array_append_new(list, json_integer(((const signed char *)h->value)[k]))) {
			json_decref(list);
			return NULL;
		}
	json_t *obj = list ? json_object() : NULL;
	if (!obj || json_object_set_new(obj, h->name, list)) { /* set_new takes list, also on failure */
		if (!obj)
			json_decref(list);
		json_decref(obj);
		return NULL;
	}
	*bytes += strlen(h->name) + 8 + h->len * 5;
	return obj;
}

json_t *kafkasrc_record(const struct kafkasrc_msg *m, size_t *bytes)
{
	const char *type = m->ts_type == KAFKASRC_TS_CREATE	    ? "CREATE_TIME"
			   : m->ts_type == KAFKASRC_TS_LOG_APPEND ? "LOG_APPEND_TIME"
								  : "NO_TIMESTAMP_TYPE";
	char *key = m->key ? b64_encode(m->key, m->key_len) : NULL;
	char *value = b64_encode(m->value ? m->value : "", m->value ? m->value_len : 0);
	json_t *headers = json_array();
	json_t *r = json_object();
	size_t n = strlen(m->topic) + 160 + (value ? strlen(value) : 0) + (key ? strlen(key) : 0);
	if (!value || !headers || !r || (m->key && !key))
		goto fail;
	for (size_t i = 0; i < m->nheaders; i++) {
		if (!m->headers[i].name)
			continue;
		json_t *h = header_of(&m->headers[i], &n); /* NULL: a name that is not UTF-8, left out */
		if (h && json_array_append_new(headers, h))
			goto fail;
	}
	if (json_object_set_new(r, "topic", json_string(m->topic)) ||
	    json_object_set_new(r, "partition", json_integer(m->partition)) ||
	    json_object_set_new(r, "offset", json_integer(m->offset)) ||
	    json_object_set_new(r, "timestamp", json_integer(m->timestamp)) ||
	    json_object_set_new(r, "timestampType", json_string(type)) ||
	    (key && json_object_set_new(r, "key", json_string(key))) ||
	    json_object_set_new(r, "value", json_string(value))) {
		json_decref(headers);
		goto fail_r;
	}
	if (json_object_set_new(r, "headers", headers))
		goto fail_r;
	free(key);
	free(value);
	*bytes = n;
	return r;
fail:
	json_decref(headers);
fail_r:
	free(key);
	free(value);
	json_decref(r);
	return NULL;
}

json_t *kafkasrc_filter_view(const void *value, size_t len)
{
	const char *v = value ? value : "";
	if (!value)
		len = 0;
	json_t *doc = json_loadb(v, len, JSON_DECODE_ANY, NULL);
	if (!doc)
		doc = json_stringn(v, len); /* NULL when not UTF-8 */
	return doc ? json_pack("{s:o}", "value", doc) : NULL;
}

json_t *kafkasrc_event(const char *msk_arn, const char *servers, json_t *records)
{
	if (msk_arn)
		return json_pack("{s:s,s:s,s:s,s:o}", "eventSource", "aws:kafka", "eventSourceArn", msk_arn,
				 "bootstrapServers", servers, "records", records);
	return json_pack("{s:s,s:s,s:o}", "eventSource", "SelfManagedKafka", "bootstrapServers", servers, "records",
			 records);
}

/* {"firstRecordOffset",...} of one partition's records (a non-empty array) */
static json_t *partition_info(json_t *recs)
{
	json_t *first = json_array_get(recs, 0), *last = json_array_get(recs, json_array_size(recs) - 1);
	char o1[24], o2[24], t1[25], t2[25];
	snprintf(o1, sizeof(o1), "%lld", (long long)json_integer_value(json_object_get(first, "offset")));
	snprintf(o2, sizeof(o2), "%lld", (long long)json_integer_value(json_object_get(last, "offset")));
	ids_time_iso(json_integer_value(json_object_get(first, "timestamp")), t1);
	ids_time_iso(json_integer_value(json_object_get(last, "timestamp")), t2);
	return json_pack("{s:s,s:s,s:s,s:s}", "firstRecordOffset", o1, "lastRecordOffset", o2, "firstRecordTimestamp",
			 t1, "lastRecordTimestamp", t2);
}

json_t *kafkasrc_batch_info(const char *msk_arn, const char *servers, json_t *records, size_t payload_size)
{
	json_t *infos = json_object();
	size_t n = 0;
	const char *key;
	json_t *recs;
	json_object_foreach(records, key, recs) {
		if (!json_array_size(recs))
			continue;
		n += json_array_size(recs);
		if (!infos || json_object_set_new(infos, key, partition_info(recs))) {
			json_decref(infos);
			return NULL;
		}
	}
	json_t *info = infos ? json_pack("{s:I}", "batchSize", (json_int_t)n) : NULL;
	if (!info || (msk_arn && json_object_set_new(info, "eventSourceArn", json_string(msk_arn))) ||
	    json_object_set_new(info, "bootstrapServers", json_string(servers)) ||
	    json_object_set_new(info, "payloadSize", json_integer((json_int_t)payload_size)) ||
	    json_object_set_new(info, "recordsInfo", infos)) {
		if (!info)
			json_decref(infos);
		json_decref(info);
		return NULL;
	}
	return info;
}

/* whether the records of one partition (an array) hold offset */
static int has_offset(json_t *recs, json_int_t offset)
{
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r)
		if (json_integer_value(json_object_get(r, "offset")) == offset)
			return 1;
	return 0;
}

json_t *kafkasrc_failures(const char *payload, size_t len, json_t *records)
{
	json_t *doc = payload && len ? json_loadb(payload, len, JSON_DECODE_ANY, NULL) : NULL;
	json_t *out = json_object();
	if (!out || (payload && len && !doc))
		goto bad;
	if (!doc || json_is_null(doc) || (json_is_string(doc) && !*json_string_value(doc)) ||
	    (json_is_array(doc) && !json_array_size(doc)))
		goto done;
	if (!json_is_object(doc))
		goto bad;
	json_t *list = json_object_get(doc, "batchItemFailures");
	if (!list || json_is_null(list))
		goto done;
	if (!json_is_array(list))
		goto bad;
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		json_t *id = json_object_get(f, "itemIdentifier");
		const char *key = json_string_value(json_object_get(id, "topic-partition"));
		json_t *off = json_object_get(id, "offset");
		json_t *recs = key ? json_object_get(records, key) : NULL;
		if (!recs || !json_is_integer(off) || !has_offset(recs, json_integer_value(off)))
			goto bad;
		json_t *low = json_object_get(out, key);
		if ((!low || json_integer_value(off) < json_integer_value(low)) &&
		    json_object_set_new(out, key, json_integer(json_integer_value(off))))
			goto bad;
	}
done:
	json_decref(doc);
	return out;
bad:
	json_decref(doc);
	json_decref(out);
	return NULL;
}
