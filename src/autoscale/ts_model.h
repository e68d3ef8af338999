/*
 * Taskscaler's decisions as pure functions: which policy is active, how
 * many instances to ask for, which idle ones to remove, whether a job may
 * be reserved a slot, and which instance a job gets.  Nothing here does
 * I/O or keeps state: src/autoscale/taskscaler.c feeds it its instance
 * table and acts on the answers (docs/autoscale-plugins.md, "Taskscaler").
 *
 * Units: slots are job places (capacity units), not instances.
 */
#ifndef CR_AUTOSCALE_TS_MODEL_H
#define CR_AUTOSCALE_TS_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct config_autoscaler_policy;

/* [runners.autoscaler] numbers, normalised. */
struct ts_params {
	int capacity;		/* >= 1 (capacity_per_instance, < 1 is 1) */
	int max_use;		/* 0: unlimited (max_use_count) */
	int max_instances;	/* 0: unlimited; min'ed with the plugin's */
};

/* One instance as the decisions see it. */
struct ts_inst {
	int creating;		/* asked for, not running and ready yet */
	int ready;		/* running, and its up-func succeeded */
	int removing;		/* Decrease asked or about to be */
	int acquired;		/* slots held by jobs now */
	int used;		/* jobs ever given to it */
	uint64_t idle_since_ms;	/* last release, or when it became ready */
};

/* The active [[runners.autoscaler.policy]], resolved. */
struct ts_policy {
	int idle_count;
	int64_t idle_time_ms;
	double scale_factor;
	int scale_factor_limit;
	int preemptive;
};

/* What the table adds up to. */
struct ts_totals {
	int ready_free;		/* slots a job could take now */
	int coming;		/* slots of instances being created */
	int unavailable;	/* ready slots lost to max_use_count */
	int acquired;
	int reserved;
	int instances;		/* in any state, removing included */
};

/* Normalises capacity, and caps max_instances by the plugin's max_size. */
void ts_params_init(struct ts_params *p, int capacity_per_instance,
		    int max_use_count, int max_instances, int provider_max);

/* Slots of i a job could take now (0 unless ready and not removing). */
int ts_inst_free(const struct ts_params *p, const struct ts_inst *i);
/* Slots a fresh instance brings: min(capacity, max_use). */
int ts_slots_per_instance(const struct ts_params *p);

/* pending: instances Increase accepted that Update has not shown yet. */
void ts_totals_sum(const struct ts_params *p, const struct ts_inst *v,
		   size_t n, int pending, int reserved, struct ts_totals *t);

/*
 * Whether one cron period ("* 8-17 * * mon-fri": minute, hour, day of
 * month, month, day of week with 0 or 7 = Sunday, names, ranges, lists,
 * steps) contains the broken-down time tm.  -1 when the period is not
 * valid (err says why), else 0 or 1.
 */
int ts_period_matches(const char *period, const struct tm *tm,
		      struct buf *err);
/*
 * The active policy at now: the last entry one of whose periods contains
 * now in its timezone (no periods: "* * * * *"; no timezone: local time).
 * No entry matching: idle 0, not preemptive.  Returns 0, or CR_ERR_CONFIG
 * with err for a bad period or an unknown timezone.
 */
int ts_policy_active(const struct config_autoscaler_policy *v, size_t n,
		     time_t now, struct ts_policy *out, struct buf *err);

/* Idle slots to keep: idle_count, raised by scale_factor x in-use. */
int ts_idle_target(const struct ts_policy *pol, int in_use);

/*
 * How many instances to ask for now: enough for the reserved jobs and the
 * idle target, within max_instances (pending counts as instances) and
 * allowance (the throttle's and back-off's bound; < 0: none).
 */
int ts_scale_up(const struct ts_params *p, const struct ts_policy *pol,
		const struct ts_totals *t, int pending, int allowance);

/*
 * Which idle instances to remove at now_ms: retired ones (max_use_count
 * reached) always; others idle for idle_time, longest idle first, while
 * the idle target stays met.  Writes their indexes to out (room for n)
 * and returns how many.
 */
size_t ts_scale_down(const struct ts_params *p, const struct ts_policy *pol,
		     const struct ts_inst *v, size_t n,
		     const struct ts_totals *t, uint64_t now_ms, size_t *out);

/*
 * Whether one more job may be reserved a slot (before asking GitLab for
 * it).  Preemptive: only with a ready free slot for it.  Otherwise within
 * max_instances; with throttling also within what is ready or coming plus
 * what one more scale-up may add (addable instances).
 */
int ts_can_reserve(const struct ts_params *p, const struct ts_policy *pol,
		   const struct ts_totals *t, int throttling, int addable);

/*
 * The instance a job gets: ready with a free slot, the busiest first (so
 * others can idle out), then the lowest index (oldest).  -1: none.
 */
long ts_pick(const struct ts_params *p, const struct ts_inst *v, size_t n);

/*
 * The slot number a new acquisition gets on an instance whose other
 * acquisitions hold the n numbers in held: the lowest of 0..capacity-1
 * not held (a released number is given again).  -1: all are held.
 */
int ts_free_slot(const int *held, size_t n, int capacity);

#endif
