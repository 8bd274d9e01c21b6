/* The control commands: `drover status|scale|restart|stop|start|reload`,
 * clients of a running drover's admin API (see api.h) through client.h,
 * printing what table.h makes of its answers.
 *
 *   drover status [--json]             GET /status, as a table
 *   drover scale TYPE=N [TYPE=N ...]   POST /scale (also TYPE=N,TYPE=N)
 *   drover restart|stop|start TYPE     POST /processes/TYPE/ACTION
 *   drover reload                      POST /reload
 *
 * Options, anywhere after the command: --admin ADDR (host:port, [v6]:port,
 * unix:/path), --json (print the answer's JSON as it came), -c FILE, -d DIR,
 * -h/--help. Without --admin the address is admin.listen of the config:
 * -c FILE, else DIR/drover.yaml (DIR defaults to "."), else the default
 * 127.0.0.1:8081. The token is $DROVER_ADMIN_TOKEN, else the config's
 * admin.token.
 *
 * Exit codes: 0 done; 1 the admin API is unreachable, timed out (5 s),
 * refused the token or refused the request (its "error" is printed, on
 * stderr, as one line "drover: ..."), or the config could not be read;
 * 2 usage error. */
#ifndef DROVER_CONTROL_CLI_H
#define DROVER_CONTROL_CLI_H

#include "lib/sbuf.h"

/* argv[0] is the command ("status", "scale", ...), as given after
 * "drover". Prints on stdout and stderr; returns the exit code. */
int cli_main(int argc, char **argv);

/* What cli_main does, with what it would print on stdout appended to out
 * and on stderr to err instead. argv is permuted (options first). */
int cli_run(int argc, char **argv, struct sbuf *out, struct sbuf *err);

#endif
