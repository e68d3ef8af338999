/*
 * Writes crunner(1) from docs/crunner.1.in: @VERBS@ becomes one
 * subsection per verb of the verb table, the text `crunner VERB --help'
 * prints, so the page cannot drift from the program; @VERSION@ and @DATE@
 * are filled in.  Usage: gen_man TEMPLATE OUTPUT DATE.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "version.h"

/* Text as roff reads it literally: backslashes escaped, no control lines. */
static void put_literal(FILE *out, const char *text)
{
	int line_start = 1;

	for (; *text; text++) {
		if (line_start && (*text == '.' || *text == '\''))
			fputs("\\&", out);
		if (*text == '\\')
			fputs("\\e", out);
		else if (*text == '-')
			fputs("\\-", out);
		else
			fputc(*text, out);
		line_start = *text == '\n';
	}
}

static void put_verbs(FILE *out)
{
	const struct cli_verb *v;

	for (v = cli_verbs; v->name; v++) {
		fputs(".SS ", out);
		put_literal(out, v->name);
		fputs("\n", out);
		put_literal(out, v->summary);
		fputs(".\n.PP\n.RS 4\n.nf\n", out);
		put_literal(out, v->usage);
		fputs(".fi\n.RE\n", out);
	}
}

/* A template line with @VERSION@ and @DATE@ filled in. */
static void put_line(FILE *out, const char *line, const char *date)
{
	while (*line) {
		if (!strncmp(line, "@VERSION@", 9)) {
			fputs(CR_VERSION, out);
			line += 9;
		} else if (!strncmp(line, "@DATE@", 6)) {
			fputs(date, out);
			line += 6;
		} else {
			fputc(*line++, out);
		}
	}
}

int main(int argc, char **argv)
{
	char line[4096];
	FILE *in, *out;
	int rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: gen_man TEMPLATE OUTPUT DATE\n");
		return 2;
	}
	if (!(in = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 1;
	}
	if (!(out = fopen(argv[2], "w"))) {
		perror(argv[2]);
		fclose(in);
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		if (!strcmp(line, "@VERBS@\n")) {
			put_verbs(out);
			continue;
		}
		put_line(out, line, argv[3]);
	}
	if (ferror(in) || fclose(out) != 0) {
		perror(argv[2]);
		rc = 1;
	}
	fclose(in);
	return rc;
}
