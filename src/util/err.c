/*
 * err.c - descriptions of the LD_E* codes (see err.h).
 */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ld_strerror(int code)
{
	switch (code) {
	case LD_OK: return "ok";
	case LD_ENOMEM: return "out of memory";
	case LD_EIO: return "i/o error";
	case LD_EINVAL: return "invalid input";
	case LD_ENOTFOUND: return "not found";
	case LD_ETOOBIG: return "size limit exceeded";
	case LD_ECORRUPT: return "corrupt data";
	case LD_EREMOTE: return "remote call failed";
	case LD_EEXIST: return "already exists";
	case LD_EAPI: return "api error";
	case LD_ESTORE: return "store error";
	case LD_EUNSAFE: return "unsafe archive entry";
	case LD_EPENDING: return "pending";
	case LD_ETHROTTLED: return "throttled";
	case LD_ENOSPC: return "no space left in the data directory";
	}
	return "unknown error";
}

int ld_error_set(ld_error_t *e, const char *type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ld_error_vset(e, type, fmt, ap);
	va_end(ap);
	return rc;
}

int ld_error_vset(ld_error_t *e, const char *type, const char *fmt, va_list ap)
{
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	free(e->message);
	e->type = type;
	e->message = msg;
	e->untyped = 0;
	e->reason = NULL;
	return LD_EAPI;
}

int ld_error_copy(ld_error_t *dst, const ld_error_t *src)
{
	char *msg = NULL;
	if (src->message && !(msg = strdup(src->message)))
		return LD_ENOMEM;
	free(dst->message);
	dst->type = src->type;
	dst->message = msg;
	dst->untyped = src->untyped;
	dst->reason = src->reason;
	return 0;
}

void ld_error_clear(ld_error_t *e)
{
	free(e->message);
	e->message = NULL;
	e->type = NULL;
	e->untyped = 0;
	e->reason = NULL;
}
