/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  Running a parsed migration script, with retries.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_EXECUTOR_H
#define MG_EXECUTOR_H

#include "datatype/timestamp.h"

#include "script.h"

/* One revision's script to run, and what running it did. */
typedef struct MgRun
{
	const MgScript *script;		/* parsed; its parse trees stay intact */
	const char *verb;			/* for progress: "applying", "reverting" */
	int			step;			/* 1-based place in the plan, for progress */
	int			nsteps;			/* length of the plan */
	bool		top_level;		/* run statement by statement at top level,
								 * each committed (toplevel.c); the caller
								 * holds no snapshot */
	/* set by mg_execute_plan */
	int			statements;		/* statements run */
	int			attempts;		/* 1 + retries */
	TimestampTz started;
	TimestampTz finished;
} MgRun;

/* One row of the result of migrate_upgrade or migrate_downgrade. */
typedef struct MgStep
{
	const char *revision;
	const char *action;			/* "applied", "reverted"; for a dry run
								 * "pending", "revert" */
	int64		duration_us;	/* -1 for a dry run */
	int			statements;
	int			attempts;		/* 0 for a dry run */
} MgStep;

extern void mg_execute_plan(MgRun *runs, int n);
extern MgStep *mg_step_of_run(const MgRun *run, const char *action);
extern MgStep *mg_step_planned(const MgScript *script, const char *action);
extern const MgRun *mg_unfinished_run(const MgRun *runs, int n);
extern bool mg_run_needs_top_level(const MgScript *script, bool marked);
extern void mg_report_progress(const MgRun *run, const char *fmt,...) pg_attribute_printf(2, 3);

#endif							/* MG_EXECUTOR_H */
