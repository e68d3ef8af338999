#include <fnmatch.h>
#include <string.h>

#include "util/path_glob.h"
#include "util/banned.h"

bool path_glob_match(const char *pat, const char *s)
{
	if (pat[0] == '*' && pat[1] == '*') {
		pat += 2;
		if (*pat == '/' && path_glob_match(pat + 1, s))
			return true;
		for (;; s++) {
			if (path_glob_match(pat, s))
				return true;
			if (!*s)
				return false;
		}
	}
	if (*pat == '*') {
		for (;; s++) {
			if (path_glob_match(pat + 1, s))
				return true;
			if (!*s || *s == '/')
				return false;
		}
	}
	if (!*pat)
		return !*s;
	if (!*s)
		return false;
	if (*pat == '[') {
		const char *end = strchr(pat + 1, ']');
		char cls[256], one[2] = { *s, 0 };
		size_t n;

		if (end && (n = (size_t)(end - pat + 1)) < sizeof(cls)) {
			memcpy(cls, pat, n);
			cls[n] = 0;
			if (*s == '/' || fnmatch(cls, one, 0) != 0)
				return false;
			return path_glob_match(end + 1, s + 1);
		}
	}
	if (*pat == '?' ? *s == '/' : *pat != *s)
		return false;
	return path_glob_match(pat + 1, s + 1);
}
