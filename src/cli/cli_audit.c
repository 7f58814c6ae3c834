/*
 * meridian audit: the node's audit trail (admin/admin.h): every
 * administrative change and preservation action, with its ledger leaf.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/json.h"
#include "core/timestamp.h"

struct list_opts {
    bool json;
};

/* One line per record: its summary fields, then the record itself
 * (canonical JSON: printable ASCII, control characters escaped). */
static enum mrd_code print_event(void *ctx, const struct admin_event *e, struct mrd_err *err)
{
    const struct list_opts *o = ctx;
    char ts[MRD_TIME_TAXII_LEN + 1], hex[65];

    (void)err;
    mrd_time_format_taxii(e->time_usec, ts);
    sodium_bin2hex(hex, sizeof(hex), e->hash, 32);
    if (o->json) {
        json_t *j = json_object();
        struct mrd_json_limits lim = {STORE_HOLD_RECORD_MAX, 32};
        json_t *rec = NULL;
        enum mrd_code rc;

        (void)mrd_json_parse(e->record, e->record_len, &lim, &rec, NULL);
        (void)json_object_set_new(j, "event", json_integer(e->ev));
        (void)json_object_set_new(j, "kind", json_string(e->kind));
        (void)json_object_set_new(j, "time", json_string(ts));
        (void)json_object_set_new(j, "leaf", e->leaf >= 0 ? json_integer(e->leaf) : json_null());
        (void)json_object_set_new(j, "record_sha256", json_string(hex));
        (void)json_object_set_new(j, "record_text", json_stringn(e->record, e->record_len));
        (void)json_object_set_new(j, "record", rec != NULL ? rec : json_null());
        rc = cli_print_json(j, JSON_COMPACT);
        json_decref(j);
        return rc;
    }
    /* the record is text from outside (names, URLs): escaped in full */
    if (e->leaf >= 0)
        printf("%lld\t%s\t%s\tleaf %lld\t", (long long)e->ev, ts, e->kind, (long long)e->leaf);
    else
        printf("%lld\t%s\t%s\tleaf -\t", (long long)e->ev, ts, e->kind);
    cli_print_escaped(e->record, e->record_len);
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_SINCE, O_JSON };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"since", required_argument, NULL, O_SINCE},
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *since_arg = NULL;
    int64_t since = STORE_TIME_NONE;
    struct list_opts o = {0};
    struct store *st = NULL;
    struct mrd_err err = {0};
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_SINCE)
            since_arg = optarg;
        else if (c == O_JSON)
            o.json = true;
        else
            return cli_usage_error(&cli_verb_audit, "unknown option");
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_audit, "unexpected argument '%s'", argv[optind]);
    if (since_arg != NULL) {
        struct mrd_time t;

        if (mrd_time_parse(since_arg, strlen(since_arg), &t, NULL) != MRD_OK)
            return cli_usage_error(&cli_verb_audit, "--since: '%s' is not a timestamp", since_arg);
        since = mrd_time_to_usec(&t);
    }
    data = cli_data_dir(data);
    ret = cli_data_open("audit", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    /* Leaf numbers for what is still queued, when no server runs. */
    cli_data_ledger_catch_up("audit", st, data);
    if (admin_audit_list(st, since, print_event, &o, &err) != MRD_OK) {
        cli_errorf("audit", "%s", err.msg[0] ? err.msg : "out of memory");
        ret = CLI_EXIT_USAGE;
    }
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_audit = {
    .name = "audit",
    .summary = "the audit trail: admin changes and preservation actions, with ledger leaves",
    .usage =
        "usage: meridian audit [--data DIR] [--since TIME] [--json]\n"
        "\n"
        "Lists every administrative change (org, token, grant, collection, peer,\n"
        "partner, feed) and preservation action (hold create, renew, release, evidence\n"
        "export) of the node, oldest first, each with the ledger leaf that records it.\n"
        "A record says who (the local user and uid, or the API token and its org), what,\n"
        "when, and the state before and after; never a token secret. The leaf's hash is\n"
        "the SHA-256 of the record's exact text, so its inclusion in the ledger is\n"
        "proved like any leaf's ('meridian ledger prove', GET /ledger/v1/proof/...).\n"
        "\n"
        "Lines: EVENT, TIME, KIND, leaf N (or '-' until the ledger records it), RECORD.\n"
        "  --since TIME  only records made at or after TIME (2026-12-01T00:00:00Z)\n"
        "  --json        one JSON object per line: event, kind, time, leaf,\n"
        "                record_sha256, record_text (exact) and record (parsed)\n" CLI_DATA_HELP
        "Exit status: 0 listed, 2 usage or data error.\n",
    .run = run,
};
