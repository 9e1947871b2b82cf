#include "activate.h"

#include "clock.h"
#include "conf_text.h"
#include "lineio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file never makes a write wait (poll says it is ready); the bound is
 * there only because every write in postern has one. */
#define STAGE_WRITE_MS 60000

int activate_stage_bytes(const void *buf, size_t len, const struct stat *like,
                         const char *dest, char *staged, size_t size,
                         char *why, size_t why_size)
{
	struct stat st;
	int out;

	if ((size_t)snprintf(staged, size, "%s.new", dest) >= size) {
		snprintf(why, why_size, "%s: path too long", dest);
		return -1;
	}
	out = open(staged, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		snprintf(why, why_size, "%s: %s", staged, strerror(errno));
		return -1;
	}
	/* The owner first: chown clears set-id bits that fchmod then sets.
	 * Asked only when it differs, so that a user activating its own
	 * files needs no privilege. */
	if (fstat(out, &st) < 0 ||
	    ((st.st_uid != like->st_uid || st.st_gid != like->st_gid) &&
	     fchown(out, like->st_uid, like->st_gid) < 0)) {
		snprintf(why, why_size, "%s: cannot give it owner %u and group "
		         "%u: %s", staged, (unsigned)like->st_uid,
		         (unsigned)like->st_gid, strerror(errno));
		close(out);
		unlink(staged);
		return -1;
	}
	if (fchmod(out, like->st_mode & 07777) < 0 ||
	    io_write_all(out, buf, len, clock_ms() + STAGE_WRITE_MS) != IO_OK ||
	    fsync(out) < 0) {
		snprintf(why, why_size, "%s: %s", staged, strerror(errno));
		close(out);
		unlink(staged);
		return -1;
	}
	close(out);
	return 0;
}

int activate_stage(const char *src, const char *active, char *staged,
                   size_t size, char *why, size_t why_size)
{
	static char text[CONF_TEXT_MAX + 1];
	struct stat st;
	long len;

	if (stat(src, &st) < 0) {
		snprintf(why, why_size, "%s: %s", src, strerror(errno));
		return -1;
	}
	len = conf_text_read(src, text, why, why_size);
	if (len < 0)
		return -1;
	return activate_stage_bytes(text, (size_t)len, &st, active,
	                            staged, size, why, why_size);
}

int activate_commit(const char *staged, const char *active, char *why,
                    size_t why_size)
{
	char dir[4096];
	int fd;

	if (rename(staged, active) < 0) {
		snprintf(why, why_size, "%s: %s", active, strerror(errno));
		unlink(staged);
		return -1;
	}
	/* The rename itself survives a crash only once its directory is
	 * synced. */
	snprintf(dir, sizeof dir, "%s", active);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
