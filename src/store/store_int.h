/*
 * store_int: what the store's own files share (not for other subsystems).
 *
 * store.c: dispatch, argument checks common to every backend, uuid and
 * token helpers. store_sqlite.c: the SQLite connection pool, schema and
 * migrations, and the administrative records. store_sqlite_obj.c: object
 * versions, queries, deletion and status resources. store_sqlite_query.c:
 * sq__run, the one place a SQLite statement runs. store_rows.c: the
 * administrative records' operations, SQL and row conversions, shared by
 * both backends over their driver. store_pg.c: the PostgreSQL backend
 * (store_pg_none.c without libpq).
 */
#ifndef MRD_STORE_INT_H
#define MRD_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store.h"

/* Latin letters with diacritics and the ASCII letters they fold to, as
 * FTS5's remove_diacritics folds them: one character of STORE_FOLD_FROM
 * (each two bytes of UTF-8, U+00C0..U+017E) to the byte of STORE_FOLD_TO at
 * the same place. PostgreSQL's text index (store_pg.c, PG_FOLD: translate())
 * and the words meridian computes for it (store_text_of_object) use both. */
#define STORE_FOLD_FROM                                                                            \
    "àáâãäåāăąÀÁÂÃÄÅĀĂĄçćĉċčÇ"                                             \
    "ĆĈĊČďđĎĐèéêëēĕėęěÈÉÊËĒĔĖ"                                             \
    "ĘĚĝğġģĜĞĠĢĥħĤĦìíîïĩīĭįıÌ"                                             \
    "ÍÎÏĨĪĬĮİĵĴķĶĺļľŀłĹĻĽĿŁñń"                                             \
    "ņňÑŃŅŇòóôõöøōŏőÒÓÔÕÖØŌŎŐ"                                             \
    "ŕŗřŔŖŘśŝşšŚŜŞŠţťŧŢŤŦùúûü"                                             \
    "ũūŭůűųÙÚÛÜŨŪŬŮŰŲŵŴýÿŷÝŸŶ"                                             \
    "źżžŹŻŽ"
#define STORE_FOLD_TO                                                                              \
    "aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghh"                                 \
    "hhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooo"                                 \
    "rrrrrrssssssssttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz"

/* ---- backend-independent helpers (store.c) ---- */

/* A name is 1..max chars of [A-Za-z0-9._-], not starting with '.'. */
enum mrd_code store__check_name(const char *what, const char *s, size_t len, size_t max,
                                struct mrd_err *err);

/* Fills secret with a new token ("mrd_" + base64url of 32 random bytes). */
void store__token_generate(char secret[STORE_TOKEN_LEN + 1]);

/* SHA-256 of the presented token bytes: what the database keeps. */
#define STORE_TOKEN_HASH_LEN 32
void store__token_hash(const char *secret, size_t len, unsigned char out[STORE_TOKEN_HASH_LEN]);

/* Fills id with a new console session id (base64url of 32 random bytes). */
void store__session_id_generate(char id[STORE_SESSION_ID_LEN + 1]);

/* The PostgreSQL backend (store_pg.c): MRD_E_UNSUPP until it exists. */
enum mrd_code store__pg_open(const char *dsn, const struct store_open_opts *opts,
                             struct store **ret, struct mrd_err *err);

/* The SQLite backend (store_sqlite.c). */
enum mrd_code store__sqlite_open(const char *dir, const struct store_open_opts *opts,
                                 struct store **ret, struct mrd_err *err);

/* ---- rows, whichever the driver (store_rows.c) ---- */

struct sq_arg; /* a statement's argument, below: both backends bind the same ones */

/* A result row as a backend's driver presents it: the conversions of the
 * administrative records below are written once, for both backends. Text
 * is (ptr, len), "" for NULL, valid until the row moves on. */
struct store_rowrd {
    void *stmt;      /* SQLite: the statement */
    const void *res; /* PostgreSQL: the result, and the row within it */
    int row;
    int64_t (*i64)(const struct store_rowrd *r, int col);
    bool (*null)(const struct store_rowrd *r, int col);
    const char *(*text)(const struct store_rowrd *r, int col, size_t *ret_len);
    /* a BLOB (SQLite) or BYTEA (PostgreSQL) column's bytes */
    const char *(*blob)(const struct store_rowrd *r, int col, size_t *ret_len);
};

/* The statements' shared column lists (both backends take the same SQL,
 * with ?N parameters) and the conversions that read them. */
#define STORE_ORG_COLS "SELECT key, name, relation, created, disabled, deleted FROM orgs "
#define STORE_ORG_RETURNING " RETURNING key, name, relation, created, disabled, deleted"
#define STORE_TOKEN_SELECT "SELECT " SQ_TOKEN_COLS " FROM tokens t JOIN orgs o ON o.key = t.org "
#define STORE_META_PUT                                                                             \
    "INSERT INTO meta (key, value) VALUES (?1, ?2) "                                               \
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
#define STORE_ROOT_COLS "SELECT name, title, description, max_content_length FROM api_roots "
#define STORE_COLL_COLS                                                                            \
    "SELECT key, id, api_root, title, description, alias, default_tlp, public_read "               \
    "FROM collections "
#define STORE_GRANT_LIST                                                                           \
    "SELECT g.org, o.name, g.collection, c.id, c.api_root, g.can_read,"                            \
    " g.can_write FROM grants g JOIN orgs o ON o.key = g.org"                                      \
    " JOIN collections c ON c.key = g.collection"                                                  \
    " WHERE (?1 = 0 OR g.org = ?1) AND (?2 = 0 OR g.collection = ?2)"                              \
    " AND (g.can_read <> 0 OR g.can_write <> 0) ORDER BY g.org, g.collection"
/* Copies a text column into a fixed field (truncating: the fields are sized
 * by the same maxima the writers check). */
void store__copy_col(const struct store_rowrd *r, int col, char *dst, size_t size);
void store__org_from(const struct store_rowrd *r, struct store_org *o);
void store__token_from(const struct store_rowrd *r, struct store_token *t); /* SQ_TOKEN_COLS */
void store__root_from(const struct store_rowrd *r, struct store_api_root *root);
void store__coll_from(const struct store_rowrd *r, struct store_collection *c);
void store__grant_row_from(const struct store_rowrd *r, struct store_grant_row *g);

/* Converts the current row; any code but MRD_OK stops the statement and is
 * what the query returns. */
typedef enum mrd_code (*store_row_fn)(void *ctx, const struct store_rowrd *r, struct mrd_err *err);
/* A row fn for a one-column integer result: stores it in *(int64_t *)ctx. */
enum mrd_code store__i64_row(void *ctx, const struct store_rowrd *r, struct mrd_err *err);

/* What a backend gives the record operations below (store_ops.driver):
 * run one statement (?N parameters, SQ_* arguments) on a connection
 * borrowed for it -- read: the thread's read snapshot where the backend
 * has one -- calling row (may be NULL) for each result row; ret_n (may be
 * NULL) as sq__run. A unique or foreign-key violation is MRD_E_EXISTS
 * "<what>: already exists". */
struct store_tx;
struct store_driver {
    enum mrd_code (*query)(struct store *st, bool read, const char *what, const char *sql,
                           const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                           uint64_t *ret_n, struct mrd_err *err);
    /* Runs op in one write transaction on a borrowed connection (SQLite:
     * BEGIN IMMEDIATE; PostgreSQL: BEGIN), committed when op returns
     * MRD_OK, rolled back otherwise. */
    enum mrd_code (*write_tx)(struct store *st,
                              enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                  struct mrd_err *err),
                              void *args, struct mrd_err *err);
    /* Runs op in one read snapshot (SQLite: the thread's pinned one when
     * there is one), rolled back after. */
    enum mrd_code (*read_tx)(struct store *st,
                             enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                 struct mrd_err *err),
                             void *args, struct mrd_err *err);
    /* dialect: SQL listing (as a subquery's rows) the integers of the JSON
     * array "[1,2]" bound to ?1 (store_agg.c) */
    const char *int_list;
    /* optional (NULL: write_tx): a write transaction of rows that no object
     * write reads, orders or waits for (the ledger's marks, by its one
     * leader): PostgreSQL runs it without the write lock, so ingest does
     * not wait for it */
    enum mrd_code (*rows_tx)(struct store *st,
                             enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                 struct mrd_err *err),
                             void *args, struct mrd_err *err);
};

/* One statement over st's driver (store_driver.query), and one inside tx
 * (store_txops.run, not streamed): what the shared files call. */
enum mrd_code store__q(struct store *st, bool read, const char *what, const char *sql,
                       const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                       uint64_t *ret_n, struct mrd_err *err);
enum mrd_code store__tx_run(const struct store_tx *tx, const char *what, const char *sql,
                            const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                            uint64_t *ret_n, struct mrd_err *err);
/* A statement inside tx whose every row is wanted and whose row function
 * runs no statement on tx: store_txops.walk where the backend has one (one
 * row in memory at a time), else streamed. */
enum mrd_code store__tx_walk(const struct store_tx *tx, const char *what, const char *sql,
                             const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                             uint64_t *ret_n, struct mrd_err *err);

/* The operations of store.h on the administrative records, written once
 * for both backends over their driver (store_rows.c). A check-then-write
 * is one statement (collection_create), so several front-ends on one
 * PostgreSQL database cannot both win. */
enum mrd_code store__org_create(struct store *st, const char *name, enum policy_relation rel,
                                struct store_org *ret, struct mrd_err *err);
enum mrd_code store__org_get(struct store *st, const char *name, int64_t key, struct store_org *ret,
                             struct mrd_err *err);
enum mrd_code store__org_list(struct store *st,
                              enum mrd_code (*cb)(void *ctx, const struct store_org *org),
                              void *ctx, struct mrd_err *err);
enum mrd_code store__token_create(struct store *st, int64_t org_key, const char *name,
                                  int64_t expires_usec, char ret_secret[STORE_TOKEN_LEN + 1],
                                  struct store_token *ret, struct mrd_err *err);
enum mrd_code store__token_lookup(struct store *st, const char *secret, size_t len,
                                  struct store_token *ret, struct mrd_err *err);
enum mrd_code store__token_access(struct store *st, const char *secret, size_t len,
                                  const char *api_root, size_t root_len, const char *id_or_alias,
                                  size_t id_len, struct store_token *ret_tok,
                                  struct store_collection *ret_coll, bool *ret_found,
                                  struct store_grant *ret_grant, struct mrd_err *err);
enum mrd_code store__token_list(struct store *st,
                                enum mrd_code (*cb)(void *ctx, const struct store_token *tok),
                                void *ctx, struct mrd_err *err);
enum mrd_code store__api_root_put(struct store *st, const struct store_api_root *root,
                                  bool *ret_created, struct mrd_err *err);
enum mrd_code store__api_root_get(struct store *st, const char *name, size_t len,
                                  struct store_api_root *ret, struct mrd_err *err);
enum mrd_code store__api_root_list(struct store *st,
                                   enum mrd_code (*cb)(void *ctx, const struct store_api_root *r),
                                   void *ctx, struct mrd_err *err);
enum mrd_code store__collection_create(struct store *st, struct store_collection *coll,
                                       struct mrd_err *err);
enum mrd_code store__collection_get(struct store *st, const char *api_root, size_t root_len,
                                    const char *id_or_alias, size_t len,
                                    struct store_collection *ret, struct mrd_err *err);
enum mrd_code store__collection_list(struct store *st, const char *api_root,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_collection *c),
                                     void *ctx, struct mrd_err *err);
enum mrd_code store__grant_set(struct store *st, int64_t org_key, int64_t collection,
                               struct store_grant g, struct mrd_err *err);
enum mrd_code store__grant_get(struct store *st, int64_t org_key, int64_t collection,
                               struct store_grant *ret, struct mrd_err *err);
enum mrd_code store__grant_list(struct store *st, int64_t org_key, int64_t collection,
                                enum mrd_code (*cb)(void *ctx, const struct store_grant_row *g),
                                void *ctx, struct mrd_err *err);
enum mrd_code store__token_rotate(struct store *st, const char *name, int64_t overlap_usec,
                                  char ret_secret[STORE_TOKEN_LEN + 1], struct store_token *ret,
                                  struct mrd_err *err);
enum mrd_code store__org_state(struct store *st, const char *name, bool disable, bool del,
                               struct store_org_change *ret, struct mrd_err *err);
enum mrd_code store__org_revoke_access(struct store *st, int64_t org_key,
                                       struct store_org_change *ret, struct mrd_err *err);
enum mrd_code store__meta_get(struct store *st, const char *key, char *ret_val, size_t size,
                              struct mrd_err *err);
enum mrd_code store__meta_set(struct store *st, const char *key, const char *val,
                              struct mrd_err *err);

/* ---- objects, whichever the backend (store_obj.c) ---- */

/* What a backend gives the object operations: statements on one
 * connection, inside the transaction the backend opened for the call. */
struct store_ins_req;
struct store_txops {
    /* Runs one statement (as store_driver.query, on conn). stream: the
     * rows may be many and row may stop the statement early (returning a
     * code it recognises); the backend then fetches them in batches. */
    enum mrd_code (*run)(void *conn, bool stream, const char *what, const char *sql,
                         const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                         uint64_t *ret_n, struct mrd_err *err);
    /* optional (NULL: the backend has none): the free-text index of the
     * versions stored after seq `after` (once per request) and a
     * version's removal from it */
    enum mrd_code (*index_text_after)(void *conn, int64_t after, struct mrd_err *err);
    enum mrd_code (*unindex_text)(void *conn, int64_t seq, struct mrd_err *err);
    /* optional (NULL: index_text_after): the same for request q's new
     * versions (seqs[i]: the seq of q's object i, 0 when not stored), from
     * words meridian computed before the write lock (q->text:
     * store_text_of_object) rather than by the database */
    enum mrd_code (*index_text_rows)(void *conn, const struct store_ins_req *q, const int64_t *seqs,
                                     struct mrd_err *err);
    /* A request's new versions are written this many per multi-row
     * INSERT, and status details and value index rows in multi-row
     * INSERTs too, statements of up to STORE_BATCH_PARAMS parameters
     * (store_obj.c). 0: one statement per row. */
    unsigned batch_rows;
    /* optional (NULL: the backend counts every row as it is written): the
     * overview's aggregates of batched versions, counted per batch.
     * agg_pause(true) before a batch's INSERTs stops the per-row count,
     * agg_count adds n versions of one group (cols: STORE_AGG_COLS values,
     * the row's collection, tlp, local, creator_org, community, recipients,
     * writer_only, source_peer and type; hour: date_added's hour) that the
     * count missed, agg_pause(false) restarts it; inside one transaction. */
    enum mrd_code (*agg_pause)(void *conn, bool on, struct mrd_err *err);
    enum mrd_code (*agg_count)(void *conn, const struct sq_arg *cols, int64_t hour, int64_t n,
                               struct mrd_err *err);
    /* optional (0: VALUES lists of batch_rows): the backend binds a column
     * of many rows as one SQ_ARRAY parameter, so a request's new versions,
     * their value index rows, its status details and its existence look-up
     * are one statement of fixed text each, of up to this many rows
     * (PostgreSQL: INSERT ... SELECT FROM unnest(...), = ANY(...)) */
    unsigned array_rows;
    /* optional (NULL: run with stream): a statement whose every row is
     * wanted (a whole table, store_copy), the rows handed to row as they
     * arrive, one at a time, so that memory does not grow with the result
     * (PostgreSQL: single-row mode). row must not run statements on conn;
     * a code other than MRD_OK from it stops the statement (cancelled on
     * the server) and is returned. An error after some rows were handed
     * on (a backend terminated mid-walk) is returned as such: the caller
     * undoes what it did with them. */
    enum mrd_code (*walk)(void *conn, const char *what, const char *sql, const struct sq_arg *args,
                          size_t nargs, store_row_fn row, void *ctx, uint64_t *ret_n,
                          struct mrd_err *err);
    /* optional (NULL: one INSERT per row): rows loaded into one table in
     * bulk inside the transaction (PostgreSQL: COPY FROM STDIN in binary,
     * sent in chunks without waiting for the server). load_begin names the
     * table and its column list (ncols columns); load_row takes one row's
     * values (SQ_* arguments, ncols of them); load_end ends the load
     * (ok false: abandoned, the transaction is to be rolled back) and
     * says how many rows the server stored. Nothing else runs on conn
     * between load_begin and load_end. */
    enum mrd_code (*load_begin)(void *conn, const char *what, const char *table, const char *cols,
                                size_t ncols, struct mrd_err *err);
    enum mrd_code (*load_row)(void *conn, const struct sq_arg *vals, size_t n, struct mrd_err *err);
    enum mrd_code (*load_end)(void *conn, bool ok, uint64_t *ret_n, struct mrd_err *err);
    /* 0: a query's rows stream from one statement (run with stream set).
     * Else object queries run as plain statements of at most this many
     * rows each (LIMIT), a page and its look-ahead in one when it fits
     * (store_obj.c, query_paged). */
    unsigned page_rows;
};

#define STORE_AGG_COLS 9
#define STORE_BATCH_PARAMS 1536 /* parameters of one multi-row statement */

struct store_tx {
    const struct store_txops *ops;
    void *conn;
};

/* One store_objects_insert(_status) call. */
struct store_ins_req {
    int64_t collection;
    const struct store_object_in *objs;
    size_t n;
    enum store_insert_outcome *outcomes; /* may be NULL */
    int64_t *dates;                      /* may be NULL */
    const struct store_status *status;   /* written in the same transaction; may be NULL */
    const void *text; /* the backend's text index entries of objs (index_text_rows), or NULL */
};

/* Fills row from the SQ_ROW_COLS columns (+ the body at SQ_ROW_BODY_COL
 * when body); recipients has room for STORE_RECIPIENTS_MAX. */
void store__row_from(const struct store_rowrd *r, bool body, struct store_row *row,
                     int64_t *recipients);

/* Writes one request's objects (and its status) inside tx, which holds
 * the backend's write lock (date_added is assigned under it). rcpt is a
 * scratch buffer. */
struct mrd_buf;
enum mrd_code store__insert_req(const struct store_tx *tx, const struct store_ins_req *q,
                                struct mrd_buf *rcpt, struct mrd_err *err);
/* The value index of one new version, inside tx. */
enum mrd_code store__index_values(const struct store_tx *tx, int64_t seq, const char *body,
                                  size_t len, struct mrd_err *err);
/* store_objects_query inside tx (one snapshot for the whole page). */
enum mrd_code store__objects_query(const struct store_tx *tx, const struct store_query *q,
                                   bool (*visible)(void *ctx, const struct store_row *row),
                                   enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                         struct mrd_err *err),
                                   void *ctx, struct store_query_result *ret, struct mrd_err *err);
/* store_objects_delete inside tx (holding the write lock). */
enum mrd_code store__objects_delete(const struct store_tx *tx, int64_t collection, const char *id,
                                    size_t id_len, const struct store_match *match,
                                    bool (*visible)(void *ctx, const struct store_row *row),
                                    void *ctx, size_t *ret_deleted, struct mrd_err *err);
/* Gives the versions of (collection, id) their first/last flags back
 * after some were deleted, inside tx. */
enum mrd_code store__refresh_ends(const struct store_tx *tx, int64_t collection, const char *id,
                                  size_t id_len, struct mrd_err *err);
/* The searches, both backends over their driver (store_search.c):
 * store_value_search and store_refs_to; store__found_query runs one
 * backend's free-text statement (STORE_FOUND_COLS, then the role column;
 * rows best first), handing the first limit visible rows to emit. */
#define STORE_FOUND_COLS "SELECT " SQ_ROW_COLS ", o.body, o.collection"
enum mrd_code store__value_search(struct store *st, const struct store_value *v, size_t limit,
                                  bool (*visible)(void *ctx, int64_t collection,
                                                  const struct store_row *row),
                                  enum mrd_code (*emit)(void *ctx, const struct store_value_hit *h,
                                                        struct mrd_err *err),
                                  void *ctx, bool *ret_more, struct mrd_err *err);
enum mrd_code store__found_query(
    struct store *st, const char *sql, const struct sq_arg *args, size_t nargs, size_t limit,
    bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
    enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err), void *ctx,
    bool *ret_more, struct mrd_err *err);
enum mrd_code
store__refs_to(struct store *st, const char *id, size_t len, unsigned roles, size_t limit,
               bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
               enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
               void *ctx, bool *ret_more, struct mrd_err *err);
/* The overview's aggregates (their counters kept by each backend's
 * triggers), the newest objects from peers and the sent counters, both
 * backends over their driver (store_agg.c). */
enum mrd_code store__agg_query(struct store *st, const struct store_agg_query *q,
                               struct mrd_err *err);
enum mrd_code store__objects_newest(struct store *st, const struct store_newest *q,
                                    struct mrd_err *err);
enum mrd_code store__sent_record(struct store *st, const char *dest, const int64_t *seqs, size_t n,
                                 int64_t at_usec, struct mrd_err *err);
/* store_objects_count over the backend's driver. */
enum mrd_code store__objects_count(struct store *st, int64_t collection, uint64_t *ret,
                                   struct mrd_err *err);
/* store_conflict_list over the backend's driver. */
enum mrd_code store__conflict_list(struct store *st, int64_t collection, int64_t id,
                                   enum mrd_code (*cb)(void *ctx, const struct store_conflict *c,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
/* Status resources inside tx. */
enum mrd_code store__status_write(const struct store_tx *tx, const struct store_status *sts,
                                  struct mrd_err *err);
enum mrd_code store__status_get(const struct store_tx *tx, const char *id, size_t len,
                                struct store_status **ret, struct mrd_err *err);
enum mrd_code store__status_purge(const struct store_tx *tx, int64_t older_than_usec,
                                  uint64_t *ret_purged, struct mrd_err *err);

/* ---- SQLite internals shared by store_sqlite*.c ---- */

#define SQ_STMT_CACHE 48 /* prepared statements kept per connection */

struct sq_stmt_slot {
    char *sql; /* key (owned copy) */
    sqlite3_stmt *stmt;
};

struct sq_conn {
    sqlite3 *db;
    struct sq_conn *next; /* free list */
    struct sq_stmt_slot cache[SQ_STMT_CACHE];
    unsigned clock; /* next slot to evict */
};

/* One store_objects_insert call waiting for a group commit. */
struct store_ins_wait {
    struct store_ins_req req;
    enum mrd_code rc;
    struct mrd_err err;
    bool done;
    struct store_ins_wait *next;
};

/* Group commit (store_group.c): concurrent inserts queue here; one of
 * them (the leader) has the backend write the whole queue in one
 * transaction, one commit. */
struct store_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store_ins_wait *head, *tail;
    bool leader;
};

void store__group_init(struct store_group *g);
void store__group_destroy(struct store_group *g);
/* Queues q and returns when it is written: write(ctx, head) runs in the
 * leader's thread for a list of requests and sets each one's rc and err
 * (a request it could not commit gets the commit's error). */
enum mrd_code store__group_insert(struct store_group *g, const struct store_ins_req *q,
                                  void (*write)(void *ctx, struct store_ins_wait *head), void *ctx,
                                  struct mrd_err *err);
/* Without the group's COMMIT (rc not MRD_OK) nothing of it is stored:
 * every request that had succeeded gets rc and err. */
void store__group_failed(struct store_ins_wait *head, enum mrd_code rc, const struct mrd_err *err);

struct sq_store {
    struct store base;
    char path[STORE_PATH_MAX + 1];
    pthread_mutex_t mu; /* the connection pool */
    pthread_cond_t cv;
    struct sq_conn *free_conns;
    unsigned n_open;
    unsigned max_conn;
    struct store_group ins; /* group commit of object inserts */
    /* Pinned read snapshots (store_read_begin): one connection per thread
     * that pinned, listed here to be closed with the store. */
    uint64_t gen; /* unique per opened store in this process */
    struct sq_conn *thread_conns;
    /* The WAL checkpoint, off the committing thread (store_sqlite_ckpt.c):
     * a commit that leaves SQ_WAL_CKPT_FRAMES or more in the WAL wakes a
     * thread with a connection of its own. */
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    pthread_t ckpt_thread;
    bool ckpt_started, ckpt_want, ckpt_stop, ckpt_broken;
};

/* The WAL hook of every connection of s (replaces SQLite's automatic
 * checkpoint, which ran inside COMMIT on the committing thread). */
void sq__ckpt_attach(struct sq_store *s, sqlite3 *db);
/* Stops the checkpoint thread, if it runs (store close). */
void sq__ckpt_stop(struct sq_store *s);

/* Borrows a connection (opening one when the pool allows, waiting
 * otherwise) and gives it back. */
enum mrd_code sq__acquire(struct sq_store *s, struct sq_conn **ret, struct mrd_err *err);
void sq__release(struct sq_store *s, struct sq_conn *c);
/* For read-only calls: the calling thread's pinned connection, inside its
 * open snapshot, when store_read_begin pinned one (sq__release then leaves
 * it alone); else sq__acquire. Callers start a transaction only when
 * sqlite3_get_autocommit() says none is open. */
enum mrd_code sq__acquire_read(struct sq_store *s, struct sq_conn **ret, struct mrd_err *err);

/* A cached prepared statement for sql, reset and with bindings cleared. */
enum mrd_code sq__prepare(struct sq_conn *c, const char *sql, sqlite3_stmt **ret,
                          struct mrd_err *err);

/* Maps a SQLite result code to MRD_E_DB/MRD_E_TIMEOUT/MRD_E_NOMEM with the
 * database's message, prefixed by what. */
enum mrd_code sq__fail(struct sq_conn *c, int rc, const char *what, struct mrd_err *err);

/* Runs a statement without results ("BEGIN IMMEDIATE", "COMMIT"...). */
enum mrd_code sq__exec(struct sq_conn *c, const char *sql, struct mrd_err *err);

/* ---- running a statement (store_sqlite_query.c) ---- */

/* One parameter of sq__run, bound to ?1, ?2... in order. Text and blobs
 * are borrowed for the call. */
enum sq_arg_type { SQ_ARG_NULL, SQ_ARG_INT, SQ_ARG_TEXT, SQ_ARG_BLOB, SQ_ARG_ARRAY };
struct sq_arg {
    enum sq_arg_type type;
    int64_t i;             /* an integer; an array: the distance between its elements */
    const void *p;         /* text, a blob; an array: its first element (a struct sq_arg) */
    int len;               /* bytes; -1: NUL-terminated text; an array: its elements */
    enum sq_arg_type elem; /* an array's elements (each that type or SQ_NUL) */
};
#define SQ_NUL ((struct sq_arg){.type = SQ_ARG_NULL})
#define SQ_INT(v) ((struct sq_arg){.type = SQ_ARG_INT, .i = (int64_t)(v)})
#define SQ_STR(s) ((struct sq_arg){.type = SQ_ARG_TEXT, .p = (s), .len = -1})
#define SQ_TEXT(s, n) ((struct sq_arg){.type = SQ_ARG_TEXT, .p = (s), .len = (int)(n)})
#define SQ_BLOB(b, n) ((struct sq_arg){.type = SQ_ARG_BLOB, .p = (b), .len = (int)(n)})
/* One parameter holding n values of type t (SQ_ARG_INT, _TEXT, _BLOB; an
 * element may be SQ_NUL) found at first[0], first[stride], ...: a column of
 * a multi-row statement (store_txops.array_rows; PostgreSQL only). */
#define SQ_ARRAY(t, first, n, stride)                                                              \
    ((struct sq_arg){                                                                              \
        .type = SQ_ARG_ARRAY, .elem = (t), .p = (first), .len = (int)(n), .i = (int64_t)(stride)})
/* A time column: NULL for STORE_TIME_NONE. */
#define SQ_TIME(v) ((v) == STORE_TIME_NONE ? SQ_NUL : SQ_INT(v))
/* The (args, nargs) pair of sq__run from a list of SQ_* values. */
#define SQ_ARGS(...)                                                                               \
    (const struct sq_arg[]){__VA_ARGS__},                                                          \
        sizeof((const struct sq_arg[]){__VA_ARGS__}) / sizeof(struct sq_arg)
#define SQ_NOARGS NULL, 0

/* Converts the current row of st; any code but MRD_OK stops the query and
 * is what the query returns. */
typedef enum mrd_code (*sq_row_fn)(void *ctx, sqlite3_stmt *st, struct mrd_err *err);

/* The current row of st, for the store__*_from conversions. */
struct store_rowrd sq__rowrd(sqlite3_stmt *st);

/* The SQLite driver of the shared record operations (sq__query). */
extern const struct store_driver sq__driver;

/* The SQLite transaction operations of store_obj.c; a store_tx on c. */
extern const struct store_txops sq__txops;
#define SQ_TX(c) ((struct store_tx){&sq__txops, (c)})

/* Runs sql on c, inside whatever transaction the caller holds: prepares it
 * (cached), binds args, steps it calling row (may be NULL) for each result
 * row, and resets it. A constraint violation is MRD_E_EXISTS "<what>:
 * already exists"; any other failure is sq__fail's, prefixed by what.
 * ret_n (may be NULL) gets the number of rows returned or, for a statement
 * that returns none and writes, the number of rows it changed. */
enum mrd_code sq__run(struct sq_conn *c, const char *what, const char *sql,
                      const struct sq_arg *args, size_t nargs, sq_row_fn row, void *ctx,
                      uint64_t *ret_n, struct mrd_err *err);

/* sq__run on a connection borrowed for this one statement: the thread's
 * pinned snapshot when read and one is pinned (sq__acquire_read), else one
 * from the pool. */
enum mrd_code sq__query(struct sq_store *s, bool read, const char *what, const char *sql,
                        const struct sq_arg *args, size_t nargs, sq_row_fn row, void *ctx,
                        uint64_t *ret_n, struct mrd_err *err);

/* Rolls back when a transaction is open; ignores errors (cleanup path). */
void sq__rollback(struct sq_conn *c);

/* Text column as (ptr, len); "" for NULL. */
const char *sq__text(sqlite3_stmt *st, int col, size_t *ret_len);

/* Copies a text column into a fixed field (truncating: the fields are
 * sized by the same maxima the writers check). */
void sq__copy(sqlite3_stmt *st, int col, char *dst, size_t size);

/* The columns sq__row_from_stmt reads, in order: the row's fields, then
 * the packed version flags (store_sqlite_obj.c's F_*), then -- when wanted
 * -- the body as column SQ_ROW_BODY_COL. */
#define SQ_ROW_COLS                                                                                \
    "o.seq, o.date_added, o.stix_id, o.type, o.spec_version, o.created, o.modified, o.version,"    \
    " o.revoked, o.tlp, o.local, o.creator_org, o.source_peer, o.community, o.recipients,"         \
    " (o.is_first | (o.is_last << 1) | (o.twin << 2) | (o.shadowed << 3)"                          \
    " | (o.shadowed_first << 4) | (o.writer_only << 5))"
#define SQ_ROW_BODY_COL 16

/* The columns of a token (tokens t JOIN orgs o), in the order
 * sq__token_from_row reads them from column 0. */
#define SQ_TOKEN_COLS                                                                              \
    "t.name, t.org, o.name, o.relation, t.created, t.revoked, t.expires, t.last_used,"             \
    " t.prev_expires, t.prev_last_used, o.disabled, o.deleted, t.prefix, t.hash, t.prev_hash"
#define SQ_TOKEN_NCOLS 15 /* the columns of SQ_TOKEN_COLS */
void sq__token_from_row(sqlite3_stmt *st, struct store_token *t);

/* Fills row from the SQ_ROW_COLS columns (+ the body when body);
 * recipients has room for STORE_RECIPIENTS_MAX. */
void sq__row_from_stmt(sqlite3_stmt *st, bool body, struct store_row *row, int64_t *recipients);

/* Snapshots, the recorded ledger entries and the event list
 * (store_sqlite_ops.c). */
enum mrd_code sq__snapshot(struct store *st, int fd, uint64_t offset, struct mrd_pace *pace,
                           struct store_snapshot_info *ret, struct mrd_err *err);

/* Legal holds and object lookups (store_hold.c, both backends over their
 * driver). store__check_holds: MRD_E_PERM naming the hold when one of the
 * n object rows (seqs) is under an active legal hold; called inside the
 * deleting (or erasing) transaction. */
enum mrd_code store__check_holds(const struct store_tx *tx, const int64_t *seqs, size_t n,
                                 struct mrd_err *err);
enum mrd_code store__hold_create(struct store *st, const struct store_hold *h, const int64_t *seqs,
                                 size_t n, const struct store_ledger_event *ev,
                                 struct mrd_err *err);
enum mrd_code store__hold_update(struct store *st, const struct store_hold *h,
                                 const struct store_ledger_event *ev, struct mrd_err *err);
enum mrd_code store__hold_list(struct store *st, const char *id, const char *case_id,
                               enum mrd_code (*cb)(void *ctx, const struct store_hold *h,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);
enum mrd_code store__hold_objects(struct store *st, const char *id,
                                  enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);
enum mrd_code store__objects_find(struct store *st, const struct store_find *f,
                                  enum mrd_code (*cb)(void *ctx, const struct store_held *o,
                                                      struct mrd_err *err),
                                  void *ctx, struct mrd_err *err);

/* The ledger queue (store_ledger.c, both backends over their driver). */
enum mrd_code store__queue_event(const struct store_tx *tx, const struct store_ledger_event *ev,
                                 int64_t *ret_ev, struct mrd_err *err);
enum mrd_code store__event_add(struct store *st, const struct store_ledger_event *ev,
                               int64_t *ret_ev, struct mrd_err *err);
enum mrd_code store__ledger_pending(struct store *st, size_t limit,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_ledger_item *it,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err);
enum mrd_code store__ledger_recorded(struct store *st, int64_t from_leaf, int64_t to_leaf,
                                     enum mrd_code (*cb)(void *ctx,
                                                         const struct store_ledger_item *it,
                                                         int64_t leaf, struct mrd_err *err),
                                     void *ctx, struct mrd_err *err);
enum mrd_code store__ledger_mark(struct store *st, const struct store_ledger_mark *marks, size_t n,
                                 struct mrd_err *err);
enum mrd_code store__ledger_max_leaf(struct store *st, int64_t *ret, struct mrd_err *err);
enum mrd_code store__ledger_events(struct store *st, int64_t since_usec,
                                   enum mrd_code (*cb)(void *ctx, const struct store_event_row *ev,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);

/* Console sessions (store_session.c, both backends over their driver). */
enum mrd_code store__session_create(struct store *st, const char *token_name, int64_t expires_usec,
                                    char ret_id[STORE_SESSION_ID_LEN + 1], struct mrd_err *err);
enum mrd_code store__session_lookup(struct store *st, const char *id, size_t len, int64_t idle_usec,
                                    struct store_session *ret, struct mrd_err *err);
enum mrd_code store__session_end(struct store *st, const char *id, size_t len, struct mrd_err *err);
enum mrd_code store__sessions_end(struct store *st, const char *token_name, int64_t org_key,
                                  uint64_t *ret_n, struct mrd_err *err);
/* Deletes the sessions of the token named name inside tx (token
 * revocation). */
enum mrd_code store__sessions_drop_token(const struct store_tx *tx, const char *name,
                                         struct mrd_err *err);

/* The value index (store_sqlite_values.c): index one new version inside
 * the inserting transaction; index every stored version once, when a
 * database from before the index is opened; search. */
enum mrd_code sq__index_object(struct sq_conn *c, int64_t seq, const char *body, size_t len,
                               struct mrd_err *err);
enum mrd_code sq__index_backfill(struct sq_conn *c, struct mrd_err *err);

/* The text and reference indexes (store_sqlite_text.c): index every
 * version stored after seq `after`, inside the inserting transaction, once
 * per request (the backfill calls it with 0); search (fts: a
 * store_text_query). */
enum mrd_code sq__index_text_after(struct sq_conn *c, int64_t after, struct mrd_err *err);
/* The overview's aggregates of a batch of new versions (store_sqlite.c;
 * store_txops.agg_pause, agg_count): while paused (on, inside the writing
 * transaction) the per-row trigger counts nothing. */
enum mrd_code sq__agg_pause(struct sq_conn *c, bool on, struct mrd_err *err);
enum mrd_code sq__agg_count(struct sq_conn *c, const struct sq_arg *cols, int64_t hour, int64_t n,
                            struct mrd_err *err);
/* Removes the words of version seq (still stored) from the text index,
 * inside the deleting transaction. */
enum mrd_code sq__unindex_text(struct sq_conn *c, int64_t seq, struct mrd_err *err);
enum mrd_code
sq__text_search(struct store *st, const char *fts, size_t limit,
                bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
                enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
                void *ctx, bool *ret_more, struct mrd_err *err);
/* The access audit, for both backends (store_reads.c); record_tx
 * writes the groups inside tx (SQLite's sq__reads_record, in
 * store_sqlite_ops.c, wraps it in a commit that does not wait for the
 * disk). */
enum mrd_code store__reads_record_tx(const struct store_tx *tx, const struct store_read_batch *b,
                                     size_t nb, struct mrd_err *err);
enum mrd_code store__reads_record(struct store *st, const struct store_read_batch *b, size_t nb,
                                  struct mrd_err *err);
enum mrd_code sq__reads_record(struct store *st, const struct store_read_batch *b, size_t nb,
                               struct mrd_err *err);
enum mrd_code store__reads_list(struct store *st, const struct store_read_filter *f,
                                enum mrd_code (*cb)(void *ctx, const struct store_read_row *r,
                                                    struct mrd_err *err),
                                void *ctx, bool *ret_more, struct mrd_err *err);
enum mrd_code store__reads_seal(struct store *st, struct store_read_digest *d,
                                const struct store_ledger_event *ev, struct mrd_err *err);
enum mrd_code store__reads_digests(struct store *st,
                                   enum mrd_code (*cb)(void *ctx, const struct store_read_digest *d,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
enum mrd_code store__reads_prune(struct store *st, int64_t before_usec, int64_t now_usec,
                                 uint64_t *ret_rows, struct mrd_err *err);

/* The object, status and count ops (store_sqlite_obj.c). */
enum mrd_code sq__objects_insert(struct store *st, int64_t collection,
                                 const struct store_object_in *objs, size_t n,
                                 enum store_insert_outcome *ret_outcomes, int64_t *ret_date_added,
                                 struct mrd_err *err);
enum mrd_code sq__objects_insert_status(struct store *st, int64_t collection,
                                        const struct store_object_in *objs, size_t n,
                                        enum store_insert_outcome *ret_outcomes,
                                        int64_t *ret_date_added, const struct store_status *status,
                                        struct mrd_err *err);
enum mrd_code sq__objects_query(struct store *st, const struct store_query *q,
                                bool (*visible)(void *ctx, const struct store_row *row),
                                enum mrd_code (*emit)(void *ctx, const struct store_row *row,
                                                      struct mrd_err *err),
                                void *ctx, struct store_query_result *ret, struct mrd_err *err);
enum mrd_code sq__objects_delete(struct store *st, int64_t collection, const char *id,
                                 size_t id_len, const struct store_match *match,
                                 bool (*visible)(void *ctx, const struct store_row *row), void *ctx,
                                 size_t *ret_deleted, struct mrd_err *err);
enum mrd_code sq__objects_count(struct store *st, int64_t collection, uint64_t *ret,
                                struct mrd_err *err);
enum mrd_code sq__status_put(struct store *st, const struct store_status *s, struct mrd_err *err);
enum mrd_code sq__status_get(struct store *st, const char *id, size_t len,
                             struct store_status **ret, struct mrd_err *err);
enum mrd_code sq__status_purge(struct store *st, int64_t older_than_usec, uint64_t *ret_purged,
                               struct mrd_err *err);

/* Scheduled feeds (store_feed.c, both backends over their driver). */
enum mrd_code store__feed_put(struct store *st, enum store_feed_mode mode, const char *name,
                              const char *config, const char *state, struct mrd_err *err);
enum mrd_code store__feed_list(struct store *st, const char *name,
                               enum mrd_code (*cb)(void *ctx, const struct store_feed *f,
                                                   struct mrd_err *err),
                               void *ctx, struct mrd_err *err);
enum mrd_code store__feed_remove(struct store *st, const char *name, struct mrd_err *err);
enum mrd_code store__feed_items_set(struct store *st, const char *name, const char *const *ids,
                                    size_t n, struct mrd_err *err);
enum mrd_code store__feed_items(struct store *st, const char *name,
                                enum mrd_code (*cb)(void *ctx, const char *id, size_t len,
                                                    struct mrd_err *err),
                                void *ctx, struct mrd_err *err);

/* Constituency assets and notifications (store_notify.c) and early-warning
 * delivery (store_deliver.c), both backends over their driver. */
/* A notification from a row of STORE_NOTIFICATION_COLS (n: notifications,
 * o: its org). */
#define STORE_NOTIFICATION_COLS                                                                    \
    "n.id, n.org, o.name, n.asset, n.asset_text, n.seq, n.object_id, n.kind, n.value, n.how,"      \
    " n.created, n.squelched"
/* A row function (ctx: struct store_notification_emit) that hands each such
 * notification to cb. */
struct store_notification_emit {
    enum mrd_code (*cb)(void *ctx, const struct store_notification *n, struct mrd_err *err);
    void *ctx;
};
enum mrd_code store__notification_emit_row(void *ctx, const struct store_rowrd *r,
                                           struct mrd_err *err);
enum mrd_code store__asset_add(struct store *st, struct store_asset *a, struct mrd_err *err);
enum mrd_code store__asset_set(struct store *st, int64_t id, int64_t org, int status,
                               struct store_asset *ret, struct mrd_err *err);
enum mrd_code store__assets_list(struct store *st, int64_t org,
                                 enum mrd_code (*cb)(void *ctx, const struct store_asset *a,
                                                     struct mrd_err *err),
                                 void *ctx, struct mrd_err *err);
enum mrd_code store__notifications_add(struct store *st, struct store_notification *n, size_t count,
                                       int64_t squelch_usec, int64_t cursor_seq,
                                       struct mrd_err *err);
enum mrd_code store__notifications_list(
    struct store *st, int64_t org, int64_t after_id, size_t limit,
    enum mrd_code (*cb)(void *ctx, const struct store_notification *n, struct mrd_err *err),
    void *ctx, struct mrd_err *err);
enum mrd_code store__contact_add(struct store *st, struct store_contact *c, struct mrd_err *err);
enum mrd_code store__contact_remove(struct store *st, int64_t id, int64_t org,
                                    struct store_contact *ret, struct mrd_err *err);
enum mrd_code store__contacts_list(struct store *st, int64_t org,
                                   enum mrd_code (*cb)(void *ctx, const struct store_contact *c,
                                                       struct mrd_err *err),
                                   void *ctx, struct mrd_err *err);
enum mrd_code store__deliveries_enqueue(struct store *st, const struct store_delivery_plan *p,
                                        size_t n, int64_t from_cursor, int64_t cursor_id,
                                        struct mrd_err *err);
enum mrd_code store__deliveries_list(struct store *st, const struct store_delivery_filter *f,
                                     enum mrd_code (*cb)(void *ctx, const struct store_delivery *d,
                                                         struct mrd_err *err),
                                     void *ctx, struct mrd_err *err);
enum mrd_code store__delivery_items(struct store *st, int64_t delivery,
                                    enum mrd_code (*cb)(void *ctx,
                                                        const struct store_notification *n,
                                                        struct mrd_err *err),
                                    void *ctx, struct mrd_err *err);
enum mrd_code store__delivery_update(struct store *st, const struct store_delivery *d,
                                     struct mrd_err *err);
enum mrd_code store__delivery_attempts(struct store *st, int64_t delivery,
                                       enum mrd_code (*cb)(void *ctx,
                                                           const struct store_delivery_attempt *a,
                                                           struct mrd_err *err),
                                       void *ctx, struct mrd_err *err);

#endif
