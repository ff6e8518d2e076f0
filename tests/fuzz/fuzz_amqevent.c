/*
 * fuzz_amqevent.c - libFuzzer harness for what an ActiveMQ delivery becomes
 * (pollers/amqevent.c): the input is a delivery's bytes, decoded by
 * qpid-proton as the poller decodes them; any message it decodes must give
 * an event member (whatever its ids, annotations, properties and body) and
 * a filter view, without a sanitizer report. Replayed over
 * tests/fuzz/corpus/amqevent by tests/fuzz/replay_main.c.
 */
#include "pollers/amqevent.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include <proton/message.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pn_message_t *m = pn_message();
	if (!m)
		return 0;
	if (amqevent_decode(m, (const char *)data, size) == 0) {
		int again = amqevent_redelivered(m, (const char *)data, size, (int)(size & 1));
		json_t *msg = amqevent_message(m, "q", again, 1);
		json_t *view = msg ? amqevent_filter_view(msg) : NULL;
		json_t *list = msg ? json_pack("[O]", msg) : NULL;
		char *event = list ? amqevent_event("arn:aws:mq:us-east-1:1:broker:b:b-1", list) : NULL;
		free(event);
		json_decref(list);
		json_decref(view);
		json_decref(msg);
	}
	pn_message_free(m);
	return 0;
}
