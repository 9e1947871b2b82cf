/* The IMAP filter on what a client and a backend send after login, two
 * ways. The input: a byte whose low six bits pick a piece size and whose
 * bit 6 makes the model backend lazy (below); a byte of the model's
 * refusals; the client's bytes, up to the first NUL; behind it, a scripted
 * backend's bytes.
 *
 * Scripted: the client's stream, then the backend's. What callers rely
 * on: outputs stay within their room, and the pieces the bytes come in
 * change nothing.
 *
 * Against a model of Dovecot 2.3: the client's stream, in pieces, and what
 * the filter forwards is read by a small imap process that reads as
 * Dovecot's does (imap-client.c: tag, name and "UID"'s name, each a word
 * to SP, CR or LF; commands that take no arguments skip their line
 * unparsed; imap-parser.c for the others: quoted strings, literals, lists,
 * atoms, an error skipping to LF) and answers; its answers go back through
 * the filter, a piece at each turn, or, lazy, only when the client's side
 * stands still. The model must never run a denied command: where it does,
 * the filter and Dovecot disagreed on where a command begins, and
 * libFuzzer has found a way past the filter. Bit k % 8 of the refusals
 * byte makes the model refuse the k-th literal it meets before its "+"
 * (the tagged NO Dovecot's APPEND gives for a missing mailbox, after
 * which the bytes behind are commands). */
#include "fuzz.h"
#include "imap_filter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static struct imap_filter f;
static char out_b[2][1 << 18], out_c[2][1 << 18];

/* Feed both streams in pieces of n; 0 when the filter ends the session. */
static int run(int k, const uint8_t *c, size_t clen, const uint8_t *b,
               size_t blen, size_t n, size_t *lb, size_t *lc)
{
	struct strbuf ob = { out_b[k], sizeof out_b[k], 0, 0 };
	struct strbuf oc = { out_c[k], sizeof out_c[k], 0, 0 };
	const char *why = NULL;
	size_t ci = 0, bi = 0, used;

	FUZZ_ASSERT(imap_filter_init(&f, "DELETE EXPUNGE APPEND", "IDLE", &why) == 0);
	/* The client's stream, then the backend's: the order between the
	 * two decides where a refusal falls, the pieces must not. */
	while (ci < clen) {
		size_t piece = clen - ci < n ? clen - ci : n;
		enum guard_result r;

		if (ob.size - ob.len < IMAP_FILTER_OUT_MIN ||
		    oc.size - oc.len < IMAP_FILTER_OUT_MIN)
			return 0;
		r = imap_filter_client(&f, (const char *)c + ci, piece, &used,
		                       &ob, &oc);
		if (r == GUARD_ERROR)
			return 0;
		FUZZ_ASSERT(used <= piece);
		FUZZ_ASSERT(!ob.overflow && !oc.overflow);
		if (used == 0 && r != GUARD_REFUSED)
			return 0;   /* held: waiting for the backend */
		ci += used;
	}
	while (bi < blen) {
		size_t piece = blen - bi < n ? blen - bi : n;

		if (oc.size - oc.len < IMAP_FILTER_OUT_MIN)
			return 0;
		if (imap_filter_backend(&f, (const char *)b + bi, piece, &used,
		                        &oc) == GUARD_ERROR)
			return 0;
		FUZZ_ASSERT(used <= piece && !oc.overflow);
		if (used == 0)
			return 0;
		bi += used;
	}
	*lb = ob.len;
	*lc = oc.len;
	return 1;
}

/* The model. What the filter is told to deny, and what the model checks
 * it never runs. */
#define MODEL_DENY "DELETE RENAME EXPUNGE CLOSE"
#define MODEL_LITERAL_MAX 65536   /* imap_max_line_length */

/* Commands Dovecot runs without reading their arguments. */
static const char *const no_arguments[] = { "NOOP", "CAPABILITY", "LOGOUT",
	"CHECK", "CLOSE", "UNSELECT", "NAMESPACE", "IDLE", NULL };

enum mstate {
	M_TAG, M_NAME,
	M_ARG,        /* between arguments */
	M_ATOM, M_TILDE, M_QUOTED, M_QUOTED_ESC,
	M_BRACE,      /* "{" read: digits, "+", "}" */
	M_BRACE_END,  /* "}" read: [CR] LF */
	M_BRACE_CR,
	M_LITERAL,
	M_SKIP,       /* to LF: an error, or a command that took no arguments */
	M_IDLE_SKIP,  /* the rest of IDLE's line */
	M_IDLE,       /* the line that ends it */
	M_GONE,       /* disconnected: LOGOUT, a literal too large */
};

struct dovecot {
	enum mstate st;
	char tag[IMAP_FILTER_TAG_MAX * 2];
	size_t tag_len;
	char name[IMAP_FILTER_NAME_MAX * 2];
	size_t name_len;
	int uid, depth, nonsync, append;
	int refusing;             /* the marker read gets a NO, not "+" */
	uint64_t size, left;      /* a literal's, and what is still to come */
	char done[8];             /* IDLE's "DONE" line */
	size_t done_len;
	unsigned literals;        /* met so far */
	uint8_t refuse;           /* bit k % 8: refuse the k-th literal */
	unsigned ran;
	char out[1 << 20];        /* its answers, for the filter */
	size_t out_len;
	int full;
};

static struct imap_filter mf;
static struct dovecot d;
static char model_b[1 << 18], model_c[1 << 18];

static void say(struct dovecot *m, const char *tag, size_t tag_len,
                const char *text)
{
	size_t n = strlen(text);

	if (m->out_len + tag_len + n + 3 > sizeof m->out) {
		m->full = 1;
		return;
	}
	memcpy(m->out + m->out_len, tag, tag_len);
	m->out[m->out_len + tag_len] = ' ';
	memcpy(m->out + m->out_len + tag_len + 1, text, n);
	memcpy(m->out + m->out_len + tag_len + 1 + n, "\r\n", 2);
	m->out_len += tag_len + n + 3;
}

/* The command's tagged reply. */
static void tagged(struct dovecot *m, const char *text)
{
	say(m, m->tag, m->tag_len, text);
}

static int is(const char *want, const char *name, size_t len)
{
	return strlen(want) == len && strncasecmp(want, name, len) == 0;
}

static int denied(const char *name, size_t len)
{
	for (const char *p = MODEL_DENY; *p;) {
		size_t w = strcspn(p, " ");

		if (w == len && strncasecmp(p, name, len) == 0)
			return 1;
		p += w;
		p += strspn(p, " ");
	}
	return 0;
}

static void next_command(struct dovecot *m)
{
	m->st = M_TAG;
	m->tag_len = m->name_len = 0;
	m->uid = m->depth = m->nonsync = m->append = 0;
}

/* The line is over at c, or is skipped to its LF. */
static void line_over(struct dovecot *m, char c)
{
	if (c == '\n')
		next_command(m);
	else
		m->st = M_SKIP;
}

static void bad(struct dovecot *m, char c)
{
	tagged(m, "BAD Error in IMAP command");
	line_over(m, c);
}

static void run_command(struct dovecot *m)
{
	if (denied(m->name, m->name_len)) {
		fprintf(stderr, "model: Dovecot ran the denied command "
		        "\"%.*s %s%.*s\"\n", (int)m->tag_len, m->tag,
		        m->uid ? "UID " : "", (int)m->name_len, m->name);
		abort();
	}
	m->ran++;
}

/* IS_ATOM_PARSER_INPUT and 8-bit data: an error in an atom. */
static int atom_char(char c)
{
	unsigned char u = (unsigned char)c;

	return !(c == '(' || c == ')' || c == '{' || c == '"' || u <= 32 ||
	         u >= 0x7f);
}

/* A tag Dovecot takes: atom characters but '+'. */
static int valid_tag(const struct dovecot *m)
{
	if (m->tag_len == 0 || m->tag_len > sizeof m->tag)
		return 0;
	for (size_t i = 0; i < m->tag_len; i++)
		if (!atom_char(m->tag[i]) || strchr("%*]\\+", m->tag[i]))
			return 0;
	return 1;
}

/* The k-th literal: refused before its "+"? */
static int refused_literal(struct dovecot *m)
{
	return (m->refuse >> (m->literals++ % 8)) & 1;
}

static void arg_start(struct dovecot *m, char c);

/* The name ended at c (SP, CR or LF). */
static void name_end(struct dovecot *m, char c)
{
	if (c == ' ' && !m->uid && is("UID", m->name, m->name_len)) {
		m->uid = 1;
		m->name_len = 0;
		return;
	}
	if (m->name_len == 0 || m->name_len > sizeof m->name) {
		tagged(m, "BAD Error in IMAP command: Unknown command.");
		line_over(m, c);
		return;
	}
	if (!m->uid) {
		for (const char *const *p = no_arguments; *p; p++) {
			if (!is(*p, m->name, m->name_len))
				continue;
			run_command(m);
			if (is("IDLE", m->name, m->name_len)) {
				say(m, "+", 1, "idling");
				m->done_len = 0;
				m->st = c == '\n' ? M_IDLE : M_IDLE_SKIP;
				return;
			}
			tagged(m, "OK done");
			line_over(m, c);
			if (is("LOGOUT", m->name, m->name_len))
				m->st = M_GONE;
			return;
		}
		/* cmd_append reads its literals itself: the "+" comes after
		 * the marker's LF, once the mailbox is found. */
		m->append = is("APPEND", m->name, m->name_len);
	}
	m->depth = 0;
	m->st = M_ARG;
	if (c != ' ')
		arg_start(m, c);
}

/* The marker's LF is read. */
static void marker_done(struct dovecot *m)
{
	if (m->nonsync) {
		fprintf(stderr, "model: the filter forwarded a "
		        "non-synchronising literal {%llu+}\n",
		        (unsigned long long)m->size);
		abort();
	}
	if (m->refusing) {
		/* Refused before "+": the bytes behind are commands. */
		tagged(m, "NO [TRYCREATE] Mailbox doesn't exist.");
		next_command(m);
		return;
	}
	if (m->append)
		say(m, "+", 1, "OK");
	m->left = m->size;
	m->st = m->left ? M_LITERAL : M_ARG;
}

static void arg_start(struct dovecot *m, char c)
{
	switch (c) {
	case ' ':
		return;
	case '\r':
	case '\n':
		if (m->depth) {
			bad(m, c);   /* Missing ')' */
			return;
		}
		run_command(m);
		tagged(m, "OK done");
		line_over(m, c);
		return;
	case '"':
		m->st = M_QUOTED;
		return;
	case '{':
		m->st = M_BRACE;
		m->size = 0;
		m->nonsync = 0;
		return;
	case '(':
		m->depth++;
		return;
	case ')':
		if (!m->depth) {
			bad(m, c);   /* Unexpected ')' */
			return;
		}
		m->depth--;
		return;
	case '~':
		/* literal8 where the command allows it; taken everywhere. */
		m->st = M_TILDE;
		return;
	default:
		if (!atom_char(c)) {
			bad(m, c);
			return;
		}
		m->st = M_ATOM;
		return;
	}
}

static void model_byte(struct dovecot *m, char c)
{
	switch (m->st) {
	case M_TAG:
		if (c != ' ' && c != '\r' && c != '\n') {
			if (m->tag_len < sizeof m->tag)
				m->tag[m->tag_len] = c;
			m->tag_len++;
			return;
		}
		if (!valid_tag(m)) {
			say(m, "*", 1, "BAD Invalid tag.");
			line_over(m, c);
			return;
		}
		m->st = M_NAME;
		m->name_len = 0;
		if (c != ' ')
			name_end(m, c);   /* the name is the empty word */
		return;
	case M_NAME:
		if (c != ' ' && c != '\r' && c != '\n') {
			if (m->name_len < sizeof m->name)
				m->name[m->name_len] = c;
			m->name_len++;
			return;
		}
		name_end(m, c);
		return;
	case M_ARG:
		arg_start(m, c);
		return;
	case M_ATOM:
		if (c == ' ' || c == '\r' || c == '\n' || c == ')') {
			m->st = M_ARG;
			arg_start(m, c);
		} else if (!atom_char(c)) {
			bad(m, c);
		}
		return;
	case M_TILDE:
		if (c == '{') {
			m->st = M_BRACE;
			m->size = 0;
			m->nonsync = 0;
			return;
		}
		m->st = M_ATOM;
		model_byte(m, c);
		return;
	case M_QUOTED:
		if (c == '\\')
			m->st = M_QUOTED_ESC;
		else if (c == '"')
			m->st = M_ARG;
		else if (c == '\r' || c == '\n' || c == '\0')
			bad(m, c);
		return;
	case M_QUOTED_ESC:
		if (c == '\r' || c == '\n' || c == '\0')
			bad(m, c);
		else
			m->st = M_QUOTED;
		return;
	case M_BRACE:
		if (c >= '0' && c <= '9' && !m->nonsync) {
			m->size = m->size * 10 + (uint64_t)(c - '0');
			if (m->size > (uint64_t)1 << 40)
				m->st = M_GONE;   /* Literal size too large */
			return;
		}
		if (c == '+' && !m->nonsync) {
			m->nonsync = 1;
			return;
		}
		if (c != '}') {
			bad(m, c);
			return;
		}
		/* imap_parser_literal_end(): the parser's own literals get
		 * their "+" here, before the CRLF is read. */
		m->refusing = refused_literal(m);
		if (!m->refusing && !m->append && !m->nonsync) {
			if (m->size > MODEL_LITERAL_MAX) {
				/* client_send_command_error() disconnects */
				m->st = M_GONE;
				return;
			}
			say(m, "+", 1, "OK");
		}
		m->st = M_BRACE_END;
		return;
	case M_BRACE_END:
		if (c == '\r')
			m->st = M_BRACE_CR;
		else if (c == '\n')
			marker_done(m);
		else
			bad(m, c);   /* Missing LF after literal size */
		return;
	case M_BRACE_CR:
		if (c == '\n')
			marker_done(m);
		else
			bad(m, c);
		return;
	case M_LITERAL:
		if (--m->left == 0)
			m->st = M_ARG;
		return;
	case M_SKIP:
		if (c == '\n')
			next_command(m);
		return;
	case M_IDLE_SKIP:
		if (c == '\n')
			m->st = M_IDLE;
		return;
	case M_IDLE:
		if (c != '\n') {
			if (m->done_len < sizeof m->done)
				m->done[m->done_len] = c;
			m->done_len++;
			return;
		}
		if (m->done_len && m->done_len <= sizeof m->done &&
		    m->done[m->done_len - 1] == '\r')
			m->done_len--;
		if (is("DONE", m->done, m->done_len))
			tagged(m, "OK Idle completed.");
		else
			tagged(m, "BAD Expected DONE.");
		next_command(m);
		return;
	case M_GONE:
		return;
	}
}

static void model_init(struct dovecot *m, uint8_t refuse)
{
	next_command(m);
	m->literals = 0;
	m->refuse = refuse;
	m->ran = 0;
	m->out_len = 0;
	m->full = 0;
}

static void model_run(const uint8_t *c, size_t clen, size_t n, int lazy,
                      uint8_t refuse)
{
	struct strbuf ob = { model_b, sizeof model_b, 0, 0 };
	struct strbuf oc = { model_c, sizeof model_c, 0, 0 };
	const char *why = NULL;
	size_t ci = 0, bi = 0;

	FUZZ_ASSERT(imap_filter_init(&mf, MODEL_DENY, NULL, &why) == 0);
	model_init(&d, refuse);
	for (;;) {
		size_t used, piece;
		enum guard_result r;
		int moved = 0;

		if (ci < clen) {
			piece = clen - ci < n ? clen - ci : n;
			r = imap_filter_client(&mf, (const char *)c + ci, piece,
			                       &used, &ob, &oc);
			if (r == GUARD_ERROR)
				return;
			FUZZ_ASSERT(used <= piece);
			FUZZ_ASSERT(!ob.overflow && !oc.overflow);
			ci += used;
			moved = used > 0 || r == GUARD_REFUSED;
		}
		/* Dovecot reads all that was forwarded; the client all it
		 * was sent. */
		for (size_t i = 0; i < ob.len; i++)
			model_byte(&d, ob.buf[i]);
		ob.len = 0;
		oc.len = 0;
		if (d.full)
			return;
		if (bi < d.out_len && (!lazy || !moved)) {
			piece = d.out_len - bi < n ? d.out_len - bi : n;
			if (imap_filter_backend(&mf, d.out + bi, piece, &used,
			                        &oc) == GUARD_ERROR)
				return;
			FUZZ_ASSERT(used <= piece && !oc.overflow);
			bi += used;
			moved |= used > 0;
			oc.len = 0;
		}
		if (!moved)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep;
	size_t n, lb[2], lc[2];
	int lazy;
	uint8_t refuse;

	if (size < 3 || size > 60000)
		return 0;
	n = 1 + data[0] % 64;
	lazy = (data[0] & 0x40) != 0;
	refuse = data[1];
	data += 2;
	size -= 2;
	sep = memchr(data, 0, size);
	model_run(data, sep ? (size_t)(sep - data) : size, n, lazy, refuse);
	if (!sep)
		return 0;
	if (!run(0, data, (size_t)(sep - data), sep + 1,
	         size - (size_t)(sep - data) - 1, size, &lb[0], &lc[0]))
		return 0;
	/* Ended the same way whole: in pieces it must give the same bytes. */
	if (!run(1, data, (size_t)(sep - data), sep + 1,
	         size - (size_t)(sep - data) - 1, n, &lb[1], &lc[1]))
		return 0;
	FUZZ_ASSERT(lb[0] == lb[1] && memcmp(out_b[0], out_b[1], lb[0]) == 0);
	FUZZ_ASSERT(lc[0] == lc[1] && memcmp(out_c[0], out_c[1], lc[0]) == 0);
	return 0;
}
