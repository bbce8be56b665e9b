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
#include "failure.h"
#include "registry.h"
#include "script.h"

extern List *mg_upgrade(const char *project, const char *target, bool dry_run);
extern int *mg_plan(MgState *state, const char *target, int *nplan);
extern MgScript **mg_upgrade_prepare(MgState *state, const int *plan, int nplan,
									 MgFailure *failure, bool in_one_transaction);
extern bool mg_fully_applied(const MgState *state);

#endif							/* MG_UPGRADE_H */
