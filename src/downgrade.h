/*-------------------------------------------------------------------------
 *
 * downgrade.h
 *	  The downgrade operation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_DOWNGRADE_H
#define MG_DOWNGRADE_H

#include "nodes/pg_list.h"

#include "executor.h"
#include "failure.h"
#include "registry.h"

extern List *mg_downgrade(const char *project, const char *target, bool dry_run);
extern int *mg_plan_downgrade(MgState *state, const char *target, int *nplan);
extern MgRun *mg_downgrade_prepare(MgState *state, const int *plan, int nplan,
								   MgFailure *failure, bool in_one_transaction);

#endif							/* MG_DOWNGRADE_H */
