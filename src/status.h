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

/* An INVALID index that an interrupted concurrent build left. */
typedef struct MgInvalidIndex
{
	Oid			oid;			/* the index */
	const char *index;			/* schema-qualified, quoted as needed */
	const char *table;			/* its table, the same way */
	const char *revision;		/* whose script built it */
	bool		down;			/* the down script, not the up script */
	int			statement;		/* which statement of it, from 1 */
} MgInvalidIndex;

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
	List	   *invalid_indexes;	/* of MgInvalidIndex *, by name */
} MgStatus;

extern List *mg_applied_heads(const MgState *state);
extern List *mg_registry_heads(const MgState *state);
extern void mg_status(const MgState *state, MgStatus *status);
extern List *mg_invalid_indexes(const char *project);

#endif							/* MG_STATUS_H */
