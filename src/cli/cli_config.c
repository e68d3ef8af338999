#include <stdio.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

int cli_load_config(const struct cli_globals *g, struct config *cfg)
{
	const char *path = g->config_path ? g->config_path :
		cli_default_config_path();
	struct buf err = BUF_INIT;
	size_t i;
	int r;

	if ((r = config_load(path, cfg, &err)) != 0) {
		cli_error("%s", err.len ? err.data : cr_strerror(r));
		buf_release(&err);
		return CR_EXIT_CONFIG;
	}
	for (i = 0; i < cfg->warnings.nr; i++)
		cli_warning("%s", cfg->warnings.v[i]);
	buf_release(&err);
	return CR_EXIT_OK;
}
