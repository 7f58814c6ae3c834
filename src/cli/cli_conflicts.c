/*
 * meridian conflicts: the copies of object versions this node does not hold
 * as genuine (store.h, store_objects_insert; docs/federation.md, "Who may
 * version an object"): versions not signed by the key that signs the
 * object, different copies of a stored version, versions that break the
 * object's history (after its revocation, another created), and stored
 * copies a genuinely signed one outranked later. The listing and the JSON
 * come from the store; this file only formats them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/json.h"
#include "core/str.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian conflicts [--collection ID] [--json] [--show N] [--data DIR]\n"
    "\n"
    "Lists the copies of object versions this node does not hold as genuine\n"
    "(docs/federation.md, \"Who may version an object\"), oldest first:\n"
    "  other-signer  a version of a signed object not signed by the object's key\n"
    "                (STIX 2.1 §3.6: only the creator makes new versions)\n"
    "  other-copy    a copy of a stored version with other content (not only\n"
    "                other Meridian signature blocks)\n"
    "  other-creator a constituent's version of an object another org created here\n"
    "                (its versions would be signed with this node's key), or an\n"
    "                unsigned version of an unsigned object by another org (or peer)\n"
    "                than the one that stored it here first\n"
    "  history       a version after the object's revocation, a revocation older\n"
    "                than a stored version, or one with another 'created'\n"
    "                (STIX 2.1 §3.2, §3.6: revoking is final, created never changes)\n"
    "and what the node did with it:\n"
    "  rejected      refused; its bytes are kept for you (--show N)\n"
    "  writer-only   stored as the writer's own copy, read by nobody else\n"
    "  demoted       stored earlier; a copy signed by a key that outranks it\n"
    "                (trusted > unknown > unsigned) arrived and is current now\n"
    "Columns: N, time, collection, object id, version, what, action, the key of\n"
    "the copy kept ('unsigned' when none), the other copy's key, its writer org and\n"
    "the peer it came from ('-' when none).\n"
    "  --collection ID  only this collection (uuid or ROOT/ALIAS)\n"
    "  --json           {\"conflicts\": [...]} with the same fields\n"
    "  --show N         print the other copy of conflict N (its JSON) and nothing else\n"
    "  --data DIR       the data directory (default $MERIDIAN_DATA, else ./meridian-data)\n"
    "Exit status: 0 listed (also when there are none), 2 usage, no such conflict, or\n"
    "data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_conflicts = {
    .name = "conflicts",
    .summary = "list object copies this node does not hold as genuine",
    .usage = usage,
    .run = run,
};

struct lister {
    bool json, show;
    json_t *all;
    size_t n;
};

static const char *reason_name(enum store_conflict_reason r)
{
    return r == STORE_CONFLICT_SIGNER    ? "other-signer"
           : r == STORE_CONFLICT_HISTORY ? "history"
           : r == STORE_CONFLICT_CREATOR ? "other-creator"
                                         : "other-copy";
}

static const char *action_name(enum store_conflict_action a)
{
    switch (a) {
    case STORE_CONFLICT_REJECTED:
        return "rejected";
    case STORE_CONFLICT_WRITER_ONLY:
        return "writer-only";
    case STORE_CONFLICT_DEMOTED:
        return "demoted";
    }
    return "unknown";
}

static enum mrd_code one(void *ctx, const struct store_conflict *k, struct mrd_err *err)
{
    struct lister *l = ctx;
    char when[32], ver[32];

    l->n++;
    if (l->show) {
        /* outside bytes: printed as ASCII-only JSON, nothing raw */
        json_t *doc = NULL;
        enum mrd_code rc;
        if (k->body == NULL)
            return MRD_OK;
        if (mrd_json_parse(k->body, k->body_len, NULL, &doc, err) != MRD_OK)
            return err->code;
        rc = cli_print_json(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        json_decref(doc);
        return rc == MRD_OK ? MRD_OK : mrd_err_set(err, rc, "conflicts: out of memory");
    }
    cli_data_time(k->time_usec, when);
    cli_data_time(k->version_usec, ver);
    if (l->json) {
        json_t *o = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:I, s:s?}, s:{s:I, s:s?, s:s?, s:s?}}", "n",
            (json_int_t)k->id, "time", when, "collection", k->collection_id, "object_id",
            k->stix_id, "version", ver, "reason", reason_name(k->reason), "action",
            action_name(k->action), "kept", "seq", (json_int_t)k->kept_seq, "signer",
            k->kept_signer, "other", "seq", (json_int_t)k->other_seq, "signer", k->other_signer,
            "org", k->other_org_name, "source_peer", k->other_peer);
        if (o == NULL || json_array_append_new(l->all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "conflicts: out of memory");
        return MRD_OK;
    }
    /* ids, keys and names came from outside (checked, but printed escaped) */
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)k->id, when,
           MRD_ESC(k->collection_id), MRD_ESC(k->stix_id), ver, reason_name(k->reason),
           action_name(k->action), k->kept_signer != NULL ? MRD_ESC(k->kept_signer) : "unsigned",
           k->other_signer != NULL ? MRD_ESC(k->other_signer) : "unsigned",
           k->other_org_name != NULL ? MRD_ESC(k->other_org_name) : "-",
           k->other_peer != NULL ? MRD_ESC(k->other_peer) : "-");
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_COLL, O_JSON, O_SHOW };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"collection", required_argument, NULL, O_COLL},
        {"json", no_argument, NULL, O_JSON},
        {"show", required_argument, NULL, O_SHOW},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll_arg = NULL;
    struct lister l = {0};
    struct store *st = NULL;
    struct store_collection coll = {0};
    struct mrd_err err = {0};
    long long show = 0;
    char *end = NULL;
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_COLL:
            coll_arg = optarg;
            break;
        case O_JSON:
            l.json = true;
            break;
        case O_SHOW:
            show = strtoll(optarg, &end, 10);
            if (end == optarg || *end != '\0' || show <= 0)
                return cli_usage_error(&cli_verb_conflicts, "--show: expected a number N > 0");
            l.show = true;
            break;
        default:
            return cli_usage_error(&cli_verb_conflicts, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_conflicts, "unexpected argument '%s'", argv[optind]);
    ret = cli_data_open("conflicts", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (coll_arg != NULL)
        ret = cli_data_collection("conflicts", st, coll_arg, &coll);
    if (ret == CLI_EXIT_OK && l.json && (l.all = json_array()) == NULL)
        ret = CLI_EXIT_USAGE;
    if (ret == CLI_EXIT_OK &&
        store_conflict_list(st, coll.key, (int64_t)show, one, &l, &err) != MRD_OK) {
        cli_errorf("conflicts", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret == CLI_EXIT_OK && l.show && l.n == 0) {
        cli_errorf("conflicts", "no conflict %lld", show);
        ret = CLI_EXIT_USAGE;
    }
    if (ret == CLI_EXIT_OK && l.json) {
        json_t *doc = json_pack("{s:O}", "conflicts", l.all);
        if (doc == NULL || cli_print_json(doc, JSON_INDENT(2)) != MRD_OK)
            ret = CLI_EXIT_USAGE;
        json_decref(doc);
    }
    json_decref(l.all);
    store_close(st);
    return ret;
}
