/*-------------------------------------------------------------------------
 *
 * reader.h
 *	  Reading a folder of migration files: pg_migrate's own format (a
 *	  superset of dbmate's), golang-migrate pairs, diesel/sqlx folders and
 *	  Flyway.  One source, compiled into the extension (server-side
 *	  directory sync) and, with -DFRONTEND, into the pg_migrate client.
 *
 * The reader never registers anything and never raises an error for a bad
 * file: it collects every problem, each naming the file and line, so the
 * caller can refuse the whole folder with all of them listed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_READER_H
#define MG_READER_H

typedef enum MgLayout
{
	MG_LAYOUT_DETECT = 0,		/* decide from the files */
	MG_LAYOUT_PG_MIGRATE,		/* NAME.sql with "-- migrate:" headers and
								 * sections; dbmate's db/migrations too */
	MG_LAYOUT_GOLANG_MIGRATE,	/* N_name.up.sql + N_name.down.sql; sqlx's
								 * pairs and N_name.sql files too */
	MG_LAYOUT_DIESEL,			/* NAME/up.sql + NAME/down.sql */
	MG_LAYOUT_FLYWAY			/* V1__name.sql, V1.1__name.sql,
								 * U1__name.sql */
} MgLayout;

/* One revision read from the folder. */
typedef struct MgFileRevision
{
	char	   *id;				/* from the file name, or the revision
								 * header */
	char	  **parents;		/* always explicit: the header's, else the
								 * previous revision in the layout's order;
								 * none for the first (a root) */
	int			nparents;
	char	   *description;	/* NULL when none */
	char	   *up;				/* the up script, never NULL ("" allowed) */
	char	   *down;			/* NULL when there is none */
	bool		nontransactional;	/* dbmate's "transaction:false" */
	char	   *source;			/* the file(s), relative to the folder, for
								 * messages */
} MgFileRevision;

/* What a folder holds, or what is wrong with it. */
typedef struct MgFileSet
{
	MgLayout	layout;			/* the layout given, or the one detected */
	int			nrevisions;
	MgFileRevision *revisions;	/* in the layout's order */
	int			nerrors;
	char	  **errors;			/* "FILE:LINE: message" (LINE 0 when the
								 * problem is the file as a whole); when
								 * there are any, register nothing */
} MgFileSet;

/*
 * Read every migration file of dir with the given layout (or detect it).
 * Never returns NULL; problems are in ->errors.  Allocates with palloc
 * (the server's memory contexts; in the client, libpgcommon's
 * fe_memutils).
 */
extern MgFileSet *mg_read_directory(const char *dir, MgLayout layout);

/* A SHA-256 digest in hex, as mg_file_revision_hash gives it. */
#define MG_DIGEST_HEX_LEN 64

/* A folder's fingerprint in hex: 128 bits (see mg_read_folder_files). */
#define MG_FINGERPRINT_HEX_LEN 32

/* The files of a folder, read but not parsed (mg_read_folder_files). */
typedef struct MgFolderFiles
{
	int			nfiles;
	char	  **names;			/* relative paths, in the order read */
	char	  **data;			/* contents, NUL-terminated */
	size_t	   *lens;
	int			nerrors;
	char	  **errors;			/* "FILE:0: message" for what could not be
								 * listed or read */
	char		fingerprint[MG_FINGERPRINT_HEX_LEN + 1];	/* of every file's
															 * name and bytes,
															 * when there are
															 * no errors */
} MgFolderFiles;

/*
 * mg_read_directory in two halves, for a caller that can tell from the
 * fingerprint that it need not parse (the client program's no-op deploy):
 * mg_read_folder_files lists and reads the folder; mg_parse_folder_files
 * parses what it read (an MgFileSet with its errors, when it had any).
 * The fingerprint is 128 bits of a fast hash, not a cryptographic digest:
 * two folders with the same fingerprint hold the same files, byte for
 * byte, unless someone built a collision on purpose (who could as well
 * edit the files).
 */
extern MgFolderFiles *mg_read_folder_files(const char *dir);
extern MgFileSet *mg_parse_folder_files(const MgFolderFiles *files,
										MgLayout layout, const char *dir);
extern void mg_free_folder_files(MgFolderFiles *files);

/*
 * When set, mg_read_directory and mg_read_folder_files call this after
 * each file they read, so that
 * a caller can get on with other work during a long read (the client
 * program drives its connection to the server).  It must not use the file
 * set being read, nor raise an error.
 */
extern void (*mg_reader_file_hook) (void);

/*
 * The same from memory: nfiles files with relative paths names[i] ("a.sql",
 * "2024-01-01-000000_x/up.sql") and contents data[i] of lengths lens[i].
 * mg_read_directory is this after listing and reading the folder; the fuzz
 * target and the tests call it directly.
 */
extern MgFileSet *mg_read_files(int nfiles, const char *const *names,
								const char *const *data, const size_t *lens,
								MgLayout layout);

/*
 * Free a result of mg_read_directory or mg_read_files with everything it
 * points to (pfree, piece by piece).  For callers that read many folders in
 * one memory context: the fuzz target and the tests.  set must not be used
 * afterwards.
 */
extern void mg_free_file_set(MgFileSet *set);

/*
 * pg_migrate's naming rules, here so that the extension and the client
 * program apply the same ones.  A name (project, revision id) is 1 to
 * maxlen characters of A-Z a-z 0-9 _ . -.  A revision id is a name of at
 * most MG_MAX_REVISION_LEN characters that is not reserved for targets:
 * "head", "heads", "base" and ids starting with "-" would make a target
 * ambiguous.  Neither function raises an error; callers word their own.
 */
typedef enum MgIdProblem
{
	MG_ID_VALID = 0,
	MG_ID_BAD_NAME,				/* not a name of 1 to MG_MAX_REVISION_LEN
								 * characters */
	MG_ID_RESERVED				/* "head", "heads", "base", "-..." */
} MgIdProblem;

extern bool mg_name_is_valid(const char *name, int maxlen);
extern MgIdProblem mg_revision_id_problem(const char *id);

/* "pg_migrate", "dbmate", "golang-migrate", "sqlx", "diesel", "flyway", "auto" */
extern bool mg_layout_from_name(const char *name, MgLayout *layout);
extern const char *mg_layout_name(MgLayout layout);

/*
 * A SHA-256, as 64 hex digits, over everything that would be registered for
 * a revision: id, parents, description, up, down and the
 * non-transactional flag.  The registry keeps it for each revision, so a
 * client can skip sending what is already registered as it is.
 */
extern char *mg_file_revision_hash(const MgFileRevision *rev);

#endif							/* MG_READER_H */
