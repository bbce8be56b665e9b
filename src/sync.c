/*-------------------------------------------------------------------------
 *
 * sync.c
 *	  Bring a folder's revisions into the registry: the revisions a client
 *	  sends (migrate_sync), or the folder named by pg_migrate.directory,
 *	  which migrate_upgrade reads first.
 *
 * A sync registers each revision as migrate_register would, with two
 * differences that suit files (registry.c): an edited script of an applied
 * revision is recorded and reported as drift instead of refused, so that
 * the upgrade that follows stops with the drift error naming it; and the
 * registered parents of an applied revision are kept.  Everything happens
 * in the caller's transaction, under the migration lock: a sync is all or
 * nothing, and a folder with any bad file registers nothing.
 *
 * Reading files on the server is for those who may set
 * pg_migrate.directory (superusers, or roles granted SET on it): the
 * setting could otherwise point any caller at any folder the server can
 * read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "pg_migrate.h"
#include "reader.h"
#include "registry.h"
#include "sync.h"

/*
 * Register the n revisions of revs in project, in order; return a List of
 * MgSynced, one per revision, saying what happened to it.
 *
 * folder, when not NULL, is the client program's description of the
 * folder it read (a fingerprint of its files; the server does not look
 * inside).  The client passes it when the registry, once revs are in,
 * holds exactly that folder's revisions; it is kept unless a revision
 * drifted, and the client's next no-op deploy finds it with
 * migrate_synced_folder() and need not parse or compare anything.  Any later change to the project's
 * registered revisions forgets it (the trigger migrate.forget_clean).
 */
List *
mg_sync_revisions(const char *project, const MgFileRevision *revs, int n,
				  const char *folder)
{
	bool		drifted = false;
	MgRegistration *regs = palloc0(sizeof(MgRegistration) * Max(n, 1));
	const char **actions;
	List	   *result = NIL;
	int			i;

	for (i = 0; i < n; i++)
	{
		regs[i].revision = revs[i].id;
		regs[i].up = revs[i].up;
		regs[i].down = revs[i].down;
		regs[i].parents = revs[i].parents;
		regs[i].nparents = revs[i].nparents;
		regs[i].parents_given = true;
		regs[i].description = revs[i].description;
		regs[i].nontransactional = revs[i].nontransactional;
		regs[i].sync = true;
	}
	actions = mg_registry_sync(project, regs, n);
	for (i = 0; i < n; i++)
	{
		MgSynced   *synced = palloc(sizeof(MgSynced));

		synced->revision = revs[i].id;
		synced->action = actions[i];
		result = lappend(result, synced);
		if (strcmp(actions[i], "drifted") == 0)
			drifted = true;
	}
	if (folder != NULL && !drifted)
		mg_registry_set_synced_folder(project, folder);
	return result;
}

/*
 * When pg_migrate.directory is set, register its files in project before
 * an upgrade, with a NOTICE saying what changed.  Refused to a role that
 * may not set the parameter; a folder with a bad file is refused whole,
 * with every problem listed.
 */
void
mg_sync_directory(const char *project)
{
	const char *dir = pg_migrate_directory;
	MgFileSet  *set;
	ListCell   *lc;
	int			added = 0,
				updated = 0,
				drifted = 0;

	if (dir == NULL || dir[0] == '\0')
		return;

	if (!superuser() &&
		pg_parameter_aclcheck("pg_migrate.directory", GetUserId(), ACL_SET) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the migration folder \"%s\"", dir),
				 errdetail("pg_migrate.directory is set, and reading files on the server is allowed only to roles that may set it."),
				 errhint("Run the upgrade as a role granted SET on pg_migrate.directory, or register the files with the pg_migrate client instead.")));

	set = mg_read_directory(dir, MG_LAYOUT_DETECT);
	if (set->nerrors > 0)
	{
		StringInfoData detail;
		int			i;

		initStringInfo(&detail);
		for (i = 0; i < set->nerrors; i++)
			appendStringInfo(&detail, "%s%s", i > 0 ? "\n" : "", set->errors[i]);
		ereport(ERROR,
				(errcode(ERRCODE_MG_BAD_FILES),
				 errmsg_plural("the migration folder \"%s\" has %d problem",
							   "the migration folder \"%s\" has %d problems",
							   set->nerrors, dir, set->nerrors),
				 errdetail_internal("%s", detail.data),
				 errhint("Fix the files; nothing was registered.")));
	}

	foreach(lc, mg_sync_revisions(project, set->revisions, set->nrevisions, NULL))
	{
		MgSynced   *synced = lfirst(lc);

		if (strcmp(synced->action, "added") == 0)
			added++;
		else if (strcmp(synced->action, "updated") == 0)
			updated++;
		else if (strcmp(synced->action, "drifted") == 0)
			drifted++;
	}
	ereport(NOTICE,
			(errmsg("synced %d revisions from \"%s\" (%s layout): %d added, %d updated, %d drifted",
					set->nrevisions, dir, mg_layout_name(set->layout),
					added, updated, drifted)));
}
