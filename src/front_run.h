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
	int done;                /* -h or -V answered: exit EXIT_DONE */
};

/* 0 with o filled (o->done: nothing more to do), or -1: a usage error. */
int front_options_parse(int argc, char **argv, struct front_options *o);
void front_usage(FILE *f);

/* The connection: an exit code, or FRONT_READ_TEXT from load. */
int front_run(const char *ident, const struct front_options *o,
              conf_loader load);

#endif
