/*
 * cli_hold.c: `meridian hold ...`, preservation orders (legal holds), and
 * the case-based `meridian evidence export --case ID` (docs/ledger.md,
 * "Holds"). Parses arguments, calls hold/ (hold.h), prints and picks the
 * exit code; the selection, records and packages live in hold/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/cli_hold.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "hold/hold.h"
#include "ledger/checkpoint.h"
#include "ledger/evidence.h"
#include "ledger/ledger.h"
#include "ledger/sync.h"

#define VERB "hold"

/* The exit code of a hold/ failure: a malformed request is a usage error,
 * "not found" is the answer no (1) where nothing_is_1, else an error (2). */
static int fail(enum mrd_code rc, const struct mrd_err *err, bool nothing_is_1)
{
    if (rc == MRD_E_INVAL)
        return cli_usage_error(&cli_verb_hold, "%s", err->msg);
    cli_errorf(VERB, "%s", err->msg);
    if (rc == MRD_E_CONFLICT || (rc == MRD_E_NOTFOUND && nothing_is_1))
        return CLI_EXIT_FAIL;
    return CLI_EXIT_USAGE;
}

/* ---- hold create ---- */

struct create_opts {
    struct hold_request req;
    const char *collection;
    const char *objects[HOLD_OBJECTS_MAX];
};

static int parse_create(int argc, char **argv, const char **data, struct create_opts *o)
{
    static const char *const text_opts[] = {"case",     "authority",  "reason",    "offence",
                                            "relation", "location",   "necessity", "pattern",
                                            "query",    "collection", NULL};
    struct hold_request *r = &o->req;
    const char **slots[] = {&r->case_id,  &r->authority, &r->reason,  &r->offence, &r->relation,
                            &r->location, &r->necessity, &r->pattern, &r->query,   &o->collection};
    struct mrd_err err = {0};

    memset(o, 0, sizeof(*o));
    r->days = HOLD_DAYS_MAX;
    r->objects = o->objects;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t k;

        if (strcmp(a, "--mla") == 0) {
            r->mla = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc)
            return cli_usage_error(&cli_verb_hold, "create: unexpected argument '%s'", a);
        if (strcmp(a, "--data") == 0) {
            *data = argv[++i];
            continue;
        }
        if (strcmp(a, "--days") == 0) {
            if (hold_days_parse(argv[++i], &r->days, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_hold, "%s", err.msg);
            continue;
        }
        if (strcmp(a, "--object") == 0) {
            const char *id = argv[++i];
            bool dup = false;

            if (r->n_objects >= HOLD_OBJECTS_MAX)
                return cli_usage_error(&cli_verb_hold, "more than %d --object", HOLD_OBJECTS_MAX);
            for (size_t j = 0; j < r->n_objects && !dup; j++)
                dup = strcmp(o->objects[j], id) == 0;
            if (!dup)
                o->objects[r->n_objects++] = id;
            continue;
        }
        for (k = 0; text_opts[k] != NULL; k++)
            if (strcmp(a + 2, text_opts[k]) == 0)
                break;
        if (text_opts[k] == NULL)
            return cli_usage_error(&cli_verb_hold, "create: unknown option '%s'", a);
        if (*slots[k] != NULL)
            return cli_usage_error(&cli_verb_hold, "create: '%s' given twice", a);
        *slots[k] = argv[++i];
        if (hold_text_check(text_opts[k], *slots[k], &err) != MRD_OK)
            return cli_usage_error(&cli_verb_hold, "%s", err.msg);
    }
    if (r->case_id == NULL || r->authority == NULL || r->reason == NULL)
        return cli_usage_error(&cli_verb_hold, "create needs --case, --authority and --reason");
    if ((r->n_objects > 0) + (r->pattern != NULL) + (r->query != NULL) != 1)
        return cli_usage_error(&cli_verb_hold,
                               "create needs exactly one of --object ID..., --pattern P, "
                               "--query FILTERS");
    if (strlen(r->case_id) > STORE_CASE_MAX)
        return cli_usage_error(&cli_verb_hold, "--case is longer than %d bytes", STORE_CASE_MAX);
    return CLI_EXIT_OK;
}

static int cmd_create(int argc, char **argv)
{
    const char *data = NULL;
    struct create_opts o;
    struct store *st = NULL;
    struct store_collection coll;
    struct hold_created h;
    struct mrd_err err = {0};
    enum mrd_code rc;
    int ret;

    ret = parse_create(argc, argv, &data, &o);
    if (ret != CLI_EXIT_OK)
        return ret;
    data = cli_data_dir(data);
    ret = cli_data_open(VERB, data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    if (o.collection != NULL &&
        (ret = cli_data_collection(VERB, st, o.collection, &coll)) != CLI_EXIT_OK)
        goto out;
    o.req.collection = o.collection != NULL ? &coll : NULL;
    o.req.data_dir = data;
    rc = hold_create(st, &o.req, mrd_time_now_usec(), &h, &err);
    if (rc != MRD_OK) {
        ret = fail(rc, &err, true);
        goto out;
    }
    cli_data_ledger_catch_up(VERB, st, data);
    fprintf(stderr, "meridian hold: %s preserves %zu object version(s) of case '%s' until %s\n",
            h.id, h.items, MRD_ESC(o.req.case_id), h.expires);
    printf("%s\n", h.id);
out:
    store_close(st);
    return ret;
}

/* ---- renew, release, list, show ---- */

static int cmd_change(int argc, char **argv, bool renew)
{
    const char *data = NULL, *id = NULL, *why = NULL;
    unsigned days = HOLD_DAYS_MAX;
    struct store *st = NULL;
    char ts[MRD_TIME_TAXII_LEN + 1];
    struct mrd_err err = {0};
    enum mrd_code rc;
    int ret;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (renew && strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
            if (hold_days_parse(argv[++i], &days, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_hold, "%s", err.msg);
        } else if (!renew && strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
            why = argv[++i];
            if (hold_text_check("reason", why, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_hold, "%s", err.msg);
        } else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return cli_usage_error(&cli_verb_hold, "unexpected argument '%s'", argv[i]);
    }
    if (id == NULL)
        return cli_usage_error(&cli_verb_hold, "%s needs a hold id", renew ? "renew" : "release");
    data = cli_data_dir(data);
    ret = cli_data_open(VERB, data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (renew)
        rc = hold_renew(st, id, days, mrd_time_now_usec(), ts, &err);
    else
        rc = hold_release(st, id, why, mrd_time_now_usec(), &err);
    if (rc != MRD_OK) {
        /* an unknown hold id is a bad argument (2); a released hold, no (1) */
        ret = fail(rc, &err, false);
    } else {
        if (renew)
            fprintf(stderr, "meridian hold: %s renewed until %s\n", MRD_ESC(id), ts);
        else
            fprintf(stderr, "meridian hold: %s released; its objects may be deleted again\n",
                    MRD_ESC(id));
        cli_data_ledger_catch_up(VERB, st, data);
    }
    store_close(st);
    return ret;
}

static enum mrd_code list_cb(void *ctx, const struct hold_summary *s, struct mrd_err *err)
{
    size_t *shown = ctx;
    char ts[MRD_TIME_TAXII_LEN + 1];

    (void)err;
    if ((*shown)++ == 0)
        printf("%-36s  %-8s  %-27s  %7s  %s\n", "HOLD", "STATE", "EXPIRES", "OBJECTS", "CASE");
    mrd_time_format_taxii(s->h->expires_usec, ts);
    printf("%-36s  %-8s  %-27s  %7llu  %s (%s)\n", s->h->id, s->state, ts,
           (unsigned long long)s->h->n_items, MRD_ESC(s->h->case_id), MRD_ESC(s->authority));
    return MRD_OK;
}

static int cmd_list(int argc, char **argv)
{
    const char *data = NULL, *case_id = NULL;
    struct store *st = NULL;
    struct mrd_err err = {0};
    size_t shown = 0;
    bool all = false;
    int ret;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
            case_id = argv[++i];
        else if (strcmp(argv[i], "--all") == 0)
            all = true;
        else
            return cli_usage_error(&cli_verb_hold, "list: unexpected argument '%s'", argv[i]);
    }
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (hold_list(st, case_id, all, mrd_time_now_usec(), list_cb, &shown, &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else if (shown == 0) {
        fprintf(stderr, "meridian hold: no %sholds%s\n", all ? "" : "active ",
                case_id != NULL ? " for that case" : "");
    }
    store_close(st);
    return ret;
}

static int cmd_show(int argc, char **argv)
{
    const char *data = NULL, *id = NULL;
    struct store *st = NULL;
    struct mrd_err err = {0};
    json_t *rec = NULL;
    enum mrd_code rc;
    int ret;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (argv[i][0] != '-' && id == NULL)
            id = argv[i];
        else
            return cli_usage_error(&cli_verb_hold, "show: unexpected argument '%s'", argv[i]);
    }
    if (id == NULL)
        return cli_usage_error(&cli_verb_hold, "show needs a hold id");
    ret = cli_data_open(VERB, cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    rc = hold_show(st, id, mrd_time_now_usec(), &rec, &err);
    if (rc != MRD_OK) {
        ret = fail(rc, &err, false);
    } else {
        (void)cli_print_json(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
    }
    json_decref(rec);
    store_close(st);
    return ret;
}

/* ---- evidence export --case ---- */

static enum mrd_code count_cb(void *ctx, const struct hold_summary *s, struct mrd_err *err)
{
    (void)s;
    (void)err;
    ++*(size_t *)ctx;
    return MRD_OK;
}

/* Opens the ledger to prove from: for writing (synced, and then it keeps
 * the checkpoint we sign) when no server holds it, else read-only. */
static int open_for_export(struct store *st, const char *data, struct ledger **ret, bool *writable)
{
    char path[LEDGER_MAX_PATH];
    struct mrd_err err = {0};
    int r = cli_data_ledger("evidence", st, data, ret);

    if (r != CLI_EXIT_OK)
        return r;
    *writable = *ret != NULL;
    if (*ret != NULL)
        return CLI_EXIT_OK;
    (void)snprintf(path, sizeof(path), "%s/%s", data, LEDGER_DATA_SUBDIR);
    if (ledger_open(path, LEDGER_OPEN_READONLY, ret, NULL, &err) != MRD_OK) {
        cli_errorf("evidence", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_hold_export_case(const char *data, const char *case_id, const char *outp)
{
    struct store *st = NULL;
    struct ledger *log = NULL;
    struct ckpt_signer signer;
    struct hold_export x;
    struct mrd_buf pkg;
    struct mrd_err err = {0};
    bool writable = false;
    size_t active = 0;
    enum mrd_code rc;
    int ret, fd = -1;

    memset(&signer, 0, sizeof(signer));
    mrd_buf_init(&pkg, EVIDENCE_MAX_PACKAGE);
    data = cli_data_dir(data);
    ret = cli_data_open("evidence", data, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    /* Before the ledger is opened (which records what is pending). */
    if (hold_list(st, case_id, false, mrd_time_now_usec(), count_cb, &active, &err) != MRD_OK) {
        cli_errorf("evidence", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (active == 0) {
        cli_errorf("evidence", "case '%s' has no active hold (see 'meridian hold list --all')",
                   case_id);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    ret = cli_data_signer("evidence", st, data, &signer);
    if (ret == CLI_EXIT_OK)
        ret = open_for_export(st, data, &log, &writable);
    if (ret != CLI_EXIT_OK)
        goto out;
    rc =
        hold_export_build(st, log, writable, &signer, case_id, mrd_time_now_usec(), &pkg, &x, &err);
    if (rc != MRD_OK) {
        cli_errorf("evidence", "%s", err.msg);
        ret = rc == MRD_E_NOTFOUND ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
        goto out;
    }
    fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, pkg.data, pkg.len) != (ssize_t)pkg.len || fsync(fd) != 0) {
        cli_errorf("evidence", "%s: %s", outp, strerror(errno));
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    if (hold_export_record(st, case_id, (const uint8_t *)pkg.data, pkg.len, &x, mrd_time_now_usec(),
                           &err) != MRD_OK) {
        cli_errorf(VERB, "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    ledger_free(log);
    log = NULL;
    cli_data_ledger_catch_up("evidence", st, data);
    printf("%s: %zu objects of case '%s', proved into tree size %llu\n", MRD_ESC(outp), x.objects,
           MRD_ESC(case_id), (unsigned long long)x.tree_size);
out:
    if (fd >= 0)
        (void)close(fd);
    sodium_memzero(&signer, sizeof(signer));
    mrd_buf_release(&pkg);
    ledger_free(log);
    store_close(st);
    return ret;
}

/* ---- the verb ---- */

static int run(int argc, char **argv)
{
    if (sodium_init() < 0) {
        cli_errorf(VERB, "libsodium failed to initialise");
        return CLI_EXIT_USAGE;
    }
    if (argc < 2)
        return cli_usage_error(&cli_verb_hold, "needs a command");
    if (strcmp(argv[1], "create") == 0)
        return cmd_create(argc - 2, argv + 2);
    if (strcmp(argv[1], "renew") == 0)
        return cmd_change(argc - 2, argv + 2, true);
    if (strcmp(argv[1], "release") == 0)
        return cmd_change(argc - 2, argv + 2, false);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    if (strcmp(argv[1], "show") == 0)
        return cmd_show(argc - 2, argv + 2);
    return cli_usage_error(&cli_verb_hold, "unknown command '%s'", argv[1]);
}

const struct cli_verb cli_verb_hold = {
    .name = "hold",
    .summary = "legal holds: preserve objects for law enforcement",
    .usage = "usage: meridian hold create [--data DIR] --case ID --authority TEXT --reason TEXT\n"
             "                            (--object ID [--object ID...] | --pattern P |\n"
             "                             --query FILTERS) [--collection C] [--days N]\n"
             "                            [--offence TEXT] [--relation TEXT] [--location TEXT]\n"
             "                            [--necessity TEXT] [--mla]\n"
             "       meridian hold renew [--data DIR] HOLD [--days N]\n"
             "       meridian hold release [--data DIR] HOLD [--reason TEXT]\n"
             "       meridian hold list [--data DIR] [--case ID] [--all]\n"
             "       meridian hold show [--data DIR] HOLD\n"
             "\n"
             "A hold (an expedited preservation order, Budapest Convention articles 16\n"
             "and 29) freezes the object versions stored now that it selects: every\n"
             "version of each --object ID; for a STIX --pattern, the SCOs it matches\n"
             "(each SCO as an observation), the indicators whose pattern compares what\n"
             "it matches (the same value, or a CIDR range holding it), and the\n"
             "observed-data, sightings, relationships, reports, notes, groupings and\n"
             "opinions that refer to what is held; or the versions TAXII filters select\n"
             "(--query 'match[type]=indicator&added_after=2026-11-01T00:00:00Z', as the\n"
             "objects endpoint reads them). --collection limits the selection to one\n"
             "collection (its id or ROOT/ALIAS). A selection of nothing creates no hold.\n"
             "\n"
             "It lasts --days (1..90, default 90) and can be renewed for up to 90 days\n"
             "more each time. While active, its versions cannot be deleted (TAXII\n"
             "DELETE answers 403 naming the hold). The record keeps what an article 29\n"
             "request carries: requesting authority, reason, offence, how the data\n"
             "relates to it (--relation), where it is stored (--location; default: this\n"
             "node and data directory), necessity, and the intent to request mutual\n"
             "assistance (--mla). Every action is a ledger leaf.\n"
             "\n"
             "create prints the hold id. 'meridian evidence export --case ID -o FILE'\n"
             "packages the versions the case's active holds preserve.\n"
             "\n"
             "Exit status: 0 done, 1 nothing to hold / no such object, 2 usage or data\n"
             "error.\n",
    .run = run,
};
