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
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/jstream.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "fed/fed.h"
#include "interop/interop.h"
#include "policy/policy.h"
#include "stix/stix.h"
#include "store/store.h"

#define IMPORT_BATCH 4096 /* objects per transaction */
/* ... or fewer when their canonical bytes reach this: the batch's parsed
 * objects (about 8 times their text) stay well under the memory bound */
#define IMPORT_BATCH_BYTES ((size_t)8 << 20)
#define IMPORT_BODY_KEEP 65536   /* a body buffer larger than this is freed after its batch */
#define IMPORT_ERRORS_SHOWN 5    /* findings printed per invalid object */
#define IMPORT_MAX_RECIPIENTS 16 /* --recipient options */
#define IMPORT_MAX_LINE 65536    /* one line of a text or CSV list */
#define IMPORT_READ ((size_t)1 << 20)
#define IMPORT_MAX_LABELS 16
#define IMPORT_NO_OFFSET UINT64_MAX /* importer.at: not a streamed object */

/* How a text or CSV list becomes indicators (--format csv|text). */
struct list_opts {
    bool csv, text;
    enum interop_kind kind; /* INTEROP_K_COUNT: auto */
    const char *column;     /* CSV: the value column's name or 1-based number */
    char sep;
    const char *tlp_id; /* a TLP 2.0 marking id, or NULL */
    int confidence;     /* -1: none */
    char valid_from[32], valid_until[32];
    const char *labels[IMPORT_MAX_LABELS];
    size_t n_labels;
};

struct counts {
    size_t objects, added, duplicates, invalid, conflicts;
};

struct importer {
    struct store *st;
    struct store_collection coll;
    struct store_org org;    /* the creator of everything imported */
    struct fed_trust *trust; /* node key (signs local objects) and trusted keys */
    int64_t recipients[IMPORT_MAX_RECIPIENTS];
    size_t n_recipients;
    struct stix_report rep;
    struct list_opts list;
    json_t *hold; /* objects made here (lists, repairs) the pending batch's rows point into */
    bool repair;  /* --repair */
    size_t repairs, fixable; /* objects repaired; invalid ones --repair would fix */
    uint64_t at;             /* byte offset of the streamed object, or IMPORT_NO_OFFSET */
    /* the pending batch: canonical bytes and the rows pointing into them */
    struct mrd_buf bodies[IMPORT_BATCH];
    struct store_object_in rows[IMPORT_BATCH];
    enum store_insert_outcome outcomes[IMPORT_BATCH];
    char signers[IMPORT_BATCH][STORE_SIGNER_MAX + 1];
    size_t n;
    size_t pending; /* canonical bytes in the batch */
};

static enum mrd_code flush(struct importer *im, struct counts *cnt, struct mrd_err *err)
{
    enum mrd_code rc;

    if (im->n == 0)
        return MRD_OK;
    rc = store_objects_insert(im->st, im->coll.key, im->rows, im->n, im->outcomes, NULL, err);
    for (size_t i = 0; rc == MRD_OK && i < im->n; i++) {
        enum store_insert_outcome o = im->outcomes[i];
        if (o == STORE_INS_ADDED || o == STORE_INS_REPLACED || o == STORE_INS_WRITER_ONLY)
            cnt->added++;
        else if (o == STORE_INS_DUPLICATE)
            cnt->duplicates++;
        if (o != STORE_INS_ADDED && o != STORE_INS_DUPLICATE)
            cnt->conflicts++; /* not genuine here, or outranked others: 'meridian conflicts' */
    }
    for (size_t i = 0; i < im->n; i++) {
        if (im->bodies[i].cap > IMPORT_BODY_KEEP)
            mrd_buf_release(&im->bodies[i]);
        else
            mrd_buf_reset(&im->bodies[i]);
    }
    im->n = 0;
    im->pending = 0;
    if (im->hold != NULL)
        (void)json_array_clear(im->hold);
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

static void report_invalid(const char *path, size_t index, uint64_t at, const json_t *obj,
                           const struct stix_report *rep, const char *why)
{
    const json_t *id = json_object_get(obj, "id");
    const char *ids = json_is_string(id) ? json_string_value(id) : "(no id)";
    char line[STIX_LINE_MAX], where[48] = "";
    size_t shown = 0;

    if (at != IMPORT_NO_OFFSET)
        (void)snprintf(where, sizeof(where), " at byte %llu", (unsigned long long)at);
    if (why != NULL) {
        cli_errorf("import", "%s: object %zu%s %s: %s; skipped", path, index, where, ids, why);
        return;
    }
    cli_errorf("import", "%s: object %zu%s %s is invalid (%zu error%s); skipped", path, index,
               where, ids, stix_report_errors(rep), stix_report_errors(rep) == 1 ? "" : "s");
    for (size_t i = 0; i < rep->nfindings && shown < IMPORT_ERRORS_SHOWN; i++) {
        if (rep->findings[i].severity != STIX_ERROR)
            continue;
        (void)stix_finding_format(&rep->findings[i], line, sizeof(line));
        fprintf(stderr, "  %s\n", MRD_ESC(line)); /* paths and values from the file */
        shown++;
    }
}

/* One file's summary line; returns the exit code the file deserves. */
static int summary(const char *path, const char *unit, const struct counts *c)
{
    fprintf(stderr,
            "meridian import: %s: %zu %s%s: %zu added, %zu already present, %zu invalid, "
            "%zu conflicts\n",
            MRD_ESC(path), c->objects, unit, c->objects == 1 ? "" : "s", c->added, c->duplicates,
            c->invalid, c->conflicts);
    /* a conflict ('meridian conflicts') is not an acknowledged object */
    return c->invalid > 0 || c->objects > c->added + c->duplicates + c->invalid ? CLI_EXIT_FAIL
                                                                                : CLI_EXIT_OK;
}

static void add_counts(struct counts *total, const struct counts *c)
{
    total->objects += c->objects;
    total->added += c->added;
    total->duplicates += c->duplicates;
    total->invalid += c->invalid;
    total->conflicts += c->conflicts;
}

/* --repair: a repaired copy of *obj replaces it (kept in im->hold until
 * its batch is stored), and every change is printed. */
static enum mrd_code repaired(struct importer *im, const char *path, size_t index,
                              const json_t **obj, struct mrd_err *err)
{
    json_t *copy = json_deep_copy(*obj);
    struct mrd_buf log;
    size_t changes = 0;
    enum mrd_code rc;

    if (copy == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "out of memory repairing an object");
    mrd_buf_init(&log, STORE_MSG_MAX * 8);
    rc = interop_repair(copy, &log, &changes, err);
    if (rc == MRD_E_TOOBIG) { /* a long log: the changes are made, the list is cut */
        mrd_err_clear(err);
        rc = MRD_OK;
    }
    if (rc == MRD_OK && changes > 0) {
        const char *id = json_string_value(json_object_get(copy, "id"));
        fprintf(stderr, "meridian import: %s: object %zu %s repaired (%zu change%s): %s\n",
                MRD_ESC(path), index, MRD_ESC(id != NULL ? id : "(no id)"), changes,
                changes == 1 ? "" : "s", MRD_ESC(log.data != NULL ? log.data : ""));
        im->repairs++;
        if (json_array_append(im->hold, copy) != 0)
            rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory repairing an object");
        *obj = copy;
    }
    json_decref(copy); /* im->hold keeps the used copy */
    mrd_buf_release(&log);
    return rc;
}

/* Without --repair: says so when --repair would make obj valid. */
static void repair_hint(struct importer *im, const json_t *obj)
{
    json_t *copy = json_deep_copy(obj);
    struct stix_report rep;
    struct mrd_buf log;
    size_t changes = 0;

    stix_report_init(&rep);
    mrd_buf_init(&log, STORE_MSG_MAX * 8);
    if (copy != NULL && interop_repair(copy, &log, &changes, NULL) == MRD_OK && changes > 0 &&
        stix_validate_object(copy, 0, &rep, NULL) == MRD_OK && stix_report_errors(&rep) == 0) {
        fprintf(stderr, "  --repair would fix this object: %s\n", MRD_ESC(log.data));
        im->fixable++;
    }
    mrd_buf_release(&log);
    stix_report_release(&rep);
    json_decref(copy);
}

/* Validates one object and queues it. Returns MRD_OK also for invalid
 * objects (counted); other codes are store or memory failures. */
static enum mrd_code one_object(struct importer *im, const char *path, size_t index,
                                const json_t *obj, struct counts *cnt, struct mrd_err *err)
{
    struct store_object_in *row;
    struct fed_ingest_result ir = {0};
    bool local;
    struct mrd_buf *body;
    const json_t *id, *type, *spec;
    enum mrd_code rc;

    /* a full batch is stored first: what follows may add to im->hold */
    if (im->n == IMPORT_BATCH || im->pending >= IMPORT_BATCH_BYTES) {
        rc = flush(im, cnt, err);
        if (rc != MRD_OK)
            return rc;
    }
    cnt->objects++;
    if (!json_is_object(obj)) {
        cnt->invalid++;
        report_invalid(path, index, im->at, obj, NULL, "not a JSON object");
        return MRD_OK;
    }
    if (im->repair) {
        rc = repaired(im, path, index, &obj, err);
        if (rc != MRD_OK)
            return rc;
    }
    stix_report_reset(&im->rep);
    rc = stix_validate_object(obj, 0, &im->rep, err);
    if (rc != MRD_OK)
        return rc;
    if (stix_report_errors(&im->rep) > 0) {
        cnt->invalid++;
        report_invalid(path, index, im->at, obj, &im->rep, NULL);
        if (!im->repair)
            repair_hint(im, obj);
        return MRD_OK;
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
        report_invalid(path, index, im->at, obj, NULL, "id, type or timestamps unusable");
        return MRD_OK;
    }
    /* signs what this node creates (its TLP written in), verifies what it
     * relays (fed_ingest_canon, fed.h) */
    local = policy_origin_local(im->org.relation, false);
    rc = fed_ingest_canon(im->trust, obj, local ? FED_ORIGIN_LOCAL : FED_ORIGIN_REMOTE,
                          im->coll.default_tlp, body, &ir, err);
    if (rc == MRD_OK && ir.reject)
        rc = mrd_err_set(err, MRD_E_INVALID, "%s", ir.message);
    if (rc != MRD_OK) {
        mrd_buf_reset(body);
        cnt->invalid++;
        report_invalid(path, index, im->at, obj, NULL, err->msg);
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
    row->tlp = ir.tlp;
    row->local = local;
    row->creator_org = im->org.key;
    row->recipients = im->n_recipients > 0 ? im->recipients : NULL;
    row->n_recipients = im->n_recipients;
    row->body = body->data;
    row->body_len = body->len;
    im->pending += body->len;
    if (ir.signer[0] != '\0') {
        row->signer = im->signers[im->n];
        mrd_strlcpy(im->signers[im->n], ir.signer, sizeof(im->signers[0]));
        row->signer_len = strlen(ir.signer);
    }
    row->signer_trusted = fed_trust_knows;
    row->signer_ctx = im->trust;
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
    im->pending = 0;
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
            MRD_ESC(path), st.events, st.events == 1 ? "" : "s", st.attributes, st.indicators,
            st.observables, st.galaxies, st.sightings, st.skipped);
    *ret = out;
    return CLI_EXIT_OK;
}

static int misp_feed(struct importer *im, const char *dir, struct counts *total);

/* One value of a list as an indicator, through one_object like any other. */
static enum mrd_code list_value(struct importer *im, const char *path, size_t lineno, const char *v,
                                size_t n, struct interop_ioc *ioc, struct counts *cnt, size_t *bad)
{
    const struct list_opts *lo = &im->list;
    struct mrd_err err = {0};
    char id[64];
    json_t *o;
    enum mrd_code rc;

    if (interop_ioc_value(v, n, lo->kind, ioc, &err) != MRD_OK) {
        cnt->objects++;
        cnt->invalid++;
        if ((*bad)++ < IMPORT_ERRORS_SHOWN)
            cli_errorf("import", "%s: line %zu: %s; skipped", path, lineno, err.msg);
        return MRD_OK;
    }
    (void)snprintf(id, sizeof(id), "indicator--%s", ioc->uuid);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s%, s:s, s:s, s:[s]}", "type", "indicator",
                  "spec_version", "2.1", "id", id, "created", lo->valid_from, "modified",
                  lo->valid_from, "valid_from", lo->valid_from, "name", ioc->value, ioc->value_len,
                  "pattern", ioc->pattern.data, "pattern_type", "stix", "indicator_types",
                  "malicious-activity");
    if (o == NULL)
        return mrd_err_set(&err, MRD_E_NOMEM, "out of memory");
    if (lo->valid_until[0] != '\0')
        (void)json_object_set_new(o, "valid_until", json_string(lo->valid_until));
    if (lo->confidence >= 0)
        (void)json_object_set_new(o, "confidence", json_integer(lo->confidence));
    if (lo->tlp_id != NULL)
        (void)json_object_set_new(o, "object_marking_refs", json_pack("[s]", lo->tlp_id));
    if (lo->n_labels > 0) {
        json_t *l = json_array();
        for (size_t i = 0; l != NULL && i < lo->n_labels; i++)
            (void)json_array_append_new(l, json_string(lo->labels[i]));
        (void)json_object_set_new(o, "labels", l);
    }
    rc = one_object(im, path, lineno, o, cnt, &err);
    /* a queued row points into o until its batch is stored (flush) */
    if (json_array_append_new(im->hold, o) != 0 && rc == MRD_OK)
        rc = mrd_err_set(&err, MRD_E_NOMEM, "out of memory");
    if (rc != MRD_OK)
        (void)store_failure(im, path, &err);
    return rc;
}

/* The column holding the values: --column (a name or a 1-based number),
 * else the first whose name says it holds indicators, else the first. */
static size_t value_column(const struct list_opts *lo, const char **f, const size_t *fn, size_t nf,
                           bool *ret_ok)
{
    static const char *const names[] = {"value",  "indicator", "ioc",    "ip",   "ip_address",
                                        "domain", "url",       "hash",   "md5",  "sha1",
                                        "sha256", "email",     "dst_ip", "host", "hostname"};
    uint64_t k;

    *ret_ok = true;
    if (lo->column != NULL) {
        if (mrd_str_to_u64(lo->column, strlen(lo->column), INTEROP_CSV_MAX_FIELDS, &k, NULL) ==
                MRD_OK &&
            k >= 1)
            return (size_t)k - 1;
        for (size_t i = 0; i < nf; i++)
            if (mrd_str_eq_nocase(f[i], fn[i], lo->column, strlen(lo->column)))
                return i;
        *ret_ok = false;
        return 0;
    }
    for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
        for (size_t i = 0; i < nf; i++)
            if (mrd_str_eq_nocase(f[i], fn[i], names[j], strlen(names[j])))
                return i;
    return 0;
}

/* A text list (one value per line, '#' comments) or a CSV list (a header
 * row, then one record per line), read in IMPORT_READ pieces: memory
 * stays flat whatever the file's size; a line over IMPORT_MAX_LINE is
 * reported and skipped without being held. */
static int list_file(struct importer *im, const char *path, struct counts *total)
{
    const struct list_opts *lo = &im->list;
    struct counts cnt = {0};
    struct interop_ioc *ioc = NULL;
    FILE *f = NULL;
    char *buf = NULL, *scratch = NULL;
    const char **fields = NULL;
    size_t *flen = NULL, have = 0, lineno = 0, bad = 0, col = 0, too_long = 0;
    bool header = lo->csv, skipping = false, eof = false;
    struct cli_progress prog = {0};
    int ret = CLI_EXIT_USAGE;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        cli_errorf("import", "%s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    buf = mrd_malloc(IMPORT_MAX_LINE + IMPORT_READ);
    scratch = mrd_malloc(IMPORT_MAX_LINE);
    fields = mrd_calloc(INTEROP_CSV_MAX_FIELDS, sizeof(*fields));
    flen = mrd_calloc(INTEROP_CSV_MAX_FIELDS, sizeof(*flen));
    ioc = mrd_calloc(1, sizeof(*ioc));
    if (buf == NULL || scratch == NULL || fields == NULL || flen == NULL || ioc == NULL) {
        cli_errorf("import", "out of memory");
        goto out;
    }
    mrd_buf_init(&ioc->pattern, MATCH_MAX_PATTERN);
    cli_progress_init(&prog, "import", "lines", 0);
    while (!eof || have > 0) {
        char *nl;
        size_t n;
        if (!eof && have < IMPORT_MAX_LINE) {
            size_t r = fread(buf + have, 1, IMPORT_READ, f);
            if (r == 0 && ferror(f)) {
                cli_errorf("import", "%s: read: %s (values before it were stored)", path,
                           strerror(errno));
                goto out;
            }
            eof = r == 0;
            have += r;
        }
        nl = memchr(buf, '\n', have);
        if (nl == NULL && !eof && have >= IMPORT_MAX_LINE) {
            /* a line longer than any value: drop what we hold, find its end */
            if (!skipping && too_long++ < IMPORT_ERRORS_SHOWN)
                cli_errorf("import", "%s: line %zu: longer than %d bytes; skipped", path,
                           lineno + 1, IMPORT_MAX_LINE);
            skipping = true;
            have = 0;
            continue;
        }
        if (nl == NULL && !eof)
            continue;
        n = nl != NULL ? (size_t)(nl - buf) : have;
        lineno++;
        if ((lineno & 1023) == 0)
            cli_progress_tick(&prog, lineno);
        if (skipping) {
            skipping = false;
            cnt.objects++;
            cnt.invalid++;
        } else {
            const char *line = buf;
            size_t ln = n;
            if (ln > 0 && line[ln - 1] == '\r')
                ln--;
            if (ln == 0 || line[0] == '#') {
                /* blank or comment */
            } else if (lo->text) {
                /* "value # comment" */
                for (size_t i = 1; i < ln; i++)
                    if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
                        ln = i;
                        break;
                    }
                if (list_value(im, path, lineno, line, ln, ioc, &cnt, &bad) != MRD_OK)
                    goto out;
            } else {
                size_t nf = interop_csv_split(line, ln, lo->sep, scratch, IMPORT_MAX_LINE, fields,
                                              flen, INTEROP_CSV_MAX_FIELDS);
                if (nf == (size_t)-1) {
                    cnt.objects++;
                    cnt.invalid++;
                    if (bad++ < IMPORT_ERRORS_SHOWN)
                        cli_errorf("import", "%s: line %zu: not a CSV record (RFC 4180); skipped",
                                   path, lineno);
                } else if (header) {
                    bool ok;
                    header = false;
                    col = value_column(lo, fields, flen, nf, &ok);
                    if (!ok) {
                        cli_errorf("import", "%s: no column '%s' in the header line", path,
                                   lo->column);
                        goto out;
                    }
                } else if (col >= nf) {
                    cnt.objects++;
                    cnt.invalid++;
                    if (bad++ < IMPORT_ERRORS_SHOWN)
                        cli_errorf("import", "%s: line %zu: no column %zu; skipped", path, lineno,
                                   col + 1);
                } else if (list_value(im, path, lineno, fields[col], flen[col], ioc, &cnt, &bad) !=
                           MRD_OK) {
                    goto out;
                }
            }
        }
        if (nl == NULL) {
            have = 0;
        } else {
            memmove(buf, nl + 1, have - n - 1);
            have -= n + 1;
        }
    }
    {
        struct mrd_err ferr = {0};
        if (flush(im, &cnt, &ferr) != MRD_OK) {
            (void)store_failure(im, path, &ferr);
            goto out;
        }
    }
    if (bad > IMPORT_ERRORS_SHOWN || too_long > IMPORT_ERRORS_SHOWN)
        cli_errorf("import", "%s: %zu more bad lines not shown", path,
                   bad + too_long - (bad > IMPORT_ERRORS_SHOWN ? IMPORT_ERRORS_SHOWN : bad) -
                       (too_long > IMPORT_ERRORS_SHOWN ? IMPORT_ERRORS_SHOWN : too_long));
    cli_progress_end(&prog);
    ret = summary(path, "value", &cnt);
out:
    cli_progress_end(&prog);
    add_counts(total, &cnt);
    if (ioc != NULL)
        mrd_buf_release(&ioc->pattern);
    mrd_free(ioc);
    mrd_free(fields);
    mrd_free(flen);
    mrd_free(scratch);
    mrd_free(buf);
    if (f != NULL && f != stdin)
        (void)fclose(f);
    return ret;
}

/* A document read whole (the top level had no "objects" list to stream:
 * a single object, a MISP event, an envelope without objects): its
 * objects, through one_object like the streamed ones. */
static int whole_doc(struct importer *im, const char *path, const json_t *doc, struct counts *cnt)
{
    struct mrd_err err = {0};
    json_t *misp = NULL;
    const json_t *list = NULL, *v;
    bool single = false;
    int ret = CLI_EXIT_FAIL;
    size_t i;

    /* MISP event(s), bundle, envelope (no "type"), list, or a single object */
    if (interop_misp_is_event(doc)) {
        if (misp_to_stix(path, doc, &misp) != CLI_EXIT_OK)
            goto out;
        list = misp;
    } else if (json_is_object(doc)) {
        const json_t *type = json_object_get(doc, "type");
        if (type == NULL && json_object_get(doc, "objects") == NULL &&
            json_object_get(doc, "more") == NULL && json_object_get(doc, "next") == NULL) {
            cli_errorf("import",
                       "%s: not a format meridian imports: expected a STIX 2.1 bundle, a TAXII "
                       "envelope, a JSON list of STIX objects, a STIX object or a MISP event "
                       "({\"Event\": {...}}); nothing imported from it",
                       path);
            goto out;
        }
        if (type == NULL ||
            (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0))
            list = json_object_get(doc, "objects");
        else
            single = true;
    } else {
        cli_errorf("import", "%s: neither a bundle, an envelope, a list nor an object", path);
        goto out;
    }
    if (list != NULL && !json_is_array(list)) {
        cli_errorf("import", "%s: \"objects\" is not a list", path);
        goto out;
    }
    ret = CLI_EXIT_OK;
    if (single) {
        if (one_object(im, path, 0, doc, cnt, &err) != MRD_OK)
            ret = store_failure(im, path, &err);
    } else if (list != NULL) {
        json_array_foreach(list, i, v)
        {
            if (one_object(im, path, i, v, cnt, &err) != MRD_OK) {
                ret = store_failure(im, path, &err);
                break;
            }
        }
    }
    /* rows point into doc and misp: stored before they go */
    if (ret == CLI_EXIT_OK && flush(im, cnt, &err) != MRD_OK)
        ret = store_failure(im, path, &err);
out:
    json_decref(misp);
    return ret;
}

/* One element of a streamed list: parsed on its own (a bad one is
 * reported with its index and byte offset and skipped), then one_object. */
static enum mrd_code stream_item(struct importer *im, const char *path,
                                 const struct mrd_jstream_event *ev, struct counts *cnt,
                                 struct mrd_err *err)
{
    struct mrd_err perr = {0};
    json_t *obj = NULL;
    enum mrd_code rc;

    im->at = ev->offset;
    if (mrd_jstream_parse(ev, &obj, &perr) != MRD_OK) {
        if (perr.code == MRD_E_NOMEM)
            return mrd_err_set(err, MRD_E_NOMEM, "%s", perr.msg);
        cnt->objects++;
        cnt->invalid++;
        cli_errorf("import", "%s: object %zu at byte %llu is not JSON: %s; skipped", path,
                   ev->index, (unsigned long long)ev->offset, perr.msg);
        return MRD_OK;
    }
    rc = one_object(im, path, ev->index, obj, cnt, err);
    /* a queued row points into obj until its batch is stored (flush) */
    if (json_array_append_new(im->hold, obj) != 0 && rc == MRD_OK)
        rc = mrd_err_set(err, MRD_E_NOMEM, "out of memory");
    return rc;
}

/* A top-level member: kept (parsed) in head, so "type" and "id" may come
 * before or after "objects". */
static int head_member(struct mrd_jstream *js, const char *path, const struct mrd_jstream_event *ev,
                       json_t *head)
{
    struct mrd_err err = {0};
    json_t *v = NULL;

    if (mrd_jstream_parse(ev, &v, &err) != MRD_OK) {
        cli_errorf("import", "%s: not JSON: the member \"%s\" at byte %llu: %s", path, ev->key,
                   (unsigned long long)ev->offset, err.msg);
        return CLI_EXIT_FAIL;
    }
    if (json_object_get(head, ev->key) != NULL) {
        cli_errorf("import", "%s: not JSON: a second member \"%s\" at byte %llu (RFC 7493)", path,
                   ev->key, (unsigned long long)ev->offset);
        json_decref(v);
        return CLI_EXIT_FAIL;
    }
    if (strcmp(ev->key, "type") == 0 && !mrd_jstream_list_seen(js) &&
        !(json_is_string(v) && strcmp(json_string_value(v), "bundle") == 0))
        mrd_jstream_whole_list(js); /* one object: its "objects" is a property */
    if (json_object_set_new(head, ev->key, v) != 0) {
        cli_errorf("import", "%s: out of memory", path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Imports one file. Returns the exit code it deserves on its own.
 *
 * A STIX file is read as a stream (core/jstream.h): each element of the
 * bundle's or envelope's "objects" (or of a top-level list) is parsed,
 * validated and queued on its own, so memory stays flat whatever the file
 * size; the other top-level members are kept, in any order. A document
 * with no list to stream (one object, a MISP event) is read whole, up to
 * STIX_MAX_DOCUMENT. */
static int one_file(struct importer *im, const char *path, struct counts *total)
{
    struct mrd_jstream_opts jo = {"objects", STORE_OBJECT_MAX, STIX_MAX_DOCUMENT,
                                  MRD_JSON_MAX_DEPTH};
    struct counts cnt = {0};
    struct mrd_err err = {0};
    struct mrd_jstream *js = NULL;
    struct mrd_jstream_event ev;
    struct cli_progress prog = {0};
    json_t *head = NULL, *doc = NULL;
    FILE *f = NULL;
    uint64_t size = 0;
    int ret = CLI_EXIT_USAGE;
    struct stat sb;

    if (im->list.csv || im->list.text)
        return list_file(im, path, total);
    if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return misp_feed(im, path, total);
    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        cli_errorf("import", "%s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode))
        size = (uint64_t)sb.st_size;
    head = json_object();
    if (head == NULL || mrd_jstream_open(&jo, mrd_jstream_read_file, f, &js, &err) != MRD_OK) {
        cli_errorf("import", "out of memory");
        goto out;
    }
    cli_progress_init(&prog, "import", "objects", 0);
    for (;;) {
        enum mrd_code rc = mrd_jstream_next(js, &ev, &err);
        if (rc == MRD_E_IO || rc == MRD_E_NOMEM) {
            cli_progress_end(&prog);
            cli_errorf("import", "%s: %s (objects before it were stored)", path, err.msg);
            ret = CLI_EXIT_USAGE;
            break;
        }
        if (rc != MRD_OK) {
            cli_progress_end(&prog);
            cli_errorf("import", "%s: not JSON: %s; objects read before it: %zu", path, err.msg,
                       cnt.objects);
            ret = CLI_EXIT_FAIL;
            break;
        }
        if (ev.kind == MRD_JSTREAM_END) {
            ret = CLI_EXIT_OK;
            break;
        }
        if (ev.kind == MRD_JSTREAM_ITEM) {
            if ((ev.index & 1023) == 0)
                cli_progress_stream(&prog, ev.index, mrd_jstream_offset(js), size);
            if (stream_item(im, path, &ev, &cnt, &err) != MRD_OK) {
                cli_progress_end(&prog);
                ret = store_failure(im, path, &err);
                break;
            }
        } else if (ev.kind == MRD_JSTREAM_MEMBER) {
            ret = head_member(js, path, &ev, head);
            if (ret != CLI_EXIT_OK)
                break;
        } else {
            cli_errorf("import", "%s: neither a bundle, an envelope, a list nor an object", path);
            ret = CLI_EXIT_FAIL;
            break;
        }
    }
    cli_progress_end(&prog);
    im->at = IMPORT_NO_OFFSET;
    /* what was read before an error is stored */
    if (flush(im, &cnt, &err) != MRD_OK) {
        ret = store_failure(im, path, &err);
        goto out;
    }
    if (ret != CLI_EXIT_OK) {
        if (cnt.objects > 0)
            (void)summary(path, "object", &cnt);
        goto out;
    }
    if (mrd_jstream_top(js) == MRD_JSTREAM_TOP_OBJECT && !mrd_jstream_list_seen(js)) {
        ret = whole_doc(im, path, head, &cnt);
    } else if (mrd_jstream_list_seen(js)) {
        const json_t *type = json_object_get(head, "type");
        if (type != NULL &&
            !(json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0)) {
            /* "objects" came first, so it was read as a bundle's */
            cli_errorf("import",
                       "%s: a top-level object with \"type\" other than \"bundle\" and an "
                       "\"objects\" list: its objects were imported as a bundle's",
                       path);
            ret = CLI_EXIT_FAIL;
        }
    }
    if (ret == CLI_EXIT_OK)
        ret = summary(path, "object", &cnt);
    else if (cnt.objects > 0)
        (void)summary(path, "object", &cnt);
out:
    add_counts(total, &cnt);
    mrd_jstream_close(js);
    json_decref(head);
    json_decref(doc);
    if (f != NULL && f != stdin)
        (void)fclose(f);
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
    enum {
        O_DATA = 1,
        O_COLL,
        O_ORG,
        O_RCPT,
        O_FORMAT,
        O_TYPE,
        O_COLUMN,
        O_SEP,
        O_TLP,
        O_CONF,
        O_FROM,
        O_UNTIL,
        O_LABEL,
        O_REPAIR
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"collection", required_argument, NULL, O_COLL},
        {"as-org", required_argument, NULL, O_ORG},
        {"recipient", required_argument, NULL, O_RCPT},
        {"format", required_argument, NULL, O_FORMAT},
        {"type", required_argument, NULL, O_TYPE},
        {"column", required_argument, NULL, O_COLUMN},
        {"separator", required_argument, NULL, O_SEP},
        {"tlp", required_argument, NULL, O_TLP},
        {"confidence", required_argument, NULL, O_CONF},
        {"valid-from", required_argument, NULL, O_FROM},
        {"valid-until", required_argument, NULL, O_UNTIL},
        {"label", required_argument, NULL, O_LABEL},
        {"repair", no_argument, NULL, O_REPAIR},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *coll_arg = NULL, *org_name = NULL;
    const char *rcpt[IMPORT_MAX_RECIPIENTS];
    size_t n_rcpt = 0;
    struct importer *im = NULL;
    struct counts total = {0};
    struct mrd_err ferr = {0};
    struct list_opts lo;
    bool repair = false;
    int ret = CLI_EXIT_USAGE, c;

    memset(&lo, 0, sizeof(lo));
    lo.kind = INTEROP_K_COUNT;
    lo.confidence = -1;
    lo.sep = ',';
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_FORMAT:
            lo.csv = strcmp(optarg, "csv") == 0;
            lo.text = strcmp(optarg, "text") == 0;
            if (!lo.csv && !lo.text && strcmp(optarg, "stix") != 0 && strcmp(optarg, "misp") != 0)
                return cli_usage_error(&cli_verb_import,
                                       "--format takes stix, misp, csv or text (stix and misp "
                                       "are recognised by their content)");
            break;
        case O_TYPE:
            if (strcmp(optarg, "auto") != 0 && !interop_kind_parse(optarg, &lo.kind))
                return cli_usage_error(&cli_verb_import,
                                       "--type takes ip, domain, url, email, hash or auto");
            break;
        case O_COLUMN:
            lo.column = optarg;
            break;
        case O_SEP:
            if (strlen(optarg) != 1)
                return cli_usage_error(&cli_verb_import, "--separator takes one character");
            lo.sep = optarg[0];
            break;
        case O_TLP: {
            static const char *const ids[POLICY_TLP_COUNT] = {
                POLICY_TLP2_CLEAR_ID, POLICY_TLP2_GREEN_ID, POLICY_TLP2_AMBER_ID,
                POLICY_TLP2_AMBER_STRICT_ID, POLICY_TLP2_RED_ID};
            enum policy_tlp t;
            if (policy_tlp_parse(optarg, strlen(optarg), &t, &ferr) != MRD_OK)
                return cli_usage_error(&cli_verb_import, "%s", ferr.msg);
            lo.tlp_id = ids[t];
            break;
        }
        case O_CONF: {
            uint64_t v;
            if (mrd_str_to_u64(optarg, strlen(optarg), 100, &v, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_import, "--confidence takes 0..100");
            lo.confidence = (int)v;
            break;
        }
        case O_FROM:
        case O_UNTIL: {
            struct mrd_time t;
            if (mrd_time_parse(optarg, strlen(optarg), &t, NULL) != MRD_OK)
                return cli_usage_error(&cli_verb_import,
                                       "%s takes an RFC 3339 time, e.g. 2027-01-01T00:00:00Z",
                                       c == O_FROM ? "--valid-from" : "--valid-until");
            mrd_time_format_stix_ms(mrd_time_to_usec(&t),
                                    c == O_FROM ? lo.valid_from : lo.valid_until);
            break;
        }
        case O_REPAIR:
            repair = true;
            break;
        case O_LABEL:
            if (lo.n_labels == IMPORT_MAX_LABELS)
                return cli_usage_error(&cli_verb_import, "at most %d --label options",
                                       IMPORT_MAX_LABELS);
            lo.labels[lo.n_labels++] = optarg;
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
    if ((lo.kind != INTEROP_K_COUNT || lo.column != NULL || lo.tlp_id != NULL ||
         lo.confidence >= 0 || lo.valid_until[0] != '\0' || lo.n_labels > 0) &&
        !lo.csv && !lo.text)
        return cli_usage_error(&cli_verb_import,
                               "--type, --column, --tlp, --confidence, --valid-until and --label "
                               "are for --format csv or text");
    if (lo.valid_from[0] == '\0') {
        /* today, 00:00 UTC: the same list imported again today is the same
         * indicators (same version); tomorrow's import is a new version */
        int64_t now = mrd_time_now_usec();
        mrd_time_format_stix_ms(now - now % ((int64_t)86400 * 1000000), lo.valid_from);
    }
    im = mrd_calloc(1, sizeof(*im));
    if (im == NULL) {
        cli_errorf("import", "out of memory");
        return CLI_EXIT_USAGE;
    }
    im->list = lo;
    im->repair = repair;
    im->at = IMPORT_NO_OFFSET;
    im->hold = json_array();
    if (im->hold == NULL) {
        mrd_free(im);
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
    if (im->fixable > 0)
        fprintf(stderr,
                "meridian import: %zu invalid object%s would be repaired by --repair (see "
                "above)\n",
                im->fixable, im->fixable == 1 ? "" : "s");
    if (total.added > 0)
        cli_data_ledger_catch_up("import", im->st, cli_data_dir(data));
out:
    if (im != NULL) {
        for (size_t i = 0; i < IMPORT_BATCH; i++)
            mrd_buf_release(&im->bodies[i]);
        stix_report_release(&im->rep);
        json_decref(im->hold);
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
        "              [--repair] [--format stix|misp|csv|text [list options]] FILE...\n"
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
        "Bundles, envelopes and lists are read as a stream, one object (at most\n"
        "16 MiB) at a time, and stored in batches as they fill, so memory stays\n"
        "bounded whatever the file size; 'objects' may come before 'type'. A bad\n"
        "object is named with its index and byte offset and skipped; a truncated\n"
        "file is an error after the objects before it are stored. On a terminal\n"
        "the progress shows (objects, rate, megabytes read, ETA).\n"
        "\n"
        "--format text: one value per line ('#' comments); --format csv: a header\n"
        "row, then records (RFC 4180). Each value (IP address or CIDR, domain, URL,\n"
        "e-mail address, MD5/SHA-1/SHA-256/SHA-512; defanged forms like hxxp:// and\n"
        "evil[.]com accepted) becomes an indicator whose id is derived from its\n"
        "pattern, valid from --valid-from (default: today 00:00 UTC), so a list\n"
        "imported again the same day adds nothing. Lines that are no value are\n"
        "named (line number) and skipped; memory stays flat for any file size.\n"
        "  --type ip|domain|url|email|hash|auto   what the values are (default auto)\n"
        "  --column COL      csv: the value column, by header name or 1-based number\n"
        "                    (default: value, indicator, ioc, ip, domain, url, hash...)\n"
        "  --separator C     csv: the field separator (default ',')\n"
        "  --tlp LEVEL       a TLP 2.0 marking on every indicator\n"
        "  --confidence N    0..100\n"
        "  --valid-from T, --valid-until T   RFC 3339 times\n"
        "  --label L         a label on every indicator (repeatable)\n"
        "\n"
        "--repair fixes the known defects of real public STIX before validation and\n"
        "prints every change: empty lists and empty references are dropped, times\n"
        "given to the second get milliseconds, a 'modified' before 'created' becomes\n"
        "'created' (docs/interop.md). Without it, an invalid object that --repair\n"
        "would fix says so.\n"
        "\n"
        "Each object's TLP comes from its TLP markings (TLP 1.0 or 2.0), else the\n"
        "collection's default TLP.\n"
        "  --as-org ORG      the org recorded as creator (default: the node's own org);\n"
        "                    objects count as created on this node unless ORG is a partner\n"
        "  --recipient ORG   an org that may read TLP:RED objects of this import besides\n"
        "                    the creator (repeatable, at most 16)\n" CLI_DATA_HELP
        "Exit status: 0 all objects stored or already present, 1 some object or file\n"
        "was invalid (the valid ones were stored), 2 usage, I/O or data error.\n",
    .run = run,
};
