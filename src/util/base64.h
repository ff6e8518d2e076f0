/*
 * base64.h - standard base64 (RFC 4648, '=' padding), the one codec of the tree.
 *
 * Lambda carries base64 everywhere: ZipFile, client contexts, log tails,
 * function URL bodies, streamed error trailers, sealed secrets. Decoding is
 * strict about the length (a multiple of 4) and the alphabet.
 */
#ifndef LD_BASE64_H
#define LD_BASE64_H

#include <stddef.h>

/* Characters b64_encode writes for n bytes (without the NUL). */
#define B64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the encoding of data[0..n) and a NUL into out, which has room for
 * B64_ENCODED_LEN(n) + 1 bytes. Returns the length written. */
size_t b64_encode_to(char *out, const void *data, size_t n);

/* The encoding as a new NUL-terminated string (caller frees), or NULL when
 * out of memory. */
char *b64_encode(const void *data, size_t n);

/* Decodes s[0..n) into out (room for cap bytes, a NUL is added when it
 * fits). 0 with *outlen set, LD_EINVAL for text that is not base64,
 * LD_ETOOBIG when out is too small. */
int b64_decode_to(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/* Decodes into a new buffer (caller frees), NUL-terminated so that text can
 * be used as a C string. 0, LD_EINVAL or LD_ENOMEM. */
int b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);

#endif
