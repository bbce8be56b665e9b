/*-------------------------------------------------------------------------
 *
 * history.h
 *	  The audit log.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_HISTORY_H
#define MG_HISTORY_H

#include "datatype/timestamp.h"

/* One row of the audit log; NULL strings and -1 counts are stored as null. */
typedef struct MgHistoryEntry
{
	const char *event;			/* register, update, unregister, upgrade,
								 * downgrade, stamp, unstamp, repair */
	const char *revision;
	const char *checksum;
	const char *previous_checksum;
	TimestampTz started_at;
	TimestampTz finished_at;
	int			statements;
	int			attempts;
	const char *detail;
} MgHistoryEntry;

/*
 * The row of a failed upgrade or downgrade (failure.c), written by a
 * process of its own for a caller whose transaction is rolling back: so
 * the caller's identity is carried in the row, not taken from the writer.
 * NULL strings and 0 statement and line, -1 counts are stored as null.
 */
typedef struct MgFailureRow
{
	const char *project;
	const char *event;			/* "upgrade failed", "downgrade failed" */
	const char *revision;
	const char *target;
	TimestampTz started_at;
	TimestampTz finished_at;
	int			statements;
	int			attempts;
	const char *role;
	const char *application_name;
	int			backend_pid;
	const char *detail;			/* the error's detail, masked */
	const char *sqlstate;
	const char *message;		/* the error's message, masked */
	int			statement;		/* 1-based number of the failing statement */
	int			line;			/* its line in the script */
} MgFailureRow;

extern void mg_history_record(const char *project, const char *target, const char *role,
							  const MgHistoryEntry *entries, int n);
extern void mg_history_record_failure(const MgFailureRow *row);
extern void mg_history_log_revision(bool applied, const char *project,
									const char *revision, TimestampTz started,
									TimestampTz finished, int attempts);

#endif							/* MG_HISTORY_H */
