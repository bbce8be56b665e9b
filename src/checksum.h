/*-------------------------------------------------------------------------
 *
 * checksum.h
 *	  Token checksums of migration scripts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CHECKSUM_H
#define MG_CHECKSUM_H

/* hex digits of a SHA-256 checksum */
#define MG_CHECKSUM_LEN 64

extern char *mg_script_checksum(const char *sql);

#endif							/* MG_CHECKSUM_H */
