#include "core/timestamp.h"

#include "core/str.h"

#include <stdio.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), exact for every year we accept. */
int64_t mrd_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *ry, unsigned *rm, unsigned *rd)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    *ry = (int)(y + (m <= 2));
    *rm = m;
    *rd = d;
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly `width` digits at s[*pos]. */
static bool digits(const char *s, size_t n, size_t *pos, int width, unsigned *ret)
{
    unsigned v = 0;

    for (int i = 0; i < width; i++) {
        if (*pos >= n || s[*pos] < '0' || s[*pos] > '9')
            return false;
        v = v * 10 + (unsigned)(s[*pos] - '0');
        (*pos)++;
    }
    *ret = v;
    return true;
}

static bool lit(const char *s, size_t n, size_t *pos, char c)
{
    if (*pos >= n || s[*pos] != c)
        return false;
    (*pos)++;
    return true;
}

enum mrd_code mrd_time_parse(const char *s, size_t n, struct mrd_time *ret, struct mrd_err *err)
{
    static const char *const what = "timestamp";
    unsigned y, mo, d, h, mi, se;
    size_t pos = 0;
    uint32_t nsec = 0;
    unsigned fd = 0;

    if (!digits(s, n, &pos, 4, &y) || !lit(s, n, &pos, '-') || !digits(s, n, &pos, 2, &mo) ||
        !lit(s, n, &pos, '-') || !digits(s, n, &pos, 2, &d) || !lit(s, n, &pos, 'T') ||
        !digits(s, n, &pos, 2, &h) || !lit(s, n, &pos, ':') || !digits(s, n, &pos, 2, &mi) ||
        !lit(s, n, &pos, ':') || !digits(s, n, &pos, 2, &se))
        return mrd_err_set(err, MRD_E_PARSE,
                           "%s: offset %zu: expected YYYY-MM-DDTHH:MM:SS[.s]Z (STIX 2.1 §3.2)",
                           what, pos);
    if (pos < n && s[pos] == '.') {
        pos++;
        while (pos < n && s[pos] >= '0' && s[pos] <= '9') {
            if (fd < 9)
                nsec = nsec * 10 + (uint32_t)(s[pos] - '0');
            fd++;
            pos++;
        }
        if (fd == 0)
            return mrd_err_set(err, MRD_E_PARSE,
                               "%s: offset %zu: expected a digit after '.' (STIX 2.1 §3.2)", what,
                               pos);
        for (unsigned i = fd; i < 9; i++)
            nsec *= 10;
    }
    if (!lit(s, n, &pos, 'Z'))
        return mrd_err_set(err, MRD_E_PARSE,
                           "%s: offset %zu: expected 'Z' (UTC is required, STIX 2.1 §3.2)", what,
                           pos);
    if (pos != n)
        return mrd_err_set(err, MRD_E_PARSE, "%s: offset %zu: trailing characters", what, pos);
    if (y < 1 || mo < 1 || mo > 12)
        return mrd_err_set(err, MRD_E_PARSE, "%s: month %02u out of range", what, mo);
    if (d < 1 || d > days_in_month(y, mo))
        return mrd_err_set(err, MRD_E_PARSE, "%s: day %02u out of range for %04u-%02u", what, d, y,
                           mo);
    if (h > 23 || mi > 59 || se > 59)
        return mrd_err_set(err, MRD_E_PARSE, "%s: time of day %02u:%02u:%02u out of range", what, h,
                           mi, se);
    ret->sec = mrd_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + se;
    ret->nsec = nsec;
    ret->frac_digits = (uint8_t)(fd > 255 ? 255 : fd);
    return MRD_OK;
}

enum mrd_code mrd_time_parse_taxii(const char *s, size_t n, struct mrd_time *ret,
                                   struct mrd_err *err)
{
    struct mrd_time t;
    enum mrd_code rc = mrd_time_parse(s, n, &t, err);

    if (rc != MRD_OK)
        return rc;
    if (t.frac_digits != 6)
        return mrd_err_set(err, MRD_E_PARSE,
                           "timestamp: TAXII timestamps need exactly 6 fraction digits, got %u "
                           "(TAXII 2.1 §2)",
                           t.frac_digits);
    *ret = t;
    return MRD_OK;
}

int mrd_time_cmp(const struct mrd_time *a, const struct mrd_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

int64_t mrd_time_to_usec(const struct mrd_time *t)
{
    return t->sec * 1000000 + t->nsec / 1000;
}

struct mrd_time mrd_time_from_usec(int64_t usec)
{
    struct mrd_time t;
    int64_t s = usec / 1000000, r = usec % 1000000;

    if (r < 0) {
        r += 1000000;
        s--;
    }
    t.sec = s;
    t.nsec = (uint32_t)r * 1000;
    t.frac_digits = 6;
    return t;
}

static void format(int64_t usec, int digits_kept, char *out, size_t size)
{
    struct mrd_time t = mrd_time_from_usec(usec);
    int64_t days = t.sec / 86400, rem = t.sec % 86400;
    char tmp[64];
    unsigned mo, d;
    int y;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &mo, &d);
    /* The temporary is wide enough for any int, so nothing truncates
     * silently; years outside 0..9999 cannot come from a parsed value. */
    if (digits_kept == 6)
        (void)snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02u.%06uZ", y, mo, d,
                       (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                       t.nsec / 1000);
    else
        (void)snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mo, d,
                       (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
                       t.nsec / 1000000);
    mrd_strlcpy(out, tmp, size);
}

void mrd_time_format_taxii(int64_t usec, char out[MRD_TIME_TAXII_LEN + 1])
{
    format(usec, 6, out, MRD_TIME_TAXII_LEN + 1);
}

void mrd_time_format_stix_ms(int64_t usec, char out[MRD_TIME_STIX_MS_LEN + 1])
{
    format(usec, 3, out, MRD_TIME_STIX_MS_LEN + 1);
}

int64_t mrd_time_now_usec(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
