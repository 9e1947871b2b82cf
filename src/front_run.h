/* One connection, from the socket to the relay's exec: what postern does
 * whichever reader gave it the configuration (postern.c reads the image,
 * postern_text.c the text). */
#ifndef POSTERN_FRONT_RUN_H
#define POSTERN_FRONT_RUN_H

#include "front.h"

#include <stdio.h>

struct front_options {
	const char *config;      /* -c, or what -a and the defaults make of it */
	const char *active;      /* -a */
	const char *server;      /* -s */
	int test, activate;      /* -t, -A */
};

/* FRONT_GO_ON with o filled; else the exit code, the usage or the
 * version printed. */
#define FRONT_GO_ON (-1)
int front_options(int argc, char **argv, struct front_options *o);

/* The connection: an exit code, or FRONT_READ_TEXT from load. */
int front_run(const char *ident, const struct front_options *o,
              conf_loader load);

#endif
