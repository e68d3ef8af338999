/*
 * The local artifact store (contract in store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitlab/payload.h"
#include "local/store.h"
#include "util/buf.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct stored {
	long job_id;
	char *type;
	char *filename;
	char *path;
	long long size;
};

struct local_store {
	struct loop *loop;
	char *dir;
	struct stored *items;
	size_t nr, alloc;
	struct job_store_op *ops;	/* reports not yet delivered */
};

struct job_store_op {
	struct local_store *store;
	struct job_store_op *prev, *next;
	uint64_t timer;
	job_store_cb cb;
	void *cb_ctx;
	enum job_store_result result;
	char status[48];
	char *detail;
};

struct local_store *local_store_new(struct loop *loop, const char *dir)
{
	struct local_store *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->dir = xstrdup(dir);
	return s;
}

static void op_unlink_free(struct job_store_op *op)
{
	struct local_store *s = op->store;

	if (op->prev)
		op->prev->next = op->next;
	else
		s->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	free(op->detail);
	free(op);
}

void local_store_free(struct local_store *s)
{
	size_t i;

	if (!s)
		return;
	while (s->ops) {
		loop_cancel_timer(s->loop, s->ops->timer);
		op_unlink_free(s->ops);
	}
	for (i = 0; i < s->nr; i++) {
		free(s->items[i].type);
		free(s->items[i].filename);
		free(s->items[i].path);
	}
	free(s->items);
	free(s->dir);
	free(s);
}

static struct stored *find(const struct local_store *s, long job_id,
			   const char *type)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->items[i].job_id == job_id &&
		    !strcmp(s->items[i].type, type))
			return &s->items[i];
	return NULL;
}

bool local_store_find(const struct local_store *s, long job_id,
		      const char *type, const char **filename,
		      long long *size)
{
	const struct stored *it = find(s, job_id, type);

	if (!it)
		return false;
	if (filename)
		*filename = it->filename;
	if (size)
		*size = it->size;
	return true;
}

char *local_store_path(const struct local_store *s, long job_id,
		       const char *type)
{
	struct buf path = BUF_INIT;

	if (!find(s, job_id, type))
		return NULL;
	(void)buf_addf(&path, "%s/%ld/%s", s->dir, job_id, type);
	return buf_detach(&path, NULL);
}

/* Streams src into dst (created or truncated). */
static int copy_file(const char *src, const char *dst)
{
	char chunk[65536];
	int in, out, r = 0;
	ssize_t n;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, chunk, sizeof(chunk))) != 0) {
		char *p = chunk;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			break;
		}
		while (n > 0) {
			ssize_t w = write(out, p, (size_t)n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = -1;
				break;
			}
			p += w;
			n -= w;
		}
		if (r)
			break;
	}
	if (close(out))
		r = -1;
	close(in);
	return r;
}

/* dst becomes src's content: a hard link when it can, else a copy. */
static int place(const char *src, const char *dst)
{
	if (unlink(dst) && errno != ENOENT)
		return -1;
	if (!link(src, dst))
		return 0;
	return copy_file(src, dst);
}

static long fire(struct loop *loop, void *ctx)
{
	struct job_store_op *op = ctx;
	job_store_cb cb = op->cb;
	void *cb_ctx = op->cb_ctx;
	enum job_store_result result = op->result;
	char status[sizeof(op->status)];
	char *detail = op->detail;

	(void)loop;
	memcpy(status, op->status, sizeof(status));
	op->detail = NULL;
	op_unlink_free(op);
	cb(cb_ctx, result, status, detail ? detail : "");
	free(detail);
	return LOOP_TIMER_STOP;
}

static struct job_store_op *report(struct local_store *s,
				   enum job_store_result result,
				   const char *status, char *detail,
				   job_store_cb cb, void *cb_ctx)
{
	struct job_store_op *op = xcalloc(1, sizeof(*op));

	op->store = s;
	op->cb = cb;
	op->cb_ctx = cb_ctx;
	op->result = result;
	snprintf(op->status, sizeof(op->status), "%s", status);
	op->detail = detail;
	op->next = s->ops;
	if (s->ops)
		s->ops->prev = op;
	s->ops = op;
	op->timer = loop_add_timer(s->loop, 0, fire, op);
	return op;
}

static char *failure(const char *what, const char *path)
{
	struct buf b = BUF_INIT;

	(void)buf_addf(&b, "cannot %s '%s': %s", what, path, strerror(errno));
	return buf_detach(&b, NULL);
}

static bool type_ok(const char *type)
{
	size_t i;

	if (!*type)
		return false;
	for (i = 0; type[i]; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') ||
		      (type[i] >= '0' && type[i] <= '9') || type[i] == '_'))
			return false;
	return true;
}

static struct job_store_op *do_upload(void *ctx,
				      const struct job_store_upload *u,
				      job_store_cb cb, void *cb_ctx)
{
	struct local_store_job *lj = ctx;
	struct local_store *s = lj->store;
	const char *type = u->type && *u->type ? u->type : "archive";
	struct buf path = BUF_INIT;
	struct stored *it;
	struct stat st;
	char *detail = NULL;

	if (!type_ok(type))
		return report(s, JOB_STORE_FAILED, "400 Bad Request",
			      xstrdup("invalid artifact type"), cb, cb_ctx);
	/* The store's dir is made by the first upload: most runs have none. */
	if (mkdir(s->dir, 0700) && errno != EEXIST) {
		detail = failure("create", s->dir);
		return report(s, JOB_STORE_FAILED, "500 Internal Server Error",
			      detail, cb, cb_ctx);
	}
	(void)buf_addf(&path, "%s/%ld", s->dir, lj->job_id);
	if (mkdir(path.data, 0700) && errno != EEXIST) {
		detail = failure("create", path.data);
		buf_release(&path);
		return report(s, JOB_STORE_FAILED, "500 Internal Server Error",
			      detail, cb, cb_ctx);
	}
	(void)buf_addf(&path, "/%s", type);
	if (place(u->archive_path, path.data) || stat(path.data, &st)) {
		detail = failure("store", path.data);
		(void)unlink(path.data);
		buf_release(&path);
		return report(s, JOB_STORE_FAILED, "500 Internal Server Error",
			      detail, cb, cb_ctx);
	}
	if (!(it = find(s, lj->job_id, type))) {
		if (s->nr == s->alloc) {
			s->alloc = s->alloc ? 2 * s->alloc : 8;
			s->items = xreallocarray(s->items, s->alloc,
						 sizeof(*s->items));
		}
		it = &s->items[s->nr++];
		memset(it, 0, sizeof(*it));
		it->job_id = lj->job_id;
		it->type = xstrdup(type);
		it->path = buf_detach(&path, NULL);
	}
	buf_release(&path);
	free(it->filename);
	it->filename = xstrdup(u->filename && *u->filename ? u->filename :
			       "artifacts.zip");
	it->size = (long long)st.st_size;
	return report(s, JOB_STORE_OK, "201 Created", NULL, cb, cb_ctx);
}

static struct job_store_op *do_download(void *ctx,
					const struct job_dependency *dep,
					const char *dest_path, unsigned flags,
					job_store_cb cb, void *cb_ctx)
{
	struct local_store_job *lj = ctx;
	struct local_store *s = lj->store;
	const struct stored *it = find(s, (long)dep->id, "archive");
	struct buf detail = BUF_INIT;

	(void)flags;	/* a directory: nothing to redirect to */
	if (!it) {
		(void)buf_addf(&detail, "job %lld left no artifacts archive",
			       (long long)dep->id);
		return report(s, JOB_STORE_NOT_FOUND, "404 Not Found",
			      buf_detach(&detail, NULL), cb, cb_ctx);
	}
	if (place(it->path, dest_path))
		return report(s, JOB_STORE_FAILED, "500 Internal Server Error",
			      failure("write", dest_path), cb, cb_ctx);
	return report(s, JOB_STORE_OK, "200 OK", NULL, cb, cb_ctx);
}

static void do_cancel(void *ctx, struct job_store_op *op)
{
	(void)ctx;
	loop_cancel_timer(op->store->loop, op->timer);
	op_unlink_free(op);
}

const struct job_artifact_store_ops local_store_ops = {
	.upload = do_upload,
	.download = do_download,
	.cancel = do_cancel,
};
