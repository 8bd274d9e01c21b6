/* The dashboard (SPEC "Operating it"): GET / on the admin listener serves
 * one page built into drover. Its sources are real files in
 * control/dashboard/ (index.html, dashboard.css, dashboard.js), embedded at
 * build time by scripts/embed.sh; the page then talks to the admin API
 * like any other client (GET /status every second, GET /logs?follow=1 as
 * a stream, the POST actions), sending the token it asks for as a bearer
 * header.
 *
 *   GET /               the page (text/html)
 *   GET /dashboard.css  its style
 *   GET /dashboard.js   its script
 *
 * No token is needed for these three (they hold nothing but the page);
 * every call the page makes needs it like any other. Each answer carries a
 * Content-Security-Policy that allows only the page's own script and style
 * and requests to its own origin (no inline script, no eval, no frames,
 * no form posts), X-Content-Type-Options: nosniff, Referrer-Policy:
 * no-referrer and X-Frame-Options: DENY. With admin.dashboard false they
 * are 404. */
#ifndef DROVER_CONTROL_DASHBOARD_H
#define DROVER_CONTROL_DASHBOARD_H

#include <stddef.h>

#include "control/admin.h"

/* The embedded sources (the generated dashboard_assets.c). */
extern const unsigned char dashboard_html[], dashboard_css[], dashboard_js[];
extern const size_t dashboard_html_len, dashboard_css_len, dashboard_js_len;

/* The headers every dashboard answer has, each line ending in CRLF. */
extern const char dashboard_headers[];

/* The handler of the three paths above (ctx: struct control). */
void dashboard_get(void *ctx, const struct admin_request *req, struct admin_answer *ans);

#endif
