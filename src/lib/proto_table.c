#include "proto.h"

#include <stddef.h>

/* Adding a protocol: its file, and one line here. */
const struct protocol *const protocols[] = {
	&proto_imap,
	&proto_pop3,
	&proto_smtp,
	NULL,
};
