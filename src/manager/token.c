/*
 * Automatic token rotation (spec 1.6, gitlab-runner's nextRunnerToReset):
 * the entry whose token is due first is reset at 75% of its lifetime,
 * then config.toml is rewritten.  The file is read again before the reset
 * and the new token written into that fresh copy, never into a snapshot
 * that running jobs share; a file that does not load means no reset (the
 * server would otherwise forget the only token we could save).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager/manager_int.h"
#include "util/timeparse.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void on_token_timer_schedule(struct manager *m, long delay_ms);

static struct mgr_runner *next_due(struct manager *m, time_t *at)
{
	struct mgr_runner *best = NULL;
	size_t i;

	for (i = 0; i < m->nr_active; i++) {
		struct mgr_runner *r = m->runners[i];
		time_t t;

		if (!r->rc->token_expires_at || r->reset_call ||
		    r->rotation_warned || !r->client)
			continue;
		t = sched_token_reset_at(r->rc->token_obtained_at,
					 r->rc->token_expires_at);
		if (!best || t < *at) {
			best = r;
			*at = t;
		}
	}
	return best;
}

/*
 * The file as it is now if it still has the entry (an edit made while
 * the reset was in flight is kept), else the copy read before the call:
 * the new token must be written somewhere.
 */
static struct mgr_config *config_to_write(struct manager *m,
					  const struct runner_config *old,
					  struct mgr_config *before)
{
	struct config now = { 0 };
	struct buf err = BUF_INIT;

	if (config_load(m->config_path, &now, &err) == 0 &&
	    config_find_runner_by_token(&now, old->url, old->token, NULL)) {
		buf_release(&err);
		mgr_config_unref(before);
		return mgr_config_new(&now);
	}
	config_release(&now);
	buf_release(&err);
	return before;
}

static void on_reset(struct gl_runner_reply *reply, void *ctx)
{
	struct mgr_runner *r = ctx;
	struct manager *m = r->m;
	struct mgr_config *fresh = r->reset_snap;
	struct runner_config *rc;
	struct buf err = BUF_INIT;
	char short_new[RUNNER_SHORT_TOKEN_SIZE];
	size_t index;
	time_t expires = 0;

	r->reset_call = NULL;
	r->reset_snap = NULL;
	if (reply->result != GL_OK || !reply->token || !*reply->token) {
		log_error("runner %s: resetting the token failed (%ld %s); trying again in %ld s",
			  r->short_token, reply->status,
			  reply->message.len ? reply->message.data :
			  gl_result_name(reply->result),
			  MGR_TOKEN_RETRY_MS / 1000);
		mgr_config_unref(fresh);
		on_token_timer_schedule(m, MGR_TOKEN_RETRY_MS);
		return;
	}
	if (r->removed) {
		log_warn("runner %s: removed from config.toml while its token was reset; the new token is not kept",
			 r->short_token);
		mgr_config_unref(fresh);
		mgr_schedule_reap(m);
		return;
	}
	fresh = config_to_write(m, r->rc, fresh);
	rc = config_find_runner_by_token(&fresh->cfg, r->rc->url, r->rc->token,
					 &index);
	if (!rc) {
		/* Cannot happen: the copy was checked before the call. */
		log_error("runner %s: the entry left config.toml during the token reset",
			  r->short_token);
		mgr_config_unref(fresh);
		return;
	}
	if (reply->token_expires_at &&
	    time_parse_rfc3339(reply->token_expires_at, &expires) != 0)
		log_warn("runner %s: unreadable token_expires_at '%s'",
			 r->short_token, reply->token_expires_at);
	free_secret(rc->token);
	rc->token = reply->token;
	reply->token = NULL;	/* taken */
	rc->token_obtained_at = time(NULL);
	rc->token_expires_at = expires;
	config_runner_sync(&fresh->cfg, index);
	if (config_save(&fresh->cfg, &err) != 0)
		/* The old token no longer works: say loudly what went wrong. */
		log_error("runner %s: the token was reset but config.toml could not be written: %s",
			  r->short_token, err.data);
	else
		log_info("runner %s: token reset, new token %s (config.toml updated)",
			 r->short_token, runner_short_token(rc->token, short_new));
	buf_release(&err);
	r->rotated_token = xstrdup(rc->token);
	mgr_remember_mtime(m);
	mgr_apply_config(m, fresh);	/* the reference moves to m */
}

static void rotate(struct manager *m, struct mgr_runner *r)
{
	struct gl_runner_params p = { 0 };
	struct config cfg = { 0 };
	struct buf err = BUF_INIT;
	int rc;

	if (runner_feature_flag(r->rc, "FF_DISABLE_AUTOMATIC_TOKEN_ROTATION",
				false)) {
		log_warn("runner %s: automatic token rotation is disabled; the token is about to expire",
			 r->short_token);
		r->rotation_warned = true;
		mgr_token_schedule(m);
		return;
	}
	if (config_load(m->config_path, &cfg, &err) != 0) {
		log_error("runner %s: not resetting the token: %s",
			  r->short_token, err.data);
		config_release(&cfg);
		buf_release(&err);
		on_token_timer_schedule(m, MGR_TOKEN_RETRY_MS);
		return;
	}
	buf_release(&err);
	if (!config_find_runner_by_token(&cfg, r->rc->url, r->rc->token,
					 NULL)) {
		/* The file changed under us: take it, then decide again. */
		config_release(&cfg);
		mgr_reload(m, "token rotation");
		return;
	}
	r->reset_snap = mgr_config_new(&cfg);
	/* Requests in flight carry the old token: they would get 403. */
	mgr_runner_cancel_requests(r);
	p.token = r->rc->token;
	p.system_id = m->system_id;
	log_info("runner %s: resetting the token (it expires soon)",
		 r->short_token);
	if ((rc = gl_reset_token(r->client, &p, on_reset, r,
				 &r->reset_call)) != 0) {
		log_error("runner %s: cannot reset the token: %s",
			  r->short_token, cr_strerror(rc));
		mgr_config_unref(r->reset_snap);
		r->reset_snap = NULL;
		r->reset_call = NULL;
		on_token_timer_schedule(m, MGR_TOKEN_RETRY_MS);
	}
}

static long on_token_timer(struct loop *loop, void *ctx)
{
	struct manager *m = ctx;
	struct mgr_runner *r;
	time_t at = 0;

	(void)loop;
	m->token_timer = 0;
	if (m->phase != MGR_RUNNING)
		return LOOP_TIMER_STOP;
	r = next_due(m, &at);
	if (!r)
		return LOOP_TIMER_STOP;
	if (at > time(NULL)) {
		mgr_token_schedule(m);
		return LOOP_TIMER_STOP;
	}
	rotate(m, r);
	return LOOP_TIMER_STOP;
}

static void on_token_timer_schedule(struct manager *m, long delay_ms)
{
	if (m->token_timer)
		loop_cancel_timer(m->loop, m->token_timer);
	m->token_timer = loop_add_timer(m->loop, delay_ms, on_token_timer, m);
}

void mgr_token_schedule(struct manager *m)
{
	time_t at = 0, now = time(NULL);
	long delay;

	if (!next_due(m, &at)) {
		if (m->token_timer)
			loop_cancel_timer(m->loop, m->token_timer);
		m->token_timer = 0;
		return;
	}
	delay = at <= now ? 0 : (long)(at - now) * 1000;
	if (delay > 24L * 3600 * 1000)
		delay = 24L * 3600 * 1000;	/* check again daily */
	on_token_timer_schedule(m, delay);
}
