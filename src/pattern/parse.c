/*
 * parse.c: lexer and recursive-descent parser for STIX 2.1 patterns (§9).
 *
 * The token rules follow the grammar published with the specification (the
 * ANTLR grammar of the OASIS pattern validator): keywords are upper case,
 * `true`/`false` lower case, property names are identifiers without '-',
 * object types may contain '-', strings know only the escapes \' and \\.
 * Precedence, loosest first: FOLLOWEDBY, OR, AND between observation
 * expressions (all left-associative), then qualifiers (postfix, tightest);
 * inside brackets OR, then AND. Parentheses are kept as nodes so that the
 * printer reproduces the grouping exactly (qualifier rules depend on it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/str.h"
#include "pattern/pattern_int.h"

/* ---- memory ---------------------------------------------------------------- */

struct pat_mem_chunk {
    struct pat_mem_chunk *next;
    size_t size;
    _Alignas(16) char data[];
};

#define PAT_MEM_CHUNK 16384
#define PAT_MEM_MAX ((size_t)64 * 1024 * 1024) /* one pattern never needs more */

void pat__mem_init(struct pat_mem *m)
{
    m->cur = m->inline_block;
    m->end = m->inline_block + sizeof(m->inline_block);
    m->chunks = NULL;
    m->total = 0;
}

void pat__mem_release(struct pat_mem *m)
{
    struct pat_mem_chunk *c = m->chunks;

    while (c != NULL) {
        struct pat_mem_chunk *next = c->next;
        mrd_free(c);
        c = next;
    }
    m->chunks = NULL;
    m->cur = m->end = NULL;
}

void *pat__mem_alloc(struct pat_mem *m, size_t n)
{
    uintptr_t p = ((uintptr_t)m->cur + 7) & ~(uintptr_t)7;
    size_t size;
    struct pat_mem_chunk *c;

    if (n > PAT_MEM_MAX)
        return NULL;
    if (m->cur != NULL && p + n <= (uintptr_t)m->end) {
        m->cur = (char *)(p + n);
        memset((void *)p, 0, n);
        return (void *)p;
    }
    size = n > PAT_MEM_CHUNK ? n : PAT_MEM_CHUNK;
    if (m->total + size > PAT_MEM_MAX)
        return NULL;
    c = mrd_malloc(sizeof(*c) + size);
    if (c == NULL)
        return NULL;
    c->next = m->chunks;
    c->size = size;
    m->chunks = c;
    m->total += size;
    m->cur = c->data + n;
    m->end = c->data + size;
    memset(c->data, 0, n);
    return c->data;
}

/* ---- errors ---------------------------------------------------------------- */

enum mrd_code pat__error(struct mrd_err *err, size_t off, const char *section, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return mrd_err_set(err, MRD_E_PARSE, "pattern: offset %zu: %s (STIX 2.1 %s)", off, what,
                       section);
}

/* ---- lexer ----------------------------------------------------------------- */

enum tok {
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_STAR,
    T_EQ,
    T_NEQ,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_IDENT,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_BOOL,
    T_TS,
    T_HEX,
    T_BIN,
    T_AND,
    T_OR,
    T_NOT,
    T_FOLLOWEDBY,
    T_LIKE,
    T_MATCHES,
    T_ISSUPERSET,
    T_ISSUBSET,
    T_EXISTS,
    T_LAST,
    T_IN,
    T_START,
    T_STOP,
    T_SECONDS,
    T_WITHIN,
    T_REPEATS,
    T_TIMES,
};

#define KW(w, t)                                                                                   \
    {                                                                                              \
        w, sizeof(w) - 1, t                                                                        \
    }

static const struct {
    const char *word;
    size_t len;
    enum tok tok;
} keywords[] = {
    KW("AND", T_AND),
    KW("OR", T_OR),
    KW("NOT", T_NOT),
    KW("FOLLOWEDBY", T_FOLLOWEDBY),
    KW("LIKE", T_LIKE),
    KW("MATCHES", T_MATCHES),
    KW("ISSUPERSET", T_ISSUPERSET),
    KW("ISSUBSET", T_ISSUBSET),
    KW("EXISTS", T_EXISTS),
    KW("LAST", T_LAST),
    KW("IN", T_IN),
    KW("START", T_START),
    KW("STOP", T_STOP),
    KW("SECONDS", T_SECONDS),
    KW("WITHIN", T_WITHIN),
    KW("REPEATS", T_REPEATS),
    KW("TIMES", T_TIMES),
    KW("true", T_BOOL),
    KW("false", T_BOOL),
};

/* The keyword of (s, n), or T_IDENT. Called for every identifier, so it
 * looks at the length and first byte before comparing anything. */
static enum tok keyword(const char *s, size_t n)
{
    if (n < 2 || n > 10 || !((s[0] >= 'A' && s[0] <= 'Z') || s[0] == 't' || s[0] == 'f'))
        return T_IDENT;
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (keywords[i].len == n && keywords[i].word[0] == s[0] &&
            memcmp(keywords[i].word, s, n) == 0)
            return keywords[i].tok;
    return T_IDENT;
}

bool pat__is_keyword(const char *s, size_t n)
{
    return keyword(s, n) != T_IDENT;
}

struct token {
    enum tok t;
    size_t off; /* start in source */
    size_t len; /* bytes of source */
    bool hyphen;
    bool escaped; /* a quoted token that contains a backslash */
};

struct parser {
    const char *src;
    size_t len;
    size_t pos;
    struct token tok; /* current (lookahead) token */
    struct pat_mem *mem;
    struct mrd_err *err;
    unsigned depth;
    size_t nleaves;
    bool borrow; /* names and strings may point into src (pat_check only) */
    bool strict; /* the validator's grammar: START/STOP take t'' only */
};

static const char *tok_name(enum tok t)
{
    switch (t) {
    case T_EOF:
        return "end of pattern";
    case T_LBRACK:
        return "'['";
    case T_RBRACK:
        return "']'";
    case T_LPAREN:
        return "'('";
    case T_RPAREN:
        return "')'";
    case T_COLON:
        return "':'";
    case T_DOT:
        return "'.'";
    case T_COMMA:
        return "','";
    case T_STAR:
        return "'*'";
    case T_EQ:
    case T_NEQ:
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
        return "comparison operator";
    case T_IDENT:
        return "identifier";
    case T_STRING:
        return "string";
    case T_INT:
        return "integer";
    case T_FLOAT:
        return "float";
    case T_BOOL:
        return "boolean";
    case T_TS:
        return "timestamp";
    case T_HEX:
        return "hex literal";
    case T_BIN:
        return "binary literal";
    default:
        return "keyword";
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_b64(char c)
{
    return is_ident_char(c) && c != '_' ? true : (c == '+' || c == '/');
}

/* Length of the white space (ASCII and the Unicode spaces of the grammar's
 * WS rule, in UTF-8) at s, or 0. */
static size_t space_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    switch (s[0]) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case 0x0b:
    case 0x0c:
        return 1;
    case 0xc2:
        return n >= 2 && (s[1] == 0x85 || s[1] == 0xa0) ? 2 : 0;
    case 0xe1:
        return n >= 3 && s[1] == 0x9a && s[2] == 0x80 ? 3 : 0;
    case 0xe2:
        if (n < 3)
            return 0;
        if (s[1] == 0x80 &&
            ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
            return 3;
        return s[1] == 0x81 && s[2] == 0x9f ? 3 : 0;
    case 0xe3:
        return n >= 3 && s[1] == 0x80 && s[2] == 0x80 ? 3 : 0;
    default:
        return 0;
    }
}

/* Skips white space and comments; fails on an unterminated block comment. */
static enum mrd_code skip_space(struct parser *p)
{
    const unsigned char *s = (const unsigned char *)p->src;

    for (;;) {
        size_t k = space_len(s + p->pos, p->len - p->pos);

        if (k > 0) {
            p->pos += k;
            continue;
        }
        if (p->pos + 1 < p->len && s[p->pos] == '/' && s[p->pos + 1] == '*') {
            size_t start = p->pos;
            p->pos += 2;
            while (p->pos + 1 < p->len && !(s[p->pos] == '*' && s[p->pos + 1] == '/'))
                p->pos++;
            if (p->pos + 1 >= p->len)
                return pat__error(p->err, start, "§9", "unterminated comment");
            p->pos += 2;
            continue;
        }
        if (p->pos + 1 < p->len && s[p->pos] == '/' && s[p->pos + 1] == '/') {
            while (p->pos < p->len && s[p->pos] != '\n' && s[p->pos] != '\r')
                p->pos++;
            continue;
        }
        return MRD_OK;
    }
}

/* Scans a quoted body starting at the quote at q; returns the offset just
 * past the closing quote, or 0 when unterminated or a bad escape is met. */
static size_t scan_string(struct parser *p, size_t q, size_t *ret_bad)
{
    size_t i = q + 1;

    while (i < p->len) {
        char c = p->src[i];
        if (c == '\'')
            return i + 1;
        if (c == '\\') {
            p->tok.escaped = true;
            if (i + 1 < p->len && (p->src[i + 1] == '\'' || p->src[i + 1] == '\\')) {
                i += 2;
                continue;
            }
            *ret_bad = i;
            return 0;
        }
        i++;
    }
    *ret_bad = q;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool pat__time_fields_problem(int y, int mo, int d, int h, int mi, int se, char *why, size_t size)
{
    static const char *const month[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};

    if (why == NULL)
        size = 0;
    if (mo < 1 || mo > 12) {
        if (size > 0)
            snprintf(why, size, "month %02d does not exist", mo);
        return true;
    }
    if (d < 1 || d > days_in_month(y, mo)) {
        if (size > 0)
            snprintf(why, size, "%04d-%02d-%02d does not exist (%s %04d has %d days)", y, mo, d,
                     month[mo - 1], y, days_in_month(y, mo));
        return true;
    }
    /* Hour 24 is not RFC 3339's. Second 60 is, for a leap second, which
     * is only ever inserted as the last second of a UTC day (RFC 3339
     * §5.7, leap seconds come at 23:59:60): that one is accepted (it
     * compares as the next day's 00:00:00), any other :60 does not exist
     * (docs/pattern.md). */
    if (h > 23 || mi > 59 || se > 60 || (se == 60 && (h != 23 || mi != 59))) {
        if (size > 0)
            snprintf(why, size,
                     "the time %02d:%02d:%02d does not exist (hours 00-23, minutes and seconds "
                     "00-59; second 60 only as the leap second 23:59:60)",
                     h, mi, se);
        return true;
    }
    return false;
}

const char *pat__time_problem(const char *s, size_t n, char *why, size_t size)
{
    struct mrd_time t;

    /* Only a literal of the right shape can name a date that does not
     * exist; the others are malformed. */
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return NULL;
    for (size_t i = 0; i < 19; i++)
        if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && !is_digit(s[i]))
            return NULL;
    if (!pat__time_fields_problem(num(s, 4), num(s + 5, 2), num(s + 8, 2), num(s + 11, 2),
                                  num(s + 14, 2), num(s + 17, 2), why, size))
        return NULL;
    /* The rest must be well formed too, else it is a format error. */
    {
        char fixed[64];

        if (n >= sizeof(fixed))
            return NULL;
        memcpy(fixed, s, n);
        memcpy(fixed, "2000-01-01T00:00:00", 19);
        if (!pat__parse_time(fixed, n, &t))
            return NULL;
    }
    return why;
}

/* YYYY-MM-DDTHH:MM:SS[.frac]Z as the grammar's TimestampLiteral allows
 * (second 60 included), plus a calendar check on the day. */
bool pat__parse_time(const char *s, size_t n, struct mrd_time *ret)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    int y, mo, d, h, mi, se;
    int64_t days, era;
    unsigned yoe, doy, doe, frac = 0, digits = 0;
    size_t i;

    if (n < 20)
        return false;
    for (i = 0; i < 19; i++) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
            return false;
    }
    if (s[19] == '.') {
        i = 20;
        while (i < n && is_digit(s[i])) {
            if (digits < 9) {
                frac = frac * 10 + (unsigned)(s[i] - '0');
                digits++;
            }
            i++;
        }
        if (i == 20)
            return false;
    }
    if (i != n - 1 || s[i] != 'Z')
        return false;
    while (digits < 9) {
        frac *= 10;
        digits++;
    }
    y = num(s, 4);
    mo = num(s + 5, 2);
    d = num(s + 8, 2);
    h = num(s + 11, 2);
    mi = num(s + 14, 2);
    se = num(s + 17, 2);
    if (pat__time_fields_problem(y, mo, d, h, mi, se, NULL, 0))
        return false;
    /* days from civil (proleptic Gregorian) */
    {
        int yy = mo <= 2 ? y - 1 : y;
        era = (yy >= 0 ? yy : yy - 399) / 400;
        yoe = (unsigned)(yy - era * 400);
        doy = (unsigned)((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1);
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        days = era * 146097 + (int64_t)doe - 719468;
    }
    ret->sec = days * 86400 + h * 3600 + mi * 60 + se;
    ret->nsec = frac;
    ret->frac_digits = 0;
    return true;
}

/* Reads the next token into p->tok. */
static enum mrd_code next(struct parser *p)
{
    enum mrd_code rc = skip_space(p);
    const char *s = p->src;
    size_t start, i, bad = 0;
    char c;

    if (rc != MRD_OK)
        return rc;
    start = p->pos;
    p->tok.off = start;
    p->tok.hyphen = false;
    p->tok.escaped = false;
    if (start >= p->len) {
        p->tok.t = T_EOF;
        p->tok.len = 0;
        return MRD_OK;
    }
    c = s[start];
    i = start + 1;
    switch (c) {
    case '[':
        p->tok.t = T_LBRACK;
        break;
    case ']':
        p->tok.t = T_RBRACK;
        break;
    case '(':
        p->tok.t = T_LPAREN;
        break;
    case ')':
        p->tok.t = T_RPAREN;
        break;
    case ':':
        p->tok.t = T_COLON;
        break;
    case ',':
        p->tok.t = T_COMMA;
        break;
    case '*':
        p->tok.t = T_STAR;
        break;
    case '=':
        p->tok.t = T_EQ;
        if (i < p->len && s[i] == '=')
            i++;
        break;
    case '!':
        if (i < p->len && s[i] == '=') {
            p->tok.t = T_NEQ;
            i++;
            break;
        }
        return pat__error(p->err, start, "§9.6", "unexpected character '!'");
    case '<':
        p->tok.t = T_LT;
        if (i < p->len && s[i] == '=') {
            p->tok.t = T_LE;
            i++;
        } else if (i < p->len && s[i] == '>') {
            p->tok.t = T_NEQ;
            i++;
        }
        break;
    case '>':
        p->tok.t = T_GT;
        if (i < p->len && s[i] == '=') {
            p->tok.t = T_GE;
            i++;
        }
        break;
    case '\'':
        i = scan_string(p, start, &bad);
        if (i == 0)
            return pat__error(p->err, bad, "§9.2",
                              bad == start ? "unterminated string"
                                           : "invalid escape in string (only \\' and \\\\)");
        p->tok.t = T_STRING;
        break;
    default:
        if (c == '.' && !(i < p->len && is_digit(s[i]))) {
            p->tok.t = T_DOT;
            break;
        }
        if (is_digit(c) || c == '.' || c == '+' || c == '-') {
            size_t d0 = (c == '+' || c == '-') ? start + 1 : start;
            size_t d = d0;
            while (d < p->len && is_digit(s[d]))
                d++;
            if (d < p->len && s[d] == '.' && d + 1 < p->len && is_digit(s[d + 1])) {
                d++;
                while (d < p->len && is_digit(s[d]))
                    d++;
                p->tok.t = T_FLOAT;
                i = d;
                break;
            }
            if (d == d0)
                return pat__error(p->err, start, "§9.2", "unexpected character '%c'", c);
            /* the grammar's integers have no leading zeros: "01" is "0" "1" */
            i = s[d0] == '0' ? d0 + 1 : d;
            p->tok.t = T_INT;
            break;
        }
        if (is_ident_start(c)) {
            if ((c == 't' || c == 'h' || c == 'b') && i < p->len && s[i] == '\'') {
                size_t end = scan_string(p, i, &bad);
                if (end == 0)
                    return pat__error(p->err, start, "§9.2", "unterminated %c'' literal", c);
                p->tok.t = c == 't' ? T_TS : c == 'h' ? T_HEX : T_BIN;
                i = end;
                break;
            }
            while (i < p->len && (is_ident_char(s[i]) || s[i] == '-')) {
                if (s[i] == '-')
                    p->tok.hyphen = true;
                i++;
            }
            p->tok.t = p->tok.hyphen ? T_IDENT : keyword(s + start, i - start);
            break;
        }
        if ((unsigned char)c >= 0x80)
            return pat__error(p->err, start, "§9", "unexpected non-ASCII character");
        if (c >= 0x20 && c < 0x7f)
            return pat__error(p->err, start, "§9", "unexpected character '%c'", c);
        return pat__error(p->err, start, "§9", "unexpected control character 0x%02x",
                          (unsigned)(unsigned char)c);
    }
    p->tok.len = i - start;
    p->pos = i;
    return MRD_OK;
}

static enum mrd_code expect(struct parser *p, enum tok t, const char *what, const char *section)
{
    if (p->tok.t != t)
        return pat__error(p->err, p->tok.off, section, "expected %s, found %s", what,
                          tok_name(p->tok.t));
    return next(p);
}

/* ---- literals -------------------------------------------------------------- */

static int hexval(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

/* Decodes a quoted body (between the quotes) into a NUL-terminated copy. */
static char *unescape(struct parser *p, const char *s, size_t n, size_t *ret_len)
{
    char *d;
    size_t k = 0;

    if (p->borrow && !p->tok.escaped) {
        *ret_len = n;
        return (char *)(uintptr_t)s; /* read-only use during pat_check */
    }
    d = pat__mem_alloc(p->mem, n + 1);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        d[k++] = s[i];
    }
    d[k] = '\0';
    *ret_len = k;
    return d;
}

static enum mrd_code nomem(struct parser *p)
{
    return mrd_err_set(p->err, MRD_E_NOMEM, "pattern: out of memory");
}

/* Copies (s, n) into the pattern's memory, NUL-terminated. */
static char *copy(struct parser *p, const char *s, size_t n)
{
    char *d;

    if (p->borrow)
        return (char *)(uintptr_t)s; /* read-only use during pat_check */
    d = pat__mem_alloc(p->mem, n + 1);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static enum mrd_code lit_int(struct parser *p, const char *s, size_t n, struct pat_lit *lit)
{
    bool negative = s[0] == '-';
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    uint64_t mag = 0;

    lit->kind = PAT_LIT_INT;
    lit->text = copy(p, s + (s[0] == '+'), n - (s[0] == '+'));
    if (lit->text == NULL)
        return nomem(p);
    lit->len = n - (s[0] == '+');
    for (; i < n; i++) {
        unsigned dv = (unsigned)(s[i] - '0');
        if (mag > (UINT64_MAX - dv) / 10) {
            lit->int_overflow = true;
            break;
        }
        mag = mag * 10 + dv;
    }
    if (negative ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
        lit->int_overflow = true;
    if (!lit->int_overflow) {
        lit->i = negative ? (int64_t)(0 - mag) : (int64_t)mag;
        lit->f = (double)lit->i;
    } else {
        lit->f = strtod(lit->text, NULL);
    }
    return MRD_OK;
}

static enum mrd_code lit_hex(struct parser *p, const char *b, size_t n, struct pat_lit *lit)
{
    if (n % 2 != 0)
        return pat__error(p->err, lit->off, "§9.2", "hex literal needs an even number of digits");
    for (size_t i = 0; i < n; i++)
        if (!is_hex(b[i]))
            return pat__error(p->err, lit->off + 2 + i, "§9.2", "invalid hex digit");
    lit->bytes = pat__mem_alloc(p->mem, n / 2 + 1);
    if (lit->bytes == NULL)
        return nomem(p);
    for (size_t i = 0; i < n; i += 2)
        lit->bytes[i / 2] = (unsigned char)(hexval(b[i]) << 4 | hexval(b[i + 1]));
    lit->nbytes = n / 2;
    return MRD_OK;
}

static enum mrd_code lit_b64(struct parser *p, const char *b, size_t n, struct pat_lit *lit)
{
    size_t pad = 0, k = 0;
    uint32_t acc = 0;

    if (n == 0 || n % 4 != 0)
        return pat__error(p->err, lit->off, "§9.2",
                          "binary literal must be base64 in groups of four characters");
    if (b[n - 1] == '=')
        pad = b[n - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++)
        if (!is_b64(b[i]))
            return pat__error(p->err, lit->off + 2 + i, "§9.2", "invalid base64 character");
    lit->bytes = pat__mem_alloc(p->mem, n / 4 * 3 + 1);
    if (lit->bytes == NULL)
        return nomem(p);
    for (size_t i = 0; i < n; i++) {
        acc = acc << 6 | (i < n - pad ? (uint32_t)b64val(b[i]) : 0);
        if (i % 4 == 3) {
            lit->bytes[k++] = (unsigned char)(acc >> 16);
            lit->bytes[k++] = (unsigned char)(acc >> 8);
            lit->bytes[k++] = (unsigned char)acc;
            acc = 0;
        }
    }
    lit->nbytes = k - pad;
    return MRD_OK;
}

/* Turns the current token into a literal and advances. */
static enum mrd_code literal(struct parser *p, struct pat_lit *lit)
{
    const char *s = p->src + p->tok.off;
    size_t n = p->tok.len;
    enum mrd_code rc = MRD_OK;

    memset(lit, 0, sizeof(*lit));
    lit->off = p->tok.off;
    switch (p->tok.t) {
    case T_STRING:
        lit->kind = PAT_LIT_STRING;
        lit->text = unescape(p, s + 1, n - 2, &lit->len);
        if (lit->text == NULL)
            return nomem(p);
        break;
    case T_INT:
        rc = lit_int(p, s, n, lit);
        break;
    case T_FLOAT:
        lit->kind = PAT_LIT_FLOAT;
        lit->len = n - (s[0] == '+');
        lit->text = copy(p, s + (s[0] == '+'), lit->len);
        if (lit->text == NULL)
            return nomem(p);
        lit->f = strtod(lit->text, NULL);
        break;
    case T_BOOL:
        lit->kind = PAT_LIT_BOOL;
        lit->b = s[0] == 't';
        lit->text = lit->b ? "true" : "false";
        lit->len = n;
        break;
    case T_TS:
    case T_HEX:
    case T_BIN:
        lit->kind = p->tok.t == T_TS    ? PAT_LIT_TIMESTAMP
                    : p->tok.t == T_HEX ? PAT_LIT_HEX
                                        : PAT_LIT_BINARY;
        lit->len = n - 3;
        lit->text = copy(p, s + 2, lit->len);
        if (lit->text == NULL)
            return nomem(p);
        if (lit->kind == PAT_LIT_TIMESTAMP) {
            char why[160];

            if (!pat__parse_time(lit->text, lit->len, &lit->ts) &&
                pat__time_problem(lit->text, lit->len, why, sizeof(why)) != NULL)
                return pat__error(p->err, lit->off, "§9.2, §2.16", "timestamp literal: %s", why);
            if (!pat__parse_time(lit->text, lit->len, &lit->ts))
                return pat__error(
                    p->err, lit->off, "§9.2",
                    "invalid timestamp literal (expected t'YYYY-MM-DDTHH:MM:SS[.s]Z')");
        } else if (lit->kind == PAT_LIT_HEX) {
            rc = lit_hex(p, lit->text, lit->len, lit);
        } else {
            rc = lit_b64(p, lit->text, lit->len, lit);
        }
        break;
    default:
        return pat__error(p->err, p->tok.off, "§9.2", "expected a literal, found %s",
                          tok_name(p->tok.t));
    }
    if (rc != MRD_OK)
        return rc;
    return next(p);
}

static bool is_literal(enum tok t)
{
    return t == T_STRING || t == T_INT || t == T_FLOAT || t == T_BOOL || t == T_TS || t == T_HEX ||
           t == T_BIN;
}

/* ---- object paths ---------------------------------------------------------- */

#define PAT_MAX_STEPS 64 /* components of one object path */

static bool suffix(const struct pat_step *st, const char *sfx, size_t n)
{
    return st->key_len >= n && memcmp(st->key + st->key_len - n, sfx, n) == 0;
}

static void step_flags(struct pat_step *st)
{
    st->ref = suffix(st, "_ref", 4);
    st->refs = suffix(st, "_refs", 5);
    st->hex = suffix(st, "_hex", 4);
    st->bin = suffix(st, "_bin", 4);
    st->hashes = st->key_len == 6 && memcmp(st->key, "hashes", 6) == 0;
}

/* A key from an identifier (no '-') or a quoted string. */
static enum mrd_code key_step(struct parser *p, struct pat_step *st)
{
    st->kind = PAT_STEP_KEY;
    if (p->tok.t == T_IDENT && !p->tok.hyphen) {
        st->key = copy(p, p->src + p->tok.off, p->tok.len);
        st->key_len = p->tok.len;
    } else if (p->tok.t == T_STRING) {
        st->key = unescape(p, p->src + p->tok.off + 1, p->tok.len - 2, &st->key_len);
    } else if (p->tok.t == T_IDENT) {
        return pat__error(p->err, p->tok.off, "§9.7",
                          "property names with '-' must be quoted ('%.*s')", (int)p->tok.len,
                          p->src + p->tok.off);
    } else {
        return pat__error(p->err, p->tok.off, "§9.7",
                          "expected a property name or quoted key, found %s", tok_name(p->tok.t));
    }
    if (st->key == NULL)
        return nomem(p);
    step_flags(st);
    return next(p);
}

static enum mrd_code path(struct parser *p, struct pat_path *path)
{
    struct pat_step steps[PAT_MAX_STEPS];
    size_t n = 0;
    enum mrd_code rc;

    if (p->tok.t != T_IDENT)
        return pat__error(p->err, p->tok.off, "§9.7", "expected an object type, found %s",
                          tok_name(p->tok.t));
    path->off = p->tok.off;
    path->type = copy(p, p->src + p->tok.off, p->tok.len);
    if (path->type == NULL)
        return nomem(p);
    path->type_len = p->tok.len;
    rc = next(p);
    if (rc == MRD_OK)
        rc = expect(p, T_COLON, "':' after the object type", "§9.7");
    if (rc != MRD_OK)
        return rc;
    memset(&steps[0], 0, sizeof(steps[0]));
    rc = key_step(p, &steps[n++]);
    while (rc == MRD_OK && (p->tok.t == T_DOT || p->tok.t == T_LBRACK)) {
        if (n == PAT_MAX_STEPS)
            return pat__error(p->err, p->tok.off, "§9.7", "object path has more than %d steps",
                              PAT_MAX_STEPS);
        memset(&steps[n], 0, sizeof(steps[n]));
        if (p->tok.t == T_DOT) {
            rc = next(p);
            if (rc == MRD_OK)
                rc = key_step(p, &steps[n++]);
            continue;
        }
        rc = next(p);
        if (rc != MRD_OK)
            return rc;
        if (p->tok.t == T_STAR) {
            steps[n++].kind = PAT_STEP_STAR;
        } else if (p->tok.t == T_INT) {
            struct pat_lit l = {0};
            rc = lit_int(p, p->src + p->tok.off, p->tok.len, &l);
            if (rc != MRD_OK)
                return rc;
            if (l.int_overflow)
                return pat__error(p->err, p->tok.off, "§9.7", "list index out of range");
            steps[n].kind = PAT_STEP_INDEX;
            steps[n++].index = l.i;
        } else {
            return pat__error(p->err, p->tok.off, "§9.7", "expected a list index or '*', found %s",
                              tok_name(p->tok.t));
        }
        rc = next(p);
        if (rc == MRD_OK)
            rc = expect(p, T_RBRACK, "']' after the list index", "§9.7");
    }
    if (rc != MRD_OK)
        return rc;
    path->steps = pat__mem_alloc(p->mem, n * sizeof(*path->steps));
    if (path->steps == NULL)
        return nomem(p);
    memcpy(path->steps, steps, n * sizeof(*path->steps));
    path->nsteps = n;
    path->hashes = n >= 2 && steps[n - 2].kind == PAT_STEP_KEY && steps[n - 2].hashes &&
                   steps[n - 1].kind == PAT_STEP_KEY;
    for (size_t k = 0; k < n; k++)
        path->any_hashes |= steps[k].kind == PAT_STEP_KEY && steps[k].hashes;
    return MRD_OK;
}

/* ---- comparison expressions ------------------------------------------------ */

static enum mrd_code cmp_or(struct parser *p, struct pat_cexpr **ret);

static enum mrd_code set_literal(struct parser *p, struct pat_test *t)
{
    struct pat_lit *items = NULL, *grown;
    size_t n = 0, cap = 0;
    enum mrd_code rc = expect(p, T_LPAREN, "'(' to open the set", "§9.6");

    while (rc == MRD_OK && p->tok.t != T_RPAREN) {
        if (n > 0) {
            rc = expect(p, T_COMMA, "',' or ')' in the set", "§9.6");
            if (rc != MRD_OK)
                break;
        }
        if (!is_literal(p->tok.t))
            return pat__error(p->err, p->tok.off, "§9.6", "expected a literal in the set, found %s",
                              tok_name(p->tok.t));
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            grown = pat__mem_alloc(p->mem, cap * sizeof(*items));
            if (grown == NULL)
                return nomem(p);
            if (n > 0)
                memcpy(grown, items, n * sizeof(*items));
            items = grown;
        }
        rc = literal(p, &items[n++]);
    }
    if (rc == MRD_OK)
        rc = next(p); /* ')' */
    t->set = items;
    t->nset = n;
    return rc;
}

static enum mrd_code prop_test(struct parser *p, struct pat_cexpr **ret)
{
    struct pat_cexpr *c = pat__mem_alloc(p->mem, sizeof(*c));
    struct pat_test *t;
    enum mrd_code rc;

    if (c == NULL)
        return nomem(p);
    c->off = p->tok.off;
    if (p->tok.t == T_LPAREN) {
        if (++p->depth > PAT_MAX_DEPTH)
            return pat__error(p->err, p->tok.off, "§9", "nesting deeper than %d", PAT_MAX_DEPTH);
        c->kind = PAT_C_PAREN;
        rc = next(p);
        if (rc == MRD_OK)
            rc = cmp_or(p, &c->l);
        if (rc == MRD_OK)
            rc = expect(p, T_RPAREN, "')' or AND/OR", "§9.6");
        p->depth--;
        *ret = c;
        return rc;
    }
    t = pat__mem_alloc(p->mem, sizeof(*t));
    if (t == NULL)
        return nomem(p);
    c->kind = PAT_C_TEST;
    c->test = t;
    t->off = p->tok.off;
    if (p->tok.t == T_EXISTS) {
        t->op = PAT_OP_EXISTS;
        t->op_off = p->tok.off;
        rc = next(p);
        if (rc == MRD_OK)
            rc = path(p, &t->path);
        *ret = c;
        return rc;
    }
    rc = path(p, &t->path);
    if (rc != MRD_OK)
        return rc;
    if (p->tok.t == T_NOT) {
        t->neg = true;
        rc = next(p);
        if (rc != MRD_OK)
            return rc;
    }
    t->op_off = p->tok.off;
    switch (p->tok.t) {
    case T_EQ:
    case T_NEQ:
        t->op = p->tok.t == T_EQ ? PAT_OP_EQ : PAT_OP_NEQ;
        rc = next(p);
        if (rc == MRD_OK && !is_literal(p->tok.t))
            return pat__error(p->err, p->tok.off, "§9.6", "expected a literal, found %s",
                              tok_name(p->tok.t));
        if (rc == MRD_OK)
            rc = literal(p, &t->lit);
        break;
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
        t->op = p->tok.t == T_LT   ? PAT_OP_LT
                : p->tok.t == T_LE ? PAT_OP_LE
                : p->tok.t == T_GT ? PAT_OP_GT
                                   : PAT_OP_GE;
        rc = next(p);
        if (rc == MRD_OK && (!is_literal(p->tok.t) || p->tok.t == T_BOOL))
            return pat__error(p->err, p->tok.off, "§9.6",
                              "expected an orderable literal (not a boolean), found %s",
                              tok_name(p->tok.t));
        if (rc == MRD_OK)
            rc = literal(p, &t->lit);
        break;
    case T_IN:
        t->op = PAT_OP_IN;
        rc = next(p);
        if (rc == MRD_OK)
            rc = set_literal(p, t);
        break;
    case T_LIKE:
    case T_MATCHES:
    case T_ISSUBSET:
    case T_ISSUPERSET:
        t->op = p->tok.t == T_LIKE       ? PAT_OP_LIKE
                : p->tok.t == T_MATCHES  ? PAT_OP_MATCHES
                : p->tok.t == T_ISSUBSET ? PAT_OP_ISSUBSET
                                         : PAT_OP_ISSUPERSET;
        rc = next(p);
        if (rc == MRD_OK && p->tok.t != T_STRING)
            return pat__error(p->err, p->tok.off, "§9.6", "expected a string literal, found %s",
                              tok_name(p->tok.t));
        if (rc == MRD_OK)
            rc = literal(p, &t->lit);
        break;
    default:
        return pat__error(p->err, p->tok.off, "§9.6", "expected a comparison operator, found %s",
                          tok_name(p->tok.t));
    }
    *ret = c;
    return rc;
}

static enum mrd_code cmp_binary(struct parser *p, enum pat_cexpr_kind kind, struct pat_cexpr **l)
{
    struct pat_cexpr *c = pat__mem_alloc(p->mem, sizeof(*c));

    if (c == NULL)
        return nomem(p);
    c->kind = kind;
    c->off = p->tok.off;
    c->l = *l;
    *l = c;
    return next(p);
}

static enum mrd_code cmp_and(struct parser *p, struct pat_cexpr **ret)
{
    enum mrd_code rc = prop_test(p, ret);

    while (rc == MRD_OK && p->tok.t == T_AND) {
        rc = cmp_binary(p, PAT_C_AND, ret);
        if (rc == MRD_OK)
            rc = prop_test(p, &(*ret)->r);
    }
    return rc;
}

static enum mrd_code cmp_or(struct parser *p, struct pat_cexpr **ret)
{
    enum mrd_code rc = cmp_and(p, ret);

    while (rc == MRD_OK && p->tok.t == T_OR) {
        rc = cmp_binary(p, PAT_C_OR, ret);
        if (rc == MRD_OK)
            rc = cmp_and(p, &(*ret)->r);
    }
    return rc;
}

/* ---- observation expressions ----------------------------------------------- */

static enum mrd_code obs_followedby(struct parser *p, struct pat_oexpr **ret);

/* The timestamp after START or STOP: t'...', or in lenient mode also a
 * plain string holding a timestamp (STIX 2.0 syntax). */
static enum mrd_code stamp(struct parser *p, struct pat_lit *lit, const char *after)
{
    enum mrd_code rc;
    size_t off = p->tok.off;

    if (p->tok.t == T_TS || (p->tok.t == T_STRING && !p->strict)) {
        bool string = p->tok.t == T_STRING;
        rc = literal(p, lit);
        if (rc == MRD_OK && string && !pat__parse_time(lit->text, lit->len, &lit->ts))
            rc = pat__error(p->err, off, "§9.5.1", "invalid timestamp after %s", after);
        return rc;
    }
    return pat__error(p->err, off, "§9.5.1", "expected a timestamp t'...' after %s, found %s",
                      after, tok_name(p->tok.t));
}

static enum mrd_code qualifier(struct parser *p, struct pat_oexpr **unit)
{
    struct pat_oexpr *q = pat__mem_alloc(p->mem, sizeof(*q));
    enum tok t = p->tok.t;
    enum mrd_code rc;

    if (q == NULL)
        return nomem(p);
    q->off = p->tok.off;
    q->l = *unit;
    *unit = q;
    rc = next(p);
    if (rc != MRD_OK)
        return rc;
    if (t == T_WITHIN) {
        q->kind = PAT_O_WITHIN;
        if ((p->tok.t != T_INT && p->tok.t != T_FLOAT) || p->src[p->tok.off] == '-')
            return pat__error(p->err, p->tok.off, "§9.5.1",
                              "expected a positive number of seconds after WITHIN, found %s",
                              tok_name(p->tok.t));
        rc = literal(p, &q->q1);
        if (rc == MRD_OK)
            rc = expect(p, T_SECONDS, "SECONDS (the only unit)", "§9.5.1");
    } else if (t == T_REPEATS) {
        q->kind = PAT_O_REPEATS;
        if (p->tok.t != T_INT || p->src[p->tok.off] == '-')
            return pat__error(p->err, p->tok.off, "§9.5.1",
                              "expected a positive integer after REPEATS, found %s",
                              tok_name(p->tok.t));
        rc = literal(p, &q->q1);
        if (rc == MRD_OK)
            rc = expect(p, T_TIMES, "TIMES", "§9.5.1");
    } else {
        q->kind = PAT_O_STARTSTOP;
        rc = stamp(p, &q->q1, "START");
        if (rc == MRD_OK)
            rc = expect(p, T_STOP, "STOP", "§9.5.1");
        if (rc == MRD_OK)
            rc = stamp(p, &q->q2, "STOP");
    }
    return rc;
}

static enum mrd_code obs_unit(struct parser *p, struct pat_oexpr **ret)
{
    struct pat_oexpr *o = pat__mem_alloc(p->mem, sizeof(*o));
    enum mrd_code rc;

    if (o == NULL)
        return nomem(p);
    o->off = p->tok.off;
    if (++p->depth > PAT_MAX_DEPTH)
        return pat__error(p->err, p->tok.off, "§9", "nesting deeper than %d", PAT_MAX_DEPTH);
    if (p->tok.t == T_LBRACK) {
        o->kind = PAT_O_SIMPLE;
        o->leaf = (int)p->nleaves++;
        rc = next(p);
        if (rc == MRD_OK)
            rc = cmp_or(p, &o->cmp);
        if (rc == MRD_OK)
            rc = expect(p, T_RBRACK, "']' or AND/OR", "§9.5");
    } else if (p->tok.t == T_LPAREN) {
        o->kind = PAT_O_PAREN;
        rc = next(p);
        if (rc == MRD_OK)
            rc = obs_followedby(p, &o->l);
        if (rc == MRD_OK)
            rc = expect(p, T_RPAREN, "')' or AND/OR/FOLLOWEDBY", "§9.5");
    } else {
        return pat__error(p->err, p->tok.off, "§9.5",
                          "expected '[' or '(' to start an observation expression, found %s",
                          tok_name(p->tok.t));
    }
    p->depth--;
    while (rc == MRD_OK && (p->tok.t == T_WITHIN || p->tok.t == T_REPEATS || p->tok.t == T_START))
        rc = qualifier(p, &o);
    *ret = o;
    return rc;
}

static enum mrd_code obs_binary(struct parser *p, enum pat_oexpr_kind kind,
                                enum mrd_code (*operand)(struct parser *, struct pat_oexpr **),
                                struct pat_oexpr **l)
{
    struct pat_oexpr *o = pat__mem_alloc(p->mem, sizeof(*o));
    enum mrd_code rc;

    if (o == NULL)
        return nomem(p);
    o->kind = kind;
    o->off = p->tok.off;
    o->l = *l;
    *l = o;
    rc = next(p);
    if (rc == MRD_OK)
        rc = operand(p, &o->r);
    return rc;
}

static enum mrd_code obs_and(struct parser *p, struct pat_oexpr **ret)
{
    enum mrd_code rc = obs_unit(p, ret);

    while (rc == MRD_OK && p->tok.t == T_AND)
        rc = obs_binary(p, PAT_O_AND, obs_unit, ret);
    return rc;
}

static enum mrd_code obs_or(struct parser *p, struct pat_oexpr **ret)
{
    enum mrd_code rc = obs_and(p, ret);

    while (rc == MRD_OK && p->tok.t == T_OR)
        rc = obs_binary(p, PAT_O_OR, obs_and, ret);
    return rc;
}

static enum mrd_code obs_followedby(struct parser *p, struct pat_oexpr **ret)
{
    enum mrd_code rc = obs_or(p, ret);

    while (rc == MRD_OK && p->tok.t == T_FOLLOWEDBY)
        rc = obs_binary(p, PAT_O_FOLLOWEDBY, obs_or, ret);
    return rc;
}

/* True when (s, n) is pure ASCII, eight bytes at a time. */
static bool ascii(const char *s, size_t n)
{
    size_t i = 0;
    uint64_t acc = 0, w;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ull) == 0;
}

enum mrd_code pat__parse(const char *src, size_t len, struct pat_ast *ast, unsigned flags,
                         struct mrd_err *err)
{
    struct parser p;
    size_t bad;
    enum mrd_code rc;

    if (len > PAT_MAX_LEN)
        return mrd_err_set(err, MRD_E_TOOBIG, "pattern: longer than %zu bytes", PAT_MAX_LEN);
    if (!ascii(src, len)) {
        bad = mrd_utf8_check(src, len);
        if (bad != len)
            return pat__error(err, bad, "§9", "invalid UTF-8");
    }
    memset(&p, 0, sizeof(p));
    p.borrow = (flags & PAT_PARSE_BORROW) != 0;
    p.strict = (flags & PAT_CHECK_STRICT) != 0;
    p.src = src;
    p.len = len;
    p.mem = &ast->mem;
    p.err = err;
    rc = next(&p);
    if (rc == MRD_OK && p.tok.t == T_EOF)
        return pat__error(err, 0, "§9", "empty pattern");
    if (rc == MRD_OK)
        rc = obs_followedby(&p, &ast->root);
    if (rc == MRD_OK && p.tok.t != T_EOF)
        rc = pat__error(err, p.tok.off, "§9.5",
                        "expected AND, OR, FOLLOWEDBY, a qualifier or the end, found %s",
                        tok_name(p.tok.t));
    ast->nleaves = p.nleaves;
    return rc;
}
