/*
 * What apply and verify leave for the next command, under the state
 * directory (.rtup/ beside the manifest): apply.json (targets, per-repo
 * outcome and findings) and verify.json (per-repo verification status).
 * Both are rewritten whole, through a temp file and rename(2).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "state.h"
#include "util/fs.h"
#include "util/banned.h"

static void state_path(const struct conf *c, const char *name, struct buf *b)
{
	buf_reset(b);
	buf_addf(b, "%s/%s.json", c->state_dir, name);
}

json_t *state_load(const struct conf *c, const char *name)
{
	struct buf p = BUF_INIT;
	json_t *j;

	state_path(c, name, &p);
	j = json_load_file(p.data, 0, NULL);
	buf_release(&p);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

int state_save(const struct conf *c, const char *name, json_t *j,
	       struct buf *err)
{
	struct buf p = BUF_INIT;
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int r;

	state_path(c, name, &p);
	if (!(r = fs_make_parent_dirs(p.data, 0755, err))) {
		FILE *fp = fopen(p.data, "a");

		/* edit_write_atomic() keeps the mode of an existing file */
		if (fp)
			fclose(fp);
		r = edit_write_atomic(p.data, s, strlen(s), err);
	}
	free(s);
	buf_release(&p);
	return r;
}

const char *state_repo_str(json_t *state, const char *repo, const char *key)
{
	json_t *r = json_object_get(state, repo);

	if (json_is_string(r) && !key)
		return json_string_value(r);
	return json_string_value(json_object_get(r, key));
}
