/*
 * disk.c - free-space headroom and out-of-space reports (disk.h).
 *
 * disk_room looks at the file system (statvfs, f_bavail: what an
 * unprivileged writer may use) on every call: the callers are bulk writes,
 * a batch of log lines or an archive, for which one system call is
 * nothing, and a cached figure would miss what other writers (SQLite, a
 * process outside lambdad) used meanwhile.
 */
#include "util/disk.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

struct disk {
	char *dir;
	struct disk_reserve r;
	char *ballast;           /* DIR/.ballast */
	int has_ballast;
	int64_t ballast_try_ms;  /* the last failed attempt to write it */
	uint64_t failures;
	uint64_t unreported;     /* failures since the last line printed */
	int64_t last_fail_ms, last_note_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int disk_parse_reserve(const char *text, uint64_t *bytes, unsigned *pct)
{
	char *end;
	*bytes = 0;
	*pct = 0;
	if (!text || !*text || *text == '-' || *text == '+')
		return LD_EINVAL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text)
		return LD_EINVAL;
	if (*end == '%' && !end[1]) {
		if (v > 50)
			return LD_EINVAL;
		*pct = (unsigned)v;
		return 0;
	}
	if (*end)
		return LD_EINVAL;
	*bytes = v;
	return 0;
}

static uint64_t percent(uint64_t size, unsigned pct)
{
	return size / 100 * pct + size % 100 * pct / 100;
}

uint64_t disk_reserve_for(uint64_t size, const struct disk_reserve *r)
{
	if (r->bytes)
		return r->bytes;
	if (r->pct)
		return percent(size, r->pct);
	uint64_t cap = percent(size, r->default_pct);
	return r->default_bytes < cap ? r->default_bytes : cap;
}

/* size and avail of d's file system; 0 or LD_EIO */
static int look(const disk_t *d, uint64_t *size, uint64_t *avail)
{
	struct statvfs v;
	if (statvfs(d->dir, &v) < 0)
		return LD_EIO;
	uint64_t unit = v.f_frsize ? v.f_frsize : v.f_bsize;
	*size = (uint64_t)v.f_blocks * unit;
	*avail = (uint64_t)v.f_bavail * unit;
	return 0;
}

static uint64_t ballast_size(uint64_t reserve)
{
	return reserve / 4 < DISK_BALLAST_MAX ? reserve / 4 : DISK_BALLAST_MAX;
}

/* writes the ballast (real blocks: fallocate, or zeros where the file
 * system has no fallocate); 0 or LD_EIO (nothing left behind) */
static int ballast_make(disk_t *d, uint64_t n)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->ballast);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return LD_EIO;
	int rc = posix_fallocate(fd, 0, (off_t)n) == 0 ? 0 : LD_EIO;
	if (rc) {
		static const char zero[65536];
		uint64_t done = 0;
		rc = 0;
		while (done < n && !rc) {
			size_t k = n - done < sizeof(zero) ? (size_t)(n - done) : sizeof(zero);
			ssize_t w = write(fd, zero, k);
			if (w > 0)
				done += (uint64_t)w;
			else if (!(w < 0 && errno == EINTR))
				rc = LD_EIO;
		}
	}
	if (close(fd) < 0)
		rc = LD_EIO;
	if (!rc && rename(tmp, d->ballast) < 0)
		rc = LD_EIO;
	if (rc)
		unlink(tmp);
	return rc;
}

void disk_guard(disk_t *d)
{
	uint64_t size, avail;
	if (!d || look(d, &size, &avail))
		return;
	uint64_t reserve = disk_reserve_for(size, &d->r), n = ballast_size(reserve);
	if (!n)
		return;
	if (d->has_ballast && avail < n) {
		if (unlink(d->ballast) == 0 || errno == ENOENT) {
			d->has_ballast = 0;
			fprintf(stderr,
				"lambdad: disk: %s: %llu bytes free: deleted the ballast (%llu bytes) so that the store "
				"can write\n",
				d->dir, (unsigned long long)avail, (unsigned long long)n);
		}
	} else if (!d->has_ballast && avail >= reserve + n &&
		   (!d->ballast_try_ms || mono_ms() - d->ballast_try_ms >= DISK_NOTICE_MS)) {
		d->has_ballast = ballast_make(d, n) == 0;
		d->ballast_try_ms = d->has_ballast ? 0 : mono_ms();
	}
}

int disk_open(const char *dir, const struct disk_reserve *r, disk_t **out)
{
	uint64_t size, avail;
	disk_t *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (!d || !(d->dir = strdup(dir)) || !(d->ballast = malloc(strlen(dir) + 10))) {
		if (d)
			free(d->dir);
		free(d);
		return LD_ENOMEM;
	}
	sprintf(d->ballast, "%s/.ballast", dir);
	d->r = *r;
	if (look(d, &size, &avail)) {
		disk_close(d);
		return LD_EIO;
	}
	/* one left by an earlier run, of the size this run wants */
	struct stat st;
	uint64_t n = ballast_size(disk_reserve_for(size, &d->r));
	d->has_ballast = stat(d->ballast, &st) == 0 && (uint64_t)st.st_size == n;
	if (!d->has_ballast)
		unlink(d->ballast);
	disk_guard(d);
	*out = d;
	return 0;
}

void disk_close(disk_t *d)
{
	if (!d)
		return;
	free(d->dir);
	free(d->ballast);
	free(d);
}

void disk_set_reserve(disk_t *d, const struct disk_reserve *r)
{
	d->r = *r;
}

int disk_full_errno(int err)
{
	return err == ENOSPC || err == EDQUOT;
}

/* one line per burst: the first failure after DISK_NOTICE_MS without any,
 * then at most one every DISK_NOTICE_MS */
static void note(disk_t *d, const char *why, const char *path, const char *what)
{
	int64_t now = mono_ms();
	d->failures++;
	d->unreported++;
	int quiet = !d->last_fail_ms || now - d->last_fail_ms >= DISK_NOTICE_MS;
	d->last_fail_ms = now;
	if (!quiet && now - d->last_note_ms < DISK_NOTICE_MS)
		return;
	if (d->unreported > 1)
		fprintf(stderr, "lambdad: disk: %s: %s: %s (and %llu more writes refused for space since the last line)\n",
			what, path, why, (unsigned long long)(d->unreported - 1));
	else
		fprintf(stderr, "lambdad: disk: %s: %s: %s\n", what, path, why);
	d->unreported = 0;
	d->last_note_ms = now;
}

int disk_room(disk_t *d, uint64_t need, const char *path, const char *what)
{
	uint64_t size, avail;
	if (!d || look(d, &size, &avail))
		return 0; /* the write itself will say */
	uint64_t reserve = disk_reserve_for(size, &d->r);
	if (avail >= reserve && avail - reserve >= need)
		return 0;
	if (!path)
		return LD_ENOSPC; /* a question, not a refused write */
	char why[256];
	snprintf(why, sizeof(why),
		 "%s (writing %llu bytes would leave less than the reserve of %llu bytes free: %llu free; --disk-reserve)",
		 strerror(ENOSPC), (unsigned long long)need, (unsigned long long)reserve, (unsigned long long)avail);
	note(d, why, path, what);
	return LD_ENOSPC;
}

int disk_failed(disk_t *d, int err, const char *path, const char *what)
{
	if (!disk_full_errno(err))
		return LD_EIO;
	if (d)
		note(d, strerror(err), path, what);
	else
		fprintf(stderr, "lambdad: disk: %s: %s: %s\n", what, path, strerror(err));
	return LD_ENOSPC;
}

void disk_stats(disk_t *d, struct disk_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (look(d, &out->size, &out->avail) == 0)
		out->reserve = disk_reserve_for(out->size, &d->r);
	out->failures = d->failures;
}
