/* Paths of TLS files: a key may live in systemd's credentials directory,
 * which LoadCredential= fills for the units' dynamic user. */
#ifndef POSTERN_TLS_PATH_H
#define POSTERN_TLS_PATH_H

#include <stddef.h>

/* A path that begins "${CREDENTIALS_DIRECTORY}" lives in systemd's
 * credentials directory (LoadCredential=), which each connection's unit
 * has under its own name: it is expanded here, per connection, from the
 * environment, never when the configuration is read. Others are as
 * given. */
const char *tls_expand_path(const char *path, char *buf, size_t size);

/* Such a path where the variable is not set (postern -t from a shell, a
 * gate unit without LoadCredential=): only a connection can read it. */
int tls_path_deferred(const char *path);

#endif
