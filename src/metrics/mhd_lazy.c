/*
 * libmicrohttpd, loaded when the metrics listener starts (CR_LAZY_MHD,
 * the default).
 *
 * Only `crunner run` with a listen_address serves metrics, yet linking
 * libmicrohttpd maps it and GnuTLS with what GnuTLS needs (nettle,
 * hogweed, gmp, p11-kit, libffi, tasn1, unistring, idn2) into every
 * crunner process.  As src/util/curl_lazy.c does for libcurl, this file
 * defines the libmicrohttpd functions src/metrics/http.c calls, with the
 * library's prototypes; the first call dlopen()s it and each definition
 * forwards to the library's.  MHD_start_daemon() passes its options on
 * through MHD_start_daemon_va().  When the library cannot be loaded,
 * MHD_start_daemon() returns NULL (the listener then reports that it
 * could not start) after one error line naming the library.
 *
 * Process-wide, like the mapping itself: filled once under pthread_once,
 * then only read.
 */
#ifdef CR_LAZY_MHD

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "util/log.h"
#include "util/banned.h"

#define MHD_SONAME "libmicrohttpd.so.12"

#define MHD_LAZY_FUNCTIONS(X) \
	X(MHD_start_daemon_va, struct MHD_Daemon *, \
	  (unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *, \
	   MHD_AccessHandlerCallback, void *, va_list)) \
	X(MHD_stop_daemon, void, (struct MHD_Daemon *)) \
	X(MHD_run, enum MHD_Result, (struct MHD_Daemon *)) \
	X(MHD_get_timeout, enum MHD_Result, \
	  (struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *)) \
	X(MHD_get_daemon_info, const union MHD_DaemonInfo *, \
	  (struct MHD_Daemon *, enum MHD_DaemonInfoType, ...)) \
	X(MHD_create_response_from_buffer, struct MHD_Response *, \
	  (size_t, void *, enum MHD_ResponseMemoryMode)) \
	X(MHD_add_response_header, enum MHD_Result, \
	  (struct MHD_Response *, const char *, const char *)) \
	X(MHD_queue_response, enum MHD_Result, \
	  (struct MHD_Connection *, unsigned int, struct MHD_Response *)) \
	X(MHD_destroy_response, void, (struct MHD_Response *))

static struct {
#define MHD_LAZY_MEMBER(name, ret, params) ret (*name) params;
	MHD_LAZY_FUNCTIONS(MHD_LAZY_MEMBER)
#undef MHD_LAZY_MEMBER
} lib;
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *handle = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!handle) {
		log_error("cannot load " MHD_SONAME ": %s", dlerror());
		return;
	}
#define MHD_LAZY_SYM(name, ret, params) \
	if (!missing && !(lib.name = (__typeof__(lib.name)) \
			  dlsym(handle, #name))) \
		missing = #name;
	MHD_LAZY_FUNCTIONS(MHD_LAZY_SYM)
#undef MHD_LAZY_SYM
	if (missing) {
		log_error("cannot load " MHD_SONAME ": it has no %s", missing);
		return;
	}
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
				    MHD_AcceptPolicyCallback apc,
				    void *apc_cls,
				    MHD_AccessHandlerCallback dh,
				    void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	if (!ready())
		return NULL;
	va_start(ap, dh_cls);
	d = lib.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* The functions below take what only a loaded library can have made. */

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
	if (ready())
		lib.MHD_stop_daemon(daemon);
}

enum MHD_Result MHD_run(struct MHD_Daemon *daemon)
{
	return ready() ? lib.MHD_run(daemon) : MHD_NO;
}

enum MHD_Result MHD_get_timeout(struct MHD_Daemon *daemon,
				MHD_UNSIGNED_LONG_LONG *timeout)
{
	return ready() ? lib.MHD_get_timeout(daemon, timeout) : MHD_NO;
}

/* The info types crunner asks for (EPOLL_FD) take no further argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
						enum MHD_DaemonInfoType type,
						...)
{
	return ready() ? lib.MHD_get_daemon_info(daemon, type) : NULL;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size,
						     void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	return ready() ? lib.MHD_create_response_from_buffer(size, buffer,
							     mode) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response,
					const char *header,
					const char *content)
{
	return ready() ? lib.MHD_add_response_header(response, header,
						     content) : MHD_NO;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection,
				   unsigned int status_code,
				   struct MHD_Response *response)
{
	return ready() ? lib.MHD_queue_response(connection, status_code,
						response) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *response)
{
	if (ready())
		lib.MHD_destroy_response(response);
}

#else
/* ISO C wants a translation unit to declare something. */
typedef int mhd_lazy_unused;
#endif
