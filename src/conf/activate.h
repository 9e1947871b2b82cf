/* The reload gate. Connections read the active configuration, a checked
 * copy of the one the operator edits; "postern -A" copies the edited file
 * next to the active one, checks the copy as "postern -t" would, and only
 * then renames it into place, so that a connection reads the old file or
 * the new one, never a half-written or unchecked one. The active copy
 * lives on disk (not under /run), so a reboot keeps the last good one. */
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

/* The file a connection reads when no -c names one: the active copy
 * whenever it exists, readable or not, so that one the service user
 * cannot read is that reader's error (the client hears the temporary
 * failure) and never a way to the unchecked edit; the edited file only
 * while there is no active copy at all (a setup that never activated). */
const char *activate_current(const char *active, const char *fallback);

#endif
