/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Starting and stopping pg_migrate's dynamic background workers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_WORKER_H
#define MG_WORKER_H

#include "postmaster/bgworker.h"
#include "storage/dsm.h"

extern bool mg_worker_start(const char *function, const char *type,
							const char *name, dsm_segment *seg,
							BackgroundWorkerHandle **handle);
extern void mg_worker_stop(BackgroundWorkerHandle *handle);

#endif							/* MG_WORKER_H */
