/*
 * Private scratch directories: a directory whose owner died (even by
 * SIGKILL) is removed by the next clean, one in use is not, nor are
 * directories without a lock or with another prefix.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/private_dir.h"
#include "file_text.h"

#define PREFIX "crunner-stage-"

static char parent[] = "/tmp/test-private-dir-XXXXXX";

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * A child makes a directory, writes a "stage script" into it and kills
 * itself: what a SIGKILLed crunner leaves.  Returns the directory's path
 * (to free).
 */
static char *leftover_of_killed_process(void)
{
	int fds[2], status;
	char path[4096] = "";
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct private_dir d = PRIVATE_DIR_INIT;
		struct buf err = BUF_INIT, script = BUF_INIT;

		if (private_dir_create(parent, PREFIX, &d, &err))
			_exit(1);
		(void)buf_addf(&script, "%s/script1", d.path);
		write_file(script.data, "export SECRET=hunter2\n");
		if (write(fds[1], d.path, strlen(d.path)) < 0)
			_exit(1);
		close(fds[1]);
		raise(SIGKILL);
		_exit(1);
	}
	close(fds[1]);
	n = read(fds[0], path, sizeof(path) - 1);
	close(fds[0]);
	assert_true(waitpid(pid, &status, 0) == pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(n > 0);
	path[n] = '\0';
	return strdup(path);
}

static void test_stale_removed_live_kept(void **state)
{
	struct private_dir live = PRIVATE_DIR_INIT;
	struct buf err = BUF_INIT, p = BUF_INIT;
	char *dead, *nolock, *other;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(parent));
	assert_int_equal(private_dir_create(parent, PREFIX, &live, &err), 0);
	assert_int_equal(stat(live.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	dead = leftover_of_killed_process();
	assert_true(exists(dead));

	/* Without a lock (being made, an older crunner's): left alone. */
	(void)buf_addf(&p, "%s/" PREFIX "nolock", parent);
	nolock = buf_detach(&p, NULL);
	assert_int_equal(mkdir(nolock, 0700), 0);
	/* Another prefix, with a free lock: not ours to judge. */
	(void)buf_addf(&p, "%s/other-dir", parent);
	other = buf_detach(&p, NULL);
	assert_int_equal(mkdir(other, 0700), 0);
	(void)buf_addf(&p, "%s/.lock", other);
	write_file(p.data, "");
	buf_release(&p);

	assert_int_equal(private_dir_clean_stale(parent, PREFIX), 1);
	assert_false(exists(dead));
	assert_true(exists(live.path));
	assert_true(exists(nolock));
	assert_true(exists(other));
	/* Still held by us: a second clean keeps it too. */
	assert_int_equal(private_dir_clean_stale(parent, PREFIX), 0);

	private_dir_remove(&live);
	assert_null(live.path);
	assert_int_equal(live.lock_fd, -1);
	private_dir_remove(&live);	/* an empty one is fine */
	fs_remove_tree(parent);
	free(dead);
	free(nolock);
	free(other);
	buf_release(&err);
}

static void test_create_fails_with_message(void **state)
{
	struct private_dir d = PRIVATE_DIR_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_not_equal(private_dir_create("/nonexistent-dir/x", PREFIX,
						&d, &err), 0);
	assert_null(d.path);
	assert_int_equal(d.lock_fd, -1);
	assert_non_null(strstr(err.data, "cannot create a temporary directory in '/nonexistent-dir/x'"));
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stale_removed_live_kept),
		cmocka_unit_test(test_create_fails_with_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
