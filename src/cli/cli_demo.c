/*
 * meridian demo: a small federation on 127.0.0.1, end to end.
 *
 * Three nodes A, B, C (separate data directories, each a child `meridian
 * serve`), peered A<->B<->C by pull. An indicator created at A travels to C
 * through B; C's matcher finds it in a small web-server log; the sighting
 * travels back to A, whose roll-up (/api/v1/sightings/...) shows the count.
 *
 * The demo drives the real verbs: every step is this same binary run as a
 * child process (init, collection, org, token, grant, peer, key, import,
 * export, match), exactly what an operator would type, and the commands
 * are printed as they run. Children are in the demo's process group's
 * care: SIGINT/SIGTERM stops every server (SIGTERM, then wait) before the
 * demo exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "core/str.h"
#include "fed/fed.h"
#include "store/store.h"

#define DEMO_NODES 3
#define DEMO_OUT_MAX 8192  /* captured stdout of one step */
#define DEMO_WAIT_S 60     /* for each propagation step */
#define DEMO_SYNC_MS "500" /* the servers' sync interval */
#define DEMO_INDICATOR_ID "indicator--5f1c9d52-2b6e-4c1e-9a55-0d3c9e3f7a01"
#define DEMO_BAD_IP "203.0.113.66"

static const char usage[] =
    "usage: meridian demo [--dir DIR] [--once]\n"
    "\n"
    "Starts three Meridian nodes A, B and C on 127.0.0.1 (plain HTTP, random ports),\n"
    "each with its own data directory under DIR (default: a new /tmp/meridian-demo-*),\n"
    "and peers them A<->B<->C (each pulls from its neighbours every " DEMO_SYNC_MS " ms). Then:\n"
    "  1. creates a TLP:GREEN indicator (IP " DEMO_BAD_IP ") at A, signed with A's key;\n"
    "  2. waits until it reached C through B;\n"
    "  3. writes a small web-server log at C that contains the IP, runs the matcher\n"
    "     ('meridian match') there and stores its sighting at C;\n"
    "  4. waits until the sighting is back at A and prints A's roll-up.\n"
    "Every command is printed as it runs. Then it prints each node's URL, admin token\n"
    "and data directory and keeps the nodes running until Ctrl-C (or SIGTERM), which\n"
    "stops them all cleanly.\n"
    "\n"
    "  --dir DIR   where the three data directories go (must not exist, or be empty)\n"
    "  --once      stop the nodes and exit after step 4 instead of waiting\n"
    "\n"
    "Exit status: 0 the sighting reached A, 1 a step timed out, 2 usage or setup error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_demo = {
    .name = "demo",
    .summary = "start a 3-node federation on 127.0.0.1 and show a sighting round trip",
    .usage = usage,
    .run = run,
};

struct demo_node {
    char name[2];
    char dir[PATH_MAX];
    char token[STORE_TOKEN_LEN + 1];
    char coll[STORE_UUID_LEN + 1];
    char url[128];
    pid_t pid;
};

static char self_exe[PATH_MAX];
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Runs this binary with args (NULL-terminated), stdout captured into out
 * (may be NULL), stderr passed through. Returns the exit status or -1. */
static int step(char *out, size_t size, const char *const *args)
{
    int fds[2] = {-1, -1}, status = 0;
    size_t n = 0;
    pid_t pid;

    printf("  $ meridian");
    for (size_t i = 0; args[i] != NULL; i++)
        printf(" %s", MRD_ESC(args[i]));
    printf("\n");
    fflush(stdout);
    if (out != NULL && pipe(fds) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *argv[32];
        size_t k = 0;
        argv[k++] = "meridian";
        for (size_t i = 0; args[i] != NULL && k < 31; i++)
            argv[k++] = args[i];
        argv[k] = NULL;
        if (out != NULL) {
            (void)dup2(fds[1], STDOUT_FILENO);
            (void)close(fds[0]);
            (void)close(fds[1]);
        } else {
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0)
                (void)dup2(devnull, STDOUT_FILENO);
        }
        /* execv wants char *const[]; the strings are never written */
        execv(self_exe, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    if (out != NULL) {
        (void)close(fds[1]);
        for (;;) {
            ssize_t r = read(fds[0], out + n, size - 1 - n);
            if (r <= 0 || (n += (size_t)r) >= size - 1)
                break;
        }
        out[n] = '\0';
        (void)close(fds[0]);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first token-looking or uuid-looking word of out. */
static bool find_word(const char *out, const char *prefix, size_t len, char *dst, size_t size)
{
    const char *p = prefix != NULL ? strstr(out, prefix) : out;

    if (p == NULL || len >= size || strlen(p) < len)
        return false;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return true;
}

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    (void)nanosleep(&ts, NULL);
}

static bool start_server(struct demo_node *n)
{
    char ready[PATH_MAX + 8], log[PATH_MAX + 16];
    FILE *f;

    (void)snprintf(ready, sizeof(ready), "%s/ready", n->dir);
    (void)snprintf(log, sizeof(log), "%s/serve.log", n->dir);
    (void)unlink(ready);
    n->pid = fork();
    if (n->pid < 0)
        return false;
    if (n->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            (void)dup2(fd, STDERR_FILENO);
            (void)dup2(fd, STDOUT_FILENO);
        }
        execl(self_exe, "meridian", "serve", "--data", n->dir, "--listen", "127.0.0.1:0", "--http",
              "--ready-file", ready, "--sync-interval", DEMO_SYNC_MS, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !stop_requested; i++) {
        char addr[96] = "";
        f = fopen(ready, "r");
        if (f != NULL) {
            bool ok = fgets(addr, sizeof(addr), f) != NULL;
            (void)fclose(f);
            addr[strcspn(addr, "\r\n")] = '\0';
            if (ok && addr[0] != '\0') {
                (void)snprintf(n->url, sizeof(n->url), "http://%s", addr);
                return true;
            }
        }
        sleep_ms(50);
    }
    return false;
}

static void stop_servers(struct demo_node *nodes)
{
    for (int i = 0; i < DEMO_NODES; i++)
        if (nodes[i].pid > 0)
            (void)kill(nodes[i].pid, SIGTERM);
    for (int i = 0; i < DEMO_NODES; i++) {
        int st;
        if (nodes[i].pid <= 0)
            continue;
        while (waitpid(nodes[i].pid, &st, 0) < 0 && errno == EINTR)
            ;
        nodes[i].pid = 0;
    }
}

/* Lets `client` pull from `server`: an org and a token for the client on
 * the server, read+write on its collection, and the peer entry. */
static bool link_nodes(struct demo_node *server, struct demo_node *client)
{
    char out[DEMO_OUT_MAX], tok[STORE_TOKEN_LEN + 1], key[CRYPTO_PUBKEY_TEXT_LEN + 1];
    const char *org[] = {"org",     "create", client->name, "--relation",
                         "partner", "--data", server->dir,  NULL};
    const char *mk[] = {"token", "create", "--org", client->name, "--data", server->dir, NULL};
    const char *gr[] = {"grant",  "--org",   client->name, "--collection", server->coll,
                        "--read", "--write", "--data",     server->dir,    NULL};
    const char *show[] = {"key", "show", "--data", server->dir, NULL};

    if (step(NULL, 0, org) != 0 || step(out, sizeof(out), mk) != 0 ||
        !find_word(out, "mrd_", STORE_TOKEN_LEN, tok, sizeof(tok)) || step(NULL, 0, gr) != 0 ||
        step(out, sizeof(out), show) != 0 ||
        !find_word(out, "ed25519:", CRYPTO_PUBKEY_TEXT_LEN, key, sizeof(key)))
        return false;
    {
        const char *peer[] = {"peer",       "add",
                              server->name, "--url",
                              server->url,  "--api-root",
                              "europe",     "--collection",
                              server->coll, "--local-collection",
                              client->coll, "--token",
                              tok,          "--pubkey",
                              key,          "--direction",
                              "pull",       "--community",
                              "europe",     "--data",
                              client->dir,  NULL};
        return step(NULL, 0, peer) == 0;
    }
}

/* True once node n's collection holds an object whose text contains what. */
static bool holds(struct demo_node *n, const char *what)
{
    char path[PATH_MAX + 16];
    const char *exp[] = {"export", "--collection", n->coll, "--data", n->dir, NULL};
    char *buf = malloc(1 << 20);
    bool found = false;
    int status = 0, fd;
    pid_t pid;

    if (buf == NULL)
        return false;
    /* export quietly into a file, then look (not printed: polled often) */
    (void)snprintf(path, sizeof(path), "%s/export.json", n->dir);
    pid = fork();
    if (pid == 0) {
        int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open("/dev/null", O_WRONLY);
        if (o >= 0)
            (void)dup2(o, STDOUT_FILENO);
        if (e >= 0)
            (void)dup2(e, STDERR_FILENO);
        execl(self_exe, "meridian", exp[0], exp[1], exp[2], exp[3], exp[4], (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t r = read(fd, buf, (1 << 20) - 1);
        if (r > 0) {
            buf[r] = '\0';
            found = strstr(buf, what) != NULL;
        }
        (void)close(fd);
    }
    free(buf);
    return found;
}

/* A's roll-up of the demo indicator, straight from A's store. */
static long sightings_at(struct demo_node *a, json_t **ret)
{
    struct store *st = NULL;
    struct store_org own;
    json_t *v = NULL;
    long count = -1;

    if (store_open(a->dir, NULL, &st, NULL) == MRD_OK &&
        store_org_get(st, "cert-a", 0, &own, NULL) == MRD_OK &&
        fed_sightings_json(st, own.key, DEMO_INDICATOR_ID, &v, NULL) == MRD_OK) {
        count = (long)json_integer_value(json_object_get(v, "count"));
        if (ret != NULL && count > 0) {
            *ret = v;
            v = NULL;
        }
    }
    json_decref(v);
    store_close(st);
    return count;
}

static bool wait_until(bool (*pred)(void *), void *ctx)
{
    for (int i = 0; i < DEMO_WAIT_S * 10 && !stop_requested; i++) {
        if (pred(ctx))
            return true;
        sleep_ms(100);
    }
    return false;
}

static bool indicator_at(void *ctx)
{
    return holds(ctx, DEMO_INDICATOR_ID);
}

static bool sighting_back(void *ctx)
{
    return sightings_at(ctx, NULL) > 0;
}

static int setup(struct demo_node *nodes, const char *base)
{
    static const char *orgs[DEMO_NODES] = {"cert-a", "cert-b", "cert-c"};
    char out[DEMO_OUT_MAX];

    for (int i = 0; i < DEMO_NODES; i++) {
        struct demo_node *n = &nodes[i];
        const char *init[] = {"init", "--data", n->dir, "--org", orgs[i], NULL};
        const char *coll[] = {"collection",        "create", "--api-root", "europe", "--title",
                              "shared indicators", "--data", n->dir,       NULL};
        n->name[0] = (char)('A' + i);
        n->name[1] = '\0';
        (void)snprintf(n->dir, sizeof(n->dir), "%s/%s", base, n->name);
        init[2] = n->dir;
        coll[7] = n->dir;
        printf("node %s:\n", n->name);
        if (step(out, sizeof(out), init) != 0 ||
            !find_word(out, "mrd_", STORE_TOKEN_LEN, n->token, sizeof(n->token)) ||
            step(out, sizeof(out), coll) != 0 ||
            !find_word(out, NULL, STORE_UUID_LEN, n->coll, sizeof(n->coll)))
            return CLI_EXIT_USAGE;
        if (!start_server(n)) {
            cli_errorf("demo", "node %s did not start (see %s/serve.log)", n->name, n->dir);
            return CLI_EXIT_USAGE;
        }
        printf("  serving %s/taxii2/\n", n->url);
    }
    printf("peering A<->B<->C (each pulls from its neighbours):\n");
    if (!link_nodes(&nodes[0], &nodes[1]) || !link_nodes(&nodes[1], &nodes[0]) ||
        !link_nodes(&nodes[1], &nodes[2]) || !link_nodes(&nodes[2], &nodes[1]))
        return CLI_EXIT_USAGE;
    return CLI_EXIT_OK;
}

static int scenario(struct demo_node *nodes)
{
    char path[PATH_MAX + 32], ind[PATH_MAX + 32], sig[PATH_MAX + 32], text[2048];
    struct demo_node *a = &nodes[0], *c = &nodes[2];
    json_t *roll = NULL;
    char *dump;

    (void)snprintf(path, sizeof(path), "%s/indicator.json", a->dir);
    (void)snprintf(text, sizeof(text),
                   "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" DEMO_INDICATOR_ID
                   "\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:"
                   "00:00.000Z\",\"name\":\"C2 server\",\"pattern\":\"[ipv4-addr:value = "
                   "'" DEMO_BAD_IP "']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-"
                   "01T00:00:00Z\",\"object_marking_refs\":[\"" POLICY_TLP2_GREEN_ID "\"]}\n");
    if (!write_file(path, text))
        return CLI_EXIT_USAGE;
    printf("1. an indicator is created at A (signed with A's node key):\n");
    {
        const char *imp[] = {"import", "--collection", a->coll, "--data", a->dir, path, NULL};
        if (step(NULL, 0, imp) != 0)
            return CLI_EXIT_USAGE;
    }
    printf("2. waiting for it to reach C through B ...\n");
    if (!wait_until(indicator_at, c)) {
        cli_errorf("demo", "the indicator did not reach C within %d s", DEMO_WAIT_S);
        return CLI_EXIT_FAIL;
    }
    printf("   it is at C\n3. C's web server log has two hits; C runs the matcher:\n");
    (void)snprintf(path, sizeof(path), "%s/access.log", c->dir);
    if (!write_file(path, "198.51.100.20 - - [29/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" "
                          "200 512 \"-\" \"curl/8\"\n" DEMO_BAD_IP
                          " - - [29/Nov/2026:10:00:03 +0000] \"GET /login HTTP/1.1\" 200 77 "
                          "\"-\" \"x\"\n" DEMO_BAD_IP
                          " - - [29/Nov/2026:10:07:41 +0000] \"POST /login HTTP/1.1\" 302 0 "
                          "\"-\" \"x\"\n"))
        return CLI_EXIT_USAGE;
    (void)snprintf(ind, sizeof(ind), "%s/indicators.json", c->dir);
    (void)snprintf(sig, sizeof(sig), "%s/sightings.json", c->dir);
    {
        char out[DEMO_OUT_MAX];
        int fd;
        const char *exp[] = {"export", "--collection", c->coll, "--data", c->dir, NULL};
        const char *match[] = {"match", "--indicators", ind,       "--sightings", sig,
                               "--org", "cert-c",       "--quiet", path,          NULL};
        const char *imp[] = {"import", "--collection", c->coll, "--data", c->dir, sig, NULL};
        char *big = malloc(1 << 20);
        if (big == NULL || step(big, 1 << 20, exp) != 0) {
            free(big);
            return CLI_EXIT_USAGE;
        }
        fd = open(ind, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, big, strlen(big)) < 0) {
            if (fd >= 0)
                (void)close(fd);
            free(big);
            return CLI_EXIT_USAGE;
        }
        (void)close(fd);
        free(big);
        if (step(out, sizeof(out), match) != 0 || step(NULL, 0, imp) != 0)
            return CLI_EXIT_USAGE;
    }
    printf("4. waiting for the sighting to travel back to A ...\n");
    if (!wait_until(sighting_back, a)) {
        cli_errorf("demo", "the sighting did not reach A within %d s", DEMO_WAIT_S);
        return CLI_EXIT_FAIL;
    }
    (void)sightings_at(a, &roll);
    dump = roll != NULL ? json_dumps(roll, JSON_INDENT(2)) : NULL;
    printf("   A's roll-up (GET %s/api/v1/sightings/%s):\n%s\n", a->url, DEMO_INDICATOR_ID,
           dump != NULL ? dump : "?");
    free(dump);
    json_decref(roll);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"once", no_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    static struct demo_node nodes[DEMO_NODES];
    char base[PATH_MAX] = "/tmp/meridian-demo-XXXXXX";
    const char *dir = NULL;
    bool once = false;
    struct sigaction sa;
    ssize_t n;
    int c, ret;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            dir = optarg;
        else if (c == 'o')
            once = true;
        else
            return cli_usage_error(&cli_verb_demo, "unknown option");
    }
    if (optind != argc)
        return cli_usage_error(&cli_verb_demo, "unexpected argument '%s'", argv[optind]);
    n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (n <= 0) {
        cli_errorf("demo", "cannot find the meridian binary: %s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    self_exe[n] = '\0';
    if (dir != NULL) {
        if (strlen(dir) >= sizeof(base) - 8 || (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
            cli_errorf("demo", "cannot use %s", dir);
            return CLI_EXIT_USAGE;
        }
        mrd_strlcpy(base, dir, sizeof(base));
    } else if (mkdtemp(base) == NULL) {
        cli_errorf("demo", "mkdtemp: %s", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("Meridian demo in %s\n", MRD_ESC(base));
    ret = setup(nodes, base);
    if (ret == CLI_EXIT_OK && !stop_requested)
        ret = scenario(nodes);
    if (ret == CLI_EXIT_OK) {
        printf("\nThe federation:\n");
        for (int i = 0; i < DEMO_NODES; i++)
            printf("  node %s  %s/taxii2/  token %s\n          data %s (log: serve.log)\n",
                   nodes[i].name, nodes[i].url, nodes[i].token, nodes[i].dir);
        printf("Try: curl -H 'Authorization: Bearer %s' %s/api/v1/sightings/\n", nodes[0].token,
               nodes[0].url);
        if (!once) {
            printf("Ctrl-C stops all three nodes.\n");
            while (!stop_requested)
                sleep_ms(200);
        }
    }
    printf("stopping the nodes ...\n");
    stop_servers(nodes);
    return ret;
}
