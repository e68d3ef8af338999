/*
 * Config reload: on SIGHUP, or when config.toml changed on disk (checked
 * every few seconds, as gitlab-runner's checkConfig does).  The new file
 * becomes a new snapshot; entries that are still there (same URL and
 * token) keep their state and client, new ones start, removed ones stop
 * asking and are freed when their last job ends.  Running jobs keep the
 * snapshot they started with.  A file that does not load changes nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manager/manager_int.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

void mgr_apply_logging(const struct manager *m, const struct config *cfg)
{
	int level = m->opts.cli_log_level, format = m->opts.cli_log_format;

	if (level < 0)
		level = log_level_parse(cfg->log_level);
	if (format < 0)
		format = log_format_parse(cfg->log_format);
	log_setup(level < 0 ? LOG_LEVEL_INFO : (enum log_level)level,
		  format < 0 ? LOG_FORMAT_RUNNER : (enum log_format)format);
}

static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool matches(const struct mgr_runner *r, const struct runner_config *rc)
{
	if (r->removed || !same_str(r->rc->url, rc->url))
		return false;
	return same_str(r->rc->token, rc->token) ||
		(r->rotated_token && same_str(r->rotated_token, rc->token));
}

void mgr_apply_config(struct manager *m, struct mgr_config *snap)
{
	struct config *cfg = &snap->cfg;
	struct mgr_runner **next, **old = m->runners;
	size_t nr_old = m->nr_runners, i, j, n = 0;
	bool *kept = xcalloc(nr_old + 1, sizeof(*kept));

	if (m->opts.user) {
		free(cfg->user);
		cfg->user = xstrdup(m->opts.user);
	}
	mgr_apply_logging(m, cfg);
	next = xcalloc(cfg->nr_runners + nr_old + 1, sizeof(*next));
	for (i = 0; i < cfg->nr_runners; i++) {
		struct runner_config *rc = cfg->runners[i];
		struct mgr_runner *r = NULL;

		for (j = 0; j < nr_old && !r; j++)
			if (!kept[j] && matches(old[j], rc)) {
				kept[j] = true;
				r = old[j];
			}
		if (r) {
			mgr_runner_rebind(r, snap, rc);
			free_secret(r->rotated_token);
			r->rotated_token = NULL;
		} else {
			r = mgr_runner_new(m, snap, rc);
			log_info("runner %s%s%s%s: added (%s, executor %s)",
				 r->short_token, rc->name ? " (" : "",
				 rc->name ? rc->name : "", rc->name ? ")" : "",
				 rc->url, r->info.executor ? r->info.executor :
				 "none");
		}
		next[n++] = r;
	}
	m->nr_active = n;
	/* Entries gone from the file: stop asking, free once idle. */
	for (j = 0; j < nr_old; j++) {
		struct mgr_runner *r = old[j];

		if (kept[j])
			continue;
		if (!r->removed) {
			log_info("runner %s: removed from the config%s",
				 r->short_token, r->nr_jobs ?
				 "; its running jobs go on" : "");
			r->removed = true;
			r->metrics.listed = false;
			mgr_runner_cancel_requests(r);
		}
		next[n++] = r;
	}
	free(kept);
	free(old);
	m->runners = next;
	m->nr_runners = n;
	if (m->feed_next >= m->nr_active)
		m->feed_next = 0;
	mgr_config_unref(m->config);
	m->config = snap;
	if (cfg->concurrent < (int)m->nr_active)
		log_warn("'concurrent' (%d) is less than the number of runners (%zu): some will wait for a free slot",
			 cfg->concurrent, m->nr_active);
	mgr_schedule_reap(m);
	mgr_token_schedule(m);
}

static int stat_config(const struct manager *m, struct stat *st)
{
	return stat(m->config_path, st);
}

void mgr_remember_mtime(struct manager *m)
{
	struct stat st;

	if (stat_config(m, &st) != 0)
		return;
	m->config_mtime = st.st_mtim;
	m->config_ino = st.st_ino;
	m->config_size = st.st_size;
}

void mgr_reload(struct manager *m, const char *why)
{
	struct config cfg = { 0 };
	struct buf err = BUF_INIT;
	size_t i;

	mgr_remember_mtime(m);
	if (config_load(m->config_path, &cfg, &err) != 0) {
		log_error("%s: cannot reload the config: %s; keeping the old one",
			  why, err.data);
		config_release(&cfg);
		buf_release(&err);
		return;
	}
	for (i = 0; i < cfg.warnings.nr; i++)
		log_warn("%s", cfg.warnings.v[i]);
	mgr_apply_config(m, mgr_config_new(&cfg));
	log_info("%s: configuration reloaded (%zu runner%s, concurrent %d)",
		 why, m->nr_active, m->nr_active == 1 ? "" : "s",
		 m->config->cfg.concurrent);
	buf_release(&err);
}

static long on_reload_check(struct loop *loop, void *ctx)
{
	struct manager *m = ctx;
	struct stat st;

	(void)loop;
	if (m->phase != MGR_RUNNING)
		return m->opts.reload_interval_ms;
	if (stat_config(m, &st) != 0) {
		if (errno != ENOENT)
			log_debug("cannot stat '%s': %s", m->config_path,
				  strerror(errno));
		return m->opts.reload_interval_ms;
	}
	if (st.st_mtim.tv_sec != m->config_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != m->config_mtime.tv_nsec ||
	    st.st_ino != m->config_ino || st.st_size != m->config_size)
		mgr_reload(m, "config file changed");
	return m->opts.reload_interval_ms;
}

void mgr_reload_watch(struct manager *m)
{
	if (!m->reload_timer)
		m->reload_timer = loop_add_timer(m->loop,
						 m->opts.reload_interval_ms,
						 on_reload_check, m);
}
