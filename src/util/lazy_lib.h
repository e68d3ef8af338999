#ifndef CR_UTIL_LAZY_LIB_H
#define CR_UTIL_LAZY_LIB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The shared part of the *_lazy.c files that load a library on its first
 * use (src/util/zlib_lazy.c, pcre2_lazy.c, fyaml_lazy.c): dlopen()s
 * SONAME and looks up the COUNT functions NAMES into FNS.  On failure
 * logs one error line naming the library and what the loader said (or
 * the missing function) and returns false; FNS is then not to be used.
 */
bool lazy_lib_open(const char *soname, const char *const names[],
		   void *fns[], size_t count);

/* "name" of a function after macro expansion (pcre2_compile -> "pcre2_compile_8"). */
#define LAZY_LIB_STR_(x) #x
#define LAZY_LIB_STR(x) LAZY_LIB_STR_(x)

/*
 * A *_lazy.c lists its functions as LIST(X, V): X(ret, name, (params),
 * (args), value when the library is not there) for each function that
 * returns something, V(name, (params), (args)) for each void one.  These
 * make the index enum, the name table and the calls from such a list;
 * the file keeps `static void *lazy_fns[LAZY_COUNT]` and its own ready().
 */
#define LAZY_LIB_ID_(name) LAZY_##name
#define LAZY_LIB_ID(name) LAZY_LIB_ID_(name)
#define LAZY_LIB_INDEX(ret, name, params, args, fail) LAZY_LIB_ID(name),
#define LAZY_LIB_INDEX_V(name, params, args) LAZY_LIB_ID(name),
#define LAZY_LIB_NAME(ret, name, params, args, fail) LAZY_LIB_STR(name),
#define LAZY_LIB_NAME_V(name, params, args) LAZY_LIB_STR(name),
#define LAZY_LIB_CALL(ret, name, params) \
	((ret (*) params) lazy_fns[LAZY_LIB_ID(name)])
/* Definitions that forward to the library, or give up as it would. */
#define LAZY_LIB_FORWARD(ret, name, params, args, fail) \
	ret name params \
	{ \
		return ready() ? LAZY_LIB_CALL(ret, name, params) args : fail; \
	}
#define LAZY_LIB_FORWARD_V(name, params, args) \
	void name params \
	{ \
		if (ready()) \
			LAZY_LIB_CALL(void, name, params) args; \
	}

#endif
