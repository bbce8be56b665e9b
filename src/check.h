/*-------------------------------------------------------------------------
 *
 * check.h
 *	  The scheduler's check of a project: one line when it is at head with
 *	  no drift, one error naming every problem otherwise.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CHECK_H
#define MG_CHECK_H

extern char *mg_check(const char *project);

#endif							/* MG_CHECK_H */
