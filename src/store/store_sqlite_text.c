/*
 * store_sqlite_text.c: the free-text and reference indexes in the SQLite
 * store (store.h, "free text and references").
 *
 * text_index is a contentless FTS5 table (the words only, not the text:
 * the bodies are already in objects) whose rowid is the version's seq;
 * ref_index holds (ref, seq, role), one row per id a version points at.
 * Both are written by the insert path in the same transaction as the
 * version (sq__index_text), and for older databases once by the backfill
 * of store_sqlite_values.c. The fields are read with SQLite's own JSON
 * functions from the canonical body. A deleted version's words and
 * references are removed with it (sq__unindex_text); every search joins
 * objects anyway, and seqs are never reused.
 */
#include "store/store_int.h"

/* The descriptive text of a version: its description, a note's abstract
 * and content, an opinion's explanation. */
#define TEXT_OF(b)                                                                                 \
    "nullif(trim(coalesce(json_extract(" b ", '$.description'), '') || ' ' ||"                     \
    " coalesce(json_extract(" b ", '$.abstract'), '') || ' ' ||"                                   \
    " coalesce(json_extract(" b ", '$.content'), '') || ' ' ||"                                    \
    " coalesce(json_extract(" b ", '$.explanation'), '')), '')"

/* The versions stored after ?1 that may have text or references: a
 * cheap byte test first, in SQL, since most versions (SCOs, sightings)
 * have neither and need no JSON parsing. */
#define HAS(k) "instr(body, '\"" k "\"') > 0 OR "
#define AFTER(tests)                                                                               \
    "SELECT seq, CAST(body AS TEXT) AS b FROM objects WHERE seq > ?1 AND (" tests "0)"

/* clang-format off */
static const char index_words[] =
    "INSERT INTO text_index (rowid, name, description)"
    " SELECT seq, n, d FROM (SELECT seq, json_extract(b, '$.name') AS n, " TEXT_OF("b") " AS d"
    " FROM (" AFTER(HAS("name") HAS("description") HAS("abstract") HAS("content")
                    HAS("explanation")) "))"
    " WHERE n IS NOT NULL OR d IS NOT NULL";

#define REF(path, role)                                                                            \
    " UNION ALL SELECT json_extract(b, '$." path "'), seq, " role " FROM o"                        \
    " WHERE json_type(b, '$." path "') = 'text'"

static const char index_refs[] =
    "WITH o AS (" AFTER(HAS("object_refs") HAS("source_ref") HAS("sighting_of_ref")) ")"
    " INSERT OR IGNORE INTO ref_index (ref, seq, role)"
    " SELECT j.value, o.seq, 0 FROM o, json_each(o.b, '$.object_refs') AS j"
    " WHERE j.type = 'text'" REF("source_ref", "1") REF("target_ref", "2")
    REF("sighting_of_ref", "3");
/* clang-format on */

enum mrd_code sq__index_text_after(struct sq_conn *c, int64_t after, struct mrd_err *err)
{
    /* One statement for all the versions of a request, not one per
     * version: every statement that writes inside a transaction holding a
     * virtual table makes FTS5 flush its pending words into a new segment
     * (a per-version INSERT .. SELECT is such a statement), which cost 90%
     * of ingest time. Here a request's words are flushed once. */
    enum mrd_code rc =
        sq__run(c, "text index", index_words, SQ_ARGS(SQ_INT(after)), NULL, NULL, NULL, err);

    if (rc == MRD_OK)
        rc = sq__run(c, "text index", index_refs, SQ_ARGS(SQ_INT(after)), NULL, NULL, NULL, err);
    return rc;
}

enum mrd_code sq__unindex_text(struct sq_conn *c, int64_t seq, struct mrd_err *err)
{
    enum mrd_code rc;

    /* Its references go too (an erased version leaves nothing behind):
     * every string of the body is a candidate ref, so each delete is a
     * primary-key seek. */
    rc = sq__run(c, "reference index",
                 "DELETE FROM ref_index WHERE seq = ?1 AND ref IN (SELECT j.value FROM objects o,"
                 " json_tree(CAST(o.body AS TEXT)) AS j WHERE o.seq = ?1 AND j.type = 'text')",
                 SQ_ARGS(SQ_INT(seq)), NULL, NULL, NULL, err);
    if (rc != MRD_OK)
        return rc;
    /* A contentless FTS5 table forgets a row only when told the values it
     * indexed: the same expressions over the same stored bytes. The words
     * of a deleted (erased) version must not stay behind. */
    return sq__run(
        c, "text index",
        "INSERT INTO text_index (text_index, rowid, name, description)"
        " SELECT 'delete', ?1, n, d FROM (SELECT json_extract(b, '$.name') AS n, " TEXT_OF(
            "b") " AS d FROM (SELECT CAST(body AS TEXT) AS b FROM objects"
                 " WHERE seq = ?1)) WHERE n IS NOT NULL OR d IS NOT NULL",
        SQ_ARGS(SQ_INT(seq)), NULL, NULL, NULL, err);
}

/* ---- search ---- */

enum mrd_code
sq__text_search(struct store *st, const char *fts, size_t limit,
                bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
                enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
                void *ctx, bool *ret_more, struct mrd_err *err)
{
    /* the role column reads 0 */
    return store__found_query(st,
                              STORE_FOUND_COLS ", 0 FROM text_index t JOIN objects o"
                                               " ON o.seq = t.rowid WHERE text_index MATCH ?1"
                                               " ORDER BY t.rank, o.seq DESC",
                              SQ_ARGS(SQ_STR(fts)), limit, visible, emit, ctx, ret_more, err);
}
