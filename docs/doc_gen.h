/*
 * The frame both reference-page generators share (gen_config_doc,
 * gen_flags_doc): write the page a table makes, or check that the
 * committed page is that page.
 */
#ifndef CR_DOCS_DOC_GEN_H
#define CR_DOCS_DOC_GEN_H

struct buf;

/*
 * `prog OUTPUT` writes what generate() makes to OUTPUT; `prog --check FILE`
 * exits 1, naming the build target to run, when FILE differs from it.
 * table names the source in that message ("key table", "flag table").
 * Returns main()'s exit code.
 */
int doc_gen_main(int argc, char **argv, const char *prog, const char *table,
		 void (*generate)(struct buf *out));

#endif
