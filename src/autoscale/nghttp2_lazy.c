/*
 * libnghttp2, loaded when crunner first opens a gRPC connection to a
 * fleeting plugin (CR_LAZY_NGHTTP2, the default), as libssh is
 * (ssh/ssh_lazy.c): only the plugin host of an autoscaling runner speaks
 * HTTP/2 itself, so `crunner exec`, run-single and an idle runner of any
 * other executor need not map it.  (libcurl, once loaded, brings its own
 * copy in: the same mapping.)
 *
 * The functions src/autoscale/grpc_client.c calls are defined here with
 * libnghttp2's own prototypes, so the linker binds those calls here and
 * libnghttp2 stays out of DT_NEEDED.  The first call dlopen()s it and
 * looks every function up; each definition then forwards.  When it cannot
 * be loaded, one error line names it and what the loader said, and each
 * function fails as libnghttp2's own does (NGHTTP2_ERR_NOMEM, ...).  A
 * libnghttp2 function used elsewhere and missing here fails the link
 * (CMakeLists.txt links libnghttp2 only without CR_LAZY_NGHTTP2).
 *
 * Process-wide like the library mapping: filled once under pthread_once,
 * only read afterwards.
 */
#ifdef CR_LAZY_NGHTTP2

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

#include <nghttp2/nghttp2.h>

#include "util/log.h"
#include "util/banned.h"

#define NGHTTP2_SONAME "libnghttp2.so.14"

/* X(name, return type, parameter list) of every function forwarded. */
#define NGHTTP2_LAZY_FUNCTIONS(X) \
	X(nghttp2_session_callbacks_new, int, (nghttp2_session_callbacks **)) \
	X(nghttp2_session_callbacks_del, void, (nghttp2_session_callbacks *)) \
	X(nghttp2_session_callbacks_set_on_data_chunk_recv_callback, void, \
	  (nghttp2_session_callbacks *, nghttp2_on_data_chunk_recv_callback)) \
	X(nghttp2_session_callbacks_set_on_header_callback, void, \
	  (nghttp2_session_callbacks *, nghttp2_on_header_callback)) \
	X(nghttp2_session_callbacks_set_on_stream_close_callback, void, \
	  (nghttp2_session_callbacks *, nghttp2_on_stream_close_callback)) \
	X(nghttp2_session_callbacks_set_send_callback, void, \
	  (nghttp2_session_callbacks *, nghttp2_send_callback)) \
	X(nghttp2_session_client_new, int, \
	  (nghttp2_session **, const nghttp2_session_callbacks *, void *)) \
	X(nghttp2_session_del, void, (nghttp2_session *)) \
	X(nghttp2_session_get_stream_user_data, void *, \
	  (nghttp2_session *, int32_t)) \
	X(nghttp2_session_mem_recv, ssize_t, \
	  (nghttp2_session *, const uint8_t *, size_t)) \
	X(nghttp2_session_send, int, (nghttp2_session *)) \
	X(nghttp2_session_set_local_window_size, int, \
	  (nghttp2_session *, uint8_t, int32_t, int32_t)) \
	X(nghttp2_session_want_write, int, (nghttp2_session *)) \
	X(nghttp2_strerror, const char *, (int)) \
	X(nghttp2_submit_request, int32_t, \
	  (nghttp2_session *, const nghttp2_priority_spec *, \
	   const nghttp2_nv *, size_t, const nghttp2_data_provider *, void *)) \
	X(nghttp2_submit_rst_stream, int, \
	  (nghttp2_session *, uint8_t, int32_t, uint32_t)) \
	X(nghttp2_submit_settings, int, \
	  (nghttp2_session *, uint8_t, const nghttp2_settings_entry *, size_t))

static struct {
#define NGHTTP2_LAZY_MEMBER(name, ret, params) ret (*name) params;
	NGHTTP2_LAZY_FUNCTIONS(NGHTTP2_LAZY_MEMBER)
#undef NGHTTP2_LAZY_MEMBER
} lib;
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *handle = dlopen(NGHTTP2_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!handle) {
		log_error("cannot load " NGHTTP2_SONAME ": %s", dlerror());
		return;
	}
#define NGHTTP2_LAZY_SYM(name, ret, params) \
	if (!missing && !(lib.name = (__typeof__(lib.name)) \
			  dlsym(handle, #name))) \
		missing = #name;
	NGHTTP2_LAZY_FUNCTIONS(NGHTTP2_LAZY_SYM)
#undef NGHTTP2_LAZY_SYM
	if (missing) {
		log_error("cannot load " NGHTTP2_SONAME ": it has no %s",
			  missing);
		return;
	}
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

/* The first call of a connection: it loads the library. */
int nghttp2_session_callbacks_new(nghttp2_session_callbacks **callbacks_ptr)
{
	return ready() ? lib.nghttp2_session_callbacks_new(callbacks_ptr) :
		NGHTTP2_ERR_NOMEM;
}

const char *nghttp2_strerror(int lib_error_code)
{
	return ready() ? lib.nghttp2_strerror(lib_error_code) :
		"libnghttp2 could not be loaded";
}

/*
 * The rest take what only a loaded libnghttp2 can have made (callbacks, a
 * session); ready() is still asked, and a failure value returned, so a
 * stray call is safe.
 */
#define NGHTTP2_FORWARD_VOID(name, params, args) \
	void name params \
	{ \
		if (ready()) \
			lib.name args; \
	}
#define NGHTTP2_FORWARD(ret, name, params, args, failed) \
	ret name params \
	{ \
		return ready() ? lib.name args : (failed); \
	}

NGHTTP2_FORWARD_VOID(nghttp2_session_callbacks_del,
		     (nghttp2_session_callbacks *cbs), (cbs))
NGHTTP2_FORWARD_VOID(nghttp2_session_callbacks_set_on_data_chunk_recv_callback,
		     (nghttp2_session_callbacks *cbs,
		      nghttp2_on_data_chunk_recv_callback cb), (cbs, cb))
NGHTTP2_FORWARD_VOID(nghttp2_session_callbacks_set_on_header_callback,
		     (nghttp2_session_callbacks *cbs,
		      nghttp2_on_header_callback cb), (cbs, cb))
NGHTTP2_FORWARD_VOID(nghttp2_session_callbacks_set_on_stream_close_callback,
		     (nghttp2_session_callbacks *cbs,
		      nghttp2_on_stream_close_callback cb), (cbs, cb))
NGHTTP2_FORWARD_VOID(nghttp2_session_callbacks_set_send_callback,
		     (nghttp2_session_callbacks *cbs, nghttp2_send_callback cb),
		     (cbs, cb))
NGHTTP2_FORWARD_VOID(nghttp2_session_del, (nghttp2_session *s), (s))
NGHTTP2_FORWARD(int, nghttp2_session_client_new,
		(nghttp2_session **session_ptr,
		 const nghttp2_session_callbacks *callbacks, void *user_data),
		(session_ptr, callbacks, user_data), NGHTTP2_ERR_NOMEM)
NGHTTP2_FORWARD(void *, nghttp2_session_get_stream_user_data,
		(nghttp2_session *s, int32_t stream_id), (s, stream_id), NULL)
NGHTTP2_FORWARD(ssize_t, nghttp2_session_mem_recv,
		(nghttp2_session *s, const uint8_t *in, size_t inlen),
		(s, in, inlen), NGHTTP2_ERR_CALLBACK_FAILURE)
NGHTTP2_FORWARD(int, nghttp2_session_send, (nghttp2_session *s), (s),
		NGHTTP2_ERR_CALLBACK_FAILURE)
NGHTTP2_FORWARD(int, nghttp2_session_set_local_window_size,
		(nghttp2_session *s, uint8_t flags, int32_t stream_id,
		 int32_t window_size), (s, flags, stream_id, window_size),
		NGHTTP2_ERR_INVALID_STATE)
NGHTTP2_FORWARD(int, nghttp2_session_want_write, (nghttp2_session *s), (s),
		0)
NGHTTP2_FORWARD(int32_t, nghttp2_submit_request,
		(nghttp2_session *s, const nghttp2_priority_spec *pri_spec,
		 const nghttp2_nv *nva, size_t nvlen,
		 const nghttp2_data_provider *data_prd, void *stream_user_data),
		(s, pri_spec, nva, nvlen, data_prd, stream_user_data),
		NGHTTP2_ERR_INVALID_STATE)
NGHTTP2_FORWARD(int, nghttp2_submit_rst_stream,
		(nghttp2_session *s, uint8_t flags, int32_t stream_id,
		 uint32_t error_code), (s, flags, stream_id, error_code),
		NGHTTP2_ERR_INVALID_STATE)
NGHTTP2_FORWARD(int, nghttp2_submit_settings,
		(nghttp2_session *s, uint8_t flags,
		 const nghttp2_settings_entry *iv, size_t niv),
		(s, flags, iv, niv), NGHTTP2_ERR_INVALID_STATE)

#endif /* CR_LAZY_NGHTTP2 */
