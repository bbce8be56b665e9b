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

typedef struct MgHistoryEntry
{
	const char *project;
	const char *event;			/* register, update, unregister, upgrade */
	const char *revision;
	const char *target;
	const char *checksum;
	const char *previous_checksum;
	TimestampTz started_at;
	TimestampTz finished_at;
	int			statements;		/* -1: not applicable */
	int			attempts;		/* -1: not applicable */
	const char *role;			/* the role the work was done for */
	const char *detail;
} MgHistoryEntry;

extern void mg_history_record(const MgHistoryEntry *entry);

#endif							/* MG_HISTORY_H */
