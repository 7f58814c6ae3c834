/*
 * meridian contact: where and when each constituent org is told of what
 * concerns it (deliver.h; docs/notify.md "Delivery"). Adding and removing
 * go through notify_contact_add / notify_contact_remove (audit records);
 * this file parses, reads the key and secret files and prints.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "cli/verbs.h"
#include "core/buf.h"
#include "core/str.h"
#include "notify/deliver.h"
#include "store/store.h"

static const char usage[] =
    "usage: meridian contact add --org ORG --email ADDRESS [--pgp-key FILE]\n"
    "                            [--schedule SCHEDULE] [--data DIR]\n"
    "       meridian contact add --org ORG --webhook URL [--secret-file FILE]\n"
    "                            [--schedule SCHEDULE] [--data DIR]\n"
    "       meridian contact list [--org ORG] [--json] [--data DIR]\n"
    "       meridian contact remove ID... [--org ORG] [--data DIR]\n"
    "\n"
    "Where a constituent org is told of the notifications that concern it\n"
    "(docs/notify.md, \"Delivery\"), and when. `meridian serve` delivers them;\n"
    "`meridian notify deliver` does one round from the command line.\n"
    "  --email ADDRESS    an e-mail address; the message goes through the SMTP\n"
    "                     relay of meridian.conf (smtp-relay, smtp-from, ...)\n"
    "  --pgp-key FILE     the address's armored OpenPGP public key: messages to it\n"
    "                     are encrypted (PGP/MIME)\n"
    "  --webhook URL      an http(s) URL that gets a signed JSON POST\n"
    "  --secret-file FILE the webhook's HMAC secret (first line; printable ASCII,\n"
    "                     at most 128); without it a random one is made and\n"
    "                     printed once\n"
    "  --schedule S       SCHED or KIND=SCHED items, comma-separated; SCHED is\n"
    "                     immediate (within a second), hourly or daily (one digest\n"
    "                     at the top of each hour / at midnight UTC); KIND is the\n"
    "                     STIX type of the finding (indicator, sighting, ...).\n"
    "                     \"daily,sighting=immediate\": sightings at once, the rest\n"
    "                     in a daily digest. Default: immediate\n"
    "  list               id, org, channel, address, schedule, and whether a key is\n"
    "                     set (never the secret)\n"
    "  remove ID          delete contacts (with --org: only that org's); their\n"
    "                     queued deliveries are given up\n"
    "  --json             list as {\"contacts\": [...]}\n" CLI_DATA_HELP
    "Each addition and removal is an audit record (meridian audit).\n"
    "Exit status: 0 done, 1 some contacts were not removed, 2 usage or data error.\n";

static int run(int argc, char **argv);

const struct cli_verb cli_verb_contact = {
    .name = "contact",
    .summary = "declare where constituents are told (e-mail, webhook) and when",
    .usage = usage,
    .run = run,
};

static enum mrd_code list_one(void *ctx, const struct store_contact *c, struct mrd_err *err)
{
    json_t *all = ctx;
    const char *ch = c->channel == STORE_CHANNEL_EMAIL ? "email" : "webhook";
    bool key = c->pgp_key != NULL && c->pgp_key[0] != '\0';

    if (all != NULL) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)c->id, "org",
                              c->org_name, "channel", ch, "address", c->address, "schedule",
                              c->schedule, "openpgp", key);
        if (o == NULL || json_array_append_new(all, o) != 0)
            return mrd_err_set(err, MRD_E_NOMEM, "contact: out of memory");
        return MRD_OK;
    }
    printf("%lld\t%s\t%s\t%s\t%s%s\n", (long long)c->id, MRD_ESC(c->org_name), ch,
           MRD_ESC(c->address), MRD_ESC(c->schedule), key ? "\topenpgp" : "");
    return MRD_OK;
}

/* Reads a small file whole (at most max bytes). */
static int read_small(const char *what, const char *path, size_t max, struct mrd_buf *b)
{
    struct mrd_err err = {0};

    mrd_buf_init(b, max);
    if (mrd_buf_read_file(b, path, &err) != MRD_OK || mrd_buf_putc(b, '\0', &err) != MRD_OK) {
        cli_errorf("contact", "%s %s: %s", what, MRD_ESC(path), err.msg);
        mrd_buf_release(b);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int add(struct admin *adm, const struct store_org *org, const char *email,
               const char *webhook, const char *key_file, const char *secret_file,
               const char *schedule)
{
    struct store_contact c;
    struct mrd_buf key = {0}, secret = {0};
    struct mrd_err err = {0};
    bool made_secret;
    int ret = CLI_EXIT_OK;

    memset(&c, 0, sizeof(c));
    c.org = org->key;
    c.channel = email != NULL ? STORE_CHANNEL_EMAIL : STORE_CHANNEL_WEBHOOK;
    if (strlen(email != NULL ? email : webhook) > STORE_CONTACT_ADDR_MAX ||
        (schedule != NULL && strlen(schedule) > STORE_SCHEDULE_MAX)) {
        cli_errorf("contact", "the address or the schedule is too long");
        return CLI_EXIT_USAGE;
    }
    mrd_strlcpy(c.address, email != NULL ? email : webhook, sizeof(c.address));
    if (schedule != NULL)
        mrd_strlcpy(c.schedule, schedule, sizeof(c.schedule));
    if (key_file != NULL) {
        ret = read_small("--pgp-key", key_file, STORE_CONTACT_KEY_MAX + 1, &key);
        c.pgp_key = key.data;
    }
    if (ret == CLI_EXIT_OK && secret_file != NULL) {
        ret = read_small("--secret-file", secret_file, STORE_CONTACT_SECRET_MAX + 2, &secret);
        if (ret == CLI_EXIT_OK) {
            secret.data[strcspn(secret.data, "\r\n")] = '\0';
            if (strlen(secret.data) > STORE_CONTACT_SECRET_MAX || secret.data[0] == '\0') {
                cli_errorf("contact", "--secret-file: expected 1..%d characters on its first line",
                           STORE_CONTACT_SECRET_MAX);
                ret = CLI_EXIT_USAGE;
            } else {
                mrd_strlcpy(c.secret, secret.data, sizeof(c.secret));
            }
        }
    }
    made_secret = c.channel == STORE_CHANNEL_WEBHOOK && c.secret[0] == '\0';
    if (ret == CLI_EXIT_OK && notify_contact_add(adm, &c, &err) != MRD_OK) {
        cli_errorf("contact", "%s", err.msg);
        ret = CLI_EXIT_USAGE;
    }
    if (ret == CLI_EXIT_OK) {
        printf("%lld\t%s\t%s\t%s\t%s\n", (long long)c.id, MRD_ESC(org->name),
               c.channel == STORE_CHANNEL_EMAIL ? "email" : "webhook", MRD_ESC(c.address),
               c.schedule);
        if (made_secret)
            printf("secret: %s\n(the webhook's HMAC secret: give it to the receiver now; it is "
                   "not shown again)\n",
                   c.secret);
    }
    mrd_buf_release(&key);
    if (secret.data != NULL)
        sodium_memzero(secret.data, secret.len);
    mrd_buf_release(&secret);
    sodium_memzero(c.secret, sizeof(c.secret));
    return ret;
}

static int run(int argc, char **argv)
{
    enum { O_DATA = 1, O_ORG, O_EMAIL, O_WEBHOOK, O_KEY, O_SECRET, O_SCHEDULE, O_JSON };
    static const struct option opts[] = {
        {"data", required_argument, NULL, O_DATA},
        {"org", required_argument, NULL, O_ORG},
        {"email", required_argument, NULL, O_EMAIL},
        {"webhook", required_argument, NULL, O_WEBHOOK},
        {"pgp-key", required_argument, NULL, O_KEY},
        {"secret-file", required_argument, NULL, O_SECRET},
        {"schedule", required_argument, NULL, O_SCHEDULE},
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *org_name = NULL, *email = NULL, *webhook = NULL, *key = NULL,
               *secret = NULL, *schedule = NULL, *sub;
    bool json = false;
    struct store *st = NULL;
    struct store_org org = {0};
    struct admin adm;
    struct mrd_err err = {0};
    int c, ret, bad = 0;

    if (argc < 2)
        return cli_usage_error(&cli_verb_contact, "expected add, list or remove");
    sub = argv[1];
    if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "remove") != 0)
        return cli_usage_error(&cli_verb_contact, "unknown subcommand '%s'", MRD_ESC(sub));
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_ORG:
            org_name = optarg;
            break;
        case O_EMAIL:
            email = optarg;
            break;
        case O_WEBHOOK:
            webhook = optarg;
            break;
        case O_KEY:
            key = optarg;
            break;
        case O_SECRET:
            secret = optarg;
            break;
        case O_SCHEDULE:
            schedule = optarg;
            break;
        case O_JSON:
            json = true;
            break;
        default:
            return cli_usage_error(&cli_verb_contact, "unknown option");
        }
    }
    if (strcmp(sub, "add") == 0) {
        if (org_name == NULL || (email == NULL) == (webhook == NULL) || optind != argc)
            return cli_usage_error(&cli_verb_contact, "add: --org and one of --email or --webhook");
        if ((key != NULL && email == NULL) || (secret != NULL && webhook == NULL))
            return cli_usage_error(&cli_verb_contact,
                                   "--pgp-key goes with --email, --secret-file with --webhook");
    } else if (email != NULL || webhook != NULL || key != NULL || secret != NULL ||
               schedule != NULL) {
        return cli_usage_error(&cli_verb_contact, "%s: only --org, --json and --data", sub);
    } else if (strcmp(sub, "list") == 0 ? optind != argc : optind == argc) {
        return cli_usage_error(&cli_verb_contact, "%s: wrong number of arguments", sub);
    }
    for (int i = optind; strcmp(sub, "remove") == 0 && i < argc; i++) {
        int64_t id;
        if (!cli_data_row_id(argv[i], &id))
            return cli_usage_error(&cli_verb_contact, "remove: '%s' is not a contact id",
                                   MRD_ESC(argv[i]));
    }
    ret = cli_data_open("contact", cli_data_dir(data), &st);
    if (ret != CLI_EXIT_OK)
        return ret;
    if (org_name != NULL)
        ret = cli_data_org("contact", st, org_name, &org);
    if (ret != CLI_EXIT_OK)
        goto out;
    cli_data_admin(st, cli_data_dir(data), &adm);
    if (strcmp(sub, "add") == 0) {
        ret = add(&adm, &org, email, webhook, key, secret, schedule);
    } else if (strcmp(sub, "list") == 0) {
        json_t *all = json ? json_array() : NULL;
        ret = cli_print_list("contact", store_contacts_list(st, org.key, list_one, all, &err), &err,
                             all, "contacts");
    } else {
        for (int i = optind; i < argc; i++) {
            int64_t id = 0;
            struct store_contact was;
            (void)cli_data_row_id(argv[i], &id);
            mrd_err_clear(&err);
            if (notify_contact_remove(&adm, id, org.key, &was, &err) != MRD_OK) {
                cli_errorf("contact", "remove %lld: %s", (long long)id, err.msg);
                bad++;
                continue;
            }
            printf("%lld\t%s\t%s\tremoved\n", (long long)id, MRD_ESC(was.org_name),
                   MRD_ESC(was.address));
        }
        ret = bad > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
out:
    store_close(st);
    return ret;
}
