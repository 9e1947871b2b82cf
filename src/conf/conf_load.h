/* The configuration's text, read with libconfuse and validated into the
 * structs of conf.h. Only the programs that link libconfuse read it:
 * postern-text, and postern-tls when there is no current image. */
#ifndef POSTERN_CONF_LOAD_H
#define POSTERN_CONF_LOAD_H

#include "conf.h"

/* 0, or -1 with a "file:line: reason" message in err. */
int conf_load(const char *path, struct conf *conf, char *err, size_t size);

#endif
