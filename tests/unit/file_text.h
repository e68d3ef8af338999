/*
 * Shared by the unit tests that put small text files on disk and read
 * them back: write_file() (a failed write fails the test),
 * write_file_mode() (the same, then chmod), read_text() (a file's text,
 * NULL when it cannot be opened) and remove_tree() (a test's directory
 * and all in it, for teardowns).
 * Include after <cmocka.h>.
 */
#ifndef CRUNNER_TESTS_FILE_TEXT_H
#define CRUNNER_TESTS_FILE_TEXT_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Writes text to path (created or truncated). */
static inline void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* write_file(), then the file's mode set to mode. */
static inline void write_file_mode(const char *path, const char *text,
				   mode_t mode)
{
	write_file(path, text);
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * The text of the file at path (its first 4095 bytes), in a static buffer
 * that the next call overwrites; NULL when the file cannot be opened.
 */
static inline char *read_text(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static inline int remove_tree_entry(const char *path, const struct stat *st,
				    int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes path and everything below it (links are not followed). */
static inline int remove_tree(const char *path)
{
	return nftw(path, remove_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
