/*
 * zip.c - checking and unpacking function code zips (see zip.h).
 *
 * One walker serves both calls. It opens the archive with libarchive's
 * seekable zip reader only (no other format, no decompression filter), so
 * entries come from the central directory as with every unzip tool, never
 * from a streaming guess at local headers; the one zip that reader refuses,
 * the empty one, is recognised here. The walker checks each entry against
 * the rules of zip.h and pumps its data through a fixed buffer, counting
 * every byte against the cap. Names flagged UTF-8 are read under a
 * thread-local UTF-8 locale: in the C locale the daemon runs in, libarchive
 * would fail to convert them.
 *
 * zip_scan runs the walker with no destination. zip_extract gives it a
 * descriptor of the target directory, from which each entry is created one
 * path component at a time with mkdirat/openat and O_NOFOLLOW, so a symlink
 * is never followed while writing.
 */
#include "blobs/zip.h"
#include "util/err.h"
#include "util/str.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct walk {
	struct archive *a;
	int root;        /* dest_dir, or -1 when only scanning */
	uint64_t max;
	zip_info_t info;
} walk_t;

static int is_dotdot(const char *c, size_t n)
{
	return n == 2 && c[0] == '.' && c[1] == '.';
}

/* The shape names and link targets share: relative, no backslash, and
 * lengths the file system accepts. */
static int shape_ok(const char *p)
{
	const char *c;
	size_t n;

	if (!p || !*p || *p == '/' || strchr(p, '\\') || strlen(p) >= PATH_MAX)
		return 0;
	while (str_path_next(&p, &c, &n))
		if (n > NAME_MAX)
			return 0;
	return 1;
}

/* Number of components of an entry name, or -1 if one of them is "..". */
static int name_depth(const char *p)
{
	const char *c;
	size_t n;
	int depth = 0;

	while (str_path_next(&p, &c, &n)) {
		if (is_dotdot(c, n))
			return -1;
		depth++;
	}
	return depth;
}

/* Whether the symlink called name may point at target: ".." only as a
 * leading run, and no higher than the directory holding the link. */
static int link_ok(const char *name, const char *target)
{
	const char *c;
	size_t n;
	int ups = 0, down = 0;

	if (!shape_ok(target))
		return 0;
	while (str_path_next(&target, &c, &n)) {
		if (!is_dotdot(c, n))
			down = 1;
		else if (down)
			return 0;
		else
			ups++;
	}
	return ups < name_depth(name);
}

/* 0 if the entry obeys the rules of zip.h, else LD_EUNSAFE. */
static int entry_check(struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	mode_t type = archive_entry_filetype(e);
	int depth;

	if (!shape_ok(name) || archive_entry_hardlink(e))
		return LD_EUNSAFE;
	depth = name_depth(name);
	if (depth < 0 || (depth == 0 && type != AE_IFDIR))
		return LD_EUNSAFE;
	if (type == AE_IFLNK)
		return link_ok(name, archive_entry_symlink(e)) ? 0 : LD_EUNSAFE;
	return type == AE_IFREG || type == AE_IFDIR ? 0 : LD_EUNSAFE;
}

static int la_err(struct archive *a)
{
	return archive_errno(a) == ENOMEM ? LD_ENOMEM : LD_ECORRUPT;
}

/* errno of a failed mkdirat/openat/symlinkat as an LD_E* code: running
 * into something of the wrong type means entries collide or try to pass
 * through a symlink. */
static int sys_err(void)
{
	switch (errno) {
	case ELOOP: case ENOTDIR: case EISDIR: case EEXIST:
		return LD_EUNSAFE;
	case ENOMEM:
		return LD_ENOMEM;
	default:
		return LD_EIO;
	}
}

static int count(walk_t *w, size_t n)
{
	w->info.unzipped_bytes += n;
	return w->info.unzipped_bytes > w->max ? LD_ETOOBIG : 0;
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

/* Decompresses the current entry into fd (nowhere if fd < 0). */
static int pump(walk_t *w, int fd)
{
	char chunk[32768];
	la_ssize_t n;
	int rc;

	while ((n = archive_read_data(w->a, chunk, sizeof chunk)) > 0) {
		if ((rc = count(w, (size_t)n)) < 0)
			return rc;
		if (fd >= 0 && (rc = write_all(fd, chunk, (size_t)n)) < 0)
			return rc;
	}
	return n < 0 ? la_err(w->a) : 0;
}

/* Creates (if needed) and enters directory comp of *dir without following
 * a symlink; the old *dir is closed unless it is the root. */
static int enter_dir(walk_t *w, int *dir, const char *comp)
{
	int fd;

	if (mkdirat(*dir, comp, 0755) < 0 && errno != EEXIST)
		return sys_err();
	fd = openat(*dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sys_err();
	if (fchmod(fd, 0755) < 0) {
		close(fd);
		return LD_EIO;
	}
	if (*dir != w->root)
		close(*dir);
	*dir = fd;
	return 0;
}

/* Writes a regular file; an earlier file or symlink of that name goes. */
static int write_file(walk_t *w, int dir, const char *comp, mode_t perm)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd, rc;

	fd = openat(dir, comp, flags, 0600);
	if (fd < 0 && errno == EEXIST && unlinkat(dir, comp, 0) == 0)
		fd = openat(dir, comp, flags, 0600);
	if (fd < 0)
		return sys_err();
	rc = pump(w, fd);
	if (rc == 0 && fchmod(fd, perm & 0111 ? 0755 : 0644) < 0)
		rc = LD_EIO;
	if (close(fd) < 0 && rc == 0)
		rc = LD_EIO;
	return rc;
}

static int write_link(int dir, const char *comp, const char *target)
{
	if (symlinkat(target, dir, comp) == 0)
		return 0;
	if (errno == EEXIST && unlinkat(dir, comp, 0) == 0 &&
	    symlinkat(target, dir, comp) == 0)
		return 0;
	return sys_err();
}

/* Creates a checked entry under the root, walking its name. */
static int place(walk_t *w, struct archive_entry *e)
{
	char comp[NAME_MAX + 1]; /* entry_check bounded every component */
	const char *p = archive_entry_pathname(e), *c;
	size_t n;
	int dir = w->root, rc = 0;

	if (!str_path_next(&p, &c, &n))
		return 0; /* "./", the root itself */
	for (;;) {
		memcpy(comp, c, n);
		comp[n] = '\0';
		if (!str_path_next(&p, &c, &n))
			break;
		if ((rc = enter_dir(w, &dir, comp)) < 0)
			goto out;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		rc = enter_dir(w, &dir, comp);
		break;
	case AE_IFREG:
		rc = write_file(w, dir, comp, archive_entry_perm(e));
		break;
	default: /* AE_IFLNK, the only other type entry_check lets through */
		rc = write_link(dir, comp, archive_entry_symlink(e));
		break;
	}
out:
	if (dir != w->root)
		close(dir);
	return rc;
}

/* A lone end-of-central-directory record (with its comment, if any). */
static int is_empty_zip(const unsigned char *p, size_t len)
{
	static const unsigned char eocd[20] = { 'P', 'K', 5, 6 };

	return len >= 22 && memcmp(p, eocd, sizeof eocd) == 0 &&
	       (size_t)(p[20] | p[21] << 8) == len - 22;
}


/* The C.UTF-8 locale, loaded once (newlocale reads the locale files each
 * time) and kept for the life of the process. NULL when unavailable. */
static locale_t utf8_locale(void)
{
	static locale_t loc;
	static int tried;
	if (!tried) {
		tried = 1;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

static int walk(walk_t *w, const void *data, size_t len)
{
	locale_t utf8, old = (locale_t)0;
	struct archive_entry *e;
	int r, rc;

	if (len == 0)
		return LD_ECORRUPT;
	if (is_empty_zip(data, len))
		return 0;
	if ((utf8 = utf8_locale()))
		old = uselocale(utf8);
	if (!(w->a = archive_read_new())) {
		rc = LD_ENOMEM;
		goto out;
	}
	if (archive_read_support_format_zip_seekable(w->a) != ARCHIVE_OK ||
	    archive_read_open_memory(w->a, data, len) != ARCHIVE_OK) {
		rc = la_err(w->a);
		goto out;
	}
	while ((r = archive_read_next_header(w->a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) { /* a warning: a name it cannot convert */
			rc = la_err(w->a);
			goto out;
		}
		w->info.entries++;
		if ((rc = entry_check(e)) < 0)
			goto out;
		if (archive_entry_filetype(e) == AE_IFLNK &&
		    (rc = count(w, strlen(archive_entry_symlink(e)))) < 0)
			goto out;
		rc = w->root < 0 ? pump(w, -1) : place(w, e);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	archive_read_free(w->a); /* NULL is fine */
	w->a = NULL;
	if (utf8)
		uselocale(old);
	return rc;
}

int zip_scan(const void *data, size_t len, uint64_t max_unzipped, zip_info_t *info)
{
	walk_t w = { .root = -1, .max = max_unzipped };
	int rc = walk(&w, data, len);

	if (info)
		*info = rc < 0 ? (zip_info_t){ 0 } : w.info;
	return rc;
}

int zip_extract(const void *data, size_t len, const char *dest_dir, uint64_t max_unzipped)
{
	walk_t w = { .max = max_unzipped };
	int rc;

	w.root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.root < 0)
		return LD_EIO;
	rc = walk(&w, data, len);
	close(w.root);
	return rc;
}
