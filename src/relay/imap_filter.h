/* The IMAP filter, after login: commands an operator denies are answered
 * here and never reach the backend; capabilities an operator hides are
 * taken out of every CAPABILITY response and [CAPABILITY] code. Nothing
 * else changes: arguments, quoted strings and literals are data, passed
 * byte for byte (a message APPENDed with "z DELETE INBOX" in it is just a
 * message), and the backend's literals (a FETCHed message) go through
 * without being looked at.
 *
 * Client side: a streaming tokenizer that needs only the tag and the
 * command name in memory (UID's command counts as the command). Where a
 * literal begins is the backend's to say, not the filter's: Dovecot reads
 * one only where the command parses an argument, and asks for it with
 * "+". So a line that ends in a literal marker, {n}, {n+}, ~{n}, goes to
 * the backend as a synchronising one ({n+} loses its "+"), and the bytes
 * behind it are held until the backend answers: a "+" (not IDLE's) lets n
 * bytes through as the literal, and the command's tagged reply instead
 * means there is none, so the held bytes are the next commands (or, after
 * {n+}, the literal the client sent anyway, dropped). A denied command's
 * synchronising literal gets the refusal instead of the continuation, so
 * the client never sends it; a non-synchronising one is read and dropped.
 * Refused as well: a tag already in flight (a tagged reply must name one
 * command), and arguments to a command that takes none. Refusals are
 * answered in the order of the commands: after the tagged replies to
 * those before. COMPRESS and STARTTLS are always refused: behind them the
 * stream could not be read.
 *
 * Pure: bytes in, bytes out, no I/O, no allocation, every buffer fixed. */
#ifndef POSTERN_IMAP_FILTER_H
#define POSTERN_IMAP_FILTER_H

#include "guard.h"

#include <stddef.h>
#include <stdint.h>

#define IMAP_FILTER_LINE_MAX (64 * 1024)  /* a line, literals aside */
#define IMAP_FILTER_NAMES_MAX 64          /* denied, hidden: each */
#define IMAP_FILTER_NAME_MAX 48
#define IMAP_FILTER_TAG_MAX 128
#define IMAP_FILTER_INFLIGHT_MAX 128      /* commands awaiting replies */
#define IMAP_FILTER_OUT_MIN (IMAP_FILTER_LINE_MAX + 4096)

struct imap_inflight {
	char tag[IMAP_FILTER_TAG_MAX];
	char name[IMAP_FILTER_NAME_MAX];
	int refused;                 /* answered here, in its turn */
	int why;                     /* which answer, when refused */
	unsigned serial;             /* which command, for a literal's wait */
};

struct imap_filter {
	char deny[IMAP_FILTER_NAMES_MAX][IMAP_FILTER_NAME_MAX];
	size_t ndeny;
	char hide[IMAP_FILTER_NAMES_MAX][IMAP_FILTER_NAME_MAX];
	size_t nhide;

	/* Client to backend. */
	int cstate;
	char head[IMAP_FILTER_TAG_MAX + 2 * IMAP_FILTER_NAME_MAX + 8];
	size_t head_len;             /* the command's bytes held until decided */
	size_t tag_len, name_at, name_len;
	int uid;                     /* the name read was UID: one more */
	int denied;                  /* this command is refused: why */
	int noargs;                  /* held whole: it takes no arguments */
	int noargs_cr;
	int quoted, escaped;         /* inside a quoted string */
	int arg_start;               /* the next byte may begin an argument */
	int idle_line;               /* the next line is IDLE's, not a command */
	int brace;                   /* where in a literal marker */
	uint64_t brace_n;
	char pend[4];                /* the marker's "+}\r", held back */
	size_t pend_len;
	size_t line_bytes;           /* of this line, for the limit */
	uint64_t lit_left;           /* client literal bytes still to come */
	uint64_t lit_n;              /* the marker the backend must answer */
	int lit_nonsync;             /* the client sent it as {n+} */
	int cont;                    /* that answer: none yet, "+" */
	unsigned next_serial;
	unsigned cur_serial;         /* the command being read */
	int cur_answered;            /* ... which the backend answered already */

	struct imap_inflight inflight[IMAP_FILTER_INFLIGHT_MAX];
	size_t head_i, count;

	/* Backend to client. */
	char line[IMAP_FILTER_LINE_MAX];
	size_t line_len;
	uint64_t blit_left;          /* backend literal bytes still to come */
	int continues;               /* the response goes on after a literal */
	int data_resp;               /* it is one that can carry literals */

	struct guard_report report;
	char refused_name[IMAP_FILTER_NAME_MAX];   /* report.last_refused's */
};

/* deny and hide: space-separated names, NULL or "" for none. 0, or -1
 * with *why when a list is too long. */
int imap_filter_init(struct imap_filter *f, const char *deny, const char *hide,
                     const char **why);

/* One response line with the hidden capabilities gone: the LOGIN reply,
 * which the front passes before any relay runs. out has room for n. */
size_t imap_filter_hide(const char *hide, const char *line, size_t n,
                        char *out);

enum guard_result imap_filter_client(struct imap_filter *f, const char *in,
                                     size_t len, size_t *consumed,
                                     struct strbuf *backend,
                                     struct strbuf *client);
enum guard_result imap_filter_backend(struct imap_filter *f, const char *in,
                                      size_t len, size_t *consumed,
                                      struct strbuf *client);

#endif
