/* The dashboard's three answers: see dashboard.h. */
#include "control/dashboard.h"

#include <string.h>

#include "control/internal.h"

const char dashboard_headers[] =
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n";

static const struct asset {
    const char *path;
    const char *type;
    const unsigned char *data;
    const size_t *len;
} assets[] = {
    {"/", "text/html; charset=utf-8", dashboard_html, &dashboard_html_len},
    {"/dashboard.css", "text/css; charset=utf-8", dashboard_css, &dashboard_css_len},
    {"/dashboard.js", "text/javascript; charset=utf-8", dashboard_js, &dashboard_js_len},
};

void dashboard_get(void *ctx, const struct admin_request *req, struct admin_answer *ans)
{
    struct control *ctl = ctx;

    if (!ctl->router.cref->conf->admin.dashboard) {
        admin_error(ans, 404, "the dashboard is off (admin.dashboard: false)");
        return;
    }
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
        if (strlen(assets[i].path) != req->path_len ||
            memcmp(assets[i].path, req->path, req->path_len) != 0)
            continue;
        sbuf_put(&ans->body, (const char *)assets[i].data, *assets[i].len);
        ans->status = 200;
        ans->content_type = assets[i].type;
        ans->headers = dashboard_headers;
        return;
    }
    admin_error(ans, 404, "no such endpoint");
}
