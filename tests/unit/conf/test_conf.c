/* Unit tests for conf/ (conf.c over the serve key table in keys.c): values,
 * bounds, defaults, errors with line numbers, the usage text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"

static void test_defaults_and_values(void **state)
{
    struct conf c;
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(conf_init(&c, conf_serve_keys, CONF_SERVE__COUNT, &err), MRD_OK);
    assert_int_equal(conf_uint(&c, CONF_THREADS), 16);
    assert_false(conf_is_set(&c, CONF_THREADS));
    assert_string_equal(conf_addr_host(&c, CONF_LISTEN), "127.0.0.1");
    assert_int_equal(conf_addr_port(&c, CONF_LISTEN), 8443);
    assert_null(conf_addr_host(&c, CONF_METRICS_LISTEN));
    assert_null(conf_str(&c, CONF_DATA));
    assert_false(conf_bool(&c, CONF_HTTP));
    assert_int_equal(conf_set(&c, "threads", "4", "--threads", &err), MRD_OK);
    assert_int_equal(conf_set(&c, "http", "yes", "x:1", &err), MRD_OK);
    assert_int_equal(conf_set(&c, "listen", "[::1]:0", "x:2", &err), MRD_OK);
    assert_int_equal(conf_uint(&c, CONF_THREADS), 4);
    assert_true(conf_bool(&c, CONF_HTTP));
    assert_string_equal(conf_addr_host(&c, CONF_LISTEN), "::1");
    assert_int_equal(conf_addr_port(&c, CONF_LISTEN), 0);
    assert_string_equal(c.v[CONF_THREADS].origin, "--threads");
    /* a bad value leaves the old one */
    assert_int_equal(conf_set(&c, "threads", "0", "--threads", &err), MRD_E_INVAL);
    assert_string_equal(err.msg, "--threads: 0 is out of range (1..1024)");
    assert_int_equal(conf_uint(&c, CONF_THREADS), 4);
    conf_release(&c);
}

static void test_file_errors_name_their_lines(void **state)
{
    const char text[] = "# comment\n"
                        "threads = 2\n"
                        "rate = -1\n"
                        "nonsense\n"
                        "\n"
                        "; another comment\n"
                        "log-level = loud\n"
                        "unknown-key = 1\n"
                        "[serve]\n"
                        "listen = 10.0.0.1\n"
                        "[other]\n"
                        "rate = 5\n"
                        "rate = 6\n";
    struct conf c;
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(conf_init(&c, conf_serve_keys, CONF_SERVE__COUNT, &err), MRD_OK);
    assert_int_equal(conf_load_buf(&c, "f.conf", text, sizeof(text) - 1, &err), MRD_E_PARSE);
    assert_int_equal(c.nerrors, 6);
    assert_string_equal(c.errors[0], "f.conf:3: rate: '-1' is not a number");
    assert_string_equal(c.errors[1], "f.conf:4: expected 'name = value', '[serve]' or a comment");
    assert_string_equal(c.errors[2], "f.conf:7: log-level: 'loud' is not one of debug, info, "
                                     "warn, error");
    assert_string_equal(c.errors[3],
                        "f.conf:8: unknown setting 'unknown-key' (see 'meridian config keys')");
    assert_string_equal(c.errors[4], "f.conf:10: listen: '10.0.0.1' is not HOST:PORT (IPv6 as "
                                     "[ADDR]:PORT)");
    assert_string_equal(c.errors[5], "f.conf:12: section [other] is not known (only [serve])");
    assert_string_equal(err.msg, c.errors[0]);
    /* the valid lines were still taken */
    assert_int_equal(conf_uint(&c, CONF_THREADS), 2);
    assert_string_equal(c.v[CONF_THREADS].origin, "f.conf:2");
    conf_release(&c);
}

static void test_long_lines_and_nul_bytes(void **state)
{
    char text[CONF_MAX_LINE * 3];
    struct conf c;

    (void)state;
    memset(text, 'a', sizeof(text));
    memcpy(text, "data = ", 7);
    text[CONF_MAX_LINE * 2] = '\n';
    memcpy(text + CONF_MAX_LINE * 2 + 1, "threads = 3\nrate = 1\0\n", 22);
    assert_int_equal(conf_init(&c, conf_serve_keys, CONF_SERVE__COUNT, NULL), MRD_OK);
    assert_int_equal(conf_load_buf(&c, "l", text, CONF_MAX_LINE * 2 + 1 + 22, NULL), MRD_E_PARSE);
    assert_int_equal(c.nerrors, 2);
    assert_non_null(strstr(c.errors[0], "l:1: "));
    assert_non_null(strstr(c.errors[1], "l:3: NUL byte"));
    assert_int_equal(conf_uint(&c, CONF_THREADS), 3); /* line 2 counted right */
    conf_release(&c);
}

static void test_usage_lists_every_key_within_80_columns(void **state)
{
    struct mrd_buf b;
    const char *line;

    (void)state;
    mrd_buf_init(&b, (size_t)1 << 20);
    assert_int_equal(conf_usage(conf_serve_keys, CONF_SERVE__COUNT, &b, NULL), MRD_OK);
    assert_int_equal(mrd_buf_puts(&b, "", NULL), MRD_OK);
    for (size_t i = 0; i < CONF_SERVE__COUNT; i++) {
        char flag[64];
        (void)snprintf(flag, sizeof(flag), "\n  --%s", conf_serve_keys[i].name);
        assert_true(i == 0 ? strncmp(b.data, flag + 1, strlen(flag) - 1) == 0
                           : strstr(b.data, flag) != NULL);
    }
    for (line = b.data; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(nl - line <= 80);
        line = nl + 1;
    }
    assert_non_null(strstr(b.data, "(default 127.0.0.1:8443)"));
    mrd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_file_errors_name_their_lines),
        cmocka_unit_test(test_long_lines_and_nul_bytes),
        cmocka_unit_test(test_usage_lists_every_key_within_80_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
