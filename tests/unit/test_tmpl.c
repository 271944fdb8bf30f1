/* test_tmpl.c — unit tests of the Mustache engine: the official spec suites and our own cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgi/tmpl.h"

/* Directory holding the source tree ($TIANBAO_SRCDIR, default "."). */
static const char *srcdir(void)
{
	const char *d = getenv("TIANBAO_SRCDIR");
	return d && *d ? d : ".";
}

/* True when a spec data tree holds a lambda (an object tagged "__tag__": "code"). */
static bool has_lambda(const json_t *j)
{
	if (json_is_object(j)) {
		const json_t *tag = json_object_get(j, "__tag__");
		if (json_is_string(tag) && strcmp(json_string_value(tag), "code") == 0)
			return true;
		for (void *it = json_object_iter((json_t *)j); it;
		     it = json_object_iter_next((json_t *)j, it))
			if (has_lambda(json_object_iter_value(it)))
				return true;
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++)
			if (has_lambda(json_array_get(j, i)))
				return true;
	}
	return false;
}

/* Convert JSON into template values in the arena (strings are copied). */
static struct tv *json_to_tv(struct arena *a, const json_t *j)
{
	struct tv *v;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		v = tv_map(a);
		for (void *it = json_object_iter((json_t *)j); it;
		     it = json_object_iter_next((json_t *)j, it))
			tv_set(a, v, arena_strdup(a, json_object_iter_key(it)),
			       json_to_tv(a, json_object_iter_value(it)));
		return v;
	case JSON_ARRAY:
		v = tv_list(a);
		for (size_t i = 0; i < json_array_size(j); i++)
			tv_push(a, v, json_to_tv(a, json_array_get(j, i)));
		return v;
	case JSON_STRING:
		return tv_strn(a, arena_strndup(a, json_string_value(j), json_string_length(j)),
		               json_string_length(j));
	case JSON_INTEGER:
		return tv_int(a, (long long)json_integer_value(j));
	case JSON_REAL:
		return tv_real(a, json_real_value(j));
	case JSON_TRUE:
		return tv_bool(a, true);
	case JSON_FALSE:
		return tv_bool(a, false);
	case JSON_NULL:
		break;
	}
	return tv_null(a);
}

/* Run one spec test; returns true when the output matches "expected". */
static bool run_spec_test(const char *suite, const json_t *t)
{
	const char *name = json_string_value(json_object_get(t, "name"));
	const json_t *tpl = json_object_get(t, "template");
	const json_t *exp = json_object_get(t, "expected");
	const json_t *partials = json_object_get(t, "partials");
	char err[256] = "";
	bool ok = false;
	struct arena a;
	struct buf out = BUF_INIT;
	struct tmpl_set *set = tmpl_set_new();
	arena_init(&a, 0);

	if (!tmpl_add(set, "spec_template", json_string_value(tpl), json_string_length(tpl), err,
	              sizeof(err))) {
		printf("FAIL %s / %s: parse error: %s\n", suite, name, err);
		goto cleanup;
	}
	if (json_is_object(partials)) {
		for (void *it = json_object_iter((json_t *)partials); it;
		     it = json_object_iter_next((json_t *)partials, it)) {
			const char *pname = json_object_iter_key(it);
			const json_t *ptext = json_object_iter_value(it);
			if (!tmpl_add(set, pname, json_string_value(ptext),
			              json_string_length(ptext), err, sizeof(err))) {
				printf("FAIL %s / %s: partial %s: %s\n", suite, name, pname, err);
				goto cleanup;
			}
		}
	}
	struct tv *data = json_to_tv(&a, json_object_get(t, "data"));
	if (!tmpl_render(set, "spec_template", data, &a, &out)) {
		printf("FAIL %s / %s: render returned false\n", suite, name);
		goto cleanup;
	}
	const char *got = out.data ? out.data : "";
	if (out.len != json_string_length(exp) ||
	    memcmp(got, json_string_value(exp), out.len) != 0) {
		printf("FAIL %s / %s\n  expected: [%s]\n  got:      [%s]\n", suite, name,
		       json_string_value(exp), got);
		goto cleanup;
	}
	ok = true;
cleanup:
	buf_free(&out);
	arena_free(&a);
	tmpl_set_free(set);
	return ok;
}

/* Run every test of tests/vectors/mustache/<suite>.json; all must pass, none may be skipped. */
static void run_suite(const char *suite)
{
	char path[1024];
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/tests/vectors/mustache/%s.json", srcdir(), suite);
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
	const json_t *tests = json_object_get(root, "tests");
	assert_true(json_is_array(tests));
	size_t passed = 0, failed = 0, skipped = 0;
	for (size_t i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		if (has_lambda(json_object_get(t, "data"))) {
			skipped++;
			continue;
		}
		if (run_spec_test(suite, t))
			passed++;
		else
			failed++;
	}
	printf("mustache %s: %zu/%zu passed, %zu skipped\n", suite, passed, json_array_size(tests),
	       skipped);
	assert_true(json_array_size(tests) > 0);
	json_decref(root);
	assert_int_equal(failed, 0);
	assert_int_equal(skipped, 0);
}

/* The comments suite. */
static void test_spec_comments(void **state)
{
	(void)state;
	run_suite("comments");
}

/* The set-delimiter suite. */
static void test_spec_delimiters(void **state)
{
	(void)state;
	run_suite("delimiters");
}

/* The interpolation suite. */
static void test_spec_interpolation(void **state)
{
	(void)state;
	run_suite("interpolation");
}

/* The inverted-section suite. */
static void test_spec_inverted(void **state)
{
	(void)state;
	run_suite("inverted");
}

/* The partials suite. */
static void test_spec_partials(void **state)
{
	(void)state;
	run_suite("partials");
}

/* The sections suite. */
static void test_spec_sections(void **state)
{
	(void)state;
	run_suite("sections");
}

/* Parse `text` as template "broken"; it must fail with "broken:<line>:" and `what` in the message.
 */
static void expect_parse_error(const char *text, int line, const char *what)
{
	char err[256] = "";
	char want[64];
	struct tmpl_set *set = tmpl_set_new();
	bool ok = tmpl_add(set, "broken", text, strlen(text), err, sizeof(err));
	snprintf(want, sizeof(want), "broken:%d:", line);
	if (ok || !strstr(err, want) || !strstr(err, what))
		printf("parse error case %s: ok=%d err=[%s], want [%s] and [%s]\n", text, ok, err,
		       want, what);
	assert_false(ok);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, what));
	assert_false(tmpl_has(set, "broken"));
	tmpl_set_free(set);
}

/* Syntax errors are reported with the template name and line number. */
static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("line one\n{{name", 2, "unclosed tag");
	expect_parse_error("a\nb\n{{{raw}}\n", 3, "unclosed tag");
	expect_parse_error("a\n\n{{#items}}\n{{x}}\n", 3, "unclosed section");
	expect_parse_error("{{#a}}\n{{#b}}\n{{/a}}\n{{/b}}", 3, "does not match");
	expect_parse_error("x\n{{/a}}", 2, "without section");
	expect_parse_error("\n\n\n{{=<%%>=}}", 4, "bad set-delimiter");
	expect_parse_error("{{= a b c =}}", 1, "bad set-delimiter");
	expect_parse_error("ok\n{{=<% %>=}}\n<%x", 3, "unclosed tag");
	expect_parse_error("x {{ }}", 1, "empty tag");

	char err[128] = "";
	struct tmpl_set *set = tmpl_set_new();
	assert_false(tmpl_add(set, "bad name", "x", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "bad name"));
	/* A failed add leaves earlier templates alone. */
	assert_true(tmpl_add(set, "good", "x", 1, err, sizeof(err)));
	assert_false(tmpl_add(set, "good", "{{#a}}", 6, err, sizeof(err)));
	assert_true(tmpl_has(set, "good"));
	tmpl_set_free(set);
}

/* Render `text` against `ctx` (with no partials) and return the output in `out`. */
static void render_text(const char *text, const struct tv *ctx, struct arena *a, struct buf *out)
{
	char err[256] = "";
	struct tmpl_set *set = tmpl_set_new();
	if (!tmpl_add(set, "t", text, strlen(text), err, sizeof(err)))
		fail_msg("parse failed: %s", err);
	assert_true(tmpl_render(set, "t", ctx, a, out));
	tmpl_set_free(set);
}

/* {{x}} escapes & < > " ' while {{{x}}} and {{&x}} do not. */
static void test_html_escaping(void **state)
{
	(void)state;
	struct arena a;
	struct buf out = BUF_INIT;
	arena_init(&a, 0);
	struct tv *ctx = tv_map(&a);
	tv_set_str(&a, ctx, "x", "<script>\"'&</script>");
	render_text("{{x}}|{{{x}}}|{{&x}}", ctx, &a, &out);
	assert_string_equal(out.data, "&lt;script&gt;&quot;&#39;&amp;&lt;/script&gt;|"
	                              "<script>\"'&</script>|<script>\"'&</script>");
	buf_free(&out);
	arena_free(&a);
}

/* A partial that is not in the set renders as nothing. */
static void test_missing_partial(void **state)
{
	(void)state;
	struct arena a;
	struct buf out = BUF_INIT;
	arena_init(&a, 0);
	render_text("[{{>nowhere}}]\n  {{>nowhere}}\nend", tv_map(&a), &a, &out);
	assert_string_equal(out.data, "[]\nend");
	buf_free(&out);
	arena_free(&a);
}

/* Value formatting: integers, reals in shortest round-trip form, booleans, nulls. */
static void test_values(void **state)
{
	(void)state;
	struct arena a;
	struct buf out = BUF_INIT;
	arena_init(&a, 0);
	struct tv *ctx = tv_map(&a);
	tv_set_int(&a, ctx, "i", -9223372036854775807LL - 1);
	tv_set(&a, ctx, "r1", tv_real(&a, 1.210));
	tv_set(&a, ctx, "r2", tv_real(&a, 85000));
	tv_set(&a, ctx, "r3", tv_real(&a, 0.1 + 0.2));
	tv_set_bool(&a, ctx, "b", true);
	tv_set_str(&a, ctx, "n", NULL);
	tv_set(&a, ctx, "f", tv_strf(&a, "%s-%d", "id", 7));
	/* tv_set replaces an existing key. */
	tv_set_str(&a, ctx, "s", "old");
	tv_set_str(&a, ctx, "s", "new");
	assert_int_equal(ctx->u.map.n, 8);
	assert_null(tv_get(ctx, "absent"));
	assert_int_equal(tv_get(ctx, "s")->type, TV_STR);
	render_text("{{i}} {{r1}} {{r2}} {{r3}} {{b}} [{{n}}] {{f}} {{s}}", ctx, &a, &out);
	assert_string_equal(out.data,
	                    "-9223372036854775808 1.21 85000 0.30000000000000004 true [] id-7 new");

	/* Lists grow past their first allocation. */
	struct tv *list = tv_list(&a);
	for (int k = 0; k < 100; k++)
		tv_push(&a, list, tv_int(&a, k % 10));
	tv_set(&a, ctx, "list", list);
	buf_reset(&out);
	render_text("{{#list}}{{.}}{{/list}}", ctx, &a, &out);
	assert_int_equal(out.len, 100);
	assert_memory_equal(out.data, "0123456789", 10);
	buf_free(&out);
	arena_free(&a);
}

/* The reference form of a real: "%.15g", or "%.17g" when that does not read back. */
static void reference_real(char *dst, size_t n, double r)
{
	snprintf(dst, n, "%.15g", r);
	if (strtod(dst, NULL) != r)
		snprintf(dst, n, "%.17g", r);
}

/* Reals render exactly like the reference formatting, over many kinds of values. */
static void test_reals(void **state)
{
	(void)state;
	static const double fixed[] = {0.0,
	                               -0.0,
	                               1.21,
	                               85000,
	                               -85000,
	                               19.99,
	                               0.1,
	                               0.0001,
	                               0.00011,
	                               1e-5,
	                               0.5,
	                               -0.25,
	                               1e15,
	                               999999999999999.0,
	                               1e21,
	                               123456.789,
	                               3.14159265358979,
	                               1.0 / 3,
	                               2.5e-7,
	                               100.5};
	struct arena a;
	struct buf out = BUF_INIT;
	char want[64];
	arena_init(&a, 0);
	struct tv *ctx = tv_map(&a);
	struct tv *val = tv_set(&a, ctx, "r", tv_real(&a, 0));
	char err[128] = "";
	struct tmpl_set *set = tmpl_set_new();
	assert_true(tmpl_add(set, "t", "{{r}}", 5, err, sizeof(err)));
	unsigned long long seed = 88172645463325252ULL;
	for (int i = 0; i < 60000; i++) {
		double r;
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		if (i < (int)(sizeof(fixed) / sizeof(fixed[0])))
			r = fixed[i];
		else if (i % 3 == 0)
			r = (double)(long long)(seed % 100000000) / 100.0;
		else if (i % 3 == 1)
			r = (double)(long long)(seed % 2000000 - 1000000) / 1e6;
		else
			memcpy(&r, &seed, sizeof(r));
		val->u.r = r;
		buf_reset(&out);
		assert_true(tmpl_render(set, "t", ctx, &a, &out));
		reference_real(want, sizeof(want), r);
		if (strcmp(out.data, want) != 0)
			fail_msg("real %.17g: got %s, want %s", r, out.data, want);
	}
	tmpl_set_free(set);
	buf_free(&out);
	arena_free(&a);
}

/* Write `text` to `dir`/`file`. */
static void write_file(const char *dir, const char *file, const char *text, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Remove `dir`/`file`. */
static void remove_file(const char *dir, const char *file)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	unlink(path);
}

/* tmpl_load_dir parses every *.mustache file; one uses the other as a partial. */
static void test_load_dir(void **state)
{
	(void)state;
	char dir[256];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/test_tmpl.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	const char *page = "<ul>\n  {{>item-row}}\n</ul>\n";
	const char *item = "{{#items}}\n<li>{{name}}</li>\n{{/items}}\n";
	write_file(dir, "page.mustache", page, strlen(page));
	write_file(dir, "item-row.mustache", item, strlen(item));
	write_file(dir, "notes.txt", "{{#", 3);

	char err[256] = "";
	struct tmpl_set *set = tmpl_load_dir(dir, err, sizeof(err));
	if (!set)
		fail_msg("tmpl_load_dir: %s", err);
	assert_true(tmpl_has(set, "page"));
	assert_true(tmpl_has(set, "item-row"));
	assert_false(tmpl_has(set, "notes"));

	struct arena a;
	struct buf out = BUF_INIT;
	arena_init(&a, 0);
	struct tv *ctx = tv_map(&a);
	struct tv *items = tv_set(&a, ctx, "items", tv_list(&a));
	tv_set_str(&a, tv_push(&a, items, tv_map(&a)), "name", "a&b");
	tv_set_str(&a, tv_push(&a, items, tv_map(&a)), "name", "c");
	assert_true(tmpl_render(set, "page", ctx, &a, &out));
	assert_string_equal(out.data, "<ul>\n  <li>a&amp;b</li>\n  <li>c</li>\n</ul>\n");
	assert_false(tmpl_render(set, "nope", ctx, &a, &out));
	tmpl_set_free(set);

	/* A parse error names the file and line. */
	write_file(dir, "bad.mustache", "ok\n{{#open}}\n", 13);
	set = tmpl_load_dir(dir, err, sizeof(err));
	assert_null(set);
	assert_non_null(strstr(err, "bad.mustache: bad:2: unclosed section"));
	remove_file(dir, "bad.mustache");

	/* Files over 1 MiB are refused. */
	size_t big_len = 1024 * 1024 + 1;
	char *big = malloc(big_len);
	assert_non_null(big);
	memset(big, 'x', big_len);
	write_file(dir, "big.mustache", big, big_len);
	free(big);
	set = tmpl_load_dir(dir, err, sizeof(err));
	assert_null(set);
	assert_non_null(strstr(err, "big.mustache"));
	remove_file(dir, "big.mustache");

	/* Names outside [A-Za-z0-9_-] are refused. */
	write_file(dir, "bad name.mustache", "x", 1);
	set = tmpl_load_dir(dir, err, sizeof(err));
	assert_null(set);
	assert_non_null(strstr(err, "bad template name"));
	remove_file(dir, "bad name.mustache");

	remove_file(dir, "page.mustache");
	remove_file(dir, "item-row.mustache");
	remove_file(dir, "notes.txt");
	assert_int_equal(rmdir(dir), 0);
	buf_free(&out);
	arena_free(&a);
}

/* A parsed template renders identically every time, also with a reset arena. */
static void test_rerender(void **state)
{
	(void)state;
	char err[256] = "";
	const char *text = "{{#rows}}\n  {{>cell}}\n{{/rows}}\n{{^rows}}none{{/rows}}{{=<% %>=}}"
	                   "<%title%>\n";
	const char *cell = "<td>{{.}}</td>\n<td>{{{.}}}</td>\n";
	struct tmpl_set *set = tmpl_set_new();
	assert_true(tmpl_add(set, "page", text, strlen(text), err, sizeof(err)));
	assert_true(tmpl_add(set, "cell", cell, strlen(cell), err, sizeof(err)));

	struct arena a;
	struct buf first = BUF_INIT, second = BUF_INIT;
	arena_init(&a, 0);
	for (int round = 0; round < 2; round++) {
		struct tv *ctx = tv_map(&a);
		struct tv *rows = tv_set(&a, ctx, "rows", tv_list(&a));
		tv_push(&a, rows, tv_str(&a, "<1>"));
		tv_push(&a, rows, tv_int(&a, 2));
		tv_set_str(&a, ctx, "title", "T");
		assert_true(tmpl_render(set, "page", ctx, &a, round ? &second : &first));
		arena_reset(&a);
	}
	assert_string_equal(first.data, "  <td>&lt;1&gt;</td>\n  <td><1></td>\n"
	                                "  <td>2</td>\n  <td>2</td>\nT\n");
	assert_string_equal(first.data, second.data);
	buf_free(&first);
	buf_free(&second);
	arena_free(&a);
	tmpl_set_free(set);
}

/* Self-including partials stop at the depth cap and the expansion budget. */
static void test_recursion_cap(void **state)
{
	(void)state;
	char err[256] = "";
	struct tmpl_set *set = tmpl_set_new();
	assert_true(tmpl_add(set, "self", "x{{>self}}", 10, err, sizeof(err)));
	struct arena a;
	struct buf out = BUF_INIT;
	arena_init(&a, 0);
	assert_true(tmpl_render(set, "self", NULL, &a, &out));
	assert_int_equal(out.len, 65);

	/* A partial that includes itself several times would grow exponentially;
	 * the per-render expansion budget stops it. */
	const char *fan = "{{>fan}}{{>fan}}{{>fan}}{{>fan}}x";
	assert_true(tmpl_add(set, "fan", fan, strlen(fan), err, sizeof(err)));
	buf_reset(&out);
	assert_true(tmpl_render(set, "fan", NULL, &a, &out));
	assert_true(out.len > 1000);
	assert_true(out.len <= 100001);
	buf_free(&out);
	arena_free(&a);
	tmpl_set_free(set);
}

/* Run every test. */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_comments),
	    cmocka_unit_test(test_spec_delimiters),
	    cmocka_unit_test(test_spec_interpolation),
	    cmocka_unit_test(test_spec_inverted),
	    cmocka_unit_test(test_spec_partials),
	    cmocka_unit_test(test_spec_sections),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_html_escaping),
	    cmocka_unit_test(test_missing_partial),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_reals),
	    cmocka_unit_test(test_load_dir),
	    cmocka_unit_test(test_rerender),
	    cmocka_unit_test(test_recursion_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
