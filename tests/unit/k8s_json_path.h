/*
 * Shared by the kubernetes pod unit tests: reach a node of a built pod by
 * a "|"-separated path of keys and indexes, and compare it as JSON.
 */
#ifndef CRUNNER_TESTS_K8S_JSON_PATH_H
#define CRUNNER_TESTS_K8S_JSON_PATH_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A node by a "|"-separated path of keys and indexes. */
static inline json_t *at(json_t *root, const char *path)
{
	json_t *n = root;
	char *copy = strdup(path), *save = NULL, *part;

	for (part = strtok_r(copy, "|", &save); part && n;
	     part = strtok_r(NULL, "|", &save)) {
		char *end;
		long i = strtol(part, &end, 10);

		n = *end ? json_object_get(n, part) : json_array_get(n, (size_t)i);
	}
	free(copy);
	return n;
}

/* The node as compact JSON with sorted keys, for whole-object checks. */
static inline char *dump(json_t *root, const char *path)
{
	json_t *n = at(root, path);

	return n ? json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS |
				 JSON_ENCODE_ANY) : strdup("(none)");
}

#define assert_json(root, path, want) do { \
		char *got_ = dump((root), (path)); \
		assert_string_equal(got_, (want)); \
		free(got_); \
	} while (0)

#endif
