/* Unit tests for match/ log readers: combined, Zeek, CSV, JSON lines,
 * format detection, timestamps, malformed and hostile lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/match.h"

#define MAXH 64

struct got {
    size_t n;
    uint64_t line[MAXH];
    uint32_t ind[MAXH];
    char field[MAXH][64];
    int64_t time[MAXH];
};

static bool on_hit(void *ctx, const struct match_hit *h)
{
    struct got *g = ctx;
    if (g->n < MAXH - 1) {
        g->line[g->n] = h->line;
        g->ind[g->n] = h->ind;
        snprintf(g->field[g->n], 64, "%s", h->field);
        g->time[g->n] = h->time_usec;
        g->n++;
    }
    return true;
}

/* indicators: 0 evil.com, 1 45.6.7.8, 2 10.1.0.0/16, 3 url, 4 2001:db8::1, 5 sha256,
 * 6 one known by its STIX id only */
static struct match_index *sample_index(void)
{
    static const struct {
        enum match_type t;
        const char *v;
    } inds[] = {
        {MATCH_T_DOMAIN, "evil.com"},
        {MATCH_T_IPV4, "45.6.7.8"},
        {MATCH_T_IPV4, "10.1.0.0/16"},
        {MATCH_T_URL, "http://bad.example/x?y=1"},
        {MATCH_T_IPV6, "2001:db8::1"},
        {MATCH_T_SHA256, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {MATCH_T_ID, "indicator--00000000-0000-4000-8000-000000000006"},
    };
    struct match_index *idx = NULL;
    struct mrd_err err = {0};

    assert_int_equal(match_index_new(&idx, &err), MRD_OK);
    for (uint32_t i = 0; i < sizeof(inds) / sizeof(inds[0]); i++)
        assert_int_equal(match_index_add(idx, inds[i].t, inds[i].v, strlen(inds[i].v), i, &err),
                         MRD_OK);
    assert_int_equal(match_index_build(idx, &err), MRD_OK);
    return idx;
}

static void scan(enum match_format fmt, const char *text, unsigned flags, struct got *g,
                 struct match_stats *st)
{
    struct match_index *idx = sample_index();
    struct match_reader r;

    match_reader_init(&r, fmt);
    memset(g, 0, sizeof(*g));
    memset(st, 0, sizeof(*st));
    assert_true(match_scan(idx, &r, text, strlen(text), flags, on_hit, g, st));
    match_index_free(idx);
}

static void test_combined(void **state)
{
    struct got g;
    struct match_stats st;
    const char *log =
        "45.6.7.8 - - [29/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n"
        "145.6.7.8 - - [29/Nov/2026:10:00:01 +0000] \"GET http://www.evil.com/ HTTP/1.1\" 200 "
        "1 \"http://notevil.com/\" \"ua\"\n"
        "10.1.2.3 - - [29/Nov/2026:10:00:02 +0100] \"GET HTTP://BAD.EXAMPLE:80/x?y=1 "
        "HTTP/1.1\" 200 1 \"http://evil.com.cdn.net/\" \"ua\"\n"
        "2001:DB8::1 - - [29/Nov/2026:10:00:03 +0000] \"CONNECT EVIL.COM.:443 HTTP/1.1\" 200 1 "
        "\"-\" \"-\"\n"
        "# a comment\n"
        "garbage without fields\n"
        "1.1.1.1 - - [29/Nov/2026:10:00:04 +0000] \"GET /x HTTP/1.1\" 200 1 "
        "\"https://a.evil.com/ref\" \"ua\"\r\n"
        "\n";

    (void)state;
    scan(MATCH_FMT_COMBINED, log, MATCH_F_SUBDOMAINS, &g, &st);
    assert_int_equal(st.lines, 8);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(st.header, 2); /* the comment and the blank line */
    assert_int_equal(g.n, 7);
    assert_int_equal(g.line[0], 0);
    assert_int_equal(g.ind[0], 1);
    assert_string_equal(g.field[0], "client");
    assert_int_equal(g.time[0], INT64_C(1795946400) * 1000000);
    assert_int_equal(g.line[1], 1); /* www.evil.com via the proxy request */
    assert_int_equal(g.ind[1], 0);
    assert_string_equal(g.field[1], "request");
    assert_int_equal(g.line[2], 2); /* 10.1.2.3 in 10.1.0.0/16 */
    assert_int_equal(g.ind[2], 2);
    assert_int_equal(g.time[2], (INT64_C(1795946400) + 2 - 3600) * 1000000);
    assert_int_equal(g.ind[3], 3); /* the normalised URL */
    assert_int_equal(g.line[4], 3);
    assert_int_equal(g.ind[4], 4);
    assert_int_equal(g.line[5], 3); /* CONNECT EVIL.COM.:443 */
    assert_int_equal(g.ind[5], 0);
    assert_int_equal(g.line[6], 6); /* referer host, CRLF line */
    assert_string_equal(g.field[6], "referer");

    /* without --subdomains: only exact names */
    scan(MATCH_FMT_COMBINED, log, 0, &g, &st);
    assert_int_equal(g.n, 5);
}

static void test_zeek_dns(void **state)
{
    struct got g;
    struct match_stats st;
    const char *log =
        "#separator \\x09\n"
        "#set_separator\t,\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\n"
        "1700000000.250000\tC1\t192.168.1.1\t5353\t192.168.0.53\t53\twww.evil.com\t1.2.3.4\n"
        "1700000001.000000\tC2\t192.168.1.1\t5353\t192.168.0.53\t53\tx.org\tcdn.x.net,"
        "a.evil.com,45.6.7.8\n"
        "1700000002.000000\tC3\t192.168.1.1\t5353\t192.168.0.53\t53\tnotevil.com\t(empty)\n"
        "1700000003.000000\tC4\t10.1.9.9\t5353\n"
        "1700000004.000000\tC5\t192.168.1.1\t5353\t192.168.0.53\t53\t-\t2001:db8:0::1\n"
        "#close\t2026-11-29-00-00-00\n";

    (void)state;
    scan(MATCH_FMT_ZEEK, log, MATCH_F_SUBDOMAINS, &g, &st);
    assert_int_equal(st.lines, 10);
    assert_int_equal(st.header, 5);
    assert_int_equal(st.malformed, 1); /* the short line */
    assert_int_equal(g.n, 4);
    assert_int_equal(g.line[0], 4);
    assert_string_equal(g.field[0], "query");
    assert_int_equal(g.time[0], INT64_C(1700000000250000));
    assert_int_equal(g.line[1], 5);
    assert_string_equal(g.field[1], "answers");
    assert_int_equal(g.ind[1], 0); /* CNAME in the answers */
    assert_int_equal(g.ind[2], 1); /* and the A record */
    assert_int_equal(g.line[3], 8);
    assert_int_equal(g.ind[3], 4);
}

static void test_csv(void **state)
{
    struct got g;
    struct match_stats st;
    struct match_index *idx = sample_index();
    struct match_reader r;
    struct mrd_err err = {0};
    const char *log = "# firewall export\n"
                      "Timestamp,Action,SRC,dst,Host,SHA256,comment\n"
                      "2026-11-29T10:00:00Z,allow,1.1.1.1,45.6.7.8,x.org,,\"a, b\"\n"
                      "2026-11-29T10:00:01Z,allow,1.1.1.1,8.8.8.8,\"WWW.EVIL.COM.\",,\n"
                      "2026-11-29T10:00:02Z,deny,1.1.1.1,8.8.8.8,y.org,"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,\n"
                      "too,few\n";

    (void)state;
    scan(MATCH_FMT_CSV, log, MATCH_F_SUBDOMAINS, &g, &st);
    assert_int_equal(st.header, 2);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.line[0], 2);
    assert_string_equal(g.field[0], "dst");
    assert_int_equal(g.line[1], 3);
    assert_string_equal(g.field[1], "Host");
    assert_int_equal(g.line[2], 4);
    assert_int_equal(g.ind[2], 5);
    assert_int_equal(g.time[2], INT64_C(1795946402) * 1000000);

    /* --map: the comment column holds hosts; dst ignored */
    match_reader_init(&r, MATCH_FMT_CSV);
    assert_int_equal(match_reader_map(&r, "comment=host", &err), MRD_OK);
    assert_int_equal(match_reader_map(&r, "dst=none", &err), MRD_OK);
    assert_int_equal(match_reader_map(&r, "x", &err), MRD_E_INVAL);
    assert_int_equal(match_reader_map(&r, "x=bogus", &err), MRD_E_INVAL);
    memset(&g, 0, sizeof(g));
    memset(&st, 0, sizeof(st));
    {
        const char *log2 = "src,dst,comment\n1.1.1.1,45.6.7.8,evil.com\n";
        match_scan(idx, &r, log2, strlen(log2), 0, on_hit, &g, &st);
    }
    assert_int_equal(g.n, 1);
    assert_string_equal(g.field[0], "comment");

    /* first and last columns, CRLF, one field too many, a quoted line */
    memset(&g, 0, sizeof(g));
    {
        const char *log3 = "dst,x,src\r\n"
                           "45.6.7.8,1,8.8.8.8\r\n"
                           "8.8.8.8,1,45.6.7.8\r\n"
                           "45.6.7.8,1,2,3\r\n"
                           "\"45.6.7.8\",\"1\",8.8.8.8\r\n"
                           "8.8.8.8,1,45.6.7.8";
        scan(MATCH_FMT_CSV, log3, 0, &g, &st);
    }
    assert_int_equal(st.malformed, 1);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.line[0], 1);
    assert_string_equal(g.field[0], "dst");
    assert_int_equal(g.line[1], 2);
    assert_string_equal(g.field[1], "src");
    assert_int_equal(g.line[2], 4);
    assert_int_equal(g.line[3], 5);
    match_index_free(idx);
}

/* Item: a hash column named file_sha256 and unnamed columns of addresses
 * and domains are scanned (by name pattern, by their values); columns of
 * other values, file names and ports are not. */
static void test_csv_columns_by_pattern_and_values(void **state)
{
    struct got g;
    struct match_stats st;
    struct match_reader r;
    struct match_index *idx = sample_index();
    const char *log =
        "event_time,file_sha256,peer,col x,fname,dport,note\n"
        "2026-11-29T10:00:00Z,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,"
        "45.6.7.8,evil.com,setup.exe,443,hello\n"
        "2026-11-29T10:00:01Z,,10.1.2.3,a.example.org,x.pdf,53,\n"
        "2026-11-29T10:00:02Z,,2001:db8::1,8.8.8.8,y.doc,80,evil.com\n";

    (void)state;
    assert_int_equal(match_column_obs("file_sha256", 11), MATCH_O_HASH);
    assert_int_equal(match_column_obs("SHA256Hash", 10), MATCH_O_HASH);
    assert_int_equal(match_column_obs("srcIP", 5), MATCH_O_IP);
    assert_int_equal(match_column_obs("src_ip_addr", 11), MATCH_O_IP);
    assert_int_equal(match_column_obs("email_address", 13), MATCH_O_EMAIL);
    assert_int_equal(match_column_obs("domain_name", 11), MATCH_O_HOST);
    assert_int_equal(match_column_obs("request_url", 11), MATCH_O_URL);
    assert_int_equal(match_column_obs("event_time", 10), MATCH_O_TIME);
    assert_int_equal(match_column_obs("src_port", 8), MATCH_O_NONE);
    assert_int_equal(match_column_obs("query_type", 10), MATCH_O_NONE);
    assert_int_equal(match_column_obs("url_length", 10), MATCH_O_NONE);
    assert_int_equal(match_column_obs("description", 11), MATCH_O_NONE);
    assert_int_equal(match_column_obs("user_name", 9), MATCH_O_NONE);

    match_reader_init(&r, MATCH_FMT_CSV);
    memset(&g, 0, sizeof(g));
    memset(&st, 0, sizeof(st));
    assert_true(match_scan(idx, &r, log, strlen(log), 0, on_hit, &g, &st));
    assert_int_equal(r.col_obs[1], MATCH_O_HASH);
    assert_int_equal(r.col_how[1], MATCH_COL_NAMED);
    assert_int_equal(r.col_obs[2], MATCH_O_IP);
    assert_int_equal(r.col_how[2], MATCH_COL_SNIFFED);
    assert_int_equal(r.col_obs[3], MATCH_O_HOST); /* domains and an address */
    assert_int_equal(r.col_how[3], MATCH_COL_SNIFFED);
    assert_int_equal(r.col_obs[4], MATCH_O_NONE); /* file names are not domains */
    assert_int_equal(r.col_obs[5], MATCH_O_NONE);
    assert_int_equal(r.col_obs[6], MATCH_O_NONE); /* "hello" is no host */
    assert_string_equal(match_reader_column(&r, 3), "col x");
    /* sha256 on line 1, 45.6.7.8 and evil.com on line 1, 10.1.2.3 (CIDR) on
     * line 2, 2001:db8::1 on line 3; note's evil.com is never looked up */
    assert_int_equal(g.n, 5);
    assert_string_equal(g.field[0], "file_sha256");
    assert_int_equal(g.ind[0], 5);
    assert_string_equal(g.field[1], "peer");
    assert_string_equal(g.field[2], "col x");
    assert_int_equal(g.line[3], 2);
    assert_int_equal(g.ind[3], 2);
    assert_int_equal(g.line[4], 3);
    assert_int_equal(g.ind[4], 4);

    /* decided once: a later buffer of other values changes nothing */
    memset(&g, 0, sizeof(g));
    {
        const char *more = "2026-11-29T10:00:03Z,,not-an-ip,evil.com,z.exe,1,\n";
        match_scan(idx, &r, more, strlen(more), 0, on_hit, &g, &st);
    }
    assert_int_equal(r.col_obs[2], MATCH_O_IP);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.field[0], "col x");
    match_index_free(idx);
}

static void test_jsonl(void **state)
{
    struct got g;
    struct match_stats st;
    const char *log =
        "{\"@timestamp\":\"2026-11-29T10:00:00.5Z\",\"source\":{\"ip\":\"45.6.7.8\"},"
        "\"destination.ip\":\"9.9.9.9\"}\n"
        "{\"dns\":{\"question\":{\"name\":\"www.evil.com\"},\"answers\":[{\"data\":\"1.1.1.1\"},"
        "{\"data\":\"10.1.4.4\"}]},\"n\":[1,2,{\"x\":null}],\"ok\":true}\n"
        "{\"url\":{\"full\":\"http:\\/\\/bad.example\\/x?y=1\"}}\n"
        "{\"file\":{\"hash\":{\"sha256\":"
        "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaa\"}}}\n"
        "{\"source\":{\"ip\":\"45.6.7.8\"},\n"
        "not json\n";

    (void)state;
    scan(MATCH_FMT_JSONL, log, MATCH_F_SUBDOMAINS, &g, &st);
    assert_int_equal(st.malformed, 2);
    assert_true(g.n >= 5);
    assert_int_equal(g.line[0], 0);
    assert_string_equal(g.field[0], "source.ip");
    assert_int_equal(g.time[0], INT64_C(1795946400) * 1000000 + 500000);
    assert_int_equal(g.line[1], 1);
    assert_string_equal(g.field[1], "dns.question.name");
    assert_string_equal(g.field[2], "dns.answers.data");
    assert_int_equal(g.ind[2], 2);
    assert_int_equal(g.line[3], 2);
    assert_int_equal(g.ind[3], 3); /* escaped URL, unescaped for lookup */
    assert_int_equal(g.line[4], 3);
    assert_int_equal(g.ind[4], 5);
}

static void test_detect_and_times(void **state)
{
    (void)state;
    assert_int_equal(match_format_detect("#separator \\x09\n", 16), MATCH_FMT_ZEEK);
    assert_int_equal(match_format_detect("{\"a\":1}\n", 8), MATCH_FMT_JSONL);
    assert_int_equal(match_format_detect("# c\na,b,c\n1,2,3\n", 16), MATCH_FMT_CSV);
    {
        const char *l = "1.2.3.4 - - [29/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n";
        assert_int_equal(match_format_detect(l, strlen(l)), MATCH_FMT_COMBINED);
    }
    assert_int_equal(match_format_detect("\x01\x02\x03", 3), MATCH_FMT_AUTO);
    assert_int_equal(match_time_parse("2026-11-29T10:00:00Z", 20), INT64_C(1795946400000000));
    assert_int_equal(match_time_parse("2026-11-29 12:00:00+02:00", 25), INT64_C(1795946400000000));
    assert_int_equal(match_time_parse("1700000000.5", 12), INT64_C(1700000000500000));
    assert_int_equal(match_time_parse("29/nov/2026:10:00:00 +0000", 26), INT64_C(1795946400000000));
    assert_int_equal(match_time_parse("yesterday", 9), INT64_MIN);
    assert_int_equal(match_time_parse("2026-13-29T10:00:00Z", 20), INT64_MIN);
    assert_int_equal(match_obs_parse("URL", 3, &(enum match_obs){0}), true);
}

static void test_hostile_lines(void **state)
{
    struct got g;
    struct match_stats st;
    size_t big = (size_t)1 << 20;
    char *buf = malloc(big * 3 + 256);
    size_t n = 0;
    struct match_index *idx = sample_index();
    struct match_reader r;

    (void)state;
    assert_non_null(buf);
    /* a 1 MB combined line with a hit at its end, a 1 MB CSV-less blob,
     * invalid UTF-8, NUL bytes and binary garbage */
    n += (size_t)snprintf(buf + n, 64, "45.6.7.8 - - [29/Nov/2026:10:00:00 +0000] \"GET /");
    memset(buf + n, 'a', big);
    n += big;
    n += (size_t)snprintf(buf + n, 128, " HTTP/1.1\" 200 1 \"http://evil.com/\" \"ua\"\n");
    memset(buf + n, '\xff', big);
    n += big;
    buf[n++] = '\n';
    {
        static const char line3[] = "\xc3\x28 - - [\x00\xfe] \"\x80 http://evil.com/ \"\n";
        memcpy(buf + n, line3, sizeof(line3) - 1);
        n += sizeof(line3) - 1;
    }
    for (int i = 0; i < 200; i++)
        buf[n++] = (char)(i * 37 + 11);
    match_reader_init(&r, MATCH_FMT_COMBINED);
    memset(&g, 0, sizeof(g));
    memset(&st, 0, sizeof(st));
    match_scan(idx, &r, buf, n, 0, on_hit, &g, &st);
    assert_int_equal(g.n, 3); /* client and referer of line 1, the request of line 3 */
    assert_int_equal(g.line[0], 0);
    assert_int_equal(g.line[2], 2);
    assert_true(st.malformed >= 1);
    /* JSON and CSV readers on the same bytes do not crash either */
    match_reader_init(&r, MATCH_FMT_JSONL);
    match_scan(idx, &r, buf, n, 0, on_hit, &g, &st);
    match_reader_init(&r, MATCH_FMT_CSV);
    match_scan(idx, &r, buf, n, 0, on_hit, &g, &st);
    match_reader_init(&r, MATCH_FMT_ZEEK);
    match_scan(idx, &r, buf, n, 0, on_hit, &g, &st);
    scan(MATCH_FMT_CSV, "\"unterminated,1.2.3.4\n", 0, &g, &st);
    free(buf);
    match_index_free(idx);
}

struct lines {
    size_t n;
    uint64_t line[8];
    size_t nf[8];
    char first[8][64];
};

/* Suricata EVE: an alert names its indicator in the rule metadata; other
 * records are looked up by value; flow records give their addresses. */
static void test_eve(void **state)
{
    struct match_stats st;
    struct got g;
    const char *text =
        "{\"timestamp\":\"2026-11-29T17:05:56.000000+0000\",\"event_type\":\"alert\","
        "\"src_ip\":\"45.6.7.8\",\"dest_ip\":\"1.1.1.1\",\"alert\":{\"signature_id\":1,"
        "\"metadata\":{\"stix_id\":[\"indicator--00000000-0000-4000-8000-000000000006\"]}}}\n"
        "{\"timestamp\":\"2026-11-29T17:05:57Z\",\"event_type\":\"dns\",\"src_ip\":\"45.6.7.8\","
        "\"dns\":{\"type\":\"query\",\"rrname\":\"a.EVIL.com\"}}\n"
        "{\"event_type\":\"http\",\"http\":{\"hostname\":\"bad.example\",\"url\":\"/x?y=1\"}}\n"
        "{\"event_type\":\"flow\",\"src_ip\":\"10.1.2.3\",\"dest_ip\":\"9.9.9.9\"}\n"
        "{\"event_type\":\"fileinfo\",\"fileinfo\":{\"sha256\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}\n"
        "{\"event_type\":\"stats\",\"src_ip\":\"45.6.7.8\"}\n";

    (void)state;
    assert_int_equal(match_format_detect(text, strlen(text)), MATCH_FMT_EVE);
    scan(MATCH_FMT_EVE, text, MATCH_F_SUBDOMAINS, &g, &st);
    assert_int_equal(g.n, 5);
    /* the alert: only the indicator its rule named, not the address in it */
    assert_int_equal(g.line[0], 0);
    assert_int_equal(g.ind[0], 6);
    assert_string_equal(g.field[0], "alert.metadata.stix_id");
    assert_int_equal(g.line[1], 1);
    assert_int_equal(g.ind[1], 0);
    assert_string_equal(g.field[1], "dns.rrname");
    /* http: hostname + url make the URL; the host alone is no indicator */
    assert_int_equal(g.line[2], 2);
    assert_int_equal(g.ind[2], 3);
    assert_int_equal(g.line[3], 3);
    assert_int_equal(g.ind[3], 2);
    assert_int_equal(g.line[4], 4);
    assert_int_equal(g.ind[4], 5);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(st.malformed, 0);
}

/* Zeek intel.log: the sources set names the indicator; without one, the
 * seen value is looked up as its Intel:: type says (URLs without scheme). */
static void test_zeek_intel(void **state)
{
    struct match_stats st;
    struct got g;
    const char *text =
        "#separator \\x09\n"
        "#path\tintel\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tseen.indicator\t"
        "seen.indicator_type\tseen.where\tseen.node\tmatched\tsources\n"
        "1780000000.000000\tC1\t45.6.7.8\t5353\t1.1.1.1\t53\tx.example\tIntel::DOMAIN\t"
        "DNS::IN_REQUEST\tz\tIntel::DOMAIN\tindicator--00000000-0000-4000-8000-000000000006\n"
        "1780000001.000000\tC2\t192.0.2.1\t5353\t1.1.1.1\t80\tbad.example/x?y=1\tIntel::URL\t"
        "HTTP::IN_URL\tz\tIntel::URL\tother-feed\n"
        "1780000002.000000\tC3\t192.0.2.1\t5353\t1.1.1.1\t53\tevil.com\tIntel::DOMAIN\t"
        "DNS::IN_REQUEST\tz\tIntel::DOMAIN\tother-feed\n";

    (void)state;
    scan(MATCH_FMT_ZEEK, text, 0, &g, &st);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.ind[0], 6); /* not 45.6.7.8, the connection's address */
    assert_string_equal(g.field[0], "sources");
    assert_int_equal(g.ind[1], 3);
    assert_int_equal(g.ind[2], 0);
    assert_int_equal(g.time[2], 1780000002000000LL);
}

static bool on_line(void *ctx, const struct match_hit *line, const struct match_field *f, size_t nf)
{
    struct lines *l = ctx;
    if (l->n < 8) {
        l->line[l->n] = line->line;
        l->nf[l->n] = nf;
        snprintf(l->first[l->n], 64, "%s=%.*s", f[0].field, (int)f[0].n, f[0].v);
        l->n++;
    }
    return true;
}

static void test_line_observer(void **state)
{
    /* every parsed line's fields reach the observer (for the pattern
     * evaluator); malformed lines and header lines do not */
    struct match_index *idx = sample_index();
    struct match_reader r;
    struct match_stats st;
    struct got g;
    struct lines l;
    const char *log = "src,dst,host\n"
                      "1.1.1.1,45.6.7.8,x.org\n"
                      "bad\n"
                      "2.2.2.2,-,y.org\n";

    (void)state;
    memset(&g, 0, sizeof(g));
    memset(&l, 0, sizeof(l));
    memset(&st, 0, sizeof(st));
    match_reader_init(&r, MATCH_FMT_CSV);
    assert_true(match_scan_ex(idx, &r, log, strlen(log), 0, on_hit, &g, on_line, &l, &st));
    assert_int_equal(g.n, 1);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.line[0], 1);
    assert_int_equal(l.nf[0], 3);
    assert_string_equal(l.first[0], "src=1.1.1.1");
    assert_int_equal(l.line[1], 3);
    assert_int_equal(l.nf[1], 2); /* '-' is no value */
    match_index_free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined),
        cmocka_unit_test(test_zeek_dns),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_columns_by_pattern_and_values),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_detect_and_times),
        cmocka_unit_test(test_hostile_lines),
        cmocka_unit_test(test_line_observer),
        cmocka_unit_test(test_eve),
        cmocka_unit_test(test_zeek_intel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
