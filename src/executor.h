/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  Running a parsed migration script, with retries.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_EXECUTOR_H
#define MG_EXECUTOR_H

#include "script.h"

/* One revision's script to run, and what running it did. */
typedef struct MgRun
{
	const MgScript *script;		/* parsed; its parse trees stay intact */
	const char *verb;			/* for progress: "applying" */
	int			step;			/* 1-based place in the plan, for progress */
	int			nsteps;			/* length of the plan */
	/* set by mg_execute_run */
	int			statements;		/* statements run */
	int			attempts;		/* 1 + retries */
} MgRun;

extern void mg_executor_begin(void);
extern void mg_executor_end(void);
extern void mg_execute_run(MgRun *run);

#endif							/* MG_EXECUTOR_H */
