/*
 * export: a collection's objects, read through the caller's read decision,
 * into one of the interop formats (interop.h).
 *
 * The store hands over rows in (date_added, seq) order; a row the reader
 * may not read is skipped before anything looks at its bytes. STIX and
 * JSON lines copy the stored canonical bytes as they are (no parse unless
 * a filter needs a property); the value formats parse each indicator
 * (jansson, ~300 bytes) for its name, labels and validity, and take the
 * values out of its pattern with match/'s extractor. Output leaves in
 * INTEROP_FLUSH pieces, so memory stays flat whatever the collection's
 * size (nftables and ipset excepted: their sets are written whole at the
 * end).
 */
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "interop/interop_int.h"

#define MAX_VALUES 1024 /* values taken from one pattern */

struct exp {
    const struct store_collection *coll;
    enum interop_format fmt;
    const struct interop_filter *flt;
    bool (*visible)(void *ctx, const struct store_row *row);
    void *vctx;
    const struct interop_sink *sink;
    struct interop_writer *w;
    struct interop_export_stats *st;
    struct mrd_buf out;          /* stix/jsonl */
    char *scratch;               /* MATCH_MAX_PATTERN: the unescaped pattern */
    char *pscratch;              /* MATCH_MAX_PATTERN: the pattern's unescaped literals */
    const struct store_row *row; /* the row being read */
    uint64_t rows;               /* rows read, for progress */
    struct mrd_buf valbuf;       /* the values of one pattern (the extractor reuses scratch) */
    struct mrd_buf minimised;    /* value formats: the object as minimised for the reader */
    size_t valoff[MAX_VALUES];
    struct interop_value vals[MAX_VALUES];
    size_t nvals;
    bool first;
};

static bool visible(void *ctx, const struct store_row *row)
{
    const struct exp *e = ctx;

    if (e->flt->has_tlp_max && row->policy.tlp > e->flt->tlp_max)
        return false;
    return e->visible(e->vctx, row);
}

static int64_t time_prop(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    struct mrd_time t;

    if (!json_is_string(v) ||
        mrd_time_parse(json_string_value(v), json_string_length(v), &t, NULL) != MRD_OK)
        return STORE_TIME_NONE;
    return mrd_time_to_usec(&t);
}

static bool is_active(const json_t *o, int64_t now)
{
    int64_t from = time_prop(o, "valid_from"), until = time_prop(o, "valid_until");

    if (json_is_true(json_object_get(o, "revoked")))
        return false;
    if (from != STORE_TIME_NONE && from > now)
        return false;
    return until == STORE_TIME_NONE || now < until;
}

/* The label and confidence filters. */
static bool props_pass(const struct interop_filter *f, const json_t *o)
{
    if (f->min_confidence >= 0) {
        const json_t *c = json_object_get(o, "confidence");
        if (!json_is_integer(c) || json_integer_value(c) < f->min_confidence)
            return false;
    }
    if (f->n_labels > 0) {
        const json_t *labels = json_object_get(o, "labels");
        bool hit = false;
        for (size_t i = 0; i < json_array_size(labels) && !hit; i++) {
            const json_t *l = json_array_get(labels, i);
            for (size_t k = 0; k < f->n_labels && !hit; k++)
                hit = json_is_string(l) && strcmp(json_string_value(l), f->labels[k]) == 0;
        }
        if (!hit)
            return false;
    }
    return true;
}

static void note_inexpressible(struct interop_export_stats *st, const struct store_row *row,
                               const char *why)
{
    st->inexpressible++;
    if (st->n_samples < INTEROP_MAX_SAMPLES) {
        size_t n = row->id_len < STORE_STIX_ID_MAX ? row->id_len : STORE_STIX_ID_MAX;
        memcpy(st->samples[st->n_samples], row->id, n);
        st->samples[st->n_samples][n] = '\0';
        (void)snprintf(st->why[st->n_samples], sizeof(st->why[0]), "%s", why);
        st->n_samples++;
    }
}

static enum mrd_code pair_cb(void *ctx, enum match_type type, const char *v, size_t n,
                             struct mrd_err *err)
{
    struct exp *e = ctx;

    if (e->nvals == MAX_VALUES)
        return mrd_err_set(err, MRD_E_TOOBIG, "more than %d values in one pattern", MAX_VALUES);
    if (e->flt->kinds != 0 && !(e->flt->kinds & (1u << interop_kind_of(type))))
        return MRD_OK;
    e->valoff[e->nvals] = e->valbuf.len;
    e->vals[e->nvals].type = type;
    e->vals[e->nvals].n = n;
    e->nvals++;
    return mrd_buf_append(&e->valbuf, v, n, err);
}

static enum mrd_code emit_stix(struct exp *e, const struct store_row *row, struct mrd_err *err)
{
    enum mrd_code rc = MRD_OK;

    if (e->flt->active || e->flt->min_confidence >= 0 || e->flt->n_labels > 0) {
        json_t *o = NULL;
        bool keep;
        rc = mrd_json_parse(row->body, row->body_len, NULL, &o, err);
        if (rc != MRD_OK)
            return rc;
        keep = props_pass(e->flt, o) &&
               (!e->flt->active || (row->type_len == 9 && memcmp(row->type, "indicator", 9) == 0 &&
                                    is_active(o, e->flt->now)));
        json_decref(o);
        if (!keep)
            return MRD_OK;
    }
    if (e->fmt == INTEROP_F_STIX && !e->first)
        rc = mrd_buf_putc(&e->out, ',', err);
    if (rc == MRD_OK && e->flt->privacy != NULL) {
        size_t before = e->out.len - (e->fmt == INTEROP_F_STIX && !e->first ? 1 : 0);
        enum privacy_outcome po;
        rc = privacy_minimise_bytes(e->flt->privacy, &e->flt->scope, row->body, row->body_len,
                                    &e->out, &po, err);
        if (rc == MRD_OK && po == PRIVACY_WITHHELD) {
            e->out.len = before; /* not exported: no comma either */
            e->out.data[before] = '\0';
            return MRD_OK;
        }
    } else if (rc == MRD_OK) {
        rc = mrd_buf_append(&e->out, row->body, row->body_len, err);
    }
    e->st->objects++;
    e->first = false;
    if (rc == MRD_OK && e->flt->audit != NULL)
        rc = audit_note(e->flt->audit, row, err);
    if (rc == MRD_OK && e->fmt == INTEROP_F_JSONL)
        rc = mrd_buf_putc(&e->out, '\n', err);
    if (rc == MRD_OK && e->out.len >= INTEROP_FLUSH) {
        rc = e->sink->write(e->sink->ctx, NULL, e->out.data, e->out.len, err);
        mrd_buf_reset(&e->out);
    }
    return rc;
}

/* The labels filter over the raw labels list of an indicator. */
static bool labels_pass(const struct interop_filter *f, const json_t *labels)
{
    for (size_t i = 0; i < json_array_size(labels); i++) {
        const json_t *l = json_array_get(labels, i);
        for (size_t k = 0; k < f->n_labels; k++)
            if (json_is_string(l) && strcmp(json_string_value(l), f->labels[k]) == 0)
                return true;
    }
    return false;
}

/* One indicator, as match/'s lean walker found it in the stored bytes
 * (no DOM: the export of a million indicators is mostly this). */
static enum mrd_code on_ind(void *ctx, const struct match_stix_ind *si, struct mrd_err *err)
{
    struct exp *e = ctx;
    const struct store_row *row = e->row;
    struct interop_ind ind;
    json_t *labels = NULL, *name = NULL;
    size_t written = 0;
    const char *why = NULL;
    enum mrd_code rc = MRD_OK;

    if (e->flt->min_confidence >= 0 && si->confidence < e->flt->min_confidence)
        return MRD_OK;
    /* labels as JSON only where they are used: the filter and CSV */
    if (si->labels != NULL && (e->flt->n_labels > 0 || e->fmt == INTEROP_F_CSV) &&
        mrd_json_parse(si->labels, si->labels_len, NULL, &labels, NULL) != MRD_OK)
        labels = NULL;
    if (e->flt->n_labels > 0 && !labels_pass(e->flt, labels))
        goto out;
    if (!e->flt->all &&
        (si->revoked || si->valid_from > e->flt->now || si->valid_until <= e->flt->now)) {
        e->st->inactive++;
        goto out;
    }
    e->st->objects++;
    if (si->pattern == NULL || si->pattern_type == NULL ||
        !(si->pattern_type_len == 4 && memcmp(si->pattern_type, "stix", 4) == 0)) {
        note_inexpressible(e->st, row, "not a STIX pattern");
        goto out;
    }
    e->nvals = 0;
    mrd_buf_reset(&e->valbuf);
    rc = match_pattern_pairs(si->pattern, si->pattern_len, e->pscratch, pair_cb, e, err);
    if (rc == MRD_E_UNSUPP || rc == MRD_E_PARSE || rc == MRD_E_TOOBIG) {
        /* AND, LIKE, qualifiers...: no list or rule of values says it */
        note_inexpressible(e->st, row, "pattern is more than values joined by OR");
        mrd_err_clear(err);
        rc = MRD_OK;
        goto out;
    }
    if (rc != MRD_OK || e->nvals == 0) {
        if (rc == MRD_OK)
            e->st->objects--; /* --type left nothing of it: not selected */
        goto out;
    }
    for (size_t i = 0; i < e->nvals; i++)
        e->vals[i].v = e->valbuf.data + e->valoff[i]; /* now that it stopped moving */
    memset(&ind, 0, sizeof(ind));
    ind.id = row->id;
    ind.id_len = row->id_len;
    if (si->name != NULL && si->name_esc) {
        /* rare: decode the escapes through the strict reader */
        char wrap[1024];
        if (si->name_len + 3 < sizeof(wrap)) {
            json_t *arr = NULL;
            wrap[0] = '[';
            wrap[1] = '"';
            memcpy(wrap + 2, si->name, si->name_len);
            memcpy(wrap + 2 + si->name_len, "\"]", 2);
            if (mrd_json_parse(wrap, si->name_len + 4, NULL, &arr, NULL) == MRD_OK) {
                name = json_incref(json_array_get(arr, 0));
                json_decref(arr);
            }
        }
        if (json_is_string(name)) {
            ind.name = json_string_value(name);
            ind.name_len = json_string_length(name);
        }
    } else if (si->name != NULL) {
        ind.name = si->name;
        ind.name_len = si->name_len;
    }
    ind.modified_usec =
        row->modified_usec != STORE_TIME_NONE ? row->modified_usec : row->created_usec;
    ind.valid_from = si->valid_from == INT64_MIN ? STORE_TIME_NONE : si->valid_from;
    ind.valid_until = si->valid_until == INT64_MAX ? STORE_TIME_NONE : si->valid_until;
    ind.confidence = si->confidence;
    ind.tlp = row->policy.tlp;
    ind.labels = labels;
    ind.collection_id = e->coll->id;
    rc = interop_writer_add(e->w, &ind, e->vals, e->nvals, &written, &why, err);
    if (rc != MRD_OK)
        goto out;
    e->st->values += written;
    if (written == 0)
        note_inexpressible(e->st, row, why);
    else if (e->flt->audit != NULL)
        rc = audit_note(e->flt->audit, row, err);
    if (rc != MRD_OK)
        goto out;
    rc = interop_writer_flush(e->w, e->sink, false, err);
out:
    json_decref(labels);
    json_decref(name);
    return rc;
}

static enum mrd_code emit_values(struct exp *e, const struct store_row *row, struct mrd_err *err)
{
    const char *body = row->body;
    size_t len = row->body_len;

    e->row = row;
    /* The values leave the node like the object would: minimised for the
     * reader first (privacy.h), so a rule that drops or withholds it in a
     * STIX export leaves nothing of it here either. */
    if (e->flt->privacy != NULL) {
        enum privacy_outcome po;
        enum mrd_code rc;
        mrd_buf_reset(&e->minimised);
        rc = privacy_minimise_bytes(e->flt->privacy, &e->flt->scope, row->body, row->body_len,
                                    &e->minimised, &po, err);
        if (rc != MRD_OK || po == PRIVACY_WITHHELD)
            return rc;
        if (po != PRIVACY_AS_IS) {
            body = e->minimised.data;
            len = e->minimised.len;
        }
    }
    return match_stix_each(body, len, e->scratch, on_ind, e, err);
}

static enum mrd_code emit(void *ctx, const struct store_row *row, struct mrd_err *err)
{
    struct exp *e = ctx;

    if (e->flt->progress != NULL && ++e->rows % INTEROP_PROGRESS_ROWS == 0)
        e->flt->progress(e->flt->progress_ctx, e->rows);

    if (row->body == NULL)
        return MRD_OK;
    return interop_format_is_stix(e->fmt) ? emit_stix(e, row, err) : emit_values(e, row, err);
}

enum mrd_code interop_export(struct store *st, const struct store_collection *coll,
                             enum interop_format fmt, const struct interop_filter *flt,
                             bool (*vis)(void *ctx, const struct store_row *row), void *ctx,
                             const struct interop_sink *sink, struct interop_export_stats *ret,
                             struct mrd_err *err)
{
    static const char *const indicator[] = {"indicator"};
    const char *types[1];
    struct store_match match;
    struct store_query q;
    struct exp e;
    char bundle[STORE_UUID_LEN + 1];
    enum mrd_code rc;

    if (vis == NULL || sink == NULL || (unsigned)fmt >= INTEROP_F_COUNT)
        return mrd_err_set(err, MRD_E_INVAL, "export: bad arguments");
    memset(&e, 0, sizeof(e));
    memset(ret, 0, sizeof(*ret));
    e.coll = coll;
    e.fmt = fmt;
    e.flt = flt;
    e.visible = vis;
    e.vctx = ctx;
    e.sink = sink;
    e.st = ret;
    e.first = true;
    mrd_buf_init(&e.out, INTEROP_MAX_OUTPUT);
    mrd_buf_init(&e.valbuf, MATCH_MAX_PATTERN);
    mrd_buf_init(&e.minimised, STORE_OBJECT_MAX);
    memset(&match, 0, sizeof(match));
    memset(&q, 0, sizeof(q));
    q.collection = coll->key;
    q.added_after = flt->since;
    q.match = &match;
    q.want_body = true;
    if (interop_format_is_stix(fmt)) {
        match.versions = flt->latest ? STORE_VER_LAST : STORE_VER_ALL;
        if (flt->active) {
            match.types = indicator;
            match.n_types = 1;
        } else if (flt->stix_type != NULL) {
            types[0] = flt->stix_type;
            match.types = types;
            match.n_types = 1;
        }
        if (fmt == INTEROP_F_STIX) {
            store_uuid4(bundle);
            rc = mrd_buf_printf(&e.out, err, "{\"id\":\"bundle--%s\",\"objects\":[", bundle);
            if (rc != MRD_OK)
                goto out;
        }
    } else {
        match.versions = STORE_VER_LAST;
        match.types = indicator;
        match.n_types = 1;
        e.scratch = mrd_malloc(MATCH_MAX_PATTERN);
        e.pscratch = mrd_malloc(MATCH_MAX_PATTERN);
        if (e.scratch == NULL || e.pscratch == NULL) {
            rc = mrd_err_set(err, MRD_E_NOMEM, "export: out of memory");
            goto out;
        }
        rc = interop_writer_new(fmt, flt->subdomains, &e.w, err);
        if (rc == MRD_OK)
            rc = interop_writer_begin(e.w, err);
        if (rc != MRD_OK)
            goto out;
    }
    rc = store_objects_query(st, &q, visible, emit, &e, NULL, err);
    if (rc != MRD_OK)
        goto out;
    if (interop_format_is_stix(fmt)) {
        if (fmt == INTEROP_F_STIX)
            rc = mrd_buf_puts(&e.out, "],\"type\":\"bundle\"}\n", err);
        if (rc == MRD_OK && e.out.len > 0)
            rc = sink->write(sink->ctx, NULL, e.out.data, e.out.len, err);
    } else {
        rc = interop_writer_end(e.w, err);
        if (rc == MRD_OK)
            rc = interop_writer_flush(e.w, sink, true, err);
        ret->rules = interop_writer_rules(e.w);
    }
    if (rc == MRD_OK && flt->audit != NULL)
        rc = audit_flush(flt->audit, err);
out:
    interop_writer_free(e.w);
    mrd_free(e.scratch);
    mrd_free(e.pscratch);
    mrd_buf_release(&e.out);
    mrd_buf_release(&e.valbuf);
    mrd_buf_release(&e.minimised);
    return rc;
}
