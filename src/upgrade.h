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

#include "executor.h"
#include "registry.h"

extern List *mg_upgrade(const char *project, const char *target, bool dry_run);
extern int *mg_plan(MgState *state, const char *target, int *nplan);

#endif							/* MG_UPGRADE_H */
