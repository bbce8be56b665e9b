/*-------------------------------------------------------------------------
 *
 * sync.h
 *	  Registering a folder's revisions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_SYNC_H
#define MG_SYNC_H

#include "nodes/pg_list.h"

#include "reader.h"

/* One row of migrate_sync's result. */
typedef struct MgSynced
{
	const char *revision;
	const char *action;			/* added, unchanged, updated, drifted */
} MgSynced;

extern List *mg_sync_revisions(const char *project, const MgFileRevision *revs, int n,
							   const char *folder);
extern void mg_sync_directory(const char *project);

#endif							/* MG_SYNC_H */
