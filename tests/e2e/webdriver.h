/* A real headless Chromium for e2e tests, driven through chromedriver's
 * W3C WebDriver HTTP/JSON API (Debian's chromium and chromium-driver,
 * installed by scripts/deps.sh). The browser runs --headless --no-sandbox
 * with a profile in the test dir; wd_close ends the session, stops
 * chromedriver by its pid and kills by pid whatever browser process of
 * that profile is left. Every call is bounded in time and fails the test
 * when the driver does not answer or answers with an error. */
#ifndef DROVER_TESTS_E2E_WEBDRIVER_H
#define DROVER_TESTS_E2E_WEBDRIVER_H

#include <jansson.h>
#include <stdbool.h>

struct wd;

/* chromedriver and a browser session (window width x height). */
struct wd *wd_open(int width, int height);
void wd_close(struct wd *w);

void wd_go(struct wd *w, const char *url);

/* The element matching css now (its WebDriver id, malloc'd), or NULL. */
char *wd_find(struct wd *w, const char *css);
/* The same, waiting up to timeout_ms for it; fails the test after that. */
char *wd_wait_find(struct wd *w, const char *css, int timeout_ms);
void wd_click(struct wd *w, const char *elem);
void wd_type(struct wd *w, const char *elem, const char *text);

/* Runs script (a function body: `return ...;`) in the page; its value (a
 * new reference, json null for undefined). */
json_t *wd_exec(struct wd *w, const char *script);
/* True once script returns true, polled until timeout_ms; false after. */
bool wd_wait_true(struct wd *w, const char *script, int timeout_ms);
/* The string script returns (malloc'd; "" when it is not a string). */
char *wd_exec_str(struct wd *w, const char *script);

/* A PNG of the window into path. */
void wd_screenshot(struct wd *w, const char *path);

#endif
