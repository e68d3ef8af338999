/*
 * Autoscaler slots' cgroups, as gitlab-runner's use_slot_cgroups:
 * the name a job's containers are put under (its slot number in the
 * template) and the load-time warning for a template without ${slot}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The template in force: services' own, else the runner's, else the default. */
static const char *slot_template(const struct runner_config *rc, bool service)
{
	if (service && rc->docker.service_slot_cgroup_template)
		return rc->docker.service_slot_cgroup_template;
	return rc->slot_cgroup_template ? rc->slot_cgroup_template :
		CONFIG_DEFAULT_SLOT_CGROUP_TEMPLATE;
}

static const char *lookup_slot(void *ctx, const char *name)
{
	return strcmp(name, "slot") ? NULL : ctx;
}

char *config_slot_cgroup(const struct runner_config *rc, int slot,
			 bool service)
{
	char num[16];

	if (!rc->use_slot_cgroups || slot < 0)
		return NULL;
	snprintf(num, sizeof(num), "%d", slot);
	return config_expand(slot_template(rc, service), lookup_slot, num);
}

/* logrus' text formatter: a value is quoted unless made of these. */
static bool logrus_plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("-._/@^+", *s)))
			return false;
	return true;
}

/* gitlab-runner's validateSlotCgroupTemplate: a warning, never an error. */
static void check_template(const char *tmpl, const char *name, int line,
			   const struct config_ctx *ctx)
{
	struct buf msg = BUF_INIT;

	if (strstr(tmpl, "${slot}") || strstr(tmpl, "$slot"))
		return;
	config_add_where(&msg, ctx, line);
	buf_addf(&msg, "Slot cgroup template does not contain ${slot} placeholder. "
		 "All jobs will use the same cgroup, defeating the purpose of "
		 "slot-based isolation. Consider using a template like "
		 "'gitlab-runner/slot-${slot}' config_name=%s template=", name);
	if (logrus_plain(tmpl)) {
		buf_addstr(&msg, tmpl);
	} else {
		const char *p;

		buf_addch(&msg, '"');
		for (p = tmpl; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addch(&msg, '\\');
			buf_addch(&msg, *p);
		}
		buf_addch(&msg, '"');
	}
	strvec_push_nodup(ctx->warnings, buf_detach(&msg, NULL));
}

static int key_line(const struct toml_value *table, const char *key)
{
	const struct toml_value *v = table ? config_tree_get(table, key) : NULL;

	return v ? v->line : table ? table->line : 0;
}

void config_slot_cgroups_check(const struct runner_config *r,
			       const struct toml_value *table,
			       const struct config_ctx *ctx)
{
	if (!ctx->warnings || !r->use_slot_cgroups)
		return;
	check_template(slot_template(r, false), "slot_cgroup_template",
		       key_line(table, "slot_cgroup_template"), ctx);
	if (r->docker.service_slot_cgroup_template)
		check_template(r->docker.service_slot_cgroup_template,
			       "service_slot_cgroup_template",
			       key_line(config_tree_get(table, "docker"),
					"service_slot_cgroup_template"), ctx);
}
