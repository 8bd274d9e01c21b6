/* The control commands: `drover status|scale|restart|stop|start|reload`,
 * clients of a running drover's admin API (see api.h) through client.h,
 * printing what table.h makes of its answers.
 *
 *   drover status [--json] [--watch]   GET /status, as a table; --watch: again every
 *                                      second, in place, until Ctrl-C (written to
 *                                      stdout frame by frame, not through cli_run's out)
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

#include <stdbool.h>

#include "conf/config.h"
#include "control/client.h"
#include "lib/sbuf.h"

/* argv[0] is the command ("status", "scale", ...), as given after
 * "drover". Prints on stdout and stderr; returns the exit code. */
int cli_main(int argc, char **argv);

/* What cli_main does, with what it would print on stdout appended to out
 * and on stderr to err instead. argv is permuted (options first). */
int cli_run(int argc, char **argv, struct sbuf *out, struct sbuf *err);

/* Where the admin API is and which token it takes, the way every control
 * command finds them (admin: --admin or NULL, config: -c or NULL, dir: -d
 * or NULL for "."); *token is malloc'd, NULL for none. 0, or the exit code
 * (1, 2) with the reason in err. */
int cli_admin(const char *admin, const char *config, const char *dir, struct conf_addr *addr,
              char **token, char *err, size_t errlen);

/* The one line (and newline) for a refused request, into errout: the
 * answer's "error", else its status; a 401 says how to give a token. */
void cli_refusal(const struct conf_addr *addr, const struct client_answer *ans, bool sent_token,
                 struct sbuf *errout);

/* cli_logs.c: `drover logs [TYPE|INSTANCE ...] [-n N] [-f] [--json]`
 * (argv[0] is "logs"): GET /logs, each line printed as it comes, in the
 * live layout "HH:MM:SS web.1 | line" ('!' for stderr) or, with --json,
 * as the API's JSON. -f follows until interrupted. The exit code. */
int cli_logs_main(int argc, char **argv);

/* The /logs target for what `drover logs` was given (TYPE|INSTANCE
 * arguments: a name ending in ".N" is an instance). 0, or -1 with err. */
int cli_logs_target(char **names, int nnames, long n, bool follow, struct sbuf *target, char *err,
                    size_t errlen);

/* One /logs line (without its newline) as `drover logs` prints it, into
 * out; width is the name column, widened by longer names. An {"error"}
 * line goes to err. Returns 0, or -1 for an error line or one that is not
 * JSON. */
int cli_logs_print(const char *line, size_t len, bool json, int *width, struct sbuf *out,
                   struct sbuf *err);

#endif
