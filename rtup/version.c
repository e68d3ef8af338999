/* Version grammar, roles and the built-in runtime descriptors. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rtup.h"
#include "util/banned.h"

int ver_parse(const char *s, size_t len, struct ver *v, size_t *used)
{
	size_t i = 0;
	int k = 0;

	memset(v, 0, sizeof(*v));
	while (k < 3) {
		long n = 0;
		size_t d = 0;

		while (i < len && isdigit((unsigned char)s[i]) && d < 9) {
			n = n * 10 + (s[i] - '0');
			i++;
			d++;
		}
		if (!d)
			break;
		v->n[k++] = (int)n;
		if (k < 3 && i + 1 < len && s[i] == '.' &&
		    isdigit((unsigned char)s[i + 1]))
			i++;
		else
			break;
	}
	if (!k)
		return -1;
	v->parts = k;
	/* Pre-releases: 1.27rc1, 1.27beta2 */
	if (i < len && (s[i] == 'r' || s[i] == 'b')) {
		size_t j = i;

		while (j < len && isalpha((unsigned char)s[j]))
			j++;
		if ((j - i == 2 && !strncmp(s + i, "rc", 2)) ||
		    (j - i == 4 && !strncmp(s + i, "beta", 4))) {
			size_t e = j;

			while (e < len && isdigit((unsigned char)s[e]) &&
			       e - i < sizeof(v->pre) - 1)
				e++;
			if (e > j) {
				memcpy(v->pre, s + i, e - i);
				v->pre[e - i] = '\0';
				i = e;
			}
		}
	}
	*used = i;
	return 0;
}

int ver_parse_str(const char *s, struct ver *v)
{
	size_t used;
	size_t len = strlen(s);

	if (ver_parse(s, len, v, &used) || used != len)
		return -1;
	return 0;
}

int ver_cmp(const struct ver *a, const struct ver *b)
{
	for (int i = 0; i < 3; i++)
		if (a->n[i] != b->n[i])
			return a->n[i] < b->n[i] ? -1 : 1;
	if (!*a->pre != !*b->pre)
		return *a->pre ? -1 : 1;
	return strcmp(a->pre, b->pre) < 0 ? -1 : strcmp(a->pre, b->pre) > 0;
}

int ver_same_minor(const struct ver *a, const struct ver *b)
{
	return a->n[0] == b->n[0] && a->n[1] == b->n[1];
}

const char *ver_str(const struct ver *v, int parts, char *out, size_t size)
{
	if (parts <= 1)
		snprintf(out, size, "%d", v->n[0]);
	else if (parts == 2)
		snprintf(out, size, "%d.%d%s", v->n[0], v->n[1],
			 v->parts == 2 ? v->pre : "");
	else
		snprintf(out, size, "%d.%d.%d%s", v->n[0], v->n[1], v->n[2],
			 v->pre);
	return out;
}

void ver_format(const struct ver *v, int parts, struct buf *out)
{
	char tmp[48];

	buf_addstr(out, ver_str(v, parts, tmp, sizeof(tmp)));
}

static const char *const role_names[] = {
	"exact", "minor", "minimum", "toolchain", "window", "next",
	"indirect", "annotation", "docs", "floating", "derived",
};

const char *role_name(enum role r)
{
	return role_names[r];
}

int role_parse(const char *name, enum role *r)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(*role_names); i++)
		if (!strcmp(name, role_names[i])) {
			*r = (enum role)i;
			return 0;
		}
	return -1;
}

const struct runtime_desc runtimes[] = {
	{ "go", { "golang", "go" },
	  { "golang" },
	  { "GO_VERSION", "GOLANG_VERSION" }, { ".go-version" },
	  { "golang", "go", "library/golang" }, NULL, "go%s" },
	{ "go-fips", { "go-fips" }, { "go-fips", "golang-fips" },
	  { "GO_FIPS_VERSION" }, { NULL }, { "go-fips" }, "go", "go-fips%s" },
	{ "node", { "nodejs", "node" }, { "node" },
	  { "NODE_VERSION", "NODEJS_VERSION" }, { ".nvmrc", ".node-version" },
	  { "node", "library/node" }, NULL, "node-v%s" },
	{ "python", { "python" }, { "python" }, { "PYTHON_VERSION" },
	  { ".python-version" }, { "python", "library/python" }, NULL,
	  "python-%s" },
	{ "ruby", { "ruby" }, { "ruby" }, { "RUBY_VERSION" },
	  { ".ruby-version" }, { "ruby", "library/ruby" }, NULL, "ruby-%s" },
};
const size_t runtimes_nr = sizeof(runtimes) / sizeof(*runtimes);

const struct runtime_desc *runtime_find(const char *name)
{
	for (size_t i = 0; i < runtimes_nr; i++)
		if (!strcmp(runtimes[i].name, name))
			return &runtimes[i];
	return NULL;
}

static int in_list(const char *const *l, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n && l[i]; i++)
		if (strlen(l[i]) == len && !memcmp(l[i], s, len))
			return 1;
	return 0;
}

const struct runtime_desc *runtime_by_alias(const char *s, size_t len)
{
	for (size_t i = 0; i < runtimes_nr; i++)
		if (in_list(runtimes[i].aliases, 4, s, len))
			return &runtimes[i];
	return NULL;
}

const struct runtime_desc *runtime_by_image(const char *s, size_t len)
{
	for (size_t i = 0; i < runtimes_nr; i++)
		if (in_list(runtimes[i].images, 4, s, len))
			return &runtimes[i];
	return NULL;
}

const struct runtime_desc *runtime_by_var(const char *s, size_t len,
					  int *next)
{
	*next = 0;
	if (len > 5 && !memcmp(s, "NEXT_", 5)) {
		*next = 1;
		s += 5;
		len -= 5;
	}
	for (size_t i = 0; i < runtimes_nr; i++)
		if (in_list(runtimes[i].vars, 4, s, len))
			return &runtimes[i];
	return NULL;
}

const struct runtime_desc *runtime_by_idiomatic(const char *base)
{
	for (size_t i = 0; i < runtimes_nr; i++)
		if (in_list(runtimes[i].idiomatic, 3, base, strlen(base)))
			return &runtimes[i];
	return NULL;
}

const struct runtime_desc *runtime_by_renovate(const char *s, size_t len)
{
	for (size_t i = 0; i < runtimes_nr; i++)
		if (in_list(runtimes[i].renovate, 4, s, len))
			return &runtimes[i];
	return NULL;
}
