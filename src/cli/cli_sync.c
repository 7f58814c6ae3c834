/*
 * meridian sync: one federation round now, for every enabled peer (or
 * one), beside or without a running server. Prints one line per peer;
 * rejected objects (bad STIX, bad signature) are counted and the first
 * reason is shown, since they were never stored.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_fed.h"
#include "cli/verbs.h"
#include "core/log.h"
#include "core/str.h"
#include "fed/fed.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian sync [--data DIR] [--peer NAME] [--respect-backoff]\n"
    "\n"
    "Runs one federation round now: for each enabled peer (each on its own thread),\n"
    "pull new objects from its collection, then push new local objects it may read\n"
    "(docs/federation.md). Cursors are saved after every page, so an interrupted\n"
    "round resumes where it stopped.\n"
    "\n" CLI_DATA_HELP "  --peer NAME         only this peer\n"
    "  --respect-backoff   skip peers still backing off after failures (the server's\n"
    "                      behaviour); by default every enabled peer is tried now\n"
    "\n"
    "Output: one line per peer: pulled, duplicates, rejected (invalid STIX or\n"
    "signature), conflicts (copies not genuine here: 'meridian conflicts' lists them),\n"
    "unverified, pushed, refused by the peer, and the error if the round failed.\n"
    "\n"
    "Exit status: 0 every peer synced, 1 at least one peer failed, 2 usage or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_sync = {
    .name = "sync",
    .summary = "run one federation pull/push round now",
    .usage = usage,
    .run = run,
};

struct tally {
    unsigned peers, failed;
};

static void report(void *ctx, const struct fed_round_report *r)
{
    struct tally *t = ctx;

    t->peers++;
    if (!r->ok)
        t->failed++;
    printf("%s: %s pulled=%llu duplicates=%llu rejected=%llu conflicts=%llu unverified=%llu "
           "pushed=%llu refused=%llu pages=%llu ms=%.1f%s%s\n",
           MRD_ESC(r->peer), r->ok ? "ok" : "FAILED", (unsigned long long)r->pulled,
           (unsigned long long)r->duplicates, (unsigned long long)r->rejected,
           (unsigned long long)r->conflicts, (unsigned long long)r->unverified,
           (unsigned long long)r->pushed, (unsigned long long)r->push_failed,
           (unsigned long long)r->pages, (double)r->usec / 1000.0,
           r->ok ? "" : " error: ", r->ok ? "" : MRD_ESC(r->error)); /* a peer's answer: escaped */
    if (r->first_reject[0] != '\0')
        mrd_log(MRD_LOG_WARN, "sync %s: rejected %s", r->peer, r->first_reject);
    fflush(stdout);
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_PEER, O_BACKOFF };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"peer", required_argument, NULL, O_PEER},
        {"respect-backoff", no_argument, NULL, O_BACKOFF},
        {NULL, 0, NULL, 0},
    };
    struct fed_sync_opts so = {.ignore_backoff = true};
    const char *data = NULL;
    struct store *st = NULL;
    struct fed_trust *trust = NULL;
    struct tally t = {0};
    struct mrd_err err = {0};
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_PEER:
            so.only = optarg;
            break;
        case O_BACKOFF:
            so.ignore_backoff = false;
            break;
        default:
            return cli_usage_error(&cli_verb_sync, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_sync, "unexpected argument '%s'", argv[optind]);
    data = cli_data_dir(data);
    ret = cli_data_open("sync", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    ret = CLI_EXIT_USAGE;
    if (fed_global_init(&err) != MRD_OK || fed_trust_load(data, &trust, &err) != MRD_OK ||
        fed_sync_round(data, st, trust, &so, report, &t, &err) != MRD_OK) {
        cli_errorf("sync", "%s", err.msg);
        goto out;
    }
    if (so.only != NULL && t.peers == 0) {
        cli_errorf("sync", "no enabled peer named '%s'", so.only);
        goto out;
    }
    ret = t.failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    cli_data_ledger_catch_up("sync", st, data);
out:
    fed_trust_free(trust);
    store_close(st);
    fed_global_cleanup();
    return ret;
}

/* ---- the serve side (cli_fed.h) ---- */

struct cli_fed {
    struct fed_api api;
    struct fed_trust *trust;
    struct fed_runner *runner;
    bool global;
};

static void log_round(void *ctx, const struct fed_round_report *r)
{
    (void)ctx;
    if (r->ok)
        mrd_log(r->pulled + r->pushed + r->rejected > 0 ? MRD_LOG_INFO : MRD_LOG_DEBUG,
                "sync peer=%s ok pulled=%llu duplicates=%llu rejected=%llu conflicts=%llu "
                "unverified=%llu pushed=%llu refused=%llu ms=%.1f",
                r->peer, (unsigned long long)r->pulled, (unsigned long long)r->duplicates,
                (unsigned long long)r->rejected, (unsigned long long)r->conflicts,
                (unsigned long long)r->unverified, (unsigned long long)r->pushed,
                (unsigned long long)r->push_failed, (double)r->usec / 1000.0);
    else
        mrd_log(MRD_LOG_WARN, "sync peer=%s failed: %s", r->peer, r->error);
    if (r->first_reject[0] != '\0')
        mrd_log(MRD_LOG_WARN, "sync peer=%s rejected %s", r->peer, r->first_reject);
}

static enum mrd_code ingest_canon(void *ctx, const json_t *obj, bool local, enum policy_tlp dflt,
                                  struct mrd_buf *out, struct taxii_ingested *ret,
                                  char *ret_refusal, size_t size, struct mrd_err *err)
{
    const struct cli_fed *f = ctx;
    struct fed_ingest_result r;
    enum mrd_code rc;

    rc = fed_ingest_canon(f->trust, obj, local ? FED_ORIGIN_LOCAL : FED_ORIGIN_REMOTE, dflt, out,
                          &r, err);
    if (rc == MRD_OK && r.reject) {
        mrd_log(MRD_LOG_WARN, "ingest: %s", r.message);
        (void)snprintf(ret_refusal, size, "%s", r.message);
    }
    if (rc == MRD_OK) {
        ret->tlp = r.tlp;
        mrd_strlcpy(ret->signer, r.signer, sizeof(ret->signer));
    }
    return rc;
}

static bool ingest_trusted(void *ctx, const char *key, size_t len)
{
    const struct cli_fed *f = ctx;
    return fed_trust_knows(f->trust, key, len);
}

int cli_fed_new(const char *data_dir, struct taxii_ingest *ret_ingest, struct cli_fed **ret)
{
    struct cli_fed *f = calloc(1, sizeof(*f));
    struct mrd_err err = {0};

    if (f == NULL) {
        cli_errorf("serve", "out of memory");
        return CLI_EXIT_USAGE;
    }
    f->api.data_dir = data_dir;
    if (fed_global_init(&err) != MRD_OK || fed_trust_load(data_dir, &f->trust, &err) != MRD_OK) {
        cli_errorf("serve", "federation: %s", err.msg);
        fed_global_cleanup();
        free(f);
        return CLI_EXIT_USAGE;
    }
    f->global = true;
    ret_ingest->canon = ingest_canon;
    ret_ingest->trusted = ingest_trusted;
    ret_ingest->same_content = fed_same_content;
    ret_ingest->ctx = f;
    *ret = f;
    return CLI_EXIT_OK;
}

const struct fed_trust *cli_fed_trust(const struct cli_fed *f)
{
    return f != NULL ? f->trust : NULL;
}

int cli_fed_start(struct cli_fed *f, struct store *st, unsigned interval_ms,
                  struct api_router *router)
{
    struct mrd_err err = {0};

    f->api.st = st;
    f->api.trust = f->trust;
    if (fed_api_routes(&f->api, router, &err) != MRD_OK) {
        cli_errorf("serve", "federation: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (interval_ms > 0 && fed_runner_start(f->api.data_dir, st, f->trust, interval_ms, log_round,
                                            NULL, &f->runner, &err) != MRD_OK) {
        cli_errorf("serve", "federation: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    if (interval_ms > 0)
        mrd_log(MRD_LOG_INFO, "federation: syncing each peer every %u ms", interval_ms);
    return CLI_EXIT_OK;
}

const struct crypto_keyring *cli_fed_keyring(const struct cli_fed *f)
{
    return f != NULL && f->trust != NULL ? f->trust->keyring : NULL;
}

struct privacy_live *cli_fed_privacy(const struct cli_fed *f)
{
    return f != NULL && f->trust != NULL ? f->trust->privacy : NULL;
}

void cli_fed_stop(struct cli_fed *f)
{
    if (f == NULL)
        return;
    fed_runner_stop(f->runner);
    fed_trust_free(f->trust);
    if (f->global)
        fed_global_cleanup();
    free(f);
}
