/*
 * zip.h - checking and unpacking function code zips (libarchive, zip only).
 *
 * A deployment package is untrusted input. Both calls read the archive from
 * memory through its central directory (so input without an end-of-central-
 * directory record is not a zip), decompress every entry for real and count
 * the bytes produced: declared sizes are never trusted, so a zip bomb stops
 * at the cap instead of filling the disk.
 *
 * Entry rules, shared by both calls (anything else is LD_EUNSAFE):
 *   - names are relative, without backslashes or ".." components, each
 *     component at most NAME_MAX bytes and the whole under PATH_MAX;
 *     empty and "." components are ignored;
 *   - types are regular files, directories and symlinks; hard links,
 *     devices, fifos and sockets are refused (libarchive itself reads a
 *     zip entry typed fifo as a plain file, which is just as harmless);
 *   - a symlink's target is relative and may climb only with a leading run
 *     of ".." components that stays inside the root ("../lib/x" from
 *     "bin/y" is fine, "a/../.." is not). Later components never climb, so
 *     following symlinks that obey this rule can never leave the root.
 * Regular files keep only their executable bit: 0755 if any x bit is set,
 * else 0644 (no setuid, setgid or sticky). Directories are 0755.
 */
#ifndef LD_ZIP_H
#define LD_ZIP_H

#include <stddef.h>
#include <stdint.h>

typedef struct zip_info {
	uint64_t entries;        /* number of entries, directories included */
	uint64_t unzipped_bytes; /* file data plus symlink targets */
} zip_info_t;

/*
 * Reads and decompresses every entry of the zip in data[0..len) without
 * writing anything. data is only borrowed. info (may be NULL) is filled on
 * success and zeroed on failure.
 * Returns 0; LD_ECORRUPT for anything that is not a readable zip (empty
 * input, other formats, truncation, bad CRC, encrypted entries);
 * LD_ETOOBIG as soon as the unzipped total passes max_unzipped;
 * LD_EUNSAFE for an entry that breaks the rules above; LD_ENOMEM.
 * An empty zip (only the end record) is valid with 0 entries.
 */
int zip_scan(const void *data, size_t len, uint64_t max_unzipped, zip_info_t *info);

/*
 * Extracts the zip in data[0..len) into dest_dir, an existing empty
 * directory that the caller owns. Every path is walked from a descriptor of
 * dest_dir one component at a time (mkdirat, openat with O_NOFOLLOW), so
 * nothing is written outside it and no symlink is followed while writing.
 * A later entry with the name of an earlier file or symlink replaces it.
 * Returns the codes of zip_scan, plus LD_EUNSAFE when an entry would pass
 * through a symlink or a file made by an earlier entry (something zip_scan
 * does not see), and LD_EIO for file system errors (including a missing
 * dest_dir). On failure dest_dir may hold part of the archive: the caller
 * removes it.
 */
int zip_extract(const void *data, size_t len, const char *dest_dir, uint64_t max_unzipped);

#endif
