/* notify: delivery's pure parts (deliver.h). Schedules as operators write
 * them and when a digest falls due; e-mail addresses that could smuggle a
 * header (CR, LF) or a second recipient; the SMTP reply parser on what
 * relays send (multi-line EHLO, keywords, partial reads, bad codes, limits);
 * the webhook signature against an HMAC computed independently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "notify/deliver.h"

static void test_schedules(void **state)
{
    struct mrd_err err = {0};
    const int64_t hour = (int64_t)3600 * 1000000, day = 24 * hour;

    (void)state;
    assert_int_equal(notify_schedule_check("immediate", &err), MRD_OK);
    assert_int_equal(notify_schedule_check("daily,sighting=immediate,indicator=hourly", &err),
                     MRD_OK);
    mrd_err_clear(&err);
    assert_int_equal(notify_schedule_check("weekly", &err), MRD_E_INVAL);
    assert_non_null(strstr(err.msg, "'weekly'"));
    assert_int_equal(notify_schedule_check("", &err), MRD_E_INVAL);
    assert_int_equal(notify_schedule_check("=daily", &err), MRD_E_INVAL);
    assert_int_equal(notify_schedule_check("Sighting=daily", &err), MRD_E_INVAL);
    assert_int_equal(notify_schedule_check("daily,,hourly", &err), MRD_E_INVAL);
    assert_int_equal(notify_schedule_for("daily,sighting=immediate", "sighting"),
                     NOTIFY_S_IMMEDIATE);
    assert_int_equal(notify_schedule_for("daily,sighting=immediate", "indicator"), NOTIFY_S_DAILY);
    assert_int_equal(notify_schedule_for("sighting=hourly", "indicator"), NOTIFY_S_IMMEDIATE);
    assert_int_equal(notify_schedule_for("sighting=hourly", "sighting"), NOTIFY_S_HOURLY);
    /* due: now, the next full hour, the next midnight (UTC) */
    assert_int_equal(notify_schedule_due(NOTIFY_S_IMMEDIATE, 5 * day + 7), 5 * day + 7);
    assert_int_equal(notify_schedule_due(NOTIFY_S_HOURLY, 5 * day + 3 * hour + 7),
                     5 * day + 4 * hour);
    assert_int_equal(notify_schedule_due(NOTIFY_S_HOURLY, 5 * day + 3 * hour), 5 * day + 4 * hour);
    assert_int_equal(notify_schedule_due(NOTIFY_S_DAILY, 5 * day + 3 * hour), 6 * day);
}

static void test_addresses(void **state)
{
    struct mrd_err err = {0};

    (void)state;
    assert_int_equal(notify_email_check("soc@cert.example", &err), MRD_OK);
    assert_int_equal(notify_email_check("first.last+tag@sub.cert.example", &err), MRD_OK);
    mrd_err_clear(&err);
    assert_int_equal(notify_email_check("a@b.example\r\nBcc: x@evil.example", &err), MRD_E_INVAL);
    assert_null(strchr(err.msg, '\r'));
    assert_int_equal(notify_email_check("a@b.example\nRCPT TO:<x@evil.example>", &err),
                     MRD_E_INVAL);
    assert_int_equal(notify_email_check("a@b.example>, <x@evil.example", &err), MRD_E_INVAL);
    assert_int_equal(notify_email_check("a@b@c.example", &err), MRD_E_INVAL);
    assert_int_equal(notify_email_check("@cert.example", &err), MRD_E_INVAL);
    assert_int_equal(notify_email_check("soc@localhost", &err), MRD_E_INVAL);
    assert_int_equal(notify_email_check("", &err), MRD_E_INVAL);
}

static void test_smtp_replies(void **state)
{
    static const char ehlo[] = "250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
                               "250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n220 next";
    struct notify_smtp_reply r;
    struct mrd_err err = {0};
    char big[NOTIFY_SMTP_LINE_MAX + 10];
    size_t used = 0;

    (void)state;
    assert_int_equal(notify_smtp_reply_parse(ehlo, strlen(ehlo), &r, &used, &err), MRD_OK);
    assert_int_equal(used, strlen(ehlo) - strlen("220 next"));
    assert_int_equal(r.code, 250);
    assert_true(r.starttls && r.auth_plain && r.auth_login);
    assert_string_equal(r.text, "mx.example\nPIPELINING\nSTARTTLS\nAUTH LOGIN PLAIN\n8BITMIME");
    /* a reply split across reads: nothing taken until its last line */
    assert_int_equal(notify_smtp_reply_parse(ehlo, 30, &r, &used, &err), MRD_OK);
    assert_int_equal(used, 0);
    assert_int_equal(notify_smtp_reply_parse("220 ready\r\n", 11, &r, &used, &err), MRD_OK);
    assert_int_equal(used, 11);
    assert_false(r.starttls);
    /* control characters in the text (it reaches messages) become '?' */
    assert_int_equal(notify_smtp_reply_parse("550 no\r\x1b[31m\r\n", 14, &r, &used, &err), MRD_OK);
    assert_string_equal(r.text, "no??[31m");
    assert_int_equal(notify_smtp_reply_parse("354\r\n", 5, &r, &used, &err), MRD_OK);
    assert_int_equal(r.code, 354);
    assert_string_equal(r.text, "");
    /* not replies */
    mrd_err_clear(&err);
    assert_int_equal(notify_smtp_reply_parse("HTTP/1.1 200 OK\r\n", 17, &r, &used, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "line 1"));
    mrd_err_clear(&err);
    assert_int_equal(notify_smtp_reply_parse("250-a\r\n451 b\r\n", 14, &r, &used, &err),
                     MRD_E_PARSE);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(notify_smtp_reply_parse("999 x\r\n", 7, &r, &used, &err), MRD_E_PARSE);
    assert_int_equal(notify_smtp_reply_parse("250x\r\n", 6, &r, &used, &err), MRD_E_PARSE);
    /* limits: a line without an end past the line limit */
    memset(big, 'a', sizeof(big));
    memcpy(big, "250 ", 4);
    assert_int_equal(notify_smtp_reply_parse(big, sizeof(big), &r, &used, &err), MRD_E_TOOBIG);
}

static void test_webhook_signature(void **state)
{
    static const char body[] = "{\"delivery\":1}";
    char sig[7 + 64 + 1], hex[65];
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state s;

    (void)state;
    notify_webhook_sign("k3y", "1700000000", body, strlen(body), sig);
    crypto_auth_hmacsha256_init(&s, (const unsigned char *)"k3y", 3);
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)"1700000000.{\"delivery\":1}",
                                  strlen("1700000000.{\"delivery\":1}"));
    crypto_auth_hmacsha256_final(&s, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    assert_memory_equal(sig, "sha256=", 7);
    assert_string_equal(sig + 7, hex);
    /* the timestamp is under the MAC */
    notify_webhook_sign("k3y", "1700000001", body, strlen(body), sig);
    assert_string_not_equal(sig + 7, hex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_smtp_replies),
        cmocka_unit_test(test_webhook_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
