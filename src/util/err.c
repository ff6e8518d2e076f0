/*
 * err.c - descriptions of the LD_E* codes (see err.h).
 */
#include "err.h"

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
	}
	return "unknown error";
}
