/*
 * What gitlab-runner checks in a payload before it starts the job
 * (spec 3.13), with its exact messages, plus small lookups.
 */
#include <string.h>

#include "gitlab/payload.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

const struct job_variable *job_payload_variable(const struct job_payload *p,
						const char *key)
{
	size_t i = p->variables.nr;

	while (i--)
		if (!strcmp(p->variables.v[i].key, key))
			return &p->variables.v[i];
	return NULL;
}

static void add_list(struct buf *msg, const char *const *items, size_t nr)
{
	size_t i;

	(void)buf_addch(msg, '[');
	for (i = 0; i < nr; i++)
		(void)buf_addf(msg, "%s%s", i ? " " : "", items[i]);
	(void)buf_addch(msg, ']');
}

/* One message per section with unknown keys, as Go's %v prints lists. */
static void unsupported(struct buf *msg, const struct strvec *keys,
			const char *executor, const char *const *supported,
			size_t nr_supported)
{
	if (!keys->nr)
		return;
	if (msg->len)
		(void)buf_addch(msg, '\n');
	(void)buf_addstr(msg, "Unsupported \"image\" options ");
	add_list(msg, keys->v, keys->nr);
	(void)buf_addf(msg, " for \"%s\"; supported options are ", executor);
	add_list(msg, supported, nr_supported);
}

static void check_opts(struct buf *msg, const struct job_executor_opts *o)
{
	static const char *const top[] = { "docker", "kubernetes" };
	static const char *const docker[] = { "platform", "user" };
	static const char *const kubernetes[] = { "user" };

	unsupported(msg, &o->unsupported, "executor_opts", top, 2);
	unsupported(msg, &o->docker.unsupported, "docker executor", docker, 2);
	unsupported(msg, &o->kubernetes.unsupported, "kubernetes executor",
		    kubernetes, 1);
}

int job_payload_validate(const struct job_payload *p, struct buf *msg)
{
	struct buf opts = BUF_INIT;
	const struct job_variable *steps_var;
	size_t i;

	if (p->image)
		check_opts(&opts, &p->image->executor_opts);
	for (i = 0; i < p->nr_services; i++)
		check_opts(&opts, &p->services[i].executor_opts);
	if (opts.len) {
		(void)buf_add(msg, opts.data, opts.len);
		buf_release(&opts);
		return CR_ERR_UNSUPPORTED;
	}
	if (!p->nr_run_steps)
		return 0;
	for (i = 0; i < p->nr_steps; i++) {
		if (p->steps[i].script.nr) {
			(void)buf_addstr(msg, "the `run` and `script` keywords cannot be used together");
			return CR_ERR_UNSUPPORTED;
		}
	}
	if ((steps_var = job_payload_variable(p, "STEPS")) && *steps_var->value) {
		(void)buf_addstr(msg, "the `run` keyword requires the exclusive use of the variable STEPS");
		return CR_ERR_UNSUPPORTED;
	}
	return 0;
}
