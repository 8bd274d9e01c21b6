/* The e2e runner: registry, per-test child processes, process control. */
#include "tests/e2e/harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 256

const char *e2e_drover_bin;
const char *e2e_backend_bin;

static struct e2e_test *tests, **tests_tail = &tests;
static char base_dir[256];
static char test_dir[512];

/* Pids a test started, shared with the runner so it can clean up after a
 * test that died. */
struct shared_pids {
    int n;
    pid_t pid[MAX_PROCS];
};
static struct shared_pids *shared;

/* The test child's own view, for logs on failure. */
static struct e2e_proc *procs[MAX_PROCS];
static int nprocs;

void e2e_register(struct e2e_test *t)
{
    *tests_tail = t;
    tests_tail = &t->next;
}

const char *e2e_dir(void)
{
    return test_dir;
}

void e2e_log(const char *fmt, ...)
{
    va_list ap;

    printf("    ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

char *e2e_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fprintf(stderr, "out of memory\n");
        _exit(3);
    }
    return s;
}

long long e2e_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void e2e_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

char *e2e_write_file(const char *name, const char *text)
{
    char *path = e2e_fmt("%s/%s", test_dir, name);
    FILE *f = fopen(path, "w");

    if (f == NULL)
        e2e_fail(__FILE__, __LINE__, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return path;
}

char *e2e_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL)
        return NULL;
    do {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap + 1);
            if (buf == NULL)
                _exit(3);
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

int e2e_free_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        e2e_fail(__FILE__, __LINE__, "no free port: %s", strerror(errno));
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

static void kill_all(int sig)
{
    for (int i = 0; i < shared->n; i++)
        if (shared->pid[i] > 0)
            kill(-shared->pid[i], sig);
}

/* The last lines of a log, indented, so a CI log shows why a test failed. */
static void show_tail(const char *label, const char *path)
{
    size_t len;
    char *text = e2e_read_file(path, &len);
    size_t start = len;
    int lines = 0;

    if (text == NULL)
        return;
    while (start > 0 && lines <= 15) {
        start--;
        if (text[start] == '\n' && start + 1 < len)
            lines++;
    }
    if (lines > 15)
        start++;
    printf("    --- last lines of %s (%s)\n", label, path);
    for (char *line = strtok(text + start, "\n"); line != NULL; line = strtok(NULL, "\n"))
        printf("    | %.300s\n", line);
    free(text);
}

static void fail_end(void) __attribute__((noreturn));

void e2e_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("    FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fail_end();
}

void e2e_assert_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;

    printf("    FAIL %s:%d: ASSERT(%s) ", file, line, cond);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fail_end();
}

static void fail_end(void)
{
    printf("\n");
    for (int i = 0; i < nprocs; i++)
        show_tail(procs[i]->name, procs[i]->log);
    fflush(stdout);
    kill_all(SIGKILL);
    _exit(1);
}

static struct e2e_proc *spawn_limited(const char *name, char *const argv[],
                                       char *const extra_env[], int nofile);

struct e2e_proc *e2e_spawn(const char *name, char *const argv[], char *const extra_env[])
{
    return spawn_limited(name, argv, extra_env, 0);
}

struct e2e_proc *e2e_spawn_nofile(const char *name, char *const argv[], char *const extra_env[],
                                  int nofile)
{
    return spawn_limited(name, argv, extra_env, nofile);
}

/* Forks one of the test's processes. In the child (p->pid == 0) it has its
 * own process group, dies with the test and writes to its log; in the
 * parent it is registered, so it is killed and reaped whatever happens. */
static struct e2e_proc *fork_proc(const char *name)
{
    struct e2e_proc *p = calloc(1, sizeof(*p));
    pid_t parent = getpid();
    int fd;

    if (p == NULL || nprocs == MAX_PROCS || shared->n == MAX_PROCS)
        e2e_fail(__FILE__, __LINE__, "too many processes");
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->log, sizeof(p->log), "%s/%s.log", test_dir, name);
    fflush(stdout);
    p->pid = fork();
    if (p->pid < 0)
        e2e_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (p->pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        return p;
    }
    setpgid(p->pid, p->pid);
    shared->pid[shared->n++] = p->pid;
    procs[nprocs++] = p;
    return p;
}

/* e2e_spawn; nofile > 0 sets RLIMIT_NOFILE (soft and hard) in the child. */
static struct e2e_proc *spawn_limited(const char *name, char *const argv[],
                                       char *const extra_env[], int nofile)
{
    struct e2e_proc *p = fork_proc(name);
    int fd;

    if (p->pid == 0) {
        fd = open("/dev/null", O_RDONLY);
        if (fd >= 0)
            dup2(fd, STDIN_FILENO);
        for (int i = 0; extra_env != NULL && extra_env[i] != NULL; i++)
            putenv(extra_env[i]);
        signal(SIGPIPE, SIG_DFL);
        if (nofile > 0) {
            struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};

            if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
                fprintf(stderr, "setrlimit(RLIMIT_NOFILE, %d): %s\n", nofile, strerror(errno));
                _exit(127);
            }
        }
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return p;
}

bool e2e_exited(struct e2e_proc *p)
{
    if (!p->exited && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
        p->exited = true;
    return p->exited;
}

int e2e_stop(struct e2e_proc *p, int sig, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;

    if (!e2e_exited(p))
        kill(-p->pid, sig);
    while (!e2e_exited(p)) {
        if (e2e_now_ms() > deadline) {
            kill(-p->pid, SIGKILL);
            waitpid(p->pid, &p->status, 0);
            p->exited = true;
            e2e_log("%s did not stop within %dms after signal %d: killed", p->name, timeout_ms,
                    sig);
            break;
        }
        e2e_sleep_ms(5);
    }
    return p->status;
}

static int connect_addr(const char *addr)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    memset(&ss, 0, sizeof(ss));
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

        sun->sun_family = AF_UNIX;
        snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", addr + 5);
        len = sizeof(*sun);
    } else if (addr[0] == '[') {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        char host[64];
        const char *close = strchr(addr, ']');

        if (close == NULL)
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(close - addr - 1), addr + 1);
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, host, &s6->sin6_addr);
        s6->sin6_port = htons((uint16_t)atoi(close + 2));
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        char host[64];
        const char *colon = strrchr(addr, ':');

        if (colon == NULL)
            return -1;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, host, &s4->sin_addr);
        s4->sin_port = htons((uint16_t)atoi(colon + 1));
        len = sizeof(*s4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void e2e_wait_listening(const char *addr, int timeout_ms, struct e2e_proc *owner)
{
    long long deadline = e2e_now_ms() + timeout_ms;

    for (;;) {
        int fd = connect_addr(addr);

        if (fd >= 0) {
            close(fd);
            return;
        }
        if (owner != NULL && e2e_exited(owner))
            e2e_fail(__FILE__, __LINE__, "%s exited (status %d) before listening on %s",
                     owner->name, owner->status, addr);
        if (e2e_now_ms() > deadline)
            e2e_fail(__FILE__, __LINE__, "nothing listening on %s after %dms", addr, timeout_ms);
        e2e_sleep_ms(5);
    }
}

struct e2e_proc *e2e_backend_at(const char *name, const char *addr)
{
    char *argv[] = {(char *)e2e_backend_bin, "-q", "-l", (char *)addr, "-n", (char *)name, NULL};
    struct e2e_proc *p = e2e_spawn(name, argv, NULL);

    e2e_wait_listening(addr, 5000, p);
    return p;
}

struct e2e_proc *e2e_backend(const char *name, int port)
{
    return e2e_backend_at(name, e2e_fmt("127.0.0.1:%d", port));
}

static struct e2e_proc *drover_limited(const char *config_text, const char *wait_addr,
                                       int nofile);

struct e2e_proc *e2e_drover(const char *config_text, const char *wait_addr)
{
    return drover_limited(config_text, wait_addr, 0);
}

struct e2e_proc *e2e_drover_nofile(const char *config_text, const char *wait_addr, int nofile)
{
    return drover_limited(config_text, wait_addr, nofile);
}

static struct e2e_proc *drover_limited(const char *config_text, const char *wait_addr,
                                       int nofile)
{
    static int n;
    char *file = e2e_write_file(e2e_fmt("drover%d.yaml", n), config_text);
    char *argv[] = {(char *)e2e_drover_bin, "run", "-c", file, NULL};
    struct e2e_proc *p = spawn_limited(e2e_fmt("drover%d", n), argv, NULL, nofile);

    n++;
    e2e_wait_listening(wait_addr, 10000, p);
    return p;
}

void e2e_check_sanitizer(struct e2e_proc *p)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "runtime error:", "WARNING: ThreadSanitizer"};
    char *text = e2e_read_file(p->log, NULL);

    if (text == NULL)
        return;
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (strstr(text, marks[i]) != NULL)
            e2e_fail(__FILE__, __LINE__, "%s: sanitizer report in %s", p->name, p->log);
    free(text);
}

void e2e_drover_stop(struct e2e_proc *p)
{
    int status = e2e_stop(p, SIGTERM, 15000);

    e2e_check_sanitizer(p);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "%s should exit 0 on SIGTERM (wait status %#x)", p->name, status);
}

int e2e_run(const char *name, char *const argv[], int timeout_ms)
{
    struct e2e_proc *p = e2e_spawn(name, argv, NULL);
    long long deadline = e2e_now_ms() + timeout_ms;

    while (!e2e_exited(p)) {
        if (e2e_now_ms() > deadline) {
            e2e_stop(p, SIGKILL, 1000);
            return -1;
        }
        e2e_sleep_ms(5);
    }
    e2e_check_sanitizer(p);
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

struct e2e_proc *e2e_fork(const char *name, void (*fn)(void *), void *arg)
{
    struct e2e_proc *p = fork_proc(name);

    if (p->pid == 0) {
        signal(SIGALRM, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);
        fn(arg);
        fflush(stdout);
        _exit(0);
    }
    return p;
}

struct raw_server {
    int lfd;
    const char *resp;
    size_t len;
};

#define RAW_MAX_CONNS 128

/* The raw server's loop: see e2e_raw_server. Never returns. */
static void raw_server_main(void *arg)
{
    struct raw_server *rs = arg;
    struct pollfd pfd[RAW_MAX_CONNS + 1];
    int matched[RAW_MAX_CONNS + 1];
    bool answered[RAW_MAX_CONNS + 1];
    int nconn = 0, accepted = 0;
    char buf[65536];

    for (;;) {
        int n = 1;

        pfd[0].fd = rs->lfd;
        pfd[0].events = nconn < RAW_MAX_CONNS ? POLLIN : 0;
        for (int i = 1; i <= nconn; i++) {
            /* Holding: never read, so the peer's sends fill the buffers. */
            pfd[i].events = rs->resp != NULL ? POLLIN : 0;
            n++;
        }
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            printf("poll: %s\n", strerror(errno));
            _exit(1);
        }
        for (int i = 1; i <= nconn; i++) {
            ssize_t r;

            if (pfd[i].revents == 0)
                continue;
            if (rs->resp == NULL) {
                if (pfd[i].revents & (POLLERR | POLLHUP))
                    goto drop;
                continue;
            }
            r = read(pfd[i].fd, buf, sizeof(buf));
            if (r <= 0)
                goto drop;
            /* What arrived, CR and LF spelled out, for tests to check. */
            printf("in %d: ", i);
            for (ssize_t k = 0; k < r; k++)
                fputs(buf[k] == '\r' ? "\\r" : buf[k] == '\n' ? "\\n" : (char[]){buf[k], 0}, stdout);
            putchar('\n');
            for (ssize_t k = 0; k < r && !answered[i]; k++) {
                static const char end[] = "\r\n\r\n";

                matched[i] = buf[k] == end[matched[i]] ? matched[i] + 1 : (buf[k] == '\r');
                if (matched[i] == 4) {
                    size_t off = 0;

                    answered[i] = true;
                    printf("answer %d\n", i);
                    while (off < rs->len) {
                        ssize_t w = write(pfd[i].fd, rs->resp + off, rs->len - off);

                        if (w <= 0)
                            break;
                        off += (size_t)w;
                    }
                }
            }
            continue;
        drop:
            close(pfd[i].fd);
            pfd[i] = pfd[nconn];
            matched[i] = matched[nconn];
            answered[i] = answered[nconn];
            nconn--;
            i--;
        }
        if (pfd[0].revents & POLLIN) {
            int fd = accept4(rs->lfd, NULL, NULL, SOCK_CLOEXEC);

            if (fd >= 0) {
                nconn++;
                pfd[nconn].fd = fd;
                pfd[nconn].revents = 0;
                matched[nconn] = 0;
                answered[nconn] = false;
                printf("accept %d\n", ++accepted);
            }
        }
    }
}

struct e2e_proc *e2e_raw_server(const char *name, int port, const void *response, size_t len)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct raw_server rs = {-1, response, len};
    struct e2e_proc *p;
    int one = 1, small = 16384;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    rs.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rs.lfd < 0)
        e2e_fail(__FILE__, __LINE__, "socket: %s", strerror(errno));
    setsockopt(rs.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (response == NULL)
        setsockopt(rs.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    if (bind(rs.lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(rs.lfd, 128) < 0)
        e2e_fail(__FILE__, __LINE__, "raw server on port %d: %s", port, strerror(errno));
    p = e2e_fork(name, raw_server_main, &rs);
    close(rs.lfd);
    return p;
}

int e2e_raw_server_conns(struct e2e_proc *p)
{
    char *text = e2e_read_file(p->log, NULL);
    int n = 0;

    for (char *s = text; s != NULL && (s = strstr(s, "accept ")) != NULL; s++)
        n++;
    free(text);
    return n;
}

long e2e_rss_kb(pid_t pid)
{
    char *text = e2e_read_file(e2e_fmt("/proc/%d/status", (int)pid), NULL);
    char *line = text != NULL ? strstr(text, "\nVmRSS:") : NULL;
    long kb = line != NULL ? strtol(line + 7, NULL, 10) : -1;

    free(text);
    return kb;
}

long e2e_cpu_ms(pid_t pid)
{
    char *text = e2e_read_file(e2e_fmt("/proc/%d/stat", (int)pid), NULL);
    char *p = text != NULL ? strrchr(text, ')') : NULL;
    unsigned long long utime = 0, stime = 0;
    long ticks = sysconf(_SC_CLK_TCK);

    /* After "pid (comm)": state is field 3, utime 14, stime 15. */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &utime, &stime) != 2) {
        free(text);
        return -1;
    }
    free(text);
    return (long)((utime + stime) * 1000ULL / (unsigned long long)(ticks > 0 ? ticks : 100));
}

int e2e_fd_count(pid_t pid)
{
    DIR *d = opendir(e2e_fmt("/proc/%d/fd", (int)pid));
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void on_deadline(int sig)
{
    static const char msg[] = "    FAIL: test deadline passed\n";

    (void)sig;
    if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
    }
    kill_all(SIGKILL);
    _exit(2);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Runs one test in a child; returns 0 when it passed. */
static int run_one(struct e2e_test *t)
{
    long long start = e2e_now_ms();
    int status = 0;
    pid_t pid;

    snprintf(test_dir, sizeof(test_dir), "%s/%s", base_dir, t->name);
    mkdir(test_dir, 0755);
    shared->n = 0;
    printf("--- %s\n", t->name);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        signal(SIGALRM, on_deadline);
        alarm((unsigned)t->timeout_s);
        t->fn();
        fflush(stdout);
        kill_all(SIGKILL);
        _exit(0);
    }
    /* The child has its own alarm; this bound only covers a child stuck
     * with signals blocked. */
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (e2e_now_ms() - start > (t->timeout_s + 10) * 1000LL) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        e2e_sleep_ms(10);
    }
    kill_all(SIGKILL);
    /* Reap whatever was orphaned to us (we are a subreaper). */
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok   %s (%.1fs)\n", t->name, (double)(e2e_now_ms() - start) / 1000.0);
        nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
    }
    printf("FAIL %s (%.1fs) — files kept in %s\n", t->name,
           (double)(e2e_now_ms() - start) / 1000.0, test_dir);
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: e2e --drover PATH --backend PATH [--list] [FILTER...]\n");
    exit(2);
}

static bool selected(const struct e2e_test *t, int nfilters, char **filters)
{
    if (nfilters == 0)
        return true;
    for (int i = 0; i < nfilters; i++)
        if (strstr(t->name, filters[i]) != NULL || strstr(t->file, filters[i]) != NULL)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"drover", required_argument, NULL, 'd'},
        {"backend", required_argument, NULL, 'b'},
        {"list", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    int passed = 0, failed = 0, ch;
    bool list = false;
    char failures[4096] = "";
    size_t flen = 0;

    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            e2e_drover_bin = realpath(optarg, NULL);
            break;
        case 'b':
            e2e_backend_bin = realpath(optarg, NULL);
            break;
        case 'l':
            list = true;
            break;
        default:
            usage();
        }
    }
    if (list) {
        for (struct e2e_test *t = tests; t != NULL; t = t->next)
            printf("%s\n", t->name);
        return 0;
    }
    if (e2e_drover_bin == NULL || e2e_backend_bin == NULL)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED)
        return 3;
    snprintf(base_dir, sizeof(base_dir), "/tmp/drover-e2e.XXXXXX");
    if (mkdtemp(base_dir) == NULL) {
        perror("mkdtemp");
        return 3;
    }
    for (struct e2e_test *t = tests; t != NULL; t = t->next) {
        if (!selected(t, argc - optind, argv + optind))
            continue;
        if (run_one(t) == 0) {
            passed++;
        } else {
            failed++;
            if (flen < sizeof(failures))
                flen += (size_t)snprintf(failures + flen, sizeof(failures) - flen, " %s", t->name);
        }
    }
    if (failed == 0)
        nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else
        printf("failed:%s\n", failures);
    printf("%d passed, %d failed\n", passed, failed);
    if (passed + failed == 0) {
        /* A filter that matches nothing proves nothing. */
        fprintf(stderr, "e2e: no test matches the filter\n");
        return 1;
    }
    return failed == 0 ? 0 : 1;
}

char *e2e_log_of(struct e2e_proc *p)
{
    char *text = e2e_read_file(p->log, NULL);

    return text != NULL ? text : e2e_fmt("%s", "");
}

/* Waits until the process's log contains needle. */
void e2e_wait_log(struct e2e_proc *p, const char *needle, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;

    for (;;) {
        char *text = e2e_log_of(p);
        bool found = strstr(text, needle) != NULL;

        free(text);
        if (found)
            return;
        if (e2e_now_ms() > deadline)
            e2e_fail(__FILE__, __LINE__, "no \"%s\" in %s's log after %dms", needle, p->name,
                     timeout_ms);
        e2e_sleep_ms(20);
    }
}

/* Waits until the log contains one of two needles; returns which (0, 1). */
int e2e_wait_log_either(struct e2e_proc *p, const char *a, const char *b, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;

    for (;;) {
        char *text = e2e_log_of(p);
        int which = strstr(text, a) != NULL ? 0 : strstr(text, b) != NULL ? 1 : -1;

        free(text);
        if (which >= 0)
            return which;
        if (e2e_now_ms() > deadline)
            e2e_fail(__FILE__, __LINE__, "neither \"%s\" nor \"%s\" in %s's log after %dms", a,
                     b, p->name, timeout_ms);
        e2e_sleep_ms(20);
    }
}

/* An app directory with this Procfile and drover.yaml; returns its path. */
char *e2e_app_dir(const char *procfile, const char *yaml)
{
    char *dir = e2e_fmt("%s/app", e2e_dir());

    mkdir(dir, 0755);
    if (procfile != NULL)
        e2e_write_file("app/Procfile", procfile);
    if (yaml != NULL)
        e2e_write_file("app/drover.yaml", yaml);
    return dir;
}

/* drover run -d dir; waits until addr answers (nothing when NULL). */
struct e2e_proc *e2e_drover_in(const char *dir, const char *extra_arg, const char *wait_addr)
{
    static int n;
    char *argv[] = {(char *)e2e_drover_bin, "run", "-d", (char *)dir, (char *)extra_arg, NULL};
    struct e2e_proc *p = e2e_spawn(e2e_fmt("drover%d", n++), argv, NULL);

    if (wait_addr != NULL)
        e2e_wait_listening(wait_addr, 10000, p);
    return p;
}

static bool port_free(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    close(fd);
    return ok;
}

/* A base port for app.base_port whose first n ports of each of ntypes
 * types (base + 100 * type + slot) are all free. */
int e2e_free_base(int ntypes, int n)
{
    for (int tries = 0; tries < 200; tries++) {
        /* Below the kernel's ephemeral range (32768+), so no outgoing
         * connection's local port can take an instance's port. */
        int base = 10000 + (int)((getpid() * 7919 + tries * 1013) % 22000);
        bool ok = true;

        for (int t = 0; t < ntypes && ok; t++)
            for (int i = 0; i < n && ok; i++)
                ok = port_free(base + 100 * t + i);
        if (ok)
            return base;
    }
    e2e_fail(__FILE__, __LINE__, "no free port range");
}

/* True when pid descends from the runner. Everything a test starts does,
 * orphans included (the runner is a subreaper); other suites running on
 * the same machine do not. */
static bool ours(pid_t pid)
{
    pid_t runner = getppid();

    for (int depth = 0; pid > 1 && depth < 64; depth++) {
        char path[64], buf[512];
        const char *p;
        FILE *f;
        int ppid;

        if (pid == runner)
            return true;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "r");
        if (f == NULL)
            return false;
        buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
        fclose(f);
        p = strrchr(buf, ')');
        if (p == NULL || sscanf(p + 2, "%*c %d", &ppid) != 1)
            return false;
        pid = (pid_t)ppid;
    }
    return false;
}

/* Pids of the processes whose command line (NULs as spaces) match says
 * yes to, at most max. */
static int scan_procs(bool (*match)(pid_t pid, const char *cmdline, const char *arg), const char *arg,
                      pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    while (d != NULL && (de = readdir(d)) != NULL && n < max) {
        char path[300], buf[8192];
        size_t len;
        FILE *f;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        for (size_t i = 0; i < len; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[len] = '\0';
        if (match((pid_t)atoi(de->d_name), buf, arg))
            out[n++] = (pid_t)atoi(de->d_name);
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static bool ours_with_prefix(pid_t pid, const char *cmdline, const char *prefix)
{
    return strncmp(cmdline, prefix, strlen(prefix)) == 0 && ours(pid);
}

static bool naming(pid_t pid, const char *cmdline, const char *needle)
{
    (void)pid;
    return strstr(cmdline, needle) != NULL;
}

/* Pids of our processes whose command line starts with prefix ("sleep
 * 3101" is the sleep itself, not the "sh -c sleep 3101" around it). */
int e2e_find_procs(const char *prefix, pid_t *out, int max)
{
    return scan_procs(ours_with_prefix, prefix, out, max);
}

int e2e_find_procs_naming(const char *needle, pid_t *out, int max)
{
    return scan_procs(naming, needle, out, max);
}

/* Waits until no process's command line starts with prefix. */
bool e2e_procs_gone(const char *prefix, int timeout_ms)
{
    long long deadline = e2e_now_ms() + timeout_ms;
    pid_t pids[16];

    while (e2e_find_procs(prefix, pids, 16) > 0) {
        if (e2e_now_ms() > deadline)
            return false;
        e2e_sleep_ms(20);
    }
    return true;
}
