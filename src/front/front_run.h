/* One connection, from the socket to the relay's exec: what postern does
 * whichever reader gave it the configuration (postern.c reads the image,
 * postern_text.c the text). */
#ifndef POSTERN_FRONT_RUN_H
#define POSTERN_FRONT_RUN_H

#include "front.h"

/* postern's (and postern-text's) options, -t and -A among them. */
extern const struct front_program front_postern;

/* The connection: an exit code, or FRONT_READ_TEXT from load. */
int front_run(const char *ident, const struct front_options *o,
              conf_loader load);

#endif
