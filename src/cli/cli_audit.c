/*
 * meridian audit: the node's audit trail (admin/admin.h): every
 * administrative change and preservation action, with its ledger leaf;
 * and the access audit of sensitive reads (audit/audit.h): `audit reads`,
 * `seal`, `verify`, `prune`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "admin/admin.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "conf/conf.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "policy/policy.h"

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

/* An RFC 3339 option's value into *ret (unchanged when arg is NULL);
 * false after printing the usage error. */
static bool time_opt(const char *name, const char *arg, int64_t *ret)
{
    struct mrd_time t;

    if (arg == NULL)
        return true;
    if (mrd_time_parse(arg, strlen(arg), &t, NULL) != MRD_OK) {
        (void)cli_usage_error(&cli_verb_audit, "%s: '%s' is not a timestamp", name, MRD_ESC(arg));
        return false;
    }
    *ret = mrd_time_to_usec(&t);
    return true;
}

/* ---- the access audit ---- */

struct reads_opts {
    bool json;
    const char *path; /* --path: only the rows of that path; NULL: all */
    uint64_t n;       /* rows seen (printed or not) */
    int64_t last;
};

static enum mrd_code print_read(void *ctx, const struct store_read_row *r, struct mrd_err *err)
{
    struct reads_opts *o = ctx;
    char ts[MRD_TIME_TAXII_LEN + 1], ver[MRD_TIME_TAXII_LEN + 1];

    (void)err;
    o->n++;
    o->last = r->id;
    if (o->path != NULL && (r->path == NULL || strcmp(r->path, o->path) != 0))
        return MRD_OK;
    mrd_time_format_taxii(r->time_usec, ts);
    mrd_time_format_taxii(r->version_usec, ver);
    if (o->json) {
        json_t *j = json_pack("{s:I,s:s,s:s%,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)r->id, "time",
                              ts, "object", r->object_id, r->object_id_len, "version", ver, "tlp",
                              policy_tlp_name((enum policy_tlp)r->tlp), "org", r->org, "token",
                              r->token, "path", r->path);
        enum mrd_code rc;
        if (j == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        rc = cli_print_json(j, JSON_COMPACT);
        json_decref(j);
        return rc;
    }
    /* ids, names and paths were checked when written; escaped all the same */
    printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)r->id, ts,
           MRD_ESCN(r->object_id, r->object_id_len), ver, policy_tlp_name((enum policy_tlp)r->tlp),
           MRD_ESC(r->org), MRD_ESC(r->token), MRD_ESC(r->path));
    return MRD_OK;
}

static int run_reads(int argc, char **argv)
{
    enum { O_DATA = 1, O_OBJECT, O_ORG, O_SINCE, O_JSON, O_PATH };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"object", required_argument, NULL, O_OBJECT},
        {"org", required_argument, NULL, O_ORG},
        {"since", required_argument, NULL, O_SINCE},
        {"json", no_argument, NULL, O_JSON},
        {"path", required_argument, NULL, O_PATH},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *since_arg = NULL;
    struct store_read_filter f = {.since_usec = STORE_TIME_NONE, .limit = STORE_READS_LIST_MAX};
    struct reads_opts o = {0};
    struct store *st = NULL;
    struct mrd_err err = {0};
    bool more = true;
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_OBJECT)
            f.object_id = optarg;
        else if (c == O_ORG)
            f.org = optarg;
        else if (c == O_SINCE)
            since_arg = optarg;
        else if (c == O_JSON)
            o.json = true;
        else if (c == O_PATH)
            o.path = optarg;
        else
            return cli_usage_error(&cli_verb_audit, "unknown option");
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_audit, "unexpected argument '%s'", argv[optind]);
    if (o.path != NULL && !audit_path_known(o.path))
        return cli_usage_error(&cli_verb_audit,
                               "--path: '%s' is not taxii, export, feed, console, search, "
                               "sync-pull, sync-push or private",
                               MRD_ESC(o.path));
    if (f.object_id != NULL && strlen(f.object_id) > STORE_STIX_ID_MAX)
        return cli_usage_error(&cli_verb_audit, "--object: over %d bytes", STORE_STIX_ID_MAX);
    if (f.org != NULL && strlen(f.org) > STORE_NAME_MAX)
        return cli_usage_error(&cli_verb_audit, "--org: over %d bytes", STORE_NAME_MAX);
    if (!time_opt("--since", since_arg, &f.since_usec))
        return CLI_EXIT_USAGE;
    ret = cli_data_open("audit", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    while (more) {
        uint64_t before = o.n;
        f.after_id = o.last;
        if (store_reads_list(st, &f, print_read, &o, &more, &err) != MRD_OK) {
            cli_errorf("audit", "%s", err.msg[0] ? err.msg : "out of memory");
            ret = CLI_EXIT_USAGE;
            break;
        }
        if (o.n == before)
            break;
    }
    store_close(st);
    return ret;
}

/* --data only: seal and verify */
static int data_only(int argc, char **argv, const char **ret_data, bool *ret_json)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            *ret_data = optarg;
        else if (c == 'j' && ret_json != NULL)
            *ret_json = true;
        else
            return cli_usage_error(&cli_verb_audit, "unknown option");
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_audit, "unexpected argument '%s'", MRD_ESC(argv[optind]));
    return CLI_EXIT_OK;
}

static int run_seal(int argc, char **argv)
{
    const char *data = NULL;
    struct audit_seal_report rep;
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret = data_only(argc, argv, &data, NULL);

    if (ret != CLI_EXIT_OK)
        return ret;
    data = cli_data_dir(data);
    ret = cli_data_open("audit", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (audit_seal(st, INT64_MAX, &rep, &err) != MRD_OK) {
        cli_errorf("audit", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        printf("sealed %llu read%s in %u digest%s\n", (unsigned long long)rep.rows,
               rep.rows == 1 ? "" : "s", rep.digests, rep.digests == 1 ? "" : "s");
        /* the digests' leaves now, when no server runs */
        cli_data_ledger_catch_up("audit", st, data);
    }
    store_close(st);
    return ret;
}

struct verify_print {
    bool json;
};

static void print_verified(void *ctx, const struct audit_verify_item *it)
{
    const struct verify_print *p = ctx;
    const struct store_read_digest *d = it->d;
    const char *status = it->pruned ? "pruned" : it->ok ? "ok" : "TAMPERED";
    char from[MRD_TIME_TAXII_LEN + 1], to[MRD_TIME_TAXII_LEN + 1], hex[65];

    mrd_time_format_taxii(d->from_usec, from);
    mrd_time_format_taxii(d->to_usec, to);
    sodium_bin2hex(hex, sizeof(hex), d->hash, sizeof(d->hash));
    if (p->json) {
        json_t *j =
            json_pack("{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:s,s:s*}", "digest", (json_int_t)d->id,
                      "first", (json_int_t)d->first, "last", (json_int_t)d->last, "count",
                      (json_int_t)d->count, "from", from, "to", to, "sha256", hex, "leaf",
                      d->leaf >= 0 ? json_integer(d->leaf) : json_null(), "status", status, "why",
                      it->ok ? NULL : it->why);
        if (j != NULL)
            (void)cli_print_json(j, JSON_COMPACT);
        json_decref(j);
        return;
    }
    if (d->leaf >= 0)
        printf("digest %lld\trows %lld-%lld\t%llu\t%s\t%s\tleaf %lld\t%s%s%s\n", (long long)d->id,
               (long long)d->first, (long long)d->last, (unsigned long long)d->count, from, to,
               (long long)d->leaf, status, it->ok ? "" : ": ", it->ok ? "" : it->why);
    else
        printf("digest %lld\trows %lld-%lld\t%llu\t%s\t%s\tleaf -\t%s%s%s\n", (long long)d->id,
               (long long)d->first, (long long)d->last, (unsigned long long)d->count, from, to,
               status, it->ok ? "" : ": ", it->ok ? "" : it->why);
}

static int run_verify(int argc, char **argv)
{
    const char *data = NULL;
    struct verify_print p = {0};
    struct audit_verify_report rep;
    struct store *st = NULL;
    struct mrd_err err = {0};
    int ret = data_only(argc, argv, &data, &p.json);

    if (ret != CLI_EXIT_OK)
        return ret;
    data = cli_data_dir(data);
    ret = cli_data_open("audit", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    cli_data_ledger_catch_up("audit", st, data);
    if (audit_verify(st, print_verified, &p, &rep, &err) != MRD_OK) {
        cli_errorf("audit", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        fprintf(stderr,
                "meridian audit: %llu digest%s: %llu ok, %llu tampered, %llu pruned; %llu not in "
                "the ledger yet; %llu read%s not sealed yet\n",
                (unsigned long long)rep.digests, rep.digests == 1 ? "" : "s",
                (unsigned long long)rep.ok, (unsigned long long)rep.bad,
                (unsigned long long)rep.pruned, (unsigned long long)rep.pending_leaf,
                (unsigned long long)rep.unsealed, rep.unsealed == 1 ? "" : "s");
        ret = rep.bad > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    store_close(st);
    return ret;
}

static int run_prune(int argc, char **argv)
{
    enum { O_DATA = 1, O_DAYS, O_CONFIG, O_NOW };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"days", required_argument, NULL, O_DAYS},
        {"config", required_argument, NULL, O_CONFIG},
        {"now", required_argument, NULL, O_NOW},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *config = NULL, *days_arg = NULL;
    int64_t now = mrd_time_now_usec();
    uint64_t days = 0, pruned = 0;
    struct store *st = NULL;
    struct mrd_err err = {0};
    struct conf cf;
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA) {
            data = optarg;
        } else if (c == O_DAYS) {
            days_arg = optarg;
        } else if (c == O_CONFIG) {
            config = optarg;
        } else if (c == O_NOW) {
            if (!time_opt("--now", optarg, &now))
                return CLI_EXIT_USAGE;
        } else {
            return cli_usage_error(&cli_verb_audit, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_audit, "unexpected argument '%s'", MRD_ESC(argv[optind]));
    if (days_arg != NULL) {
        if (mrd_str_to_u64(days_arg, strlen(days_arg), 36500, &days, NULL) != MRD_OK || days == 0)
            return cli_usage_error(&cli_verb_audit, "--days takes 1..36500");
    } else {
        /* the setting serve uses: --config, else the default file's */
        if (conf_init(&cf, conf_serve_keys, CONF_SERVE__COUNT, &err) != MRD_OK) {
            cli_errorf("audit", "%s", err.msg);
            return CLI_EXIT_USAGE;
        }
        if (config == NULL && access(conf_default_path(), F_OK) == 0)
            config = conf_default_path();
        if (config != NULL && conf_load(&cf, config, &err) != MRD_OK) {
            cli_errorf("audit", "%s", err.msg);
            conf_release(&cf);
            return CLI_EXIT_USAGE;
        }
        days = conf_uint(&cf, CONF_AUDIT_RETENTION_DAYS);
        conf_release(&cf);
    }
    data = cli_data_dir(data);
    ret = cli_data_open("audit", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (audit_prune(st, (unsigned)days, now, &pruned, &err) != MRD_OK) {
        cli_errorf("audit", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    } else {
        printf("deleted %llu read%s older than %llu day%s (their digests stay in the ledger)\n",
               (unsigned long long)pruned, pruned == 1 ? "" : "s", (unsigned long long)days,
               days == 1 ? "" : "s");
        cli_data_ledger_catch_up("audit", st, data);
    }
    store_close(st);
    return ret;
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

    if (argc >= 2 && strcmp(argv[1], "reads") == 0)
        return run_reads(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "seal") == 0)
        return run_seal(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return run_verify(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "prune") == 0)
        return run_prune(argc - 1, argv + 1);
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
    if (!time_opt("--since", since_arg, &since))
        return CLI_EXIT_USAGE;
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
    .summary = "the audit trails: admin changes and preservation actions; reads of AMBER+ objects",
    .usage = "usage: meridian audit [--data DIR] [--since TIME] [--json]\n"
             "       meridian audit reads [--object ID] [--org ORG] [--path PATH]\n"
             "                            [--since TIME] [--json] [--data DIR]\n"
             "       meridian audit seal [--data DIR]\n"
             "       meridian audit verify [--json] [--data DIR]\n"
             "       meridian audit prune [--days N | --config FILE] [--now TIME] [--data DIR]\n"
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
             "                record_sha256, record_text (exact) and record (parsed)\n"
             "\n"
             "The access audit. Every object version at TLP:AMBER, AMBER+STRICT or RED that\n"
             "leaves the node is recorded when it is sent: through TAXII (objects/, and\n"
             "'sync-pull' when a peer's sync pulls it), 'meridian export' and the feeds\n"
             "(export, feed), the console's object pages and raw view (console), search\n"
             "results in the console and 'meridian search' (search), federation pushes\n"
             "(sync-push) and indicators revealed to a private-matching partner (private).\n"
             "A row: its number, time, object id, version, TLP, the reading\n"
             "org, the token's name ('cli:USER' for the CLI, 'peer:NAME' for a push;\n"
             "never a secret) and the path. Denied and withheld reads, and reads at CLEAR or\n"
             "GREEN, are not recorded. A read that cannot be recorded is not served.\n"
             "  reads     lists the rows in the order recorded (serve stores the reads of\n"
             "            one reader within 200 ms together): ID, TIME, OBJECT, VERSION, TLP,\n"
             "            ORG, TOKEN, PATH (--json: one object per line); --object ID and --org\n"
             "            ORG select (both: both must hold), --since TIME the newer ones,\n"
             "            --path PATH the rows of one path (taxii, export, feed, console,\n"
             "            search, sync-pull, sync-push, private)\n"
             "  seal      seals every row not sealed yet: one digest per UTC day (rows\n"
             "            first..last, their count and the SHA-256 of their lines), each a\n"
             "            ledger leaf of kind access-audit. serve seals each day once it has\n"
             "            ended (checked hourly)\n"
             "  verify    recomputes every digest from its rows and checks it against its\n"
             "            ledger record; exit 1 when a row was changed, added or deleted\n"
             "  prune     deletes the rows older than N days (--days, else the\n"
             "            audit-retention-days setting of --config or the default config\n"
             "            file, default 365), a whole digest at a time; the digests and\n"
             "            their leaves stay. serve prunes hourly. --now TIME: judge age\n"
             "            as of TIME\n" CLI_DATA_HELP
             "Exit status: 0 done, 1 verify found tampering, 2 usage or data error.\n",
    .run = run,
};
