/* The instance shim: the process drover starts for each instance, leader of
 * the instance's process group, parent of `/bin/sh -c command`.
 *
 * It exists because /bin/sh (dash) does not exec its last command: the app
 * is a grandchild of drover, and PR_SET_PDEATHSIG on drover's direct child
 * alone would leave the app running if drover were SIGKILLed. The shim
 * watches for drover's death and then stops its whole group (SIGTERM, the
 * grace, SIGKILL). It is a subreaper, so everything the app leaves behind is
 * its child: when the app exits, leftovers get SIGTERM and, after the grace,
 * SIGKILL, and only then does the shim exit, with the app's exact status (a
 * fatal signal is re-raised), so drover's restart starts on a clean port.
 *
 * drover stops an instance by signalling the group; the shim ignores those
 * signals itself and keeps waiting for the app.
 *
 *   drover __instance PARENT_PID GRACE_MS COMMAND */
#include "supervisor/shim.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sent by the kernel when drover dies; nobody else uses it. */
static int parent_death_signal(void)
{
    return SIGRTMIN + 2;
}

static void block_signals(sigset_t *set)
{
    static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

    sigemptyset(set);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(set, sigs[i]);
    sigaddset(set, parent_death_signal());
    sigprocmask(SIG_BLOCK, set, NULL);
}

/* Reaps every exited child; records the app's status. Returns the number of
 * children still running, or 0 when there are none. */
static int reap(pid_t app, bool *app_done, int *app_status)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);

        if (pid > 0) {
            if (pid == app) {
                *app_done = true;
                *app_status = status;
            }
            continue;
        }
        if (pid == 0)
            return 1;
        return 0; /* ECHILD: nobody left */
    }
}

/* Waits up to ms for SIGCHLD-driven reaping to empty the family. Returns
 * true when no child is left. */
static bool wait_empty(const sigset_t *set, long ms, pid_t app, bool *app_done, int *app_status)
{
    struct timespec deadline, now;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (reap(app, app_done, app_status) != 0) {
        struct timespec left;
        siginfo_t info;

        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = deadline.tv_sec - now.tv_sec;
        left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        if (left.tv_sec < 0)
            return false;
        if (sigtimedwait(set, &info, &left) < 0 && errno == EAGAIN)
            return reap(app, app_done, app_status) == 0;
    }
    return true;
}

/* SIGKILLs every child listed in /proc (after the app exited they are all
 * ours: orphans come to a subreaper), until none is left. */
static void kill_children(pid_t app, bool *app_done, int *app_status)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    for (int round = 0; round < 100 && reap(app, app_done, app_status) != 0; round++) {
        FILE *f = fopen(path, "r");
        int pid;

        if (f == NULL) {
            kill(0, SIGKILL); /* no /proc: the group, us included */
            return;
        }
        while (fscanf(f, "%d", &pid) == 1)
            kill(pid, SIGKILL);
        fclose(f);
        usleep(1000);
    }
}

/* Leaves with the app's status: its exit code, or the same fatal signal. */
static int exit_like(int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit no_core = {0, 0};
        sigset_t set;

        setrlimit(RLIMIT_CORE, &no_core);
        signal(sig, SIG_DFL);
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        kill(getpid(), sig);
        return 128 + sig; /* a signal that does not kill by default */
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int shim_main(int argc, char **argv)
{
    pid_t parent, app;
    long grace_ms;
    bool app_done = false;
    int app_status = 0;
    sigset_t set;

    if (argc != 5) {
        fprintf(stderr, "usage: drover __instance PARENT_PID GRACE_MS COMMAND\n");
        return 2;
    }
    parent = (pid_t)atoi(argv[2]);
    grace_ms = atol(argv[3]);
    block_signals(&set);
    prctl(PR_SET_PDEATHSIG, parent_death_signal());
    /* drover may have died before the line above: then nothing starts. */
    if (getppid() != parent)
        return 1;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    app = fork();
    if (app < 0) {
        fprintf(stderr, "drover: cannot fork: %s\n", strerror(errno));
        return 1;
    }
    if (app == 0) {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl("/bin/sh", "sh", "-c", argv[4], (char *)NULL);
        fprintf(stderr, "drover: cannot run /bin/sh: %s\n", strerror(errno));
        _exit(127);
    }
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);

        if (sig == SIGCHLD) {
            reap(app, &app_done, &app_status);
            if (app_done)
                break;
        } else if (sig == parent_death_signal()) {
            /* drover is gone: take the whole family down with it. */
            kill(0, SIGTERM);
            wait_empty(&set, grace_ms, app, &app_done, &app_status);
            kill(0, SIGKILL);
            return 1;
        }
        /* Anything else was sent to the group: the app got it too. */
    }
    /* The app is done; what it left behind goes too. */
    if (reap(app, &app_done, &app_status) != 0) {
        kill(0, SIGTERM);
        if (!wait_empty(&set, grace_ms, app, &app_done, &app_status))
            kill_children(app, &app_done, &app_status);
    }
    return exit_like(app_status);
}
