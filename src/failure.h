/*-------------------------------------------------------------------------
 *
 * failure.h
 *	  Recording a failed upgrade or downgrade in the history, although the
 *	  caller's transaction rolls back.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_FAILURE_H
#define MG_FAILURE_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/elog.h"

#include "executor.h"

/*
 * What an operation knows about itself, should it fail.  mg_failure_begin
 * fills the call's part; the operation keeps revision (and down,
 * statements, attempts) up to date as it validates and runs revisions.
 */
typedef struct MgFailure
{
	const char *function;		/* "migrate_upgrade", "migrate_downgrade",
								 * "migrate_run" */
	const char *event;			/* "upgrade failed", "downgrade failed" */
	const char *project;
	const char *target;
	const char *role;			/* the caller's */
	TimestampTz started_at;		/* when the call started */
	const char *revision;		/* being validated or run; NULL for none */
	bool		down;			/* its down script, not its up script */
	int			statements;		/* statements of its script; -1 unknown */
	int			attempts;		/* attempts made to run it; -1 none */
} MgFailure;

extern void mg_failure_begin(MgFailure *failure, bool upgrade,
							 const char *project, const char *target);
extern void mg_failure_record(const MgFailure *failure, const ErrorData *edata);
extern void mg_failure_guard(MgFailure *failure, void (*body) (void *), void *arg,
							 MgRun *const *runs, const int *nruns);

extern PGDLLEXPORT void mg_failure_worker_main(Datum arg);

#endif							/* MG_FAILURE_H */
