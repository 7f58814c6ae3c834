/*
 * cli_erase.c: `meridian erase --value V | --object ID --reason R`
 * (docs/privacy.md, "Erasure"). Parses arguments, calls forget/
 * (forget.h), prints and picks the exit code.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_forget.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "forget/forget.h"

#define VERB "erase"

static void on_request(void *ctx, const struct forget_applied *a)
{
    int *refused = ctx;

    printf("%-8s  %s  from %s: %s; %zu version(s) erased, %zu held, %zu not the requester's\n",
           a->applied ? "applied" : "refused", MRD_ESC(a->request),
           a->source[0] ? MRD_ESC(a->source) : "-", MRD_ESC(a->message), a->r.erased, a->r.held,
           a->refused);
    *refused += !a->applied;
}

/* meridian erase --requests: applies the erasure requests received. */
static int apply_requests(const char *data)
{
    struct store *st = NULL;
    struct fed_trust *trust = NULL;
    struct mrd_err err = {0};
    size_t n = 0;
    int refused = 0, ret;

    data = cli_data_dir(data);
    if (fed_trust_load(data, &trust, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    ret = cli_data_open(VERB, data, &st);
    if (ret == CLI_EXIT_OK && forget_requests_apply(st, trust->keyring, mrd_time_now_usec(),
                                                    on_request, &refused, &n, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret == CLI_EXIT_OK) {
        cli_data_ledger_catch_up(VERB, st, data);
        fprintf(stderr, "meridian erase: %zu erasure request(s) received, %d refused\n", n,
                refused);
        ret = refused > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    store_close(st);
    fed_trust_free(trust);
    return ret;
}

static int run(int argc, char **argv)
{
    const char *data = NULL;
    struct fed_trust *trust = NULL;
    struct forget_publish pub = {0};
    bool local = false, requests = false;
    struct forget_erase_req req = {0};
    struct cli_forget_out o = {0};
    struct forget_result r = {0};
    struct store *st = NULL;
    struct mrd_err err = {0};
    enum mrd_code rc;
    int ret;

    for (int i = 1; i < argc; i++) {
        const char **slot = NULL;

        if (strcmp(argv[i], "--dry-run") == 0) {
            o.dry_run = true;
            continue;
        }
        if (strcmp(argv[i], "--local") == 0 || strcmp(argv[i], "--requests") == 0) {
            *(argv[i][2] == 'l' ? &local : &requests) = true;
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            if (o.all == NULL)
                o.all = json_array();
            continue;
        }
        if (strcmp(argv[i], "--data") == 0)
            slot = &data;
        else if (strcmp(argv[i], "--value") == 0)
            slot = &req.value;
        else if (strcmp(argv[i], "--object") == 0)
            slot = &req.object;
        else if (strcmp(argv[i], "--reason") == 0)
            slot = &req.reason;
        if (slot == NULL || i + 1 >= argc) {
            json_decref(o.all);
            return cli_usage_error(&cli_verb_erase, "unexpected argument '%s'", MRD_ESC(argv[i]));
        }
        *slot = argv[++i];
    }
    if (requests) {
        json_decref(o.all);
        if (req.value != NULL || req.object != NULL || req.reason != NULL || local || o.dry_run)
            return cli_usage_error(&cli_verb_erase, "--requests takes only --data");
        return apply_requests(data);
    }
    if ((req.value != NULL) == (req.object != NULL) || req.reason == NULL) {
        json_decref(o.all);
        return cli_usage_error(&cli_verb_erase,
                               "needs exactly one of --value V and --object ID, and --reason R");
    }
    data = cli_data_dir(data);
    if (!local && !o.dry_run) {
        if (fed_trust_load(data, &trust, &err) != MRD_OK) {
            cli_errorf(VERB, "%s", err.msg);
            json_decref(o.all);
            return CLI_EXIT_USAGE;
        }
        pub.trust = trust;
    }
    ret = cli_data_open(VERB, data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    rc = forget_erase(st, &req, mrd_time_now_usec(), o.dry_run, trust != NULL ? &pub : NULL,
                      cli_forget_item, &o, &r, &err);
    if (rc == MRD_E_INVAL) {
        ret = cli_usage_error(&cli_verb_erase, "%s", err.msg);
        goto out;
    }
    ret = cli_forget_done(VERB, rc, &err, st, data, &o, &r);
    if (ret == CLI_EXIT_OK && pub.published > 0)
        fprintf(stderr,
                "meridian erase: %zu signed erasure request(s) stored; they reach the peers "
                "that received the data at their next sync\n",
                pub.published);
    if (ret == CLI_EXIT_OK && r.held > 0)
        fprintf(stderr,
                "meridian erase: %zu version(s) kept: a legal hold preserves them; run erase "
                "again once it is released\n",
                r.held);
out:
    json_decref(o.all);
    store_close(st);
    fed_trust_free(trust);
    return ret;
}

const struct cli_verb cli_verb_erase = {
    .name = "erase",
    .summary = "erase personal data: the versions holding a value, or an object",
    .usage =
        "usage: meridian erase (--value V | --object ID) --reason R [--local] [--dry-run]\n"
        "                      [--json] [--data DIR]\n"
        "       meridian erase --requests [--data DIR]\n"
        "\n"
        "Erases personal data the node holds, on request (a data subject's, a\n"
        "partner's, a court's):\n"
        "\n"
        "  --value V    every stored version whose indexed values include V exactly:\n"
        "               an address, domain, URL or e-mail address object with that\n"
        "               value, an indicator whose pattern compares against it, a\n"
        "               URL whose host it is (the value index behind `meridian\n"
        "               search`; defanged forms are accepted)\n"
        "  --object ID  every version of that STIX id, in every collection\n"
        "  --reason R   why (required; at most 1024 bytes), kept in the ledger record\n"
        "  --local      erase here only: store no erasure request for the peers\n"
        "  --dry-run    list what would be erased; change nothing\n"
        "  --json       {matched, erased, held, dry_run, versions: [...]} on stdout\n" CLI_DATA_HELP
        "\n"
        "The erasure travels: unless --local, for each collection (and TLP level)\n"
        "the versions were erased from, a signed erasure request naming their ids\n"
        "(an x-meridian-erasure-request object, docs/privacy.md) is stored in that\n"
        "collection, so it reaches the peers that received the data through the\n"
        "ordinary pushes and pulls, like a revocation. The node needs its key\n"
        "(meridian key create).\n"
        "\n"
        "--requests applies the erasure requests this node received (serve does it\n"
        "every retention-interval): a request whose Meridian signature is valid and\n"
        "by a key this node trusts (a peer's --pubkey) erases, of each object it\n"
        "names, the versions that key signed or that came from the same peer as the\n"
        "request; anything else is kept. An unsigned or untrusted request is\n"
        "refused. One line each: applied|refused ID from PEER: what happened. Exit\n"
        "1 when one was refused.\n"
        "\n"
        "Each version is deleted from the store and from every index, as by\n"
        "`meridian retention run`; the erasure is recorded in the ledger (an\n"
        "\"erasure\" event naming the versions by SHA-256 and leaf, with the reason),\n"
        "whose leaves stay, so `meridian ledger verify` still verifies. A version\n"
        "under an active legal hold is not erased: it is listed as held and the\n"
        "summary says so.\n"
        "Lines: ACTION TYPE ID VERSION, ACTION erased, would-erase or held.\n"
        "\n"
        "Exit: 0 done, 1 nothing stored matches, 2 usage or I/O error.\n",
    .run = run,
};
