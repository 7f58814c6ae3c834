/*
 * meridian import: load STIX 2.1 files into a collection.
 *
 * Each FILE is a bundle, a TAXII envelope, a JSON array of objects or one
 * object. Every object goes through the STIX validator on its own
 * (stix_validate_object), exactly like a TAXII POST: an invalid object is
 * reported with the validator's findings and skipped, the valid ones are
 * stored (RFC 8785 canonical bytes) in batches, each batch one committed
 * transaction. Objects already present (same id and version) are counted,
 * not errors. Summaries go to stderr; stdout stays empty.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "fed/fed.h"
#include "interop/interop.h"
#include "policy/policy.h"
#include "stix/stix.h"
#include "store/store.h"

#define IMPORT_BATCH 256         /* objects per transaction */
#define IMPORT_ERRORS_SHOWN 5    /* findings printed per invalid object */
#define IMPORT_MAX_RECIPIENTS 16 /* --recipient options */

struct counts {
    size_t objects, added, duplicates, invalid;
};

struct importer {
    struct store *st;
    struct store_collection coll;
    struct store_org org;    /* the creator of everything imported */
    struct fed_trust *trust; /* node key (signs local objects) and trusted keys */
    int64_t recipients[IMPORT_MAX_RECIPIENTS];
    size_t n_recipients;
    struct stix_report rep;
    /* the pending batch: canonical bytes and the rows pointing into them */
    struct mrd_buf bodies[IMPORT_BATCH];
    struct store_object_in rows[IMPORT_BATCH];
    enum store_insert_outcome outcomes[IMPORT_BATCH];
    size_t n;
};

static enum mrd_code flush(struct importer *im, struct counts *cnt, struct mrd_err *err)
{
    enum mrd_code rc;

    if (im->n == 0)
        return MRD_OK;
    rc = store_objects_insert(im->st, im->coll.key, im->rows, im->n, im->outcomes, NULL, err);
    for (size_t i = 0; rc == MRD_OK && i < im->n; i++) {
        if (im->outcomes[i] == STORE_INS_ADDED)
            cnt->added++;
        else
            cnt->duplicates++;
    }
    for (size_t i = 0; i < im->n; i++)
        mrd_buf_reset(&im->bodies[i]);
    im->n = 0;
    return rc;
}

/* A STIX timestamp property as usec, or STORE_TIME_NONE when absent. */
static bool get_time(const json_t *obj, const char *key, int64_t *ret)
{
    const json_t *v = json_object_get(obj, key);
    struct mrd_time t;

    *ret = STORE_TIME_NONE;
    if (v == NULL)
        return true;
    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != MRD_OK)
        return false;
    *ret = mrd_time_to_usec(&t);
    return true;
}

static void report_invalid(const char *path, size_t index, const json_t *obj,
                           const struct stix_report *rep, const char *why)
{
    const json_t *id = json_object_get(obj, "id");
    const char *ids = json_is_string(id) ? json_string_value(id) : "(no id)";
    char line[STIX_LINE_MAX];
    size_t shown = 0;

    if (why != NULL) {
        cli_errorf("import", "%s: object %zu %s: %s; skipped", path, index, ids, why);
        return;
    }
    cli_errorf("import", "%s: object %zu %s is invalid (%zu error%s); skipped", path, index, ids,
               stix_report_errors(rep), stix_report_errors(rep) == 1 ? "" : "s");
    for (size_t i = 0; i < rep->nfindings && shown < IMPORT_ERRORS_SHOWN; i++) {
        if (rep->findings[i].severity != STIX_ERROR)
            continue;
        (void)stix_finding_format(&rep->findings[i], line, sizeof(line));
        fprintf(stderr, "  %s\n", line);
        shown++;
    }
}

/* Validates one object and queues it. Returns MRD_OK also for invalid
 * objects (counted); other codes are store or memory failures. */
static enum mrd_code one_object(struct importer *im, const char *path, size_t index,
                                const json_t *obj, struct counts *cnt, struct mrd_err *err)
{
    struct store_object_in *row;
    struct fed_ingest_result ir = {0};
    enum policy_tlp marking_tlp;
    bool canonical_tlp, local;
    json_t *marked = NULL;
    struct mrd_buf *body;
    const json_t *id, *type, *spec;
    enum mrd_code rc;

    cnt->objects++;
    if (!json_is_object(obj)) {
        cnt->invalid++;
        report_invalid(path, index, obj, NULL, "not a JSON object");
        return MRD_OK;
    }
    stix_report_reset(&im->rep);
    rc = stix_validate_object(obj, 0, &im->rep, err);
    if (rc != MRD_OK)
        return rc;
    if (stix_report_errors(&im->rep) > 0) {
        cnt->invalid++;
        report_invalid(path, index, obj, &im->rep, NULL);
        return MRD_OK;
    }
    if (im->n == IMPORT_BATCH) {
        rc = flush(im, cnt, err);
        if (rc != MRD_OK)
            return rc;
    }
    row = &im->rows[im->n];
    body = &im->bodies[im->n];
    memset(row, 0, sizeof(*row));
    id = json_object_get(obj, "id");
    type = json_object_get(obj, "type");
    spec = json_object_get(obj, "spec_version");
    if (!json_is_string(id) || !json_is_string(type) ||
        !get_time(obj, "created", &row->created_usec) ||
        !get_time(obj, "modified", &row->modified_usec)) {
        cnt->invalid++;
        report_invalid(path, index, obj, NULL, "id, type or timestamps unusable");
        return MRD_OK;
    }
    /* signs what this node creates, verifies what it relays (fed.h). The
     * canonical TLP marking definitions are nobody's creation: they are
     * fixed by the spec, and a signature (an extension) would make them
     * invalid (STIX 2.1 §7.2.1.4), so they are only verified. */
    canonical_tlp =
        policy_tlp_of_marking(json_string_value(id), json_string_length(id), &marking_tlp);
    local = policy_origin_local(im->org.relation, false) && !canonical_tlp;
    /* A default stricter than GREEN travels inside what we sign (policy.h). */
    if (local && policy_tlp_needs_mark(obj, im->coll.default_tlp)) {
        marked = json_deep_copy(obj);
        if (marked == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "import: out of memory");
        rc = policy_tlp_mark(marked, im->coll.default_tlp, err);
        if (rc != MRD_OK) {
            json_decref(marked);
            return rc;
        }
    }
    rc = fed_ingest_canon(im->trust, marked != NULL ? marked : obj,
                          local ? FED_ORIGIN_LOCAL : FED_ORIGIN_REMOTE, body, &ir, err);
    json_decref(marked);
    if (rc == MRD_OK && ir.reject)
        rc = mrd_err_set(err, MRD_E_INVALID, "%s", ir.message);
    if (rc != MRD_OK) {
        mrd_buf_reset(body);
        cnt->invalid++;
        report_invalid(path, index, obj, NULL, err->msg);
        mrd_err_clear(err);
        return MRD_OK;
    }
    row->id = json_string_value(id);
    row->id_len = json_string_length(id);
    row->type = json_string_value(type);
    row->type_len = json_string_length(type);
    row->spec_version = json_is_string(spec) ? json_string_value(spec) : "2.1";
    row->spec_version_len = json_is_string(spec) ? json_string_length(spec) : 3;
    row->revoked = json_is_true(json_object_get(obj, "revoked"));
    row->tlp = policy_tlp_of_object(obj, im->coll.default_tlp);
    row->local = policy_origin_local(im->org.relation, false);
    row->creator_org = im->org.key;
    row->recipients = im->n_recipients > 0 ? im->recipients : NULL;
    row->n_recipients = im->n_recipients;
    row->body = body->data;
    row->body_len = body->len;
    im->n++;
    return MRD_OK;
}

/* Reports a store or memory failure and drops the pending batch. */
static int store_failure(struct importer *im, const char *path, const struct mrd_err *err)
{
    cli_errorf("import", "%s: %s (objects after the last committed batch were not stored)", path,
               err->msg);
    for (size_t k = 0; k < im->n; k++)
        mrd_buf_reset(&im->bodies[k]);
    im->n = 0;
    return CLI_EXIT_USAGE;
}

/* The STIX objects of every MISP event in doc, with a summary line. */
static int misp_to_stix(const char *path, const json_t *doc, json_t **ret)
{
    struct interop_misp_stats st;
    struct mrd_err err = {0};
    const json_t *resp = json_object_get(doc, "response");
    json_t *out = json_array();

    memset(&st, 0, sizeof(st));
    if (out == NULL) {
        cli_errorf("import", "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (json_is_array(resp)) {
        for (size_t i = 0; i < json_array_size(resp); i++) {
            if (interop_misp_event(json_array_get(resp, i), out, &st, &err) != MRD_OK)
                break;
        }
    } else {
        (void)interop_misp_event(doc, out, &st, &err);
    }
    if (err.code != MRD_OK) {
        cli_errorf("import", "%s: %s; nothing imported from it", path, err.msg);
        json_decref(out);
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr,
            "meridian import: %s: MISP: %zu event%s, %zu attributes: %zu indicators, %zu "
            "observables, %zu galaxy objects, %zu sightings, %zu without a STIX form\n",
            path, st.events, st.events == 1 ? "" : "s", st.attributes, st.indicators,
            st.observables, st.galaxies, st.sightings, st.skipped);
    *ret = out;
    return CLI_EXIT_OK;
}

static int misp_feed(struct importer *im, const char *dir, struct counts *total);

/* Imports one file. Returns the exit code it deserves on its own. */
static int one_file(struct importer *im, const char *path, struct counts *total)
{
    struct mrd_json_limits lim = {STIX_MAX_DOCUMENT, MRD_JSON_MAX_DEPTH};
    struct counts cnt = {0};
    struct mrd_buf b;
    struct mrd_err err = {0};
    json_t *doc = NULL, *misp = NULL;
    const json_t *list = NULL, *v;
    int ret = CLI_EXIT_USAGE;
    bool single = false;
    size_t i;
    struct stat sb;

    if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return misp_feed(im, path, total);
    mrd_buf_init(&b, STIX_MAX_DOCUMENT);
    if (cli_read_file(path, STIX_MAX_DOCUMENT, &b, &err) != MRD_OK) {
        cli_errorf("import", "%s", err.msg);
        goto out;
    }
    if (mrd_json_parse(b.data, b.len, &lim, &doc, &err) != MRD_OK) {
        cli_errorf("import", "%s: not JSON: %s; nothing imported from it", path, err.msg);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    /* MISP event(s), bundle, envelope (no "type"), list, or a single object */
    if (interop_misp_is_event(doc)) {
        if (misp_to_stix(path, doc, &misp) != CLI_EXIT_OK) {
            ret = CLI_EXIT_FAIL;
            goto out;
        }
        list = misp;
    } else if (json_is_array(doc)) {
        list = doc;
    } else if (json_is_object(doc)) {
        const json_t *type = json_object_get(doc, "type");
        if (type == NULL && json_object_get(doc, "objects") == NULL &&
            json_object_get(doc, "more") == NULL && json_object_get(doc, "next") == NULL) {
            cli_errorf("import",
                       "%s: not a format meridian imports: expected a STIX 2.1 bundle, a TAXII "
                       "envelope, a JSON list of STIX objects, a STIX object or a MISP event "
                       "({\"Event\": {...}}); nothing imported from it",
                       path);
            ret = CLI_EXIT_FAIL;
            goto out;
        }
        if (type == NULL ||
            (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0))
            list = json_object_get(doc, "objects");
        else
            single = true;
    } else {
        cli_errorf("import", "%s: neither a bundle, an envelope, a list nor an object", path);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    if (list != NULL && !json_is_array(list)) {
        cli_errorf("import", "%s: \"objects\" is not a list", path);
        ret = CLI_EXIT_FAIL;
        goto out;
    }
    if (single) {
        if (one_object(im, path, 0, doc, &cnt, &err) != MRD_OK) {
            ret = store_failure(im, path, &err);
            goto out;
        }
    } else if (list != NULL) {
        json_array_foreach(list, i, v)
        {
            if (one_object(im, path, i, v, &cnt, &err) != MRD_OK) {
                ret = store_failure(im, path, &err);
                goto out;
            }
        }
    }
    if (flush(im, &cnt, &err) != MRD_OK) {
        ret = store_failure(im, path, &err);
        goto out;
    }
    fprintf(stderr,
            "meridian import: %s: %zu object%s: %zu added, %zu already present, %zu invalid\n",
            path, cnt.objects, cnt.objects == 1 ? "" : "s", cnt.added, cnt.duplicates, cnt.invalid);
    ret = cnt.invalid > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    total->objects += cnt.objects;
    total->added += cnt.added;
    total->duplicates += cnt.duplicates;
    total->invalid += cnt.invalid;
    json_decref(doc);
    json_decref(misp);
    mrd_buf_release(&b);
    return ret;
}

/* A MISP feed directory (manifest.json and one <uuid>.json per event, the
 * layout MISP publishes and subscribes to): every event the manifest
 * lists. The names come from the manifest, so each must be a UUID. */
static int misp_feed(struct importer *im, const char *dir, struct counts *total)
{
    char path[4096];
    struct mrd_buf b;
    struct mrd_err err = {0};
    json_t *manifest = NULL;
    const char *key;
    json_t *val;
    int ret = CLI_EXIT_OK;

    (void)snprintf(path, sizeof(path), "%s/manifest.json", dir);
    mrd_buf_init(&b, STIX_MAX_DOCUMENT);
    if (cli_read_file(path, STIX_MAX_DOCUMENT, &b, &err) != MRD_OK ||
        mrd_json_parse(b.data, b.len, NULL, &manifest, &err) != MRD_OK) {
        cli_errorf("import",
                   "%s: a directory must be a MISP feed with a manifest.json (%s); nothing "
                   "imported from it",
                   dir, err.msg);
        mrd_buf_release(&b);
        return CLI_EXIT_FAIL;
    }
    mrd_buf_release(&b);
    if (!json_is_object(manifest)) {
        cli_errorf("import", "%s: not a MISP feed manifest (a JSON object of event uuids)", path);
        json_decref(manifest);
        return CLI_EXIT_FAIL;
    }
    json_object_foreach(manifest, key, val)
    {
        int r;
        if (mrd_uuid_check(key, strlen(key), NULL, NULL) != MRD_OK) {
            cli_errorf("import", "%s: '%.40s' is not an event uuid; skipped", path, key);
            ret = CLI_EXIT_FAIL;
            continue;
        }
        (void)snprintf(path, sizeof(path), "%s/%s.json", dir, key);
        r = one_file(im, path, total);
        if (r > ret)
            ret = r;
    }
    json_decref(manifest);
    return ret;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_COLL, O_ORG, O_RCPT };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"collection", required_argument, NULL, O_COLL},
        {"as-org", required_argument, NULL, O_ORG},
        {"recipient", required_argument, NULL, O_RCPT},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll_arg = NULL, *org_name = NULL;
    const char *rcpt[IMPORT_MAX_RECIPIENTS];
    size_t n_rcpt = 0;
    struct importer *im = NULL;
    struct counts total = {0};
    struct mrd_err ferr = {0};
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
        case O_ORG:
            org_name = optarg;
            break;
        case O_RCPT:
            if (n_rcpt == IMPORT_MAX_RECIPIENTS)
                return cli_usage_error(&cli_verb_import, "at most %d --recipient options",
                                       IMPORT_MAX_RECIPIENTS);
            rcpt[n_rcpt++] = optarg;
            break;
        default:
            return cli_usage_error(&cli_verb_import, "unknown option");
        }
    }
    if (coll_arg == NULL)
        return cli_usage_error(&cli_verb_import, "--collection ID is required");
    if (optind == argc)
        return cli_usage_error(&cli_verb_import, "give at least one FILE");
    im = mrd_calloc(1, sizeof(*im));
    if (im == NULL) {
        cli_errorf("import", "out of memory");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < IMPORT_BATCH; i++)
        mrd_buf_init(&im->bodies[i], STORE_OBJECT_MAX);
    stix_report_init(&im->rep);
    ret = cli_data_open("import", cli_data_dir(data), &im->st);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_collection("import", im->st, coll_arg, &im->coll);
    if (ret == CLI_EXIT_OK)
        ret = cli_data_org("import", im->st, org_name, &im->org);
    for (size_t i = 0; i < n_rcpt && ret == CLI_EXIT_OK; i++) {
        struct store_org r;
        ret = cli_data_org("import", im->st, rcpt[i], &r);
        im->recipients[im->n_recipients++] = r.key;
    }
    if (ret == CLI_EXIT_OK && fed_trust_load(cli_data_dir(data), &im->trust, &ferr) != MRD_OK) {
        cli_errorf("import", "%s", ferr.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret != CLI_EXIT_OK)
        goto out;
    for (int i = optind; i < argc; i++) {
        int r = one_file(im, argv[i], &total);
        if (r > ret)
            ret = r;
    }
    if (argc - optind > 1)
        fprintf(stderr,
                "meridian import: total: %zu object%s: %zu added, %zu already present, %zu "
                "invalid\n",
                total.objects, total.objects == 1 ? "" : "s", total.added, total.duplicates,
                total.invalid);
    if (total.added > 0)
        cli_data_ledger_catch_up("import", im->st, cli_data_dir(data));
out:
    if (im != NULL) {
        for (size_t i = 0; i < IMPORT_BATCH; i++)
            mrd_buf_release(&im->bodies[i]);
        stix_report_release(&im->rep);
        fed_trust_free(im->trust);
        store_close(im->st);
        mrd_free(im);
    }
    return ret;
}

const struct cli_verb cli_verb_import = {
    .name = "import",
    .summary = "load STIX 2.1 files into a collection (each object validated)",
    .usage =
        "usage: meridian import --collection ID [--as-org ORG] [--recipient ORG]... [--data DIR]\n"
        "              FILE...\n"
        "\n"
        "Loads each FILE ('-' is stdin): a STIX bundle, a TAXII envelope, a JSON list\n"
        "of objects, a single object, or a MISP event (a MISP event file, a REST\n"
        "search answer, or a MISP feed directory with manifest.json; mapped to STIX\n"
        "as docs/interop.md says, MISP uuids kept as ids so re-importing adds\n"
        "nothing). Any other JSON is an error naming the file. Every object is\n"
        "checked by the STIX 2.1\n"
        "validator (as 'meridian validate' does); an invalid one is reported with the\n"
        "validator's findings and skipped, the valid ones are stored in the collection\n"
        "ID (its uuid, or API-ROOT/ALIAS). Objects already in the collection (same id\n"
        "and version) are left as they are. A summary per file goes to stderr.\n"
        "\n"
        "Each object's TLP comes from its TLP markings (TLP 1.0 or 2.0), else the\n"
        "collection's default TLP.\n"
        "  --as-org ORG      the org recorded as creator (default: the node's own org);\n"
        "                    objects count as created on this node unless ORG is a partner\n"
        "  --recipient ORG   an org that may read TLP:RED objects of this import besides\n"
        "                    the creator (repeatable, at most 16)\n"
        "  --data DIR        the data directory (default $MERIDIAN_DATA, else ./meridian-data)\n"
        "Exit status: 0 all objects stored or already present, 1 some object or file\n"
        "was invalid (the valid ones were stored), 2 usage, I/O or data error.\n",
    .run = run,
};
