/* Errors that say something about this machine, not about the peer. */
#ifndef DROVER_LIB_SYSERR_H
#define DROVER_LIB_SYSERR_H

#include <errno.h>
#include <stdbool.h>

/* Out of descriptors, buffers, memory or local ports: a failed connect for
 * one of these is drover's own trouble and never counts against a backend
 * (SPEC "Faults, overload and limits"). */
static inline bool syserr_local(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
           err == EADDRNOTAVAIL;
}

#endif
