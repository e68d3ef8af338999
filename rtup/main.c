/*
 * rtup: the verb table and the shared option parsing, nothing else.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/error.h"
#include "util/banned.h"

enum { O_JSON = 256, O_POLICY, O_DIFF, O_NO_COMMIT, O_FIX_TC, O_ALLOW_DIRTY, O_ALLOW_UNRELEASED,
       O_IGNORE_WAVES, O_KEEP_GOING, O_STRICT, O_SUPPORTED, O_TIMEOUT, O_NOW,
       O_TO, O_PLAN, O_MD, O_REPO, O_RUNTIME, O_CRUNNER };

struct verb {
	const char *name;
	int (*fn)(struct opts *o);
	const char *usage;
	const char *help;
};

static const struct verb verbs[] = {
	{ "scan", cmd_scan, "rtup scan [-C rtup.toml] [--repo R] [--runtime RT] [--json]",
	  "List every pin: path, line, column span, runtime, role, value.\n"
	  "A [rule] that matches nothing is a warning." },
	{ "check", cmd_check, "rtup check [-C rtup.toml] [--repo R] [--strict] [--now DATE]",
	  "Consistency of the pins of each runtime against the reference pin\n"
	  "(CI variable first), toolchain policy, lag when a release table is\n"
	  "there.  --strict: a rule that matches nothing is an error.\n"
	  "Exit 1 on findings." },
	{ "plan", cmd_plan, "rtup plan (--to RT@VERSION | --policy) [--diff] [-o plan.json] [--now DATE]\n"
	  "           [--fix-toolchain] [--allow-unreleased] [--strict]",
	  "Dry run: the edits and findings, nothing written.  --diff prints a\n"
	  "unified diff per repository usable by 'git apply'; -o saves the plan.\n"
	  "A --to version must be in the runtime's release table and out at\n"
	  "--now (default: today); --allow-unreleased takes a later one.\n"
	  "Lines that name a moved runtime and an old version outside every pin,\n"
	  "and runtime variables used but defined nowhere, are listed as\n"
	  "'not updated'; --strict makes any of them exit 1." },
	{ "apply", cmd_apply, "rtup apply (--to RT@VERSION | --policy | --plan plan.json) [--no-commit]\n"
	  "           [--fix-toolchain] [--allow-dirty] [--ignore-waves] [--allow-unreleased]",
	  "Writes the edits: one branch and one commit per changed repository,\n"
	  "in a worktree under the state directory (the checkout is untouched).\n"
	  "--no-commit edits the checkout in place instead.  Exit 3 when a\n"
	  "repository is dirty or a file changed since the plan." },
	{ "verify", cmd_verify, "rtup verify [--repo R] [--to RT@VERSION] [--keep-going] [--timeout SECONDS]",
	  "Runs each repository's verify commands in its worktree with the\n"
	  "target toolchain first on PATH and the manifest env; a verify-job\n"
	  "runs through 'crunner exec JOB'.  Later waves wait for earlier ones." },
	{ "report", cmd_report, "rtup report [--json FILE|-] [--md FILE|-] [--now DATE]",
	  "One row per repository and runtime: before, after, status, floating\n"
	  "and derived pins, mis-bound annotations.  Schema rtup-report/1.\n"
	  "Exit 1 when a row is lagging, inconsistent, blocked or verify-failed." },
	{ "versions", cmd_versions, "rtup versions RUNTIME [--supported] [--now DATE] [-C rtup.toml]",
	  "Prints the release table, or the supported minors at --now." },
	{ "import", cmd_import, "rtup import go-dl|eol FILE --runtime RT",
	  "Converts cached go.dev (go-dl) or endoflife.date (eol) JSON into\n"
	  "release table rows on standard output." },
};

static void usage_all(FILE *fp)
{
	fprintf(fp, "usage: rtup VERB [options]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++)
		fprintf(fp, "  %s\n", verbs[i].usage);
	fprintf(fp, "\nExit: 0 all good, 1 findings, 2 usage or configuration "
		"error, 3 repository state error.\n");
}

static int parse(int argc, char **argv, struct opts *o, const struct verb *v)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", optional_argument, NULL, O_JSON },
		{ "policy", no_argument, NULL, O_POLICY },
		{ "diff", no_argument, NULL, O_DIFF },
		{ "no-commit", no_argument, NULL, O_NO_COMMIT },
		{ "fix-toolchain", no_argument, NULL, O_FIX_TC },
		{ "allow-dirty", no_argument, NULL, O_ALLOW_DIRTY },
		{ "allow-unreleased", no_argument, NULL, O_ALLOW_UNRELEASED },
		{ "ignore-waves", no_argument, NULL, O_IGNORE_WAVES },
		{ "keep-going", no_argument, NULL, O_KEEP_GOING },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "supported", no_argument, NULL, O_SUPPORTED },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "now", required_argument, NULL, O_NOW },
		{ "to", required_argument, NULL, O_TO },
		{ "plan", required_argument, NULL, O_PLAN },
		{ "md", required_argument, NULL, O_MD },
		{ "repo", required_argument, NULL, O_REPO },
		{ "runtime", required_argument, NULL, O_RUNTIME },
		{ "crunner", required_argument, NULL, O_CRUNNER },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hC:o:", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'h':
			printf("usage: %s\n\n%s\n", v->usage, v->help);
			return 1;
		case 'C': o->manifest = optarg; break;
		case 'o': o->plan_out = optarg; break;
		case O_JSON: o->json = 1; o->json_out = optarg; break;
		case O_POLICY: o->policy = 1; break;
		case O_DIFF: o->diff = 1; break;
		case O_NO_COMMIT: o->no_commit = 1; break;
		case O_FIX_TC: o->fix_toolchain = 1; break;
		case O_ALLOW_DIRTY: o->allow_dirty = 1; break;
		case O_ALLOW_UNRELEASED: o->allow_unreleased = 1; break;
		case O_IGNORE_WAVES: o->ignore_waves = 1; break;
		case O_KEEP_GOING: o->keep_going = 1; break;
		case O_STRICT: o->strict = 1; break;
		case O_SUPPORTED: o->supported = 1; break;
		case O_TIMEOUT:
			o->timeout = (int)strtol(optarg, &end, 10);
			if (*end || o->timeout <= 0) {
				fprintf(stderr, "rtup: --timeout wants seconds, "
					"not '%s'\n", optarg);
				return -1;
			}
			break;
		case O_NOW:
			if (date_parse(optarg, &o->now)) {
				fprintf(stderr, "rtup: --now wants YYYY-MM-DD, "
					"not '%s'\n", optarg);
				return -1;
			}
			break;
		case O_TO: strvec_push(&o->to, optarg); break;
		case O_PLAN: o->plan_in = optarg; break;
		case O_MD: o->md_out = optarg; break;
		case O_REPO: o->repo = optarg; break;
		case O_RUNTIME: o->runtime = optarg; break;
		case O_CRUNNER: o->crunner = optarg; break;
		default:
			fprintf(stderr, "usage: %s\n", v->usage);
			return -1;
		}
	}
	for (int i = optind; i < argc; i++)
		strvec_push(&o->args, argv[i]);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int r;

	memset(&o, 0, sizeof(o));
	strvec_init(&o.to);
	strvec_init(&o.args);
	o.now = time(NULL);
	o.timeout = 1800;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage_all(argc < 2 ? stderr : stdout);
		return argc < 2 ? RTUP_EXIT_CONFIG : 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(*verbs); i++) {
		if (strcmp(argv[1], verbs[i].name))
			continue;
		r = parse(argc - 1, argv + 1, &o, &verbs[i]);
		if (r == 0)
			r = verbs[i].fn(&o);
		else
			r = r > 0 ? 0 : RTUP_EXIT_CONFIG;
		strvec_clear(&o.to);
		strvec_clear(&o.args);
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "rtup: cannot write standard output\n");
			return RTUP_EXIT_CONFIG;
		}
		return r;
	}
	fprintf(stderr, "rtup: '%s' is not an rtup verb; see 'rtup --help'\n",
		argv[1]);
	return RTUP_EXIT_CONFIG;
}
