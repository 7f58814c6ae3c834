/*
 * The request-head check (http.h): header lines that make the message's
 * framing or its credentials ambiguous. libmicrohttpd parses the head
 * itself and is lenient: with Content-Length and Transfer-Encoding both
 * present, or two Content-Length lines, it picks one and reads the rest of
 * the bytes as the next request, which is how a request is smuggled past a
 * proxy that picked the other one. This check sees every header line as
 * received (duplicates included, names as sent) and decides before any
 * body byte is read.
 */
#include "http/http.h"

#include <string.h>

#include "core/str.h"

/* The tchar set of RFC 9110 §5.6.2: what a field name is made of. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_name(const char *s, size_t n, const char *name)
{
    return mrd_str_eq_nocase(s, n, name, strlen(name));
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* One element of a Transfer-Encoding list (RFC 9112 §6.1): a coding name,
 * perhaps with parameters, which no coding we accept has. */
static void te_element(struct http_head_check *hc, const char *s, size_t n)
{
    while (n > 0 && is_ows(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_ows(s[n - 1]))
        n--;
    if (n == 0)
        return; /* empty list elements are ignored (RFC 9110 §5.6.1) */
    hc->te_codings++;
    hc->te_last_chunked = mrd_str_eq_nocase(s, n, "chunked", 7);
    if (hc->te_last_chunked)
        hc->te_chunked++;
}

static void te_value(struct http_head_check *hc, const char *v, size_t n)
{
    size_t start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i == n || v[i] == ',') {
            te_element(hc, v + start, i - start);
            start = i + 1;
        }
    }
}

void http_head_check_init(struct http_head_check *hc)
{
    memset(hc, 0, sizeof(*hc));
}

void http_head_check_hidden(struct http_head_check *hc)
{
    hc->bad_value = true;
}

void http_head_check_field(struct http_head_check *hc, const char *name, size_t name_len,
                           const char *value, size_t value_len)
{
    while (value_len > 0 && is_ows(value[value_len - 1]))
        value_len--;
    if (name_len == 0)
        hc->bad_name = true;
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)name[i]))
            hc->bad_name = true;
    /* RFC 9110 §5.5: a field value is visible characters, SP and HTAB.
     * NUL, CR and LF MUST be rejected (or replaced); other controls are
     * invalid too, and "Bearer <token>\0junk" must never read as <token>. */
    for (size_t i = 0; i < value_len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            hc->bad_value = true;
    }
    if (is_name(name, name_len, "Content-Length")) {
        hc->content_length++;
        if (value_len == 0)
            hc->bad_length = true;
        for (size_t i = 0; i < value_len; i++)
            if (value[i] < '0' || value[i] > '9')
                hc->bad_length = true;
    } else if (is_name(name, name_len, "Transfer-Encoding")) {
        hc->transfer_encoding++;
        te_value(hc, value, value_len);
    } else if (is_name(name, name_len, "Host")) {
        hc->host++;
    } else if (is_name(name, name_len, "Authorization")) {
        hc->authorization++;
    } else if (is_name(name, name_len, "Content-Type")) {
        hc->content_type++;
    }
}

unsigned http_head_check_end(const struct http_head_check *hc, bool http10, const char **ret_why)
{
    const char *why = NULL;
    unsigned status = 400;

    if (hc->bad_name)
        why = "a header field name is empty or holds white space or a character outside "
              "the token set; no white space may precede the colon (RFC 9112 §5.1)";
    else if (hc->bad_value)
        why = "a header field value holds a control character (NUL included), or a header "
              "line is folded (RFC 9110 §5.5, RFC 9112 §5.2)";
    else if (hc->content_length > 1)
        why = "more than one Content-Length header field (RFC 9112 §6.3)";
    else if (hc->bad_length)
        why = "Content-Length is not a decimal number (RFC 9110 §8.6)";
    else if (hc->transfer_encoding > 0 && hc->content_length > 0)
        why = "both Transfer-Encoding and Content-Length (RFC 9112 §6.1)";
    else if (hc->transfer_encoding > 0 && http10)
        why = "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)";
    else if (hc->transfer_encoding > 0 && (hc->te_codings == 0 || !hc->te_last_chunked))
        why = "chunked is not the final transfer coding (RFC 9112 §6.3)";
    else if (hc->te_chunked > 1)
        why = "chunked applied more than once (RFC 9112 §7)";
    else if (hc->te_codings > 1) {
        status = 501;
        why = "only the chunked transfer coding is implemented (RFC 9112 §6.1)";
    } else if (hc->host > 1)
        why = "more than one Host header field (RFC 9112 §3.2)";
    else if (hc->authorization > 1)
        why = "more than one Authorization header field (RFC 9110 §11.6.2)";
    else if (hc->content_type > 1)
        why = "more than one Content-Type header field (RFC 9110 §8.3)";
    if (why == NULL)
        return 0;
    if (ret_why != NULL)
        *ret_why = why;
    return status;
}
