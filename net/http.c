/*
 * http.c - the live feed's HTTP side: the audience page (GET /, /app.js,
 * /app.css), the host console's pages behind the token (/host...), its
 * login form and logout, and the checks the WebSocket handshake shares
 * (Origin, the host token). Service thread only.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_TOO_MANY_REQUESTS 429 /* lws 4.1 has no name for it */
#define URL_CAP 2048               /* a path and query longer than this: 414 */
#define HEADERS_CAP 8192           /* the headers lws keeps, all together; more: 431 (lws's own buffer: server.c) */

typedef enum http_method { METHOD_GET, METHOD_HEAD, METHOD_POST, METHOD_OTHER } http_method;

static http_method request_method(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
        return METHOD_GET;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0)
        return METHOD_HEAD;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
        return METHOD_POST;
    return METHOD_OTHER;   /* OPTIONS, PUT, PATCH, DELETE */
}

/* Bytes of the request's path and query. */
static size_t url_length(struct lws *wsi)
{
    static const enum lws_token_indexes uris[] = { WSI_TOKEN_GET_URI, WSI_TOKEN_HEAD_URI, WSI_TOKEN_POST_URI,
                                                   WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_PUT_URI, WSI_TOKEN_PATCH_URI,
                                                   WSI_TOKEN_DELETE_URI, WSI_TOKEN_HTTP_URI_ARGS };
    size_t n = 0;

    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        int len = lws_hdr_total_length(wsi, uris[i]);
        n += len > 0 ? (size_t)len : 0;
    }
    return n;
}

/* Bytes of every header lws kept (the ones it knows). */
static size_t headers_length(struct lws *wsi)
{
    size_t n = 0;

    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        n += len > 0 ? (size_t)len : 0;
    }
    return n;
}

/* The reason phrases lws 4.1 leaves empty ("HTTP/1.1 429 "). */
static const char *missing_reason(unsigned status)
{
    switch (status) {
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    default: return NULL;
    }
}

/*
 * Give the status line that starts at `start` its reason phrase when lws
 * wrote none (the rest of the headers move up). 0, or -1 when the buffer is full.
 */
static int fix_status_line(unsigned status, unsigned char *start, unsigned char **p, unsigned char *end)
{
    const char *reason = missing_reason(status);
    unsigned char *eol = start;
    size_t rl;

    if (!reason)
        return 0;
    while (eol + 1 < *p && !(eol[0] == '\r' && eol[1] == '\n'))
        eol++;
    if (eol + 1 >= *p || eol == start || eol[-1] != ' ')
        return 0;   /* not the status line lws writes without a reason */
    rl = strlen(reason);
    if ((size_t)(end - *p) < rl)
        return -1;
    memmove(eol + rl, eol, (size_t)(*p - eol));
    memcpy(eol, reason, rl);
    *p += rl;
    return 0;
}

/* ------------------------------------------------------------ checks */

/*
 * `origin` is exactly scheme + "://" + hostport: the scheme as browsers
 * write it (lower case, compared exactly), the host and port compared
 * without regard to case (host names have none), nothing after them.
 */
static int same_origin(const char *origin, const char *scheme, const char *hostport, size_t hostport_len)
{
    size_t sl = strlen(scheme);

    return !strncmp(origin, scheme, sl) && !strncmp(origin + sl, "://", 3) &&
           strlen(origin + sl + 3) == hostport_len && !strncasecmp(origin + sl + 3, hostport, hostport_len);
}

/* An --allow-origin entry ("scheme://host[:port]"), matched as above. */
static int allowed_entry(const char *origin, const char *entry)
{
    const char *sep = strstr(entry, "://");
    char scheme[16];

    if (!sep || (size_t)(sep - entry) >= sizeof scheme)
        return 0;
    memcpy(scheme, entry, (size_t)(sep - entry));
    scheme[sep - entry] = 0;
    return same_origin(origin, scheme, sep + 3, strlen(sep + 3));
}

/*
 * A browser's Origin must be the page's own: http:// and the Host header
 * (we serve plain HTTP), the --public-url's scheme and host (a proxy in
 * front, https:// included), or an --allow-origin entry. Requests with no
 * Origin are not from a browser page and pass: the check protects browsers.
 */
int dm_http_origin_allowed(dm_net *n, struct lws *wsi)
{
    char origin[256], host[256];

    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
        return 1;   /* not a browser: an Origin protects browsers only */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) >= (int)sizeof origin ||
        lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
        return 0;
    for (int i = 0; i < n->opts.allow_origin_count; i++)
        if (allowed_entry(origin, n->opts.allow_origins[i]))
            return 1;
    if (n->public_origin[0] && allowed_entry(origin, n->public_origin))
        return 1;
    for (int i = 0; i < n->opts.peer_count; i++)
        if (allowed_entry(origin, n->peer_origins[i]))
            return 1;   /* a page of another gateway of the screening, reconnecting here */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0 ||
        lws_hdr_total_length(wsi, WSI_TOKEN_HOST) >= (int)sizeof host ||
        lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) < 0)
        return 0;
    return same_origin(origin, "http", host, strlen(host));
}

/* A request header into buf; 0, or -1 when it is absent or does not fit (then it counts as absent). */
static int copy_header(struct lws *wsi, enum lws_token_indexes h, char *buf, size_t cap)
{
    int len = lws_hdr_total_length(wsi, h);

    if (len <= 0 || len >= (int)cap || lws_hdr_copy(wsi, buf, (int)cap, h) < 0)
        return -1;
    return 0;
}

/*
 * The Authorization header or the session cookie; never the query string.
 * sid (DM_HOST_SID_LEN + 1 bytes, or NULL) gets the session that
 * authorised the request, "" when the Bearer token did: a logout ends a
 * session, never the token.
 *
 * A Bearer token is a guess at the token like the login form's: a wrong one
 * counts against the address's budget (dm_host_login_limit), and once the
 * address is over it, *wait (when not NULL) gets the seconds to wait and
 * the token is not looked at, right or wrong, so guessing goes no faster
 * through any route. Session cookies are not guesses at the token (a
 * session id is 32 random characters) and are not counted.
 */
int dm_http_host_authorized(dm_net *n, struct lws *wsi, char *sid, unsigned *wait)
{
    char buf[1024], found[DM_HOST_SID_LEN + 1] = "", addr[DM_HOST_ADDR_LEN] = "";
    int bearer = 0, cookie = 0;

    if (wait)
        *wait = 0;
    if (!copy_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, buf, sizeof buf) && !strncmp(buf, "Bearer ", 7)) {
        double now = dm_now();
        unsigned w;
        lws_get_peer_simple(wsi, addr, sizeof addr);
        w = dm_host_login_wait(&n->login_limit, addr, now);
        if (w) {
            if (wait)
                *wait = w;
        } else if ((bearer = dm_host_auth_bearer(n->auth, buf))) {
            dm_host_login_succeeded(&n->login_limit, addr);
        } else {
            dm_host_login_failed(&n->login_limit, addr, now);
        }
    }
    if (!copy_header(wsi, WSI_TOKEN_HTTP_COOKIE, buf, sizeof buf))
        cookie = dm_host_auth_cookie_session(n->auth, buf, found);
    if (sid)
        snprintf(sid, DM_HOST_SID_LEN + 1, "%s", bearer ? "" : found);
    if ((bearer || cookie) && wait)
        *wait = 0;
    return bearer || cookie;
}

/*
 * The request has a body still to come (Content-Length above 0): lws then
 * reads it and calls LWS_CALLBACK_HTTP_BODY_COMPLETION; without one that
 * never comes, and the answer is due now.
 */
static int has_body(struct lws *wsi)
{
    char v[24];

    return !copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, v, sizeof v) && strtoll(v, NULL, 10) > 0;
}

/* ------------------------------------------------------------ responses */

/*
 * The headers every page gets: its type and length, a strict Content-Security-
 * Policy (scripts and styles only from our own files; `form_action` 'self'
 * for the host's pages, whose forms post to /host/login and /host/logout,
 * 'none' elsewhere), nosniff, a referrer policy and a cache policy. The
 * pages with forms get Referrer-Policy same-origin, not no-referrer: under
 * no-referrer a browser's form post says "Origin: null", which the Origin
 * check of login and logout must refuse. 0, or -1 when the buffer is full.
 */
static int add_page_headers(struct lws *wsi, unsigned status, const char *mime, size_t len,
                            const char *form_action, const char *cache, unsigned char **p, unsigned char *end)
{
    char csp[320];
    int n = snprintf(csp, sizeof csp,
                     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                     "connect-src 'self' ws: wss:; base-uri 'none'; form-action %s; frame-ancestors 'none'",
                     form_action);
    const char *referrer = strcmp(form_action, "'self'") ? "no-referrer" : "same-origin";
    unsigned char *start = *p;

    if (n < 0 || (size_t)n >= sizeof csp)
        return -1;
    if (lws_add_http_common_headers(wsi, status, mime, len, p, end) || fix_status_line(status, start, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                    (const unsigned char *)csp, n, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)"nosniff", 7, p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"referrer-policy:",
                                    (const unsigned char *)referrer, (int)strlen(referrer), p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)cache, (int)strlen(cache), p, end))
        return -1;
    return 0;
}

/* After the headers: the body from the writeable callback, or nothing for HEAD. */
static int send_body(struct lws *wsi, conn *c, const char *data, size_t len)
{
    if (c->head || !len)
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    c->body = data;
    c->body_len = len;
    lws_callback_on_writable(wsi);
    return 0;
}

/*
 * A console page, the login page (401) or a redirect to /host (303) after a
 * login or a logout, with set_cookie (a Set-Cookie value, or NULL).
 */
static int host_respond(struct lws *wsi, conn *c, int status, const web_file *f, const char *set_cookie)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;

    if (add_page_headers(wsi, (unsigned)status, f ? f->mime : "text/plain", f ? f->len : 0, "'self'",
                         "no-store", &p, end))
        return -1;
    if (status == HTTP_STATUS_UNAUTHORIZED &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                    (const unsigned char *)"Bearer realm=\"danmaku host\"", 27, &p, end))
        return -1;
    if (set_cookie && lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                                  (const unsigned char *)set_cookie, (int)strlen(set_cookie), &p, end))
        return -1;
    if (status == HTTP_STATUS_SEE_OTHER &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"location:", (const unsigned char *)"/host", 5, &p,
                                    end))
        return -1;
    if (lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    return send_body(wsi, c, f ? f->data : NULL, f ? f->len : 0);
}

/*
 * The session cookie's Set-Cookie value; sid NULL: the cookie expired at
 * once, with the same name and attributes so the browser drops the one it has.
 */
static void session_cookie(char *out, size_t cap, const char *sid)
{
    snprintf(out, cap, "%s=%s; HttpOnly; SameSite=Strict; Path=/host%s", DM_HOST_COOKIE, sid ? sid : "",
             sid ? "" : "; Max-Age=0");
}

/* 429 to an address that sent too many wrong tokens (form or Bearer): how long to wait, as a header and in words. */
static int host_too_many(struct lws *wsi, conn *c, unsigned wait)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;
    char secs[16];
    int len = snprintf(c->msg, sizeof c->msg, "Too many wrong tokens: try again in %u s.\n", wait);
    int slen = snprintf(secs, sizeof secs, "%u", wait);

    if (add_page_headers(wsi, HTTP_TOO_MANY_REQUESTS, "text/plain; charset=utf-8", (size_t)len, "'none'",
                         "no-store", &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:", (const unsigned char *)secs, slen,
                                    &p, end) ||
        lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    return send_body(wsi, c, c->msg, (size_t)len);
}

/*
 * A short plain-text answer of our own (403, 404...) with the headers every
 * page gets, and one more header when extra_name is set.
 */
static int respond_text(struct lws *wsi, conn *c, unsigned status, const char *text, const char *extra_name,
                        const char *extra_value)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;
    int len = snprintf(c->msg, sizeof c->msg, "%s\n", text);

    if (len < 0 || (size_t)len >= sizeof c->msg)
        return -1;
    if (add_page_headers(wsi, status, "text/plain; charset=utf-8", (size_t)len, "'none'", "no-store", &p, end) ||
        (extra_name && lws_add_http_header_by_name(wsi, (const unsigned char *)extra_name,
                                                   (const unsigned char *)extra_value, (int)strlen(extra_value),
                                                   &p, end)) ||
        (c->close_after && lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                                       (const unsigned char *)"close", 5, &p, end)) ||
        lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    return send_body(wsi, c, c->msg, (size_t)len);
}

/* ------------------------------------------------------------ login, logout */

static int forbidden(struct lws *wsi, conn *c)
{
    c->forbidden = 0;
    return respond_text(wsi, c, HTTP_STATUS_FORBIDDEN, "Forbidden: log in and out from the console's own page.",
                        NULL, NULL);
}

/*
 * A login form's body is in. An address that posted DM_HOST_LOGIN_TRIES
 * wrong tokens within the window gets 429 without the token being looked
 * at, so guessing goes no faster than the limit whatever it sends.
 */
static int host_login_done(dm_net *n, struct lws *wsi, conn *c)
{
    char sid[DM_HOST_SID_LEN + 1], addr[DM_HOST_ADDR_LEN] = "", set_cookie[128];
    double now = dm_now();
    unsigned wait;
    int ok;

    lws_get_peer_simple(wsi, addr, sizeof addr);
    wait = dm_host_login_wait(&n->login_limit, addr, now);
    ok = !wait && c->post && c->post_len <= POST_CAP && dm_host_auth_login(n->auth, c->post, c->post_len, sid);
    free(c->post);
    c->post = NULL;
    c->post_len = 0;
    if (wait)
        return host_too_many(wsi, c, wait);
    if (!ok) {
        dm_host_login_failed(&n->login_limit, addr, now);
        return host_respond(wsi, c, HTTP_STATUS_UNAUTHORIZED, &n->host_files[3], NULL);
    }
    dm_host_login_succeeded(&n->login_limit, addr);
    dm_console_end_forgotten(n);   /* the new session may have pushed out the oldest */
    session_cookie(set_cookie, sizeof set_cookie, sid);
    return host_respond(wsi, c, HTTP_STATUS_SEE_OTHER, NULL, set_cookie);
}

/* 303 to /host; the cookie expired too if the request's session was the one that ended. */
static int host_logout_done(struct lws *wsi, conn *c)
{
    char set_cookie[128];
    int ended = c->logout == 2;

    c->logout = 0;
    session_cookie(set_cookie, sizeof set_cookie, NULL);
    return host_respond(wsi, c, HTTP_STATUS_SEE_OTHER, NULL, ended ? set_cookie : NULL);
}

/*
 * POST /host/logout: the sessions its cookie names end now, consoles they
 * opened included; the Bearer token is not a session and stays valid. No
 * token is needed: without a session it only redirects.
 */
static int host_logout(dm_net *n, struct lws *wsi, conn *c)
{
    char buf[1024];

    c->logout = 1;
    if (!copy_header(wsi, WSI_TOKEN_HTTP_COOKIE, buf, sizeof buf) && dm_host_auth_logout(n->auth, buf)) {
        c->logout = 2;
        dm_console_end_forgotten(n);
    }
    if (has_body(wsi))
        return 0;   /* answered once the (ignored) body is in */
    return host_logout_done(wsi, c);
}

static int host_http(dm_net *n, struct lws *wsi, conn *c, const char *path, http_method m)
{
    web_file *login = &n->host_files[3];
    int post = m == METHOD_POST;
    int form = !strcmp(path, "/host/login") || !strcmp(path, "/host/logout");
    unsigned wait;

    if (post && (!strcmp(path, "/host/login") || !strcmp(path, "/host/logout")) && !dm_http_origin_allowed(n, wsi)) {
        /* a page elsewhere (another port of the same host included: the cookie is same-site) cannot log in or out */
        c->forbidden = 1;
        return has_body(wsi) ? 0 : forbidden(wsi, c);   /* with a body: answered once it is read */
    }
    if (!strcmp(path, "/host/login") && post) {
        if (!has_body(wsi))
            return host_login_done(n, wsi, c);   /* no token at all: a wrong one */
        c->login = 1;   /* answered once the body is in (LWS_CALLBACK_HTTP_BODY_COMPLETION) */
        return 0;
    }
    if (!strcmp(path, "/host/logout") && post)
        return host_logout(n, wsi, c);
    if (m != METHOD_GET && m != METHOD_HEAD) {
        c->close_after = 1;   /* a body may follow: it is not read as the next request */
        return respond_text(wsi, c, HTTP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed.", "allow:",
                            form ? "POST" : "GET, HEAD");
    }
    if (!dm_http_host_authorized(n, wsi, NULL, &wait))
        return wait ? host_too_many(wsi, c, wait) : host_respond(wsi, c, HTTP_STATUS_UNAUTHORIZED, login, NULL);
    if (!strcmp(path, "/host") || !strcmp(path, "/host/"))
        return host_respond(wsi, c, HTTP_STATUS_OK, &n->host_files[0], NULL);
    for (int i = 1; i < DM_HOST_FILES; i++)
        if (i != 3 && n->host_files[i].data && !strcmp(path, n->host_files[i].path))
            return host_respond(wsi, c, HTTP_STATUS_OK, &n->host_files[i], NULL);
    return respond_text(wsi, c, HTTP_STATUS_NOT_FOUND, "Not found.", NULL, NULL);
}

/* ------------------------------------------------------------ pages */

static web_file *find_file(dm_net *n, const char *path)
{
    if (!strcmp(path, "/") || !strcmp(path, "/index.html"))
        return &n->files[0];
    for (int i = 1; i < DM_WEB_FILES; i++)
        if (!strcmp(path, n->files[i].path))
            return &n->files[i];
    return NULL;
}

static int serve_file(dm_net *n, struct lws *wsi, conn *c, const char *path)
{
    unsigned char headers[LWS_PRE + 2048], *p = headers + LWS_PRE, *end = headers + sizeof headers - 1;
    web_file *f = find_file(n, path);

    if (!f)
        return respond_text(wsi, c, HTTP_STATUS_NOT_FOUND, "Not found.", NULL, NULL);
    if (add_page_headers(wsi, HTTP_STATUS_OK, f->mime, f->len, "'none'", "no-cache", &p, end) ||
        lws_finalize_write_http_header(wsi, headers + LWS_PRE, &p, end))
        return -1;
    return send_body(wsi, c, f->data, f->len);
}

static int is_host_path(const char *path)
{
    return !strcmp(path, "/host") || !strncmp(path, "/host/", 6);
}

/*
 * A request's shape before its path: a path and query over URL_CAP (414),
 * headers over HEADERS_CAP (431), two Content-Length headers (400: the
 * body's length would be ambiguous) are answered and the connection closed.
 * NULL when it is fine, else the status and sentence in *status.
 */
static const char *bad_request_shape(struct lws *wsi, unsigned *status)
{
    if (url_length(wsi) > URL_CAP) {
        *status = HTTP_STATUS_REQ_URI_TOO_LONG;
        return "URI too long.";
    }
    if (headers_length(wsi) > HEADERS_CAP) {
        *status = 431;
        return "Request header fields too large.";
    }
    if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, 1) > 0) {
        *status = HTTP_STATUS_BAD_REQUEST;
        return "Bad request: more than one Content-Length.";
    }
    return NULL;
}

int dm_http_request(dm_net *n, struct lws *wsi, conn *c, const char *path)
{
    http_method m = request_method(wsi);
    unsigned status;
    const char *bad = bad_request_shape(wsi, &status);

    c->head = m == METHOD_HEAD;
    if (bad) {
        c->close_after = 1;
        return respond_text(wsi, c, status, bad, NULL, NULL);
    }
    if (is_host_path(path))
        return host_http(n, wsi, c, path, m);
    if (m != METHOD_GET && m != METHOD_HEAD) {
        c->close_after = 1;   /* a body may follow: it is not read as the next request */
        return respond_text(wsi, c, HTTP_STATUS_METHOD_NOT_ALLOWED, "Method not allowed: the page answers GET and HEAD.",
                            "allow:", "GET, HEAD");
    }
    return serve_file(n, wsi, c, path);
}

/*
 * Answer a WebSocket handshake that is refused (the filter callback, which
 * then returns 1 and lws closes): status, the page headers, one more
 * header when extra_name is set, and a short text, written at once.
 */
int dm_http_refuse_now(struct lws *wsi, unsigned status, const char *text, const char *extra_name,
                       const char *extra_value)
{
    unsigned char buf[LWS_PRE + 2048], *p = buf + LWS_PRE, *end = buf + sizeof buf - 1;
    size_t len = strlen(text);

    if (add_page_headers(wsi, status, "text/plain; charset=utf-8", len, "'none'", "no-store", &p, end) ||
        (extra_name && lws_add_http_header_by_name(wsi, (const unsigned char *)extra_name,
                                                   (const unsigned char *)extra_value, (int)strlen(extra_value),
                                                   &p, end)) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:", (const unsigned char *)"close", 5,
                                    &p, end) ||
        lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < len)
        return -1;
    memcpy(p, text, len);
    p += len;
    /* a WebSocket handshake is HTTP/1.1; at this stage lws writes 1.0 */
    if (!memcmp(buf + LWS_PRE, "HTTP/1.0 ", 9))
        buf[LWS_PRE + 7] = '1';
    return lws_write(wsi, buf + LWS_PRE, (size_t)(p - (buf + LWS_PRE)), LWS_WRITE_HTTP_HEADERS) < 0 ? -1 : 0;
}

/* The handshake's own checks: the WebSocket request's shape as for any request. */
int dm_http_refuse_shape(struct lws *wsi)
{
    unsigned status;
    const char *bad = bad_request_shape(wsi, &status);

    if (!bad)
        return 0;
    dm_http_refuse_now(wsi, status, bad, NULL, NULL);
    return 1;
}

int dm_http_body(dm_net *n, conn *c, const void *in, size_t len)
{
    (void)n;
    if (!c->login)
        return 0;
    if (!c->post)
        c->post = malloc(POST_CAP + 1);
    if (!c->post)
        return -1;
    if (len > POST_CAP - (c->post_len < POST_CAP ? c->post_len : POST_CAP)) {
        c->post_len = POST_CAP + 1;   /* too big to be a token: refused at completion */
        return 0;
    }
    memcpy(c->post + c->post_len, in, len);
    c->post_len += len;
    return 0;
}

int dm_http_body_done(dm_net *n, struct lws *wsi, conn *c)
{
    if (c->forbidden)
        return forbidden(wsi, c);
    if (c->logout)
        return host_logout_done(wsi, c);
    if (!c->login)
        return 0;
    c->login = 0;
    /* it frees the body: completing the transaction may free c itself */
    return host_login_done(n, wsi, c);
}

int dm_http_writeable(struct lws *wsi, conn *c)
{
    unsigned char *buf;
    int w;

    if (!c->body)
        return 0;
    buf = malloc(LWS_PRE + c->body_len);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, c->body, c->body_len);
    w = lws_write(wsi, buf + LWS_PRE, c->body_len, LWS_WRITE_HTTP_FINAL);
    free(buf);
    c->body = NULL;
    if (w < 0 || c->close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
