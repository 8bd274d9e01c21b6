/* End-to-end test harness: the real drover binary, real backends, real
 * sockets on loopback.
 *
 * Each test runs in a forked child with a deadline. Every process a test
 * starts is recorded in memory shared with the runner, which is a child
 * subreaper: whatever happens to the test (assertion, crash, deadline), the
 * runner kills and reaps everything it started. A drover that a test stops
 * must exit 0 and leave no sanitizer report in its log, or the test fails. */
#ifndef DROVER_TESTS_E2E_HARNESS_H
#define DROVER_TESTS_E2E_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct e2e_test {
    const char *name;
    const char *file;
    void (*fn)(void);
    int timeout_s;
    struct e2e_test *next;
};

void e2e_register(struct e2e_test *t);

#define E2E_TEST(fn_, timeout_)                                                                \
    static void fn_(void);                                                                     \
    static struct e2e_test fn_##_reg = {#fn_, __FILE__, fn_, timeout_, NULL};                 \
    __attribute__((constructor)) static void fn_##_register(void) { e2e_register(&fn_##_reg); } \
    static void fn_(void)

/* Paths given on the runner's command line. */
extern const char *e2e_drover_bin;
extern const char *e2e_backend_bin;

/* The current test's own directory (created empty for it). */
const char *e2e_dir(void);

/* Fails the test: prints file:line and the message, shows the tails of the
 * logs of the processes it started, kills them and exits the test. */
void e2e_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* The same, for ASSERT: the condition's text is printed before the message. */
void e2e_assert_failed(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

#define ASSERT(cond, ...)                                                                      \
    do {                                                                                       \
        if (!(cond))                                                                           \
            e2e_assert_failed(__FILE__, __LINE__, #cond, " " __VA_ARGS__);                     \
    } while (0)

void e2e_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A printf into a new string the test's process frees when it ends (never
 * returns NULL). */
char *e2e_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes text to dir/name and returns the full path. */
char *e2e_write_file(const char *name, const char *text);
/* Reads a whole file (NUL-terminated) or returns NULL. */
char *e2e_read_file(const char *path, size_t *len);

/* A TCP port on 127.0.0.1 nobody listens on right now. */
int e2e_free_port(void);

/* Milliseconds on the monotonic clock. */
long long e2e_now_ms(void);
void e2e_sleep_ms(int ms);

struct e2e_proc {
    pid_t pid;
    char name[32];
    char log[1024];         /* stdout and stderr of the process */
    bool exited;
    int status;             /* wait status once exited */
};

/* Starts argv (argv[0] a path) in its own process group with its output in
 * the test dir's <name>.log; extra_env is a NULL-terminated list of
 * "KEY=value" added to the environment, or NULL. */
struct e2e_proc *e2e_spawn(const char *name, char *const argv[], char *const extra_env[]);

/* Sends sig to the process group and waits up to timeout_ms for the
 * process; SIGKILL after that. Returns the wait status. */
int e2e_stop(struct e2e_proc *p, int sig, int timeout_ms);

/* True if the process has exited (reaps it). */
bool e2e_exited(struct e2e_proc *p);

/* Waits until something accepts connections on addr ("127.0.0.1:port",
 * "[::1]:port", "unix:/path"); fails the test after timeout_ms. */
void e2e_wait_listening(const char *addr, int timeout_ms, struct e2e_proc *owner);

/* A test backend (bench/backend) named name on 127.0.0.1:port. */
struct e2e_proc *e2e_backend(const char *name, int port);
/* The same on any address form. */
struct e2e_proc *e2e_backend_at(const char *name, const char *addr);

/* drover run with config text written to the test dir as name.yaml; waits
 * for wait_addr to accept. */
struct e2e_proc *e2e_drover(const char *config_text, const char *wait_addr);

/* Stops drover with SIGTERM and fails the test unless it exited 0 without
 * a sanitizer report in its log. */
void e2e_drover_stop(struct e2e_proc *p);

/* Fails the test if the process's log holds an ASan/UBSan/LSan report. */
void e2e_check_sanitizer(struct e2e_proc *p);

/* Runs argv to completion (output to the test dir's <name>.log) and returns
 * its exit code, or -1 if it was killed after timeout_ms. */
int e2e_run(const char *name, char *const argv[], int timeout_ms);

/* --- Added for the HTTP/1.1 and health tests. --- */

/* e2e_spawn with RLIMIT_NOFILE (soft and hard) set to nofile in the child. */
struct e2e_proc *e2e_spawn_nofile(const char *name, char *const argv[], char *const extra_env[],
                                  int nofile);
/* e2e_drover with RLIMIT_NOFILE (soft and hard) set to nofile. */
struct e2e_proc *e2e_drover_nofile(const char *config_text, const char *wait_addr, int nofile);

/* Runs fn(arg) in a forked child (its own process group, output to the
 * test dir's <name>.log), stopped and reaped like a spawned process. The
 * child must not call the e2e_fail family; it exits when fn returns. */
struct e2e_proc *e2e_fork(const char *name, void (*fn)(void *), void *arg);

/* A raw "backend" on 127.0.0.1:port, listening when this returns. With a
 * response, it answers each connection's first request head (up to its
 * blank line) with exactly those bytes, then keeps the connection open and
 * reads and ignores everything after (it never answers twice on one
 * connection). With response NULL it accepts and never reads (small receive
 * buffers). Each accepted connection logs a line "accept N", and what it
 * reads a line "in N: bytes" (CR and LF written as \r and \n). */
struct e2e_proc *e2e_raw_server(const char *name, int port, const void *response, size_t len);
/* Connections the raw server has accepted so far. */
int e2e_raw_server_conns(struct e2e_proc *p);

/* From /proc: resident size in KiB, CPU time (user + system) in ms, open
 * descriptors; -1 when the process is gone. */
long e2e_rss_kb(pid_t pid);
long e2e_cpu_ms(pid_t pid);
int e2e_fd_count(pid_t pid);

/* A base port for app.base_port whose first n ports of each of ntypes
 * types (base + 100 * type + slot) are all free now. */
int e2e_free_base(int ntypes, int n);

/* The process's log so far ("" when there is none yet). */
char *e2e_log_of(struct e2e_proc *p);
/* Waits until the log contains needle; fails the test after timeout_ms. */
void e2e_wait_log(struct e2e_proc *p, const char *needle, int timeout_ms);
/* Waits until the log contains a or b; returns 0 for a, 1 for b. */
int e2e_wait_log_either(struct e2e_proc *p, const char *a, const char *b, int timeout_ms);
/* The test dir's app/ with this Procfile and drover.yaml (NULL: none). */
char *e2e_app_dir(const char *procfile, const char *yaml);
/* drover run -d dir [extra_arg]; waits until wait_addr answers (unless NULL). */
struct e2e_proc *e2e_drover_in(const char *dir, const char *extra_arg, const char *wait_addr);

/* Pids of the test's own processes (descendants of the runner, orphans
 * included) whose command line starts with prefix ("sleep 3101" is the
 * sleep itself, not the "sh -c sleep 3101" around it). */
int e2e_find_procs(const char *prefix, pid_t *out, int max);
/* Pids of any processes whose command line holds needle (a path unique to
 * the test: they may have been reparented away from the test by now). */
int e2e_find_procs_naming(const char *needle, pid_t *out, int max);
/* Waits until none of them is left; false after timeout_ms. */
bool e2e_procs_gone(const char *prefix, int timeout_ms);

#endif
