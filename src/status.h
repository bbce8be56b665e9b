/*-------------------------------------------------------------------------
 *
 * status.h
 *	  Summaries of a project's state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_STATUS_H
#define MG_STATUS_H

#include "nodes/pg_list.h"

#include "lock.h"
#include "registry.h"

typedef struct MgStatus
{
	List	   *applied_heads;	/* of MgRevision * */
	List	   *registry_heads; /* of MgRevision * */
	int			applied;
	int			pending;
	int			drifted;
	const MgRevision *last;		/* most recently applied, or NULL */
	bool		locked;
	MgLockHolder holder;
} MgStatus;

extern List *mg_applied_heads(const MgState *state);
extern List *mg_registry_heads(const MgState *state);
extern void mg_status(const MgState *state, MgStatus *status);

#endif							/* MG_STATUS_H */
