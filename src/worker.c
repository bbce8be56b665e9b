/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Starting and stopping pg_migrate's dynamic background workers: the
 *	  failure recorder (failure.c) and the top-level runner (toplevel.c).
 *
 * Both are started on demand with RegisterDynamicBackgroundWorker, so
 * pg_migrate needs no shared_preload_libraries; both connect to a
 * database, never restart, find their work in a dynamic shared memory
 * segment whose handle is their argument, and tell the postmaster to
 * signal the starting backend when they stop (bgw_notify_pid), so that it
 * can wait for them on its latch.  What each does, and how long its
 * starter waits for it, is the business of its own file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/wait_event.h"

#include "worker.h"

/* how often mg_worker_stop looks again, should a wake-up be missed */
#define STOP_POLL_MS 100

/*
 * Register a worker that runs function (a PGDLLEXPORT function of this
 * library) with seg's handle as its argument; type is what
 * pg_stat_activity shows as its backend type, name what the server log
 * calls it.  Returns false when no worker slot is free
 * (max_worker_processes), with *handle unset; the caller says what that
 * means for it.
 */
bool
mg_worker_start(const char *function, const char *type, const char *name,
				dsm_segment *seg, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "pg_migrate", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker.bgw_name, name, BGW_MAXLEN);
	strlcpy(worker.bgw_type, type, BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/*
 * Ask the worker to terminate (SIGTERM; one not started yet never starts)
 * and wait until it has stopped, with interrupts held: a query cancel or
 * a termination request of this backend stays pending for the caller to
 * act on.  Safe in a PG_CATCH and in a before_shmem_exit callback, as the
 * backend exits.  Returns at once if the postmaster has died, which takes
 * every worker with it.
 */
void
mg_worker_stop(BackgroundWorkerHandle *handle)
{
	pid_t		pid;

	HOLD_INTERRUPTS();
	TerminateBackgroundWorker(handle);
	for (;;)
	{
		BgwHandleStatus status = GetBackgroundWorkerPid(handle, &pid);

		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 STOP_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	RESUME_INTERRUPTS();
}
