/* What an instance leaves behind when its shim is gone: the rest of its
 * process group, processes that left the group (a daemon's setsid) and
 * were adopted by drover (a child subreaper) when the shim died, and the
 * port. Read from /proc; main thread only. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "supervisor/proc.h"

bool family_alive(pid_t pgid)
{
    return pgid > 0 && (kill(-pgid, 0) == 0 || errno == EPERM);
}

/* Calls fn(pid, arg) for each child of this process (every thread's). */
static void each_child(void (*fn)(pid_t pid, void *arg), void *arg)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[300];
        FILE *f;
        int pid;

        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", de->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        while (fscanf(f, "%d", &pid) == 1)
            fn((pid_t)pid, arg);
        fclose(f);
    }
    closedir(d);
}

struct orphans {
    const pid_t *known;
    size_t nknown;
    int sig;
    int count;
};

static void orphan_cb(pid_t pid, void *arg)
{
    struct orphans *o = arg;

    for (size_t i = 0; i < o->nknown; i++)
        if (o->known[i] == pid)
            return;
    /* A zombie is only waiting for our reaper: not left behind. */
    char path[64], state = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
            state = 0;
        fclose(f);
    }
    if (state == 'Z')
        return;
    o->count++;
    if (o->sig != 0)
        kill(pid, o->sig);
}

int family_signal_orphans(const pid_t *known, size_t nknown, int sig)
{
    struct orphans o = {known, nknown, sig, 0};

    each_child(orphan_cb, &o);
    return o.count;
}

/* The first pid listed in /proc/PID/task/PID/children, or 0. */
static pid_t first_child(pid_t pid, int *n)
{
    char path[64];
    FILE *f;
    int child, first = 0;

    *n = 0;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    while (fscanf(f, "%d", &child) == 1) {
        if ((*n)++ == 0)
            first = child;
    }
    fclose(f);
    return (pid_t)first;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
    char path[64];
    FILE *f;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return;
    if (fgets(buf, (int)len, f) != NULL)
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

pid_t family_app_pid(pid_t shim)
{
    int n;
    pid_t sh = first_child(shim, &n), app;
    char comm[32];

    if (sh == 0 || n != 1)
        return sh;
    /* dash runs the command as its child unless the command was exec'd. */
    comm_of(sh, comm, sizeof(comm));
    if (strcmp(comm, "sh") != 0)
        return sh;
    app = first_child(sh, &n);
    return app != 0 && n == 1 ? app : sh;
}

/* The inode of a socket listening on TCP port, from one /proc/net table. */
static unsigned long listening_inode(const char *table, int port)
{
    FILE *f = fopen(table, "r");
    char line[512];
    unsigned long inode = 0;

    if (f == NULL)
        return 0;
    if (fgets(line, sizeof(line), f) == NULL) { /* the header */
        fclose(f);
        return 0;
    }
    while (inode == 0 && fgets(line, sizeof(line), f) != NULL) {
        char local[128];
        unsigned st;
        unsigned long ino;
        const char *colon;

        if (sscanf(line, "%*d: %127s %*s %x %*s %*s %*s %*d %*d %lu", local, &st, &ino) != 3)
            continue;
        colon = strrchr(local, ':');
        if (st == 0x0A && colon != NULL && strtol(colon + 1, NULL, 16) == port)
            inode = ino;
    }
    fclose(f);
    return inode;
}

/* The process holding socket inode, or 0. */
static pid_t inode_owner(unsigned long inode)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    char want[64];
    pid_t owner = 0;

    if (d == NULL)
        return 0;
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    while (owner == 0 && (de = readdir(d)) != NULL) {
        char path[300];
        DIR *fds;
        struct dirent *fe;

        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
        if ((fds = opendir(path)) == NULL)
            continue;
        while ((fe = readdir(fds)) != NULL) {
            char link[600], target[64];
            ssize_t n;

            snprintf(link, sizeof(link), "%s/%s", path, fe->d_name);
            n = readlink(link, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strcmp(target, want) == 0) {
                owner = (pid_t)atoi(de->d_name);
                break;
            }
        }
        closedir(fds);
    }
    closedir(d);
    return owner;
}

bool family_port_taken(int port, char *who, size_t len)
{
    unsigned long inode = listening_inode("/proc/net/tcp", port);
    pid_t owner;
    char comm[32];

    if (inode == 0)
        inode = listening_inode("/proc/net/tcp6", port);
    if (inode == 0)
        return false;
    owner = inode_owner(inode);
    if (owner == 0) {
        snprintf(who, len, "another process");
        return true;
    }
    comm_of(owner, comm, sizeof(comm));
    snprintf(who, len, "pid %d (%s)", (int)owner, comm[0] != '\0' ? comm : "?");
    return true;
}
