/*
 * struct proc: start a child program, talk to it through pipes, learn how it
 * ended, and kill it (with its whole process group) when asked.
 *
 * The caller does:
 *  1. struct proc p = PROC_INIT;
 *     strvec_push(&p.args, "bash"); ... (args.v[0] is the program: a path
 *     when it holds a '/', else it is looked up in PATH);
 *     optionally p.env, p.dir, p.flags and the three descriptors:
 *       PROC_FD_PIPE (-1)  give me a pipe: after proc_start() the field holds
 *                          the parent's end (non-blocking, close-on-exec);
 *       PROC_FD_NULL       /dev/null (the default for in);
 *       PROC_FD_INHERIT    crunner's own descriptor of the same number (the
 *                          default for out and err);
 *       any fd >= 0        that descriptor becomes the child's; the caller
 *                          keeps it and closes it when it likes.
 *  2. proc_start(&p, err): forks and execs.  It returns only once exec
 *     succeeded or failed, so "cannot run 'x': No such file or directory"
 *     comes back as an ordinary error (the child is then already reaped).
 *  3. reads/writes the pipes: from the event loop (loop_watch_fd()), never
 *     waiting on one pipe while another may fill up;
 *  4. learns the exit, either by
 *       proc_wait(&p) (blocking), or
 *       loop_watch_child(loop, p.pid, ...) and, in the callback,
 *       proc_reaped(&p, status);
 *  5. proc_release(&p): closes the pipe ends still open, frees args and env
 *     and forgets the process group.  proc_finish() is proc_wait() plus
 *     proc_release(), for simple callers.
 * proc_release() is safe at any point (also after a failed proc_start() or
 * on a PROC_INIT struct) and must always be called.
 *
 * Pipe ends created by proc_start() belong to the struct: the caller may
 * close one early, but must then set the field to -1 so proc_release() does
 * not close it again.
 *
 * Exit status: the exit code, or 128 + the signal number when the child was
 * killed by a signal (as a shell reports it).
 *
 * The registry: every started process (or its group, with PROC_NEW_PGRP) is
 * noted in a process-wide table until proc_release(), so that when crunner
 * exits or is signalled it can kill every child it still has with
 * proc_kill_all_registered().  Process-wide by nature: children outlive
 * whatever object started them.
 */
#ifndef CR_PROC_H
#define CR_PROC_H

#include <sys/types.h>

#include "util/strvec.h"

struct buf;
struct run_as;

enum proc_flags {
	/* setsid(): the child leads its own session and process group. */
	PROC_NEW_PGRP = 1 << 0,
	/* The child's stderr goes wherever its stdout goes (2>&1). */
	PROC_STDERR_TO_STDOUT = 1 << 1,
	/* Start from an empty environment instead of crunner's own. */
	PROC_CLEAN_ENV = 1 << 2,
};

#define PROC_FD_PIPE (-1)
#define PROC_FD_NULL (-2)
#define PROC_FD_INHERIT (-3)

/* At most this many processes are registered at once (see above). */
#define PROC_REGISTRY_MAX 1024

struct proc {
	/* Set by the caller before proc_start(). */
	struct strvec args;	/* argv; freed by proc_release() */
	/*
	 * Changes to the environment: "NAME=value" sets, "NAME" alone unsets.
	 * They apply to crunner's environment, or to an empty one with
	 * PROC_CLEAN_ENV.  Freed by proc_release().
	 */
	struct strvec env;
	const char *dir;	/* the child's working directory; NULL: ours */
	int in, out, err;	/* PROC_FD_* or a descriptor, see above */
	unsigned flags;		/* enum proc_flags */
	/*
	 * When set, the child runs this function of crunner's own instead of
	 * exec'ing args.v[0] (which is then only a name for messages): fork
	 * without exec, for crunner's own sub-commands, saving the dynamic
	 * linker's start of every library (milliseconds each time).  args,
	 * env, dir and the descriptors are set up as for a program; the other
	 * descriptors are closed, crunner's signal handlers reset and its
	 * unwritten stdout/stderr buffers dropped first.  Its return value is
	 * the exit status; the child ends with _exit() (no atexit handler of
	 * the parent runs).  Only while crunner runs a single thread: with
	 * another thread alive (a lock it holds would stay locked in the
	 * child) the child execs crunner itself (/proc/self/exe) with args,
	 * so args[1] must name the sub-command that runs this function.
	 */
	int (*run_in_child)(int argc, char **argv);
	/*
	 * NULL: the child runs as crunner.  Else, before changing to dir, it
	 * takes this user's groups, gid and uid (crunner must be root);
	 * borrowed until proc_start() returns.  The environment is the
	 * caller's business (run_as_push_env()).
	 */
	const struct run_as *user;
	/*
	 * The program's file when the caller already found it (a lookup kept
	 * between jobs, proc_find_program()); args.v[0] stays the program's
	 * name as it sees it.  NULL: args.v[0] is looked up as above.
	 */
	const char *path;

	/* Set by proc_start() and what follows; read-only for the caller. */
	pid_t pid;		/* > 0 once started */
	int status;		/* raw waitpid() status, once exited */
	int exit_status;	/* code, or 128 + signal, once exited */
	int exited;

	/* Private. */
	unsigned pipes_;	/* which of in/out/err proc_start() created */
	int slot_;		/* registry slot + 1; 0: not registered */
};

#define PROC_INIT { \
	.args = STRVEC_INIT, .env = STRVEC_INIT, .dir = NULL, \
	.in = PROC_FD_NULL, .out = PROC_FD_INHERIT, .err = PROC_FD_INHERIT, \
	.flags = 0, .run_in_child = NULL, .user = NULL, .pid = -1, .status = 0, .exit_status = -1, .exited = 0, \
	.pipes_ = 0, .slot_ = 0 }

void proc_init(struct proc *p);

/*
 * The simple case, for short helper commands such as git: runs argv (PATH
 * lookup) in dir (NULL: ours) with stdin and stderr on /dev/null, waits
 * for it, and appends its stdout to out (at most max bytes; the rest is
 * read and dropped).  Returns the exit status (0 to 255, or 128 + signal),
 * or a negative CR_ERR_* when it could not run (with err set).
 */
int proc_capture(const char *const *argv, const char *dir, struct buf *out,
		 size_t max, struct buf *err);

/*
 * Finds name on path (a PATH value; NULL: "/usr/local/bin:/usr/bin:/bin")
 * as execvp() does: the first regular file that we may execute.  A name
 * with a '/' is taken as is.  Returns 0 with the file in out, or ENOENT,
 * EACCES (found, but none executable) or ENAMETOOLONG.
 */
int proc_find_program(const char *name, const char *path, struct buf *out);

/*
 * Starts the program.  Returns 0, or a negative CR_ERR_* with one sentence
 * in err: CR_ERR_NOT_FOUND when the program (or the directory) does not
 * exist, CR_ERR_TOO_LARGE when the registry is full, CR_ERR_IO for other
 * failures ("cannot run 'x': Permission denied").  On failure no child is
 * left behind and the PROC_FD_PIPE fields are back to -1.
 */
int proc_start(struct proc *p, struct buf *err);

/*
 * Blocks until the child exits and records it (see proc_reaped()).
 * Returns the exit status (>= 0), or CR_ERR_IO when there is nothing to
 * wait for.  Does not close anything: see proc_release().
 */
int proc_wait(struct proc *p);

/* Records a waitpid() status for a child the caller (or the loop) reaped. */
void proc_reaped(struct proc *p, int wait_status);

/* proc_wait() then proc_release(); returns what proc_wait() returned. */
int proc_finish(struct proc *p);

/* Closes the pipes still open, frees args/env, unregisters.  Idempotent. */
void proc_release(struct proc *p);

/*
 * Sends sig to the child's process group (PROC_NEW_PGRP), or to the child
 * alone.  A group may still be signalled after its leader exited, to kill
 * what it left behind, until proc_release().  A lone child is no longer
 * signalled once reaped (its pid may be reused).  Returns 0 when the signal
 * was sent or nobody was left, CR_ERR_IO otherwise.
 */
int proc_kill_group(struct proc *p, int sig);

/* A waitpid() status as an exit status: code, or 128 + signal. */
int proc_exit_status(int wait_status);

/*
 * Sends sig to every registered process group (and lone process).  For
 * crunner's exit path and its termination signals; async-signal-safe, so it
 * may also run inside a signal handler.
 */
void proc_kill_all_registered(int sig);

/*
 * Registers (once) an atexit() handler that SIGKILLs every group still
 * registered when crunner exits: at that point nobody will read or reap
 * them any more.  Returns 0, or CR_ERR_INTERNAL when atexit() fails.
 */
int proc_cleanup_at_exit(void);

/* How many processes are registered (for tests and metrics). */
int proc_registered_count(void);

#endif
