/*
 * Runner labels: checked as gitlab-runner checks them when it loads
 * config.toml (common/labels.go, Config.Validate), then merged into what
 * each runner sends in its info (RunnerSettings.ComputeLabels).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define MAX_LABELS 32
#define KEY_PATTERN "^[a-zA-Z0-9_][a-zA-Z0-9._-]{2,64}$"
#define VALUE_PATTERN "^[a-zA-Z0-9._-]{1,256}$"

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Every byte of s a label character, and min <= length <= max. */
static bool label_chars(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= max || !label_char(s[n]))
			return false;
	return n >= min;
}

static bool key_ok(const char *k)
{
	/* The first character: no '.' or '-'; then 2 to 64 more. */
	return (k[0] && k[0] != '.' && k[0] != '-' && label_char(k[0])) &&
	       label_chars(k + 1, 2, 64);
}

static bool value_ok(const char *v)
{
	return label_chars(v, 1, 256);
}

/* gitlab-runner's words: "invalid label key, doesn't match ...: k". */
static int check_map(const struct config_strmap *m, const char *where,
		     const char *path, struct buf *err)
{
	size_t i;

	for (i = 0; i < m->nr; i++) {
		const char *k = m->items[i].key, *v = m->items[i].value;

		if (!key_ok(k)) {
			buf_seterr(err, "'%s': invalid config: validating %s: invalid label key, doesn't match \"%s\": %s",
				   path, where, KEY_PATTERN, k);
			return CR_ERR_INVALID;
		}
		if (!value_ok(v ? v : "")) {
			buf_seterr(err, "'%s': invalid config: validating %s: invalid label value, doesn't match \"%s\": %s",
				   path, where, VALUE_PATTERN, v ? v : "");
			return CR_ERR_INVALID;
		}
	}
	return 0;
}

/* Sets k to v in the flattened pairs (a later value wins a key). */
static void pairs_set(struct runner_config *rc, const char *k, const char *v)
{
	size_t i;

	for (i = 0; i < rc->nr_computed_labels; i++) {
		if (!strcmp(rc->computed_labels[2 * i], k)) {
			free(rc->computed_labels[2 * i + 1]);
			rc->computed_labels[2 * i + 1] = xstrdup(v);
			return;
		}
	}
	rc->computed_labels = xreallocarray(rc->computed_labels,
					    2 * (rc->nr_computed_labels + 1),
					    sizeof(*rc->computed_labels));
	rc->computed_labels[2 * i] = xstrdup(k);
	rc->computed_labels[2 * i + 1] = xstrdup(v);
	rc->nr_computed_labels++;
}

int config_labels_resolve(struct config *cfg, struct buf *err)
{
	const char *path = cfg->path ? cfg->path : "config.toml";
	struct buf where = BUF_INIT;
	size_t i, k;
	int r = 0;

	if ((r = check_map(&cfg->labels, "global labels", path, err)))
		return r;
	for (i = 0; i < cfg->nr_runners; i++) {
		struct runner_config *rc = cfg->runners[i];

		buf_reset(&where);
		(void)buf_addf(&where, "runner %s: validating labels",
			       rc->name ? rc->name : "");
		if ((r = check_map(&rc->labels, where.data, path, err)))
			break;
		for (k = 0; k < cfg->labels.nr; k++)
			pairs_set(rc, cfg->labels.items[k].key,
				  cfg->labels.items[k].value ?
				  cfg->labels.items[k].value : "");
		for (k = 0; k < rc->labels.nr; k++)
			pairs_set(rc, rc->labels.items[k].key,
				  rc->labels.items[k].value ?
				  rc->labels.items[k].value : "");
		if (rc->nr_computed_labels > MAX_LABELS) {
			buf_seterr(err, "'%s': invalid config: validating runner %s: validating computed labels: exceeded maximum computed labels number of %d",
				   path, rc->name ? rc->name : "", MAX_LABELS);
			r = CR_ERR_INVALID;
			break;
		}
	}
	buf_release(&where);
	return r;
}
