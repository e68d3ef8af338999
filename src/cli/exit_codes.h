/* Process exit codes, defined once for every verb. */
#ifndef CR_EXIT_CODES_H
#define CR_EXIT_CODES_H

enum cr_exit {
	CR_EXIT_OK = 0,
	CR_EXIT_FAILURE = 1,	/* the verb ran and failed */
	CR_EXIT_USAGE = 2,	/* bad command line; nothing was done */
	CR_EXIT_CONFIG = 3,	/* config.toml is missing or invalid */
};

#endif
