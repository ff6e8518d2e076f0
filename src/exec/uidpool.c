/*
 * uidpool.c - the pool of environment ids (uidpool.h): a bitmap of ids in
 * use here, and one byte-range lock per id on a shared lock file for the
 * other daemons of the host.
 */
#include "exec/uidpool.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct uidpool {
	uid_t base;
	unsigned count;
	unsigned next;   /* where the next search starts (round robin) */
	unsigned in_use;
	int lockfd;      /* the shared lock file, or -1 */
	unsigned char *used; /* one bit per id */
};

int uidpool_new(uid_t base, unsigned count, const char *lock_path, uidpool_t **out)
{
	*out = NULL;
	if (base == 0 || count == 0 || (uint64_t)base + count > 0x80000000ULL)
		return LD_EINVAL;
	struct uidpool *ids = calloc(1, sizeof *ids);
	if (!ids || !(ids->used = calloc((count + 7) / 8, 1))) {
		free(ids);
		return LD_ENOMEM;
	}
	ids->base = base;
	ids->count = count;
	ids->lockfd = lock_path ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
	*out = ids;
	return 0;
}

/* One byte of the lock file per id, at offset = the id itself, so that
 * daemons with different ranges still exclude each other where they meet.
 * Returns 0 when the id is ours to use. */
static int ids_lock(const struct uidpool *ids, uid_t id, int type)
{
	if (ids->lockfd < 0)
		return 0;
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)id;
	fl.l_len = 1;
	if (fcntl(ids->lockfd, F_OFD_SETLK, &fl) == 0)
		return 0;
	/* held by another daemon; any other failure (no lock support on that
	 * file system) leaves the id usable, as without a lock file */
	return errno == EAGAIN || errno == EACCES ? -1 : 0;
}

int uidpool_take(struct uidpool *ids, uid_t *id)
{
	for (unsigned i = 0; i < ids->count; i++) {
		unsigned k = (ids->next + i) % ids->count;
		if (ids->used[k / 8] & (1u << (k % 8)))
			continue;
		if (ids_lock(ids, ids->base + k, F_WRLCK) != 0)
			continue;
		ids->used[k / 8] |= (unsigned char)(1u << (k % 8));
		ids->in_use++;
		ids->next = (k + 1) % ids->count;
		*id = ids->base + k;
		return 0;
	}
	return LD_ETHROTTLED;
}

void uidpool_give(struct uidpool *ids, uid_t id)
{
	if (!ids || id < ids->base || id - ids->base >= ids->count)
		return;
	unsigned k = id - ids->base;
	if (!(ids->used[k / 8] & (1u << (k % 8))))
		return;
	ids->used[k / 8] &= (unsigned char)~(1u << (k % 8));
	ids->in_use--;
	ids_lock(ids, id, F_UNLCK);
}

unsigned uidpool_in_use(const struct uidpool *ids)
{
	return ids->in_use;
}

void uidpool_free(struct uidpool *ids)
{
	if (!ids)
		return;
	if (ids->lockfd >= 0)
		close(ids->lockfd); /* releases every lock of this description */
	free(ids->used);
	free(ids);
}
