/*
 * store_pg.c: the PostgreSQL backend on libpq (store.h; docs/store.md).
 *
 * Several `meridian serve` front-ends may share one database, so every
 * rule that one process enforced with its own lock is a database rule
 * here: uniqueness by constraints (two front-ends creating the same org or
 * token: one wins, the other gets MRD_E_EXISTS), a read-modify-write by one
 * statement or under a row lock (SELECT ... FOR UPDATE), the schema created
 * and migrated under a transaction-scoped advisory lock.
 *
 * What is here: the connection pool, the schema, the driver (one
 * statement; a write or read transaction) on which the operations written
 * once for both backends run -- the administrative records and account
 * lifecycle (store_rows.c), objects and statuses (store_obj.c), sessions
 * (store_session.c), the ledger queue (store_ledger.c) -- token
 * revocation, and the write lock every multi-statement write holds (see
 * "objects and statuses" below; docs/store.md). The optional operations
 * not written yet are left NULL (store.c's MRD_E_UNSUPP "the postgres
 * backend has no ...").
 *
 * Statements are written with SQLite's ?N parameters and bound with the
 * same SQ_* arguments as store_sqlite*.c (store_int.h); pg_run rewrites
 * ?N to $N. Integers travel as text, text and blobs as binary (no escaping,
 * no NUL terminator needed); results come back in binary (col_i64).
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"
#include "core/timestamp.h"

#define PG_SQL_MAX 32768   /* a statement, after ?N -> $N (a multi-row INSERT: ~12 KiB) */
#define PG_ARGS_MAX 1600   /* parameters of one statement (STORE_BATCH_PARAMS: 1536) */
#define PG_BATCH_ROWS 64   /* new versions per multi-row INSERT (store_txops.batch_rows) */
#define PG_ARRAY_ROWS 1024 /* rows per statement of array parameters (store_txops.array_rows) */
#define PG_ARRAYS_MAX 32   /* array parameters of one statement */
#define PG_ARRAY_MAX (256 << 20) /* bytes of one array parameter (a column of 1,024 bodies) */
#define PG_FETCH 256             /* rows per FETCH of a streamed statement */
#define PG_DSN_MAX 1024          /* a connection string */
#define PG_LEAD_MAX 64 /* roles one process may lead (store_lead): the ledger, one per peer */

#define PG_PREPARED_MAX 48 /* named (prepared) statements a connection keeps */
#define PG_SEEN_MAX 64     /* statements a connection remembers having run once */

/* rows of one object query's statement (store_txops.page_rows): a TAXII
 * page of the most (1,000) and its look-ahead fit in one */
#define PG_PAGE_ROWS 1024

/* Postgres type oids (pg_type.h; stable across versions). */
#define PG_OID_BOOL 16
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_TEXT 25
#define PG_OID_BYTEA_ARRAY 1001
#define PG_OID_TEXT_ARRAY 1009
#define PG_OID_INT8_ARRAY 1016

/* A statement prepared on a connection (pg_prepared): the server keeps
 * its parse and, after a few runs, a generic plan. */
struct pg_prep {
    char *text; /* NULL: a free slot */
    Oid *types;
    int nargs;
    uint64_t hash, used; /* text and types; when last run (pg_conn.tick) */
    unsigned id;         /* its name: mrd_s<id> */
};

struct pg_conn {
    PGconn *db;
    unsigned cursors;     /* names the next streamed statement's cursor */
    bool lost;            /* a statement failed as the connection broke: reconnect */
    bool pending;         /* results of a statement sent without waiting (pin_end) */
    struct pg_conn *next; /* free list; a store's list of pinned connections */
    struct pg_prep prep[PG_PREPARED_MAX];
    uint64_t seen[PG_SEEN_MAX]; /* hashes of statements run once, unprepared */
    uint64_t tick;
    unsigned prep_ids, seen_next;
};

struct pg_store {
    struct store base;
    char dsn[PG_DSN_MAX + 1];
    pthread_mutex_t mu; /* the connection pool */
    pthread_cond_t cv;
    struct pg_conn *free_conns;
    unsigned n_open;
    unsigned max_conn;
    /* store_lead: a connection of its own holding one session advisory
     * lock per role led; they go when it breaks or the process dies */
    pthread_mutex_t lead_mu;
    struct pg_conn *lead;
    int64_t led[PG_LEAD_MAX];
    size_t n_led;
    /* Pinned read snapshots (store_read_begin): one connection per thread
     * that pinned, listed here to be closed with the store. */
    uint64_t gen; /* unique per opened store in this process */
    struct pg_conn *thread_conns;
    struct store_group ins; /* group commit of object inserts */
    /* object versions this process wrote, and whether the statistics of
     * objects are due for a look (young_written) */
    atomic_uint_fast64_t written;
    atomic_bool analyze_due;
    atomic_bool stats_seen; /* objects had statistics: no more looks */
};

/* Converts the current row of res (row); any code but MRD_OK stops the
 * statement and is what pg_run returns. */
typedef enum mrd_code (*pg_row_fn)(void *ctx, const PGresult *res, int row, struct mrd_err *err);

/* ---- connections ---- */

/* NOTICEs ("relation exists, skipping") are not errors. A FATAL that
 * arrives while the connection is idle is the server saying why it is about
 * to close it (a terminated backend, a shutdown): libpq hands it here, and
 * the connection is marked lost so it is reconnected before its next use
 * rather than failing that use. */
static void on_notice(void *arg, const PGresult *res)
{
    struct pg_conn *c = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

    if (sev != NULL && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        c->lost = true;
}

/* Forgets the connection's prepared statements (the server's go with its
 * session: a reset, a close). */
static void prep_forget(struct pg_conn *c)
{
    for (size_t i = 0; i < PG_PREPARED_MAX; i++) {
        mrd_free(c->prep[i].text);
        mrd_free(c->prep[i].types);
        c->prep[i] = (struct pg_prep){0};
    }
    memset(c->seen, 0, sizeof(c->seen));
}

static void conn_free(struct pg_conn *c)
{
    if (c == NULL)
        return;
    prep_forget(c);
    PQfinish(c->db);
    mrd_free(c);
}

/* A one-line, control-character-free copy of libpq's message. */
static const char *pq_msg(const char *m, char *buf, size_t size)
{
    size_t n = 0;

    for (; m != NULL && *m != '\0' && n + 1 < size; m++)
        buf[n++] = (*m == '\n' || *m == '\r' || *m == '\t') ? ' '
                   : ((unsigned char)*m < 0x20)             ? '?'
                                                            : *m;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    return buf;
}

/* The session settings of every connection. jit off: a page's query
 * streams through a cursor and stops after a page, but the planner costs
 * the whole scan (a million rows: far above jit_above_cost) and compiles
 * it with LLVM on every request, ~0.5 s of CPU per page (bench/pg). */
static enum mrd_code conn_setup(struct pg_conn *c, struct mrd_err *err)
{
    PGresult *res;
    char msg[200];
    enum mrd_code rc = MRD_OK;

    (void)PQsetNoticeReceiver(c->db, on_notice, c);
    res = PQexec(c->db, "SET jit = off");
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = mrd_err_set(err, MRD_E_UNAVAIL, "store: cannot set up a PostgreSQL session: %s",
                         pq_msg(PQerrorMessage(c->db), msg, sizeof(msg)));
    PQclear(res);
    return rc;
}

static enum mrd_code conn_open(const char *dsn, struct pg_conn **ret, struct mrd_err *err)
{
    struct pg_conn *c = mrd_calloc(1, sizeof(*c));
    char msg[200];

    if (c == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    c->db = PQconnectdb(dsn);
    if (c->db == NULL) {
        mrd_free(c);
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    }
    if (PQstatus(c->db) != CONNECTION_OK) {
        (void)mrd_err_set(err, MRD_E_UNAVAIL, "store: cannot connect to PostgreSQL: %s",
                          pq_msg(PQerrorMessage(c->db), msg, sizeof(msg)));
        conn_free(c);
        return err != NULL ? err->code : MRD_E_UNAVAIL;
    }
    if (conn_setup(c, err) != MRD_OK) {
        conn_free(c);
        return err != NULL ? err->code : MRD_E_UNAVAIL;
    }
    *ret = c;
    return MRD_OK;
}

/* One write transaction per thread (store_write_begin): while it is open,
 * every call of this thread on its store runs on its connection, a call's
 * own BEGIN .. COMMIT (or single statement) becoming a savepoint that a
 * failure rolls back to (pg_exec, release). */
#define PG_NESTED "mrd_nested"
struct pg_wtx {
    const struct pg_store *s; /* NULL: none open */
    struct pg_conn *c;
    bool nested; /* a call's savepoint is open */
};
static _Thread_local struct pg_wtx pg_wtx;

static bool in_wtx(const struct pg_conn *c)
{
    return c != NULL && pg_wtx.c == c;
}

/* Pinned read snapshots (store_read_begin; "pinned read snapshots" below).
 * Each thread that pins gets a connection of its own, opened once and kept
 * until store_close, not taken from the pool: a pinned thread that also
 * writes must never wait for a pool slot held by pinned readers. The slot
 * names its store by a generation number, not a pointer, so a store closed
 * and another opened at the same address never inherit a stale
 * connection. */
static _Atomic uint64_t pg_generation;

struct pg_pin {
    uint64_t gen;      /* store generation the connection belongs to; 0 none */
    struct pg_conn *c; /* this thread's connection for that store */
    bool active;       /* inside store_read_begin .. store_read_end */
    bool used;         /* a read ran in this pin: its snapshot is taken */
};
static _Thread_local struct pg_pin pg_pin;

/* Whether this thread's reads on s go to its pinned snapshot: pinned, and
 * no write transaction of its own open (whose reads see its writes). */
static bool pinned(const struct pg_store *s)
{
    return pg_pin.active && pg_pin.gen == s->gen && pg_wtx.s != s;
}

static bool is_pin_conn(const struct pg_store *s, const struct pg_conn *c)
{
    return pg_pin.gen == s->gen && c == pg_pin.c;
}

/* The transaction a pin reads in. PostgreSQL takes a REPEATABLE READ
 * snapshot at the first statement after BEGIN, not at BEGIN: a connection
 * left "idle in transaction" after BEGIN holds no snapshot and no lock, so
 * it holds back neither VACUUM nor a writer. */
#define PG_BEGIN_READ "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

/* Reads and drops the results of what pin_end sent without waiting. */
static void pin_drain(struct pg_conn *c)
{
    PGresult *r;

    if (!c->pending)
        return;
    while ((r = PQgetResult(c->db)) != NULL)
        PQclear(r);
    c->pending = false;
}

/* Whether c is still usable before a statement is sent on it: a server that
 * went away (restart, failover, a backend terminated) left an EOF or a
 * FATAL message on the socket, which libpq reads only when asked. */
static bool conn_usable(struct pg_conn *c)
{
    struct pollfd p = {.fd = PQsocket(c->db), .events = POLLIN};

    if (c->lost || PQstatus(c->db) != CONNECTION_OK || p.fd < 0)
        return false;
    if (poll(&p, 1, 0) > 0 && PQconsumeInput(c->db) == 0)
        return false;
    (void)PQisBusy(c->db); /* parses what arrived: a FATAL notice marks c lost */
    return !c->lost && PQstatus(c->db) == CONNECTION_OK;
}

/* Reconnects c with the pool's connection string: with several hosts and
 * target_session_attrs=read-write, libpq finds the current primary (after
 * a failover, the promoted standby). */
static enum mrd_code conn_reset(struct pg_conn *c, struct mrd_err *err)
{
    char msg[200];

    prep_forget(c);
    PQreset(c->db);
    if (PQstatus(c->db) != CONNECTION_OK)
        return mrd_err_set(err, MRD_E_UNAVAIL, "store: cannot reconnect to PostgreSQL: %s",
                           pq_msg(PQerrorMessage(c->db), msg, sizeof(msg)));
    c->lost = false;
    c->pending = false;
    c->cursors = 0;
    return conn_setup(c, err);
}

static void slot_free(struct pg_store *s)
{
    (void)pthread_mutex_lock(&s->mu);
    s->n_open--;
    (void)pthread_cond_signal(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
}

static enum mrd_code acquire(struct pg_store *s, struct pg_conn **ret, struct mrd_err *err)
{
    struct pg_conn *c = NULL;
    enum mrd_code rc;

    if (pg_wtx.s == s) { /* inside this thread's write transaction */
        *ret = pg_wtx.c;
        return MRD_OK;
    }

    (void)pthread_mutex_lock(&s->mu);
    while (s->free_conns == NULL && s->n_open >= s->max_conn)
        (void)pthread_cond_wait(&s->cv, &s->mu);
    if (s->free_conns != NULL) {
        c = s->free_conns;
        s->free_conns = c->next;
        (void)pthread_mutex_unlock(&s->mu);
        c->next = NULL;
        /* a server restart or a failover broke it: reconnect (once; the
         * caller's error says so if the database is not back yet) */
        if (!conn_usable(c)) {
            rc = conn_reset(c, err);
            if (rc != MRD_OK) {
                conn_free(c);
                slot_free(s);
                return rc;
            }
        }
        *ret = c;
        return MRD_OK;
    }
    s->n_open++; /* reserve the slot, connect outside the lock */
    (void)pthread_mutex_unlock(&s->mu);
    rc = conn_open(s->dsn, &c, err);
    if (rc != MRD_OK) {
        slot_free(s);
        return rc;
    }
    *ret = c;
    return MRD_OK;
}

static void release(struct pg_store *s, struct pg_conn *c)
{
    if (c == NULL)
        return;
    if (in_wtx(c)) { /* a call inside the write transaction: undo it alone */
        if (pg_wtx.nested) {
            PQclear(PQexec(c->db, "ROLLBACK TO SAVEPOINT " PG_NESTED));
            PQclear(PQexec(c->db, "RELEASE SAVEPOINT " PG_NESTED));
            pg_wtx.nested = false;
        }
        return;
    }
    if (is_pin_conn(s, c)) { /* the thread's snapshot stays open until store_read_end */
        /* a failed statement aborted it: the next read begins a new one
         * (pin_conn), the caller has its error */
        if (!c->lost && PQtransactionStatus(c->db) == PQTRANS_INERROR)
            PQclear(PQexec(c->db, "ROLLBACK"));
        return;
    }
    /* never hand out a connection inside a transaction */
    if (!c->lost && PQtransactionStatus(c->db) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->db, "ROLLBACK");
        PQclear(r);
    }
    (void)pthread_mutex_lock(&s->mu);
    c->next = s->free_conns;
    s->free_conns = c;
    (void)pthread_cond_signal(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
}

/* ---- running a statement ---- */

/* Whether a failure means the connection, not the statement, failed:
 * libpq lost it, SQLSTATE class 08 (connection exception), 57P01..57P03
 * (the server shut down, crashed or is starting), or 25006 (a read-only
 * server: this one was demoted, the primary is elsewhere). */
static bool conn_lost(struct pg_conn *c, const char *state)
{
    if (PQstatus(c->db) != CONNECTION_OK)
        return true;
    return state != NULL && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                             strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0 ||
                             strcmp(state, "25006") == 0);
}

/* MRD_E_EXISTS for a unique or foreign-key violation (as SQLite's
 * constraint errors), MRD_E_TIMEOUT for a lock or serialization failure,
 * MRD_E_UNAVAIL for a lost connection (marked for a reconnect on its next
 * use; HTTP answers 503 with Retry-After while the pool reconnects),
 * MRD_E_DB otherwise. */
static enum mrd_code pg_fail(struct pg_conn *c, const PGresult *res, const char *what,
                             struct mrd_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *m = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(c->db);
    char msg[200];

    if (state != NULL && strncmp(state, "23", 2) == 0)
        return mrd_err_set(err, MRD_E_EXISTS, "%s: already exists", what);
    if (state != NULL &&
        (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0))
        return mrd_err_set(err, MRD_E_TIMEOUT, "store: %s: %s", what, pq_msg(m, msg, sizeof(msg)));
    if (conn_lost(c, state)) {
        c->lost = true;
        return mrd_err_set(err, MRD_E_UNAVAIL, "store: %s: connection to PostgreSQL lost: %s", what,
                           pq_msg(m, msg, sizeof(msg)));
    }
    return mrd_err_set(err, MRD_E_DB, "store: %s: %s", what, pq_msg(m, msg, sizeof(msg)));
}

#define INDEXED_BY " INDEXED BY "

/* sql in PostgreSQL's words: ?N written as $N (our statements have no '?'
 * elsewhere), and SQLite's index hints (" INDEXED BY name", store_obj.c)
 * left out: PostgreSQL's planner has statistics and chooses itself. */
static enum mrd_code pg_sql(const char *sql, char *out, size_t size, struct mrd_err *err)
{
    size_t n = 0;

    for (const char *p = sql; *p != '\0'; p++) {
        if (n + 1 >= size)
            return mrd_err_set(err, MRD_E_TOOBIG, "store: statement longer than %d bytes",
                               PG_SQL_MAX);
        if (*p == ' ' && strncmp(p, INDEXED_BY, strlen(INDEXED_BY)) == 0) {
            p += strlen(INDEXED_BY);
            while (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
                p++;
            p--; /* the loop steps over the last character of the name */
            continue;
        }
        out[n++] = (*p == '?' && p[1] >= '0' && p[1] <= '9') ? '$' : *p;
    }
    out[n] = '\0';
    return MRD_OK;
}

/* A statement's text and parameters as libpq takes them: on the heap,
 * since a row function may run another statement (store_obj.c). */
struct pg_stmt {
    char text[PG_SQL_MAX];
    char ints[PG_ARGS_MAX][24];
    const char *values[PG_ARGS_MAX];
    int lengths[PG_ARGS_MAX], formats[PG_ARGS_MAX];
    Oid types[PG_ARGS_MAX];
    char *arrays[PG_ARRAYS_MAX]; /* the array parameters' bytes (stmt_free) */
    int n_arrays;
};

static void stmt_free(struct pg_stmt *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->n_arrays; i++)
        mrd_free(p->arrays[i]);
    mrd_free(p);
}

static char *put_u32(char *w, uint32_t v)
{
    w[0] = (char)(v >> 24);
    w[1] = (char)(v >> 16);
    w[2] = (char)(v >> 8);
    w[3] = (char)v;
    return w + 4;
}

/* An SQ_ARRAY parameter in PostgreSQL's binary array format (array_recv:
 * dimensions, a has-nulls flag, the element type, the dimension's size and
 * lower bound, then each element's length, -1 for NULL, and bytes). */
static enum mrd_code array_bind(struct pg_stmt *p, size_t i, const struct sq_arg *a,
                                const char *what, struct mrd_err *err)
{
    const struct sq_arg *e = a->p;
    size_t n = a->len > 0 ? (size_t)a->len : 0, stride = (size_t)a->i, size = 20;
    bool nulls = false;
    Oid elem, type;
    char *buf, *w;

    switch (a->elem) {
    case SQ_ARG_INT:
        elem = PG_OID_INT8;
        type = PG_OID_INT8_ARRAY;
        break;
    case SQ_ARG_TEXT:
        elem = PG_OID_TEXT;
        type = PG_OID_TEXT_ARRAY;
        break;
    case SQ_ARG_BLOB:
        elem = PG_OID_BYTEA;
        type = PG_OID_BYTEA_ARRAY;
        break;
    default:
        return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: an array of no element type", what);
    }
    if (p->n_arrays == PG_ARRAYS_MAX)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: more than %d array parameters", what,
                           PG_ARRAYS_MAX);
    for (size_t k = 0; k < n; k++) {
        const struct sq_arg *x = &e[k * stride];
        bool null = x->type == SQ_ARG_NULL || (x->type != SQ_ARG_INT && x->p == NULL);

        if (!null && x->type != a->elem)
            return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: an array of mixed types", what);
        nulls = nulls || null;
        size += 4 + (null                    ? 0
                     : x->type == SQ_ARG_INT ? 8
                     : x->len >= 0           ? (size_t)x->len
                                             : strlen(x->p));
        if (size > PG_ARRAY_MAX)
            return mrd_err_set(err, MRD_E_TOOBIG,
                               "store: %s: an array parameter of more than %d bytes", what,
                               PG_ARRAY_MAX);
    }
    buf = mrd_malloc(size);
    if (buf == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    p->arrays[p->n_arrays++] = buf;
    w = put_u32(buf, n > 0 ? 1 : 0); /* dimensions: none for an empty array */
    w = put_u32(w, nulls ? 1 : 0);
    w = put_u32(w, elem);
    if (n > 0) {
        w = put_u32(w, (uint32_t)n);
        w = put_u32(w, 1); /* lower bound */
    }
    for (size_t k = 0; k < n; k++) {
        const struct sq_arg *x = &e[k * stride];
        size_t len;

        if (x->type == SQ_ARG_NULL || (x->type != SQ_ARG_INT && x->p == NULL)) {
            w = put_u32(w, UINT32_MAX); /* -1: NULL */
        } else if (x->type == SQ_ARG_INT) {
            w = put_u32(w, 8);
            w = put_u32(w, (uint32_t)((uint64_t)x->i >> 32));
            w = put_u32(w, (uint32_t)(uint64_t)x->i);
        } else {
            len = x->len >= 0 ? (size_t)x->len : strlen(x->p);
            w = put_u32(w, (uint32_t)len);
            memcpy(w, x->p, len);
            w += len;
        }
    }
    p->values[i] = buf;
    p->lengths[i] = (int)(w - buf);
    p->types[i] = type;
    return MRD_OK;
}

static enum mrd_code stmt_bind(struct pg_stmt *p, const struct sq_arg *args, size_t nargs,
                               const char *what, struct mrd_err *err)
{
    p->n_arrays = 0;
    for (size_t i = 0; i < nargs; i++) {
        const struct sq_arg *a = &args[i];
        enum mrd_code rc;

        p->values[i] = NULL;
        p->lengths[i] = 0;
        p->formats[i] = 1;
        p->types[i] = 0;
        switch (a->type) {
        case SQ_ARG_NULL:
            break;
        case SQ_ARG_INT:
            (void)snprintf(p->ints[i], sizeof(p->ints[i]), "%" PRId64, a->i);
            p->values[i] = p->ints[i];
            p->formats[i] = 0;
            p->types[i] = PG_OID_INT8;
            break;
        case SQ_ARG_TEXT:
        case SQ_ARG_BLOB:
            p->types[i] = a->type == SQ_ARG_TEXT ? PG_OID_TEXT : PG_OID_BYTEA;
            if (a->p == NULL)
                break; /* NULL text binds SQL NULL, as in SQLite */
            p->values[i] = a->p;
            p->lengths[i] = a->len >= 0 ? a->len : (int)strlen(a->p);
            break;
        case SQ_ARG_ARRAY:
            rc = array_bind(p, i, a, what, err);
            if (rc != MRD_OK)
                return rc;
            break;
        }
    }
    return MRD_OK;
}

/* A statement set up to run: sql in PostgreSQL's form (pg_sql) and args
 * bound (stmt_bind), on the heap; *ret NULL on error. stmt_free frees it. */
static enum mrd_code stmt_new(const char *sql, const struct sq_arg *args, size_t nargs,
                              const char *what, struct pg_stmt **ret, struct mrd_err *err)
{
    struct pg_stmt *p;
    enum mrd_code rc;

    *ret = NULL;
    if (nargs > PG_ARGS_MAX)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: more than %d parameters", what,
                           PG_ARGS_MAX);
    p = mrd_malloc(sizeof(*p));
    if (p == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    p->n_arrays = 0;
    rc = pg_sql(sql, p->text, sizeof(p->text), err);
    if (rc == MRD_OK)
        rc = stmt_bind(p, args, nargs, what, err);
    if (rc != MRD_OK) {
        stmt_free(p);
        return rc;
    }
    *ret = p;
    return MRD_OK;
}

/* Calls row for each row of a result: MRD_OK or row's code. */
static enum mrd_code each_row(const PGresult *res, pg_row_fn row, void *ctx, uint64_t *n,
                              struct mrd_err *err)
{
    int rows = PQntuples(res);
    enum mrd_code rc = MRD_OK;

    *n += (uint64_t)rows;
    for (int r = 0; r < rows && row != NULL && rc == MRD_OK; r++)
        rc = row(ctx, res, r, err);
    return rc;
}

/* DECLAREs a cursor and FETCHes its first rows in one round trip
 * (libpq's pipeline mode: both sent, then one sync); *ret gets the rows.
 * A DECLARE that fails aborts the FETCH too; its error is the one
 * returned. */
static enum mrd_code declare_fetch(struct pg_conn *c, const char *what, const char *decl,
                                   struct pg_stmt *p, int nargs, const char *fetch, PGresult **ret,
                                   struct mrd_err *err)
{
    PGresult *res, *rows = NULL;
    enum mrd_code rc = MRD_OK;
    bool synced = false;
    int nulls = 0;

    if (PQenterPipelineMode(c->db) != 1)
        return pg_fail(c, NULL, what, err);
    if (PQsendQueryParams(c->db, decl, nargs, p->types, p->values, p->lengths, p->formats, 1) !=
            1 ||
        PQsendQueryParams(c->db, fetch, 0, NULL, NULL, NULL, NULL, 1) != 1 ||
        PQpipelineSync(c->db) != 1) {
        rc = pg_fail(c, NULL, what, err);
        c->lost = true; /* what was sent is unknown: never reuse it as is */
        return rc;
    }
    /* each statement's results end with a NULL; then the sync */
    while (!synced) {
        res = PQgetResult(c->db);
        if (res == NULL) {
            if (PQstatus(c->db) != CONNECTION_OK || ++nulls > 2)
                break;
            continue;
        }
        switch (PQresultStatus(res)) {
        case PGRES_PIPELINE_SYNC:
            synced = true;
            PQclear(res);
            break;
        case PGRES_COMMAND_OK: /* the DECLARE */
            PQclear(res);
            break;
        case PGRES_TUPLES_OK:
            PQclear(rows);
            rows = res;
            break;
        default: /* the first error is the DECLARE's (the FETCH: aborted) */
            if (rc == MRD_OK)
                rc = pg_fail(c, res, what, err);
            PQclear(res);
            break;
        }
    }
    if (!synced) {
        if (rc == MRD_OK)
            rc = pg_fail(c, NULL, what, err);
        c->lost = true;
    } else if (PQexitPipelineMode(c->db) != 1) {
        if (rc == MRD_OK)
            rc = pg_fail(c, NULL, what, err);
        c->lost = true;
    }
    if (rc == MRD_OK && rows == NULL)
        rc = mrd_err_set(err, MRD_E_DB, "store: %s: no rows from the cursor", what);
    if (rc != MRD_OK) {
        PQclear(rows);
        return rc;
    }
    *ret = rows;
    return MRD_OK;
}

/* A streamed statement: a binary cursor inside the caller's transaction,
 * fetched PG_FETCH rows at a time, so a row function that stops early
 * (a full page) leaves the rest unread on the server. The cursor is not
 * CLOSEd (a round trip) but ends with the transaction, which every caller
 * ends right after (a read's ROLLBACK, a write's COMMIT, store_read_end),
 * except a thread's write transaction (store_write_begin), which may run
 * many: there it is closed. */
static enum mrd_code run_cursor(struct pg_conn *c, const char *what, struct pg_stmt *p, int nargs,
                                pg_row_fn row, void *ctx, uint64_t *n, struct mrd_err *err)
{
    char name[32], fetch[64], close[48];
    char *decl;
    size_t len = strlen(p->text) + 64;
    PGresult *res = NULL;
    enum mrd_code rc = MRD_OK;
    int got;

    decl = mrd_malloc(len);
    if (decl == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    (void)snprintf(name, sizeof(name), "mrd_c%u", c->cursors++);
    (void)snprintf(decl, len, "DECLARE %s BINARY NO SCROLL CURSOR FOR %s", name, p->text);
    (void)snprintf(fetch, sizeof(fetch), "FETCH %d FROM %s", PG_FETCH, name);
    rc = declare_fetch(c, what, decl, p, nargs, fetch, &res, err);
    mrd_free(decl);
    if (rc != MRD_OK)
        return rc; /* the transaction is aborted: the cursor goes with it */
    for (;;) {
        got = PQntuples(res);
        rc = each_row(res, row, ctx, n, err);
        PQclear(res);
        if (rc != MRD_OK || got < PG_FETCH)
            break;
        res = PQexec(c->db, fetch);
        if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = pg_fail(c, res, what, err);
            PQclear(res);
            return rc;
        }
    }
    if (!in_wtx(c))
        return rc;
    (void)snprintf(close, sizeof(close), "CLOSE %s", name);
    res = PQexec(c->db, close);
    if (rc == MRD_OK && (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK))
        rc = pg_fail(c, res, what, err);
    PQclear(res);
    return rc;
}

/* ---- prepared statements ----
 *
 * A statement a connection runs a second time is prepared (named) on it
 * and run by name from then on: the server parses and analyses it once
 * and, after five runs (plan_cache_mode = auto), keeps a generic plan
 * unless it costs more than the custom ones. An ingest's multi-row
 * INSERTs of a thousand parameters cost more to parse and plan than to
 * run (bench/pg/README.md). A statement run once (most are run many
 * times: the text is fixed, the values bound) is not prepared: that would
 * cost a round trip more. Kept per connection, the PG_PREPARED_MAX used
 * last; a statement is told apart by its text and parameter types (a NULL
 * binds no type). The server forgets them with the session (conn_reset,
 * conn_free); a DEALLOCATE or a Parse is not undone by a ROLLBACK. */

static uint64_t prep_hash(const struct pg_stmt *p, int nargs)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

    for (const char *t = p->text; *t != '\0'; t++)
        h = (h ^ (unsigned char)*t) * 0x100000001b3ULL;
    for (int i = 0; i < nargs; i++)
        h = (h ^ p->types[i]) * 0x100000001b3ULL;
    return h;
}

static bool prep_same(const struct pg_prep *e, uint64_t h, const struct pg_stmt *p, int nargs)
{
    return e->text != NULL && e->hash == h && e->nargs == nargs &&
           memcmp(e->types, p->types, (size_t)nargs * sizeof(Oid)) == 0 &&
           strcmp(e->text, p->text) == 0;
}

/* The name p runs under on c, or "" when it is to run unprepared (its
 * first run on c; out of memory). An error: the server refused to prepare
 * it (what running it would have said). */
static enum mrd_code prep_name(struct pg_conn *c, const char *what, const struct pg_stmt *p,
                               int nargs, char *name, size_t size, struct mrd_err *err)
{
    uint64_t h = prep_hash(p, nargs);
    struct pg_prep *e = &c->prep[0];
    bool seen = false;
    PGresult *res;
    char sql[48];

    name[0] = '\0';
    c->tick++;
    for (size_t i = 0; i < PG_PREPARED_MAX; i++) {
        if (prep_same(&c->prep[i], h, p, nargs)) {
            c->prep[i].used = c->tick;
            (void)snprintf(name, size, "mrd_s%u", c->prep[i].id);
            return MRD_OK;
        }
        if (c->prep[i].used < e->used)
            e = &c->prep[i]; /* a free slot (used 0) or the least recently used */
    }
    for (size_t i = 0; i < PG_SEEN_MAX && !seen; i++)
        seen = c->seen[i] == h;
    if (!seen) {
        c->seen[c->seen_next++ % PG_SEEN_MAX] = h;
        return MRD_OK;
    }
    if (e->text != NULL) { /* evicted; should it fail, the name is never reused */
        (void)snprintf(sql, sizeof(sql), "DEALLOCATE mrd_s%u", e->id);
        PQclear(PQexec(c->db, sql));
        mrd_free(e->text);
        mrd_free(e->types);
        *e = (struct pg_prep){0};
    }
    e->text = mrd_strdup(p->text);
    e->types = mrd_malloc(nargs > 0 ? (size_t)nargs * sizeof(Oid) : 1);
    if (e->text == NULL || e->types == NULL) {
        mrd_free(e->text);
        mrd_free(e->types);
        *e = (struct pg_prep){0};
        return MRD_OK;
    }
    memcpy(e->types, p->types, (size_t)nargs * sizeof(Oid));
    e->nargs = nargs;
    e->hash = h;
    e->id = ++c->prep_ids;
    (void)snprintf(name, size, "mrd_s%u", e->id);
    res = PQprepare(c->db, name, p->text, nargs, p->types);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        enum mrd_code rc = pg_fail(c, res, what, err);

        PQclear(res);
        mrd_free(e->text);
        mrd_free(e->types);
        *e = (struct pg_prep){0};
        return rc;
    }
    PQclear(res);
    e->used = c->tick;
    return MRD_OK;
}

/* Runs sql on c (inside whatever transaction the caller holds) with args
 * bound to ?1.., calling row (may be NULL) for each result row (binary
 * format: read through col_i64 and the rowrd accessors). ret_n (may be
 * NULL) gets the rows returned or, for a statement that returns none, the
 * rows it changed. stream: fetched through a cursor in batches (inside a
 * transaction only). The counterpart of sq__run. */
static enum mrd_code pg_run_stream(struct pg_conn *c, bool stream, const char *what,
                                   const char *sql, const struct sq_arg *args, size_t nargs,
                                   pg_row_fn row, void *ctx, uint64_t *ret_n, struct mrd_err *err)
{
    struct pg_stmt *p;
    PGresult *res = NULL;
    ExecStatusType status;
    uint64_t n = 0;
    char name[24];
    enum mrd_code rc;

    rc = stmt_new(sql, args, nargs, what, &p, err);
    if (rc != MRD_OK)
        return rc;
    if (stream && row != NULL && PQtransactionStatus(c->db) == PQTRANS_INTRANS) {
        rc = run_cursor(c, what, p, (int)nargs, row, ctx, &n, err);
        goto out;
    }
    rc = prep_name(c, what, p, (int)nargs, name, sizeof(name), err);
    if (rc != MRD_OK)
        goto out;
    res = name[0] != '\0'
              ? PQexecPrepared(c->db, name, (int)nargs, p->values, p->lengths, p->formats, 1)
              : PQexecParams(c->db, p->text, (int)nargs, p->types, p->values, p->lengths,
                             p->formats, 1);
    status = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK) {
        rc = each_row(res, row, ctx, &n, err);
    } else if (status == PGRES_COMMAND_OK) {
        const char *t = PQcmdTuples(res);
        n = t[0] != '\0' ? strtoull(t, NULL, 10) : 0;
    } else {
        rc = pg_fail(c, res, what, err);
    }
    PQclear(res);
out:
    stmt_free(p);
    if (rc == MRD_OK && ret_n != NULL)
        *ret_n = n;
    return rc;
}

static enum mrd_code pg_run(struct pg_conn *c, const char *what, const char *sql,
                            const struct sq_arg *args, size_t nargs, pg_row_fn row, void *ctx,
                            uint64_t *ret_n, struct mrd_err *err)
{
    return pg_run_stream(c, false, what, sql, args, nargs, row, ctx, ret_n, err);
}

static enum mrd_code pg_exec(struct pg_conn *c, const char *what, const char *sql,
                             struct mrd_err *err);

static enum mrd_code pin_conn(struct pg_store *s, struct pg_conn **ret, struct mrd_err *err);

/* Runs step on a borrowed connection (read: the thread's pinned snapshot
 * when it has one) and releases it, or on success hands it to *keep (when
 * not NULL). When step failed because the connection broke and retry is
 * true, runs it once more on a fresh connection (the pool, and pin_conn,
 * reconnect broken ones): for what cannot have changed anything. */
static enum mrd_code on_conn(struct pg_store *s, bool retry, bool read,
                             enum mrd_code (*step)(struct pg_conn *c, void *ctx,
                                                   struct mrd_err *err),
                             void *ctx, struct pg_conn **keep, struct mrd_err *err)
{
    for (int attempt = 0;; attempt++) {
        struct pg_conn *c = NULL;
        enum mrd_code rc = read && pinned(s) ? pin_conn(s, &c, err) : acquire(s, &c, err);
        bool lost;

        if (rc != MRD_OK)
            return rc;
        rc = step(c, ctx, err);
        if (rc == MRD_OK && keep != NULL) {
            *keep = c;
            return MRD_OK;
        }
        lost = c->lost;
        release(s, c); /* c belongs to the pool again */
        if (rc == MRD_OK || !lost || !retry || attempt > 0)
            return rc;
    }
}

struct query_step {
    const char *what, *sql;
    const struct sq_arg *args;
    size_t nargs;
    pg_row_fn row;
    void *ctx;
    uint64_t *ret_n;
};

static enum mrd_code query_step(struct pg_conn *c, void *ctx, struct mrd_err *err)
{
    struct query_step *q = ctx;
    enum mrd_code rc = MRD_OK;

    /* inside the thread's write transaction: a failure undoes this
     * statement only (release) */
    if (in_wtx(c))
        rc = pg_exec(c, q->what, "BEGIN", err);
    if (rc == MRD_OK)
        rc = pg_run(c, q->what, q->sql, q->args, q->nargs, q->row, q->ctx, q->ret_n, err);
    if (rc == MRD_OK && in_wtx(c))
        rc = pg_exec(c, q->what, "COMMIT", err);
    return rc;
}

/* pg_run on a connection borrowed for this one statement. A read that
 * failed because the connection broke is run once more (its rows reach row
 * only once the whole result arrived); a write is not: whether the server
 * committed it before the connection broke is unknown, and the caller
 * reports the error. */
static enum mrd_code pg_query(struct pg_store *s, bool read, const char *what, const char *sql,
                              const struct sq_arg *args, size_t nargs, pg_row_fn row, void *ctx,
                              uint64_t *ret_n, struct mrd_err *err)
{
    struct query_step q = {what, sql, args, nargs, row, ctx, ret_n};

    return on_conn(s, read, read, query_step, &q, NULL, err);
}

/* Runs sql without parameters or results; it may hold several
 * statements (a migration). */
static enum mrd_code pg_exec(struct pg_conn *c, const char *what, const char *sql,
                             struct mrd_err *err)
{
    PGresult *res;
    enum mrd_code rc = MRD_OK;

    if (in_wtx(c)) { /* a call's own transaction: a savepoint */
        if (strncmp(sql, "BEGIN", 5) == 0 && !pg_wtx.nested) {
            sql = "SAVEPOINT " PG_NESTED;
            pg_wtx.nested = true;
        } else if (strcmp(sql, "COMMIT") == 0 && pg_wtx.nested) {
            sql = "RELEASE SAVEPOINT " PG_NESTED;
            pg_wtx.nested = false;
        }
    }
    res = PQexec(c->db, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_fail(c, res, what, err);
    PQclear(res);
    return rc;
}

/* ---- columns ---- */

/* An integer column of a binary result (big-endian int2/4/8, bool), or
 * of a text one; 0 for NULL, as SQLite's. */
static int64_t col_i64(const PGresult *res, int row, int col)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(res, row, col);
    int len = PQgetlength(res, row, col);
    uint64_t v;

    if (PQgetisnull(res, row, col))
        return 0;
    if (PQfformat(res, col) == 0)
        return strtoll((const char *)p, NULL, 10);
    switch (PQftype(res, col)) {
    case PG_OID_INT2:
    case PG_OID_INT4:
    case PG_OID_INT8:
        if (len != 2 && len != 4 && len != 8)
            return 0;
        v = (p[0] & 0x80) != 0 ? UINT64_MAX : 0; /* sign-extended */
        for (int i = 0; i < len; i++)
            v = (v << 8) | p[i];
        return (int64_t)v;
    case PG_OID_BOOL:
        return len == 1 && p[0] != 0;
    default:
        return 0; /* no other type is read as an integer */
    }
}

static int64_t rd_i64(const struct store_rowrd *r, int col)
{
    return col_i64(r->res, r->row, col);
}

static bool rd_null(const struct store_rowrd *r, int col)
{
    return PQgetisnull(r->res, r->row, col) != 0;
}

/* Text and bytea alike: binary results hold the bytes themselves. */
static const char *rd_text(const struct store_rowrd *r, int col, size_t *ret_len)
{
    *ret_len = (size_t)PQgetlength(r->res, r->row, col);
    return PQgetvalue(r->res, r->row, col);
}

/* Row row of res, for the store__*_from conversions (store_rows.c). */
static struct store_rowrd rowrd(const PGresult *res, int row)
{
    struct store_rowrd r = {NULL, res, row, rd_i64, rd_null, rd_text, rd_text};

    return r;
}

/* A store_row_fn called from pg_run. */
struct rd_adapter {
    store_row_fn row;
    void *ctx;
};

static enum mrd_code rd_row(void *ctx, const PGresult *res, int row, struct mrd_err *err)
{
    struct rd_adapter *a = ctx;
    struct store_rowrd r = rowrd(res, row);

    return a->row(a->ctx, &r, err);
}

static enum mrd_code driver_query(struct store *st, bool read, const char *what, const char *sql,
                                  const struct sq_arg *args, size_t nargs, store_row_fn row,
                                  void *ctx, uint64_t *ret_n, struct mrd_err *err)
{
    struct rd_adapter a = {row, ctx};

    /* every statement sees the latest commit (READ COMMITTED) */
    return pg_query((struct pg_store *)st, read, what, sql, args, nargs,
                    row != NULL ? rd_row : NULL, &a, ret_n, err);
}

/* store_obj.c's statements, on a connection inside a transaction. */
static enum mrd_code tx_run(void *conn, bool stream, const char *what, const char *sql,
                            const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                            uint64_t *ret_n, struct mrd_err *err)
{
    struct rd_adapter a = {row, ctx};

    return pg_run_stream(conn, stream, what, sql, args, nargs, row != NULL ? rd_row : NULL, &a,
                         ret_n, err);
}

/* ---- walks and bulk loads (store_copy.c) ---- */

#define PG_COPY_CHUNK (1u << 20) /* bytes of COPY data gathered before each send */
#define PG_LOAD_COLS 32          /* columns of one bulk load */
#define PG_CANCEL_MSG 256        /* PQcancel's error text */

/* Stops the statement running on c (PQcancel: a request on a connection
 * of its own). Should it arrive after the statement ended, the server
 * ignores it: the connection is idle or reading the next command. */
static void pg_cancel(struct pg_conn *c)
{
    PGcancel *k = PQgetCancel(c->db);
    char buf[PG_CANCEL_MSG];

    if (k != NULL) {
        (void)PQcancel(k, buf, (int)sizeof(buf));
        PQfreeCancel(k);
    }
}

/* store_txops.walk: sql in single-row mode. Each row is a result of its
 * own, freed before the next is read, so the client holds one row (and
 * libpq's input buffer) however large the result. A row function that
 * stops the walk has the statement cancelled, then the rows already on
 * the way are read and dropped. */
static enum mrd_code pg_walk(struct pg_conn *c, const char *what, const char *sql,
                             const struct sq_arg *args, size_t nargs, pg_row_fn row, void *ctx,
                             uint64_t *ret_n, struct mrd_err *err)
{
    struct pg_stmt *p;
    PGresult *res;
    uint64_t n = 0;
    bool stopped = false, ended = false;
    enum mrd_code rc;

    rc = stmt_new(sql, args, nargs, what, &p, err);
    if (rc != MRD_OK)
        return rc;
    if (PQsendQueryParams(c->db, p->text, (int)nargs, p->types, p->values, p->lengths, p->formats,
                          1) != 1) {
        rc = pg_fail(c, NULL, what, err);
        goto out;
    }
    if (PQsetSingleRowMode(c->db) != 1) { /* cannot happen right after the send */
        rc = mrd_err_set(err, MRD_E_DB, "store: %s: single-row mode refused", what);
        pg_cancel(c);
        stopped = true;
    }
    while ((res = PQgetResult(c->db)) != NULL) {
        switch (PQresultStatus(res)) {
        case PGRES_SINGLE_TUPLE:
            n++;
            if (!stopped && row != NULL)
                rc = row(ctx, res, 0, err);
            if (rc != MRD_OK && !stopped) {
                pg_cancel(c);
                stopped = true;
            }
            break;
        case PGRES_TUPLES_OK: /* the end: no row of its own */
            ended = true;
            break;
        case PGRES_COMMAND_OK: {
            const char *t = PQcmdTuples(res);
            n = t[0] != '\0' ? strtoull(t, NULL, 10) : 0;
            ended = true;
            break;
        }
        default: /* the statement failed, after n rows (or was cancelled) */
            if (rc == MRD_OK)
                rc = pg_fail(c, res, what, err);
            break;
        }
        PQclear(res);
    }
    if (rc == MRD_OK && !ended) /* no end and no error: the connection went */
        rc = pg_fail(c, NULL, what, err);
out:
    stmt_free(p);
    if (rc == MRD_OK && ret_n != NULL)
        *ret_n = n;
    return rc;
}

static enum mrd_code tx_walk(void *conn, const char *what, const char *sql,
                             const struct sq_arg *args, size_t nargs, store_row_fn row, void *ctx,
                             uint64_t *ret_n, struct mrd_err *err)
{
    struct rd_adapter a = {row, ctx};

    return pg_walk(conn, what, sql, args, nargs, row != NULL ? rd_row : NULL, &a, ret_n, err);
}

/* A bulk load in progress (one per thread: a load holds its connection
 * from load_begin to load_end). The data is COPY's binary format: a
 * header, per row the field count then each field as a length (-1: NULL)
 * and the bytes (integers big-endian in the column's own width), a
 * trailer. */
struct pg_load {
    struct pg_conn *c;
    const char *what;
    size_t ncols;
    Oid types[PG_LOAD_COLS];
    struct mrd_buf buf;
    bool failed; /* a send failed: the server's own error is awaited */
};

static _Thread_local struct pg_load pg_load;

/* the signature, then flags and header extension length (0) */
static const unsigned char pg_copy_header[19] = {'P', 'G',  'C',  'O',  'P',
                                                 'Y', '\n', 0xff, '\r', '\n'};

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* Sends what is gathered (blocking until libpq has passed it on). A
 * failure is usually the server having refused the data already (a
 * constraint) or gone: load_end reads why. */
static enum mrd_code load_flush(struct pg_load *l, struct mrd_err *err)
{
    if (l->buf.len > 0 && PQputCopyData(l->c->db, l->buf.data, (int)l->buf.len) != 1) {
        l->failed = true;
        return pg_fail(l->c, NULL, l->what, err);
    }
    mrd_buf_reset(&l->buf);
    return MRD_OK;
}

static enum mrd_code tx_load_end(void *conn, bool ok, uint64_t *ret_n, struct mrd_err *err);

/* The column types come from the table itself (a SELECT of no rows):
 * binary COPY takes each integer in its column's width. */
static enum mrd_code tx_load_begin(void *conn, const char *what, const char *table,
                                   const char *cols, size_t ncols, struct mrd_err *err)
{
    struct pg_conn *c = conn;
    struct pg_load *l = &pg_load;
    char sql[PG_SQL_MAX];
    PGresult *res;
    enum mrd_code rc = MRD_OK;

    if (l->c != NULL)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: a load is already running", what);
    if (ncols == 0 || ncols > PG_LOAD_COLS)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: %s: %zu columns (at most %d)", what, ncols,
                           PG_LOAD_COLS);
    if ((size_t)snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", cols, table) >= sizeof(sql))
        return mrd_err_set(err, MRD_E_TOOBIG, "store: %s: column list too long", what);
    res = PQexecParams(c->db, sql, 0, NULL, NULL, NULL, NULL, 1);
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_fail(c, res, what, err);
    else if ((size_t)PQnfields(res) != ncols)
        rc = mrd_err_set(err, MRD_E_INTERNAL, "store: %s: %d columns, not %zu", what,
                         PQnfields(res), ncols);
    for (size_t i = 0; rc == MRD_OK && i < ncols; i++)
        l->types[i] = PQftype(res, (int)i);
    PQclear(res);
    if (rc != MRD_OK)
        return rc;
    (void)snprintf(sql, sizeof(sql), "COPY %s (%s) FROM STDIN (FORMAT binary)", table, cols);
    res = PQexec(c->db, sql);
    if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
        rc = pg_fail(c, res, what, err);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    l->c = c;
    l->what = what;
    l->ncols = ncols;
    mrd_buf_init(&l->buf, INT32_MAX); /* PQputCopyData's length is an int */
    rc = mrd_buf_append(&l->buf, pg_copy_header, sizeof(pg_copy_header), err);
    if (rc != MRD_OK) { /* the caller ends no load that did not begin */
        struct mrd_err ignored = {0};
        (void)tx_load_end(conn, false, NULL, &ignored);
    }
    return rc;
}

/* One field: an integer in the column's width, or text and bytes as
 * they are. */
static enum mrd_code load_field(struct pg_load *l, size_t col, const struct sq_arg *a,
                                struct mrd_err *err)
{
    unsigned char hd[4 + 8];
    size_t len;
    int width = 0;
    enum mrd_code rc;

    if (a->type == SQ_ARG_NULL || (a->type != SQ_ARG_INT && a->p == NULL)) {
        put_be(hd, UINT32_MAX, 4);
        return mrd_buf_append(&l->buf, hd, 4, err);
    }
    if (a->type == SQ_ARG_INT) {
        switch (l->types[col]) {
        case PG_OID_INT8:
            width = 8;
            break;
        case PG_OID_INT4:
            width = a->i >= INT32_MIN && a->i <= INT32_MAX ? 4 : -1;
            break;
        case PG_OID_INT2:
            width = a->i >= INT16_MIN && a->i <= INT16_MAX ? 2 : -1;
            break;
        case PG_OID_BOOL:
            width = a->i == 0 || a->i == 1 ? 1 : -1;
            break;
        default:
            break;
        }
        if (width <= 0)
            return mrd_err_set(err, MRD_E_INVALID,
                               "store: %s: column %zu: the integer %" PRId64
                               " does not fit its type (oid %u)",
                               l->what, col + 1, a->i, (unsigned)l->types[col]);
        put_be(hd, (uint64_t)width, 4);
        put_be(hd + 4, (uint64_t)a->i, width);
        return mrd_buf_append(&l->buf, hd, 4 + (size_t)width, err);
    }
    if (l->types[col] != (a->type == SQ_ARG_TEXT ? PG_OID_TEXT : PG_OID_BYTEA))
        return mrd_err_set(err, MRD_E_INVALID, "store: %s: column %zu: %s for a column of oid %u",
                           l->what, col + 1, a->type == SQ_ARG_TEXT ? "text" : "bytes",
                           (unsigned)l->types[col]);
    len = a->len >= 0 ? (size_t)a->len : strlen(a->p);
    if (len > (size_t)INT32_MAX - PG_COPY_CHUNK)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: %s: column %zu: %zu bytes", l->what, col + 1,
                           len);
    put_be(hd, len, 4);
    rc = mrd_buf_append(&l->buf, hd, 4, err);
    return rc == MRD_OK ? mrd_buf_append(&l->buf, a->p, len, err) : rc;
}

static enum mrd_code tx_load_row(void *conn, const struct sq_arg *vals, size_t n,
                                 struct mrd_err *err)
{
    struct pg_load *l = &pg_load;
    unsigned char hd[2];
    enum mrd_code rc;

    if (l->c != conn || n != l->ncols)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: a row for no load (%zu values)", n);
    put_be(hd, n, 2);
    rc = mrd_buf_append(&l->buf, hd, 2, err);
    for (size_t i = 0; i < n && rc == MRD_OK; i++)
        rc = load_field(l, i, &vals[i], err);
    if (rc == MRD_OK && l->buf.len >= PG_COPY_CHUNK)
        rc = load_flush(l, err);
    return rc;
}

/* The trailer, the end of the data, then the server's verdict (the rows
 * stored, or why none were: a constraint, a lost connection). Abandoned
 * (ok false): the COPY fails on purpose, its rows with it. */
static enum mrd_code tx_load_end(void *conn, bool ok, uint64_t *ret_n, struct mrd_err *err)
{
    struct pg_load *l = &pg_load;
    struct pg_conn *c = conn;
    PGresult *res;
    enum mrd_code rc = MRD_OK;
    uint64_t n = 0;

    if (l->c != conn)
        return mrd_err_set(err, MRD_E_INTERNAL, "store: the end of no load");
    if (ok) {
        rc = mrd_buf_append(&l->buf, "\377\377", 2, err);
        if (rc == MRD_OK)
            rc = load_flush(l, err);
    }
    if (PQputCopyEnd(c->db, ok && rc == MRD_OK ? NULL : "abandoned by the client") != 1 &&
        rc == MRD_OK)
        rc = pg_fail(c, NULL, l->what, err);
    while ((res = PQgetResult(c->db)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            const char *t = PQcmdTuples(res);
            n = t[0] != '\0' ? strtoull(t, NULL, 10) : 0;
        } else if (PQresultStatus(res) == PGRES_COPY_IN) { /* still open: the end was refused */
            PQclear(res);
            if (rc == MRD_OK)
                rc = pg_fail(c, NULL, l->what, err);
            c->lost = true;
            break;
        } else if ((rc == MRD_OK && ok) || l->failed) { /* abandoned: its own error */
            rc = pg_fail(c, res, l->what, err);
            l->failed = false;
        }
        PQclear(res);
    }
    mrd_buf_release(&l->buf);
    *l = (struct pg_load){0};
    if (rc == MRD_OK && ret_n != NULL)
        *ret_n = n;
    return rc;
}

/* ---- free text and references (store_search.c searches them) ----
 *
 * text_index holds one tsvector per version that has a name or descriptive
 * text (SQLite's FTS5 columns: name; description, abstract, content,
 * explanation), ref_index the ids a version points at, as on SQLite. Both
 * are written by the insert path inside its transaction, from words and
 * references meridian computed (tx_index_text_rows, below), by `store copy`
 * with the SQL statements here for the versions stored after seq `after`,
 * and removed with an erased version. Words are split as FTS5's unicode61 splits them
 * in ASCII: every ASCII byte but a letter or digit separates words (so
 * PostgreSQL's parser never sees a host, e-mail or URL token), then the
 * 'simple' configuration lower-cases them (no stemming, no stop words).
 * mrd_json() reads a body as jsonb, NULL when jsonb refuses it (a \u0000
 * in a string): such a version is stored, without words or references. */
/* Latin letters with diacritics, as FTS5's remove_diacritics folds them
 * (any case: lower() leaves them alone under a "C" locale) */
#define PG_FOLD(t) "translate(" t ", '" STORE_FOLD_FROM "', '" STORE_FOLD_TO "')"
/* fold: PG_FOLD, or PG_FOLD_WIDE (the same words, cheaper) */
#define PG_WORDS_BY(fold, t)                                                                       \
    "to_tsvector('simple', regexp_replace(" fold(                                                  \
        "coalesce(" t ", '')") ","                                                                 \
                               " '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]+', ' ', 'g'))"
#define PG_WORDS(t) PG_WORDS_BY(PG_FOLD, t)
/* PG_FOLD where t has a character of more than one byte (translate()
 * costs a scan of its list per character, a quarter of the words' CPU) */
#define PG_FOLD_WIDE(t)                                                                            \
    "CASE WHEN octet_length(" t ") = length(" t ") THEN " t " ELSE " PG_FOLD(t) " END"
#define PG_TEXT_OF(b)                                                                              \
    "nullif(trim(coalesce(" b "->>'description', '') || ' ' || coalesce(" b "->>'abstract', '')"   \
    " || ' ' || coalesce(" b "->>'content', '') || ' ' || coalesce(" b                             \
    "->>'explanation', '')), '')"
#define PG_HAS(k) "position('\"" k "\"'::bytea in body) > 0 OR "
/* clang-format off */
#define PG_AFTER_BY(after, tests, fence)                                                           \
    "SELECT seq, mrd_json(body) AS b FROM objects WHERE seq > " after " AND (" tests               \
    "false)" fence
#define PG_AFTER(after, tests) PG_AFTER_BY(after, tests, "")
/* fold: see PG_WORDS_BY; fence: " OFFSET 0" keeps the planner from pulling
 * the body's subquery up, which writes mrd_json(body) into each of the ten
 * places b is read (the body parsed ten times: half the statement's CPU) */
#define PG_INDEX_WORDS_BY(fold, after, fence)                                                      \
    "INSERT INTO text_index (seq, words) SELECT seq, setweight(" PG_WORDS_BY(fold, "n") ", 'A')"  \
    " || " PG_WORDS_BY(fold, "d") " FROM (SELECT seq, b->>'name' AS n, " PG_TEXT_OF("b") " AS d"  \
    " FROM (" PG_AFTER_BY(after, PG_HAS("name") PG_HAS("description") PG_HAS("abstract")          \
                          PG_HAS("content") PG_HAS("explanation"), fence) ") o) t"                 \
    " WHERE n IS NOT NULL OR d IS NOT NULL"
/* schema 8 -> 9 (its text is never edited) */
#define PG_INDEX_WORDS(after) PG_INDEX_WORDS_BY(PG_FOLD, after, "")
#define PG_REF(path, role)                                                                         \
    " UNION ALL SELECT b->>'" path "', seq, " role " FROM o WHERE jsonb_typeof(b->'" path "')"    \
    " = 'string'"
#define PG_INDEX_REFS(after) "WITH " PG_INDEX_REFS_WITH(after)
/* PG_INDEX_REFS after its WITH, to follow another common table expression */
#define PG_INDEX_REFS_WITH(after)                                                                  \
    "o AS (" PG_AFTER(after, PG_HAS("object_refs") PG_HAS("source_ref")                           \
                           PG_HAS("sighting_of_ref")) ")"                                          \
    " INSERT INTO ref_index (ref, seq, role) SELECT j #>> '{}', o.seq, 0 FROM o,"                  \
    " jsonb_array_elements(CASE WHEN jsonb_typeof(o.b->'object_refs') = 'array'"                  \
    " THEN o.b->'object_refs' END) AS j WHERE jsonb_typeof(j) = 'string'"                          \
    PG_REF("source_ref", "1") PG_REF("target_ref", "2") PG_REF("sighting_of_ref", "3")            \
    " ON CONFLICT DO NOTHING"
/* clang-format on */

/* Both indexes in one statement (one round trip): the words' INSERT is a
 * common table expression, which PostgreSQL runs to completion whether or
 * not the statement reads it. */
static enum mrd_code tx_index_text_after(void *conn, int64_t after, struct mrd_err *err)
{
    return pg_run(conn, "text and reference index",
                  "WITH w AS (" PG_INDEX_WORDS_BY(PG_FOLD_WIDE, "?1",
                                                  " OFFSET 0") "), " PG_INDEX_REFS_WITH("?1"),
                  SQ_ARGS(SQ_INT(after)), NULL, NULL, NULL, err);
}

/* A request's text and reference index rows, computed by meridian
 * (store_text_of_object: the words PG_INDEX_WORDS_BY and the references
 * PG_INDEX_REFS_WITH compute from the same body) on the request's own
 * thread before it queues for the write lock (pg_text_pre), and sent as
 * arrays under it: PostgreSQL parses no JSON and splits no text, only
 * to_tsvector's own pass over words already split and folded. Written
 * every PG_TEXT_ROWS versions or PG_TEXT_REFS references or PG_TEXT_BYTES
 * of text. */
#define PG_TEXT_ROWS PG_ARRAY_ROWS
#define PG_TEXT_REFS (8 * PG_ARRAY_ROWS)
#define PG_TEXT_BYTES ((size_t)32 << 20)
#define PG_TEXT_INSERT                                                                             \
    "WITH w AS (INSERT INTO text_index (seq, words) SELECT s, setweight(to_tsvector('simple', n)," \
    " 'A') || to_tsvector('simple', d) FROM unnest(?1::bigint[], ?2::text[], ?3::text[])"          \
    " AS t(s, n, d)) INSERT INTO ref_index (ref, seq, role) SELECT * FROM"                         \
    " unnest(?4::text[], ?5::bigint[], ?6::bigint[]) ON CONFLICT DO NOTHING"

struct pg_text_ent { /* one entry of store_text_of_object, its text in pg_text_pre.text */
    enum store_text_kind kind;
    int role;
    size_t off, len;
};

/* A request's entries, object after object (store_ins_req.text). */
struct pg_text_pre {
    struct mrd_buf text;
    struct pg_text_ent *ent;
    size_t nent, cap;
    size_t *first; /* the request's object i: entries first[i] .. first[i + 1] */
};

static enum mrd_code pre_entry(void *ctx, enum store_text_kind kind, int role, const char *s,
                               size_t n, struct mrd_err *err)
{
    struct pg_text_pre *p = ctx;
    size_t off = p->text.len;
    enum mrd_code rc = mrd_buf_append(&p->text, s, n, err);

    if (rc != MRD_OK)
        return rc;
    if (p->nent == p->cap) {
        size_t cap = p->cap > 0 ? 2 * p->cap : 64;
        struct pg_text_ent *e = mrd_realloc(p->ent, cap * sizeof(*e));

        if (e == NULL)
            return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
        p->ent = e;
        p->cap = cap;
    }
    p->ent[p->nent++] = (struct pg_text_ent){kind, role, off, n};
    return MRD_OK;
}

static void text_pre_free(struct pg_text_pre *p)
{
    mrd_buf_release(&p->text);
    mrd_free(p->ent);
    mrd_free(p->first);
    *p = (struct pg_text_pre){0};
}

/* The entries of objs[0..n), outside the write lock. */
static enum mrd_code text_pre(struct pg_text_pre *p, const struct store_object_in *objs, size_t n,
                              struct mrd_err *err)
{
    size_t bytes = 0;
    enum mrd_code rc = MRD_OK;

    for (size_t i = 0; i < n; i++)
        bytes += objs[i].body_len;
    /* an object's entries are parts of its body, no longer (twice that:
     * room for three spaces in a small body's text) */
    mrd_buf_init(&p->text, 2 * bytes + 64);
    p->first = mrd_calloc(n + 1, sizeof(*p->first));
    if (p->first == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t i = 0; i < n && rc == MRD_OK; i++) {
        p->first[i] = p->nent;
        rc = store_text_of_object(objs[i].body, objs[i].body_len, pre_entry, p, err);
    }
    if (rc == MRD_OK)
        p->first[n] = p->nent;
    return rc;
}

struct pg_text_word { /* a text_index row: its two texts */
    int64_t seq;
    const struct pg_text_ent *n, *d;
};
struct pg_text_ref { /* a ref_index row */
    int64_t seq;
    const struct pg_text_ent *e;
};
struct pg_text {
    struct pg_conn *conn;
    const struct pg_text_pre *pre;
    struct pg_text_word *word; /* PG_TEXT_ROWS */
    struct pg_text_ref *ref;   /* PG_TEXT_REFS */
    size_t nw, nr, bytes;
};

/* An entry's text as a parameter: never NULL (SQL NULL), '' as coalesce()
 * gave for a field the object lacks. */
static struct sq_arg ent_text(const struct pg_text *t, const struct pg_text_ent *e)
{
    if (e == NULL || e->len == 0)
        return SQ_TEXT("", 0);
    return SQ_TEXT(t->pre->text.data + e->off, e->len);
}

static enum mrd_code text_flush(struct pg_text *t, struct mrd_err *err)
{
    struct sq_arg *w = NULL, *r = NULL;
    enum mrd_code rc = MRD_OK;

    if (t->nw == 0 && t->nr == 0)
        return MRD_OK;
    w = mrd_calloc(3 * t->nw + 1, sizeof(*w));
    r = mrd_calloc(3 * t->nr + 1, sizeof(*r));
    if (w == NULL || r == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t i = 0; i < t->nw && rc == MRD_OK; i++) {
        w[3 * i] = SQ_INT(t->word[i].seq);
        w[3 * i + 1] = ent_text(t, t->word[i].n);
        w[3 * i + 2] = ent_text(t, t->word[i].d);
    }
    for (size_t i = 0; i < t->nr && rc == MRD_OK; i++) {
        r[3 * i] = ent_text(t, t->ref[i].e);
        r[3 * i + 1] = SQ_INT(t->ref[i].seq);
        r[3 * i + 2] = SQ_INT(t->ref[i].e->role);
    }
    if (rc == MRD_OK)
        rc = pg_run(
            t->conn, "text and reference index", PG_TEXT_INSERT,
            SQ_ARGS(SQ_ARRAY(SQ_ARG_INT, &w[0], t->nw, 3), SQ_ARRAY(SQ_ARG_TEXT, &w[1], t->nw, 3),
                    SQ_ARRAY(SQ_ARG_TEXT, &w[2], t->nw, 3), SQ_ARRAY(SQ_ARG_TEXT, &r[0], t->nr, 3),
                    SQ_ARRAY(SQ_ARG_INT, &r[1], t->nr, 3), SQ_ARRAY(SQ_ARG_INT, &r[2], t->nr, 3)),
            NULL, NULL, NULL, err);
    mrd_free(w);
    mrd_free(r);
    t->nw = t->nr = t->bytes = 0;
    return rc;
}

/* store_txops.index_text_rows: the entries text_pre computed, for the
 * versions stored (seqs[i] != 0) */
static enum mrd_code tx_index_text_rows(void *conn, const struct store_ins_req *q,
                                        const int64_t *seqs, struct mrd_err *err)
{
    struct pg_text t = {.conn = conn, .pre = q->text};
    struct pg_text_pre here = {0};
    enum mrd_code rc = MRD_OK;

    if (t.pre == NULL) { /* a request not made by pg_objects_insert_status */
        rc = text_pre(&here, q->objs, q->n, err);
        t.pre = &here;
    }
    t.word = mrd_calloc(PG_TEXT_ROWS, sizeof(*t.word));
    t.ref = mrd_calloc(PG_TEXT_REFS, sizeof(*t.ref));
    if (t.word == NULL || t.ref == NULL)
        rc = mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    for (size_t i = 0; i < q->n && rc == MRD_OK; i++) {
        bool row = false;

        if (seqs[i] == 0)
            continue;
        if (t.nw == PG_TEXT_ROWS || t.bytes >= PG_TEXT_BYTES)
            rc = text_flush(&t, err);
        for (size_t k = t.pre->first[i]; k < t.pre->first[i + 1] && rc == MRD_OK; k++) {
            const struct pg_text_ent *e = &t.pre->ent[k];

            t.bytes += e->len;
            if (e->kind == STORE_TEXT_REF) {
                if (t.nr == PG_TEXT_REFS) /* more references than a statement takes */
                    rc = text_flush(&t, err);
                t.ref[t.nr++] = (struct pg_text_ref){seqs[i], e};
                continue;
            }
            if (!row)
                t.word[t.nw++] = (struct pg_text_word){seqs[i], NULL, NULL};
            row = true;
            if (e->kind == STORE_TEXT_NAME)
                t.word[t.nw - 1].n = e;
            else
                t.word[t.nw - 1].d = e;
        }
    }
    if (rc == MRD_OK)
        rc = text_flush(&t, err);
    mrd_free(t.word);
    mrd_free(t.ref);
    text_pre_free(&here);
    return rc;
}

static enum mrd_code tx_unindex_text(void *conn, int64_t seq, struct mrd_err *err)
{
    enum mrd_code rc = pg_run(conn, "text index", "DELETE FROM text_index WHERE seq = ?1",
                              SQ_ARGS(SQ_INT(seq)), NULL, NULL, NULL, err);

    if (rc == MRD_OK)
        rc = pg_run(conn, "reference index", "DELETE FROM ref_index WHERE seq = ?1",
                    SQ_ARGS(SQ_INT(seq)), NULL, NULL, NULL, err);
    return rc;
}

/* A request's rows go in few statements, each a round trip: one array
 * parameter per column (INSERT ... SELECT FROM unnest), so one statement
 * text per table, prepared once per connection, whatever the row count.
 * Object queries: plain statements of PG_PAGE_ROWS rows at most. Whole
 * tables: walked in single-row mode, loaded by COPY. */
static const struct store_txops pg_txops = {
    .run = tx_run,
    .index_text_after = tx_index_text_after,
    .unindex_text = tx_unindex_text,
    .index_text_rows = tx_index_text_rows,
    .batch_rows = PG_BATCH_ROWS,
    .array_rows = PG_ARRAY_ROWS,
    .walk = tx_walk,
    .load_begin = tx_load_begin,
    .load_row = tx_load_row,
    .load_end = tx_load_end,
    .page_rows = PG_PAGE_ROWS,
};
_Static_assert(STORE_BATCH_PARAMS <= PG_ARGS_MAX, "a multi-row statement's parameters fit");
/* store_obj.c writes a batch once its bodies pass 16 MB: at most that and
 * one more object's (STORE_OBJECT_MAX), with an 8-byte header each */
_Static_assert((size_t)PG_ARRAY_MAX >= 2 * STORE_OBJECT_MAX + 8 * PG_ARRAY_ROWS,
               "a batch's bodies fit one array parameter");

/* store_text_query's FTS5 query ("w1" "w2 w3"*: quoted phrases, a quote
 * doubled, the last one a prefix) as a tsquery: each phrase's words, split
 * as the index splits them, joined by <-> (followed by), the phrases by &,
 * the last word :* (a prefix); each word quoted. False when it holds no
 * word or does not fit. */
static bool fts_to_tsquery(const char *fts, char *out, size_t size)
{
    size_t n = strlen(fts), o = 0, words = 0;
    bool prefix = n > 0 && fts[n - 1] == '*';

    if (prefix)
        n--;
    for (size_t i = 0; i < n;) {
        size_t phrase_words = 0;

        if (fts[i++] != '"')
            continue; /* the space between phrases */
        /* the phrase runs to the quote that is not doubled */
        while (i < n && !(fts[i] == '"' && (i + 1 >= n || fts[i + 1] != '"'))) {
            const char *join = phrase_words > 0 ? " <-> " : words > 0 ? " & " : "";
            size_t start = i, len;

            while (i < n && ((fts[i] | 0x20) < 'a' || (fts[i] | 0x20) > 'z') &&
                   (fts[i] < '0' || fts[i] > '9') && (unsigned char)fts[i] < 0x80 &&
                   !(fts[i] == '"' && (i + 1 >= n || fts[i + 1] != '"')))
                i += fts[i] == '"' ? 2 : 1; /* a separator (a doubled quote too) */
            start = i;
            while (i < n && (((fts[i] | 0x20) >= 'a' && (fts[i] | 0x20) <= 'z') ||
                             (fts[i] >= '0' && fts[i] <= '9') || (unsigned char)fts[i] >= 0x80))
                i++;
            len = i - start;
            if (len == 0)
                continue;
            if (o + strlen(join) + len + 5 >= size)
                return false;
            memcpy(out + o, join, strlen(join));
            o += strlen(join);
            out[o++] = '\'';
            for (size_t k = start; k < i; k++)
                out[o++] = (char)(fts[k] >= 'A' && fts[k] <= 'Z' ? fts[k] | 0x20 : fts[k]);
            out[o++] = '\'';
            phrase_words++;
            words++;
        }
        i++; /* the closing quote */
    }
    if (words == 0)
        return false;
    if (prefix) { /* room kept above */
        out[o++] = ':';
        out[o++] = '*';
    }
    out[o] = '\0';
    return true;
}

static enum mrd_code
pg_text_search(struct store *st, const char *fts, size_t limit,
               bool (*visible)(void *ctx, int64_t collection, const struct store_row *row),
               enum mrd_code (*emit)(void *ctx, const struct store_found *f, struct mrd_err *err),
               void *ctx, bool *ret_more, struct mrd_err *err)
{
    /* each byte at most 6 (a one-letter word: quotes and " & ") */
    char q[STORE_TEXT_QUERY_MAX * 12 + 8];

    if (!fts_to_tsquery(fts, q, sizeof(q)))
        return mrd_err_set(err, MRD_E_INVAL, "search: no word to look for");
    /* the role column reads 0; best ranked first, then the newest */
    return store__found_query(
        st,
        STORE_FOUND_COLS
        ", 0 FROM text_index t JOIN objects o ON o.seq = t.seq,"
        " to_tsquery('simple', " PG_FOLD("?1") ") AS q WHERE t.words @@ q"
                                               " ORDER BY ts_rank(t.words, q) DESC, o.seq DESC",
        SQ_ARGS(SQ_STR(q)), limit, visible, emit, ctx, ret_more, err);
}

static enum mrd_code int_row(void *ctx, const PGresult *res, int row, struct mrd_err *err)
{
    (void)err;
    *(int64_t *)ctx = col_i64(res, row, 0);
    return MRD_OK;
}

/* ---- schema ---- */

/* migrations[i] brings a database from version i to i + 1. Append only.
 * The tables and columns are SQLite's (store_sqlite.c), in PostgreSQL's
 * types: BIGINT for SQLite's INTEGER, BYTEA for BLOB, identity keys. */
static const char *const migrations[] = {
    /* 0 -> 1: the administrative records */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE orgs (key BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE, relation INTEGER NOT NULL, created BIGINT NOT NULL,"
    " disabled BIGINT, deleted BIGINT);"
    "CREATE TABLE tokens (name TEXT PRIMARY KEY, org BIGINT NOT NULL REFERENCES orgs(key),"
    " hash BYTEA NOT NULL UNIQUE, prefix TEXT NOT NULL, created BIGINT NOT NULL,"
    " revoked BIGINT, expires BIGINT, last_used BIGINT, prev_hash BYTEA, prev_expires BIGINT,"
    " prev_last_used BIGINT);"
    "CREATE UNIQUE INDEX tokens_prev ON tokens(prev_hash) WHERE prev_hash IS NOT NULL;"
    "CREATE TABLE api_roots (name TEXT PRIMARY KEY, title TEXT NOT NULL,"
    " description TEXT NOT NULL, max_content_length BIGINT NOT NULL);"
    "CREATE TABLE collections (key BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE, api_root TEXT NOT NULL REFERENCES api_roots(name),"
    " title TEXT NOT NULL, description TEXT NOT NULL, alias TEXT, default_tlp INTEGER NOT NULL,"
    " public_read INTEGER NOT NULL, last_added BIGINT NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX collections_alias ON collections(api_root, alias)"
    " WHERE alias IS NOT NULL;"
    "CREATE TABLE grants (org BIGINT NOT NULL REFERENCES orgs(key),"
    " collection BIGINT NOT NULL REFERENCES collections(key),"
    " can_read INTEGER NOT NULL, can_write INTEGER NOT NULL, PRIMARY KEY (org, collection));"
    /* the ledger queue of preservation and audit events (leaf NULL until
     * the ledger has recorded it) */
    "CREATE TABLE ledger_events (ev BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " kind INTEGER NOT NULL, time BIGINT NOT NULL, hash BYTEA NOT NULL, record TEXT NOT NULL,"
    " leaf BIGINT UNIQUE);"
    "CREATE INDEX ledger_events_pending ON ledger_events(ev) WHERE leaf IS NULL;",
    /* 1 -> 2: object versions (with SQLite's flags: is_first, is_last,
     * twin, shadowed, shadowed_first, writer_only; store_sqlite.c says
     * what each means), status resources, conflicts, the value index and
     * the ledger's object leaves */
    "CREATE TABLE objects (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " collection BIGINT NOT NULL REFERENCES collections(key), date_added BIGINT NOT NULL,"
    " stix_id TEXT NOT NULL, type TEXT NOT NULL, spec_version TEXT NOT NULL, created BIGINT,"
    " modified BIGINT, version BIGINT NOT NULL, revoked INTEGER NOT NULL, tlp INTEGER NOT NULL,"
    " local INTEGER NOT NULL, creator_org BIGINT NOT NULL, source_peer TEXT,"
    " community TEXT NOT NULL, recipients TEXT, body BYTEA NOT NULL,"
    " is_first INTEGER NOT NULL DEFAULT 1, is_last INTEGER NOT NULL DEFAULT 1,"
    " twin INTEGER NOT NULL DEFAULT 0, shadowed INTEGER NOT NULL DEFAULT 0,"
    " shadowed_first INTEGER NOT NULL DEFAULT 0, signer TEXT,"
    " writer_only INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX objects_added ON objects(collection, date_added);"
    "CREATE INDEX objects_version ON objects(collection, stix_id, version);"
    "CREATE INDEX objects_type ON objects(collection, type, date_added);"
    "CREATE INDEX objects_current ON objects(collection, stix_id)"
    " WHERE is_last = 1 OR shadowed = 0;"
    "CREATE TABLE status (id TEXT PRIMARY KEY, api_root TEXT NOT NULL, org BIGINT NOT NULL,"
    " request BIGINT NOT NULL, complete INTEGER NOT NULL, total BIGINT NOT NULL,"
    " success BIGINT NOT NULL, failure BIGINT NOT NULL, pending BIGINT NOT NULL);"
    "CREATE INDEX status_request ON status(request);"
    "CREATE TABLE status_details (status_id TEXT NOT NULL, ord INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, stix_id TEXT NOT NULL, version BIGINT NOT NULL,"
    " message TEXT NOT NULL, PRIMARY KEY (status_id, ord));"
    "CREATE TABLE conflicts (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " time BIGINT NOT NULL, collection BIGINT NOT NULL, stix_id TEXT NOT NULL,"
    " version BIGINT NOT NULL, reason INTEGER NOT NULL, action INTEGER NOT NULL,"
    " kept_seq BIGINT, kept_signer TEXT, other_seq BIGINT, other_signer TEXT,"
    " other_org BIGINT NOT NULL, other_peer TEXT, other_hash BYTEA, other_body BYTEA);"
    "CREATE UNIQUE INDEX conflicts_rejected ON conflicts(collection, stix_id, version,"
    " other_hash) WHERE other_seq IS NULL;"
    "CREATE TABLE value_index (kind INTEGER NOT NULL, key BYTEA NOT NULL, seq BIGINT NOT NULL,"
    " how INTEGER NOT NULL, PRIMARY KEY (kind, key, seq));"
    "CREATE TABLE object_leaves (seq BIGINT PRIMARY KEY, leaf BIGINT NOT NULL UNIQUE);",
    /* 2 -> 3: console sessions (store_session.c; SQLite's schema 5) */
    "CREATE TABLE sessions (hash BYTEA PRIMARY KEY, token TEXT NOT NULL, org BIGINT NOT NULL,"
    " created BIGINT NOT NULL, last_seen BIGINT NOT NULL, expires BIGINT NOT NULL);"
    "CREATE INDEX sessions_token ON sessions(token);"
    "CREATE INDEX sessions_org ON sessions(org);"
    "CREATE INDEX sessions_expires ON sessions(expires);",
    /* 3 -> 4: legal holds (store_hold.c; SQLite's schema 4) */
    "CREATE TABLE holds (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, created BIGINT NOT NULL,"
    " expires BIGINT NOT NULL, released BIGINT, record TEXT NOT NULL);"
    "CREATE INDEX holds_case ON holds(case_id);"
    "CREATE TABLE hold_items (hold TEXT NOT NULL REFERENCES holds(id), seq BIGINT NOT NULL,"
    " PRIMARY KEY (hold, seq));"
    "CREATE INDEX hold_items_seq ON hold_items(seq);",
    /* 4 -> 5: scheduled feeds (store_feed.c; SQLite's schema 12). Names
     * and ids sort bytewise ("C"), as SQLite's do, whatever the database's
     * locale. */
    "CREATE TABLE feeds (name TEXT COLLATE \"C\" PRIMARY KEY, config TEXT NOT NULL,"
    " state TEXT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE feed_items (feed TEXT NOT NULL, stix_id TEXT COLLATE \"C\" NOT NULL,"
    " PRIMARY KEY (feed, stix_id));",
    /* 5 -> 6: constituency assets and notifications (store_notify.c;
     * SQLite's schema 9), early-warning delivery (store_deliver.c;
     * SQLite's 13 and 14) */
    "CREATE TABLE assets (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " org BIGINT NOT NULL, kind INTEGER NOT NULL, asn BIGINT NOT NULL DEFAULT 0,"
    " vkind INTEGER NOT NULL DEFAULT 0, vkey BYTEA, text TEXT NOT NULL, status INTEGER NOT NULL,"
    " created BIGINT NOT NULL, \"overlaps\" TEXT NOT NULL DEFAULT '', UNIQUE (org, kind, text));"
    "CREATE TABLE notifications (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " org BIGINT NOT NULL, asset BIGINT NOT NULL, asset_text TEXT COLLATE \"C\" NOT NULL,"
    " seq BIGINT NOT NULL, object_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
    " how INTEGER NOT NULL, created BIGINT NOT NULL, squelched INTEGER NOT NULL,"
    " UNIQUE (org, asset, seq));"
    "CREATE INDEX notifications_recent ON notifications(org, asset, kind, value, created);"
    "CREATE TABLE contacts (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " org BIGINT NOT NULL, channel INTEGER NOT NULL, address TEXT NOT NULL,"
    " pgp_key TEXT NOT NULL DEFAULT '', secret TEXT NOT NULL DEFAULT '',"
    " schedule TEXT NOT NULL, created BIGINT NOT NULL, UNIQUE (org, channel, address));"
    "CREATE TABLE deliveries (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " contact BIGINT NOT NULL, org BIGINT NOT NULL, channel INTEGER NOT NULL,"
    " address TEXT NOT NULL, schedule INTEGER NOT NULL, status INTEGER NOT NULL,"
    " created BIGINT NOT NULL, due BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,"
    " last_try BIGINT NOT NULL DEFAULT 0, sent BIGINT NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '', ev BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX deliveries_due ON deliveries(status, due);"
    "CREATE TABLE delivery_items (delivery BIGINT NOT NULL, notification BIGINT NOT NULL,"
    " PRIMARY KEY (delivery, notification));"
    "CREATE TABLE delivery_attempts (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " delivery BIGINT NOT NULL, time BIGINT NOT NULL, status INTEGER NOT NULL,"
    " error TEXT NOT NULL);"
    "CREATE INDEX delivery_attempts_of ON delivery_attempts(delivery, id);",
    /* 6 -> 7: the access audit (store_reads.c; SQLite's schemas 15 and 16):
     * one row per page read, the digests that seal runs of rows, and the
     * guard that refuses updates and deletes of unsealed pages */
    "CREATE TABLE access_pages (first BIGINT PRIMARY KEY, n BIGINT NOT NULL,"
    " time BIGINT NOT NULL, org TEXT NOT NULL, token TEXT NOT NULL, path TEXT NOT NULL,"
    " items TEXT NOT NULL);"
    "CREATE TABLE access_digests (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " first BIGINT NOT NULL UNIQUE, last BIGINT NOT NULL, n BIGINT NOT NULL,"
    " time_from BIGINT NOT NULL, time_to BIGINT NOT NULL, hash BYTEA NOT NULL,"
    " ev BIGINT NOT NULL, pruned BIGINT);"
    "CREATE FUNCTION access_pages_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP = 'UPDATE' OR OLD.first + OLD.n - 1 >"
    " COALESCE((SELECT MAX(last) FROM access_digests), 0) THEN"
    " RAISE EXCEPTION 'the access audit is append-only'; END IF; RETURN OLD; END $$;"
    "CREATE TRIGGER access_pages_guard BEFORE UPDATE OR DELETE ON access_pages"
    " FOR EACH ROW EXECUTE FUNCTION access_pages_guard();",
    /* 7 -> 8: erasure clears the value each notification kept of the version it
     * names (store_erase.c): found by seq */
    "CREATE INDEX notifications_seq ON notifications(seq);",
    /* 8 -> 9: free text and references (store_text_search, store_refs_to;
     * SQLite's schema 10): see "free text and references" above; the
     * versions already stored are indexed here, once */
    "CREATE FUNCTION mrd_json(b BYTEA) RETURNS JSONB LANGUAGE plpgsql IMMUTABLE AS"
    " $$BEGIN RETURN convert_from(b, 'UTF8')::jsonb;"
    " EXCEPTION WHEN others THEN RETURN NULL; END$$;"
    "CREATE TABLE text_index (seq BIGINT PRIMARY KEY, words TSVECTOR NOT NULL);"
    "CREATE INDEX text_index_words ON text_index USING GIN (words);"
    "CREATE TABLE ref_index (ref TEXT COLLATE \"C\" NOT NULL, seq BIGINT NOT NULL,"
    " role INTEGER NOT NULL, PRIMARY KEY (ref, seq, role));"
    "CREATE INDEX ref_index_seq ON ref_index(seq);" PG_INDEX_WORDS("0") ";" PG_INDEX_REFS("0"),
    /* 9 -> 10 and 10 -> 11: the overview's aggregates (store_agg_query;
     * SQLite's schema 11): the same tables, kept by one trigger function
     * with SQLite's rules (store_sqlite.c says what each counter holds);
     * the versions already stored are counted in 10 -> 11, once */
    "CREATE TABLE agg_keys (key BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " collection BIGINT NOT NULL, tlp INTEGER NOT NULL, local INTEGER NOT NULL,"
    " creator_org BIGINT NOT NULL, community TEXT NOT NULL, recipients TEXT NOT NULL,"
    " writer_only INTEGER NOT NULL, source_peer TEXT NOT NULL, UNIQUE (collection, tlp, local,"
    " creator_org, community, recipients, writer_only, source_peer));"
    "CREATE TABLE agg_objects (hour BIGINT NOT NULL, key BIGINT NOT NULL, type TEXT NOT NULL,"
    " n BIGINT NOT NULL, PRIMARY KEY (hour, key, type));"
    "CREATE TABLE agg_sightings (hour BIGINT NOT NULL, key BIGINT NOT NULL,"
    " reporter TEXT NOT NULL, count BIGINT NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY (hour, key, reporter));"
    "CREATE TABLE agg_sighted (day BIGINT NOT NULL, indicator TEXT COLLATE \"C\" NOT NULL,"
    " key BIGINT NOT NULL, count BIGINT NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY (day, indicator, key));"
    "CREATE INDEX agg_sighted_indicator ON agg_sighted(indicator, day);"
    "CREATE TABLE agg_sent (hour BIGINT NOT NULL, key BIGINT NOT NULL, dest TEXT NOT NULL,"
    " n BIGINT NOT NULL, PRIMARY KEY (hour, key, dest));"
    "CREATE INDEX objects_from_peers ON objects(collection, type, date_added)"
    " WHERE source_peer IS NOT NULL;"
    /* a row's key, added when new */
    "CREATE FUNCTION mrd_agg_key(o objects) RETURNS BIGINT LANGUAGE plpgsql AS $$"
    " DECLARE k BIGINT; BEGIN"
    " INSERT INTO agg_keys (collection, tlp, local, creator_org, community, recipients,"
    " writer_only, source_peer) VALUES (o.collection, o.tlp, o.local, o.creator_org,"
    " o.community, coalesce(o.recipients, ''), o.writer_only, coalesce(o.source_peer, ''))"
    " ON CONFLICT DO NOTHING RETURNING key INTO k;"
    " IF k IS NULL THEN SELECT a.key INTO k FROM agg_keys a WHERE (a.collection, a.tlp,"
    " a.local, a.creator_org, a.community, a.recipients, a.writer_only, a.source_peer) ="
    " (o.collection, o.tlp, o.local, o.creator_org, o.community, coalesce(o.recipients, ''),"
    " o.writer_only, coalesce(o.source_peer, '')); END IF;"
    " RETURN k; END$$;"
    /* row o's share of agg_objects, added (sign 1) or taken away (-1) */
    "CREATE FUNCTION mrd_agg_obj(o objects, sign INTEGER) RETURNS VOID LANGUAGE sql AS $$"
    " INSERT INTO agg_objects (hour, key, type, n) VALUES (o.date_added / 3600000000,"
    " mrd_agg_key(o), o.type, sign) ON CONFLICT (hour, key, type) DO UPDATE"
    " SET n = agg_objects.n + excluded.n $$;",
    /* 10 -> 11: the aggregates' sightings and triggers (one string of 9 -> 10
     * would be longer than C17 compilers must take). A sighting's share:
     * per hour of first_seen (date_added when absent or not a time) and
     * reporter; per day and sighted object */
    "CREATE FUNCTION mrd_agg_sight(o objects, sign INTEGER) RETURNS VOID LANGUAGE plpgsql AS $$"
    " DECLARE b JSONB := mrd_json(o.body); h BIGINT; c BIGINT := 1; k BIGINT := mrd_agg_key(o);"
    " rep TEXT; ind TEXT; BEGIN"
    " BEGIN h := floor(extract(epoch FROM CAST(b->>'first_seen' AS TIMESTAMPTZ)));"
    " EXCEPTION WHEN others THEN h := NULL; END;"
    " h := coalesce(h, o.date_added / 1000000) / 3600;"
    " IF jsonb_typeof(b->'count') = 'number' AND b->>'count' ~ '^-?[0-9]{1,18}$' THEN"
    " c := greatest(CAST(b->>'count' AS BIGINT), 0); END IF;"
    " rep := coalesce(b->>'created_by_ref', b->'where_sighted_refs'->>0, 'unknown');"
    " ind := b->>'sighting_of_ref';"
    " INSERT INTO agg_sightings (hour, key, reporter, count, n) VALUES (h, k, rep, sign * c,"
    " sign) ON CONFLICT (hour, key, reporter) DO UPDATE SET count = agg_sightings.count"
    " + excluded.count, n = agg_sightings.n + excluded.n;"
    " IF ind IS NOT NULL THEN INSERT INTO agg_sighted (day, indicator, key, count, n)"
    " VALUES (h / 24, ind, k, sign * c, sign) ON CONFLICT (day, indicator, key) DO UPDATE"
    " SET count = agg_sighted.count + excluded.count, n = agg_sighted.n + excluded.n;"
    " END IF; END$$;"
    /* SQLite's triggers in one function: insert, delete, a copy becoming
     * writer-only (another key), a sighting's version ceasing or becoming
     * the newest (only the newest counts) */
    "CREATE FUNCTION mrd_agg_trigger() RETURNS TRIGGER LANGUAGE plpgsql AS $$"
    " DECLARE moved BOOLEAN; BEGIN"
    " IF TG_OP = 'INSERT' THEN PERFORM mrd_agg_obj(NEW, 1);"
    " IF NEW.type = 'sighting' AND NEW.is_last = 1 THEN PERFORM mrd_agg_sight(NEW, 1); END IF;"
    " ELSIF TG_OP = 'DELETE' THEN PERFORM mrd_agg_obj(OLD, -1);"
    " IF OLD.type = 'sighting' AND OLD.is_last = 1 THEN PERFORM mrd_agg_sight(OLD, -1); END IF;"
    " ELSE moved := OLD.writer_only IS DISTINCT FROM NEW.writer_only;"
    " IF moved THEN PERFORM mrd_agg_obj(OLD, -1); PERFORM mrd_agg_obj(NEW, 1); END IF;"
    " IF OLD.type = 'sighting' AND OLD.is_last = 1 AND (moved OR NEW.is_last = 0) THEN"
    " PERFORM mrd_agg_sight(OLD, -1); END IF;"
    " IF NEW.type = 'sighting' AND NEW.is_last = 1 AND (moved OR OLD.is_last = 0) THEN"
    " PERFORM mrd_agg_sight(NEW, 1); END IF; END IF;"
    " RETURN NULL; END$$;"
    "SELECT mrd_agg_obj(o, 1) FROM objects o;"
    "SELECT mrd_agg_sight(o, 1) FROM objects o WHERE o.type = 'sighting' AND o.is_last = 1;"
    "CREATE TRIGGER agg_change AFTER INSERT OR DELETE ON objects"
    " FOR EACH ROW EXECUTE FUNCTION mrd_agg_trigger();"
    "CREATE TRIGGER agg_update AFTER UPDATE OF writer_only, is_last ON objects"
    " FOR EACH ROW EXECUTE FUNCTION mrd_agg_trigger();",
    /* 11 -> 12: an INSERT's share of the aggregates once per statement
     * (a transition table), not per row: a multi-row INSERT of an
     * envelope (store_obj.c) adds its keys and counts in two statements
     * instead of three per version. Same counts as the row trigger, which
     * keeps deletes (PostgreSQL takes a transition table for one event) */
    "DROP TRIGGER agg_change ON objects;"
    "CREATE FUNCTION mrd_agg_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$"
    " DECLARE o objects; BEGIN"
    " INSERT INTO agg_keys (collection, tlp, local, creator_org, community, recipients,"
    " writer_only, source_peer) SELECT DISTINCT n.collection, n.tlp, n.local, n.creator_org,"
    " n.community, coalesce(n.recipients, ''), n.writer_only, coalesce(n.source_peer, '')"
    " FROM new_rows n ON CONFLICT DO NOTHING;"
    " INSERT INTO agg_objects (hour, key, type, n) SELECT n.date_added / 3600000000, a.key,"
    " n.type, count(*) FROM new_rows n JOIN agg_keys a ON (a.collection, a.tlp, a.local,"
    " a.creator_org, a.community, a.recipients, a.writer_only, a.source_peer) = (n.collection,"
    " n.tlp, n.local, n.creator_org, n.community, coalesce(n.recipients, ''), n.writer_only,"
    " coalesce(n.source_peer, '')) GROUP BY 1, 2, 3 ON CONFLICT (hour, key, type) DO UPDATE"
    " SET n = agg_objects.n + excluded.n;"
    " FOR o IN SELECT * FROM new_rows n WHERE n.type = 'sighting' AND n.is_last = 1 LOOP"
    " PERFORM mrd_agg_sight(o, 1); END LOOP;"
    " RETURN NULL; END$$;"
    "CREATE TRIGGER agg_insert AFTER INSERT ON objects REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION mrd_agg_insert();"
    "CREATE TRIGGER agg_delete AFTER DELETE ON objects"
    " FOR EACH ROW EXECUTE FUNCTION mrd_agg_trigger();",
    /* 12 -> 13: the access audit's pages packed in binary (SQLite's 17 ->
     * 18, store_readpack.c); pages written before keep their text items */
    "ALTER TABLE access_pages ADD COLUMN packed BYTEA;",
    /* 13 -> 14: no table changes (SQLite's 19 -> 20): packed may now hold
     * a merged row (store.h, "merged pages"), which a Meridian of schema 13
     * cannot read: the version keeps it away. */
    ("COMMENT ON COLUMN access_pages.packed IS"
     " 'store_readpack.c: format 1 (one page) or 2 (merged pages, schema 14)'"),
    /* 14 -> 15 (PostgreSQL only): objects without the foreign key on
     * collections, a check per inserted row (an index probe and a queued
     * trigger event each, docs/store.md "Few statements per request"): the
     * insert reads its collection's row under the write lock before it
     * writes a version (store_obj.c, store__insert_req: "collection: not
     * found"), and collections are never deleted */
    "ALTER TABLE objects DROP CONSTRAINT IF EXISTS objects_collection_fkey;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* An arbitrary constant: the advisory lock that serialises schema
 * creation and migration between front-ends starting together. */
#define PG_SCHEMA_LOCK 0x6d72645f73636865LL

static enum mrd_code migrate(struct pg_conn *c, const struct store_open_opts *opts,
                             struct mrd_err *err)
{
    int64_t version = 0;
    uint64_t n = 0;
    enum mrd_code rc;
    char sql[96];

    rc = pg_exec(c, "schema", "BEGIN", err);
    if (rc == MRD_OK)
        rc = pg_run(c, "schema", "SELECT pg_advisory_xact_lock(?1)",
                    SQ_ARGS(SQ_INT(PG_SCHEMA_LOCK)), NULL, NULL, NULL, err);
    if (rc == MRD_OK)
        rc = pg_exec(c, "schema",
                     "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", err);
    if (rc == MRD_OK)
        rc = pg_run(c, "schema", "SELECT version FROM schema_version", SQ_NOARGS, int_row, &version,
                    &n, err);
    if (rc != MRD_OK)
        goto out;
    if (n == 0 && (opts == NULL || !opts->create)) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND,
                         "store: the PostgreSQL database has no Meridian schema"
                         " (run 'meridian init --store DSN' first)");
        goto out;
    }
    if (version > SCHEMA_VERSION) {
        rc = mrd_err_set(err, MRD_E_UNSUPP,
                         "store: the PostgreSQL schema is version %" PRId64
                         ", newer than this Meridian (%d)",
                         version, SCHEMA_VERSION);
        goto out;
    }
    if (opts != NULL && opts->ret_migrated_from != NULL)
        *opts->ret_migrated_from = (int)version;
    for (int64_t v = version; v < SCHEMA_VERSION && rc == MRD_OK; v++)
        rc = pg_exec(c, "schema migration", migrations[v], err);
    if (rc == MRD_OK && version < SCHEMA_VERSION) {
        (void)snprintf(sql, sizeof(sql),
                       "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
                       SCHEMA_VERSION);
        rc = pg_exec(c, "schema", sql, err);
    }
    if (rc == MRD_OK)
        rc = pg_exec(c, "schema", "COMMIT", err);
out:
    if (rc != MRD_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE)
        PQclear(PQexec(c->db, "ROLLBACK"));
    return rc;
}

/* ---- tokens (the other records are store_rows.c's, shared with SQLite) ---- */

#define TOKEN_COLS STORE_TOKEN_SELECT

static enum mrd_code token_row(void *ctx, const PGresult *res, int row, struct mrd_err *err)
{
    struct store_rowrd r = rowrd(res, row);

    (void)err;
    store__token_from(&r, ctx);
    return MRD_OK;
}

static enum mrd_code pg_token_revoke(struct store *stp, const char *name_or_prefix,
                                     struct store_token *ret, struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c = NULL;
    struct store_token found;
    unsigned char hash[STORE_TOKEN_HASH_LEN];
    size_t n = strlen(name_or_prefix);
    uint64_t matches = 0;
    enum mrd_code rc;

    rc = acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    rc = pg_exec(c, "token revoke", "BEGIN", err);
    /* An exact name wins; then the whole secret; then an unambiguous
     * prefix of the public token prefix (as store_sqlite.c). The rows are
     * locked until the revocation commits. */
    if (rc == MRD_OK)
        rc = pg_run(c, "token revoke", TOKEN_COLS "WHERE t.name = ?1 FOR UPDATE OF t",
                    SQ_ARGS(SQ_STR(name_or_prefix)), token_row, &found, &matches, err);
    if (rc == MRD_OK && matches == 0 && n == STORE_TOKEN_LEN) {
        store__token_hash(name_or_prefix, n, hash);
        rc = pg_run(c, "token revoke", TOKEN_COLS "WHERE t.hash = ?1 FOR UPDATE OF t",
                    SQ_ARGS(SQ_BLOB(hash, sizeof(hash))), token_row, &found, &matches, err);
    }
    if (rc == MRD_OK && matches == 0 && n >= 4 && n <= STORE_TOKEN_PREFIX_LEN)
        rc =
            pg_run(c, "token revoke",
                   TOKEN_COLS "WHERE substr(t.prefix, 1, CAST(?2 AS INTEGER)) = ?1 FOR UPDATE OF t",
                   SQ_ARGS(SQ_STR(name_or_prefix), SQ_INT(n)), token_row, &found, &matches, err);
    if (rc != MRD_OK)
        goto out;
    if (matches == 0) {
        rc = mrd_err_set(err, MRD_E_NOTFOUND, "no token named or starting with '%s'",
                         name_or_prefix);
        goto out;
    }
    if (matches > 1) {
        rc = mrd_err_set(err, MRD_E_CONFLICT, "'%s' matches %llu tokens: give more of it",
                         name_or_prefix, (unsigned long long)matches);
        goto out;
    }
    if (found.revoked_usec == STORE_TIME_NONE) {
        found.revoked_usec = mrd_time_now_usec();
        rc = pg_run(c, "token revoke", "UPDATE tokens SET revoked = ?2 WHERE name = ?1",
                    SQ_ARGS(SQ_STR(found.name), SQ_INT(found.revoked_usec)), NULL, NULL, NULL, err);
    }
    /* revoking a token ends the console sessions opened with it */
    if (rc == MRD_OK) {
        struct store_tx tx = {&pg_txops, c};
        rc = store__sessions_drop_token(&tx, found.name, err);
    }
    if (rc == MRD_OK)
        rc = pg_exec(c, "token revoke", "COMMIT", err);
    if (rc == MRD_OK && ret != NULL)
        *ret = found;
out:
    release(s, c); /* rolls back unless committed */
    return rc;
}

/* ---- objects and statuses (store_obj.c, shared with SQLite) ---- */

/* An arbitrary constant: the advisory lock every object write holds until
 * it commits, across all front-ends. It is the database's write lock that
 * SQLite has by itself (BEGIN IMMEDIATE): date_added is taken under it, so
 * rows become visible in date_added order and a reader paging behind a
 * cursor never has a row appear behind it (docs/store.md); and two
 * front-ends writing the same version see each other's row (one wins). */
#define PG_WRITE_LOCK 0x6d72645f77726974LL

enum tx_mode {
    TX_READ,   /* a read-only snapshot, for a whole page */
    TX_WRITE,  /* rows of its own (a status) */
    TX_LOCKED, /* object writes: holding PG_WRITE_LOCK */
};

/* One operation of store_obj.c in its own transaction on a borrowed
 * connection: op(tx, args) runs between BEGIN and COMMIT (a read, or a
 * failure, rolls back). */
struct tx_call {
    enum mrd_code (*op)(const struct store_tx *tx, void *args, struct mrd_err *err);
    void *args;
};

static enum mrd_code begin_step(struct pg_conn *c, void *ctx, struct mrd_err *err)
{
    static const char *const begin[] = {PG_BEGIN_READ, "BEGIN", "BEGIN"};
    enum tx_mode mode = *(const enum tx_mode *)ctx;
    enum mrd_code rc;

    if (mode == TX_LOCKED && !in_wtx(c)) { /* both in one message: one round trip */
        char sql[80];
        PGresult *res;

        (void)snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
                       (long long)PG_WRITE_LOCK);
        res = PQexec(c->db, sql);

        rc = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK
                 ? MRD_OK
                 : pg_fail(c, res, "write lock", err);
        PQclear(res);
        return rc;
    }
    rc = pg_exec(c, "transaction", begin[mode], err);
    if (rc == MRD_OK && mode == TX_LOCKED)
        rc = pg_run(c, "write lock", "SELECT pg_advisory_xact_lock(?1)",
                    SQ_ARGS(SQ_INT(PG_WRITE_LOCK)), NULL, NULL, NULL, err);
    return rc;
}

static enum mrd_code commit(struct pg_conn *c, struct mrd_err *err)
{
    enum mrd_code rc = pg_exec(c, "commit", "COMMIT", err);

    /* lost while committing: the server may or may not have committed,
     * and a retry could store twice. Say so; the client re-sends (a
     * re-sent object version is a duplicate, stored once). */
    if (rc != MRD_OK && c->lost)
        rc = mrd_err_set(err, MRD_E_UNAVAIL,
                         "store: connection to PostgreSQL lost during COMMIT: whether the "
                         "write was stored is unknown; send it again");
    return rc;
}

static enum mrd_code in_tx(struct store *stp, enum tx_mode mode, struct tx_call call,
                           struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c = NULL;
    struct store_tx tx;
    enum mrd_code rc;

    if (mode == TX_READ && pinned(s)) { /* inside the thread's snapshot already */
        rc = pin_conn(s, &c, err);
        if (rc != MRD_OK)
            return rc;
        tx = (struct store_tx){&pg_txops, c};
        rc = call.op(&tx, call.args, err);
        release(s, c); /* the snapshot stays; an aborted one is rolled back */
        return rc;
    }
    /* BEGIN (and the write lock) once more on a fresh connection when the
     * connection turns out to be broken: nothing of it ran yet */
    rc = on_conn(s, true, false, begin_step, &mode, &c, err);
    if (rc != MRD_OK)
        return rc;
    tx = (struct store_tx){&pg_txops, c};
    /* A connection lost inside the transaction: not committed, an error
     * (the op's results may be half out: never run it twice). */
    rc = call.op(&tx, call.args, err);
    if (rc == MRD_OK && mode != TX_READ)
        rc = commit(c, err);
    release(s, c); /* rolls back unless committed */
    return rc;
}

static enum mrd_code pg_write_tx(struct store *st,
                                 enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                     struct mrd_err *err),
                                 void *args, struct mrd_err *err)
{
    /* a read-modify-write of shared code (store_rows.c, store_session.c):
     * serialised as on SQLite, whichever front-end runs it */
    return in_tx(st, TX_LOCKED, (struct tx_call){op, args}, err);
}

static enum mrd_code pg_read_tx(struct store *st,
                                enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                    struct mrd_err *err),
                                void *args, struct mrd_err *err)
{
    return in_tx(st, TX_READ, (struct tx_call){op, args}, err);
}

/* store_driver.rows_tx: a plain transaction, without the write lock (the
 * ledger's marks: object_leaves rows and ledger_events' leaf, written by
 * the one ledger leader; no object write reads them, and the versions the
 * ledger lacks are still those above object_leaves' highest seq, since
 * versions are committed in seq order under the write lock whatever the
 * marks do) */
static enum mrd_code pg_rows_tx(struct store *st,
                                enum mrd_code (*op)(const struct store_tx *tx, void *args,
                                                    struct mrd_err *err),
                                void *args, struct mrd_err *err)
{
    return in_tx(st, TX_WRITE, (struct tx_call){op, args}, err);
}

static const struct store_driver pg_driver = {
    driver_query, pg_write_tx, pg_read_tx,
    "SELECT CAST(value AS BIGINT) FROM jsonb_array_elements_text(CAST(?1 AS JSONB))", pg_rows_tx};

struct insert_args {
    const struct store_ins_req *req;
};

static enum mrd_code insert_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct insert_args *a = args;
    struct mrd_buf rcpt;
    enum mrd_code rc;

    mrd_buf_init(&rcpt, (size_t)STORE_RECIPIENTS_MAX * 21);
    rc = store__insert_req(tx, a->req, &rcpt, err);
    mrd_buf_release(&rcpt);
    return rc;
}

/* Writes a queue of requests (store_group.c) in one transaction under the
 * write lock: each request in its own savepoint, so one failing request
 * leaves the others whole; then one COMMIT, one fsync, for all. A request
 * alone takes no savepoint (two round trips fewer). */
static void run_group(void *ctx, struct store_ins_wait *head)
{
    struct pg_store *s = ctx;
    struct pg_conn *c = NULL;
    struct store_tx tx;
    struct mrd_buf rcpt;
    struct mrd_err err = {0};
    enum tx_mode mode = TX_LOCKED;
    enum mrd_code rc = on_conn(s, true, false, begin_step, &mode, &c, &err);

    mrd_buf_init(&rcpt, (size_t)STORE_RECIPIENTS_MAX * 21);
    tx = (struct store_tx){&pg_txops, c};
    for (struct store_ins_wait *q = head; q != NULL && rc == MRD_OK; q = q->next) {
        bool alone = q == head && q->next == NULL;

        q->rc = alone ? MRD_OK : pg_exec(c, "transaction", "SAVEPOINT ins", &q->err);
        if (q->rc == MRD_OK)
            q->rc = store__insert_req(&tx, &q->req, &rcpt, &q->err);
        if (alone)
            rc = q->rc; /* its failure rolls the transaction back (release) */
        else if (q->rc != MRD_OK)
            rc = pg_exec(c, "transaction", "ROLLBACK TO SAVEPOINT ins", &err);
        else
            rc = pg_exec(c, "transaction", "RELEASE SAVEPOINT ins", &err);
    }
    if (rc == MRD_OK)
        rc = commit(c, &err);
    if (c != NULL)
        release(s, c); /* rolls back unless committed */
    store__group_failed(head, rc, &err);
    mrd_buf_release(&rcpt);
}

/* ---- the statistics of a young objects table ----
 *
 * The planner picks a statement's plan by the table's statistics, which
 * autovacuum's ANALYZE gathers once a tenth of a table has changed, within
 * a minute (autovacuum_naptime) -- or never, where autovacuum is off or
 * behind. A young objects table has none: the statements that read the
 * versions after a seq (the ledger, the background readers, `store copy`'s
 * text index)
 * then guess that a third of the table is in a range that holds a
 * request's few rows, and a plan made so (kept by a prepared statement)
 * reads the table whole at every write. Once there are statistics, even
 * old ones, the planner finds the range's true end in the index and reads
 * only it. So the store looks itself: every PG_ANALYZE_STEP versions this
 * process writes, once they are committed, it analyzes objects when the
 * table has no statistics at all (one catalog query; the ANALYZE of a
 * table of a few thousand rows takes milliseconds), until it has seen
 * some (young_analyze). What changes later is
 * autovacuum's. A new plan for every statement on objects follows
 * (prepared ones too: the server replans them when the statistics
 * change). Never a failure: a role that does not own the table is warned
 * and skipped by the server. */
#define PG_ANALYZE_STEP 1000
#define PG_STATS_SQL                                                                               \
    "SELECT count(*) FROM (SELECT 1 FROM pg_stats s JOIN pg_class c"                               \
    " ON c.relname = s.tablename AND c.relnamespace::regnamespace::name = s.schemaname"            \
    " WHERE c.oid = 'objects'::regclass LIMIT 1) AS x"

/* n versions written (committed or about to be, in this thread's write
 * transaction). */
static void young_written(struct pg_store *s, size_t n)
{
    uint_fast64_t before;

    if (atomic_load(&s->stats_seen))
        return;
    before = atomic_fetch_add(&s->written, n);
    if (before / PG_ANALYZE_STEP != (before + n) / PG_ANALYZE_STEP)
        atomic_store(&s->analyze_due, true);
}

/* The look at the statistics when it is due, outside any write
 * transaction of this thread's (its connection is not to be borrowed).
 * Once it has found statistics this process looks no more: they do not go
 * away, and the look (pg_stats, a view over every column's statistics)
 * cost 15-20 ms of the server's time per 1,000 versions ingested
 * (bench/pg/README.md). */
static void young_analyze(struct pg_store *s)
{
    struct pg_conn *c = NULL;
    struct mrd_err err = {0};
    int64_t have = 0;

    if (pg_wtx.s == s || !atomic_exchange(&s->analyze_due, false))
        return;
    if (acquire(s, &c, &err) != MRD_OK)
        return;
    if (pg_run(c, "statistics", PG_STATS_SQL, SQ_NOARGS, int_row, &have, NULL, &err) == MRD_OK) {
        if (have > 0)
            atomic_store(&s->stats_seen, true);
        else
            (void)pg_exec(c, "statistics", "ANALYZE objects", &err);
    }
    release(s, c);
}

static enum mrd_code
pg_objects_insert_status(struct store *st, int64_t collection, const struct store_object_in *objs,
                         size_t n, enum store_insert_outcome *ret_outcomes, int64_t *ret_date_added,
                         const struct store_status *status, struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct pg_text_pre text = {0};
    struct store_ins_req req = {collection, objs, n, ret_outcomes, ret_date_added, status, &text};
    struct insert_args a = {&req};
    enum mrd_code rc;

    /* the text index's words, on this thread: not under the write lock */
    rc = text_pre(&text, objs, n, err);
    /* inside this thread's write transaction (store_write_begin): in it,
     * never in another thread's group (that one would wait for the write
     * lock this thread holds) */
    if (rc == MRD_OK && pg_wtx.s == s)
        rc = in_tx(st, TX_LOCKED, (struct tx_call){insert_op, &a}, err);
    else if (rc == MRD_OK)
        rc = store__group_insert(&s->ins, &req, run_group, s, err);
    text_pre_free(&text);
    if (rc == MRD_OK)
        young_written(s, n);
    young_analyze(s); /* committed (not inside this thread's write transaction) */
    return rc;
}

static enum mrd_code pg_objects_insert(struct store *st, int64_t collection,
                                       const struct store_object_in *objs, size_t n,
                                       enum store_insert_outcome *ret_outcomes,
                                       int64_t *ret_date_added, struct mrd_err *err)
{
    return pg_objects_insert_status(st, collection, objs, n, ret_outcomes, ret_date_added, NULL,
                                    err);
}

struct query_args {
    const struct store_query *q;
    bool (*visible)(void *ctx, const struct store_row *row);
    enum mrd_code (*emit)(void *ctx, const struct store_row *row, struct mrd_err *err);
    void *ctx;
    struct store_query_result *ret;
};

static enum mrd_code query_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct query_args *a = args;

    return store__objects_query(tx, a->q, a->visible, a->emit, a->ctx, a->ret, err);
}

static enum mrd_code
pg_objects_query(struct store *st, const struct store_query *q,
                 bool (*visible)(void *ctx, const struct store_row *row),
                 enum mrd_code (*emit)(void *ctx, const struct store_row *row, struct mrd_err *err),
                 void *ctx, struct store_query_result *ret, struct mrd_err *err)
{
    struct query_args a = {q, visible, emit, ctx, ret};

    return in_tx(st, TX_READ, (struct tx_call){query_op, &a}, err);
}

struct delete_args {
    int64_t collection;
    const char *id;
    size_t id_len;
    const struct store_match *match;
    bool (*visible)(void *ctx, const struct store_row *row);
    void *ctx;
    size_t *ret_deleted;
};

static enum mrd_code delete_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct delete_args *a = args;

    return store__objects_delete(tx, a->collection, a->id, a->id_len, a->match, a->visible, a->ctx,
                                 a->ret_deleted, err);
}

static enum mrd_code pg_objects_delete(struct store *st, int64_t collection, const char *id,
                                       size_t id_len, const struct store_match *match,
                                       bool (*visible)(void *ctx, const struct store_row *row),
                                       void *ctx, size_t *ret_deleted, struct mrd_err *err)
{
    struct delete_args a = {collection, id, id_len, match, visible, ctx, ret_deleted};

    return in_tx(st, TX_LOCKED, (struct tx_call){delete_op, &a}, err);
}

struct status_args {
    const struct store_status *sts;
    const char *id;
    size_t len;
    struct store_status **ret;
    int64_t older_than;
    uint64_t *ret_purged;
};

static enum mrd_code status_put_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct status_args *a = args;

    return store__status_write(tx, a->sts, err);
}

static enum mrd_code pg_status_put(struct store *st, const struct store_status *sts,
                                   struct mrd_err *err)
{
    /* the status's own rows only: no write lock */
    struct status_args a = {.sts = sts};

    return in_tx(st, TX_WRITE, (struct tx_call){status_put_op, &a}, err);
}

static enum mrd_code status_get_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct status_args *a = args;

    return store__status_get(tx, a->id, a->len, a->ret, err);
}

static enum mrd_code pg_status_get(struct store *st, const char *id, size_t len,
                                   struct store_status **ret, struct mrd_err *err)
{
    struct status_args a = {.id = id, .len = len, .ret = ret};

    return in_tx(st, TX_READ, (struct tx_call){status_get_op, &a}, err);
}

static enum mrd_code status_purge_op(const struct store_tx *tx, void *args, struct mrd_err *err)
{
    struct status_args *a = args;

    return store__status_purge(tx, a->older_than, a->ret_purged, err);
}

static enum mrd_code pg_status_purge(struct store *st, int64_t older_than_usec,
                                     uint64_t *ret_purged, struct mrd_err *err)
{
    struct status_args a = {.older_than = older_than_usec, .ret_purged = ret_purged};

    return in_tx(st, TX_WRITE, (struct tx_call){status_purge_op, &a}, err);
}

/* ---- pinned read snapshots (store_read_begin) ----
 *
 * The reads a thread makes between store_read_begin and store_read_end
 * (driver_query with read set, in_tx's TX_READ) run on its own connection
 * (pg_pin) inside one REPEATABLE READ READ ONLY transaction, so a TAXII
 * page, its token, collection and grant look-ups and its look-ahead for
 * `more` see one snapshot. Writes meanwhile take pooled connections as
 * usual (a read-only snapshot holds no lock a writer waits for). It costs
 * no round trip per request: store_read_end sends "ROLLBACK AND CHAIN"
 * (the snapshot ends, a transaction like it begins) without waiting for
 * the answer, which the next pin reads (pin_drain);
 * the snapshot is taken by the first read after store_read_begin. A pinned
 * connection the server dropped is reconnected before its next read (a
 * read after that sees a new snapshot: the one before is gone). */

static enum mrd_code pin_conn(struct pg_store *s, struct pg_conn **ret, struct mrd_err *err)
{
    struct pg_conn *c = pg_pin.c;
    enum mrd_code rc = MRD_OK;

    pin_drain(c);
    if (!conn_usable(c))
        rc = conn_reset(c, err);
    if (rc == MRD_OK && PQtransactionStatus(c->db) == PQTRANS_INERROR)
        PQclear(PQexec(c->db, "ROLLBACK"));
    if (rc == MRD_OK && PQtransactionStatus(c->db) != PQTRANS_INTRANS)
        rc = pg_exec(c, "read snapshot", PG_BEGIN_READ, err);
    if (rc != MRD_OK)
        return rc;
    pg_pin.used = true;
    *ret = c;
    return MRD_OK;
}

static enum mrd_code pg_read_begin(struct store *stp, struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c = NULL;
    enum mrd_code rc;

    if (pg_pin.active) /* nested or for another store: no pin, calls still work */
        return MRD_OK;
    if (pg_pin.gen != s->gen) {
        rc = conn_open(s->dsn, &c, err);
        if (rc != MRD_OK)
            return rc;
        (void)pthread_mutex_lock(&s->mu);
        c->next = s->thread_conns;
        s->thread_conns = c;
        (void)pthread_mutex_unlock(&s->mu);
        pg_pin = (struct pg_pin){.gen = s->gen, .c = c};
    }
    pg_pin.active = true;
    pg_pin.used = false;
    return MRD_OK;
}

static void pg_read_end(struct store *stp)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c = pg_pin.c;

    if (!pg_pin.active || pg_pin.gen != s->gen)
        return;
    pg_pin.active = false;
    if (!pg_pin.used || c->lost)
        return; /* no snapshot taken; or pin_conn reconnects first */
    pin_drain(c);
    /* the next pin's BEGIN too, answered while this thread does other work:
     * ROLLBACK AND CHAIN ends the snapshot and begins a transaction like it
     * (REPEATABLE READ READ ONLY, its snapshot taken by its first read) in
     * one statement */
    if (PQsendQuery(c->db, PQtransactionStatus(c->db) == PQTRANS_INTRANS
                               ? "ROLLBACK AND CHAIN"
                               : "ROLLBACK; " PG_BEGIN_READ) == 1)
        c->pending = true;
    else
        c->lost = true;
}

/* ---- one write transaction per thread (store_write_begin) ---- */

static enum mrd_code pg_write_begin(struct store *stp, struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c = NULL;
    enum mrd_code rc;

    if (pg_wtx.s != NULL)
        return mrd_err_set(err, MRD_E_INVAL, "store: a write transaction is already open");
    rc = acquire(s, &c, err);
    if (rc != MRD_OK)
        return rc;
    /* the write lock, as every object write and read-modify-write takes */
    rc = pg_exec(c, "transaction", "BEGIN", err);
    if (rc == MRD_OK)
        rc = pg_run(c, "write lock", "SELECT pg_advisory_xact_lock(?1)",
                    SQ_ARGS(SQ_INT(PG_WRITE_LOCK)), NULL, NULL, NULL, err);
    if (rc != MRD_OK) {
        release(s, c);
        return rc;
    }
    pg_wtx = (struct pg_wtx){.s = s, .c = c};
    return MRD_OK;
}

static enum mrd_code pg_write_end(struct store *stp, bool commit, struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c = pg_wtx.c;
    enum mrd_code rc = MRD_OK;

    if (c == NULL || pg_wtx.s != s)
        return commit ? mrd_err_set(err, MRD_E_INVAL, "store: no write transaction is open")
                      : MRD_OK;
    pg_wtx = (struct pg_wtx){0};
    if (commit)
        rc = pg_exec(c, "commit", "COMMIT", err);
    release(s, c); /* rolls back what was not committed */
    if (rc == MRD_OK && commit)
        young_analyze(s);
    return rc;
}

/* ---- leadership among front-ends (store_lead) ---- */

/* role's advisory lock key: FNV-1a of the name, in a namespace of ours */
static int64_t lead_key(const char *role)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const char *p = "meridian lead:"; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    for (const char *p = role; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return (int64_t)h;
}

static enum mrd_code pg_lead(struct store *stp, const char *role, bool *ret_leader,
                             struct mrd_err *err)
{
    struct pg_store *s = (struct pg_store *)stp;
    int64_t key = lead_key(role), got = 0;
    enum mrd_code rc = MRD_OK;

    *ret_leader = false;
    (void)pthread_mutex_lock(&s->lead_mu);
    /* a broken connection took its locks with it: whatever this process
     * led, another may lead now; start over */
    if (s->lead != NULL && !conn_usable(s->lead)) {
        conn_free(s->lead);
        s->lead = NULL;
        s->n_led = 0;
    }
    if (s->lead == NULL)
        rc = conn_open(s->dsn, &s->lead, err);
    for (size_t i = 0; rc == MRD_OK && i < s->n_led; i++)
        if (s->led[i] == key) {
            *ret_leader = true;
            goto out;
        }
    if (rc == MRD_OK && s->n_led >= PG_LEAD_MAX)
        rc = mrd_err_set(err, MRD_E_TOOBIG, "store: more than %d roles to lead", PG_LEAD_MAX);
    if (rc == MRD_OK)
        rc = pg_run(s->lead, "lead", "SELECT pg_try_advisory_lock(?1)", SQ_ARGS(SQ_INT(key)),
                    int_row, &got, NULL, err);
    if (rc == MRD_OK && got != 0) {
        s->led[s->n_led++] = key;
        *ret_leader = true;
    }
    if (rc != MRD_OK && s->lead != NULL && s->lead->lost) {
        conn_free(s->lead);
        s->lead = NULL;
        s->n_led = 0;
    }
out:
    (void)pthread_mutex_unlock(&s->lead_mu);
    return rc;
}

/* ---- open and close ---- */

static void pg_close(struct store *stp)
{
    struct pg_store *s = (struct pg_store *)stp;
    struct pg_conn *c;

    if (s == NULL)
        return;
    if (pg_wtx.s == s) /* closed inside a write: rolled back */
        (void)pg_write_end(stp, false, NULL);
    while ((c = s->free_conns) != NULL) {
        s->free_conns = c->next;
        conn_free(c);
    }
    while ((c = s->thread_conns) != NULL) {
        s->thread_conns = c->next;
        conn_free(c);
    }
    if (pg_pin.gen == s->gen)
        pg_pin = (struct pg_pin){0};
    conn_free(s->lead); /* ends what it led */
    store__group_destroy(&s->ins);
    (void)pthread_mutex_destroy(&s->lead_mu);
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_cond_destroy(&s->cv);
    mrd_free(s);
}

/* The operations left NULL answer store.c's MRD_E_UNSUPP ("the postgres
 * backend has no ..."); the mandatory ones not written yet answer
 * pg_unsupported's. */
static const struct store_ops pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .driver = &pg_driver,
    .org_create = store__org_create,
    .org_get = store__org_get,
    .org_list = store__org_list,
    .token_create = store__token_create,
    .token_lookup = store__token_lookup,
    .token_access = store__token_access,
    .token_revoke = pg_token_revoke,
    .token_rotate = store__token_rotate,
    .org_state = store__org_state,
    .org_revoke_access = store__org_revoke_access,
    .token_list = store__token_list,
    .api_root_put = store__api_root_put,
    .api_root_get = store__api_root_get,
    .api_root_list = store__api_root_list,
    .collection_create = store__collection_create,
    .collection_get = store__collection_get,
    .collection_list = store__collection_list,
    .grant_set = store__grant_set,
    .grant_get = store__grant_get,
    .grant_list = store__grant_list,
    .objects_insert = pg_objects_insert,
    .objects_insert_status = pg_objects_insert_status,
    .objects_query = pg_objects_query,
    .objects_delete = pg_objects_delete,
    .objects_count = store__objects_count,
    .session_create = store__session_create,
    .session_lookup = store__session_lookup,
    .session_end = store__session_end,
    .sessions_end = store__sessions_end,
    .conflict_list = store__conflict_list,
    .status_put = pg_status_put,
    .status_get = pg_status_get,
    .status_purge = pg_status_purge,
    .meta_get = store__meta_get,
    .meta_set = store__meta_set,
    .ledger_pending = store__ledger_pending,
    .ledger_mark = store__ledger_mark,
    .ledger_max_leaf = store__ledger_max_leaf,
    .ledger_recorded = store__ledger_recorded,
    .ledger_events = store__ledger_events,
    .event_add = store__event_add,
    .hold_create = store__hold_create,
    .hold_update = store__hold_update,
    .hold_list = store__hold_list,
    .hold_objects = store__hold_objects,
    .objects_find = store__objects_find,
    .write_begin = pg_write_begin,
    .write_end = pg_write_end,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .reads_record = store__reads_record,
    .reads_list = store__reads_list,
    .reads_seal = store__reads_seal,
    .reads_digests = store__reads_digests,
    .reads_prune = store__reads_prune,
    .feed_put = store__feed_put,
    .feed_list = store__feed_list,
    .feed_remove = store__feed_remove,
    .feed_items_set = store__feed_items_set,
    .feed_items = store__feed_items,
    .asset_add = store__asset_add,
    .asset_set = store__asset_set,
    .assets_list = store__assets_list,
    .notifications_add = store__notifications_add,
    .notifications_list = store__notifications_list,
    .contact_add = store__contact_add,
    .contact_remove = store__contact_remove,
    .contacts_list = store__contacts_list,
    .deliveries_enqueue = store__deliveries_enqueue,
    .deliveries_list = store__deliveries_list,
    .delivery_items = store__delivery_items,
    .delivery_update = store__delivery_update,
    .delivery_attempts = store__delivery_attempts,
    .lead = pg_lead,
    .value_search = store__value_search,
    .text_search = pg_text_search,
    .refs_to = store__refs_to,
    .agg_query = store__agg_query,
    .objects_newest = store__objects_newest,
    .sent_record = store__sent_record,
};

enum mrd_code store__pg_open(const char *dsn, const struct store_open_opts *opts,
                             struct store **ret, struct mrd_err *err)
{
    struct pg_store *s = NULL;
    struct pg_conn *c = NULL;
    enum mrd_code rc;

    if (strlen(dsn) > PG_DSN_MAX)
        return mrd_err_set(err, MRD_E_TOOBIG, "store: PostgreSQL connection string longer than %d",
                           PG_DSN_MAX);
    s = mrd_calloc(1, sizeof(*s));
    if (s == NULL)
        return mrd_err_set(err, MRD_E_NOMEM, "store: out of memory");
    s->base.ops = &pg_ops;
    s->gen = atomic_fetch_add(&pg_generation, 1) + 1;
    (void)mrd_strlcpy(s->dsn, dsn, sizeof(s->dsn));
    s->max_conn = opts != NULL && opts->max_conn > 0 ? opts->max_conn : STORE_DEFAULT_CONNS;
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_mutex_init(&s->lead_mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    store__group_init(&s->ins);
    rc = acquire(s, &c, err);
    if (rc == MRD_OK)
        rc = migrate(c, opts, err);
    release(s, c);
    if (rc != MRD_OK) {
        pg_close(&s->base);
        return rc;
    }
    *ret = &s->base;
    return MRD_OK;
}
