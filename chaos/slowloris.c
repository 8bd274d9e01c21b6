/* chaos/slowloris: N clients on 127.0.0.1:PORT that each send a request
 * line and then one header line a second, never ending the head; a client
 * closed by the server connects again. Runs for SECONDS, then exits.
 *   slowloris PORT N SECONDS */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int open_one(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    static const char line[] = "GET / HTTP/1.1\r\nHost: slow\r\n";

    if (fd < 0)
        return -1;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    /* Sent once the handshake is done; a failure is found at the next line. */
    usleep(100);
    if (send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN && errno != ENOTCONN) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    int port, n, secs, *fds, reconnects = 0;
    time_t end;

    if (argc != 4)
        return 2;
    port = atoi(argv[1]);
    n = atoi(argv[2]);
    secs = atoi(argv[3]);
    fds = calloc((size_t)n, sizeof(*fds));
    if (fds == NULL)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < n; i++)
        fds[i] = open_one(port);
    end = time(NULL) + secs;
    while (time(NULL) < end) {
        sleep(1);
        for (int i = 0; i < n; i++) {
            if (fds[i] >= 0 && send(fds[i], "X-a: b\r\n", 8, MSG_NOSIGNAL) == 8)
                continue;
            if (fds[i] >= 0)
                close(fds[i]);
            fds[i] = open_one(port);
            reconnects++;
        }
    }
    printf("slowloris: %d clients, %d reconnects\n", n, reconnects);
    return 0;
}
