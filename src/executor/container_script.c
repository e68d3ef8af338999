/*
 * Set-up shared by the docker and kubernetes executors, and the ssh
 * executor's remote host (container_script.h).
 */
#include <stddef.h>

#include "executor/container_script.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"
#include "version.h"

void container_sh_quote(struct buf *b, const char *s)
{
	(void)buf_addch(b, '\'');
	for (; *s; s++)
		(void)(*s == '\'' ? buf_addstr(b, "'\\''") : buf_addch(b, *s));
	(void)buf_addch(b, '\'');
}

char *container_helper_image(const char *configured,
			     const struct variables *vars)
{
	static const char *const keys[] = {
		"CI_RUNNER_VERSION", "CI_RUNNER_REVISION",
		"CI_RUNNER_EXECUTABLE_ARCH",
	};
	struct variables v = VARIABLES_INIT;
	char *out;
	size_t i;

	if (!configured || !*configured)
		return xstrdup("crunner-helper:" CR_VERSION);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *val = vars ? variables_get(vars, keys[i]) : NULL;

		if (val)
			variables_add(&v, keys[i], val, VAR_PUBLIC);
	}
	out = variables_expand(&v, configured);
	variables_release(&v);
	return out;
}

/* RUNNER_TEMP_PROJECT_DIR, or NULL when vars has none (or it is empty). */
static const char *temp_dir(const struct variables *vars)
{
	const char *tmp = vars ? variables_get(vars, "RUNNER_TEMP_PROJECT_DIR") :
		NULL;

	return tmp && *tmp ? tmp : NULL;
}

bool container_mkdir_script(const struct variables *vars, struct buf *text)
{
	const char *tmp = temp_dir(vars);
	const char *proj = vars ? variables_get(vars, "CI_PROJECT_DIR") :
		NULL;

	if (!tmp)
		return false;
	(void)buf_addstr(text, "mkdir -p ");
	container_sh_quote(text, tmp);
	if (proj && *proj) {
		(void)buf_addch(text, ' ');
		container_sh_quote(text, proj);
	}
	(void)buf_addstr(text, " || exit 1\n");
	return true;
}

void container_file_variables_script(const struct variables *vars,
				     bool group_readable, struct buf *text)
{
	const char *tmp = temp_dir(vars);
	size_t i;

	for (i = 0; tmp && i < vars->nr; i++) {
		const struct variable *v = &vars->items[i];
		struct buf path = BUF_INIT;

		if (!(v->flags & VAR_FILE))
			continue;
		(void)buf_addf(&path, "%s/%s", tmp, v->key);
		(void)buf_addstr(text, group_readable ?
				 "(umask 0022 && printf '%s' " :
				 "(umask 0077 && printf '%s' ");
		container_sh_quote(text, v->value);
		(void)buf_addstr(text, " > ");
		container_sh_quote(text, path.data);
		(void)buf_addstr(text, ") || exit 1\n");
		buf_release(&path);
	}
}

void container_init_script(const struct variables *vars, bool group_readable,
			   struct buf *text)
{
	if (container_mkdir_script(vars, text))
		container_file_variables_script(vars, group_readable, text);
}
