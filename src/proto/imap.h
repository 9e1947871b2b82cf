/* What imap.c (the client side) and imap_backend.c (the backend login)
 * share. */
#ifndef POSTERN_IMAP_H
#define POSTERN_IMAP_H

#include "imap_parse.h"
#include "proto.h"

#include <stddef.h>

struct session;

struct imap_state {
	struct imap_parser parser;
	char tag[128];        /* the current command's tag, for replies */
	int backend_id;       /* the backend's greeting announced ID */
	int id_pending;       /* our ID's replies are still to come */
	char store[];         /* imap_client_buffer bytes for the parser */
};

/* LOGIN at the backend under the client's tag; on success the backend's
 * replies have been passed to the client. text gets the backend's reason. */
enum auth_result imap_backend_login(struct session *s, char *text,
                                    size_t size);

/* The greeting, then STARTTLS; AUTH_OK when the handshake may begin. */
enum auth_result imap_backend_starttls(struct session *s, char *text,
                                       size_t size);

/* How user and password are written: atom, quoted string, or literal. */
enum imap_astring { ASTRING_ATOM, ASTRING_QUOTED, ASTRING_LITERAL };
enum imap_astring imap_astring_kind(const char *s);

#endif
