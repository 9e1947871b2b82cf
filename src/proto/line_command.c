#include "line_command.h"
#include "session_state.h"
#include "session_io.h"

#include <stdlib.h>
#include <string.h>

static struct line_command *lc(const struct session *s)
{
	return s->proto_state;
}

int line_command_init(struct session *s, size_t state_size)
{
	char *state = calloc(1, state_size + s->conf->client_buffer + 1);

	if (!state)
		return -1;
	((struct line_command *)state)->store = state + state_size;
	s->proto_state = state;
	return 0;
}

enum step line_command_read(struct session *s, const char **name,
                            enum step (*invalid)(struct session *s,
                                                 const char *why))
{
	enum cmdline_result r;
	enum step st;
	char *line;
	size_t len;

	if (session_getline(s, &line, &len, &st) < 0)
		return st;
	r = cmdline_parse(line, len, lc(s)->store, s->conf->client_buffer + 1,
	                  &lc(s)->cmd);
	if (r != CMDLINE_OK)
		return invalid(s, cmdline_result_str(r));
	*name = lc(s)->cmd.name;
	return STEP_NEXT;
}

const struct cmdline *line_command(const struct session *s)
{
	return &lc(s)->cmd;
}

size_t line_command_nargs(const struct session *s)
{
	return lc(s)->cmd.nargs;
}

const char *line_command_arg(const struct session *s, size_t i)
{
	return lc(s)->cmd.args[i];
}

void line_command_wipe(struct session *s)
{
	explicit_bzero(lc(s)->store, s->conf->client_buffer + 1);
	explicit_bzero(s->in.buf, s->in.start);
}
