/* The checked configuration as a compact image. "postern -A" writes it
 * beside the active copy; a connection's front reads it instead of the
 * text, so that it needs neither libconfuse nor glibc (see postern.c).
 * The image is a cache: it names the text it was made from (device,
 * inode, size, change times), and one that does not match the text on
 * disk is not used. Host names in auth_http were resolved when the image
 * was made, as nginx resolves them when it reads its configuration. */
#ifndef POSTERN_CONF_IMAGE_H
#define POSTERN_CONF_IMAGE_H

#include "conf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define CONF_IMAGE_SUFFIX ".image"
/* Why a damaged image was passed over, for front_start to log once the
 * configuration names the log; an environment variable because the
 * reader may be the next program (postern execs postern-text). */
#define CONF_IMAGE_FAULT "POSTERN_IMAGE_FAULT"
#define CONF_IMAGE_MAX (4u << 20)     /* bytes: far above any real one */
#define CONF_IMAGE_SERVERS_MAX 4096

/* What the image says of the text it was made from. */
struct conf_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

void conf_stamp_of(const struct stat *st, struct conf_stamp *stamp);

/* The image of c made from the text stamp names, into buf. Its length,
 * or 0 when it does not fit in size (or c cannot be written). */
size_t conf_image_encode(const struct conf *c, const struct conf_stamp *stamp,
                         unsigned char *buf, size_t size);

/* Reads an image made by this build; c's strings point into buf, which
 * must outlive c (conf_image_load gives it to c). 0; 1 when the image
 * was made from other text than stamp (NULL: any) or by another build;
 * -1 with why when it is not an image, or is damaged. */
int conf_image_decode(unsigned char *buf, size_t len,
                      const struct conf_stamp *stamp, struct conf *c,
                      const char **why);

/* The image of the text at path ("<path>.image"), when it was made from
 * that text as it is now. 0 with c loaded (conf_free it); 1 when there is
 * none or it is stale (read the text); -1 with a reason in err when it is
 * unreadable or damaged. */
int conf_image_load(const char *path, struct conf *c, char *err, size_t size);

/* Writes c's image for the text at text_path to "<text_path>.image",
 * with the text's owner, group and mode, as the reload gate writes the
 * active copy (activate.h). 0, or -1 with why. */
int conf_image_write(const struct conf *c, const char *text_path, char *why,
                     size_t size);

#endif
