/* Shared by src/executor/ssh*.c only. */
#ifndef CR_SSH_INT_H
#define CR_SSH_INT_H

#include <stddef.h>

struct buf;
struct variables;

/* The remote stage's process group, in RUNNER_TEMP_PROJECT_DIR. */
#define SSH_PGID_FILE ".crunner-ssh-stage.pgid"

/*
 * Where a stage script notes its remote process group (for a cancel to
 * kill); NULL before the job's directories are known.  Caller frees.
 */
char *ssh_pgid_path(const struct variables *vars);
/*
 * Appends what every stage script starts with on the remote host: the
 * project's dirs, the process group note, the file variables.
 */
void ssh_script_prefix(const struct variables *vars, struct buf *text);
/* A new 0600 file with data; -1 with errno (nothing left behind). */
int ssh_write_private_file(const char *path, const char *data, size_t len);
/* Up to 4 KiB of path, without trailing newlines; nothing if unreadable. */
void ssh_read_small_file(const char *path, struct buf *out);

#endif
