/* POP3 and SMTP read one command per line (cmdline.c parses it). Each
 * keeps a struct line_command first in its proto_state, and these read,
 * hand out and wipe it for both. */
#ifndef POSTERN_LINE_COMMAND_H
#define POSTERN_LINE_COMMAND_H

#include "cmdline.h"
#include "proto.h"

#include <stddef.h>

struct session;

struct line_command {
	struct cmdline cmd;
	char *store;          /* client_buffer + 1 bytes for the arguments */
};

/* Allocate the protocol's state (state_size bytes, a struct line_command
 * first) with the argument store after it. 0 or -1. */
int line_command_init(struct session *s, size_t state_size);

/* Read one command; STEP_NEXT with its name. A line that is no command
 * goes to invalid with the reason, which answers it. */
enum step line_command_read(struct session *s, const char **name,
                            enum step (*invalid)(struct session *s,
                                                 const char *why));

const struct cmdline *line_command(const struct session *s);
size_t line_command_nargs(const struct session *s);
const char *line_command_arg(const struct session *s, size_t i);

/* Wipe the arguments and what was read from the client so far: they may
 * hold a password or a digest. */
void line_command_wipe(struct session *s);

#endif
