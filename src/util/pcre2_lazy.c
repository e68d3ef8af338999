/*
 * PCRE2, loaded on first use (CR_LAZY_PCRE2, the default).
 *
 * Regular expressions are needed by `crunner exec` (rules:, inputs:,
 * coverage:), by a job's coverage regex and by the kubernetes overwrite
 * checks; an idle `crunner run` needs none.  As src/util/curl_lazy.c does
 * for libcurl, this file defines the pcre2 functions those call, with
 * pcre2.h's prototypes (PCRE2_CODE_UNIT_WIDTH 8: pcre2_compile is
 * pcre2_compile_8); --as-needed then leaves libpcre2-8 out of the binary's
 * DT_NEEDED and the first call dlopen()s it.  When it cannot be loaded,
 * pcre2_compile fails (PCRE2_ERROR_NOMEMORY) after one error line, and
 * pcre2_get_error_message says the library could not be loaded.
 *
 * Process-wide, like the mapping itself: filled once under pthread_once,
 * then only read.
 */
#ifdef CR_LAZY_PCRE2

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pcre2.h>

#include "util/lazy_lib.h"
#include "util/banned.h"

#define PCRE2_SONAME "libpcre2-8.so.0"

#define PCRE2_LAZY_FUNCTIONS(X, V) \
	X(pcre2_code *, pcre2_compile, \
	  (PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options, \
	   int *errorcode, PCRE2_SIZE *erroroffset, \
	   pcre2_compile_context *ccontext), \
	  (pattern, length, options, errorcode, erroroffset, ccontext), \
	  compile_unavailable(errorcode, erroroffset)) \
	V(pcre2_code_free, (pcre2_code *code), (code)) \
	X(pcre2_match_data *, pcre2_match_data_create_from_pattern, \
	  (const pcre2_code *code, pcre2_general_context *gcontext), \
	  (code, gcontext), NULL) \
	X(int, pcre2_match, \
	  (const pcre2_code *code, PCRE2_SPTR subject, PCRE2_SIZE length, \
	   PCRE2_SIZE startoffset, uint32_t options, \
	   pcre2_match_data *match_data, pcre2_match_context *mcontext), \
	  (code, subject, length, startoffset, options, match_data, \
	   mcontext), PCRE2_ERROR_NOMEMORY) \
	V(pcre2_match_data_free, (pcre2_match_data *match_data), \
	  (match_data)) \
	X(uint32_t, pcre2_get_ovector_count, (pcre2_match_data *match_data), \
	  (match_data), 0) \
	X(PCRE2_SIZE *, pcre2_get_ovector_pointer, \
	  (pcre2_match_data *match_data), (match_data), NULL) \
	X(int, pcre2_get_error_message, \
	  (int errorcode, PCRE2_UCHAR *buffer, PCRE2_SIZE bufflen), \
	  (errorcode, buffer, bufflen), message_unavailable(buffer, bufflen))

enum { PCRE2_LAZY_FUNCTIONS(LAZY_LIB_INDEX, LAZY_LIB_INDEX_V) LAZY_COUNT };
static const char *const lazy_names[] = {
	PCRE2_LAZY_FUNCTIONS(LAZY_LIB_NAME, LAZY_LIB_NAME_V)
};
static void *lazy_fns[LAZY_COUNT];
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	loaded = lazy_lib_open(PCRE2_SONAME, lazy_names, lazy_fns, LAZY_COUNT);
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

static pcre2_code *compile_unavailable(int *errorcode, PCRE2_SIZE *erroroffset)
{
	if (errorcode)
		*errorcode = PCRE2_ERROR_NOMEMORY;
	if (erroroffset)
		*erroroffset = 0;
	return NULL;
}

static int message_unavailable(PCRE2_UCHAR *buffer, PCRE2_SIZE bufflen)
{
	int n;

	if (!bufflen)
		return PCRE2_ERROR_NOMEMORY;
	n = snprintf((char *)buffer, bufflen, "%s could not be loaded",
		     PCRE2_SONAME);
	return n < 0 || (size_t)n >= bufflen ? PCRE2_ERROR_NOMEMORY : n;
}

PCRE2_LAZY_FUNCTIONS(LAZY_LIB_FORWARD, LAZY_LIB_FORWARD_V)

#else
/* ISO C wants a translation unit to declare something. */
typedef int pcre2_lazy_unused;
#endif
