/* The checked configuration, compiled. "postern -A" checks the text and
 * writes this image beside the active copy; it is the only form a
 * connection reads (postern, postern-tls), so that neither needs
 * libconfuse nor glibc (see postern.c), and an edit reaches connections
 * only through the gate. Without a usable image (none yet, made by
 * another version, damaged) a connection gets the protocol's temporary
 * failure and the log says to run postern -A. Host names in auth_http
 * were resolved when the image was made, as nginx resolves them when it
 * reads its configuration. */
#ifndef POSTERN_CONF_IMAGE_H
#define POSTERN_CONF_IMAGE_H

#include "conf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define CONF_IMAGE_SUFFIX ".image"
#define CONF_IMAGE_MAX (4u << 20)     /* bytes: far above any real one */
#define CONF_IMAGE_SERVERS_MAX 4096

/* "<config>.image" into buf: 0, or -1 when it does not fit. */
int conf_image_path(const char *config, char *buf, size_t size);

/* The image of c into buf. Its length, or 0 when it does not fit in size
 * (or c cannot be written). */
size_t conf_image_encode(const struct conf *c, unsigned char *buf,
                         size_t size);

/* Reads an image made by this build; c's strings point into buf, which
 * must outlive c (conf_image_load gives it to c). 0, or -1 with why when
 * it is not an image, was made by another build, or is damaged. */
int conf_image_decode(unsigned char *buf, size_t len, struct conf *c,
                      const char **why);

/* The image at path. 0 with c loaded (conf_free it), or -1 with a reason
 * in err, which says what to run when postern -A would mend it;
 * CONF_IMAGE_OTHER_BUILD (also negative) when another build made it. */
#define CONF_IMAGE_OTHER_BUILD (-2)
int conf_image_load(const char *path, struct conf *c, char *err, size_t size);

/* The same for a connection. An image of another build is what a package
 * upgrade leaves between unpacking the new programs and making the image
 * again (its postinst runs postern -A): the connection waits for the new
 * image, up to wait_ms, rather than failing in that window. Any other
 * failure is at once. */
#define CONF_IMAGE_UPGRADE_WAIT_MS 20000
int conf_image_load_waiting(const char *path, struct conf *c, char *err,
                            size_t size, int64_t wait_ms);

/* Writes c's image to path by one rename, with like's owner, group and
 * mode, as the reload gate writes the active copy (activate.h): whoever
 * may read the text may read its image, and nobody else (it holds the
 * same secrets: auth_http_header values). 0, or -1 with why. */
int conf_image_write(const struct conf *c, const char *path,
                     const struct stat *like, char *why, size_t size);

/* The fingerprint a build would have whose table had fields i and j in
 * each other's places: for the test that such a build's image is
 * refused. */
uint32_t conf_image_fingerprint_swapped(size_t i, size_t j);

#endif
