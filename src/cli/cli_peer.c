/*
 * meridian peer: the federation partners of this node (docs/federation.md).
 *
 * add/list/remove/disable/enable over fed.db. A running server picks the
 * change up at its next tick (the runner re-reads the table), so no restart
 * is needed. `list` never prints tokens.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "core/timestamp.h"
#include "fed/fed.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian peer add NAME --url URL --api-root R --collection ID\n"
    "                         --local-collection ID --token T [--pubkey K] [--ca FILE]\n"
    "                         --direction pull|push|both --community C [--data DIR]\n"
    "       meridian peer list [--data DIR]\n"
    "       meridian peer remove NAME [--data DIR]\n"
    "       meridian peer disable NAME [--data DIR]\n"
    "       meridian peer enable NAME [--data DIR]\n"
    "\n"
    "Configures the TAXII 2.1 servers this node synchronises with (docs/federation.md).\n"
    "\n"
    "  NAME                 the peer's name: [A-Za-z0-9._-], at most 64; objects received\n"
    "                       from it carry it as their source peer. An org of the same name\n"
    "                       on this node (if any) is who the peer is when we push to it\n"
    "  --url URL            the peer's server base; its discovery is URL/taxii2/\n"
    "  --api-root R         the remote API root, as the peer's discovery lists it\n"
    "                       (its URL or its last path segment)\n"
    "  --collection ID      the remote collection id\n"
    "  --local-collection ID  the local collection (uuid or ROOT/ALIAS): pulled objects\n"
    "                       land here, pushed objects are read from here\n"
    "  --token T            the API token the peer issued to this node\n"
    "  --pubkey K           the peer's node key as 'meridian key show' prints it\n"
    "                       (ed25519:...); objects it signed then verify as valid\n"
    "  --ca FILE            PEM CA (or self-signed certificate) the peer's TLS\n"
    "                       certificate must chain to; default: the system store\n"
    "  --direction D        pull, push or both\n"
    "  --community C        the trust community shared with the peer: objects pulled from\n"
    "                       it belong to C, and pushing sends GREEN only within C\n"
    "                       (default: the API root of --local-collection)\n" CLI_DATA_HELP "\n"
    "What is pushed is what the peer could read through TAXII (TLP, docs/design.md §5):\n"
    "CLEAR anywhere, GREEN within the community, AMBER only if created here, RED never.\n"
    "disable keeps the peer and its cursors but stops syncing; enable resumes it now.\n"
    "\n"
    "Exit status: 0 done, 2 usage, no such peer, or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_peer = {
    .name = "peer",
    .summary = "add, list, remove or disable federation peers",
    .usage = usage,
    .run = run,
};

static int copy_opt(const char *what, const char *v, char *dst, size_t size)
{
    if (strlen(v) >= size)
        return cli_usage_error(&cli_verb_peer, "%s: longer than %zu characters", what, size - 1);
    mrd_strlcpy(dst, v, size);
    return CLI_EXIT_OK;
}

/* local: the collection argument (uuid or ROOT/ALIAS); its uuid is stored. */
static int peer_add(const char *data, const char *name, const char *local, struct fed_peer *p)
{
    struct store *st = NULL;
    struct store_collection coll;
    struct fed_state *fs = NULL;
    struct mrd_err err = {0};
    int ret;

    ret = copy_opt("NAME", name, p->name, sizeof(p->name));
    if (ret != CLI_EXIT_OK)
        return ret;
    ret = cli_data_open("peer", data, &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    ret = cli_data_collection("peer", st, local, &coll);
    if (ret != CLI_EXIT_OK)
        goto out;
    mrd_strlcpy(p->local_collection, coll.id, sizeof(p->local_collection));
    if (p->community[0] == '\0')
        mrd_strlcpy(p->community, coll.api_root, sizeof(p->community));
    if (p->ca_file[0] != '\0') {
        char abs[PATH_MAX];
        if (realpath(p->ca_file, abs) == NULL) {
            cli_errorf("peer", "--ca %s: cannot be read", p->ca_file);
            ret = CLI_EXIT_USAGE;
            goto out;
        }
        mrd_strlcpy(p->ca_file, abs, sizeof(p->ca_file));
    }
    p->enabled = true;
    if (fed_state_open(data, &fs, &err) != MRD_OK || fed_peer_add(fs, p, &err) != MRD_OK) {
        cli_errorf("peer", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
        goto out;
    }
    fprintf(stderr,
            "meridian peer: added '%s' (%s) %s %s/collections/%s <-> local %s, community %s%s\n",
            MRD_ESC(p->name), fed_direction_name(p->direction), MRD_ESC(p->url),
            MRD_ESC(p->api_root), MRD_ESC(p->collection), MRD_ESC(p->local_collection),
            MRD_ESC(p->community), p->pubkey[0] ? ", key pinned" : "");
out:
    fed_state_close(fs);
    store_close(st);
    return ret;
}

static enum mrd_code print_peer(void *ctx, const struct fed_peer *p, const struct fed_peer_state *s)
{
    char ok[32], cur[32], next[32];
    int64_t now = mrd_time_now_usec();

    (void)ctx;
    cli_data_time(s->last_ok_usec > 0 ? s->last_ok_usec : STORE_TIME_NONE, ok);
    cli_data_time(s->pull_cursor, cur);
    cli_data_time(s->next_attempt_usec > now ? s->next_attempt_usec : STORE_TIME_NONE, next);
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", MRD_ESC(p->name),
           p->enabled ? "enabled" : "disabled", fed_direction_name(p->direction), MRD_ESC(p->url),
           MRD_ESC(p->api_root), MRD_ESC(p->collection), MRD_ESC(p->local_collection),
           MRD_ESC(p->community));
    printf("  key %s  ca %s\n", p->pubkey[0] ? MRD_ESC(p->pubkey) : "-",
           p->ca_file[0] ? MRD_ESC(p->ca_file) : "-");
    printf("  last ok %s  cursor %s  failures %u  retry after %s  pulled %llu  pushed %llu  "
           "rejected %llu\n",
           ok, cur, s->failures, next, (unsigned long long)s->pulled, (unsigned long long)s->pushed,
           (unsigned long long)s->rejected);
    if (s->last_error[0] != '\0')
        printf("  last error: %s\n", MRD_ESC(s->last_error)); /* a peer's words */
    return MRD_OK;
}

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1,
        O_URL,
        O_ROOT,
        O_COLL,
        O_LOCAL,
        O_TOKEN,
        O_PUBKEY,
        O_CA,
        O_DIR,
        O_COMM,
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"url", required_argument, NULL, O_URL},
        {"api-root", required_argument, NULL, O_ROOT},
        {"collection", required_argument, NULL, O_COLL},
        {"local-collection", required_argument, NULL, O_LOCAL},
        {"token", required_argument, NULL, O_TOKEN},
        {"pubkey", required_argument, NULL, O_PUBKEY},
        {"ca", required_argument, NULL, O_CA},
        {"direction", required_argument, NULL, O_DIR},
        {"community", required_argument, NULL, O_COMM},
        {NULL, 0, NULL, 0},
    };
    static struct fed_peer p; /* large: keep it off the stack */
    const char *data = NULL, *sub, *name = NULL;
    bool has_dir = false;
    struct fed_state *fs = NULL;
    struct mrd_err err = {0};
    int c, ret = CLI_EXIT_OK;
    char local[STORE_UUID_LEN + STORE_NAME_MAX + STORE_ALIAS_MAX + 2] = "";

    memset(&p, 0, sizeof(p));
    if (argc < 2)
        return cli_usage_error(&cli_verb_peer, "expected add, list, remove, disable or enable");
    sub = argv[1];
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_URL:
            ret = copy_opt("--url", optarg, p.url, sizeof(p.url));
            break;
        case O_ROOT:
            ret = copy_opt("--api-root", optarg, p.api_root, sizeof(p.api_root));
            break;
        case O_COLL:
            ret = copy_opt("--collection", optarg, p.collection, sizeof(p.collection));
            break;
        case O_LOCAL:
            ret = copy_opt("--local-collection", optarg, local, sizeof(local));
            break;
        case O_TOKEN:
            ret = copy_opt("--token", optarg, p.token, sizeof(p.token));
            break;
        case O_PUBKEY:
            ret = copy_opt("--pubkey", optarg, p.pubkey, sizeof(p.pubkey));
            break;
        case O_CA:
            ret = copy_opt("--ca", optarg, p.ca_file, sizeof(p.ca_file));
            break;
        case O_DIR:
            if (fed_direction_parse(optarg, &p.direction, &err) != MRD_OK)
                return cli_usage_error(&cli_verb_peer, "--direction: %s", err.msg);
            has_dir = true;
            break;
        case O_COMM:
            ret = copy_opt("--community", optarg, p.community, sizeof(p.community));
            break;
        default:
            return cli_usage_error(&cli_verb_peer, "unknown option");
        }
        if (ret != CLI_EXIT_OK)
            return ret;
    }
    if (optind < argc)
        name = argv[optind++];
    if (optind != argc)
        return cli_usage_error(&cli_verb_peer, "unexpected argument '%s'", argv[optind]);
    data = cli_data_dir(data);
    if (strcmp(sub, "add") == 0) {
        if (name == NULL)
            return cli_usage_error(&cli_verb_peer, "peer add: NAME is required");
        if (p.url[0] == '\0' || p.api_root[0] == '\0' || p.collection[0] == '\0' ||
            local[0] == '\0' || p.token[0] == '\0' || !has_dir)
            return cli_usage_error(&cli_verb_peer, "peer add: --url, --api-root, --collection, "
                                                   "--local-collection, --token and --direction "
                                                   "are required");
        return peer_add(data, name, local, &p);
    }
    if (strcmp(sub, "list") == 0) {
        if (name != NULL)
            return cli_usage_error(&cli_verb_peer, "peer list takes no NAME");
        if (fed_state_open(data, &fs, &err) == MRD_OK)
            (void)fed_peer_list(fs, print_peer, NULL, &err);
    } else if (strcmp(sub, "remove") == 0 || strcmp(sub, "disable") == 0 ||
               strcmp(sub, "enable") == 0) {
        if (name == NULL)
            return cli_usage_error(&cli_verb_peer, "peer %s: NAME is required", sub);
        if (fed_state_open(data, &fs, &err) == MRD_OK) {
            if (sub[0] == 'r')
                (void)fed_peer_remove(fs, name, &err);
            else
                (void)fed_peer_set_enabled(fs, name, sub[0] == 'e', &err);
        }
        if (err.code == MRD_OK)
            fprintf(stderr, "meridian peer: %s '%s'\n",
                    sub[0] == 'r'   ? "removed"
                    : sub[0] == 'e' ? "enabled"
                                    : "disabled",
                    MRD_ESC(name));
    } else {
        return cli_usage_error(&cli_verb_peer, "unknown subcommand '%s'", sub);
    }
    fed_state_close(fs);
    if (err.code != MRD_OK) {
        cli_errorf("peer", "%s", err.msg);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}
