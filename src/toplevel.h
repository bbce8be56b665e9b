/*-------------------------------------------------------------------------
 *
 * toplevel.h
 *	  Running a script's statements at top level, in a background worker
 *	  connected as the caller, for statements that cannot run in a
 *	  transaction block.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_TOPLEVEL_H
#define MG_TOPLEVEL_H

#include "utils/elog.h"

#include "executor.h"

/*
 * Run the statements of run->script (as parsed by script.c: script->stmts,
 * script->sql) from index first (0-based) at top level, in a background
 * worker connected to this database as the caller (its authenticated user,
 * then its settings, role and current user), each statement in a
 * transaction of its own with lock_timeout = pg_migrate.lock_timeout and
 * the script's own SETs lasting to the end of the script (a run from a
 * later statement, a retry, makes the earlier SETs again).  The caller must
 * hold no snapshot (it has committed its transaction; it may be in a fresh
 * one, or a subtransaction, without a snapshot) and have masking of
 * messages in force (mg_execute_plan does both).  run->verb, run->step and
 * run->nsteps are used for the caller's progress in pg_stat_activity
 * ("pg_migrate: applying X (n/m), statement k/t at top level"); nothing in
 * run is changed.  The worker's NOTICEs are re-raised here as they come.
 *
 * Returns NULL on success, or the (masked) error of the failing statement,
 * with the usual script error context (project, revision, statement, line,
 * column; mg_script_error_position knows them too) and, for a lock
 * timeout, the lock waited for and its holders in the detail; *done is how
 * many statements completed (they stay committed).  A failed concurrent
 * index build's INVALID index is dropped before returning, and named in
 * the error's detail.  Interrupts (cancel, terminate, timeouts) of the
 * caller stop the worker, wait for it to exit, and are re-raised.  A
 * worker that cannot be started raises MG036 (no free slot, no shared
 * memory segment; nothing ran), one that stops before its work or without
 * finishing raises MG037; neither is returned.
 */
extern ErrorData *mg_toplevel_run(const MgRun *run, int first, int *done);

extern PGDLLEXPORT void mg_toplevel_worker_main(Datum arg);

#endif							/* MG_TOPLEVEL_H */
