/* Logs you can come back to: `drover logs` and GET /logs over the real
 * drover and real app processes; a follower that does not read costs
 * drover no memory; the lines of a gone instance stay until its slot is
 * used again. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/client.h"
#include "tests/e2e/harness.h"

static char *output_of(const char *name)
{
    char *text = e2e_read_file(e2e_fmt("%s/%s.log", e2e_dir(), name), NULL);

    return text != NULL ? text : e2e_fmt("%s", "");
}

/* `drover ARGS... --admin ADDR` to completion: its exit code, and its
 * output in *out. */
static int drover_logs(const char *admin, char **out, const char *a1, const char *a2,
                       const char *a3)
{
    static int n;
    const char *name = e2e_fmt("logs%d", n++);
    char *argv[] = {(char *)e2e_drover_bin, "logs", "--admin", (char *)admin,
                    (char *)a1, (char *)a2, (char *)a3, NULL};
    int code = e2e_run(name, argv, 15000);

    *out = output_of(name);
    e2e_log("drover logs %s %s %s → %d:\n%s", a1 ? a1 : "", a2 ? a2 : "", a3 ? a3 : "", code, *out);
    return code;
}

static int count_in(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Lines printed before `drover logs` ran, and after `drover logs -f`
 * started, in order, stdout and stderr told apart. */
E2E_TEST(drover_logs_sees_lines_from_before_and_follows_new_ones, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port();
    char *admin = e2e_fmt("127.0.0.1:%d", ap), *out;
    /* stdout and stderr are two pipes: lines of one are in order, and a
     * pause orders them across the two. */
    char *dir = e2e_app_dir("talk: echo before-1; sleep 0.2; echo before-2 >&2; "
                            "while [ ! -f go ]; do sleep 0.05; done; "
                            "echo after-1; sleep 0.2; echo after-2 >&2; sleep 600\n",
                            e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\n"
                                    "log: {access: off}\napp: {base_port: %d}\n"
                                    "routes: [{path: /, backends: [127.0.0.1:1]}]\n",
                                    dp, admin, e2e_free_base(1, 1)));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, admin), *f;
    const char *a, *b;

    e2e_wait_log(d, "talk.1 ! before-2", 10000);
    ASSERT(drover_logs(admin, &out, "-n", "5", NULL) == 0);
    a = strstr(out, " talk.1 | before-1\n");
    b = strstr(out, " talk.1 ! before-2\n");
    ASSERT(a != NULL && b != NULL && a < b, "the lines from before, in order, stderr marked");
    ASSERT(drover_logs(admin, &out, "talk.1", "--json", "-n1") == 0);
    ASSERT(strstr(out, "\"instance\":\"talk.1\",\"stream\":\"stderr\",\"line\":\"before-2\"}\n") !=
               NULL && count_in(out, "\n") == 1,
           "the last line as JSON");
    ASSERT(drover_logs(admin, &out, "nosuch", NULL, NULL) == 1);
    ASSERT(strstr(out, "drover: no process type or instance \"nosuch\"") != NULL);

    {
        char *argv[] = {(char *)e2e_drover_bin, "logs", "-f", "talk", "--admin", admin, NULL};

        f = e2e_spawn("follow", argv, NULL);
    }
    e2e_wait_log(f, "talk.1 ! before-2", 10000);
    e2e_write_file("app/go", "");
    e2e_wait_log(f, "talk.1 ! after-2", 10000);
    e2e_stop(f, SIGINT, 3000);
    out = e2e_log_of(f);
    e2e_log("drover logs -f:\n%s", out);
    ASSERT(count_in(out, "before-1") == 1 && count_in(out, "after-1") == 1, "each line once");
    a = strstr(out, "| before-1");
    b = strstr(out, "| after-1");
    ASSERT(a < strstr(out, "! before-2") && strstr(out, "! before-2") < b &&
               b < strstr(out, "! after-2"),
           "in the order they were written");
    e2e_drover_stop(d);
}

/* A client that asks to follow and never reads: drover writes until the
 * socket is full, then keeps nothing for it while megabytes of output go
 * by. When it reads at last it gets what was sent, then the line that
 * says it was dropped, then the end of the answer. */
E2E_TEST(a_log_follower_that_never_reads_costs_no_memory, 120)
{
    int dp = e2e_free_port(), ap = e2e_free_port(), fd, small = 4096;
    char *admin = e2e_fmt("127.0.0.1:%d", ap);
    /* 100-byte lines: 2 MB to warm up (the ring fills), then 20 MB. */
    char *dir = e2e_app_dir(
        "flood: yes \"$(printf %099d 0)\" | head -n 20000; echo warm; "
        "while [ ! -f go ]; do sleep 0.05; done; "
        "yes \"$(printf %099d 1)\" | head -n 200000; echo flood-done; sleep 600\n",
        e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\nlog: {access: off}\n"
                "app: {base_port: %d}\nroutes: [{path: /, backends: [127.0.0.1:1]}]\n",
                dp, admin, e2e_free_base(1, 1)));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, admin);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ap)};
    const char *req = "GET /logs?follow=1&n=0 HTTP/1.1\r\nHost: admin\r\n\r\n";
    long before, after;
    char *got;
    size_t len = 0, cap = 64 << 20;
    long long deadline;

    e2e_wait_log(d, "flood.1 | warm", 30000);
    e2e_sleep_ms(300);
    before = e2e_rss_kb(d->pid);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    ASSERT(send(fd, req, strlen(req), 0) == (ssize_t)strlen(req));
    e2e_sleep_ms(200);
    e2e_write_file("app/go", "");
    /* The flood is over once drover has its last line. */
    deadline = e2e_now_ms() + 60000;
    for (;;) {
        struct http_resp r;
        bool done;

        http_get(admin, "/logs?n=1", &r);
        done = r.status == 200 && strstr(r.body, "flood-done") != NULL;
        resp_free(&r);
        if (done)
            break;
        ASSERT(e2e_now_ms() < deadline, "the flood never ended");
        e2e_sleep_ms(100);
    }
    after = e2e_rss_kb(d->pid);
    e2e_log("drover VmRSS %ld KiB before the follower and 20 MB of output, %ld KiB after (%+ld KiB)",
            before, after, after - before);
    ASSERT(before > 0 && after > 0);
    ASSERT(after - before < 2048, "drover grew by %ld KiB for a follower that does not read",
           after - before);

    /* Now it reads: what was sent, the last line saying why, the end. */
    got = malloc(cap);
    deadline = e2e_now_ms() + 20000;
    for (;;) {
        ssize_t n = recv(fd, got + len, cap - len - 1, MSG_DONTWAIT);

        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || len + 1 >= cap)
            break;
        ASSERT(e2e_now_ms() < deadline, "the answer never ended (%zu bytes)", len);
        e2e_sleep_ms(10);
    }
    got[len] = '\0';
    close(fd);
    e2e_log("the follower read %zu bytes; it ends with: %s", len,
            len > 300 ? got + len - 300 : got);
    ASSERT(strncmp(got, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ASSERT(strstr(got, "Transfer-Encoding: chunked") != NULL);
    ASSERT(strstr(got, "\"error\":\"dropped: this client read too slowly") != NULL,
           "no line says it was dropped");
    ASSERT(len >= 5 && strcmp(got + len - 5, "0\r\n\r\n") == 0, "the answer's end is missing");
    ASSERT(len < 8 << 20, "%zu bytes: more than the socket buffers and one output buffer hold", len);
    free(got);
    /* drover is fine: it still answers, and a new follower is welcome. */
    {
        struct http_resp r;

        http_get(admin, "/logs?n=1", &r);
        ASSERT(r.status == 200 && strstr(r.body, "flood-done") != NULL, "%s", r.body);
        resp_free(&r);
    }
    e2e_drover_stop(d);
}

/* `drover logs web.2` after web.2 is gone shows its lines; once a new
 * web.2 takes the slot, only the new one's. */
E2E_TEST(the_lines_of_a_gone_instance_stay_until_its_slot_is_reused, 60)
{
    int dp = e2e_free_port(), ap = e2e_free_port();
    char *admin = e2e_fmt("127.0.0.1:%d", ap), *out;
    char *dir = e2e_app_dir("talk: echo \"hello from $PS as $$\"; exec sleep 600\n",
                            e2e_fmt("listen: 127.0.0.1:%d\nadmin: {listen: %s}\n"
                                    "log: {access: off}\napp: {base_port: %d}\n"
                                    "processes: {talk: {instances: 2}}\n"
                                    "routes: [{path: /, backends: [127.0.0.1:1]}]\n",
                                    dp, admin, e2e_free_base(1, 2)));
    struct e2e_proc *d = e2e_drover_in(dir, NULL, admin);
    char *argv1[] = {(char *)e2e_drover_bin, "scale", "talk=1", "--admin", admin, NULL};
    char *argv2[] = {(char *)e2e_drover_bin, "scale", "talk=2", "--admin", admin, NULL};
    const char *first;

    e2e_wait_log(d, "talk.2 | hello from talk.2", 10000);
    ASSERT(e2e_run("scale1", argv1, 10000) == 0);
    e2e_wait_log(d, "talk.2 stopped", 10000);
    ASSERT(drover_logs(admin, &out, "talk.2", NULL, NULL) == 0);
    first = strstr(out, "hello from talk.2 as ");
    ASSERT(first != NULL && count_in(out, "hello") == 1, "the gone instance's line");
    first = e2e_fmt("%.*s", (int)strcspn(first, "\n"), first);
    ASSERT(e2e_run("scale2", argv2, 10000) == 0);
    e2e_wait_log(d, "talk.2 started", 10000);
    {
        long long deadline = e2e_now_ms() + 10000;

        do {
            ASSERT(e2e_now_ms() < deadline, "the new talk.2 never said hello");
            e2e_sleep_ms(50);
            ASSERT(drover_logs(admin, &out, "talk.2", NULL, NULL) == 0);
        } while (count_in(out, "hello") == 0);
    }
    ASSERT(count_in(out, "hello") == 1 && strstr(out, first) == NULL,
           "the old talk.2's line is still there: %s", out);
    e2e_drover_stop(d);
}
