/*
 * uidpool.h - unprivileged ids, one per live execution environment.
 *
 * Ids base .. base+count-1 (uid and gid are the same number). take() hands
 * out the next free id after the last one handed out (round robin, so a
 * freed id is reused as late as possible); give() returns it. Ids are also
 * locked for other lambdad daemons on the host, with one open file
 * description lock (F_OFD_SETLK) per id on a shared lock file, held until
 * give() or the daemon's exit: two daemons never run environments as the
 * same uid. Single-threaded, like the rest of the module.
 */
#ifndef LD_UIDPOOL_H
#define LD_UIDPOOL_H

#include <sys/types.h>

typedef struct uidpool uidpool_t;

#define UIDPOOL_BASE 200000u
#define UIDPOOL_COUNT 65536u
#define UIDPOOL_LOCK "/run/lambdad-ids.lock"

/* New pool; lock_path NULL: no cross-daemon locking (when the lock file
 * cannot be opened either). *out owned by the caller (uidpool_free).
 * LD_EINVAL for a bad range (count 0, base 0, past 2^31), LD_ENOMEM. */
int uidpool_new(uid_t base, unsigned count, const char *lock_path, uidpool_t **out);

/* *id = a free id. LD_ETHROTTLED when every id is in use (here or, as the
 * lock file says, by another daemon). */
int uidpool_take(uidpool_t *ids, uid_t *id);

/* Returns an id from take(); ids outside the pool are ignored. */
void uidpool_give(uidpool_t *ids, uid_t id);

/* Ids in use through this pool. */
unsigned uidpool_in_use(const uidpool_t *ids);

/* Releases the pool and its locks. NULL is fine. */
void uidpool_free(uidpool_t *ids);

#endif
