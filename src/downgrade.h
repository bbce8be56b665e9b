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

#include "registry.h"

extern List *mg_downgrade(const char *project, const char *target, bool dry_run);

#endif							/* MG_DOWNGRADE_H */
