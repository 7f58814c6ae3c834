/* The import pipeline shared by `meridian import` and feeds (feed.h):
 * value lists and JSON bodies from memory into a real store, with the
 * counts, verdicts, messages and stored-id hook the feeds rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../testdir.h"
#include "feed/feed.h"

struct fx {
    char dir[TEST_DIR_MAX];
    struct store *st;
    struct store_org own;
    struct store_collection coll;
    char stored[8][STORE_STIX_ID_MAX + 1];
    size_t n_stored;
    char first_error[512];
    size_t errors;
};

static void on_msg(void *ctx, enum feed_msg_kind kind, const char *text)
{
    struct fx *f = ctx;

    if (kind != FEED_MSG_ERROR)
        return;
    if (f->errors++ == 0)
        (void)snprintf(f->first_error, sizeof(f->first_error), "%s", text);
}

static void on_stored(void *ctx, const char *id, size_t len)
{
    struct fx *f = ctx;

    assert_true(f->n_stored < 8 && len <= STORE_STIX_ID_MAX);
    memcpy(f->stored[f->n_stored], id, len);
    f->stored[f->n_stored++][len] = '\0';
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct store_open_opts opts = {.create = true, .max_conn = 2};
    struct store_api_root root = {
        .name = "feeds", .title = "Feeds", .max_content_length = STORE_DEFAULT_MAX_CONTENT};
    struct mrd_err err = {0};

    assert_non_null(f);
    test_dir_make(f->dir, "mrd-feed");
    assert_int_equal(store_open(f->dir, &opts, &f->st, &err), MRD_OK);
    assert_int_equal(store_org_create(f->st, "cert-a", POLICY_REL_OWN, &f->own, &err), MRD_OK);
    assert_int_equal(store_api_root_put(f->st, &root, NULL, &err), MRD_OK);
    (void)snprintf(f->coll.api_root, sizeof(f->coll.api_root), "feeds");
    (void)snprintf(f->coll.title, sizeof(f->coll.title), "Feeds");
    f->coll.default_tlp = POLICY_TLP_GREEN;
    assert_int_equal(store_collection_create(f->st, &f->coll, &err), MRD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_close(f->st);
    test_dir_remove(f->dir);
    free(f);
    return 0;
}

static struct feed_importer *importer(struct fx *f, bool text)
{
    struct feed_import_opts io;
    struct feed_import_hooks hooks = {.msg = on_msg, .stored = on_stored, .ctx = f};
    struct feed_importer *im = NULL;

    memset(&io, 0, sizeof(io));
    feed_list_opts_init(&io.list);
    io.list.text = text;
    (void)snprintf(io.list.valid_from, sizeof(io.list.valid_from), "2026-01-01T00:00:00.000Z");
    assert_int_equal(feed_importer_new(f->st, &f->coll, &f->own, NULL, &io, &hooks, &im, NULL),
                     MRD_OK);
    return im;
}

static void test_text_list_from_memory(void **state)
{
    struct fx *f = *state;
    static const char body[] = "# c\n192.0.2.1\nnot a value\r\nhxxp://evil[.]example/a";
    struct feed_importer *im = importer(f, true);
    struct feed_counts c = {0};

    assert_int_equal(feed_import_buffer(im, "mem", body, strlen(body), &c), FEED_INVALID);
    assert_int_equal(c.objects, 3);
    assert_int_equal(c.added, 2);
    assert_int_equal(c.invalid, 1);
    assert_int_equal(f->n_stored, 2);
    assert_true(strncmp(f->stored[0], "indicator--", 11) == 0);
    assert_non_null(strstr(f->first_error, "mem: line 3: 'not a value'"));
    /* again: the same indicators (same ids), already present */
    memset(&c, 0, sizeof(c));
    f->n_stored = 0;
    assert_int_equal(feed_import_buffer(im, "mem", body, strlen(body), &c), FEED_INVALID);
    assert_int_equal(c.added, 0);
    assert_int_equal(c.duplicates, 2);
    assert_int_equal(f->n_stored, 2); /* duplicates count as held by the list */
    /* an empty body reads nothing, and is no error by itself */
    memset(&c, 0, sizeof(c));
    assert_int_equal(feed_import_buffer(im, "empty", "", 0, &c), FEED_OK);
    assert_int_equal(c.objects, 0);
    feed_importer_free(im);
}

static void test_json_whatever_the_list_options(void **state)
{
    struct fx *f = *state;
    static const char bundle[] =
        "[{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
        "6f3e4c1a-2222-4222-8222-222222222222\",\"created\":\"2026-01-01T00:00:00.000Z\","
        "\"modified\":\"2026-01-01T00:00:00.000Z\",\"valid_from\":\"2026-01-01T00:00:00Z\","
        "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\",\"pattern_type\":\"stix\"}]";
    struct feed_importer *im = importer(f, true);
    struct feed_counts c = {0};

    /* a list importer still takes STIX through feed_import_stix (expiry) */
    assert_int_equal(feed_import_stix(im, "expired", bundle, strlen(bundle), &c), FEED_OK);
    assert_int_equal(c.added, 1);
    assert_string_equal(f->stored[0], "indicator--6f3e4c1a-2222-4222-8222-222222222222");
    feed_importer_free(im);
    /* garbage given as JSON: nothing read, the verdict says invalid (the
     * message is the one `meridian import` gives such a file) */
    im = importer(f, false);
    memset(&c, 0, sizeof(c));
    assert_int_equal(feed_import_buffer(im, "junk", "<html>", 6, &c), FEED_INVALID);
    assert_int_equal(c.objects, 0);
    assert_non_null(strstr(f->first_error, "junk: not JSON: json: "));
    assert_non_null(strstr(f->first_error, "(at byte 0)"));
    feed_importer_free(im);
    /* JSON, but a number */
    im = importer(f, false);
    f->errors = 0;
    assert_int_equal(feed_import_buffer(im, "num", "42", 2, &c), FEED_INVALID);
    assert_string_equal(f->first_error, "num: neither a bundle, an envelope, a list nor an object");
    feed_importer_free(im);
}

static void test_formats(void **state)
{
    enum feed_format fmt;

    (void)state;
    for (int i = 0; i < FEED_F_COUNT; i++) {
        assert_true(feed_format_parse(feed_format_name((enum feed_format)i), &fmt));
        assert_int_equal(fmt, i);
    }
    assert_false(feed_format_parse("rss", &fmt));
    assert_true(feed_format_is_list(FEED_F_MISP) && feed_format_is_list(FEED_F_CSV));
    assert_false(feed_format_is_list(FEED_F_STIX) || feed_format_is_list(FEED_F_TAXII));
    assert_string_equal(feed_result_name(FEED_R_TOO_BIG), "too_big");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_list_from_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_whatever_the_list_options, setup, teardown),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
