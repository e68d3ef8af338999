/*
 * The runner's system id (spec 1.2): "r_" + 12 random alphanumerics, kept
 * in .runner_system_id beside config.toml so it survives restarts, and sent
 * with verify, job requests and manager unregister.
 */
#ifndef CR_SYSTEM_ID_H
#define CR_SYSTEM_ID_H

struct buf;

#define SYSTEM_ID_SIZE 16	/* "r_" + 12 characters + NUL, rounded up */

/* 1 when s has the form ^[sr]_[0-9a-zA-Z]{12}$. */
int system_id_valid(const char *s);

/* A new random id ("r_..."). */
void system_id_generate(char out[SYSTEM_ID_SIZE]);

/*
 * Reads the id kept beside config_path, or creates and stores a new one
 * (mode 0600, atomically).  config_path NULL: a new id, not stored.
 */
int system_id_load(const char *config_path, char out[SYSTEM_ID_SIZE],
		   struct buf *err);

#endif
