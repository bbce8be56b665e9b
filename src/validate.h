/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  Finding what is wrong with a project's registry and applied set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_VALIDATE_H
#define MG_VALIDATE_H

#include "nodes/pg_list.h"

#include "registry.h"

typedef struct MgProblem
{
	const char *severity;		/* "error" or "warning" */
	const char *revision;		/* NULL when about the whole project */
	const char *problem;		/* short name, e.g. "checksum drift" */
	const char *message;		/* as errmsg */
	const char *detail;			/* as errdetail */
	const char *hint;			/* as errhint, may be NULL */
	int			sqlerrcode;
} MgProblem;

extern List *mg_validate_graph(const MgState *state);
extern List *mg_validate_applied(const MgState *state);
extern List *mg_validate_scripts(MgState *state);
extern List *mg_validate_indexes(const MgState *state);
extern void mg_raise_first_error(List *problems);
extern const char *mg_first_error_revision(List *problems);

#endif							/* MG_VALIDATE_H */
