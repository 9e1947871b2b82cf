/* The reload gate. "postern -A" checks the file the operator edits,
 * copies it next to the active copy, compiles the copy into the image
 * connections read (conf_image.h), and renames each into place, image
 * first: a connection reads the old image or the new one, never a
 * half-written or unchecked one. Both live on disk (not under /run), so a
 * reboot keeps the last good ones. */
#ifndef POSTERN_ACTIVATE_H
#define POSTERN_ACTIVATE_H

#include <stddef.h>
#include <sys/stat.h>

#ifndef ACTIVE_CONFIG
#define ACTIVE_CONFIG "/var/lib/postern/postern.conf"
#endif

/* Writes buf to "<dest>.new" with like's owner, group and mode, synced;
 * writes that path to staged. 0, or -1 with why (an owner or group this
 * process may not give is a failure, not a warning: a copy that the
 * service user cannot read, or that others can, is what the gate is
 * there to prevent). */
int activate_stage_bytes(const void *buf, size_t len, const struct stat *like,
                         const char *dest, char *staged, size_t size,
                         char *why, size_t why_size);

/* Copies src to "<active>.new" with src's owner, group and mode, synced;
 * writes that path to staged. 0, or -1 with why. */
int activate_stage(const char *src, const char *active, char *staged,
                   size_t size, char *why, size_t why_size);

/* Renames the staged copy over active and syncs the directory. */
int activate_commit(const char *staged, const char *active, char *why,
                    size_t why_size);

#endif
