/*
 * libcurl, loaded when crunner first needs it (CR_LAZY_CURL, the default).
 *
 * libcurl brings 29 shared libraries with it (OpenSSL, GnuTLS through
 * librtmp, Kerberos, LDAP, SASL, libssh2...).  Loading and relocating them
 * was the largest part of starting crunner (LD_DEBUG=statistics: 65% of
 * the dynamic loader's time is relocation), and most runs never speak
 * HTTP: `crunner exec --list`, a local pipeline of shell jobs, the
 * artifacts helper for a local run, --help.
 *
 * This file defines the libcurl functions crunner calls, with libcurl's
 * own prototypes, so the callers include <curl/curl.h> and call them as
 * usual: the linker binds their calls here, nothing in the binary refers
 * to libcurl any more, and --as-needed drops it from DT_NEEDED.  The first
 * call dlopen()s libcurl and looks every function up; each definition
 * then forwards to libcurl's.  When libcurl cannot be loaded, the
 * functions that start something fail as libcurl's own do when it cannot
 * (curl_global_init CURLE_FAILED_INIT, the *_init functions NULL), after
 * one error line that names the library and what the loader said.
 *
 * A function that is not here and that a caller uses makes the linker
 * link libcurl as before: every call still works, only the start-up cost
 * comes back (readelf -d crunner | grep libcurl tells).
 *
 * Process-wide, like the mapping of the library itself: the table is
 * filled once, under pthread_once, and only read afterwards.
 */
#ifdef CR_LAZY_CURL

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "util/log.h"
#include "util/banned.h"

/* The SONAME crunner is built against (libcurl 7.x and 8.x). */
#define CURL_SONAME "libcurl.so.4"

/* X(name, return type, parameter list) of every function forwarded. */
#define CURL_LAZY_FUNCTIONS(X) \
	X(curl_global_init, CURLcode, (long)) \
	X(curl_global_cleanup, void, (void)) \
	X(curl_easy_init, CURL *, (void)) \
	X(curl_easy_cleanup, void, (CURL *)) \
	X(curl_easy_setopt, CURLcode, (CURL *, CURLoption, ...)) \
	X(curl_easy_getinfo, CURLcode, (CURL *, CURLINFO, ...)) \
	X(curl_easy_perform, CURLcode, (CURL *)) \
	X(curl_easy_send, CURLcode, (CURL *, const void *, size_t, size_t *)) \
	X(curl_easy_recv, CURLcode, (CURL *, void *, size_t, size_t *)) \
	X(curl_easy_strerror, const char *, (CURLcode)) \
	X(curl_easy_escape, char *, (CURL *, const char *, int)) \
	X(curl_free, void, (void *)) \
	X(curl_getdate, time_t, (const char *, const time_t *)) \
	X(curl_slist_append, struct curl_slist *, \
	  (struct curl_slist *, const char *)) \
	X(curl_slist_free_all, void, (struct curl_slist *)) \
	X(curl_mime_init, curl_mime *, (CURL *)) \
	X(curl_mime_free, void, (curl_mime *)) \
	X(curl_mime_addpart, curl_mimepart *, (curl_mime *)) \
	X(curl_mime_name, CURLcode, (curl_mimepart *, const char *)) \
	X(curl_mime_filename, CURLcode, (curl_mimepart *, const char *)) \
	X(curl_mime_type, CURLcode, (curl_mimepart *, const char *)) \
	X(curl_mime_filedata, CURLcode, (curl_mimepart *, const char *)) \
	X(curl_multi_init, CURLM *, (void)) \
	X(curl_multi_cleanup, CURLMcode, (CURLM *)) \
	X(curl_multi_add_handle, CURLMcode, (CURLM *, CURL *)) \
	X(curl_multi_remove_handle, CURLMcode, (CURLM *, CURL *)) \
	X(curl_multi_setopt, CURLMcode, (CURLM *, CURLMoption, ...)) \
	X(curl_multi_socket_action, CURLMcode, \
	  (CURLM *, curl_socket_t, int, int *)) \
	X(curl_multi_info_read, CURLMsg *, (CURLM *, int *)) \
	X(curl_multi_strerror, const char *, (CURLMcode))

static struct {
#define CURL_LAZY_MEMBER(name, ret, params) ret (*name) params;
	CURL_LAZY_FUNCTIONS(CURL_LAZY_MEMBER)
#undef CURL_LAZY_MEMBER
} lib;
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *handle = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!handle) {
		log_error("cannot load " CURL_SONAME ": %s", dlerror());
		return;
	}
#define CURL_LAZY_SYM(name, ret, params) \
	if (!missing && !(lib.name = (__typeof__(lib.name)) \
			  dlsym(handle, #name))) \
		missing = #name;
	CURL_LAZY_FUNCTIONS(CURL_LAZY_SYM)
#undef CURL_LAZY_SYM
	if (missing) {
		log_error("cannot load " CURL_SONAME ": it has no %s", missing);
		return;
	}
	loaded = true;
}

/* Whether libcurl is there, loading it on the first call. */
static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

/*
 * The variadic setters take one argument whose type the option's number
 * says (curl.h's CURLOPTTYPE_* ranges, which CURLMOPT_* share): a long, a
 * pointer to data, a function pointer, a curl_off_t, or (BLOB) a pointer.
 */
typedef void (*curl_lazy_fn)(void);

enum arg_kind { ARG_LONG, ARG_POINTER, ARG_FUNCTION, ARG_OFF_T };

static enum arg_kind option_kind(int option)
{
	if (option < CURLOPTTYPE_OBJECTPOINT)
		return ARG_LONG;
	if (option < CURLOPTTYPE_FUNCTIONPOINT)
		return ARG_POINTER;
	if (option < CURLOPTTYPE_OFF_T)
		return ARG_FUNCTION;
	if (option < CURLOPTTYPE_BLOB)
		return ARG_OFF_T;
	return ARG_POINTER;
}

CURLcode curl_global_init(long flags)
{
	return ready() ? lib.curl_global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (ready())
		lib.curl_global_cleanup();
}

CURL *curl_easy_init(void)
{
	return ready() ? lib.curl_easy_init() : NULL;
}

/* The functions below take what only a loaded libcurl can have made. */

void curl_easy_cleanup(CURL *curl)
{
	if (ready())
		lib.curl_easy_cleanup(curl);
}

CURLcode (curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
	CURLcode r = CURLE_FAILED_INIT;
	va_list ap;

	if (!ready())
		return r;
	va_start(ap, option);
	switch (option_kind((int)option)) {
	case ARG_LONG:
		r = (lib.curl_easy_setopt)(curl, option, va_arg(ap, long));
		break;
	case ARG_POINTER:
		r = (lib.curl_easy_setopt)(curl, option, va_arg(ap, void *));
		break;
	case ARG_FUNCTION:
		r = (lib.curl_easy_setopt)(curl, option,
					 va_arg(ap, curl_lazy_fn));
		break;
	case ARG_OFF_T:
		r = (lib.curl_easy_setopt)(curl, option,
					 va_arg(ap, curl_off_t));
		break;
	}
	va_end(ap);
	return r;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode (curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	CURLcode r = CURLE_FAILED_INIT;
	va_list ap;

	if (!ready())
		return r;
	va_start(ap, info);
	r = (lib.curl_easy_getinfo)(curl, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLcode curl_easy_perform(CURL *curl)
{
	return ready() ? lib.curl_easy_perform(curl) : CURLE_FAILED_INIT;
}

CURLcode curl_easy_send(CURL *curl, const void *buffer, size_t buflen,
			size_t *n)
{
	return ready() ? lib.curl_easy_send(curl, buffer, buflen, n) :
		CURLE_FAILED_INIT;
}

CURLcode curl_easy_recv(CURL *curl, void *buffer, size_t buflen, size_t *n)
{
	return ready() ? lib.curl_easy_recv(curl, buffer, buflen, n) :
		CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return ready() ? lib.curl_easy_strerror(code) :
		"libcurl could not be loaded";
}

char *curl_easy_escape(CURL *curl, const char *string, int length)
{
	return ready() ? lib.curl_easy_escape(curl, string, length) : NULL;
}

void curl_free(void *p)
{
	if (p && ready())
		lib.curl_free(p);
}

time_t curl_getdate(const char *p, const time_t *unused)
{
	return ready() ? lib.curl_getdate(p, unused) : (time_t)-1;
}

struct curl_slist *curl_slist_append(struct curl_slist *list,
				     const char *data)
{
	return ready() ? lib.curl_slist_append(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (list && ready())
		lib.curl_slist_free_all(list);
}

curl_mime *curl_mime_init(CURL *easy)
{
	return ready() ? lib.curl_mime_init(easy) : NULL;
}

void curl_mime_free(curl_mime *mime)
{
	if (mime && ready())
		lib.curl_mime_free(mime);
}

curl_mimepart *curl_mime_addpart(curl_mime *mime)
{
	return ready() ? lib.curl_mime_addpart(mime) : NULL;
}

CURLcode curl_mime_name(curl_mimepart *part, const char *name)
{
	return ready() ? lib.curl_mime_name(part, name) : CURLE_FAILED_INIT;
}

CURLcode curl_mime_filename(curl_mimepart *part, const char *filename)
{
	return ready() ? lib.curl_mime_filename(part, filename) :
		CURLE_FAILED_INIT;
}

CURLcode curl_mime_type(curl_mimepart *part, const char *mimetype)
{
	return ready() ? lib.curl_mime_type(part, mimetype) :
		CURLE_FAILED_INIT;
}

CURLcode curl_mime_filedata(curl_mimepart *part, const char *filename)
{
	return ready() ? lib.curl_mime_filedata(part, filename) :
		CURLE_FAILED_INIT;
}

CURLM *curl_multi_init(void)
{
	return ready() ? lib.curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
	return ready() ? lib.curl_multi_cleanup(multi) : CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy)
{
	return ready() ? lib.curl_multi_add_handle(multi, easy) :
		CURLM_BAD_HANDLE;
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *easy)
{
	return ready() ? lib.curl_multi_remove_handle(multi, easy) :
		CURLM_BAD_HANDLE;
}

CURLMcode (curl_multi_setopt)(CURLM *multi, CURLMoption option, ...)
{
	CURLMcode r = CURLM_BAD_HANDLE;
	va_list ap;

	if (!ready())
		return r;
	va_start(ap, option);
	switch (option_kind((int)option)) {
	case ARG_LONG:
		r = (lib.curl_multi_setopt)(multi, option, va_arg(ap, long));
		break;
	case ARG_POINTER:
		r = (lib.curl_multi_setopt)(multi, option, va_arg(ap, void *));
		break;
	case ARG_FUNCTION:
		r = (lib.curl_multi_setopt)(multi, option,
					  va_arg(ap, curl_lazy_fn));
		break;
	case ARG_OFF_T:
		r = (lib.curl_multi_setopt)(multi, option,
					  va_arg(ap, curl_off_t));
		break;
	}
	va_end(ap);
	return r;
}

CURLMcode curl_multi_socket_action(CURLM *multi, curl_socket_t s,
				   int ev_bitmask, int *running)
{
	return ready() ? lib.curl_multi_socket_action(multi, s, ev_bitmask,
						      running) :
		CURLM_BAD_HANDLE;
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
	return ready() ? lib.curl_multi_info_read(multi, msgs_in_queue) : NULL;
}

const char *curl_multi_strerror(CURLMcode code)
{
	return ready() ? lib.curl_multi_strerror(code) :
		"libcurl could not be loaded";
}

#else
/* ISO C wants a translation unit to declare something. */
typedef int curl_lazy_unused;
#endif
