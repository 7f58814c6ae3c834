/*
 * meridian init: create a node's data directory.
 *
 * init runs a list of steps (init_steps[] below) against one context. Each
 * step adds one thing to the new directory: the database with the own org
 * and the admin token today; the TLS certificate (taxii/http) and the node
 * key (crypto) are steps to add there. If any step fails, the directory
 * init created is removed again, so a failed init can simply be rerun.
 * Only the admin token goes to stdout (once; it is stored hashed), so
 * `TOKEN=$(meridian init --data D --org ORG)` works.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "fed/fed.h"
#include "http/http.h"
#include "store/store.h"

/* What the steps share. A step may fill in more for the steps after it. */
struct init_ctx {
    const char *dir;                     /* the new data directory (exists, empty, mode 0700) */
    const char *org_name;                /* --org */
    const char *dsn;                     /* --store: PostgreSQL, else NULL (SQLite) */
    const char *sans[HTTP_TLS_MAX_SANS]; /* --san */
    size_t n_sans;
    struct store *st; /* open after the "database" step */
    struct store_org own;
    char token[STORE_TOKEN_LEN + 1]; /* the admin token, printed at the end */
};

struct init_step {
    const char *name;
    /* Returns CLI_EXIT_OK or prints "meridian init: ..." and returns an
     * exit code. */
    int (*run)(struct init_ctx *ctx);
};

/* The database, the own org, node metadata and the first (admin) token. */
static int step_database(struct init_ctx *ctx)
{
    struct store_open_opts opts = {.create = true, .dsn = ctx->dsn};
    char node_id[STORE_UUID_LEN + 1];
    struct admin a;
    struct mrd_err err = {0};
    enum mrd_code rc;

    rc = store_open(ctx->dir, &opts, &ctx->st, &err);
    cli_data_admin(ctx->st, ctx->dir, &a);
    a.log = NULL; /* init prints its own summary */
    if (rc == MRD_OK)
        rc = admin_org_create(&a, ctx->org_name, POLICY_REL_OWN, &ctx->own, &err);
    if (rc == MRD_OK)
        rc = store_meta_set(ctx->st, "own_org", ctx->org_name, &err);
    store_uuid4(node_id);
    if (rc == MRD_OK)
        rc = store_meta_set(ctx->st, "node_id", node_id, &err);
    if (rc == MRD_OK)
        rc =
            admin_token_create(&a, ctx->org_name, "admin", STORE_TIME_NONE, ctx->token, NULL, &err);
    if (rc != MRD_OK) {
        cli_errorf("init", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The self-signed TLS material `meridian serve` uses by default:
 * DIR/ca.pem, DIR/cert.pem and DIR/key.pem (http.h). */
static int step_tls(struct init_ctx *ctx)
{
    struct mrd_err err = {0};

    if (http_tls_generate_sans(ctx->dir, ctx->sans, ctx->n_sans, &err) != MRD_OK) {
        cli_errorf("init", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The node's Ed25519 signing key, DIR/node.key (mode 0600): objects
 * created here are signed with it (fed.h, docs/federation.md). */
static int step_node_key(struct init_ctx *ctx)
{
    struct mrd_err err = {0};

    if (fed_node_key_ensure(ctx->dir, &err) != MRD_OK) {
        cli_errorf("init", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/*
 * The steps, in order. >>> Add new init steps here <<< (one line each, in
 * your own file if it is long: declare `int init_step_NAME(struct init_ctx *)`
 * in a small header and list it), e.g.
 *     {"tls certificate", init_step_tls},  -- taxii/http: self-signed cert + key
 *     {"node key", init_step_node_key},    -- crypto: Ed25519 node key
 * Steps after "database" may use ctx->st (for example store_meta_set to
 * record a key id).
 */
static const struct init_step init_steps[] = {
    {"database", step_database},
    {"tls certificate", step_tls},
    {"node key", step_node_key},
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

/* A directory we may use: missing (we create it) or existing and empty. */
static int prepare_dir(const char *dir, bool *ret_created)
{
    struct stat sb;

    *ret_created = false;
    if (stat(dir, &sb) == 0) {
        struct dirent *e;
        DIR *d;
        bool empty = true;
        if (!S_ISDIR(sb.st_mode)) {
            cli_errorf("init", "%s exists and is not a directory", dir);
            return CLI_EXIT_USAGE;
        }
        d = opendir(dir);
        if (d == NULL) {
            cli_errorf("init", "%s: %s", dir, strerror(errno));
            return CLI_EXIT_USAGE;
        }
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                empty = false;
        (void)closedir(d);
        if (!empty) {
            cli_errorf("init", "%s already exists and is not empty: refusing to overwrite it", dir);
            return CLI_EXIT_USAGE;
        }
        return CLI_EXIT_OK;
    }
    if (errno != ENOENT || mkdir(dir, 0700) != 0) {
        cli_errorf("init", "cannot create %s: %s", dir, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    *ret_created = true;
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_ORG, O_SAN, O_STORE };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"org", required_argument, NULL, O_ORG},
        {"san", required_argument, NULL, O_SAN},
        {"store", required_argument, NULL, O_STORE},
        {NULL, 0, NULL, 0},
    };
    struct init_ctx ctx;
    const char *data = NULL;
    bool created = false, started = false;
    int ret = CLI_EXIT_USAGE, c;

    memset(&ctx, 0, sizeof(ctx));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_DATA)
            data = optarg;
        else if (c == O_ORG)
            ctx.org_name = optarg;
        else if (c == O_STORE)
            ctx.dsn = optarg;
        else if (c == O_SAN && ctx.n_sans < HTTP_TLS_MAX_SANS)
            ctx.sans[ctx.n_sans++] = optarg;
        else if (c == O_SAN)
            return cli_usage_error(&cli_verb_init, "more than %d --san", HTTP_TLS_MAX_SANS);
        else
            return cli_usage_error(&cli_verb_init, "unknown option");
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_init, "unexpected argument '%s'", argv[optind]);
    if (ctx.org_name == NULL)
        return cli_usage_error(&cli_verb_init, "--org NAME is required");
    ctx.dir = cli_data_dir(data);
    ret = prepare_dir(ctx.dir, &created);
    if (ret != CLI_EXIT_OK)
        goto out;
    started = true;
    for (size_t i = 0; i < sizeof(init_steps) / sizeof(init_steps[0]); i++) {
        ret = init_steps[i].run(&ctx);
        if (ret != CLI_EXIT_OK) {
            cli_errorf("init", "step '%s' failed; nothing was kept", init_steps[i].name);
            goto out;
        }
    }
    fprintf(stderr,
            "meridian init: created %s for org '%s' (own). The admin token below is shown "
            "once and stored hashed:\n",
            MRD_ESC(ctx.dir), MRD_ESC(ctx.org_name));
    printf("%s\n", ctx.token);
    if (fflush(stdout) != 0)
        ret = CLI_EXIT_USAGE;
out:
    store_close(ctx.st);
    sodium_memzero(ctx.token, sizeof(ctx.token));
    if (ret != CLI_EXIT_OK && started) {
        /* Leave nothing half-made behind: remove what we created (the whole
         * directory if we made it, else its contents). */
        (void)nftw(ctx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (!created)
            (void)mkdir(ctx.dir, 0700);
    }
    return ret;
}

const struct cli_verb cli_verb_init = {
    .name = "init",
    .summary = "create a data directory: database, own org, admin token",
    .usage = "usage: meridian init --org NAME [--san NAME]... [--store DSN] [--data DIR]\n"
             "\n"
             "Creates the node's data directory DIR (default $MERIDIAN_DATA, else the\n"
             "'data' setting of /etc/meridian/meridian.conf (or $MERIDIAN_CONFIG), else\n"
             "./node-data; every verb finds it the same way): the database\n"
             "(DIR/meridian.db), the node's own org NAME\n"
             "(relation 'own') and a first token for it, named 'admin', and a\n"
             "self-signed TLS certificate for HTTPS: DIR/cert.pem and DIR/key.pem,\n"
             "signed by DIR/ca.pem (give ca.pem to clients; see docs/taxii.md), and\n"
             "the node's Ed25519 signing key DIR/node.key ('meridian key show').\n"
             "DIR must not exist yet or be empty: init never overwrites a node.\n"
             "\n"
             "Prints only the admin token on stdout, once; it is stored hashed and\n"
             "cannot be shown again (make another with 'meridian token create').\n"
             "\n"
             "  --org NAME   the own org's name ([A-Za-z0-9._-], at most 64 characters)\n"
             "  --san NAME   a subject alternative name for the certificate, besides\n"
             "               localhost, 127.0.0.1, ::1 and this host's name: a DNS name\n"
             "               (node.cert.example, *.example) or an IP address; repeatable\n"
             "               (to use your own certificate instead: docs/taxii.md, 'TLS')\n"
             "  --store DSN  keep the database in PostgreSQL instead of DIR/meridian.db:\n"
             "               a libpq connection string (postgresql://user@host/db,\n"
             "               'service=meridian', TLS with sslmode=verify-full), recorded in\n"
             "               DIR/store.dsn (mode 0600) for every verb that takes --data;\n"
             "               the database must exist (createdb) and may be shared by\n"
             "               several front-ends (docs/store.md: what works there yet)\n"
             "  --data DIR   the data directory to create\n"
             "\n"
             "Example: TOKEN=$(meridian init --data /var/lib/meridian --org cert-xx)\n"
             "Exit status: 0 created, 2 usage error, DIR not empty, or I/O error.\n",
    .run = run,
};
