/* The instance shim (see shim.c): drover re-executes itself as
 * `drover __instance PARENT_PID GRACE_MS COMMAND` for every instance. */
#ifndef DROVER_SUPERVISOR_SHIM_H
#define DROVER_SUPERVISOR_SHIM_H

#define SHIM_COMMAND "__instance"

/* main() for that command: returns the exit code (or dies of the app's
 * fatal signal). */
int shim_main(int argc, char **argv);

#endif
