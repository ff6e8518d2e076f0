/*
 * layer.c - unpacking container image layers (layer.h).
 */
#include "blobs/layer.h"
#include "util/err.h"
#include "util/str.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

struct unpack {
	struct archive *a;
	int root;
	uint64_t max, written;
};

static int sys_err(void)
{
	switch (errno) {
	case ELOOP: case ENOTDIR: case EISDIR: case EEXIST: case EXDEV:
		return LD_EUNSAFE;
	default:
		return LD_EIO;
	}
}

/* relative (after dropping leading slashes), no "..", bounded lengths */
static int name_ok(const char *p)
{
	const char *c;
	size_t n;
	if (!p || strlen(p) >= PATH_MAX)
		return 0;
	while (str_path_next(&p, &c, &n))
		if (n > NAME_MAX || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
	return 1;
}

/* Walks to the directory holding path's last component, creating the
 * directories on the way (without following symlinks); *dir gets it (the
 * root or a descriptor to close), last the last component ("" for the
 * root itself). */
static int walk_parent(struct unpack *u, const char *path, int *dir, char last[NAME_MAX + 1])
{
	const char *p = path, *c;
	size_t n;
	*dir = u->root;
	last[0] = '\0';
	if (!str_path_next(&p, &c, &n))
		return 0;
	for (;;) {
		memcpy(last, c, n);
		last[n] = '\0';
		if (!str_path_next(&p, &c, &n))
			return 0;
		if (mkdirat(*dir, last, 0755) < 0 && errno != EEXIST)
			goto fail;
		int fd = openat(*dir, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		if (*dir != u->root)
			close(*dir);
		*dir = fd;
	}
fail:;
	int rc = sys_err();
	if (*dir != u->root)
		close(*dir);
	*dir = -1;
	return rc;
}

/* an earlier entry of this name goes (not a directory: a directory stays
 * and gets the new one's contents, as tar does) */
static void replace(int dir, const char *name)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		unlinkat(dir, name, 0);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return LD_EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_file(struct unpack *u, int dir, const char *name, mode_t perm)
{
	replace(dir, name);
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sys_err();
	char chunk[65536];
	la_ssize_t n;
	int rc = 0;
	while ((n = archive_read_data(u->a, chunk, sizeof chunk)) > 0) {
		u->written += (uint64_t)n;
		if (u->written > u->max) {
			rc = LD_ETOOBIG;
			break;
		}
		if ((rc = write_all(fd, chunk, (size_t)n)))
			break;
	}
	if (n < 0 && !rc)
		rc = LD_ECORRUPT;
	if (!rc && fchmod(fd, perm & 0777) < 0)
		rc = LD_EIO;
	if (close(fd) < 0 && !rc)
		rc = LD_EIO;
	return rc;
}

static int place(struct unpack *u, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);
	if (!name_ok(path))
		return LD_EUNSAFE;
	char last[NAME_MAX + 1];
	int dir, rc = walk_parent(u, path, &dir, last);
	if (rc)
		return rc;
	mode_t type = archive_entry_filetype(e);
	const char *hard = archive_entry_hardlink(e);
	if (!last[0]) {
		rc = 0; /* the root itself */
	} else if (!strcmp(last, OPAQUE)) {
		rc = fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) == 0 ? 0 : LD_EIO;
	} else if (!strncmp(last, WHITEOUT, strlen(WHITEOUT))) {
		const char *gone = last + strlen(WHITEOUT);
		if (!*gone || !strcmp(gone, ".") || !strcmp(gone, "..")) {
			rc = LD_EUNSAFE;
		} else {
			replace(dir, gone);
			rc = mknodat(dir, gone, S_IFCHR | 0, makedev(0, 0)) == 0 || errno == EEXIST ? 0 : LD_EIO;
		}
	} else if (hard) {
		/* an earlier entry of this layer, walked the same careful way */
		char target_last[NAME_MAX + 1];
		int tdir;
		if (!name_ok(hard)) {
			rc = LD_EUNSAFE;
		} else if (!(rc = walk_parent(u, hard, &tdir, target_last))) {
			replace(dir, last);
			rc = target_last[0] && linkat(tdir, target_last, dir, last, 0) == 0 ? 0 : LD_EUNSAFE;
			if (tdir != u->root)
				close(tdir);
		}
	} else if (type == AE_IFDIR) {
		replace(dir, last);
		if (mkdirat(dir, last, 0755) < 0 && errno != EEXIST) {
			rc = sys_err();
		} else {
			int fd = openat(dir, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = fd < 0 ? sys_err() : fchmod(fd, archive_entry_perm(e) & 0777) == 0 ? 0 : LD_EIO;
			if (fd >= 0)
				close(fd);
		}
	} else if (type == AE_IFREG) {
		rc = write_file(u, dir, last, archive_entry_perm(e));
	} else if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		replace(dir, last);
		rc = target && *target && symlinkat(target, dir, last) == 0 ? 0 : sys_err();
	} else {
		rc = 0; /* devices, fifos, sockets: the sandbox brings its own /dev */
	}
	if (dir != u->root)
		close(dir);
	return rc;
}

int layer_extract(const char *path, const char *dest_dir, uint64_t max_bytes, uint64_t *bytes)
{
	struct unpack u = { .max = max_bytes, .root = -1 };
	int rc = 0;
	if (bytes)
		*bytes = 0;
	if ((u.root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return LD_EIO;
	if (!(u.a = archive_read_new())) {
		close(u.root);
		return LD_ENOMEM;
	}
	archive_read_support_filter_gzip(u.a);
	archive_read_support_filter_zstd(u.a);
	archive_read_support_filter_none(u.a);
	archive_read_support_format_tar(u.a);
	archive_read_support_format_empty(u.a);
	if (archive_read_open_filename(u.a, path, 65536) != ARCHIVE_OK) {
		rc = LD_ECORRUPT;
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(u.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = LD_ECORRUPT;
			break;
		}
		if ((rc = place(&u, e)))
			break;
	}
out:
	archive_read_free(u.a);
	close(u.root);
	if (bytes)
		*bytes = u.written;
	return rc;
}
