/*
 * The local pipeline scheduler (contract in scheduler.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine.h"
#include "job/trace.h"
#include "local/coverage.h"
#include "local/docker_probe.h"
#include "local/dotenv.h"
#include "local/isolate.h"
#include "local/payload.h"
#include "local/scheduler.h"
#include "local/store.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "executor/host_cache.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct sched;

struct run {
	struct sched *s;
	size_t index;
	struct job *job;
	struct job_payload *payload;
	struct trace_sink *sink;
	struct output_lane lane;
	struct job_settings settings;
	struct local_store_job store_job;
	struct coverage coverage;	/* the job's coverage: regex */
	long id;			/* the payload id of the last attempt */
	bool canceled;
	char *tree;			/* the tree it runs in (settings) */
};

struct sched {
	const struct scheduler_options *o;
	struct dag *d;
	struct loop *loop;
	struct runner_config rc;
	/* Jobs with image: when no --executor was given and a Docker engine
	 * answers (docker_rc); else why not, for their notes. */
	bool docker;
	struct runner_config docker_rc;
	struct buf no_docker;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	char *builds;
	int builds_lock;		/* flock()ed for the run; -1: a temp dir */
	char token[40];
	struct run *runs;
	struct local_store *store;
	struct host_cache *host_cache;	/* host facts kept between jobs */
	bool *slot_ready, *slot_busy;
	int running;
	int signals;
	uint64_t t0;
};

static void schedule(struct sched *s);

static int mkdir_p(const char *path)
{
	char *copy = xstrdup(path), *p;
	int r = 0;

	for (p = copy + 1; *p && !r; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(copy, 0700) && errno != EEXIST)
				r = -1;
			*p = '/';
		}
	if (!r && mkdir(copy, 0700) && errno != EEXIST)
		r = -1;
	free(copy);
	return r;
}

/*
 * The engine runs a job in <builds>/<short token>/<slot>/<project path>;
 * that path is made a link to the tree the job runs in (target), once per
 * slot (a kept builds dir may have it from an earlier run).
 */
static int prepare_slot(struct sched *s, int slot, const char *target,
			struct buf *err)
{
	struct buf path = BUF_INIT;
	char *dir, *cut, link[4096];
	ssize_t n;
	int r = 0;

	/* Isolated jobs each have their own tree: the link is checked. */
	if (s->slot_ready[slot] && !s->o->shell_isolation)
		return 0;
	(void)buf_addf(&path, "%s/%s/%d/%s", s->builds, s->short_token, slot,
		       s->o->repo->project_path);
	n = readlink(path.data, link, sizeof(link) - 1);
	if (n > 0 && (size_t)n == strlen(target) &&
	    !memcmp(link, target, (size_t)n)) {
		s->slot_ready[slot] = true;
		buf_release(&path);
		return 0;
	}
	dir = xstrdup(path.data);
	cut = strrchr(dir, '/');
	*cut = 0;
	if (n > 0)
		(void)unlink(path.data);	/* a link to another tree */
	if (mkdir_p(dir) || symlink(target, path.data)) {
		buf_seterr(err, "cannot link '%s' to the working tree: %s",
			   path.data, strerror(errno));
		r = CR_ERR_IO;
	} else {
		s->slot_ready[slot] = true;
	}
	free(dir);
	buf_release(&path);
	return r;
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* FTW_PHYS: a link to the working tree is removed, never followed. */
	if (type == FTW_DP)
		return rmdir(path) ? 0 : 0;
	return unlink(path) ? 0 : 0;
}

static void remove_builds(const char *dir)
{
	if (dir)
		(void)nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* FNV-1a, to name a project's builds dir after its path. */
static unsigned long long path_hash(const char *s)
{
	unsigned long long h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/*
 * The builds dir, kept from one run to the next: <cache dir>/builds/
 * <tree name>-<hash of its path>, locked (flock) for the run.  Its
 * directories and links are made once: on ext4 mounted with discard,
 * removing a directory made moments before costs milliseconds each, more
 * than half of a one-job run.  Returns false when there is no cache dir
 * or another run holds the lock: the caller then makes a temporary dir.
 */
static bool open_kept_builds(struct sched *s)
{
	const char *root = s->o->repo->root, *base = strrchr(root, '/');
	struct buf dir = BUF_INIT, lock = BUF_INIT;
	int fd;

	size_t len = strlen(root);

	/* Never a link to the tree inside the tree (a cache dir in it). */
	if (!s->o->cache_dir || (!strncmp(s->o->cache_dir, root, len) &&
				 s->o->cache_dir[len] == '/'))
		return false;
	base = base && base[1] ? base + 1 : "project";
	(void)buf_addf(&dir, "%s/builds/%.40s-%016llx", s->o->cache_dir, base,
		       path_hash(root));
	(void)buf_addf(&lock, "%s/.lock", dir.data);
	fd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT && mkdir_p(dir.data) == 0)
		fd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	buf_release(&lock);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		if (fd >= 0)
			close(fd);
		buf_release(&dir);
		return false;
	}
	s->builds_lock = fd;
	s->builds = buf_detach(&dir, NULL);
	return true;
}

static bool in_list(const struct strvec *list, const char *s)
{
	size_t i;

	for (i = 0; i < list->nr; i++)
		if (!strcmp(list->v[i], s))
			return true;
	return false;
}

static bool should_retry(const struct local_job *j, const char *reason)
{
	const struct pl_job *def = j->def;
	char code[16];

	if (j->attempts > def->retry_max)
		return false;
	snprintf(code, sizeof(code), "%d", j->exit_code);
	if (def->retry_exit_codes.nr && in_list(&def->retry_exit_codes, code))
		return true;
	if (!def->retry_when.nr)
		return !def->retry_exit_codes.nr;
	return in_list(&def->retry_when, "always") ||
		in_list(&def->retry_when, reason);
}

static void update_status(struct sched *s)
{
	struct buf b = BUF_INIT;
	size_t i, done = 0;
	int shown = 0;

	if (!s->o->out->tty)
		return;
	for (i = 0; i < s->d->nr; i++)
		if (s->d->jobs[i].state != LJ_PENDING &&
		    s->d->jobs[i].state != LJ_RUNNING)
			done++;
	(void)buf_addf(&b, "[%zu/%zu done] running:", done, s->d->nr);
	for (i = 0; i < s->d->nr && shown < 4; i++)
		if (s->d->jobs[i].state == LJ_RUNNING) {
			(void)buf_addf(&b, " %s", s->d->jobs[i].name);
			shown++;
		}
	if (s->running > shown)
		(void)buf_addf(&b, " +%d", s->running - shown);
	output_status(s->o->out, s->running ? b.data : NULL);
	buf_release(&b);
}

static void release_run(struct run *run)
{
	job_free(run->job);
	run->job = NULL;
	trace_sink_free(run->sink);
	run->sink = NULL;
	job_payload_free(run->payload);
	run->payload = NULL;
	free(run->tree);
	run->tree = NULL;
}

static void finish(struct sched *s, size_t i, enum lj_state state)
{
	struct local_job *j = &s->d->jobs[i];
	struct run *run = &s->runs[i];

	output_lane_finish(&run->lane);
	snprintf(j->coverage, sizeof(j->coverage), "%s", run->coverage.value);
	coverage_release(&run->coverage);
	if (j->slot >= 0)
		s->slot_busy[j->slot] = false;
	j->slot = -1;
	j->state = state;
	j->duration_ms = loop_now_ms(s->loop) - j->start_ms;
	s->running--;
}

static int start(struct sched *s, size_t i);

static void on_finished(void *ctx, const struct job_result *res)
{
	struct run *run = ctx;
	struct sched *s = run->s;
	struct local_job *j = &s->d->jobs[run->index];
	const char *reason = res->failure_reason ? res->failure_reason : "";
	enum lj_state state = LJ_SUCCESS;
	char code[16], took[32], *why;

	j->exit_code = res->exit_code;
	snprintf(j->failure_reason, sizeof(j->failure_reason), "%s",
		 res->state == JOB_STATE_FAILED ? reason : "");
	snprintf(j->failure_stage, sizeof(j->failure_stage), "%s",
		 res->state != JOB_STATE_FAILED ? "" :
		 res->failure_in_script || !res->failure_stage ? "pre_script" :
		 res->failure_stage);
	/* The job and its sentence end with release_run(). */
	why = xstrdup(res->state == JOB_STATE_FAILED && res->failure_message ?
		      res->failure_message : "");
	release_run(run);
	if (res->state == JOB_STATE_FAILED) {
		snprintf(code, sizeof(code), "%d", res->exit_code);
		if (run->canceled || res->canceled || res->aborted) {
			state = LJ_CANCELED;
		} else if (!s->signals && should_retry(j, reason)) {
			output_lane_note(&run->lane, "failed (%s, exit code %d): retrying, attempt %d of %d",
					 reason, res->exit_code, j->attempts + 1,
					 j->def->retry_max + 1);
			output_lane_finish(&run->lane);
			free(why);
			coverage_release(&run->coverage);
			s->slot_busy[j->slot] = false;
			j->slot = -1;
			s->running--;
			if (start(s, run->index) == 0)
				return;
			state = LJ_FAILED;
			j->state = state;
			schedule(s);
			return;
		} else if (j->allow_failure ||
			   (j->allow_exit_codes &&
			    in_list(&j->def->allow_exit_codes, code))) {
			state = LJ_WARNED;
		} else {
			state = LJ_FAILED;
		}
	}
	/* gitlab-ci-local's closing line: "job finished in 41 ms  FAIL 1". */
	output_duration(loop_now_ms(s->loop) - j->start_ms, took, sizeof(took));
	/* The reason's sentence too: the trace's "Job failed: ..." line is
	 * crunner's, which the lane does not show. */
	if (state != LJ_SUCCESS && strcmp(reason, "script_failure"))
		output_lane_note(&run->lane, "%s: %s%s%s",
				 state == LJ_CANCELED ? "canceled" : "failed",
				 reason, *why ? ": " : "", why);
	free(why);
	if (state == LJ_SUCCESS)
		output_lane_note(&run->lane, "finished in %s", took);
	else
		output_lane_note(&run->lane, "finished in %s  %s %d", took,
				 state == LJ_CANCELED ? "CANCEL" :
				 state == LJ_WARNED ? "WARN" : "FAIL",
				 res->exit_code);
	finish(s, run->index, state);
	schedule(s);
}

/* The finished jobs whose artifacts j receives, with what the store has. */
static struct local_payload_dep *dependencies(struct sched *s,
					      const struct local_job *j,
					      size_t *nr)
{
	struct local_payload_dep *deps = xcalloc(j->nr_deps + 1,
						 sizeof(*deps));
	size_t k;

	*nr = 0;
	for (k = 0; k < j->nr_deps; k++) {
		const struct run *dr = &s->runs[j->deps[k]];
		struct local_payload_dep *dep = &deps[*nr];

		if (!dr->id || !local_payload_passes_artifacts(s->d, j, k))
			continue;
		dep->id = dr->id;
		dep->name = s->d->jobs[j->deps[k]].name;
		if (!local_store_find(s->store, dr->id, "archive",
				      &dep->filename, &dep->size))
			dep->filename = NULL;
		(*nr)++;
	}
	return deps;
}

/*
 * The dotenv variables j gets: the reports of the finished jobs whose
 * artifacts it receives, in their order (a later one wins a key).  A
 * report GitLab would refuse is told and left out.
 */
static void dependency_dotenv(struct sched *s, struct run *run,
			      const struct local_job *j, struct pl_vars *out)
{
	size_t k;

	for (k = 0; k < j->nr_deps; k++) {
		const struct run *dr = &s->runs[j->deps[k]];
		struct buf err = BUF_INIT;
		char *path;

		if (!dr->id || !local_payload_passes_artifacts(s->d, j, k) ||
		    !(path = local_store_path(s->store, dr->id, "dotenv")))
			continue;
		if (local_dotenv_read(path, out, &err))
			output_lane_note(&run->lane,
					 "dotenv report of '%s' ignored: %s",
					 s->d->jobs[j->deps[k]].name, err.data);
		free(path);
		buf_release(&err);
	}
}

static bool has_image(const struct local_job *j)
{
	const struct ynode *image = ynode_get(j->def->node, "image");

	return image && image->kind != YNODE_NULL;
}

/* The image's name as written (image: x, or image: {name: x}). */
static const char *image_name(const struct local_job *j)
{
	const struct ynode *image = ynode_get(j->def->node, "image");

	if (image && image->kind == YNODE_MAP)
		image = ynode_get(image, "name");
	return image && image->kind == YNODE_SCALAR ? ynode_text(image) :
		"docker";
}

/* coverage: into run->coverage; a bad regex is told, the job still runs. */
static void setup_coverage(struct run *run, const struct local_job *j)
{
	const struct ynode *n = ynode_get(j->def->node, "coverage");
	struct buf err = BUF_INIT;

	if (n && n->kind == YNODE_SCALAR &&
	    coverage_init(&run->coverage, ynode_text(n), j->name, &err) == 0) {
		run->lane.coverage = &run->coverage;
	} else if (n && n->kind != YNODE_NULL) {
		output_lane_note(&run->lane, "%s", err.len ? err.data :
				 "coverage: should be a regular expression");
	}
	buf_release(&err);
}

/*
 * The runner configuration (so the executor) a job runs with: the one
 * --executor names for every job; without it, docker for a job with
 * image: when an engine answers, else shell.
 */
static const struct runner_config *job_runner(const struct sched *s,
					      const struct local_job *j)
{
	return s->docker && has_image(j) ? &s->docker_rc : &s->rc;
}

/*
 * The docker executor's configuration for crunner exec: the builds dir,
 * the working tree and the cache dir bound at the same paths (the jobs
 * see the tree as with the shell executor, through the slot links), no
 * volume of its own, host networking (services on 127.0.0.1), images
 * pulled only when missing.
 */
static void setup_docker(struct sched *s)
{
	const struct dag *d = s->d;
	const char *tree = s->o->project_dir ? s->o->project_dir :
		s->o->repo->root;
	struct runner_config *rc = &s->docker_rc;
	size_t i;

	if (s->o->executor)
		return;
	for (i = 0; i < d->nr && !has_image(&d->jobs[i]); i++)
		;
	if (i == d->nr || !local_docker_available(&s->no_docker))
		return;
	s->docker = true;
	runner_config_init(rc);
	rc->name = xstrdup(s->rc.name);
	rc->token = xstrdup(s->rc.token);
	rc->executor = xstrdup("docker");
	/* The user's own working tree: its git config is never touched. */
	rc->clean_git_config = CONFIG_FALSE;
	rc->builds_dir = xstrdup(s->rc.builds_dir);
	rc->custom_build_dir.enabled = s->rc.custom_build_dir.enabled;
	rc->output_limit = s->rc.output_limit;
	rc->docker.present = true;
	rc->docker.disable_cache = true;
	rc->docker.network_mode = xstrdup("host");
	strvec_push(&rc->docker.pull_policy, "if-not-present");
	/* No admin to overrule: a job's image:pull_policy is taken as it is. */
	strvec_push(&rc->docker.allowed_pull_policies, "always");
	strvec_push(&rc->docker.allowed_pull_policies, "if-not-present");
	strvec_push(&rc->docker.allowed_pull_policies, "never");
	strvec_pushf(&rc->docker.volumes, "%s:%s", s->builds, s->builds);
	strvec_pushf(&rc->docker.volumes, "%s:%s", tree, tree);
	if (s->rc.cache_dir) {
		rc->cache_dir = xstrdup(s->rc.cache_dir);
		strvec_pushf(&rc->docker.volumes, "%s:%s", rc->cache_dir,
			     rc->cache_dir);
	}
}

/*
 * The tree job i runs in: the shared one, or with --shell-isolation (a
 * shell job) a fresh copy of it, <builds>/isolated/<i> (a new string).
 */
static int job_tree(struct sched *s, size_t i, char **tree, struct buf *err)
{
	const char *shared = s->o->project_dir ? s->o->project_dir :
		s->o->repo->root;
	struct buf dir = BUF_INIT;
	int r;

	*tree = NULL;
	if (!s->o->shell_isolation ||
	    strcmp(job_runner(s, &s->d->jobs[i])->executor, "shell")) {
		*tree = xstrdup(shared);
		return 0;
	}
	(void)buf_addf(&dir, "%s/isolated", s->builds);
	if (mkdir(dir.data, 0700) && errno != EEXIST) {
		buf_seterr(err, "cannot create '%s': %s", dir.data,
			   strerror(errno));
		buf_release(&dir);
		return CR_ERR_IO;
	}
	(void)buf_addf(&dir, "/%zu", i);
	if ((r = local_isolate_copy(shared, s->o->isolate_files, dir.data,
				    err))) {
		buf_release(&dir);
		return r;
	}
	*tree = buf_detach(&dir, NULL);
	return 0;
}

static int start(struct sched *s, size_t i)
{
	struct local_job *j = &s->d->jobs[i];
	struct run *run = &s->runs[i];
	struct local_payload_dep *deps = NULL;
	struct local_payload_options po = { 0 };
	struct pl_vars dotenv = PL_VARS_INIT;
	char *tree = NULL;
	struct trace_options to = { 0 };
	struct job_callbacks cb = { on_finished, run };
	struct buf err = BUF_INIT;
	char *json = NULL;
	int slot, r;

	for (slot = 0; s->slot_busy[slot]; slot++)
		;
	run->s = s;
	run->index = i;
	run->canceled = false;
	output_lane_init(&run->lane, s->o->out, j->name);
	setup_coverage(run, j);
	if (!s->o->executor && !s->docker && has_image(j))
		output_lane_note(&run->lane,
				 "image: ignored, the job runs on the shell executor: %s",
				 s->no_docker.data);
	j->attempts++;
	if (j->attempts == 1)
		j->start_ms = loop_now_ms(s->loop);
	j->state = LJ_RUNNING;
	j->slot = slot;
	s->slot_busy[slot] = true;
	s->running++;
	po.job_id = (long)(i + 1) + (long)(j->attempts - 1) * 1000;
	po.pipeline_id = s->o->pipeline_id;
	po.repo = s->o->repo;
	po.predefined = s->o->predefined;
	po.overrides = s->o->overrides;
	po.token = s->token;
	po.project_dir = s->o->project_dir;
	po.deps = deps = dependencies(s, j, &po.nr_deps);
	dependency_dotenv(s, run, j, &dotenv);
	po.dotenv = &dotenv;
	run->id = po.job_id;
	if ((r = job_tree(s, i, &tree, &err)) ||
	    (r = prepare_slot(s, slot, tree, &err)))
		goto fail;
	po.project_dir = tree;
	if ((r = local_payload_compose(j, &po, &json, &err)) ||
	    (r = job_payload_decode(json, strlen(json), &run->payload, &err)))
		goto fail;
	run->settings.runner = job_runner(s, j);
	output_lane_note(&run->lane, "starting %s (%s)",
			 !strcmp(run->settings.runner->executor, "shell") ?
			 "shell" : image_name(j), j->def->stage);
	/* No GitLab here: no ID tokens, no secrets provider to ask. */
	if (ynode_get(j->def->node, "secrets"))
		output_lane_note(&run->lane, "warning: crunner exec does not resolve secrets: the job runs without those variables");
	run->settings.system_id = "local";
	run->settings.concurrent_id = slot;
	run->settings.concurrent_project_id = slot;
	run->settings.work_dir = NULL;
	free(run->tree);
	run->tree = xstrdup(tree);
	run->settings.project_tree = run->tree;
	run->store_job.store = s->store;
	run->store_job.job_id = run->id;
	run->settings.artifact_store = &local_store_ops;
	run->settings.artifact_store_ctx = &run->store_job;
	run->settings.host_cache = s->host_cache;
	/* The sections tell the job's lines from crunner's (local/output.h). */
	to.trace_sections = 1;
	run->sink = trace_sink_new(&to, output_lane_consumer(&run->lane));
	if ((r = job_start(s->loop, run->payload, &run->settings, run->sink,
			   &cb, &run->job, &err)))
		goto fail;
	buf_release(&err);
	free(json);
	free(deps);
	free(tree);
	pl_vars_release(&dotenv);
	update_status(s);
	return 0;
fail:
	free(json);
	free(deps);
	free(tree);
	pl_vars_release(&dotenv);
	output_lane_note(&run->lane, "cannot start: %s", err.data);
	buf_release(&err);
	release_run(run);
	snprintf(j->failure_reason, sizeof(j->failure_reason),
		 "runner_system_failure");
	finish(s, i, LJ_FAILED);
	return r;
}

/* What the finished predecessors of j say it should do. */
static enum lj_state decide(const struct sched *s, struct local_job *j,
			    bool *ready)
{
	bool failed = false, blocked = false, blocking = false;
	size_t k;

	*ready = true;
	/* A trigger job's downstream pipeline needs GitLab: never run. */
	if (j->trigger)
		return LJ_SKIPPED;
	for (k = 0; k < j->nr_deps; k++) {
		const struct local_job *p = &s->d->jobs[j->deps[k]];

		/* What needs a trigger job runs as if it had passed. */
		if (p->trigger)
			continue;
		if (p->state == LJ_PENDING || p->state == LJ_RUNNING) {
			*ready = false;
			return LJ_PENDING;
		}
		if (p->state == LJ_FAILED || p->state == LJ_CANCELED)
			failed = true;
		if (j->deps_from_needs &&
		    (p->state == LJ_SKIPPED || p->state == LJ_MANUAL))
			blocked = true;
		/*
		 * A manual job that may not fail (rules: when: manual, or
		 * allow_failure: false) blocks what comes after it in GitLab
		 * until someone runs it; left manual here, it never is.
		 */
		if ((p->state == LJ_MANUAL && !p->allow_failure) ||
		    (p->state == LJ_SKIPPED && p->blocked))
			blocking = true;
	}
	if (s->signals)
		return LJ_CANCELED;
	if (blocking) {
		j->blocked = true;
		return LJ_SKIPPED;
	}
	if (!strcmp(j->when, "always"))
		return LJ_RUNNING;
	if (!strcmp(j->when, "on_failure"))
		return failed ? LJ_RUNNING : LJ_SKIPPED;
	if (!strcmp(j->when, "manual") && !j->run_manual)
		return LJ_MANUAL;
	return failed || blocked ? LJ_SKIPPED : LJ_RUNNING;
}

static void schedule(struct sched *s)
{
	bool again = true, pending = false;
	size_t i;

	while (again) {
		again = false;
		pending = false;
		for (i = 0; i < s->d->nr; i++) {
			struct local_job *j = &s->d->jobs[i];
			enum lj_state next;
			bool ready;

			if (j->state != LJ_PENDING)
				continue;
			next = decide(s, j, &ready);
			if (!ready) {
				pending = true;
				continue;
			}
			if (next != LJ_RUNNING) {
				j->state = next;
				again = true;	/* may unblock others */
				continue;
			}
			if (s->running >= s->o->concurrency) {
				pending = true;
				continue;
			}
			if (start(s, i) != 0)
				again = true;
		}
	}
	update_status(s);
	if (!s->running)
		loop_stop(s->loop);
	(void)pending;
}

static void on_signal(struct loop *loop, int signo, void *ctx)
{
	struct sched *s = ctx;
	size_t i;

	(void)loop;
	(void)signo;
	s->signals++;
	for (i = 0; i < s->d->nr; i++) {
		struct run *run = &s->runs[i];

		if (s->d->jobs[i].state != LJ_RUNNING || !run->job)
			continue;
		if (s->signals > 1) {
			run->canceled = true;
			job_cancel(run->job, JOB_CANCEL_ABORT);
		} else if (s->d->jobs[i].interruptible) {
			run->canceled = true;
			job_cancel(run->job, JOB_CANCEL_INTERRUPTED);
		}
	}
}

int scheduler_run(const struct scheduler_options *o, struct dag *d,
		  bool *failed, uint64_t *duration_ms, struct buf *err)
{
	struct sched s = { 0 };
	struct buf store_dir = BUF_INIT;
	char tmpl[4096];
	const char *tmp = getenv("TMPDIR");
	size_t i;
	unsigned seed;
	int r = 0;

	*failed = false;
	*duration_ms = 0;
	s.o = o;
	s.d = d;
	s.builds_lock = -1;
	if (!open_kept_builds(&s)) {
		snprintf(tmpl, sizeof(tmpl), "%s/crunner-exec-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(tmpl)) {
			buf_seterr(err, "cannot create a builds directory in '%s': %s",
				   tmp && *tmp ? tmp : "/tmp", strerror(errno));
			return CR_ERR_IO;
		}
		s.builds = xstrdup(tmpl);
	}
	runner_config_init(&s.rc);
	s.rc.name = xstrdup("crunner-exec");
	s.rc.token = xstrdup("local-exec-runner");
	s.rc.executor = xstrdup(o->executor ? o->executor : "shell");
	/* The user's own working tree: its git config is never touched. */
	s.rc.clean_git_config = CONFIG_FALSE;
	s.rc.builds_dir = xstrdup(s.builds);
	/*
	 * The user is the runner's operator here: a pipeline's GIT_CLONE_PATH
	 * (a GOPATH layout, say) works as on a runner that enabled it.
	 */
	s.rc.custom_build_dir.enabled = CONFIG_TRUE;
	s.rc.output_limit = 0;
	if (o->cache_dir)
		s.rc.cache_dir = xstrdup(o->cache_dir);
	runner_short_token(s.rc.token, s.short_token);
	buf_init(&s.no_docker, 0);
	setup_docker(&s);
	/* A job token no job output will contain by chance (it is masked). */
	seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	snprintf(s.token, sizeof(s.token), "crlocal-%08x%08x", seed,
		 (unsigned)rand_r(&seed));
	s.runs = xcalloc(d->nr + 1, sizeof(*s.runs));
	s.slot_ready = xcalloc((size_t)o->concurrency + 1, sizeof(bool));
	s.slot_busy = xcalloc((size_t)o->concurrency + 1, sizeof(bool));
	s.loop = loop_new();
	/* The store is the run's own: what an earlier run left goes first. */
	(void)buf_addf(&store_dir, "%s/artifacts", s.builds);
	if (s.builds_lock >= 0 && access(store_dir.data, F_OK) == 0)
		remove_builds(store_dir.data);
	s.store = local_store_new(s.loop, store_dir.data);
	s.host_cache = host_cache_new();
	buf_release(&store_dir);
	loop_watch_signal(s.loop, SIGINT, on_signal, &s);
	loop_watch_signal(s.loop, SIGTERM, on_signal, &s);
	s.t0 = loop_now_ms(s.loop);
	for (i = 0; i < d->nr; i++)
		if ((int)strlen(d->jobs[i].name) > o->out->name_width)
			o->out->name_width = (int)strlen(d->jobs[i].name);
	if (!r)
		schedule(&s);
	if (s.running)
		loop_run(s.loop);
	*duration_ms = loop_now_ms(s.loop) - s.t0;
	for (i = 0; i < d->nr; i++) {
		if (d->jobs[i].state == LJ_PENDING)
			d->jobs[i].state = LJ_SKIPPED;
		if (d->jobs[i].state == LJ_FAILED ||
		    d->jobs[i].state == LJ_CANCELED)
			*failed = true;
		release_run(&s.runs[i]);
	}
	output_status(o->out, NULL);
	local_store_free(s.store);
	host_cache_free(s.host_cache);
	loop_free(s.loop);
	if (o->shell_isolation) {
		struct buf iso = BUF_INIT;

		(void)buf_addf(&iso, "%s/isolated", s.builds);
		local_isolate_remove(iso.data);
		buf_release(&iso);
	}
	if (s.builds_lock < 0) {
		remove_builds(s.builds);
	} else {
		struct buf store = BUF_INIT;

		(void)buf_addf(&store, "%s/artifacts", s.builds);
		if (access(store.data, F_OK) == 0)
			remove_builds(store.data);
		buf_release(&store);
		close(s.builds_lock);
	}
	free(s.builds);
	free(s.runs);
	free(s.slot_ready);
	free(s.slot_busy);
	runner_config_release(&s.rc);
	if (s.docker)
		runner_config_release(&s.docker_rc);
	buf_release(&s.no_docker);
	return r;
}
