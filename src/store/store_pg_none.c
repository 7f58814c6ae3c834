/*
 * store_pg_none.c: the PostgreSQL backend of a build without libpq
 * (meson -Dpostgres=disabled, or libpq-dev missing); store_pg.c otherwise.
 *
 * A real stub rather than an #ifdef: a DSN given to store_open() always
 * reaches this file, which refuses it with MRD_E_UNSUPP and says why, so an
 * operator never gets a silent fallback to the embedded store.
 */
#include "store/store_int.h"

enum mrd_code store__pg_open(const char *dsn, const struct store_open_opts *opts,
                             struct store **ret, struct mrd_err *err)
{
    (void)dsn;
    (void)opts;
    (void)ret;
    return mrd_err_set(err, MRD_E_UNSUPP,
                       "store: this build has no PostgreSQL backend (built without libpq) "
                       "(use a data directory for the embedded SQLite store)");
}
