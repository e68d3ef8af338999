/*
 * Signals, as gitlab-runner reads them (docs/commands, "Signals"):
 * SIGQUIT graceful, SIGTERM/SIGINT forceful, SIGHUP reload.  Handlers
 * run on the loop (util/loop.h turns signals into events).
 */
#include <signal.h>
#include <string.h>

#include "cli/exit_codes.h"
#include "manager/manager_int.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/banned.h"

static long shutdown_timeout_ms(const struct manager *m)
{
	int s = m->config->cfg.shutdown_timeout;

	return (long)(s > 0 ? s : 30) * 1000;
}

/*
 * A job still in its acceptance PUT has no engine job to cancel yet, so
 * the abort is sent again every second until every job is gone.
 */
static long on_interrupt_repeat(struct loop *loop, void *ctx)
{
	struct manager *m = ctx;

	(void)loop;
	mgr_jobs_cancel(m, JOB_CANCEL_INTERRUPTED);
	return MGR_INTERRUPT_REPEAT_MS;
}

static long on_shutdown_timeout(struct loop *loop, void *ctx)
{
	struct manager *m = ctx;

	m->shutdown_timer = 0;
	if (m->phase == MGR_GRACEFUL) {
		log_warn("jobs still running after shutdown_timeout: aborting them");
		mgr_shutdown(m, MGR_FORCEFUL);
		return LOOP_TIMER_STOP;
	}
	log_error("shutdown_timeout passed with %d job%s still running: exiting",
		  m->nr_jobs, m->nr_jobs == 1 ? "" : "s");
	m->exit_code = CR_EXIT_FAILURE;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

void mgr_shutdown(struct manager *m, enum mgr_phase phase)
{
	if (phase <= m->phase)
		return;
	m->phase = phase;
	mgr_feed_stop(m);
	if (m->shutdown_timer)
		loop_cancel_timer(m->loop, m->shutdown_timer);
	m->shutdown_timer = loop_add_timer(m->loop, shutdown_timeout_ms(m),
					   on_shutdown_timeout, m);
	if (phase == MGR_FORCEFUL) {
		mgr_jobs_cancel(m, JOB_CANCEL_INTERRUPTED);
		if (!m->interrupt_timer)
			m->interrupt_timer = loop_add_timer(m->loop,
					MGR_INTERRUPT_REPEAT_MS,
					on_interrupt_repeat, m);
	}
	mgr_maybe_finish(m);
}

static void on_signal(struct loop *loop, int signo, void *ctx)
{
	struct manager *m = ctx;

	switch (signo) {
	case SIGHUP:
		mgr_reload(m, "SIGHUP");
		return;
	case SIGQUIT:
		if (m->phase != MGR_RUNNING) {
			log_info("SIGQUIT: already stopping");
			return;
		}
		log_warn("SIGQUIT: graceful shutdown, waiting for %d running job%s to finish",
			 m->nr_jobs, m->nr_jobs == 1 ? "" : "s");
		mgr_shutdown(m, MGR_GRACEFUL);
		return;
	default:
		if (m->phase == MGR_FORCEFUL) {
			log_warn("second %s: exiting at once", strsignal(signo));
			m->exit_code = CR_EXIT_FAILURE;
			loop_stop(loop);
			return;
		}
		log_warn("%s: forceful shutdown, aborting %d running job%s",
			 strsignal(signo), m->nr_jobs,
			 m->nr_jobs == 1 ? "" : "s");
		mgr_shutdown(m, MGR_FORCEFUL);
	}
}

void mgr_signals_setup(struct manager *m)
{
	loop_watch_signal(m->loop, SIGINT, on_signal, m);
	loop_watch_signal(m->loop, SIGTERM, on_signal, m);
	loop_watch_signal(m->loop, SIGQUIT, on_signal, m);
	loop_watch_signal(m->loop, SIGHUP, on_signal, m);
}
