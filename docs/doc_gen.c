/* The write-or-check frame of the reference-page generators (doc_gen.h). */
#include <stdio.h>
#include <string.h>

#include "doc_gen.h"
#include "util/buf.h"

static int check(const char *path, const char *table, const struct buf *want)
{
	struct buf have = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	int same;

	if (!f) {
		perror(path);
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&have, chunk, n);
	fclose(f);
	same = have.len == want->len && !memcmp(have.data, want->data, have.len);
	buf_release(&have);
	if (!same) {
		fprintf(stderr, "%s is not what the %s says: run `cmake --build build --target config-doc` and commit it\n",
			path, table);
		return 1;
	}
	return 0;
}

int doc_gen_main(int argc, char **argv, const char *prog, const char *table,
		 void (*generate)(struct buf *out))
{
	struct buf out = BUF_INIT;
	FILE *f;
	int rc = 0;

	generate(&out);
	if (argc == 3 && !strcmp(argv[1], "--check")) {
		rc = check(argv[2], table, &out);
	} else if (argc == 2) {
		if (!(f = fopen(argv[1], "w")) ||
		    fwrite(out.data, 1, out.len, f) != out.len) {
			perror(argv[1]);
			rc = 1;
		}
		if (f && fclose(f)) {
			perror(argv[1]);
			rc = 1;
		}
	} else {
		fprintf(stderr, "usage: %s OUTPUT | --check FILE\n", prog);
		rc = 2;
	}
	buf_release(&out);
	return rc;
}
