/*
 * pace.c: holding a job under a byte rate (pace.h).
 */
#include "core/pace.h"

#include <errno.h>
#include <string.h>

#include "core/str.h"

void mrd_pace_init(struct mrd_pace *p, uint64_t rate)
{
    memset(p, 0, sizeof(*p));
    p->rate = rate;
}

static uint64_t elapsed_usec(const struct timespec *from)
{
    struct timespec now;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - from->tv_sec) * 1000000u +
           (uint64_t)((now.tv_nsec - from->tv_nsec) / 1000);
}

void mrd_pace_add(struct mrd_pace *p, uint64_t n)
{
    uint64_t due, spent;

    if (p->rate == 0)
        return;
    if (!p->started) {
        (void)clock_gettime(CLOCK_MONOTONIC, &p->start);
        p->started = true;
    }
    p->bytes += n;
    /* when the bytes moved so far are due, in usec since the start */
    due = p->bytes / p->rate * 1000000u + p->bytes % p->rate * 1000000u / p->rate;
    spent = elapsed_usec(&p->start);
    if (due > spent) {
        struct timespec d = {.tv_sec = (time_t)((due - spent) / 1000000u),
                             .tv_nsec = (long)((due - spent) % 1000000u * 1000u)};
        while (nanosleep(&d, &d) != 0 && errno == EINTR)
            ;
    }
}

enum mrd_code mrd_pace_parse(const char *s, uint64_t *ret, struct mrd_err *err)
{
    size_t n = strlen(s);
    uint64_t unit = 1, v;

    if (n > 1 && (s[n - 1] == 'K' || s[n - 1] == 'M' || s[n - 1] == 'G')) {
        unit = s[n - 1] == 'K' ? 1024u : s[n - 1] == 'M' ? 1024u * 1024u : 1024u * 1024u * 1024u;
        n--;
    }
    /* at most 1 TiB/s */
    if (mrd_str_to_u64(s, n, ((uint64_t)1 << 40) / unit, &v, NULL) != MRD_OK ||
        v * unit < MRD_PACE_MIN_RATE)
        return mrd_err_set(err, MRD_E_INVAL,
                           "'%s' is not a rate of at least 1M bytes per second (e.g. 64M, 1G)",
                           MRD_ESC(s));
    *ret = v * unit;
    return MRD_OK;
}
