/*
 * str.c - string assembly for hot paths (str.h).
 */
#include "util/str.h"

#include <stdarg.h>
#include <string.h>

size_t str_join(char *out, size_t n, ...)
{
	va_list ap;
	size_t len = 0;
	const char *s;
	va_start(ap, n);
	while ((s = va_arg(ap, const char *))) {
		size_t k = strlen(s);
		if (len + k >= n) {
			va_end(ap);
			if (n)
				out[0] = '\0';
			return (size_t)-1;
		}
		memcpy(out + len, s, k);
		len += k;
	}
	va_end(ap);
	if (n)
		out[len] = '\0';
	return len;
}

size_t str_u64(char *out, uint64_t v)
{
	char d[21];
	size_t i = sizeof(d);
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	size_t len = sizeof(d) - i;
	memcpy(out, d + i, len);
	out[len] = '\0';
	return len;
}

int str_path_next(const char **p, const char **c, size_t *n)
{
	for (;;) {
		while (**p == '/')
			(*p)++;
		if (!**p)
			return 0;
		*c = *p;
		*n = strcspn(*p, "/");
		*p += *n;
		if (*n != 1 || **c != '.')
			return 1;
	}
}
