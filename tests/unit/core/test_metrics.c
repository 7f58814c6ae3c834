/* Unit tests for core/metrics.c: counters, bounded labels, histogram,
 * exposition text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/metrics.h"

static char *render(struct mrd_buf *b)
{
    mrd_buf_init(b, (size_t)1 << 22);
    assert_int_equal(mrd_metrics_render(b, NULL), MRD_OK);
    assert_int_equal(mrd_buf_puts(b, "", NULL), MRD_OK);
    return b->data;
}

static void test_counters_by_label(void **state)
{
    struct mrd_buf b;
    char peer[16];

    (void)state;
    mrd_metrics_reset();
    mrd_metric_inc(MRD_M_AUTH_FAILURES, "revoked");
    mrd_metric_add(MRD_M_AUTH_FAILURES, "unknown", 3);
    mrd_metric_inc(MRD_M_AUTH_FAILURES, "revoked");
    /* the label is copied: the caller's buffer may change afterwards */
    (void)snprintf(peer, sizeof(peer), "peer-a");
    mrd_metric_inc(MRD_M_SYNC_ROUNDS, peer);
    (void)snprintf(peer, sizeof(peer), "peer-b");
    mrd_metric_inc(MRD_M_SYNC_ROUNDS, peer);
    mrd_metric_inc(MRD_M_LEDGER_CHECKPOINTS, NULL);
    assert_int_equal(mrd_metric_get(MRD_M_AUTH_FAILURES, "revoked"), 2);
    assert_int_equal(mrd_metric_get(MRD_M_AUTH_FAILURES, "unknown"), 3);
    assert_int_equal(mrd_metric_get(MRD_M_SYNC_ROUNDS, "peer-a"), 1);
    assert_int_equal(mrd_metric_get(MRD_M_SYNC_ROUNDS, "peer-b"), 1);
    render(&b);
    assert_non_null(strstr(b.data, "# TYPE meridian_auth_failures_total counter\n"));
    assert_non_null(strstr(b.data, "meridian_auth_failures_total{reason=\"revoked\"} 2\n"));
    assert_non_null(strstr(b.data, "meridian_sync_rounds_total{peer=\"peer-b\"} 1\n"));
    assert_non_null(strstr(b.data, "meridian_ledger_checkpoints_total 1\n"));
    /* a family never counted still declares itself with one series at 0 */
    assert_non_null(strstr(b.data, "meridian_sessions_started_total 0\n"));
    mrd_buf_release(&b);
}

static void test_label_values_are_bounded_and_escaped(void **state)
{
    struct mrd_buf b;
    char name[32];

    (void)state;
    mrd_metrics_reset();
    for (int i = 0; i < MRD_METRIC_MAX_LABELS + 10; i++) {
        (void)snprintf(name, sizeof(name), "feed-%d", i);
        mrd_metric_inc(MRD_M_FEED_FETCHES, name);
    }
    assert_int_equal(mrd_metric_get(MRD_M_FEED_FETCHES, "feed-0"), 1);
    assert_int_equal(mrd_metric_get(MRD_M_FEED_FETCHES, "feed-70"), 0); /* past the table */
    mrd_metric_inc(MRD_M_SYNC_ERRORS, "a\"b\\c\nd");
    render(&b);
    assert_non_null(strstr(b.data, "meridian_feed_fetches_total{feed=\"other\"} 10\n"));
    assert_null(strstr(b.data, "feed-70"));
    assert_non_null(strstr(b.data, "meridian_sync_errors_total{peer=\"a\\\"b\\\\c\\nd\"} 1\n"));
    mrd_buf_release(&b);
}

static void test_request_histogram_is_cumulative(void **state)
{
    struct mrd_buf b;
    const char *r = "/{api_root}/collections/{id}/objects/";

    (void)state;
    mrd_metrics_reset();
    mrd_metrics_request(r, 200, 500);      /* 0.5 ms */
    mrd_metrics_request(r, 200, 30000);    /* 30 ms */
    mrd_metrics_request(r, 404, 20000000); /* 20 s: only +Inf */
    mrd_metrics_request(NULL, 999, 1);
    render(&b);
    assert_non_null(strstr(b.data, "meridian_http_requests_total{route=\"/{api_root}/collections/"
                                   "{id}/objects/\",status=\"200\"} 2\n"));
    assert_non_null(strstr(b.data, "status=\"404\"} 1\n"));
    assert_non_null(strstr(b.data, "{route=\"other\",status=\"other\"} 1\n"));
    assert_non_null(strstr(b.data, "objects/\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(b.data, "objects/\",le=\"0.025\"} 1\n"));
    assert_non_null(strstr(b.data, "objects/\",le=\"0.05\"} 2\n"));
    assert_non_null(strstr(b.data, "objects/\",le=\"10\"} 2\n"));
    assert_non_null(strstr(b.data, "objects/\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(b.data, "meridian_http_request_duration_seconds_count{route=\"/{api_"
                                   "root}/collections/{id}/objects/\"} 3\n"));
    assert_non_null(strstr(b.data, "meridian_http_request_duration_seconds_sum{route=\"/{api_"
                                   "root}/collections/{id}/objects/\"} 20.0305\n"));
    mrd_buf_release(&b);
}

static void test_render_fails_cleanly_when_full(void **state)
{
    struct mrd_buf b;

    (void)state;
    mrd_buf_init(&b, 100);
    assert_int_equal(mrd_metrics_render(&b, NULL), MRD_E_TOOBIG);
    mrd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_by_label),
        cmocka_unit_test(test_label_values_are_bounded_and_escaped),
        cmocka_unit_test(test_request_histogram_is_cumulative),
        cmocka_unit_test(test_render_fails_cleanly_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
