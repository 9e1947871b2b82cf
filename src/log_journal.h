#ifndef POSTERN_LOG_JOURNAL_H
#define POSTERN_LOG_JOURNAL_H

/* Make "journal" (and "auto" under systemd) log through sd_journal_sendv. */
void log_journal_enable(void);

#endif
