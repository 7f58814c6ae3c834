/*
 * cli_data.c: data directory, own org and collection lookups for the
 * administrative verbs (see cli_data.h).
 */
#include "cli/cli_data.h"

#include "admin/admin.h"
#include "core/str.h"

#include <sodium.h>

#include "conf/conf.h"
#include "crypto/crypto.h"
#include "fed/fed.h"
#include "ledger/checkpoint.h"
#include "ledger/sync.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "core/timestamp.h"

const char *cli_data_dir_from(const char *opt, const char *from_conf)
{
    const char *env;

    if (opt != NULL)
        return opt;
    env = getenv(CLI_DATA_ENV);
    if (env != NULL && env[0] != '\0')
        return env;
    if (from_conf != NULL)
        return from_conf;
    return CLI_DATA_DEFAULT;
}

/* The `data` setting of the default config file, read once. */
static const char *conf_data(void)
{
    static bool loaded;
    static char dir[CONF_MAX_VALUE + 1];
    const char *path = conf_default_path();
    struct conf cf;
    struct mrd_err err = {0};

    if (loaded)
        return dir[0] != '\0' ? dir : NULL;
    loaded = true;
    if (access(path, F_OK) != 0 ||
        conf_init(&cf, conf_serve_keys, CONF_SERVE__COUNT, &err) != MRD_OK)
        return NULL;
    if (conf_load(&cf, path, &err) != MRD_OK)
        fprintf(stderr, "meridian: warning: %s (its 'data' setting is not used)\n", err.msg);
    else if (conf_is_set(&cf, CONF_DATA))
        (void)mrd_strlcpy(dir, conf_str(&cf, CONF_DATA), sizeof(dir));
    conf_release(&cf);
    return dir[0] != '\0' ? dir : NULL;
}

const char *cli_data_dir(const char *opt)
{
    if (opt != NULL)
        return opt;
    if (getenv(CLI_DATA_ENV) != NULL && getenv(CLI_DATA_ENV)[0] != '\0')
        return getenv(CLI_DATA_ENV);
    return cli_data_dir_from(NULL, conf_data());
}

int cli_data_parse(const struct cli_verb *verb, int argc, char **argv, const char **ret_data)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'd')
            return cli_usage_error(verb, "unknown option");
        *ret_data = optarg;
    }
    return CLI_EXIT_OK;
}

void cli_data_progress(void *ctx, const struct store_progress *p)
{
    (void)ctx;
    if (p->finished) {
        fprintf(stderr, "\rmeridian: migrated the database from schema %d to %d in %.1f s%20s\n",
                p->from_version, p->to_version, p->elapsed_s, "");
        return;
    }
    fprintf(stderr, "\rmeridian: migrating the database from schema %d to %d: step %u/%u, %.1f s",
            p->from_version, p->to_version, p->done_steps + 1, p->total_steps, p->elapsed_s);
    (void)fflush(stderr);
}

void cli_data_open_opts(struct store_open_opts *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (isatty(STDERR_FILENO))
        ret->progress = cli_data_progress; /* silent when not a terminal */
}

int cli_data_open(const char *verb, const char *dir, struct store **ret)
{
    struct store_open_opts opts;
    struct mrd_err err = {0};

    cli_data_open_opts(&opts);
    if (store_open(dir, &opts, ret, &err) != MRD_OK) {
        cli_errorf(verb, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_data_org(const char *verb, struct store *st, const char *name, struct store_org *ret)
{
    char own[STORE_META_VAL_MAX + 1];
    struct mrd_err err = {0};

    if (name == NULL) {
        if (store_meta_get(st, "own_org", own, sizeof(own), &err) != MRD_OK) {
            cli_errorf(verb, "the data directory names no own org (%s)", err.msg);
            return CLI_EXIT_USAGE;
        }
        name = own;
    }
    if (store_org_get(st, name, 0, ret, &err) != MRD_OK) {
        cli_errorf(verb, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_data_collection(const char *verb, struct store *st, const char *arg,
                        struct store_collection *ret)
{
    const char *slash = strchr(arg, '/');
    struct mrd_err err = {0};
    enum mrd_code rc;

    if (slash != NULL)
        rc = store_collection_get(st, arg, (size_t)(slash - arg), slash + 1, strlen(slash + 1), ret,
                                  &err);
    else
        rc = store_collection_get(st, NULL, 0, arg, strlen(arg), ret, &err);
    if (rc != MRD_OK) {
        if (rc == MRD_E_NOTFOUND)
            cli_errorf(verb, "no collection '%s' (give its id or API-ROOT/ALIAS)", arg);
        else
            cli_errorf(verb, "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

void cli_data_time(int64_t usec, char out[32])
{
    if (usec == STORE_TIME_NONE) {
        (void)snprintf(out, 32, "-");
        return;
    }
    mrd_time_format_stix_ms(usec, out);
}

int cli_data_signer(const char *verb, struct store *st, const char *dir, struct ckpt_signer *ret)
{
    char path[LEDGER_MAX_PATH], own[STORE_META_VAL_MAX + 1], node_id[STORE_META_VAL_MAX + 1];
    char name[CKPT_MAX_ORIGIN + 1];
    uint8_t seed[CRYPTO_SEED_LEN];
    struct crypto_key *k = NULL;
    struct mrd_err err = {0};
    enum mrd_code rc;

    if (store_meta_get(st, "own_org", own, sizeof(own), &err) != MRD_OK ||
        store_meta_get(st, "node_id", node_id, sizeof(node_id), &err) != MRD_OK) {
        cli_errorf(verb, "the data directory has no own org or node id (%s)", err.msg);
        return CLI_EXIT_USAGE;
    }
    (void)snprintf(name, sizeof(name), "meridian/%s/%s", own, node_id);
    (void)snprintf(path, sizeof(path), "%s/%s", dir, FED_NODE_KEY_FILE);
    rc = crypto_key_load(path, &k, &err);
    if (rc == MRD_OK)
        rc = crypto_key_seed(k, seed, &err);
    if (rc == MRD_OK)
        rc = ckpt_signer_from_seed(name, seed, ret, &err);
    sodium_memzero(seed, sizeof(seed));
    crypto_key_free(k);
    if (rc != MRD_OK) {
        cli_errorf(verb, "node key: %s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_data_ledger(const char *verb, struct store *st, const char *dir, struct ledger **ret)
{
    char path[LEDGER_MAX_PATH];
    struct mrd_err err = {0};
    enum mrd_code rc;

    *ret = NULL;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, LEDGER_DATA_SUBDIR) >= sizeof(path)) {
        cli_errorf(verb, "data directory path too long");
        return CLI_EXIT_USAGE;
    }
    rc = ledger_open(path, LEDGER_OPEN_CREATE, ret, NULL, &err);
    if (rc == MRD_E_CONFLICT)
        return CLI_EXIT_OK; /* a server holds it and syncs itself */
    if (rc == MRD_OK)
        rc = ledger_sync(*ret, st, NULL, &err);
    if (rc != MRD_OK) {
        cli_errorf(verb, "ledger %s: %s", path, err.msg);
        ledger_free(*ret);
        *ret = NULL;
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

void cli_data_ledger_catch_up(const char *verb, struct store *st, const char *dir)
{
    struct ledger *log = NULL;

    if (cli_data_ledger(verb, st, dir, &log) != CLI_EXIT_OK)
        cli_errorf(verb, "warning: the ledger will record these changes at its next sync");
    ledger_free(log);
}

static void admin_log(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "meridian: %s\n", line);
}

void cli_data_admin(struct store *st, const char *dir, struct admin *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->st = st;
    ret->data_dir = dir;
    admin_actor_cli(&ret->who);
    ret->log = admin_log;
}

int cli_data_duration(const char *verb, const char *opt, const char *s, int64_t *ret)
{
    size_t n = strlen(s);
    uint64_t v;
    int64_t unit = 1;

    if (n > 1 && (s[n - 1] == 'd' || s[n - 1] == 'h' || s[n - 1] == 'm' || s[n - 1] == 's')) {
        unit = s[n - 1] == 'd' ? 86400 : s[n - 1] == 'h' ? 3600 : s[n - 1] == 'm' ? 60 : 1;
        n--;
    }
    /* at most ~100 years */
    if (mrd_str_to_u64(s, n, (uint64_t)(3153600000LL / unit), &v, NULL) != MRD_OK) {
        cli_errorf(verb, "%s: '%s' is not a duration (e.g. 90d, 12h, 30m, 45s)", opt, s);
        return CLI_EXIT_USAGE;
    }
    *ret = (int64_t)v * unit * 1000000;
    return CLI_EXIT_OK;
}

bool cli_data_row_id(const char *s, int64_t *ret)
{
    uint64_t v;

    if (mrd_str_to_u64(s, strlen(s), INT64_MAX, &v, NULL) != MRD_OK || v == 0)
        return false;
    *ret = (int64_t)v;
    return true;
}

int cli_data_when(const char *verb, const char *opt, const char *s, int64_t *ret)
{
    struct mrd_time t;
    int64_t d;

    if (mrd_time_parse(s, strlen(s), &t, NULL) == MRD_OK) {
        *ret = mrd_time_to_usec(&t);
        return CLI_EXIT_OK;
    }
    if (cli_data_duration(verb, opt, s, &d) != CLI_EXIT_OK) {
        cli_errorf(verb, "%s: give a time (2026-12-31T00:00:00Z) or a duration from now", opt);
        return CLI_EXIT_USAGE;
    }
    *ret = mrd_time_now_usec() + d;
    return CLI_EXIT_OK;
}
