/*
 * spool.c - a request body on its way in (see spool.h): memory while small
 * and within the budget, else an unlinked temporary file hashed as it grows.
 */
#include "util/spool.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void spool_init(spool_t *s, spool_budget_t *budget, const char *dir, size_t threshold, size_t cap,
		uint64_t expect)
{
	memset(s, 0, sizeof(*s));
	s->budget = budget;
	s->dir = dir;
	s->threshold = threshold;
	s->cap = cap;
	s->direct = expect > threshold;
	s->fd = -1;
	buf_init(&s->mem, cap);
}

/* sets what the buffer holds of the budget */
static void charge(spool_t *s, size_t bytes)
{
	s->budget->used = s->budget->used - s->charged + bytes;
	s->charged = bytes;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return LD_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* to the file: appends and hashes */
static int file_append(spool_t *s, const void *p, size_t n)
{
	int rc = write_all(s->fd, p, n);
	if (rc)
		return rc;
	if (!EVP_DigestUpdate(s->sha, p, n))
		return LD_ENOMEM;
	s->len += n;
	return 0;
}

/* an unlinked file in dir: O_TMPFILE, or a named one unlinked at once
 * where the file system has no O_TMPFILE */
static int open_tmp(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/.body-XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* moves the body to a file */
static int spill(spool_t *s)
{
	int rc;
	s->fd = open_tmp(s->dir);
	if (s->fd < 0)
		return LD_EIO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	s->sha = ctx;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		return LD_ENOMEM;
	s->budget->spilled++;
	size_t held = s->mem.len;
	s->len = 0;
	if (held && (rc = file_append(s, s->mem.data, held)) != 0)
		return rc;
	buf_free(&s->mem);
	charge(s, 0);
	return 0;
}

int spool_append(spool_t *s, const void *p, size_t n)
{
	int rc;
	if (!n)
		return 0;
	if (n > s->cap || s->len > s->cap - n)
		return LD_ETOOBIG;
	if (s->fd < 0) {
		size_t need = s->mem.len + n;
		size_t more = need > s->charged ? need - s->charged : 0;
		if (!s->direct && need <= s->threshold && s->budget->used + more <= s->budget->limit) {
			if ((rc = buf_append(&s->mem, p, n)) != 0)
				return rc;
			charge(s, s->mem.alloc);
			s->len += n;
			return 0;
		}
		if ((rc = spill(s)) != 0)
			return rc;
	}
	return file_append(s, p, n);
}

int spool_on_disk(const spool_t *s)
{
	return s->fd >= 0;
}

int spool_finish(spool_t *s, const char **data, size_t *len, const char **sha256)
{
	if (s->fd < 0) {
		*data = s->mem.data ? s->mem.data : "";
		*len = s->mem.len;
		*sha256 = NULL;
		return 0;
	}
	if (!s->map) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned mdlen = 0;
		if (!EVP_DigestFinal_ex(s->sha, md, &mdlen) || mdlen != 32)
			return LD_ENOMEM;
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(s->hex + 2 * i, 3, "%02x", md[i]);
		/* the terminator, after the body's bytes and outside its length */
		int rc = write_all(s->fd, "", 1);
		if (rc)
			return rc;
		void *m = mmap(NULL, (size_t)s->len + 1, PROT_READ, MAP_PRIVATE, s->fd, 0);
		if (m == MAP_FAILED)
			return LD_EIO;
		s->map = m;
		s->maplen = (size_t)s->len + 1;
	}
	*data = s->map;
	*len = (size_t)s->len;
	*sha256 = s->hex;
	return 0;
}

buf_t *spool_buffer(spool_t *s)
{
	return s->fd < 0 ? &s->mem : NULL;
}

void spool_free(spool_t *s)
{
	buf_free(&s->mem);
	if (s->budget)
		charge(s, 0);
	if (s->map)
		munmap(s->map, s->maplen);
	s->map = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	EVP_MD_CTX_free(s->sha);
	s->sha = NULL;
}
