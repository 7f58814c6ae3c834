/*
 * meridian export: write a collection's objects as a STIX bundle or CSV.
 *
 * Export is a read like any other: every row goes through policy_may_read
 * for the reader org (--as-org, default the own org), with that org's grant
 * on the collection and the collection's API root as the community, so an
 * export made for a partner contains exactly what that partner could fetch
 * over TAXII. The bundle is streamed from the stored canonical bytes.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/json.h"
#include "core/str.h"
#include "fed/fed.h"
#include "policy/policy.h"
#include "store/store.h"

enum format { FMT_STIX, FMT_CSV };

struct exporter {
    struct policy_reader reader;
    enum format fmt;
    size_t n;
    bool io_error;
    struct fed_trust *trust; /* signature statuses for the summary (fed.h) */
    size_t verdicts[4];      /* by enum crypto_verdict */
};

static bool visible(void *ctx, const struct store_row *row)
{
    const struct exporter *ex = ctx;
    return policy_may_read(&ex->reader, &row->policy);
}

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break; a leading =,+,-,@ is prefixed with ' so spreadsheets do not run
 * it as a formula (indicator values come from outside). */
static void csv_field(const char *s, size_t n, bool last)
{
    bool quote = false;

    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            quote = true;
    if (quote)
        putchar('"');
    if (n > 0 && strchr("=+-@", s[0]) != NULL)
        putchar('\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putchar('"');
        putchar(s[i]);
    }
    if (quote)
        putchar('"');
    putchar(last ? '\n' : ',');
}

static void csv_prop(const json_t *obj, const char *key, bool last)
{
    const json_t *v = json_object_get(obj, key);

    if (json_is_string(v))
        csv_field(json_string_value(v), json_string_length(v), last);
    else
        csv_field("", 0, last);
}

static enum mrd_code emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct exporter *ex = ctx;
    json_t *obj = NULL;
    const char *tlp;
    enum mrd_code rc;

    if (ex->fmt == FMT_STIX) {
        struct crypto_verify_result vr;
        if (mrd_json_parse(row->body, row->body_len, NULL, &obj, NULL) == MRD_OK &&
            crypto_object_verify(obj, ex->trust->keyring, &vr, NULL) == MRD_OK)
            ex->verdicts[vr.verdict & 3]++;
        json_decref(obj);
        if (ex->n > 0)
            putchar(',');
        if (fwrite(row->body, 1, row->body_len, stdout) != row->body_len)
            ex->io_error = true;
        ex->n++;
        return MRD_OK;
    }
    rc = mrd_json_parse(row->body, row->body_len, NULL, &obj, err);
    if (rc != MRD_OK)
        return rc;
    tlp = policy_tlp_name(row->policy.tlp);
    csv_field(row->id, row->id_len, false);
    csv_field(row->type, row->type_len, false);
    csv_prop(obj, "created", false);
    csv_prop(obj, "modified", false);
    csv_field(tlp, strlen(tlp), false);
    /* indicators: the pattern; SCOs: their value (or name for some) */
    if (json_object_get(obj, "pattern") != NULL)
        csv_prop(obj, "pattern", true);
    else if (json_object_get(obj, "value") != NULL)
        csv_prop(obj, "value", true);
    else
        csv_prop(obj, "name", true);
    json_decref(obj);
    ex->n++;
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_COLL, O_FORMAT, O_ORG, O_LATEST };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"collection", required_argument, NULL, O_COLL},
        {"format", required_argument, NULL, O_FORMAT},
        {"as-org", required_argument, NULL, O_ORG},
        {"latest", no_argument, NULL, O_LATEST},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll_arg = NULL, *org_name = NULL;
    struct exporter ex = {.fmt = FMT_STIX};
    struct store_match match = {.versions = STORE_VER_ALL};
    struct store_query q = {.added_after = STORE_TIME_NONE, .want_body = true, .match = &match};
    struct store_collection coll;
    struct store_org org;
    struct store_grant g;
    struct store *st = NULL;
    struct mrd_err err = {0};
    char bundle_id[STORE_UUID_LEN + 1];
    int ret = CLI_EXIT_USAGE, c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_COLL:
            coll_arg = optarg;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "stix") == 0)
                ex.fmt = FMT_STIX;
            else if (strcmp(optarg, "csv") == 0)
                ex.fmt = FMT_CSV;
            else
                return cli_usage_error(&cli_verb_export, "unknown format '%s' (stix, csv)", optarg);
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_LATEST:
            match.versions = STORE_VER_LAST;
            break;
        default:
            return cli_usage_error(&cli_verb_export, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_export, "unexpected argument '%s'", argv[optind]);
    if (coll_arg == NULL)
        return cli_usage_error(&cli_verb_export, "--collection ID is required");
    ret = cli_data_open("export", cli_data_dir(data), &st);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_collection("export", st, coll_arg, &coll);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_org("export", st, org_name, &org);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = CLI_EXIT_USAGE;
    if (fed_trust_load(cli_data_dir(data), &ex.trust, &err) != MRD_OK ||
        store_grant_get(st, org.key, coll.key, &g, &err) != MRD_OK) {
        cli_errorf("export", "%s", err.msg);
        goto out;
    }
    ex.reader.org_id = org.key;
    ex.reader.relation = org.relation;
    ex.reader.has_read_grant = g.can_read;
    ex.reader.collection_public = coll.public_read;
    ex.reader.community = coll.api_root;
    ex.reader.community_len = strlen(coll.api_root);
    q.collection = coll.key;
    if (ex.fmt == FMT_STIX) {
        store_uuid4(bundle_id);
        printf("{\"id\":\"bundle--%s\",\"objects\":[", bundle_id);
    } else {
        printf("id,type,created,modified,tlp,pattern_or_value\n");
    }
    if (store_objects_query(st, &q, visible, emit, &ex, NULL, &err) != MRD_OK) {
        cli_errorf("export", "%s", err.msg);
        goto out;
    }
    if (ex.fmt == FMT_STIX)
        printf("],\"type\":\"bundle\"}\n");
    if (fflush(stdout) != 0 || ferror(stdout) || ex.io_error) {
        cli_errorf("export", "writing the output failed");
        goto out;
    }
    fprintf(stderr, "meridian export: %zu object version%s exported as org '%s' (%s)%s\n", ex.n,
            ex.n == 1 ? "" : "s", MRD_ESC(org.name), policy_relation_name(org.relation),
            g.can_read ? "" : "; it has no read grant on this collection");
    if (ex.fmt == FMT_STIX)
        fprintf(stderr,
                "meridian export: signatures: %zu valid, %zu unknown signer, %zu unsigned\n",
                ex.verdicts[CRYPTO_VALID], ex.verdicts[CRYPTO_UNKNOWN_SIGNER],
                ex.verdicts[CRYPTO_UNSIGNED]);
    ret = CLI_EXIT_OK;
out:
    fed_trust_free(ex.trust);
    store_close(st);
    return ret;
}

const struct cli_verb cli_verb_export = {
    .name = "export",
    .summary = "write a collection's objects as a STIX bundle or CSV",
    .usage =
        "usage: meridian export --collection ID [--format stix|csv] [--as-org ORG] [--latest]\n"
        "              [--data DIR]\n"
        "\n"
        "Writes the objects of collection ID (its uuid, or API-ROOT/ALIAS) to stdout,\n"
        "oldest first, that the reader org may see under the TLP rules (docs/admin.md):\n"
        "the same objects that org would get over TAXII.\n"
        "  --format stix   one STIX 2.1 bundle holding the stored objects (default)\n"
        "  --format csv    id,type,created,modified,tlp,pattern_or_value with a header\n"
        "                  line (indicators: pattern; observables: value, else name)\n"
        "  --as-org ORG    the reader (default: the node's own org); it needs a read grant\n"
        "  --latest        only the newest version of each object (default: all versions)\n"
        "  --data DIR      the data directory (default $MERIDIAN_DATA, else ./meridian-data)\n"
        "Exit status: 0 written, 2 usage, data or output error.\n",
    .run = run,
};
