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

extern void mg_history_record(const char *project, const char *target, const char *role,
							  const MgHistoryEntry *entries, int n);

#endif							/* MG_HISTORY_H */
