#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/lazy_lib.h"
#include "util/log.h"
#include "util/banned.h"

bool lazy_lib_open(const char *soname, const char *const names[],
		   void *fns[], size_t count)
{
	void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!handle) {
		log_error("cannot load %s: %s", soname, dlerror());
		return false;
	}
	for (i = 0; i < count; i++) {
		if (!(fns[i] = dlsym(handle, names[i]))) {
			log_error("cannot load %s: it has no %s", soname, names[i]);
			return false;
		}
	}
	return true;
}
