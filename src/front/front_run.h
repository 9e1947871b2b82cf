/* One connection, from the socket to the relay's exec: what postern does
 * with the configuration's image. */
#ifndef POSTERN_FRONT_RUN_H
#define POSTERN_FRONT_RUN_H

#include "front.h"

/* postern's options, -t and -A among them (postern-text's). */
extern const struct front_program front_postern;

/* The connection: its exit code. */
int front_run(const struct front_options *o);

#endif
