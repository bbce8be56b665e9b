/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Bookkeeping access to the migrate schema as its owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CATALOG_H
#define MG_CATALOG_H

#include "executor/spi.h"

typedef struct MgOwnerScope
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} MgOwnerScope;

/* Statements run by mg_catalog_exec; each is prepared once per backend. */
typedef enum MgCatalogQuery
{
	MGQ_PROJECT_STATE,
	MGQ_LOAD_REVISIONS,
	MGQ_LOAD_ORPHANS,
	MGQ_LOAD_SCRIPTS,
	MGQ_INSERT_APPLIED,
	MGQ_INSERT_HISTORY,
	MGQ_MARK_CLEAN,
	MGQ_GET_REVISION,
	MGQ_REGISTRY_HEADS,
	MGQ_INSERT_REVISION,
	MGQ_UPDATE_REVISION,
	MGQ_DELETE_REVISION,
	MGQ_CHILDREN,
	MGQ_HISTORY,
	MGQ_DELETE_APPLIED,
	MGQ_REPAIR_APPLIED,
	MGQ_SET_SOURCE_HASH,
	MGQ_SOURCES,
	MGQ_SYNC_INPUT,
	MGQ_GET_REVISIONS,
	MGQ_INSERT_REVISIONS,
	MGQ_UPDATE_REVISIONS,
	MGQ_SET_SOURCE_HASHES,
	MGQ_SYNCED_FOLDER,
	MGQ_SET_SYNCED_FOLDER,
	MGQ_PROJECTS,
	MGQ_INSERT_FAILURE,
	/* concurrent index builds and the INVALID indexes they left */
	MGQ_INSERT_INDEX_BUILD,
	MGQ_DELETE_INDEX_BUILD,
	MGQ_DELETE_STALE_INDEX_BUILDS,
	MGQ_INVALID_INDEXES,
	MGQ__COUNT
} MgCatalogQuery;

extern void mg_owner_begin(MgOwnerScope *scope);
extern void mg_owner_end(MgOwnerScope *scope);
extern int	mg_catalog_exec(MgCatalogQuery query, Datum *values, const char *nulls);
extern Datum mg_array(Datum *elems, bool *nulls, int n, Oid elemtype);
extern Datum mg_text_array(char **items, int n);
extern Datum mg_text_or_null(const char *s, bool *isnull);
extern char *mg_result_text(int row, int col);
extern char **mg_result_text_array(int row, int col, int *n);

#endif							/* MG_CATALOG_H */
