/*
 * fuzz_logstore.c - libFuzzer harness for what the log store and the
 * CloudWatch Logs API parse: segment files (logs/logstore.c's record
 * reader, over any bytes a crash or a disk could leave) and pagination
 * tokens (logstore_token_parse, api/cwlogs.c's nextToken parsers).
 *
 * The first byte picks: 0-127 the rest is a stream's segment file, opened
 * through the store (the torn tail cut off, the stream read forward and
 * backward, one event appended and read back); 128-255 the rest is a token
 * for the three parsers (a parsed GetLogEvents token formats back to
 * itself). Replayed over tests/fuzz/corpus/logstore by replay_main.c.
 */
#include "api/cwlogs.h"
#include "logs/logstore.h"
#include "util/file.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_event(void *ud, const struct logstore_event *ev, struct logstore_pos at, struct logstore_pos next)
{
	volatile size_t *n = ud;
	*n += ev->len;
}

static void segment(const uint8_t *data, size_t size)
{
	char root[] = "/tmp/fuzz-logstore-XXXXXX", path[256];
	if (!mkdtemp(root))
		return;
	logstore_t *ls = NULL;
	ls_group_t *g;
	ls_stream_t *s;
	if (logstore_open(root, NULL, &ls) || logstore_group_create(ls, "1:r", "g", &g) ||
	    logstore_stream_create(ls, g, "s", &s))
		goto out;
	logstore_close(ls);
	ls = NULL;
	snprintf(path, sizeof(path), "%s/logs/1:r/g/s/00000001.seg", root);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	uint64_t count;
	size_t good = logstore_valid_prefix(data, size, &count);
	if (logstore_open(root, NULL, &ls))
		goto out;
	g = logstore_group(ls, "1:r", "g");
	s = g ? logstore_stream(g, "s") : NULL;
	if (!s)
		abort();
	struct logstore_stream_info si;
	logstore_stream_info(s, &si);
	if (si.events != count || si.bytes != good)
		abort(); /* opening keeps exactly the intact prefix */
	logstore_cursor_t *c;
	struct logstore_event ev;
	uint64_t n = 0;
	if (logstore_cursor_open(ls, s, (struct logstore_pos){ 0, 0 }, 0, -1, &c) == 0) {
		while (logstore_cursor_next(c, &ev, NULL, NULL) == 1)
			n++;
		logstore_cursor_close(c);
	}
	if (n != count)
		abort();
	volatile size_t bytes = 0;
	struct logstore_pos first;
	logstore_read_back(ls, s, LOGSTORE_POS_END, 0, -1, 7, 1000, 26, on_event, (void *)&bytes, &first);
	struct logstore_event add = { 5, 0, "appended", 8 };
	if (logstore_append(ls, s, &add, 1) == 0) {
		logstore_stream_info(s, &si);
		if (si.events != count + 1)
			abort();
	}
out:
	logstore_close(ls);
	file_rm_rf(root);
}

static void token(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);
	if (!t)
		return;
	memcpy(t, data, size);
	t[size] = 0;
	char dir, back[40];
	struct logstore_pos p;
	if (logstore_token_parse(t, &dir, &p) == 0) {
		logstore_token_format(dir, p, back);
		if (strcmp(back, t))
			abort();
	}
	size_t off;
	(void)cwlogs_parse_describe_token(t, &off);
	long long ts;
	unsigned long long skip;
	(void)cwlogs_parse_filter_token(t, &ts, &skip);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] < 128)
		segment(data + 1, size - 1);
	else
		token(data + 1, size - 1);
	return 0;
}
