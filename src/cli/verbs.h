/* One cmd_<verb>() per file in src/cli/. */
#ifndef CR_VERBS_H
#define CR_VERBS_H

#include <stdio.h>

struct cli_globals;

int cmd_list(int argc, char **argv, struct cli_globals *g);
int cmd_run_single(int argc, char **argv, struct cli_globals *g);
int cmd_run(int argc, char **argv, struct cli_globals *g);
int cmd_register(int argc, char **argv, struct cli_globals *g);
/* The generated flag lists of `register --help` and `run-single --help`. */
void register_more_help(FILE *out);
void run_single_more_help(FILE *out);
int cmd_verify(int argc, char **argv, struct cli_globals *g);
int cmd_unregister(int argc, char **argv, struct cli_globals *g);
int cmd_reset_token(int argc, char **argv, struct cli_globals *g);
int cmd_exec(int argc, char **argv, struct cli_globals *g);
/* install, uninstall, start, stop, restart, status (service.c). */
int cmd_service(int argc, char **argv, struct cli_globals *g);
/* Drives an autoscaler instance group step by step (fleeting_probe.c). */
int cmd_fleeting_probe(int argc, char **argv, struct cli_globals *g);
/* Internal: the job engine's archive helper (helper_artifacts.c). */
int cmd_artifacts_helper(int argc, char **argv, struct cli_globals *g);
/*
 * The same, as a forked child of crunner runs it without exec (struct
 * proc's run_in_child): argv is "<program> artifacts-helper SUB ...".
 */
int artifacts_helper_main(int argc, char **argv);
/* Internal: SSH work in a process of its own (helper_ssh.c). */
int cmd_ssh_helper(int argc, char **argv, struct cli_globals *g);
/* The same as run_in_child: argv is "<program> ssh-helper SUB ...". */
int ssh_helper_main(int argc, char **argv);

#endif
