#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/host_cache.h"
#include "util/buf.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The few parent/prefix pairs one process sweeps (one per executor). */
#define HOST_CACHE_SWEEPS 8

struct sweep {
	char *key;		/* parent "/" prefix; NULL: free slot */
	uint64_t at_ms;
};

struct program {
	char *name, *path;	/* the lookup: name on PATH value path (NULL
				 * for none: not the same as "") */
	char *file;		/* what it found; NULL: nothing kept */
	uint64_t at_ms;
};

struct host_cache {
	struct sweep sweeps[HOST_CACHE_SWEEPS];
	struct program program;	/* the shell: one program is enough */
};

struct host_cache *host_cache_new(void)
{
	return xcalloc(1, sizeof(struct host_cache));
}

static void program_forget(struct program *p)
{
	free(p->name);
	free(p->path);
	free(p->file);
	memset(p, 0, sizeof(*p));
}

void host_cache_free(struct host_cache *hc)
{
	size_t i;

	if (!hc)
		return;
	for (i = 0; i < HOST_CACHE_SWEEPS; i++)
		free(hc->sweeps[i].key);
	program_forget(&hc->program);
	free(hc);
}

bool host_cache_sweep_due(struct host_cache *hc, const char *parent,
			  const char *prefix, uint64_t now_ms)
{
	struct buf key = BUF_INIT;
	struct sweep *free_slot = NULL, *oldest = NULL, *s;
	bool due = true;
	size_t i;

	if (!hc)
		return true;
	(void)buf_addf(&key, "%s/%s", parent, prefix);
	for (i = 0; i < HOST_CACHE_SWEEPS; i++) {
		s = &hc->sweeps[i];
		if (!s->key) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (!oldest || s->at_ms < oldest->at_ms)
			oldest = s;
		if (strcmp(s->key, key.data))
			continue;
		due = now_ms - s->at_ms >= (uint64_t)HOST_CACHE_SWEEP_MS;
		if (due)
			s->at_ms = now_ms;
		buf_release(&key);
		return due;
	}
	/* Not seen yet: noted in a free slot, else in place of the oldest. */
	s = free_slot ? free_slot : oldest;
	free(s->key);
	s->key = buf_detach(&key, NULL);
	s->at_ms = now_ms;
	return due;
}

static bool same_path(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* The kept file still is a regular file we may run. */
static bool still_there(const char *file)
{
	struct stat st;

	return stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
		access(file, X_OK) == 0;
}

int host_cache_find_program(struct host_cache *hc, const char *name,
			    const char *path, uint64_t now_ms,
			    struct buf *out)
{
	struct program *p;
	int e;

	if (!hc)
		return proc_find_program(name, path, out);
	p = &hc->program;
	if (p->file && !strcmp(p->name, name) &&
	    same_path(p->path, path) &&
	    now_ms - p->at_ms < (uint64_t)HOST_CACHE_LOOKUP_MS &&
	    still_there(p->file)) {
		buf_reset(out);
		return buf_addstr(out, p->file) ? ENAMETOOLONG : 0;
	}
	program_forget(p);
	if ((e = proc_find_program(name, path, out)) != 0)
		return e;
	p->name = xstrdup(name);
	p->path = path ? xstrdup(path) : NULL;
	p->file = xstrdup(out->data);
	p->at_ms = now_ms;
	return 0;
}
