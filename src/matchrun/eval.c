/*
 * eval.c: patterns the index cannot express (AND, LIKE, MATCHES,
 * qualifiers, other paths), evaluated by pattern/ on an observation built
 * from each parsed log line.
 *
 * Each line's looked-up fields become STIX 2.1 SCOs: ipv4-addr/ipv6-addr,
 * domain-name, url (plus its host), email-addr, file with hashes. Every
 * compiled pattern is evaluated against that one observation (count 1,
 * first/last observed = the line's time). This costs allocations per line,
 * so it only runs when such patterns are loaded; the index path stays
 * allocation-free.
 */
#include <string.h>

#include <jansson.h>

#include "matchrun/matchrun_int.h"
#include "core/alloc.h"
#include "pattern/pattern.h"

#define MAX_SCOS (MATCH_MAX_LINE_FIELDS * 4)

enum mrd_code matchrun_set_add_prog(struct matchrun_set *s, const char *pat, size_t n, uint32_t ind,
                                    struct mrd_err *err)
{
    struct pat_prog *prog = NULL;
    enum mrd_code rc = pat_prog_new(pat, n, &prog, err);

    if (rc != MRD_OK)
        return rc;
    if (s->nprogs == s->progs_cap) {
        size_t nc = s->progs_cap ? s->progs_cap * 2 : 16;
        struct pat_prog **np = mrd_realloc(s->progs, nc * sizeof(*np));
        uint32_t *ni;
        if (np == NULL) {
            pat_prog_free(prog);
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        }
        s->progs = np;
        ni = mrd_realloc(s->prog_ind, nc * sizeof(*ni));
        if (ni == NULL) {
            pat_prog_free(prog);
            return mrd_err_set(err, MRD_E_NOMEM, "out of memory");
        }
        s->prog_ind = ni;
        s->progs_cap = nc;
    }
    s->progs[s->nprogs] = prog;
    s->prog_ind[s->nprogs] = ind;
    s->nprogs++;
    return MRD_OK;
}

void matchrun_set_free_progs(struct matchrun_set *s)
{
    for (size_t i = 0; i < s->nprogs; i++)
        pat_prog_free(s->progs[i]);
    mrd_free(s->progs);
    mrd_free(s->prog_ind);
    s->progs = NULL;
    s->prog_ind = NULL;
    s->nprogs = s->progs_cap = 0;
}

void *matchrun_eval_scratch_new(void)
{
    return pat_scratch_new();
}

void matchrun_eval_scratch_free(void *scratch)
{
    pat_scratch_free(scratch);
}

static void add_sco(json_t **scos, size_t *n, json_t *o)
{
    if (o != NULL && *n < MAX_SCOS)
        scos[(*n)++] = o;
    else
        json_decref(o);
}

static json_t *value_sco(const char *type, const char *v, size_t n)
{
    json_t *val = json_stringn(v, n); /* NULL for invalid UTF-8: no SCO */
    if (val == NULL)
        return NULL;
    return json_pack("{s:s, s:s, s:o}", "type", type, "spec_version", "2.1", "value", val);
}

/* A host as seen: an address (port and brackets dropped) or a domain name. */
static void host_scos(json_t **scos, size_t *n, const char *v, size_t len)
{
    uint32_t a4;
    uint8_t a6[16];
    const char *colon;

    if (len > 0 && v[0] == '[') {
        const char *e = memchr(v, ']', len);
        if (e != NULL && match_ipv6_parse(v + 1, (size_t)(e - v - 1), a6))
            add_sco(scos, n, value_sco("ipv6-addr", v + 1, (size_t)(e - v - 1)));
        return;
    }
    if (match_ipv4_parse(v, len, &a4)) {
        add_sco(scos, n, value_sco("ipv4-addr", v, len));
        return;
    }
    if (memchr(v, ':', len) != NULL && match_ipv6_parse(v, len, a6)) {
        add_sco(scos, n, value_sco("ipv6-addr", v, len));
        return;
    }
    colon = memchr(v, ':', len);
    if (colon != NULL)
        len = (size_t)(colon - v);
    if (match_ipv4_parse(v, len, &a4)) {
        add_sco(scos, n, value_sco("ipv4-addr", v, len));
        return;
    }
    if (len > 1 && v[len - 1] == '.')
        len--;
    if (len > 0)
        add_sco(scos, n, value_sco("domain-name", v, len));
}

size_t matchrun_eval_line(const struct matchrun_set *s, void *scratch, const struct match_field *f,
                          size_t nf, int64_t time_usec, uint32_t *out, size_t max)
{
    json_t *scos[MAX_SCOS];
    size_t nscos = 0, nout = 0;
    struct pat_obs obs;

    for (size_t i = 0; i < nf; i++) {
        const char *v = f[i].v;
        size_t n = f[i].n;
        switch (f[i].obs) {
        case MATCH_O_IP:
        case MATCH_O_HOST:
            host_scos(scos, &nscos, v, n);
            break;
        case MATCH_O_HOSTLIST: {
            size_t a = 0;
            while (a < n) {
                size_t b = a;
                while (b < n && v[b] != ',')
                    b++;
                host_scos(scos, &nscos, v + a, b - a);
                a = b + 1;
            }
            break;
        }
        case MATCH_O_URL: {
            char buf[MATCH_MAX_VALUE + 8];
            const char *host = NULL;
            size_t hl = 0;
            if (match_url_normalize(v, n, buf, sizeof(buf), &host, &hl) > 0) {
                add_sco(scos, &nscos, value_sco("url", v, n));
                host_scos(scos, &nscos, host, hl);
            }
            break;
        }
        case MATCH_O_EMAIL:
            add_sco(scos, &nscos, value_sco("email-addr", v, n));
            break;
        case MATCH_O_HASH: {
            const char *alg = n == 32    ? "MD5"
                              : n == 40  ? "SHA-1"
                              : n == 64  ? "SHA-256"
                              : n == 128 ? "SHA-512"
                                         : NULL;
            json_t *hv = alg ? json_stringn(v, n) : NULL;
            if (hv != NULL)
                add_sco(scos, &nscos,
                        json_pack("{s:s, s:s, s:{s:o}}", "type", "file", "spec_version", "2.1",
                                  "hashes", alg, hv));
            break;
        }
        default:
            break;
        }
    }
    if (nscos == 0)
        return 0;
    memset(&obs, 0, sizeof(obs));
    obs.scos = (const json_t *const *)scos;
    obs.nscos = nscos;
    obs.first_usec = obs.last_usec = time_usec == INT64_MIN ? 0 : time_usec;
    obs.count = 1;
    for (size_t i = 0; i < s->nprogs && nout < max; i++) {
        bool m = false;
        struct mrd_err err = {0};
        /* An evaluation error (work bound, bad timestamp literal) is a
         * non-match for this line, never a failure of the run. */
        if (pat_eval_obs(s->progs[i], &obs, 1, scratch, &m, &err) == MRD_OK && m)
            out[nout++] = s->prog_ind[i];
    }
    for (size_t i = 0; i < nscos; i++)
        json_decref(scos[i]);
    return nout;
}
