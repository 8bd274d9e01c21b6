/* The settings of "Operating it" in force (SPEC): the layout of the output
 * (log.timestamps, log.lines), the lines kept per instance (log.keep,
 * log.keep_bytes), app.state_file and watch mode (processes.TYPE.watch,
 * --watch). Applied at start and again by every reload, unlike log.access
 * and log.format. */
#include "conf/config.h"
#include "control/internal.h"
#include "lib/log.h"
#include "supervisor/supervisor.h"

void operate_log_layout(const struct conf *conf)
{
    log_set_layout(conf->log.timestamps, conf->log.json_lines);
}

void operate_apply(struct control *ctl, const struct conf *conf, bool starting)
{
    operate_log_layout(conf);
    if (ctl->sv == NULL)
        return;
    supervisor_set_log_keep(ctl->sv, conf->log.keep, conf->log.keep_bytes);
    /* The file is read only at start; a reload just moves where it goes. */
    supervisor_set_state_file(ctl->sv, conf->app.state_file, starting);
    supervisor_watch(ctl->sv, ctl->opts.watch);
}
