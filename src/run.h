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

extern void mg_run(const char *project, const char *target, bool atomic);

#endif							/* MG_RUN_H */
