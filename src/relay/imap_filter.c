#include "imap_filter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum cstate { C_TAG, C_NAME, C_ARGS, C_LIT, C_PASSLINE, C_LONGTAG,
	      C_WAIT_CONT };

/* Why a command is answered here (f->denied, an entry's why). */
enum refusal { R_NONE, R_DENIED, R_TAG_IN_USE, R_NO_ARGS, R_BAD_TAG,
	       R_DROPPED /* the backend answered it; the rest is dropped */ };

/* The backend's answer to a literal marker (f->cont). */
/* The backend's answer to a literal marker (f->cont); that it answered
 * the command instead is f->cur_answered. */
enum cont { CONT_NONE, CONT_WAIT, CONT_GRANTED };

/* Where in a literal marker "{123+}\r\n" the arguments are (f->brace). */
enum brace { B_NONE, B_OPEN, B_DIGITS, B_PLUS, B_CLOSE, B_CR };

/* Commands that take no arguments: one with any is refused, so that no
 * literal can follow a command that would never read it (IDLE's own "+"
 * could not be told from a literal's). */
static const char *const no_arguments[] = { "CAPABILITY", "NOOP", "LOGOUT",
	"IDLE", "CHECK", "CLOSE", "UNSELECT", "NAMESPACE", NULL };

/* Behind these the stream is no longer IMAP text the filter can read. */
static const char *const always_denied[] = { "COMPRESS", "STARTTLS", NULL };
static const char *const always_hidden[] = { "COMPRESS=DEFLATE", NULL };

static int take_names(char (*out)[IMAP_FILTER_NAME_MAX], size_t *n,
                      const char *list, const char *const *always)
{
	*n = 0;
	for (; *always; always++)
		snprintf(out[(*n)++], IMAP_FILTER_NAME_MAX, "%s", *always);
	for (const char *p = list ? list : ""; *p;) {
		size_t len = strcspn(p, " ,");

		if (len > 0) {
			if (*n == IMAP_FILTER_NAMES_MAX || len >= IMAP_FILTER_NAME_MAX)
				return -1;
			memcpy(out[*n], p, len);
			out[(*n)++][len] = '\0';
		}
		p += len;
		p += strspn(p, " ,");
	}
	return 0;
}

int imap_filter_init(struct imap_filter *f, const char *deny, const char *hide,
                     const char **why)
{
	memset(f, 0, offsetof(struct imap_filter, line));
	f->line_len = 0;
	f->blit_left = 0;
	f->continues = 0;
	f->report = (struct guard_report){ 0 };
	if (take_names(f->deny, &f->ndeny, deny, always_denied) < 0 ||
	    take_names(f->hide, &f->nhide, hide, always_hidden) < 0) {
		*why = "too many or too long names to deny or hide";
		return -1;
	}
	return 0;
}

static int listed(char (*names)[IMAP_FILTER_NAME_MAX], size_t n,
                  const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

/* The backend's stream is between responses: a line of the filter's own
 * may go in. */
static int at_boundary(const struct imap_filter *f)
{
	return f->line_len == 0 && f->blit_left == 0 && !f->continues;
}

/* The k-th command in flight, the oldest first. */
static struct imap_inflight *entry(struct imap_filter *f, size_t k)
{
	return &f->inflight[(f->head_i + k) % IMAP_FILTER_INFLIGHT_MAX];
}

/* Refusals whose turn has come: every command before them answered. */
static void emit_refusals(struct imap_filter *f, struct strbuf *client)
{
	while (f->count && at_boundary(f)) {
		struct imap_inflight *e = entry(f, 0);
		char line[IMAP_FILTER_TAG_MAX + IMAP_FILTER_NAME_MAX + 64];
		int n;

		if (!e->refused || e->refused < 2)
			return;
		if (e->why == R_BAD_TAG)
			n = snprintf(line, sizeof line, "* BAD Invalid tag\r\n");
		else if (e->why == R_TAG_IN_USE)
			n = snprintf(line, sizeof line, "%s BAD Tag in use by a "
			             "command in progress\r\n", e->tag);
		else if (e->why == R_NO_ARGS)
			n = snprintf(line, sizeof line, "%s BAD %s takes no "
			             "arguments\r\n", e->tag, e->name);
		else
			n = snprintf(line, sizeof line, "%s NO [NOPERM] %s not "
			             "allowed\r\n", e->tag, e->name);
		if (n < 0 || (size_t)n > strbuf_room(client))
			return;
		strbuf_put(client, line, (size_t)n);
		f->head_i = (f->head_i + 1) % IMAP_FILTER_INFLIGHT_MAX;
		f->count--;
	}
}

static struct imap_inflight *push(struct imap_filter *f)
{
	struct imap_inflight *e;

	if (f->count == IMAP_FILTER_INFLIGHT_MAX)
		return NULL;
	e = entry(f, f->count++);
	memcpy(e->tag, f->head, f->tag_len);
	e->tag[f->tag_len] = '\0';
	memcpy(e->name, f->head + f->name_at, f->name_len);
	e->name[f->name_len] = '\0';
	e->refused = f->denied != R_NONE;
	e->why = f->denied;
	e->serial = ++f->next_serial;
	return e;
}

static struct imap_inflight *last_pushed(struct imap_filter *f)
{
	return entry(f, f->count - 1);
}

/* A forwarded command in flight has this tag. */
static int tag_in_flight(struct imap_filter *f, const char *tag,
                         size_t n)
{
	for (size_t k = 0; k < f->count; k++) {
		const struct imap_inflight *e = entry(f, k);

		if (!e->refused && strlen(e->tag) == n && !memcmp(e->tag, tag, n))
			return 1;
	}
	return 0;
}

/* A tag as Dovecot reads one (imap_parser_read_next_atom()): printable
 * ASCII but for atom-specials and "+" (DEL too: Dovecot takes it, the
 * RFC does not). Dovecot answers any other without running the command,
 * which the filter could not follow (an IDLE that never ran would leave
 * the next line a command). */
static int valid_tag(const char *tag, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tag[i];

		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]+", c))
			return 0;
	}
	return n > 0;
}

/* A "+" from the backend could be IDLE's rather than a literal's. */
static int idle_in_flight(struct imap_filter *f)
{
	for (size_t k = 0; k < f->count; k++) {
		const struct imap_inflight *e = entry(f, k);

		if (!e->refused && strcasecmp(e->name, "IDLE") == 0)
			return 1;
	}
	return 0;
}

static int among(const char *const *names, const char *name, size_t len)
{
	for (; *names; names++)
		if (strlen(*names) == len && strncasecmp(*names, name, len) == 0)
			return 1;
	return 0;
}

/* The client's command is complete: a refusal may now be said. */
static void command_done(struct imap_filter *f)
{
	if (f->denied && f->denied != R_DROPPED && f->count)
		last_pushed(f)->refused = 2;   /* refused, and complete */
	f->cstate = C_TAG;
	f->head_len = f->tag_len = f->name_at = f->name_len = 0;
	f->uid = f->denied = f->noargs = f->noargs_cr = 0;
	f->quoted = f->escaped = f->arg_start = 0;
	f->brace = B_NONE;
	f->pend_len = 0;
	f->line_bytes = 0;
}

/* The name is read: refuse or forward the command. 0 when decided, 1 when
 * it must wait (the queue is full, or no room for the held bytes). */
static int decide(struct imap_filter *f, struct strbuf *backend)
{
	const char *name = f->head + f->name_at;

	if (f->count == IMAP_FILTER_INFLIGHT_MAX ||
	    strbuf_room(backend) < f->head_len)
		return 1;
	f->denied = !valid_tag(f->head, f->tag_len) ? R_BAD_TAG :
	            listed(f->deny, f->ndeny, name, f->name_len) ? R_DENIED :
	            tag_in_flight(f, f->head, f->tag_len) ? R_TAG_IN_USE :
	            R_NONE;
	f->noargs = !f->uid && among(no_arguments, name, f->name_len);
	f->cur_serial = push(f)->serial;
	f->cur_answered = 0;
	if (f->denied) {
		f->report.refused++;
		snprintf(f->refused_name, sizeof f->refused_name, "%.*s",
		         (int)f->name_len, name);
		f->report.last_refused = f->refused_name;
	} else if (!f->noargs) {
		strbuf_put(backend, f->head, f->head_len);
	}
	f->cstate = C_ARGS;
	return 0;
}

/* Where c leaves a literal marker "{123+}\r" that may end a line. */
static enum brace marker_next(enum brace b, char c)
{
	switch (b) {
	case B_OPEN:
	case B_DIGITS:
		if (c >= '0' && c <= '9')
			return B_DIGITS;
		if (c == '+')
			return B_PLUS;
		if (c == '}')
			return B_CLOSE;
		break;
	case B_PLUS:
		if (c == '}')
			return B_CLOSE;
		break;
	case B_CLOSE:
		if (c == '\r')
			return B_CR;
		break;
	default:
		break;
	}
	return c == '{' ? B_OPEN : B_NONE;
}

static void out(struct strbuf *backend, const char *data, size_t n)
{
	if (backend)
		strbuf_put(backend, data, n);
}

/* Where c leaves a quoted string. Dovecot reads one only where an
 * argument starts; a quote inside an atom fails the line there. */
static void quote_byte(struct imap_filter *f, char c)
{
	if (f->quoted) {
		if (f->escaped)
			f->escaped = 0;
		else if (c == '\\')
			f->escaped = 1;
		else if (c == '"')
			f->quoted = 0;
		f->arg_start = !f->quoted;
		return;
	}
	f->quoted = c == '"' && f->arg_start;
	f->arg_start = c == ' ' || c == '(' || c == ')';
}

/* One byte of a command's arguments, into backend (NULL for a refused
 * command, whose bytes go nowhere). Returns 1 when it ends the line, with
 * *literal set when the line ended in a literal marker: then "+}" went
 * out as "}". A marker's "+}\r" is held back until that is known. */
static int args_byte(struct imap_filter *f, char c, int *literal,
                     struct strbuf *backend)
{
	enum brace next;

	*literal = 0;
	if (c == '\n') {
		*literal = f->brace == B_CLOSE || f->brace == B_CR;
		f->lit_nonsync = *literal && f->pend_len && f->pend[0] == '+';
		out(backend, f->pend + f->lit_nonsync,
		    f->pend_len - (size_t)f->lit_nonsync);
		out(backend, &c, 1);
		f->pend_len = 0;
		f->brace = B_NONE;
		f->quoted = f->escaped = f->arg_start = 0;
		return 1;
	}
	next = marker_next(f->brace, c);
	if (next == B_DIGITS) {
		f->brace_n = f->brace_n > (UINT64_MAX - 9) / 10 ? UINT64_MAX :
		             f->brace_n * 10 + (uint64_t)(c - '0');
		out(backend, &c, 1);
	} else if (next == B_PLUS || next == B_CLOSE || next == B_CR) {
		f->pend[f->pend_len++] = c;
	} else {
		/* No marker after all. Dovecot asks for a literal at its "}",
		 * before it sees what follows, and fails the line after: it
		 * gets a "?" there instead, which fails the line at once, and
		 * no "+" comes. (Dropping the "}" would join the digits to
		 * what follows: "{18}3+}" would become "{183+}".) In a quoted
		 * string it is text. */
		for (size_t k = 0; k < f->pend_len; k++)
			out(backend, f->pend[k] == '}' && !f->quoted ? "?" :
			             f->pend + k, 1);
		out(backend, &c, 1);
		f->pend_len = 0;
		f->brace_n = 0;
		quote_byte(f, c);
	}
	f->brace = next;
	return 0;
}

/* A command that takes no arguments got one: refused after all. */
static void refuse_late(struct imap_filter *f, char c, int *literal)
{
	struct imap_inflight *e = last_pushed(f);

	f->denied = R_NO_ARGS;
	e->refused = 1;
	e->why = R_NO_ARGS;
	f->report.refused++;
	snprintf(f->refused_name, sizeof f->refused_name, "%s", e->name);
	f->report.last_refused = f->refused_name;
	args_byte(f, c, literal, NULL);
}

static enum guard_result error(struct imap_filter *f, const char *why)
{
	f->report.why = why;
	return GUARD_ERROR;
}

enum guard_result imap_filter_client(struct imap_filter *f, const char *in,
                                     size_t len, size_t *consumed,
                                     struct strbuf *backend,
                                     struct strbuf *client)
{
	size_t i = 0;
	unsigned refused_before = f->report.refused;

	while (i < len) {
		char c = in[i];
		int literal, ended;

		switch (f->cstate) {
		case C_TAG:
			if (f->idle_line && f->head_len == 0) {
				/* Dovecot's IDLE reads the next line itself, DONE
				 * or not, and no command runs from it. */
				f->idle_line = 0;
				f->cstate = C_PASSLINE;
				break;
			}
			if (c == ' ' && f->tag_len > 0) {
				f->head[f->head_len++] = ' ';
				f->name_at = f->head_len;
				f->cstate = C_NAME;
			} else if (c == ' ') {
				/* No tag: nothing a backend would run, nor a line
				 * the filter can read. */
				return error(f, "a line begins with a space");
			} else if ((c == '\r' || c == '\n') && f->tag_len > 0) {
				/* A tag alone: Dovecot answers it with a tagged
				 * BAD, so it is a command like any other. */
				f->name_at = f->head_len;
				f->cstate = C_NAME;
				break;
			} else if (c == '\r' || c == '\n') {
				/* An empty line: no tag to answer. */
				if (strbuf_room(backend) < f->head_len + 1)
					goto hold;
				strbuf_put(backend, f->head, f->head_len);
				f->head_len = f->tag_len = 0;
				strbuf_put(backend, &c, 1);
				f->cstate = c == '\n' ? C_TAG : C_PASSLINE;
			} else if (f->tag_len + 1 >= IMAP_FILTER_TAG_MAX) {
				if (strbuf_room(backend) < f->head_len + 1)
					goto hold;
				strbuf_put(backend, f->head, f->head_len);
				strbuf_put(backend, &c, 1);
				f->head_len = f->tag_len = 0;
				f->cstate = C_LONGTAG;
			} else {
				f->head[f->head_len++] = c;
				f->tag_len++;
			}
			i++;
			break;
		case C_NAME:
			if (c != ' ' && c != '\r' && c != '\n' &&
			    f->name_len + 1 < IMAP_FILTER_NAME_MAX) {
				f->head[f->head_len++] = c;
				f->name_len++;
				i++;
				break;
			}
			if (c == ' ' && !f->uid && f->name_len == 3 &&
			    strncasecmp(f->head + f->name_at, "UID", 3) == 0) {
				f->uid = 1;
				f->head[f->head_len++] = ' ';
				f->name_at = f->head_len;
				f->name_len = 0;
				i++;
				break;
			}
			if (decide(f, backend))
				goto hold;
			/* One refusal per call, so that each gets its log line;
			 * the byte that ended the name is read again. */
			if (f->denied) {
				*consumed = i;
				return GUARD_REFUSED;
			}
			break;      /* the same byte, now as an argument */
		case C_ARGS:
			if (!f->denied && strbuf_room(backend) < sizeof f->head + 8)
				goto hold;
			if (++f->line_bytes > IMAP_FILTER_LINE_MAX)
				return error(f, "command line too long");
			i++;
			if (f->denied) {
				ended = args_byte(f, c, &literal, NULL);
			} else if (f->noargs && (c == '\n' ||
			                         (c == '\r' && !f->noargs_cr))) {
				f->noargs_cr |= c == '\r';
				ended = c == '\n';
				literal = 0;
				if (ended) {
					f->idle_line = strcasecmp(last_pushed(f)->name,
					                          "IDLE") == 0;
					strbuf_put(backend, f->head, f->head_len);
					strbuf_put(backend, &"\r\n"[!f->noargs_cr],
					           1 + (size_t)f->noargs_cr);
				}
			} else if (f->noargs) {
				refuse_late(f, c, &literal);
				*consumed = i;
				return GUARD_REFUSED;
			} else {
				ended = args_byte(f, c, &literal, backend);
			}
			if (!ended)
				break;
			f->line_bytes = 0;
			if (literal && !f->denied) {
				/* Held until the backend says whose it is. */
				f->lit_n = f->brace_n;
				/* Dovecot may have failed the line before its end
				 * (at a "{" inside an atom, say): then no "+" comes. */
				f->cont = CONT_WAIT;
				f->cstate = C_WAIT_CONT;
				break;
			}
			if (literal && f->lit_nonsync) {
				/* A refused command's literal comes anyway. */
				f->lit_left = f->brace_n;
				f->cstate = f->lit_left ? C_LIT : C_ARGS;
				f->arg_start = 1;
				break;
			}
			/* The end, or a refused command's synchronising literal,
			 * which the client sends only after a continuation. */
			command_done(f);
			emit_refusals(f, client);
			break;
		case C_WAIT_CONT:
			if (f->cont == CONT_WAIT && !f->cur_answered)
				goto hold;
			if (f->cont == CONT_GRANTED || f->lit_nonsync) {
				/* The literal, for the backend or (refused by it
				 * after all, sent anyway) for no one. */
				if (f->cont != CONT_GRANTED)
					f->denied = R_DROPPED;
				f->lit_left = f->lit_n;
				f->cstate = f->lit_left ? C_LIT : C_ARGS;
				f->arg_start = 1;
			} else {
				/* Answered without it: what the client sent next
				 * are commands, as the backend reads them. */
				command_done(f);
			}
			f->cont = CONT_NONE;
			break;
		case C_LIT: {
			size_t n = len - i;

			if (n > f->lit_left)
				n = (size_t)f->lit_left;
			if (!f->denied) {
				if (n > strbuf_room(backend))
					n = strbuf_room(backend);
				if (n == 0)
					goto hold;
				strbuf_put(backend, in + i, n);
			}
			i += n;
			f->lit_left -= n;
			if (f->lit_left == 0) {
				f->cstate = C_ARGS;
				f->arg_start = 1;
			}
			break;
		}
		case C_PASSLINE:
		case C_LONGTAG:
			if (c == ' ' && f->cstate == C_LONGTAG)
				return error(f, "tag too long");
			if (strbuf_room(backend) < 1)
				goto hold;
			strbuf_put(backend, &c, 1);
			i++;
			if (c == '\n')
				f->cstate = C_TAG;
			break;
		}
	}
	*consumed = i;
	return f->report.refused != refused_before ? GUARD_REFUSED : GUARD_OK;
hold:
	*consumed = i;
	return f->report.refused != refused_before ? GUARD_REFUSED : GUARD_HOLD;
}

/* The tagged reply to a forwarded command: its entry goes. */
static void answered(struct imap_filter *f, const char *tag, size_t n)
{
	for (size_t k = 0; k < f->count; k++) {
		struct imap_inflight *e = entry(f, k);

		if (e->refused || strlen(e->tag) != n || memcmp(e->tag, tag, n))
			continue;
		if (e->serial == f->cur_serial)
			f->cur_answered = 1;
		for (size_t j = k; j > 0; j--)
			*entry(f, j) = *entry(f, j - 1);
		f->head_i = (f->head_i + 1) % IMAP_FILTER_INFLIGHT_MAX;
		f->count--;
		return;
	}
}

/* The literal a segment announces at its end, "{n}" or "{n+}": n, or -1. */
static int64_t literal_at_end(const char *s, size_t n)
{
	uint64_t v = 0, mul = 1;
	size_t i;

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n < 3 || s[n - 1] != '}')
		return -1;
	i = n - 1;
	if (s[i - 1] == '+')
		i--;
	if (i < 2 || s[i - 1] < '0' || s[i - 1] > '9')
		return -1;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') {
		if (mul > 1000000000000000ULL)
			return -1;
		v += (uint64_t)(s[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	return i > 0 && s[i - 1] == '{' ? (int64_t)v : -1;
}

/* The capability words of s[0..n) without the hidden ones, into out. */
static size_t keep_caps(char (*hide)[IMAP_FILTER_NAME_MAX], size_t nhide,
                        const char *s, size_t n, char *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t w = 0;

		while (i + w < n && s[i + w] != ' ')
			w++;
		if (w && !listed(hide, nhide, s + i, w)) {
			if (o)
				out[o++] = ' ';
			memcpy(out + o, s + i, w);
			o += w;
		}
		i += w + 1;
	}
	return o;
}

/* A response's first line, with hidden capabilities gone from CAPABILITY
 * data and [CAPABILITY ...] codes. */
static size_t rewrite(char (*hide)[IMAP_FILTER_NAME_MAX], size_t nhide,
                      const char *line, size_t n, char *out)
{
	const char *start = NULL, *end = NULL;
	size_t o;

	if (n > 13 && strncasecmp(line, "* CAPABILITY ", 13) == 0) {
		start = line + 13;
		end = line + n;
		while (end > start && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
	} else {
		const char *code = memchr(line, '[', n);

		if (code && (size_t)(line + n - code) > 12 &&
		    strncasecmp(code, "[CAPABILITY ", 12) == 0) {
			start = code + 12;
			end = memchr(start, ']', (size_t)(line + n - start));
		}
	}
	if (!start || !end) {
		memcpy(out, line, n);
		return n;
	}
	o = (size_t)(start - line);
	memcpy(out, line, o);
	o += keep_caps(hide, nhide, start, (size_t)(end - start), out + o);
	memcpy(out + o, end, (size_t)(line + n - end));
	return o + (size_t)(line + n - end);
}

/* A whole segment of a response is in f->line: rewrite, answer, emit. */
/* A response that may carry literals: untagged data ("* 3 FETCH ...").
 * Tagged and untagged status responses and continuations end in free
 * text, which may echo the client's words, "{5}" among them. */
static int carries_data(const char *l, size_t n)
{
	static const char *const status[] = { "OK", "NO", "BAD", "BYE",
	                                      "PREAUTH", NULL };
	size_t w;

	if (n < 2 || l[0] != '*' || l[1] != ' ')
		return 0;
	w = strcspn(l + 2, " \r\n");
	return !among(status, l + 2, w < n - 2 ? w : n - 2);
}

static int segment(struct imap_filter *f, struct strbuf *client)
{
	int64_t lit;
	size_t n = f->line_len;

	if (!f->continues)
		f->data_resp = carries_data(f->line, n);
	lit = f->data_resp ? literal_at_end(f->line, n) : -1;

	if (strbuf_room(client) < n)
		return -1;
	if (!f->continues && f->line[0] == '+' && f->cont == CONT_WAIT &&
	    !f->cur_answered && !idle_in_flight(f)) {
		/* The backend asks for the held literal. The client that sent
		 * {n+} waits for no "+": it is the filter's, not passed on. */
		f->cont = CONT_GRANTED;
		if (f->lit_nonsync)
			n = 0;
		strbuf_put(client, f->line, n);
	} else if (!f->continues) {
		if (f->line[0] != '*' && f->line[0] != '+') {
			size_t t = strcspn(f->line, " \r\n");

			answered(f, f->line, t < n ? t : n);
		}
		n = rewrite(f->hide, f->nhide, f->line, f->line_len,
		            client->buf + client->len);
		client->len += n;
	} else {
		strbuf_put(client, f->line, n);
	}
	f->line_len = 0;
	f->continues = lit >= 0;
	f->blit_left = lit > 0 ? (uint64_t)lit : 0;
	return 0;
}

enum guard_result imap_filter_backend(struct imap_filter *f, const char *in,
                                      size_t len, size_t *consumed,
                                      struct strbuf *client)
{
	size_t i = 0;

	while (i < len) {
		if (f->blit_left) {
			size_t n = len - i;

			if (n > f->blit_left)
				n = (size_t)f->blit_left;
			if (n > strbuf_room(client))
				n = strbuf_room(client);
			if (n == 0)
				break;
			strbuf_put(client, in + i, n);
			i += n;
			f->blit_left -= n;
			continue;
		}
		{
			const char *lf = memchr(in + i, '\n', len - i);
			size_t n = lf ? (size_t)(lf - (in + i)) + 1 : len - i;

			if (f->line_len + n >= sizeof f->line) {
				f->report.why = "response line too long";
				*consumed = i;
				return GUARD_ERROR;
			}
			/* A segment needs its room in the output whole. */
			if (lf && strbuf_room(client) < f->line_len + n)
				break;
			memcpy(f->line + f->line_len, in + i, n);
			f->line_len += n;
			i += n;
			if (!lf)
				break;
			f->line[f->line_len] = '\0';
			segment(f, client);
			emit_refusals(f, client);
		}
	}
	*consumed = i;
	return GUARD_OK;
}

size_t imap_filter_hide(const char *hide, const char *line, size_t n,
                        char *out)
{
	char names[IMAP_FILTER_NAMES_MAX][IMAP_FILTER_NAME_MAX];
	size_t nnames;

	if (take_names(names, &nnames, hide, always_hidden) < 0) {
		memcpy(out, line, n);
		return n;
	}
	return rewrite(names, nnames, line, n, out);
}

static int kind_init(void *state, const struct guard_settings *set,
                     const char **why)
{
	return imap_filter_init(state, set ? set->deny : NULL,
	                        set ? set->hide : NULL, why);
}

static enum guard_result kind_client(void *state, const char *in, size_t len,
                                     size_t *consumed, struct strbuf *backend,
                                     struct strbuf *client)
{
	return imap_filter_client(state, in, len, consumed, backend, client);
}

static enum guard_result kind_backend(void *state, const char *in, size_t len,
                                      size_t *consumed, struct strbuf *client)
{
	return imap_filter_backend(state, in, len, consumed, client);
}

const struct guard_kind guard_imap = {
	.name = "imap",
	.state_size = sizeof(struct imap_filter),
	.report_at = offsetof(struct imap_filter, report),
	.out_min = IMAP_FILTER_OUT_MIN,
	.init = kind_init,
	.client = kind_client,
	.backend = kind_backend,
};
