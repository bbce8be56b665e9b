/*-------------------------------------------------------------------------
 *
 * upgrade.h
 *	  The upgrade operation and its plan.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_UPGRADE_H
#define MG_UPGRADE_H

#include "nodes/pg_list.h"

#include "registry.h"

/* One row of migrate_upgrade's result. */
typedef struct MgStep
{
	const char *revision;
	const char *action;			/* "applied", or "pending" for a dry run */
	int64		duration_us;	/* -1 for a dry run */
	int			statements;
	int			attempts;		/* 0 for a dry run */
} MgStep;

extern List *mg_upgrade(const char *project, const char *target, bool dry_run);
extern int *mg_plan(MgState *state, const char *target, int *nplan);

#endif							/* MG_UPGRADE_H */
