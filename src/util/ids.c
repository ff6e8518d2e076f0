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

/* Request ids and RevisionIds need uniqueness, not secrecy: they come from
 * a xoshiro256** generator seeded once from RAND_bytes, which costs a few
 * instructions instead of a locked DRBG call per id. */
static uint64_t rng_s[4];
static int rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
	if (!rng_seeded) {
		if (ids_random(rng_s, sizeof(rng_s)) || !(rng_s[0] | rng_s[1] | rng_s[2] | rng_s[3]))
			rng_s[0] = 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
		rng_seeded = 1;
	}
	uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return r;
}

void ids_unique_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	for (size_t i = 0; i < nbytes; i++) {
		if (i % 8 == 0)
			r = rng_next();
		unsigned char b = (unsigned char)(r >> (8 * (i % 8)));
		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 15];
	}
	out[2 * nbytes] = '\0';
}

void ids_uuid4(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t a = rng_next(), c = rng_next();
	memcpy(b, &a, 8);
	memcpy(b + 8, &c, 8);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = '\0';
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
