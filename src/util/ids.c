/*
 * ids.c - random identifiers and AWS timestamp formats (see ids.h).
 */
#include "util/ids.h"
#include "util/err.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int ids_random(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : LD_EIO;
}

void ids_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	size_t done = 0;
	while (done < nbytes) {
		size_t n = nbytes - done < sizeof(b) ? nbytes - done : sizeof(b);
		ids_random(b, n);
		for (size_t i = 0; i < n; i++) {
			out[2 * (done + i)] = hex[b[i] >> 4];
			out[2 * (done + i) + 1] = hex[b[i] & 15];
		}
		done += n;
	}
	out[2 * nbytes] = '\0';
}

void ids_uuid4(char out[37])
{
	unsigned char b[16];
	ids_random(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

static void split(int64_t ms, struct tm *tm, int *millis)
{
	time_t s = (time_t)(ms / 1000);
	*millis = (int)(ms % 1000);
	gmtime_r(&s, tm);
}

void ids_time_lambda(int64_t epoch_ms, char out[29])
{
	struct tm tm;
	int ms;
	split(epoch_ms, &tm, &ms);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	memcpy(out, tmp, 28);
	out[28] = '\0';
}

void ids_time_iso(int64_t epoch_ms, char out[25])
{
	struct tm tm;
	int ms;
	split(epoch_ms, &tm, &ms);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	memcpy(out, tmp, 24);
	out[24] = '\0';
}
