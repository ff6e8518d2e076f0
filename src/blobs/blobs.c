/*
 * blobs.c - content-addressed archive storage (see blobs.h).
 */
#include "blobs/blobs.h"
#include "util/disk.h"
#include "util/err.h"
#include "util/file.h"
#include "util/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct blobs {
	char dir[4096];
	disk_t *disk; /* borrowed (blobs_use_disk), may be NULL */
	int sync; /* fsync each blob before its rename (LAMBDAD_SYNC_FULL=1) */
};

void blobs_use_disk(blobs_t *b, disk_t *d)
{
	b->disk = d;
}

int blobs_open(const char *data_dir, blobs_t **out)
{
	struct blobs *b = calloc(1, sizeof(*b));
	if (!b)
		return LD_ENOMEM;
	snprintf(b->dir, sizeof(b->dir), "%s/blobs", data_dir);
	const char *full = getenv("LAMBDAD_SYNC_FULL");
	b->sync = full && *full == '1';
	if (mkdir(b->dir, 0700) < 0 && errno != EEXIST) {
		free(b);
		return LD_EIO;
	}
	*out = b;
	return 0;
}

void blobs_close(blobs_t *b)
{
	free(b);
}

void blobs_digest(const void *data, size_t len, char hex[65], char b64[45])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256(data, len, d);
	if (hex) {
		static const char x[] = "0123456789abcdef";
		for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
			hex[2 * i] = x[d[i] >> 4];
			hex[2 * i + 1] = x[d[i] & 15];
		}
		hex[64] = '\0';
	}
	if (b64)
		EVP_EncodeBlock((unsigned char *)b64, d, SHA256_DIGEST_LENGTH);
}

static void blob_file(const struct blobs *b, const char *hex, char *out, size_t n)
{
	snprintf(out, n, "%s/%.2s/%s.zip", b->dir, hex, hex);
}

int blobs_path(blobs_t *b, const char *hex, char *out, size_t outlen)
{
	if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return LD_ENOTFOUND;
	blob_file(b, hex, out, outlen);
	return access(out, R_OK) == 0 ? 0 : LD_ENOTFOUND;
}

int blobs_put(blobs_t *b, const void *data, size_t len, const char hex[65])
{
	char path[4200], tmp[4300], sub[4200], rnd[17];
	int fd = -1, rc = LD_EIO;
	blob_file(b, hex, path, sizeof(path));
	if (access(path, F_OK) == 0)
		return 0; /* content-addressed: already there */
	if ((rc = disk_room(b->disk, len, path, "code blobs: upload refused")))
		return rc;
	rc = LD_EIO;
	ids_hex(rnd, 8);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, rnd);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		/* the first blob of its 2-hex directory */
		snprintf(sub, sizeof(sub), "%s/%.2s", b->dir, hex);
		if (mkdir(sub, 0700) < 0 && errno != EEXIST)
			return LD_EIO;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return disk_failed(b->disk, errno, tmp, "code blobs");
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = disk_failed(b->disk, errno, tmp, "code blobs");
			goto out;
		}
		p += w;
		left -= (size_t)w;
	}
	if (b->sync && fsync(fd) < 0) {
		rc = disk_failed(b->disk, errno, tmp, "code blobs");
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = disk_failed(b->disk, errno, tmp, "code blobs");
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	return rc;
}

int blobs_read(blobs_t *b, const char *hex, void **data, size_t *len)
{
	char path[4200];
	int rc = blobs_path(b, hex, path, sizeof(path));
	if (rc)
		return rc;
	rc = file_read(path, SIZE_MAX, data, len);
	return rc == LD_ENOMEM ? rc : rc ? LD_EIO : 0;
}
