/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  The registry of revisions and the applied set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_REGISTRY_H
#define MG_REGISTRY_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "graph.h"

typedef struct MgRevision
{
	char	   *id;
	int			nparents;
	char	  **parents;
	char	   *description;
	char	   *checksum;		/* registered checksum; NULL when the
								 * revision is applied but not registered */
	bool		nontransactional;	/* marked to run outside a transaction */
	bool		applied;
	char	   *applied_checksum;
	TimestampTz applied_at;
	char	   *up;				/* loaded by mg_registry_load_scripts */
	char	   *down;			/* loaded with up; NULL when there is none */
} MgRevision;

/*
 * A project's state.  revisions[0..nregistered-1] are the registered ones,
 * numbered as the graph's nodes; after them come applied revisions that are
 * no longer registered.
 */
typedef struct MgState
{
	const char *project;
	int			nrevisions;
	int			nregistered;
	MgRevision *revisions;
	MgGraph    *graph;
} MgState;

extern bool mg_registry_is_clean(const char *project);
extern MgState *mg_registry_load(const char *project);
extern void mg_registry_load_scripts(MgState *state, const int *nodes, int n);
extern void mg_registry_mark_clean(const MgState *state);
extern bool mg_registry_is_applied(const char *project, const char *revision);
/* A revision an upgrade applied or a downgrade reverted, to be recorded. */
typedef struct MgAppliedRecord
{
	const MgRevision *rev;
	TimestampTz started;
	TimestampTz finished;
	int			statements;
	int			attempts;
} MgAppliedRecord;

extern void mg_registry_record_applied(const MgState *state, const char *target,
									   const char *role,
									   const MgAppliedRecord *records, int n);
extern void mg_registry_record_reverted(const MgState *state, const char *target,
										const char *role,
										const MgAppliedRecord *records, int n);
extern void mg_registry_record_stamp(const MgState *state, const char *target,
									 const char *role, const int *added, int nadded,
									 const int *removed, int nremoved);
extern const char *mg_registry_repair(const char *project, const char *revision);
/* What a registration asks for. */
typedef struct MgRegistration
{
	const char *revision;
	const char *up;
	const char *down;			/* NULL: none */
	char	  **parents;
	int			nparents;
	bool		parents_given;	/* false: the single head, or as registered */
	const char *description;	/* NULL: none */
	bool		nontransactional;
	bool		force;			/* record an edit of an applied revision */
	bool		sync;			/* from a folder: see mg_registry_sync */
} MgRegistration;

extern const char *mg_registry_register(const char *project, const MgRegistration *reg);
extern const char **mg_registry_sync(const char *project, const MgRegistration *regs, int n);
extern List *mg_registry_sources(const char *project);
extern char *mg_registry_synced_folder(const char *project, int *nrevisions);
extern void mg_registry_set_synced_folder(const char *project, const char *folder);
extern void mg_registry_unregister(const char *project, const char *revision);

#endif							/* MG_REGISTRY_H */
