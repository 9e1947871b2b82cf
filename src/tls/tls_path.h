/* Paths of TLS files: a key may live in systemd's credentials directory,
 * which LoadCredential= fills for the units' dynamic user. */
#ifndef POSTERN_TLS_PATH_H
#define POSTERN_TLS_PATH_H

#include <stddef.h>

/* A path that begins "${CREDENTIALS_DIRECTORY}" lives in systemd's
 * credentials directory (LoadCredential=); others are as given. */
const char *tls_expand_path(const char *path, char *buf, size_t size);

#endif
