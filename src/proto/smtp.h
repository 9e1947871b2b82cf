/* What smtp.c (the client side) and smtp_backend.c (the backend login)
 * share. */
#ifndef POSTERN_SMTP_H
#define POSTERN_SMTP_H

#include "line_command.h"
#include "proto.h"

#include <stddef.h>

struct session;

/* Auth-SMTP-* carry what the client sent; these bound them. */
#define SMTP_HELO_MAX 256
#define SMTP_PATH_LINE_MAX 1024

struct smtp_state {
	struct line_command lc;           /* first: line_command.h */
	int esmtp;                        /* the client said EHLO */
	char helo[SMTP_HELO_MAX];         /* "" until HELO/EHLO */
	char from[SMTP_PATH_LINE_MAX];    /* smtp_auth none: whole MAIL line */
	char to[SMTP_PATH_LINE_MAX];      /* smtp_auth none: whole RCPT line */
	char rcpt[SMTP_PATH_LINE_MAX];    /* the recipient address alone */
};

/* Greeting, EHLO, STARTTLS; AUTH_OK when the handshake may begin. */
enum auth_result smtp_backend_starttls(struct session *s, char *text,
                                       size_t size);

/* EHLO/HELO, XCLIENT, AUTH PLAIN or the saved MAIL/RCPT at the backend. */
enum auth_result smtp_backend_login(struct session *s, char *text,
                                    size_t size);

#endif
