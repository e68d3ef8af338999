/*
 * fs_mkdir_p() (src/util/fs.c): missing parents are made 0755 and the dir
 * itself with the mode asked; a dir that is there (also through a
 * symbolic link) is fine; a file in the way is ENOTDIR, at the end or in
 * the middle of the path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/fs.h"

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	return st.st_mode & 07777;
}

static void test_mkdir_p(void **state)
{
	char base[] = "/tmp/test-mkdir-p-XXXXXX";
	struct buf deep = BUF_INIT, mid = BUF_INIT, file = BUF_INIT,
		   link = BUF_INIT, path = BUF_INIT;
	mode_t old_umask = umask(022);
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(base));
	buf_addf(&mid, "%s/a/b", base);
	buf_addf(&deep, "%s/c/d", mid.data);

	/* Missing parents: 0755; the dir: the mode asked. */
	assert_int_equal(fs_mkdir_p(deep.data, 0700), 0);
	assert_int_equal(mode_of(deep.data), 0700);
	assert_int_equal(mode_of(mid.data), 0755);
	/* There already: fine, the mode is left as it is. */
	assert_int_equal(fs_mkdir_p(deep.data, 0755), 0);
	assert_int_equal(mode_of(deep.data), 0700);
	/* Only the last one missing. */
	buf_addf(&path, "%s/e", deep.data);
	assert_int_equal(fs_mkdir_p(path.data, 0711), 0);
	assert_int_equal(mode_of(path.data), 0711);

	/* Through a symbolic link to a dir. */
	buf_addf(&link, "%s/link", base);
	assert_int_equal(symlink(mid.data, link.data), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/c/d", link.data);
	assert_int_equal(fs_mkdir_p(path.data, 0755), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/new/one", link.data);
	assert_int_equal(fs_mkdir_p(path.data, 0755), 0);
	assert_int_equal(mode_of(path.data), 0755);

	/* A file in the way. */
	buf_addf(&file, "%s/file", base);
	fp = fopen(file.data, "w");
	assert_non_null(fp);
	fclose(fp);
	errno = 0;
	assert_int_equal(fs_mkdir_p(file.data, 0755), -1);
	assert_int_equal(errno, ENOTDIR);
	buf_reset(&path);
	buf_addf(&path, "%s/under/it", file.data);
	errno = 0;
	assert_int_equal(fs_mkdir_p(path.data, 0755), -1);
	assert_int_equal(errno, ENOTDIR);

	umask(old_umask);
	fs_remove_tree(base);
	buf_release(&deep);
	buf_release(&mid);
	buf_release(&file);
	buf_release(&link);
	buf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_p),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
