/*-------------------------------------------------------------------------
 *
 * stamp.h
 *	  The stamp operation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_STAMP_H
#define MG_STAMP_H

#include "nodes/pg_list.h"

#include "registry.h"

/* One row of migrate_stamp's result. */
typedef struct MgStamped
{
	const char *revision;
	const char *action;			/* "stamped" or "unstamped" */
} MgStamped;

extern List *mg_stamp(const char *project, const char *target);

#endif							/* MG_STAMP_H */
