#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/banned.h"
#include "file_text.h"

/* The invariants of toml.h, checked on every tree a test looks at. */
static void assert_sane_tree(const struct toml_value *v)
{
	size_t i;

	assert_non_null(v);
	switch (v->type) {
	case TOML_STRING:
		assert_non_null(v->u.str.ptr);
		assert_int_equal(v->u.str.ptr[v->u.str.len], '\0');
		break;
	case TOML_TABLE:
		assert_true(v->u.table.nr <= v->u.table.alloc);
		for (i = 0; i < v->u.table.nr; i++) {
			assert_non_null(v->u.table.items[i].key);
			assert_int_equal(v->u.table.items[i].key[v->u.table.items[i].keylen], '\0');
			assert_sane_tree(v->u.table.items[i].value);
		}
		break;
	case TOML_ARRAY:
		assert_true(v->u.array.nr <= v->u.array.alloc);
		for (i = 0; i < v->u.array.nr; i++)
			assert_sane_tree(v->u.array.items[i]);
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		assert_non_null(v->u.datetime);
		break;
	default:
		break;
	}
}

static struct toml_value *parse_ok(const char *text)
{
	struct buf err = BUF_INIT;
	struct toml_value *root = NULL;
	int r = toml_parse(text, strlen(text), "t.toml", &root, &err);

	if (r != 0)
		fail_msg("parse failed: %s\n--- input ---\n%s", err.data, text);
	assert_string_equal(err.data, "");
	assert_sane_tree(root);
	assert_int_equal(root->type, TOML_TABLE);
	buf_release(&err);
	return root;
}

/* Parsing must fail with exactly the message want. */
static void parse_fails(const char *text, const char *want)
{
	struct buf err = BUF_INIT;
	struct toml_value *root = NULL;

	assert_int_equal(toml_parse(text, strlen(text), "t.toml", &root, &err),
			 CR_ERR_INVALID);
	assert_null(root);
	assert_string_equal(err.data, want);
	buf_release(&err);
}

/* Looks up a dotted path of bare keys ("a.b.c"). */
static struct toml_value *get(const struct toml_value *t, const char *path)
{
	char key[256];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		t = toml_table_get(t, key);
		if (!t)
			return NULL;
		path = dot + 1;
	}
	return toml_table_get(t, path);
}

static const char *str(const struct toml_value *t, const char *path)
{
	const struct toml_value *v = get(t, path);

	assert_non_null(v);
	assert_int_equal(v->type, TOML_STRING);
	return v->u.str.ptr;
}

static int64_t integer(const struct toml_value *t, const char *path)
{
	const struct toml_value *v = get(t, path);

	assert_non_null(v);
	assert_int_equal(v->type, TOML_INTEGER);
	return v->u.integer;
}

static void assert_datetime(const struct toml_value *t, const char *path,
			    enum toml_type type, const char *text)
{
	const struct toml_value *v = get(t, path);

	assert_non_null(v);
	assert_string_equal(toml_type_name(v->type), toml_type_name(type));
	assert_string_equal(v->u.datetime, text);
}

/* toml_write() output of root, which the test must free. */
static char *write_text(const struct toml_value *root)
{
	struct buf out = BUF_INIT;

	assert_int_equal(toml_write(root, &out), 0);
	return buf_detach(&out, NULL);
}

/* --- values --- */

static void test_basic_strings(void **state)
{
	struct toml_value *root = parse_ok(
		"a = \"tab\\tquote\\\" back\\\\ nl\\n\"\n"
		"b = \"\\u00e9\\U0001F600\"\n"
		"c = \"nul\\u0000x\"\n"
		"d = \"\"\n");
	const struct toml_value *c;

	(void)state;
	assert_string_equal(str(root, "a"), "tab\tquote\" back\\ nl\n");
	assert_string_equal(str(root, "b"), "\xc3\xa9\xf0\x9f\x98\x80");
	c = get(root, "c");
	assert_int_equal(c->u.str.len, 5);
	assert_memory_equal(c->u.str.ptr, "nul\0x", 5);
	assert_string_equal(str(root, "d"), "");
	toml_value_free(root);
}

static void test_literal_strings(void **state)
{
	struct toml_value *root = parse_ok(
		"a = 'C:\\Users\\x'\n"
		"b = '<\\i\\c*\\s*>'\n");

	(void)state;
	assert_string_equal(str(root, "a"), "C:\\Users\\x");
	assert_string_equal(str(root, "b"), "<\\i\\c*\\s*>");
	toml_value_free(root);
}

static void test_multiline_basic_strings(void **state)
{
	struct toml_value *root = parse_ok(
		"a = \"\"\"\nline1\nline2\"\"\"\n"
		"b = \"\"\"\\\n   The quick \\\n\n   fox\"\"\"\n"
		"c = \"\"\"two quotes \"\"\"\"\"\n"
		"d = \"\"\"crlf\r\nend\"\"\"\n");

	(void)state;
	assert_string_equal(str(root, "a"), "line1\nline2");
	assert_string_equal(str(root, "b"), "The quick fox");
	assert_string_equal(str(root, "c"), "two quotes \"\"");
	assert_string_equal(str(root, "d"), "crlf\nend");
	toml_value_free(root);
}

static void test_multiline_literal_strings(void **state)
{
	struct toml_value *root = parse_ok(
		"a = '''\nfirst newline trimmed\n  \\n stays'''\n"
		"b = ''''one quote''''\n");

	(void)state;
	assert_string_equal(str(root, "a"), "first newline trimmed\n  \\n stays");
	assert_string_equal(str(root, "b"), "'one quote'");
	toml_value_free(root);
}

static void test_string_errors(void **state)
{
	(void)state;
	parse_fails("a = \"\\x41\"\n", "t.toml:1:6: invalid escape sequence '\\x'");
	parse_fails("a = \"\\uD800\"\n",
		    "t.toml:1:6: escape \\uD800 is not a unicode scalar value");
	parse_fails("a = \"\\U00110000\"\n",
		    "t.toml:1:6: escape \\U00110000 is not a unicode scalar value");
	parse_fails("a = \"open\n", "t.toml:1:10: newline in single-line string");
	parse_fails("a = 'tab\tok but \x01 not'\n",
		    "t.toml:1:17: control character U+0001 must be escaped in strings");
	parse_fails("a = \"\"\"never closed\n", "t.toml:2:1: unterminated string");
	parse_fails("a = \"\xff\"\n", "t.toml:1:6: invalid UTF-8 byte sequence");
	parse_fails("\"\"\"k\"\"\" = 1\n", "t.toml:1:1: a multi-line string cannot be a key");
}

static void test_integers(void **state)
{
	struct toml_value *root = parse_ok(
		"a = 42\nb = -17\nc = +5\nd = 1_000_000\n"
		"e = 0xDEAD_beef\nf = 0o755\ng = 0b1101\n"
		"max = 9223372036854775807\nmin = -9223372036854775808\n");

	(void)state;
	assert_int_equal(integer(root, "a"), 42);
	assert_int_equal(integer(root, "b"), -17);
	assert_int_equal(integer(root, "c"), 5);
	assert_int_equal(integer(root, "d"), 1000000);
	assert_int_equal(integer(root, "e"), 0xdeadbeef);
	assert_int_equal(integer(root, "f"), 0755);
	assert_int_equal(integer(root, "g"), 13);
	assert_true(integer(root, "max") == INT64_MAX);
	assert_true(integer(root, "min") == INT64_MIN);
	toml_value_free(root);
}

static void test_integer_errors(void **state)
{
	(void)state;
	parse_fails("a = 9223372036854775808\n", "t.toml:1:5: integer out of range");
	parse_fails("a = 0x1_0000_0000_0000_0000\n", "t.toml:1:5: integer out of range");
	parse_fails("a = 012\n", "t.toml:1:5: leading zeros are not allowed");
	parse_fails("a = 1__2\n", "t.toml:1:6: '_' must sit between digits");
	parse_fails("a = 1_\n", "t.toml:1:6: '_' must sit between digits");
	parse_fails("a = +0x10\n", "t.toml:1:7: invalid integer");
	parse_fails("a = 0X10\n", "t.toml:1:6: invalid integer");
}

static void test_floats(void **state)
{
	struct toml_value *root = parse_ok(
		"a = 3.14\nb = -0.0\nc = 5e+22\nd = 6.626e-34\ne = 1E6\n"
		"f = 9_224_617.445_991\ng = inf\nh = -inf\ni = nan\nj = +nan\n");

	(void)state;
	assert_true(get(root, "a")->u.fp == 3.14);
	assert_true(get(root, "b")->u.fp == 0.0 && signbit(get(root, "b")->u.fp));
	assert_true(get(root, "c")->u.fp == 5e22);
	assert_true(get(root, "d")->u.fp == 6.626e-34);
	assert_true(get(root, "e")->u.fp == 1e6);
	assert_true(get(root, "f")->u.fp == 9224617.445991);
	assert_true(isinf(get(root, "g")->u.fp) && get(root, "g")->u.fp > 0);
	assert_true(isinf(get(root, "h")->u.fp) && get(root, "h")->u.fp < 0);
	assert_true(isnan(get(root, "i")->u.fp));
	assert_true(isnan(get(root, "j")->u.fp));
	assert_int_equal(get(root, "a")->type, TOML_FLOAT);
	toml_value_free(root);
}

static void test_float_errors(void **state)
{
	(void)state;
	parse_fails("a = 1.\n", "t.toml:1:7: expected a digit");
	parse_fails("a = .1\n", "t.toml:1:5: expected a value, found '.'");
	parse_fails("a = 1.e5\n", "t.toml:1:7: expected a digit");
	parse_fails("a = 01.5\n", "t.toml:1:5: leading zeros are not allowed");
	parse_fails("a = 1e1000\n", "t.toml:1:5: float out of range");
	parse_fails("a = 1._5\n", "t.toml:1:7: '_' must sit between digits");
}

static void test_booleans(void **state)
{
	struct toml_value *root = parse_ok("t = true\nf = false\n");

	(void)state;
	assert_int_equal(get(root, "t")->type, TOML_BOOL);
	assert_int_equal(get(root, "t")->u.boolean, 1);
	assert_int_equal(get(root, "f")->u.boolean, 0);
	toml_value_free(root);
	parse_fails("a = True\n", "t.toml:1:5: expected a value, found 'T'");
	parse_fails("a = truex\n", "t.toml:1:9: expected end of line after value, found 'x'");
}

static void test_datetimes(void **state)
{
	struct toml_value *root = parse_ok(
		"a = 1979-05-27T07:32:00Z\n"
		"b = 1979-05-27t00:32:00.999999-07:00\n"
		"c = 1979-05-27 07:32:00z\n"
		"d = 1979-05-27T07:32:00\n"
		"e = 1979-05-27\n"
		"f = 07:32:00.5\n"
		"g = 2000-02-29\n"
		"h = 1979-05-27 # a date, then a comment\n");

	(void)state;
	assert_datetime(root, "a", TOML_DATETIME, "1979-05-27T07:32:00Z");
	assert_datetime(root, "b", TOML_DATETIME, "1979-05-27T00:32:00.999999-07:00");
	assert_datetime(root, "c", TOML_DATETIME, "1979-05-27T07:32:00Z");
	assert_datetime(root, "d", TOML_DATETIME_LOCAL, "1979-05-27T07:32:00");
	assert_datetime(root, "e", TOML_DATE_LOCAL, "1979-05-27");
	assert_datetime(root, "f", TOML_TIME_LOCAL, "07:32:00.5");
	assert_datetime(root, "g", TOML_DATE_LOCAL, "2000-02-29");
	assert_datetime(root, "h", TOML_DATE_LOCAL, "1979-05-27");
	toml_value_free(root);
}

static void test_datetime_errors(void **state)
{
	(void)state;
	parse_fails("a = 2100-02-29\n", "t.toml:1:13: day out of range for its month");
	parse_fails("a = 2023-13-01\n", "t.toml:1:10: date or time field out of range");
	parse_fails("a = 24:00:00\n", "t.toml:1:5: date or time field out of range");
	parse_fails("a = 12:60:00\n", "t.toml:1:8: date or time field out of range");
	parse_fails("a = 12:00\n", "t.toml:1:10: expected hh:mm:ss");
	parse_fails("a = 1979-05-27T07:32:00+7:00\n", "t.toml:1:25: expected +hh:mm offset");
	parse_fails("a = 1979-05-27T\n", "t.toml:1:16: expected hh:mm:ss");
}

static void test_arrays(void **state)
{
	struct toml_value *root = parse_ok(
		"a = [ 1, 2, 3, ]\n"
		"b = [\n  \"x\", # comment\n  [1.5, 'y'],\n  { k = 1 },\n]\n"
		"c = []\n");
	const struct toml_value *a = get(root, "a"), *b = get(root, "b");

	(void)state;
	assert_int_equal(a->type, TOML_ARRAY);
	assert_int_equal(a->u.array.nr, 3);
	assert_int_equal(a->u.array.items[2]->u.integer, 3);
	assert_int_equal(b->u.array.nr, 3);
	assert_string_equal(b->u.array.items[0]->u.str.ptr, "x");
	assert_int_equal(b->u.array.items[1]->type, TOML_ARRAY);
	assert_int_equal(b->u.array.items[1]->u.array.items[1]->type, TOML_STRING);
	assert_int_equal(integer(b->u.array.items[2], "k"), 1);
	assert_int_equal(get(root, "c")->u.array.nr, 0);
	toml_value_free(root);
	parse_fails("a = [1,,2]\n", "t.toml:1:8: expected a value, found ','");
	parse_fails("a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in array, found '2'");
}

static void test_inline_tables(void **state)
{
	struct toml_value *root = parse_ok(
		"point = { x = 1, y.z = 2, \"q k\" = { } }\n");

	(void)state;
	assert_int_equal(integer(root, "point.x"), 1);
	assert_int_equal(integer(root, "point.y.z"), 2);
	assert_int_equal(toml_table_get(get(root, "point"), "q k")->type, TOML_TABLE);
	toml_value_free(root);
	parse_fails("a = { b = 1, }\n", "t.toml:1:14: trailing comma not allowed in inline table");
	parse_fails("a = { b = 1\n}\n", "t.toml:1:12: expected ',' or '}' in inline table, found end of line");
}

static void test_dotted_keys(void **state)
{
	struct toml_value *root = parse_ok(
		"name.first = \"Tom\"\n"
		"name . last = \"P\"\n"
		"site.\"google.com\" = true\n"
		"3.14159 = \"pi\"\n");

	(void)state;
	assert_string_equal(str(root, "name.first"), "Tom");
	assert_string_equal(str(root, "name.last"), "P");
	assert_non_null(toml_table_get(get(root, "site"), "google.com"));
	assert_string_equal(str(root, "3.14159"), "pi");
	toml_value_free(root);
}

static void test_tables_and_arrays_of_tables(void **state)
{
	struct toml_value *root = parse_ok(
		"[a.b]\nx = 1\n"
		"[a]\ny = 2\n"		/* super-table after sub-table */
		"[[fruits]]\nname = \"apple\"\n"
		"[fruits.physical]\ncolor = \"red\"\n"
		"[[fruits.varieties]]\nname = \"red delicious\"\n"
		"[[fruits]]\nname = \"banana\"\n"
		"[empty]\n");
	const struct toml_value *fruits = get(root, "fruits");

	(void)state;
	assert_int_equal(integer(root, "a.b.x"), 1);
	assert_int_equal(integer(root, "a.y"), 2);
	assert_int_equal(fruits->u.array.nr, 2);
	assert_string_equal(str(fruits->u.array.items[0], "physical.color"), "red");
	assert_string_equal(str(fruits->u.array.items[0]->u.table.items[2].value->u.array.items[0], "name"),
			    "red delicious");
	assert_string_equal(str(fruits->u.array.items[1], "name"), "banana");
	assert_int_equal(get(root, "empty")->type, TOML_TABLE);
	assert_int_equal(get(root, "empty")->u.table.nr, 0);
	toml_value_free(root);
}

static void test_positions(void **state)
{
	struct toml_value *root = parse_ok(
		"# comment\na = 1\n\n  [t]\n  x = 1\n  \"\xc3\xa9\" = [true]\n");
	const struct toml_value *v;

	(void)state;
	assert_int_equal(root->line, 1);
	assert_int_equal(root->col, 1);
	assert_int_equal(get(root, "a")->line, 2);
	assert_int_equal(get(root, "a")->col, 5);
	assert_int_equal(get(root, "t")->line, 4);
	assert_int_equal(get(root, "t")->col, 3);
	assert_int_equal(get(root, "t.x")->line, 5);
	assert_int_equal(get(root, "t.x")->col, 7);
	/* Columns count characters, not bytes. */
	v = toml_table_get(get(root, "t"), "\xc3\xa9");
	assert_int_equal(v->line, 6);
	assert_int_equal(v->col, 9);
	assert_int_equal(v->u.array.items[0]->col, 10);
	toml_value_free(root);
}

static void test_error_positions(void **state)
{
	(void)state;
	parse_fails("\n\nconcurrent 5\n",
		    "t.toml:3:12: expected '=' after key 'concurrent'");
	parse_fails("a = 1\n  b = \n", "t.toml:2:7: expected a value, found end of line");
	parse_fails("[t]\nx = 1 y = 2\n",
		    "t.toml:2:7: expected end of line after value, found 'y'");
	parse_fails("[t] x = 1\n",
		    "t.toml:1:5: expected end of line after table header, found 'x'");
	parse_fails("# bad \x7f\n",
		    "t.toml:1:7: control character U+007F is not allowed in comments");
	parse_fails("a = 1\r\nb = 2\rc = 3\n",
		    "t.toml:2:6: carriage return not followed by a newline");
	parse_fails("\xc3\xa9 = 1\n", "t.toml:1:1: expected a key, found '\xc3\xa9'");
}

static void test_nul_byte_rejected(void **state)
{
	struct buf err = BUF_INIT;
	struct toml_value *root = NULL;

	(void)state;
	assert_int_equal(toml_parse("a = 1\n#\0\n", 9, "t.toml", &root, &err),
			 CR_ERR_INVALID);
	assert_string_equal(err.data, "t.toml:2:2: NUL byte is not allowed");
	buf_release(&err);
}

static void test_redefinitions(void **state)
{
	(void)state;
	parse_fails("a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a'");
	parse_fails("[a]\n[a]\n", "t.toml:2:2: table 'a' is already defined");
	parse_fails("[a]\nb.c = 1\n[a.b]\n",
		    "t.toml:3:4: table 'a.b' is already defined by dotted keys");
	parse_fails("[a.b]\n[a]\nb.c = 1\n",
		    "t.toml:3:1: dotted keys cannot extend table 'b' defined by a [table] header");
	parse_fails("a = {b = 1}\na.c = 2\n", "t.toml:2:1: cannot extend inline table 'a'");
	parse_fails("a = {}\n[a.b]\n", "t.toml:2:2: cannot extend inline table 'a'");
	parse_fails("a = []\n[[a]]\n", "t.toml:2:3: cannot append to static array 'a'");
	parse_fails("[[a]]\n[a]\n", "t.toml:2:2: key 'a' already holds an array, not a table");
	parse_fails("[a]\n[[a]]\n",
		    "t.toml:2:3: key 'a' already holds a table, not an array of tables");
	parse_fails("a = 1\n[a.b]\n", "t.toml:2:2: key 'a' already holds an integer, not a table");
	parse_fails("a = {b.c = 1, b = 2}\n", "t.toml:1:15: duplicate key 'b'");
}

static void test_depth_limit(void **state)
{
	struct buf doc = BUF_INIT, want = BUF_INIT;
	struct toml_value *root;
	int i;

	(void)state;
	buf_addstr(&doc, "a = ");
	for (i = 0; i < CR_MAX_TOML_DEPTH; i++)
		buf_addch(&doc, '[');
	for (i = 0; i < CR_MAX_TOML_DEPTH; i++)
		buf_addch(&doc, ']');
	root = parse_ok(doc.data);
	toml_value_free(root);
	buf_reset(&doc);
	buf_addstr(&doc, "a = ");
	for (i = 0; i <= CR_MAX_TOML_DEPTH; i++)
		buf_addch(&doc, '[');
	buf_addf(&want, "t.toml:1:%d: nesting deeper than %d levels",
		 5 + CR_MAX_TOML_DEPTH, CR_MAX_TOML_DEPTH);
	parse_fails(doc.data, want.data);
	buf_release(&doc);
	buf_release(&want);
}

static void test_utf8_bom_skipped(void **state)
{
	struct toml_value *root = parse_ok("\xef\xbb\xbf" "a = 1\n");

	(void)state;
	assert_int_equal(integer(root, "a"), 1);
	toml_value_free(root);
}

/* --- tree helpers --- */

static void test_set_remove_append(void **state)
{
	struct toml_value *root = parse_ok("a = 1\nb = 2\nc = 3\n");
	struct toml_value *arr = toml_new_array();

	(void)state;
	toml_table_set(root, "b", toml_new_string("two"));
	assert_int_equal(root->u.table.nr, 3);
	assert_string_equal(root->u.table.items[1].key, "b");
	assert_string_equal(str(root, "b"), "two");
	toml_table_set(root, "d", toml_new_bool(1));
	assert_string_equal(root->u.table.items[3].key, "d");
	assert_int_equal(toml_table_remove(root, "a"), 1);
	assert_int_equal(toml_table_remove(root, "a"), 0);
	assert_int_equal(root->u.table.nr, 3);
	assert_string_equal(root->u.table.items[0].key, "b");
	assert_null(toml_table_get(root, "a"));
	assert_null(toml_table_get(get(root, "b"), "x"));	/* not a table */

	toml_array_append(arr, toml_new_integer(1));
	toml_array_append(arr, toml_new_float(2.5));
	toml_array_append(arr, toml_new_datetime(TOML_DATE_LOCAL, "2024-01-02"));
	toml_array_remove(arr, 1);
	assert_int_equal(arr->u.array.nr, 2);
	assert_int_equal(arr->u.array.items[1]->type, TOML_DATE_LOCAL);
	toml_array_remove(arr, 5);	/* out of range: nothing happens */
	assert_int_equal(arr->u.array.nr, 2);
	toml_table_set(root, "arr", arr);
	assert_sane_tree(root);
	toml_value_free(root);
	toml_value_free(NULL);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(toml_type_name(TOML_STRING), "string");
	assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
	assert_string_equal(toml_type_name(TOML_DATETIME), "offset date-time");
	assert_string_equal(toml_type_name(TOML_TIME_LOCAL), "local time");
	assert_string_equal(toml_type_name(TOML_TABLE), "table");
}

/* --- writer --- */

static struct toml_value *config_tree(void)
{
	struct toml_value *root = toml_new_table(), *runners = toml_new_array();
	struct toml_value *runner = toml_new_table(), *docker = toml_new_table();
	struct toml_value *session = toml_new_table(), *volumes = toml_new_array();

	toml_table_set(root, "concurrent", toml_new_integer(4));
	toml_table_set(root, "check_interval", toml_new_integer(0));
	toml_table_set(root, "session_server", session);
	toml_table_set(session, "session_timeout", toml_new_integer(1800));
	toml_table_set(root, "runners", runners);
	toml_table_set(root, "log_level", toml_new_string("info"));
	toml_array_append(runners, runner);
	toml_table_set(runner, "name", toml_new_string("my \"runner\""));
	toml_table_set(runner, "url", toml_new_string("https://gitlab.example.com"));
	toml_table_set(runner, "executor", toml_new_string("docker"));
	toml_table_set(runner, "docker", docker);
	toml_table_set(runner, "cache", toml_new_table());
	toml_table_set(docker, "image", toml_new_string("alpine:3"));
	toml_table_set(docker, "privileged", toml_new_bool(0));
	toml_table_set(docker, "volumes", volumes);
	toml_array_append(volumes, toml_new_string("/cache"));
	toml_array_append(volumes, toml_new_string("/var/run/docker.sock:/var/run/docker.sock"));
	toml_table_set(docker, "shm_size", toml_new_float(0.5));
	return root;
}

static const char config_text[] =
	"concurrent = 4\n"
	"check_interval = 0\n"
	"log_level = \"info\"\n"
	"\n"
	"[session_server]\n"
	"session_timeout = 1800\n"
	"\n"
	"[[runners]]\n"
	"name = \"my \\\"runner\\\"\"\n"
	"url = \"https://gitlab.example.com\"\n"
	"executor = \"docker\"\n"
	"\n"
	"[runners.docker]\n"
	"image = \"alpine:3\"\n"
	"privileged = false\n"
	"volumes = [\"/cache\", \"/var/run/docker.sock:/var/run/docker.sock\"]\n"
	"shm_size = 0.5\n"
	"\n"
	"[runners.cache]\n";

static void test_write_config(void **state)
{
	struct toml_value *root = config_tree(), *again;
	char *text = write_text(root), *text2;

	(void)state;
	assert_string_equal(text, config_text);
	/* Written text parses back and writes out the same. */
	again = parse_ok(text);
	text2 = write_text(again);
	assert_string_equal(text2, text);
	free(text);
	free(text2);
	toml_value_free(again);
	toml_value_free(root);
}

static void test_write_scalars(void **state)
{
	struct toml_value *root = toml_new_table();
	char *text;

	(void)state;
	toml_table_set(root, "one", toml_new_float(1.0));
	toml_table_set(root, "tenth", toml_new_float(0.1));
	toml_table_set(root, "big", toml_new_float(1e300));
	toml_table_set(root, "third", toml_new_float(1.0 / 3));
	toml_table_set(root, "negzero", toml_new_float(-0.0));
	toml_table_set(root, "inf", toml_new_float(-INFINITY));
	toml_table_set(root, "nan", toml_new_float(NAN));
	toml_table_set(root, "min", toml_new_integer(INT64_MIN));
	toml_table_set(root, "a.b", toml_new_string("ctl\x01\x7f\t\xc3\xa9\\"));
	toml_table_set(root, "", toml_new_datetime(TOML_DATETIME, "1979-05-27T07:32:00Z"));
	toml_table_set(root, "with space", toml_new_datetime(TOML_TIME_LOCAL, "07:32:00"));
	text = write_text(root);
	assert_string_equal(text,
		"one = 1.0\n"
		"tenth = 0.1\n"
		"big = 1e+300\n"
		"third = 0.3333333333333333\n"
		"negzero = -0.0\n"
		"inf = -inf\n"
		"nan = nan\n"
		"min = -9223372036854775808\n"
		"\"a.b\" = \"ctl\\u0001\\u007F\\t\xc3\xa9\\\\\"\n"
		"\"\" = 1979-05-27T07:32:00Z\n"
		"\"with space\" = 07:32:00\n");
	free(text);
	toml_value_free(root);
}

static void test_write_nested_tables(void **state)
{
	struct toml_value *root = parse_ok(
		"x = [[{a = 1}], [{b = {c = 2}}]]\n"
		"[t.\"u.v\".w]\nk = 1\n"
		"[[aot]]\n[[aot.inner]]\nz = 1\n[aot.sub]\n");
	char *text = write_text(root);

	(void)state;
	assert_string_equal(text,
		"x = [[{ a = 1 }], [{ b = { c = 2 } }]]\n"
		"\n"
		"[t.\"u.v\".w]\n"
		"k = 1\n"
		"\n"
		"[[aot]]\n"
		"\n"
		"[aot.sub]\n"
		"\n"
		"[[aot.inner]]\n"
		"z = 1\n");
	free(text);
	toml_value_free(root);
}

static void test_write_rejects_bad_values(void **state)
{
	struct toml_value *root = toml_new_table();
	struct buf out = BUF_INIT;

	(void)state;
	buf_addstr(&out, "keep");
	toml_table_set(root, "ok", toml_new_integer(1));
	toml_table_set(root, "bad", toml_new_string("\xff"));
	assert_int_equal(toml_write(root, &out), CR_ERR_INVALID);
	assert_string_equal(out.data, "keep");
	toml_table_set(root, "bad", toml_new_datetime(TOML_DATE_LOCAL, "2023-02-30"));
	assert_int_equal(toml_write(root, &out), CR_ERR_INVALID);
	toml_table_set(root, "bad", toml_new_datetime(TOML_DATETIME, "2023-02-03"));
	assert_int_equal(toml_write(root, &out), CR_ERR_INVALID);
	assert_string_equal(out.data, "keep");
	assert_int_equal(toml_write(get(root, "ok"), &out), CR_ERR_INVALID);
	buf_release(&out);
	toml_value_free(root);
}

/* --- files --- */

struct tmpdir {
	char path[64];
};

static int tmpdir_setup(void **state)
{
	struct tmpdir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/test_toml.XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	struct tmpdir *d = *state;

	/* A test may have left it unwritable (0500). */
	chmod(d->path, 0700);
	(void)remove_tree(d->path);
	free(d);
	return 0;
}

static char *read_all(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t n;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

static int count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_write_file_mode_and_content(void **state)
{
	struct tmpdir *d = *state;
	struct toml_value *root = config_tree(), *back = NULL;
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct stat st;
	char *text;

	buf_addf(&path, "%s/config.toml", d->path);
	write_file(path.data, "old = 1\n");
	chmod(path.data, 0644);
	assert_int_equal(toml_write_file(path.data, root, &err), 0);
	assert_string_equal(err.data, "");
	assert_int_equal(stat(path.data, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = read_all(path.data);
	assert_string_equal(text, config_text);
	assert_int_equal(count_entries(d->path), 1);	/* no temp file left */
	assert_int_equal(toml_parse_file(path.data, &back, &err), 0);
	assert_int_equal(integer(back, "concurrent"), 4);
	free(text);
	toml_value_free(back);
	toml_value_free(root);
	buf_release(&path);
	buf_release(&err);
}

static void test_write_file_onto_directory_fails(void **state)
{
	struct tmpdir *d = *state;
	struct toml_value *root = config_tree();
	struct buf path = BUF_INIT, err = BUF_INIT, inner = BUF_INIT;

	buf_addf(&path, "%s/config.toml", d->path);
	assert_int_equal(mkdir(path.data, 0700), 0);
	buf_addf(&inner, "%s/keep", path.data);
	write_file(inner.data, "x");
	assert_int_equal(toml_write_file(path.data, root, &err), CR_ERR_IO);
	assert_non_null(strstr(err.data, "cannot rename '"));
	assert_non_null(strstr(err.data, "to '"));
	assert_non_null(strstr(err.data, "/config.toml': Is a directory"));
	/* The directory is untouched and the temp file is gone. */
	assert_int_equal(count_entries(d->path), 1);
	assert_int_equal(count_entries(path.data), 1);
	toml_value_free(root);
	buf_release(&path);
	buf_release(&err);
	buf_release(&inner);
}

static void test_write_file_unwritable_dir_keeps_old(void **state)
{
	struct tmpdir *d = *state;
	struct toml_value *root;
	struct buf path = BUF_INIT, err = BUF_INIT, want = BUF_INIT;
	char *text;

	if (geteuid() == 0)
		skip();	/* root writes anywhere */
	root = config_tree();
	buf_addf(&path, "%s/config.toml", d->path);
	write_file(path.data, "old = 1\n");
	assert_int_equal(chmod(d->path, 0500), 0);
	assert_int_equal(toml_write_file(path.data, root, &err), CR_ERR_IO);
	chmod(d->path, 0700);
	buf_addf(&want, "cannot create a temporary file for '%s': %s",
		 path.data, strerror(EACCES));
	assert_string_equal(err.data, want.data);
	text = read_all(path.data);
	assert_string_equal(text, "old = 1\n");
	assert_int_equal(count_entries(d->path), 1);
	free(text);
	toml_value_free(root);
	buf_release(&path);
	buf_release(&err);
	buf_release(&want);
}

static void test_write_file_write_error_keeps_old(void **state)
{
	struct tmpdir *d = *state;
	struct toml_value *root = config_tree();
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct rlimit old, small;
	void (*old_handler)(int);
	char *text;
	int r;

	/* A file size limit makes write() fail part way, even for root. */
	buf_addf(&path, "%s/config.toml", d->path);
	write_file(path.data, "old = 1\n");
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 16;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	r = toml_write_file(path.data, root, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(r, CR_ERR_IO);
	assert_non_null(strstr(err.data, "cannot write '"));
	assert_non_null(strstr(err.data, strerror(EFBIG)));
	text = read_all(path.data);
	assert_string_equal(text, "old = 1\n");
	assert_int_equal(count_entries(d->path), 1);
	free(text);
	toml_value_free(root);
	buf_release(&path);
	buf_release(&err);
}

static void test_write_file_missing_dir(void **state)
{
	struct tmpdir *d = *state;
	struct toml_value *root = config_tree();
	struct buf path = BUF_INIT, err = BUF_INIT, want = BUF_INIT;

	buf_addf(&path, "%s/nope/config.toml", d->path);
	assert_int_equal(toml_write_file(path.data, root, &err), CR_ERR_IO);
	buf_addf(&want, "cannot create a temporary file for '%s': %s",
		 path.data, strerror(ENOENT));
	assert_string_equal(err.data, want.data);
	toml_value_free(root);
	buf_release(&path);
	buf_release(&err);
	buf_release(&want);
}

static void test_parse_file_errors(void **state)
{
	struct tmpdir *d = *state;
	struct toml_value *root = NULL;
	struct buf path = BUF_INIT, err = BUF_INIT, want = BUF_INIT;

	buf_addf(&path, "%s/missing.toml", d->path);
	assert_int_equal(toml_parse_file(path.data, &root, &err), CR_ERR_NOT_FOUND);
	assert_null(root);
	buf_addf(&want, "cannot open '%s': %s", path.data, strerror(ENOENT));
	assert_string_equal(err.data, want.data);

	buf_reset(&err);
	buf_reset(&want);
	buf_reset(&path);
	buf_addf(&path, "%s/bad.toml", d->path);
	write_file(path.data, "a = 1\nb =\n");
	assert_int_equal(toml_parse_file(path.data, &root, &err), CR_ERR_INVALID);
	buf_addf(&want, "%s:2:4: expected a value, found end of line", path.data);
	assert_string_equal(err.data, want.data);
	buf_release(&path);
	buf_release(&err);
	buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_strings),
		cmocka_unit_test(test_literal_strings),
		cmocka_unit_test(test_multiline_basic_strings),
		cmocka_unit_test(test_multiline_literal_strings),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_errors),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_float_errors),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_datetimes),
		cmocka_unit_test(test_datetime_errors),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_inline_tables),
		cmocka_unit_test(test_dotted_keys),
		cmocka_unit_test(test_tables_and_arrays_of_tables),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_nul_byte_rejected),
		cmocka_unit_test(test_redefinitions),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_utf8_bom_skipped),
		cmocka_unit_test(test_set_remove_append),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_write_config),
		cmocka_unit_test(test_write_scalars),
		cmocka_unit_test(test_write_nested_tables),
		cmocka_unit_test(test_write_rejects_bad_values),
		cmocka_unit_test_setup_teardown(test_write_file_mode_and_content,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_file_onto_directory_fails,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_file_unwritable_dir_keeps_old,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_file_write_error_keeps_old,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_file_missing_dir,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_parse_file_errors,
						tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
