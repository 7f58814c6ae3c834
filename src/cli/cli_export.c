/*
 * meridian export: write a collection's objects or indicators in the
 * formats other tools read (src/interop/, docs/interop.md).
 *
 * Export is a read like any other: every row goes through policy_may_read
 * for the reader org (--as-org, default the own org), with that org's grant
 * on the collection and the collection's API root as the community, so an
 * export made for a partner contains exactly what that partner could fetch
 * over TAXII, in every format. This file parses the options, opens the
 * outputs and prints the summary; interop_export() does the work.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/admin.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/json.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "interop/interop.h"
#include "policy/policy.h"
#include "store/store.h"

#define EXPORT_MAX_FILES 16 /* outputs one export writes */

/* Where the text goes: stdout, one file, or files in a directory. Files
 * are written as .NAME.tmp and renamed when the export succeeded, so a
 * firewall or IDS reloading them never reads half a file. */
struct outputs {
    const char *path; /* --output, NULL: stdout */
    bool dir;         /* path is a directory (multi-file formats) */
    bool side_to_stdout;
    const char *main_name; /* main output's name inside the directory */
    struct {
        const char *name;
        FILE *f;
        char tmp[4096], final[4096];
    } files[EXPORT_MAX_FILES];
    size_t n;
};

static FILE *open_output(struct outputs *o, const char *name, struct mrd_err *err)
{
    size_t i;

    for (i = 0; i < o->n; i++)
        if (o->files[i].name == name)
            return o->files[i].f;
    if (o->n == EXPORT_MAX_FILES) {
        mrd_err_set(err, MRD_E_INTERNAL, "too many output files");
        return NULL;
    }
    if (o->dir) {
        (void)snprintf(o->files[i].final, sizeof(o->files[i].final), "%s/%s", o->path, name);
        (void)snprintf(o->files[i].tmp, sizeof(o->files[i].tmp), "%s/.%s.tmp", o->path, name);
    } else {
        (void)snprintf(o->files[i].final, sizeof(o->files[i].final), "%s", o->path);
        (void)snprintf(o->files[i].tmp, sizeof(o->files[i].tmp), "%s.tmp", o->path);
    }
    o->files[i].f = fopen(o->files[i].tmp, "w");
    if (o->files[i].f == NULL) {
        mrd_err_sys(err, MRD_E_IO, errno, "%s", o->files[i].tmp);
        return NULL;
    }
    o->files[i].name = name;
    o->n++;
    return o->files[i].f;
}

static enum mrd_code sink_write(void *ctx, const char *file, const char *p, size_t n,
                                struct mrd_err *err)
{
    struct outputs *o = ctx;
    FILE *f = stdout;

    if (o->path != NULL && (file != NULL || o->main_name != NULL || !o->dir)) {
        f = open_output(o, file != NULL ? file : o->main_name, err);
        if (f == NULL)
            return MRD_E_IO;
    } else if (file != NULL && !o->side_to_stdout) {
        return mrd_err_set(err, MRD_E_INVAL,
                           "this export also writes %s: give --output DIR for its files", file);
    }
    if (fwrite(p, 1, n, f) != n)
        return mrd_err_sys(err, MRD_E_IO, errno, "writing the output");
    return MRD_OK;
}

/* Closes every file; renames them into place when ok, removes them when not. */
static bool outputs_finish(struct outputs *o, bool ok)
{
    for (size_t i = 0; i < o->n; i++) {
        if (fclose(o->files[i].f) != 0)
            ok = false;
    }
    for (size_t i = 0; i < o->n; i++) {
        if (ok && rename(o->files[i].tmp, o->files[i].final) != 0) {
            cli_errorf("export", "%s: %s", o->files[i].final, strerror(errno));
            ok = false;
        }
        if (!ok)
            (void)remove(o->files[i].tmp);
    }
    if (o->path == NULL && (fflush(stdout) != 0 || ferror(stdout)))
        ok = false;
    return ok;
}

struct reader {
    struct policy_reader r;
    struct fed_trust *trust;
    size_t verdicts[4]; /* by enum crypto_verdict */
};

static bool may_read(void *ctx, const struct store_row *row)
{
    const struct reader *rd = ctx;
    return policy_may_read(&rd->r, &row->policy);
}

static enum mrd_code verify_one(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct reader *rd = ctx;
    struct crypto_verify_result vr;
    json_t *obj = NULL;

    (void)err;
    if (row->body != NULL && mrd_json_parse(row->body, row->body_len, NULL, &obj, NULL) == MRD_OK &&
        crypto_object_verify(obj, rd->trust->keyring, &vr, NULL) == MRD_OK)
        rd->verdicts[vr.verdict & 3]++;
    json_decref(obj);
    return MRD_OK;
}

static bool parse_time(const char *s, int64_t *ret)
{
    struct mrd_time t;

    if (mrd_time_parse(s, strlen(s), &t, NULL) != MRD_OK)
        return false;
    *ret = mrd_time_to_usec(&t);
    return true;
}

static void on_progress(void *ctx, uint64_t rows)
{
    cli_progress_tick(ctx, rows);
}

static const char *main_file(enum interop_format fmt)
{
    return fmt == INTEROP_F_SURICATA || fmt == INTEROP_F_SURICATA_DS ? "meridian.rules" : NULL;
}

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1,
        O_COLL,
        O_FORMAT,
        O_ORG,
        O_LATEST,
        O_OUTPUT,
        O_ALL,
        O_ACTIVE,
        O_TYPE,
        O_TLP,
        O_CONF,
        O_LABEL,
        O_SINCE,
        O_SUBDOM,
        O_SIGS,
        O_NOW
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"collection", required_argument, NULL, O_COLL},
        {"format", required_argument, NULL, O_FORMAT},
        {"as-org", required_argument, NULL, O_ORG},
        {"latest", no_argument, NULL, O_LATEST},
        {"output", required_argument, NULL, O_OUTPUT},
        {"all", no_argument, NULL, O_ALL},
        {"active", no_argument, NULL, O_ACTIVE},
        {"type", required_argument, NULL, O_TYPE},
        {"tlp", required_argument, NULL, O_TLP},
        {"min-confidence", required_argument, NULL, O_CONF},
        {"label", required_argument, NULL, O_LABEL},
        {"since", required_argument, NULL, O_SINCE},
        {"subdomains", no_argument, NULL, O_SUBDOM},
        {"signatures", no_argument, NULL, O_SIGS},
        {"now", required_argument, NULL, O_NOW},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll_arg = NULL, *org_name = NULL;
    enum interop_format fmt = INTEROP_F_STIX;
    struct interop_filter flt;
    struct privacy_policy *privacy = NULL;
    struct audit_batch *audit = NULL;
    struct interop_export_stats stats;
    struct interop_sink sink;
    struct outputs out;
    struct reader rd;
    struct cli_progress prog;
    struct store_collection coll;
    struct store_org org;
    struct store_grant g;
    struct store *st = NULL;
    struct mrd_err err = {0};
    bool sigs = false, ok;
    int ret = CLI_EXIT_USAGE, c;

    memset(&flt, 0, sizeof(flt));
    memset(&out, 0, sizeof(out));
    memset(&rd, 0, sizeof(rd));
    flt.min_confidence = -1;
    flt.since = STORE_TIME_NONE;
    flt.now = mrd_time_now_usec();
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_COLL:
            coll_arg = optarg;
            break;
        case O_FORMAT:
            if (!interop_format_parse(optarg, &fmt))
                return cli_usage_error(&cli_verb_export,
                                       "unknown format '%s' (stix, jsonl, csv, suricata, "
                                       "suricata-datasets, snort, zeek, list, nft, ipset, misp)",
                                       optarg);
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_LATEST:
            flt.latest = true;
            break;
        case 'o':
        case O_OUTPUT:
            out.path = optarg;
            break;
        case O_ALL:
            flt.all = true;
            break;
        case O_ACTIVE:
            flt.active = true;
            break;
        case O_TYPE: {
            enum interop_kind k;
            if (interop_kind_parse(optarg, &k))
                flt.kinds |= 1u << k;
            else
                flt.stix_type = optarg; /* a STIX type, for stix/jsonl */
            break;
        }
        case O_TLP:
            if (policy_tlp_parse(optarg, strlen(optarg), &flt.tlp_max, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_export, "%s", err.msg);
            flt.has_tlp_max = true;
            break;
        case O_CONF: {
            uint64_t v;
            if (mrd_str_to_u64(optarg, strlen(optarg), 100, &v, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_export, "--min-confidence takes 0..100");
            flt.min_confidence = (int)v;
            break;
        }
        case O_LABEL:
            if (flt.n_labels == INTEROP_MAX_LABELS)
                return cli_usage_error(&cli_verb_export, "at most %d --label options",
                                       INTEROP_MAX_LABELS);
            flt.labels[flt.n_labels++] = optarg;
            break;
        case O_SINCE:
            if (!parse_time(optarg, &flt.since))
                return cli_usage_error(&cli_verb_export,
                                       "--since takes an RFC 3339 time, e.g. 2026-01-01T00:00:00Z");
            break;
        case O_NOW:
            if (!parse_time(optarg, &flt.now))
                return cli_usage_error(&cli_verb_export, "--now takes an RFC 3339 time");
            break;
        case O_SUBDOM:
            flt.subdomains = true;
            break;
        case O_SIGS:
            sigs = true;
            break;
        default:
            return cli_usage_error(&cli_verb_export, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_export, "unexpected argument '%s'", argv[optind]);
    if (coll_arg == NULL)
        return cli_usage_error(&cli_verb_export, "--collection ID is required");
    if (flt.stix_type != NULL && !interop_format_is_stix(fmt))
        return cli_usage_error(&cli_verb_export,
                               "--type takes ip, domain, url, email or hash for format %s",
                               interop_format_name(fmt));
    if (flt.kinds != 0 && interop_format_is_stix(fmt))
        return cli_usage_error(&cli_verb_export, "--type takes a STIX type for format %s",
                               interop_format_name(fmt));
    if (flt.subdomains && fmt != INTEROP_F_SURICATA && fmt != INTEROP_F_SNORT)
        return cli_usage_error(&cli_verb_export, "--subdomains is for suricata and snort (datasets "
                                                 "match exact names)");
    if (sigs && !interop_format_is_stix(fmt))
        return cli_usage_error(&cli_verb_export, "--signatures is for stix and jsonl");
    if (out.path != NULL) {
        struct stat sb;
        out.dir = stat(out.path, &sb) == 0 && S_ISDIR(sb.st_mode);
        if (interop_format_is_multi(fmt) && !out.dir)
            return cli_usage_error(&cli_verb_export,
                                   "format %s writes several files: --output must be an "
                                   "existing directory",
                                   interop_format_name(fmt));
        if (out.dir && !interop_format_is_multi(fmt))
            return cli_usage_error(&cli_verb_export, "--output %s is a directory", out.path);
        out.main_name = out.dir ? main_file(fmt) : NULL;
    }
    out.side_to_stdout = fmt == INTEROP_F_LIST;
    ret = cli_data_open("export", cli_data_dir(data), &st);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_collection("export", st, coll_arg, &coll);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_org("export", st, org_name, &org);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_USAGE;
    if (store_grant_get(st, org.key, coll.key, &g, &err) != MRD_OK ||
        (sigs && fed_trust_load(cli_data_dir(data), &rd.trust, &err) != MRD_OK)) {
        cli_errorf("export", "%s", err.msg);
        goto out;
    }
    rd.r.org_id = org.key;
    rd.r.relation = org.relation;
    rd.r.has_read_grant = g.can_read;
    rd.r.collection_public = coll.public_read;
    rd.r.community = coll.api_root;
    rd.r.community_len = strlen(coll.api_root);
    /* An export leaves the node: minimised like a TAXII read by that org
     * (privacy.h), with the rules scoped "export" too. */
    if (fed_privacy_load(cli_data_dir(data), &privacy, &err) != MRD_OK) {
        cli_errorf("export", "%s", err.msg);
        goto out;
    }
    flt.privacy = privacy;
    flt.scope = (struct privacy_scope){.community = coll.api_root,
                                       .org = org.relation == POLICY_REL_PARTNER ? org.name : NULL,
                                       .is_export = true};
    {
        /* an export is a read by that org, made by the local user */
        struct admin_actor who;
        char tok[STORE_READ_WHO_MAX + 1];
        admin_actor_cli(&who);
        (void)snprintf(tok, sizeof(tok), "cli:%s", who.name);
        audit = malloc(sizeof(*audit));
        if (audit == NULL) {
            cli_errorf("export", "out of memory");
            goto out;
        }
        audit_begin(audit, st, AUDIT_EXPORT, org.name, tok);
        flt.audit = audit;
    }
    sink.write = sink_write;
    sink.ctx = &out;
    cli_progress_init(&prog, "export", "objects read", 0);
    flt.progress = on_progress;
    flt.progress_ctx = &prog;
    ok = interop_export(st, &coll, fmt, &flt, may_read, &rd, &sink, &stats, &err) == MRD_OK;
    cli_progress_end(&prog);
    if (!ok)
        cli_errorf("export", "%s", err.msg);
    if (!outputs_finish(&out, ok)) {
        if (ok)
            cli_errorf("export", "writing the output failed");
        goto out;
    }
    if (interop_format_is_stix(fmt))
        fprintf(stderr, "meridian export: %llu object version%s exported as org '%s' (%s)%s\n",
                (unsigned long long)stats.objects, stats.objects == 1 ? "" : "s", MRD_ESC(org.name),
                policy_relation_name(org.relation),
                g.can_read ? "" : "; it has no read grant on this collection");
    else
        fprintf(stderr,
                "meridian export: %s: %llu indicator%s, %llu value%s written%s; %llu inactive "
                "skipped%s; exported as org '%s' (%s)%s\n",
                interop_format_name(fmt), (unsigned long long)stats.objects,
                stats.objects == 1 ? "" : "s", (unsigned long long)stats.values,
                stats.values == 1 ? "" : "s", "", (unsigned long long)stats.inactive,
                flt.all ? " (--all)" : "", MRD_ESC(org.name), policy_relation_name(org.relation),
                g.can_read ? "" : "; it has no read grant on this collection");
    if (fmt == INTEROP_F_SURICATA || fmt == INTEROP_F_SURICATA_DS || fmt == INTEROP_F_SNORT)
        fprintf(stderr, "meridian export: %llu %s rule%s\n", (unsigned long long)stats.rules,
                fmt == INTEROP_F_SNORT ? "Snort" : "Suricata", stats.rules == 1 ? "" : "s");
    if (stats.inexpressible > 0) {
        fprintf(stderr,
                "meridian export: %llu indicator%s cannot be expressed in %s and %s left out:\n",
                (unsigned long long)stats.inexpressible, stats.inexpressible == 1 ? "" : "s",
                interop_format_name(fmt), stats.inexpressible == 1 ? "was" : "were");
        for (size_t i = 0; i < stats.n_samples; i++)
            fprintf(stderr, "  %s: %s\n", MRD_ESC(stats.samples[i]), MRD_ESC(stats.why[i]));
        if (stats.inexpressible > stats.n_samples)
            fprintf(stderr, "  (and %llu more)\n",
                    (unsigned long long)(stats.inexpressible - stats.n_samples));
    }
    if (sigs) {
        struct store_match m = {.versions = flt.latest ? STORE_VER_LAST : STORE_VER_ALL};
        struct store_query q = {
            .collection = coll.key, .added_after = flt.since, .want_body = true, .match = &m};
        if (store_objects_query(st, &q, may_read, verify_one, &rd, NULL, &err) != MRD_OK) {
            cli_errorf("export", "%s", err.msg);
            goto out;
        }
        fprintf(stderr,
                "meridian export: signatures: %zu valid, %zu unknown signer, %zu unsigned\n",
                rd.verdicts[CRYPTO_VALID], rd.verdicts[CRYPTO_UNKNOWN_SIGNER],
                rd.verdicts[CRYPTO_UNSIGNED]);
    }
    ret = CLI_EXIT_OK;
out:
    free(audit);
    fed_trust_free(rd.trust);
    privacy_policy_free(privacy);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_export = {
    .name = "export",
    .summary = "write a collection as STIX, JSON lines, CSV, Suricata, Zeek intel or firewall "
               "sets",
    .usage = "usage: meridian export --collection ID [--format FORMAT] [--as-org ORG]\n"
             "              [--output PATH] [filters] [--data DIR]\n"
             "\n"
             "Writes what the reader org may see of collection ID (its uuid, or\n"
             "API-ROOT/ALIAS) under the TLP rules (docs/admin.md): the same objects that\n"
             "org would get over TAXII, in every format. Output goes to stdout, or to\n"
             "--output PATH (a file; a directory for suricata, suricata-datasets, list\n"
             "and misp), written whole and renamed into place. Manual: docs/interop.md.\n"
             "\n"
             "Formats:\n"
             "  stix       one STIX 2.1 bundle of the stored objects (default; every object\n"
             "             type, every version unless --latest)\n"
             "  jsonl      the same objects, one per line\n"
             "  csv        bare values: type,value,indicator_id,tlp,confidence,valid_from,\n"
             "             valid_until,labels (one row per value)\n"
             "  suricata   Suricata 7 rules in DIR/meridian.rules (dns.query, tls.sni,\n"
             "             http.host for domains; http.host + http.uri.raw for URLs; IP\n"
             "             rules for addresses and CIDRs; filemd5/filesha1/filesha256 rules\n"
             "             over DIR/meridian-md5.txt etc.); sid stable per indicator, rev\n"
             "             from its version, metadata: stix_id, tlp, meridian_collection\n"
             "  suricata-datasets  the form for large sets, in DIR: a dataset of domains\n"
             "             and an iprep file of addresses/CIDRs (4 rules in all); URLs and\n"
             "             hashes as in suricata; meridian-datasets.csv maps values to ids\n"
             "  snort      Snort 3 rules: IP; per domain DNS (labels at offset 12), TLS\n"
             "             (ClientHello server_name) and http_header:field host; URLs as\n"
             "             Host + http_raw_uri (hashes, e-mail: inexpressible)\n"
             "  zeek       a Zeek Intel framework file (#fields indicator indicator_type\n"
             "             meta.source meta.desc meta.url; meta.source is the STIX id)\n"
             "  list       one value per line: DIR/ipv4.txt, ipv6.txt, domain.txt, url.txt,\n"
             "             email.txt, md5.txt, sha1.txt, sha256.txt, sha512.txt (stdout\n"
             "             without --output: every value, one per line)\n"
             "  nft        an nftables file: table inet meridian, sets indicators_v4/_v6\n"
             "  ipset      an `ipset restore` file: sets meridian-v4 and meridian-v6\n"
             "  misp       a MISP feed in DIR: manifest.json, hashes.csv and one event\n"
             "             (one to_ids attribute per value, the indicator's uuid, its TLP\n"
             "             as a tlp: tag); `meridian import DIR` reads it back\n"
             "The value formats (all but stix and jsonl) take the latest version of each\n"
             "active indicator (valid_from <= now < valid_until, not revoked) whose STIX\n"
             "pattern is values joined by OR; other indicators are counted and named on\n"
             "stderr, never left out in silence.\n"
             "\n"
             "Filters:\n"
             "  --all               value formats: inactive indicators too\n"
             "  --active            stix, jsonl: only active indicators\n"
             "  --type T            value formats: ip, domain, url, email or hash\n"
             "                      (repeatable); stix, jsonl: one STIX type\n"
             "  --tlp LEVEL         only objects at or below LEVEL (clear, green, amber,\n"
             "                      amber+strict, red)\n"
             "  --min-confidence N  only objects with confidence >= N\n"
             "  --label L           only objects carrying label L (repeatable: any of them)\n"
             "  --since TIME        only objects added to the collection after TIME\n"
             "  --latest            stix, jsonl: only the newest version of each object\n"
             "  --subdomains        suricata, snort: domain rules also match subdomains\n"
             "  --now TIME          the time \"active\" is judged at (default: now)\n"
             "Other options:\n"
             "  --as-org ORG        the reader (default: the node's own org); it needs a grant\n"
             "  --signatures        stix, jsonl: verify every object's signature and print a\n"
             "                      summary (costs about 50 us per object)\n" CLI_DATA_HELP
             "Exit status: 0 written, 2 usage, data or output error.\n",
    .run = run,
};
