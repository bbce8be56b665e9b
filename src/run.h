/*-------------------------------------------------------------------------
 *
 * run.h
 *	  CALL migrate_run: up or down to a target, each revision committed on
 *	  its own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_RUN_H
#define MG_RUN_H

/* Which way a run may go. */
typedef enum MgRunDirection
{
	MG_RUN_EITHER,				/* as the target says */
	MG_RUN_UP,					/* only up: an applied target is a no-op */
	MG_RUN_DOWN					/* only down */
} MgRunDirection;

extern void mg_run(const char *project, const char *target,
				   MgRunDirection direction, bool atomic);

#endif							/* MG_RUN_H */
