#include "util/error.h"

const char *cr_strerror(int err)
{
	switch (err) {
	case CR_OK: return "success";
	case CR_ERR_INTERNAL: return "internal error";
	case CR_ERR_NOMEM: return "out of memory";
	case CR_ERR_INVALID: return "invalid input";
	case CR_ERR_TOO_LARGE: return "too large";
	case CR_ERR_IO: return "input/output error";
	case CR_ERR_NOT_FOUND: return "not found";
	case CR_ERR_EXISTS: return "already exists";
	case CR_ERR_NETWORK: return "network error";
	case CR_ERR_AUTH: return "authentication failed";
	case CR_ERR_PROTOCOL: return "protocol error";
	case CR_ERR_USAGE: return "usage error";
	case CR_ERR_CANCELED: return "canceled";
	case CR_ERR_TIMEOUT: return "timed out";
	case CR_ERR_UNSUPPORTED: return "not supported";
	case CR_ERR_RETRY: return "temporary failure";
	case CR_ERR_CONFIG: return "refused by the runner's configuration";
	}
	return "unknown error";
}
