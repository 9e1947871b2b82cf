/* The configuration file's text before libconfuse reads it. libconfuse 3.3
 * counts each comment line more than once, so an error after comments
 * named the wrong line (line 9 for line 5 after two comment lines).
 * Blanking the comments out first, newlines kept, makes its count right. */
#ifndef POSTERN_CONF_TEXT_H
#define POSTERN_CONF_TEXT_H

#include <stddef.h>

/* A configuration larger than this is refused. */
#define CONF_TEXT_MAX (1024 * 1024)

/* The whole file into text, which holds CONF_TEXT_MAX + 1 bytes; NUL
 * terminated. Its length, or -1 with "path: reason" in err. */
long conf_text_read(const char *path, char *text, char *err, size_t size);

/* Replace every comment ("# ...", "// ..." to the end of the line, and
 * "/ * ... * /") outside quoted strings by spaces, keeping each newline,
 * as libconfuse's lexer tells comments from strings. Pure. */
void conf_text_blank_comments(char *text, size_t len);

/* libconfuse expands ${VAR} in double-quoted strings from the
 * environment of whoever reads the file: "k3y-${HOME}" would reach the
 * auth server as k3y-/root, and ${CREDENTIALS_DIRECTORY} would be frozen
 * as postern -A's (unset) value. Nothing is expanded when the text is
 * read: every "$" in a double-quoted string is escaped. The only variable
 * postern knows, ${CREDENTIALS_DIRECTORY} at the start of a TLS file's
 * path, is expanded by each connection (tls_path.h). in is blanked of
 * comments; out holds 2 * len + 1 bytes. Returns out's length. */
size_t conf_text_keep_dollars(const char *in, size_t len, char *out);

/* libconfuse takes the end of the file for the end of an open section,
 * so "server a {" with no "}" passed the check. The line of the first "{"
 * outside quotes that is never closed (or of one nested deeper than
 * CONF_TEXT_DEPTH_MAX), or 0. text is blanked of comments. Pure. */
#define CONF_TEXT_DEPTH_MAX 32
int conf_text_unclosed(const char *text, size_t len);

#endif
