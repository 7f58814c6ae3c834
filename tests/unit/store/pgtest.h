/* The store unit tests on PostgreSQL: with MRD_TEST_PG_DSN set (by
 * tests/unit/store/with_pg.py, which starts a throwaway cluster) a test
 * opens that database, its schema emptied first, instead of a SQLite file
 * in its directory. Included by one test file each (static state). */
#ifndef MRD_TEST_PGTEST_H
#define MRD_TEST_PGTEST_H

#include <stdlib.h>

#ifdef MRD_HAVE_PQ
#include <libpq-fe.h>
#endif

/* The PostgreSQL database the tests run on; NULL: SQLite. */
static const char *pg_dsn;

/* Reads MRD_TEST_PG_DSN: true when the tests run on PostgreSQL. */
static bool pg_init(void)
{
    pg_dsn = getenv("MRD_TEST_PG_DSN");
    if (pg_dsn != NULL && pg_dsn[0] == '\0')
        pg_dsn = NULL;
    return pg_dsn != NULL;
}

/* What store_open opens for a test whose directory is dir: on PostgreSQL
 * the database, with an empty schema. */
static const char *store_where(const char *dir)
{
    if (pg_dsn == NULL)
        return dir;
#ifdef MRD_HAVE_PQ
    PGconn *c = PQconnectdb(pg_dsn);
    PGresult *r;

    assert_int_equal(PQstatus(c), CONNECTION_OK);
    r = PQexec(c, "SET client_min_messages = warning;"
                  "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
#else
    fail_msg("MRD_TEST_PG_DSN is set but this build has no libpq");
#endif
    return pg_dsn;
}

#endif
