/*
 * Build stage sections and, with FF_EXPORT_HIGH_CARDINALITY_METRICS, their
 * durations: gitlab-runner's OnBuildStageStartFn/OnBuildStageEndFn around
 * each stage feed gitlab_runner_job_stage_duration_seconds
 * (commands/builds_helper.go) when the flag is on for the build.  Stages
 * run one at a time, so one start time is enough.
 */
#include "job/engine_internal.h"
#include "job/trace.h"
#include "job/variables.h"
#include "util/loop.h"
#include "util/banned.h"

void job_section_start(struct job *job, const char *name, const char *header)
{
	job->section_started_ms = loop_now_ms(job->loop);
	trace_sink_section_start(job->sink, name, header);
}

void job_section_end(struct job *job, const char *name)
{
	const struct job_settings *s = &job->settings;

	trace_sink_section_end(job->sink, name);
	if (!s->on_stage_duration ||
	    !variables_get_bool(&job->vars, "FF_EXPORT_HIGH_CARDINALITY_METRICS",
				0))
		return;
	s->on_stage_duration(s->stage_duration_ctx, name,
			     (double)(loop_now_ms(job->loop) -
				      job->section_started_ms) / 1000);
}
