/*
 * ids.h - random identifiers and the timestamp formats AWS prints.
 *
 * ids_random() and ids_hex() use OpenSSL's RAND_bytes (secrets, keys);
 * ids_uuid4() and ids_unique_hex() use a fast generator seeded from it (ids
 * that must be unique, not secret: request ids, trace ids, log streams).
 * Output buffers are the caller's; sizes are in the declarations.
 */
#ifndef LD_IDS_H
#define LD_IDS_H

#include <stddef.h>
#include <stdint.h>

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" into out[37]. */
void ids_uuid4(char out[37]);
/* n random bytes as 2n lowercase hex digits into out[2n+1]. */
void ids_hex(char *out, size_t nbytes);
/* Like ids_hex, from the fast generator: unique, not secret. */
void ids_unique_hex(char *out, size_t nbytes);
/* Random bytes; 0 or LD_EIO. */
int ids_random(void *out, size_t n);

/* "2024-05-01T12:34:56.789+0000" (Lambda's LastModified) into out[29]. */
void ids_time_lambda(int64_t epoch_ms, char out[29]);
/* "2024-05-01T12:34:56.789Z" (ISO 8601, UTC) into out[25]. */
void ids_time_iso(int64_t epoch_ms, char out[25]);

#endif
