/*-------------------------------------------------------------------------
 *
 * reader.c
 *	  Reading a folder of migration files: pg_migrate's own format (a
 *	  superset of dbmate's), golang-migrate and sqlx pairs, diesel folders
 *	  and Flyway.  One source, compiled into the extension and, with
 *	  -DFRONTEND, into the client program, the test driver and the fuzz
 *	  target.
 *
 * The reader is a leaf: it turns names and bytes into revisions (id,
 * parents, description, up, down, non-transactional flag) and never
 * raises an error for bad input.  Every problem becomes a message
 * "FILE:LINE: message" (LINE 0 when the problem is the file as a whole;
 * FILE is the folder itself for problems of the whole folder), and when
 * there is any, the result holds no revisions at all, so that a caller
 * cannot register half a folder.
 *
 * Every file
 * ----------
 * - Names are relative to the folder and compared byte for byte (no
 *   locale, case-sensitive).  A name with any part starting with "." is
 *   hidden and ignored (.git, .gitkeep, .DS_Store, editor files).
 * - Files of no layout are ignored: README.md, schema dumps with other
 *   extensions, backups ("x.sql~").  A name ending in ".SQL" or another
 *   case of ".sql" is an error, not silently skipped.
 * - Every other ".sql" file must be a migration of the layout, or it is an
 *   error: nothing that looks like SQL is skipped without a word.
 * - Contents must be valid UTF-8 without NUL bytes (the error names the
 *   line); a leading UTF-8 byte order mark is dropped.  Scripts are kept
 *   byte for byte otherwise (line endings included).
 * - Revision ids come from file (or folder) names and must follow
 *   pg_migrate's rule: 1 to 128 characters of A-Z a-z 0-9 _ . -, not
 *   "head", "heads" or "base", not starting with "-".  Two revisions with
 *   one id are an error.
 * - Parents are always explicit in the result: the file's own header
 *   (pg_migrate format), else the revision before it in the layout's
 *   order; the first is a root.
 * - A folder with no migration file is an error.
 *
 * pg_migrate / dbmate (MG_LAYOUT_PG_MIGRATE; names "pg_migrate", "dbmate")
 * --------------------------------------------------------------------
 * Every NAME.sql directly in the folder is one revision; .sql files in
 * subfolders are errors.  Order: file names in byte order, which is time
 * order for dbmate's timestamps (20240101120000_name.sql) and number order
 * for zero-padded prefixes (0001_name.sql).  The id is the name without
 * ".sql", unless a header gives it.  Unlike dbmate, which records only the
 * leading digits, the whole name is the id: 0005_a.sql and 0005_b.sql are
 * two revisions, and duplicates are files with the same id.
 *
 * A file is plain SQL with optional "-- migrate:" lines.  Such a line
 * starts with "--", optional blanks, "migrate:" (any case) and a key (lower
 * case); an indented one is an error, not a comment.  Header lines come
 * before everything else except comments and blank lines:
 *
 *	-- migrate:revision ID			the id (default: the file name)
 *	-- migrate:parents A, B			parents, separated by commas and/or
 *									blanks; nothing after the key makes a
 *									root (default: the previous file)
 *	-- migrate:description TEXT		the rest of the line, trimmed
 *
 * then the sections, dbmate's markers:
 *
 *	-- migrate:up [transaction:false]
 *	-- migrate:down [transaction:false]
 *
 * The up script is the text between the up marker line and the down
 * marker line (or the end), the down script the text after the down
 * marker line; the marker lines themselves are not part of either.  No
 * down marker: no down script (NULL); an empty down section is an empty
 * script, a deliberate no-op.  A file with no section marker at all is
 * all up script (plain SQL; header lines at its top are read and stay in
 * it as comments); if its first line is sqlx's "-- no-transaction", it is
 * non-transactional.  "transaction:false" (or ":true", dbmate's default)
 * on either marker sets the revision's one flag: the revision is
 * non-transactional when either section says so.  Errors: an unknown key
 * or option, a header given twice or after SQL or a section, an empty
 * revision or description, SQL before "-- migrate:up", "-- migrate:down"
 * before "-- migrate:up", a second up or down marker (dbmate's files with
 * several up/down pairs are not read; split them), an invalid or repeated
 * parent, a revision naming itself as parent.  Markers are read on every
 * line, even inside a quoted string, as dbmate does.
 *
 * golang-migrate / sqlx (MG_LAYOUT_GOLANG_MIGRATE; "golang-migrate", "sqlx")
 * --------------------------------------------------------------------
 * VERSION_TITLE.up.sql and VERSION_TITLE.down.sql directly in the folder;
 * VERSION is digits, TITLE anything (even empty).  Also sqlx's simple
 * migrations, VERSION_TITLE.sql, which have no down.  Order: VERSION as a
 * number of any size (leading zeros do not count: 1 = 01 < 2 < 10).  The
 * id is the up file's name without ".up.sql" (or ".sql").  Up and down
 * pair by version, as golang-migrate pairs them.  Errors: two up (or
 * simple) files or two down files of one version (duplicate versions), a
 * down file without an up file (the missing pair), any other .sql name.
 * An up without a down has no down script.  A script starting with sqlx's
 * "-- no-transaction" line makes the revision non-transactional.
 *
 * diesel (MG_LAYOUT_DIESEL; "diesel")
 * --------------------------------------------------------------------
 * FOLDER/up.sql, FOLDER/down.sql and FOLDER/metadata.toml, one folder per
 * revision (diesel's 2024-01-01-000000_name).  The id is the folder name;
 * the version is the folder name up to its first "_" without its dashes,
 * and the order is diesel's: versions as strings in byte order (for
 * diesel's names, the order of the folder names).  up.sql is required,
 * down.sql optional.  metadata.toml may say run_in_transaction = true or
 * false (false: non-transactional); any other key, or a file that does
 * not set it (diesel would then run without a transaction), is an error.
 * Errors also: two folders with one version, .sql files directly in the
 * folder, deeper, or named other than up.sql and down.sql.
 *
 * Flyway (MG_LAYOUT_FLYWAY; "flyway")
 * --------------------------------------------------------------------
 * V<version>__<description>.sql, with U<version>__<description>.sql as
 * its down script (Flyway's undo), in the folder or any subfolder (Flyway
 * scans locations recursively).  A version is numbers separated by "." or
 * "_" (V1_1 is 1.1); versions compare part by part as numbers, trailing
 * zero parts dropped: 1 < 1.1 < 1.2 < 2 < 10, and 1 = 1.0 = 01 (a
 * duplicate).  The id is the V file's name without ".sql"; the
 * description is its description with "_" read as a blank.  A U file
 * pairs with the V file of its version, whatever the descriptions.  A
 * script configuration file NAME.sql.conf may set executeInTransaction
 * (false: non-transactional), placeholderReplacement and encoding (only
 * UTF-8).  Refused: repeatable migrations (R__name.sql), baseline
 * migrations (B<version>__), Java and script migrations (V2__name.java,
 * .class, .sh, ...), callbacks (afterMigrate.sql) and any other .sql
 * name, Flyway placeholders (${name}) in a script that does not turn
 * placeholder replacement off, duplicate versions, a U file without its V
 * file, a .conf file for a script that is not there.
 *
 * Detection (MG_LAYOUT_DETECT)
 * --------------------------------------------------------------------
 * Each .sql file votes by its name: FOLDER/up.sql or FOLDER/down.sql one
 * level down is diesel; [VURB]<version>__<description>.sql anywhere is
 * Flyway, and so is a Flyway callback (afterMigrate.sql, beforeEach...);
 * N_TITLE.up.sql or .down.sql directly in the folder is
 * golang-migrate; any other .sql directly in the folder is pg_migrate
 * (dbmate, and sqlx's simple migrations).  One layout voted: that one.
 * Several: an error naming one file of each; name the layout to read
 * such a folder.  None: the folder is empty, an error.
 *
 * Memory
 * ------
 * Everything is palloc'd in the caller's memory context (in the backend)
 * or with libpgcommon's fe_memutils (in a frontend program).  The reader
 * frees every temporary itself, and every string and array of the result
 * is its own chunk, so a frontend caller can pfree a result piece by piece:
 * mg_free_file_set does (the fuzz target calls it, under LeakSanitizer).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/hashfn.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#ifndef FRONTEND
#include "miscadmin.h"
#include "storage/fd.h"
#endif

#include "pg_migrate.h"
#include "reader.h"

/* Folders nested deeper than this are not read (symlink loops end too). */
#define READER_MAX_DEPTH		8

/* The first bytes hashed by mg_file_revision_hash: its serialization's version. */
#define HASH_VERSION_LINE		"pg_migrate revision hash 1\n"

/* The first bytes of a folder's fingerprint: its version. */
#define FINGERPRINT_LINE		"pg_migrate folder fingerprint 1\n"

/* Largest file read: with its terminating NUL it fits one palloc chunk. */
#define READER_MAX_FILE_SIZE	((size_t) 0x3ffffffe)

#ifndef FRONTEND
#define reader_opendir(path)	AllocateDir(path)
#define reader_closedir(dir)	FreeDir(dir)
#define reader_open(path)		OpenTransientFile(path, O_RDONLY | PG_BINARY)
#define reader_close(fd)		CloseTransientFile(fd)
#else
#define reader_opendir(path)	opendir(path)
#define reader_closedir(dir)	closedir(dir)
#define reader_open(path)		open(path, O_RDONLY | PG_BINARY, 0)
#define reader_close(fd)		close(fd)
#endif

/* see reader.h */
void		(*mg_reader_file_hook) (void) = NULL;

/* A growable array of palloc'd strings. */
typedef struct StrList
{
	char	  **items;
	int			n;
	int			max;
} StrList;

/* One input file. */
typedef struct InFile
{
	const char *name;			/* relative path, as given */
	char	   *shown;			/* the name as messages show it */
	const char *base;			/* its last part */
	int			depth;			/* how many folders it is below the top */
	bool		hidden;			/* some part starts with "." */
	const char *data;
	size_t		len;
} InFile;

/* The state of one read. */
typedef struct Reader
{
	char	   *folder;			/* the folder, as messages show it */
	InFile	   *files;			/* sorted by name */
	int			nfiles;
	StrList		errors;
	MgFileRevision *revs;		/* in the layout's order */
	int			nrevs;
	int			maxrevs;
} Reader;

/* What a file's name says about the layout it belongs to. */
typedef enum Vote
{
	VOTE_NONE = -1,
	VOTE_PG_MIGRATE = 0,
	VOTE_GOLANG,
	VOTE_DIESEL,
	VOTE_FLYWAY,
	NUM_VOTES
} Vote;

/* A golang-migrate or sqlx file. */
typedef struct Numbered
{
	const InFile *file;
	char	   *version;		/* digits without leading zeros */
	int			direction;		/* 0 up, 1 simple (up only), 2 down */
	size_t		stemlen;		/* the id is base[0 .. stemlen) */
} Numbered;

/* A diesel migration folder. */
typedef struct DieselDir
{
	char	   *folder;
	char	   *version;		/* up to the first "_", without dashes */
	const InFile *first;		/* its first file, for messages */
	const InFile *up;
	const InFile *down;
	const InFile *metadata;
} DieselDir;

/* A Flyway V or U file. */
typedef struct FlywayFile
{
	const InFile *file;
	char		prefix;			/* 'V' or 'U' */
	char	   *version;		/* normalized: "1.1", "2", "0" */
	size_t		stemlen;		/* base without ".sql" */
	const char *desc;			/* description, in base */
	size_t		desclen;
	const InFile *conf;			/* its NAME.sql.conf, if any */
	bool		nontransactional;
	bool		no_placeholders;	/* placeholderReplacement=false */
	bool		paired;			/* a U file with its V file */
} FlywayFile;

static const char *const vote_names[NUM_VOTES] = {
	"pg_migrate", "golang-migrate", "diesel", "flyway"
};

static void strlist_add(StrList *list, char *s);
static void strlist_free(StrList *list);
static void add_message(StrList *list, const char *file, int line,
						int saved_errno, const char *fmt, va_list args) pg_attribute_printf(5, 0);
static void add_error(Reader *r, const char *file, int line, const char *fmt,...) pg_attribute_printf(4, 5);
static char *shown_name(const char *s);
static bool ends_with(const char *s, const char *suffix);
static bool ends_with_ci(const char *s, const char *suffix);
static bool name_is_wanted(const char *base);
static bool flyway_split(const char *stem, size_t stemlen, char *prefix,
						 const char **ver, size_t *verlen,
						 const char **desc, size_t *desclen);
static bool flyway_callback(const char *base);
static char *flyway_version(const char *ver, size_t verlen);
static int	compare_numbers(const char *a, size_t alen, const char *b, size_t blen);
static int	compare_flyway_versions(const char *a, const char *b);
static int	compare_digit_strings(const char *a, const char *b);
static bool is_blank(char c);
static bool check_id(Reader *r, const InFile *f, int line, const char *id,
					 const char *from);
static char *file_text(Reader *r, const InFile *f, size_t *lenp);
static MgFileRevision *new_revision(Reader *r);
static bool keep_scripts(char *uptext, char *downtext, bool want_down);
static MgFileRevision *add_file_revision(Reader *r, char *id, char *uptext,
										 char *downtext, bool nontx,
										 char *source);
static void free_revision(MgFileRevision *rev);
static void set_linear_parents(Reader *r);
static char *join_sources(const InFile *a, const InFile *b, const InFile *c);
static bool has_sqlx_no_transaction(const char *text);
static MgLayout detect_layout(Reader *r);
static void read_pg_migrate(Reader *r);
static void read_own_file(Reader *r, const InFile *f, int prev);
static const char *directive(const char *line, size_t len, bool *indented);
static bool parse_section_options(Reader *r, const InFile *f, int line,
								  const char *opts, size_t len, bool *nontx);
static char **parse_parents(Reader *r, const InFile *f, int line,
							const char *val, size_t len, int *nparents);
static void read_numbered(Reader *r);
static int	compare_numbered(const void *a, const void *b);
static void read_diesel(Reader *r);
static int	compare_diesel(const void *a, const void *b);
static bool read_diesel_metadata(Reader *r, const InFile *f, bool *nontx);
static void read_flyway(Reader *r);
static int	compare_flyway(const void *a, const void *b);
static void read_flyway_conf(Reader *r, FlywayFile *ff);
static bool parse_bool_ci(const char *s, size_t len, bool *value);
static void check_placeholders(Reader *r, const InFile *f, const char *text);
static void check_unique_ids(Reader *r);
static int	compare_rev_ids(const void *a, const void *b);
static int	compare_infiles(const void *a, const void *b);
static MgFileSet *read_files(int nfiles, const char *const *names,
							 const char *const *data, const size_t *lens,
							 MgLayout layout, const char *folder);
static void hash_failed(pg_cryptohash_ctx *ctx);
static void digest_bytes(pg_cryptohash_ctx *ctx, const void *data, size_t len);
static void hash_field(pg_cryptohash_ctx *ctx, char tag, const char *data);
static void hex_of(const uint8 *digest, char *hex);
static void folder_fingerprint(MgFolderFiles *files);
static void fingerprint_fold(uint64 *h, const void *data, size_t len);

/* ---------------------------------------------------------------- lists */

static void
strlist_add(StrList *list, char *s)
{
	if (list->n == list->max)
	{
		list->max = list->max == 0 ? 8 : list->max * 2;
		if (list->items == NULL)
			list->items = palloc(sizeof(char *) * list->max);
		else
			list->items = repalloc(list->items, sizeof(char *) * list->max);
	}
	list->items[list->n++] = s;
}

static void
strlist_free(StrList *list)
{
	int			i;

	for (i = 0; i < list->n; i++)
		pfree(list->items[i]);
	if (list->items)
		pfree(list->items);
	list->items = NULL;
	list->n = list->max = 0;
}

/*
 * Add the message "FILE:LINE: message" to list, message formatted from fmt
 * and args with errno set to saved_errno (for %m).  file is already fit for
 * messages.
 */
static void
add_message(StrList *list, const char *file, int line, int saved_errno,
			const char *fmt, va_list args)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:%d: ", file, line);
	for (;;)
	{
		va_list		copy;
		int			needed;

		errno = saved_errno;
		va_copy(copy, args);
		needed = appendStringInfoVA(&buf, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	strlist_add(list, buf.data);
}

/*
 * Record the message "FILE:LINE: message".  file is already fit for
 * messages (an InFile's shown name, or the folder's).
 */
static void
add_error(Reader *r, const char *file, int line, const char *fmt,...)
{
	int			save_errno = errno;
	va_list		args;

	va_start(args, fmt);
	add_message(&r->errors, file, line, save_errno, fmt, args);
	va_end(args);
}

/* ---------------------------------------------------------------- names */

/*
 * s as messages may show it: valid UTF-8 and printable ASCII as they are,
 * any other byte (control characters, invalid UTF-8) and the backslash as
 * \xNN, so that a message is always valid UTF-8 on one line; an empty
 * string as "".  palloc'd.
 */
static char *
shown_name(const char *s)
{
	StringInfoData buf;
	const unsigned char *p = (const unsigned char *) s;

	initStringInfo(&buf);
	if (*s == '\0')
		appendStringInfoString(&buf, "\"\"");
	while (*p)
	{
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
		{
			appendStringInfoChar(&buf, (char) *p);
			p++;
		}
		else if (*p >= 0x80)
		{
			int			l = pg_utf_mblen(p);
			int			k;

			for (k = 1; k < l && p[k] != '\0'; k++)
				;
			if (l > 1 && k == l && pg_utf8_islegal(p, l))
			{
				appendBinaryStringInfo(&buf, (const char *) p, l);
				p += l;
			}
			else
			{
				appendStringInfo(&buf, "\\x%02x", *p);
				p++;
			}
		}
		else
		{
			appendStringInfo(&buf, "\\x%02x", *p);
			p++;
		}
	}
	return buf.data;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static bool
ends_with_ci(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && pg_strcasecmp(s + n - m, suffix) == 0;
}

/*
 * Could a file of this name (its last part) matter to some layout?  Any
 * case of ".sql", Flyway's ".sql.conf", diesel's metadata.toml, and
 * Flyway-named files of other kinds (to refuse them).  The others are
 * ignored, and mg_read_directory does not even read them.
 */
static bool
name_is_wanted(const char *base)
{
	const char *dot;
	char		prefix;
	const char *ver,
			   *desc;
	size_t		verlen,
				desclen;

	if (base[0] == '.')
		return false;
	if (ends_with_ci(base, ".sql") || ends_with(base, ".sql.conf") ||
		strcmp(base, "metadata.toml") == 0)
		return true;
	dot = strrchr(base, '.');
	return dot != NULL &&
		flyway_split(base, dot - base, &prefix, &ver, &verlen, &desc, &desclen);
}

/*
 * Split a Flyway name without its extension, PREFIX VERSION "__"
 * DESCRIPTION, with PREFIX one of V, U, B, R and VERSION made of digits,
 * dots and underscores (maybe empty: the caller judges).  The separator is
 * the first "__" after the prefix.  False when stem is not such a name.
 */
static bool
flyway_split(const char *stem, size_t stemlen, char *prefix,
			 const char **ver, size_t *verlen,
			 const char **desc, size_t *desclen)
{
	size_t		i;

	if (stemlen < 3 || strchr("VUBR", stem[0]) == NULL || stem[0] == '\0')
		return false;
	for (i = 1; i + 1 < stemlen; i++)
	{
		if (stem[i] == '_' && stem[i + 1] == '_')
			break;
		if (!((stem[i] >= '0' && stem[i] <= '9') || stem[i] == '.' || stem[i] == '_'))
			return false;
	}
	if (i + 1 >= stemlen)
		return false;
	*prefix = stem[0];
	*ver = stem + 1;
	*verlen = i - 1;
	*desc = stem + i + 2;
	*desclen = stemlen - i - 2;
	return true;
}

/*
 * Is base the name of a Flyway callback script: "before" or "after", an
 * event in camel case, maybe "__" and a description, ".sql"
 * (afterMigrate.sql, beforeEachMigrate__grants.sql)?
 */
static bool
flyway_callback(const char *base)
{
	const char *p = base;

	if (strncmp(p, "before", 6) == 0)
		p += 6;
	else if (strncmp(p, "after", 5) == 0)
		p += 5;
	else
		return false;
	if (!(*p >= 'A' && *p <= 'Z'))
		return false;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return strcmp(p, ".sql") == 0 || (strncmp(p, "__", 2) == 0 && ends_with(p, ".sql"));
}

/*
 * A Flyway version ("1_01.0") normalized ("1.1"): parts of digits
 * separated by "." or "_", each without leading zeros, trailing zero parts
 * dropped, so that equal versions have equal strings.  NULL when it is not
 * a version (empty, or an empty part).  palloc'd.
 */
static char *
flyway_version(const char *ver, size_t verlen)
{
	StringInfoData buf;
	size_t		i = 0;
	size_t		keep = 0;		/* length up to the last non-zero part */

	if (verlen == 0)
		return NULL;
	initStringInfo(&buf);
	while (i <= verlen)
	{
		size_t		start = i;

		while (i < verlen && ver[i] >= '0' && ver[i] <= '9')
			i++;
		if (i == start || (i < verlen && ver[i] != '.' && ver[i] != '_'))
		{
			pfree(buf.data);
			return NULL;
		}
		while (start + 1 < i && ver[start] == '0')
			start++;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, ver + start, i - start);
		if (!(i - start == 1 && ver[start] == '0'))
			keep = buf.len;
		i++;					/* past the separator, or past the end */
	}
	if (keep == 0)
		keep = 1;				/* all zero: "0" */
	buf.data[keep] = '\0';
	return buf.data;
}

/* Compare two numbers written in digits without leading zeros. */
static int
compare_numbers(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* Compare normalized Flyway versions part by part, as numbers. */
static int
compare_flyway_versions(const char *a, const char *b)
{
	for (;;)
	{
		size_t		alen = strcspn(a, ".");
		size_t		blen = strcspn(b, ".");
		int			c;

		if (alen == 0 || blen == 0)
			return (alen != 0) - (blen != 0);
		c = compare_numbers(a, alen, b, blen);
		if (c != 0)
			return c;
		a += alen;
		b += blen;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
}

static int
compare_digit_strings(const char *a, const char *b)
{
	return compare_numbers(a, strlen(a), b, strlen(b));
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * True when name is 1 to maxlen characters of A-Z a-z 0-9 _ . - (see
 * reader.h).
 */
bool
mg_name_is_valid(const char *name, int maxlen)
{
	int			len = 0;
	const char *p;

	for (p = name; *p; p++, len++)
	{
		char		c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return len >= 1 && len <= maxlen;
}

/*
 * What, if anything, keeps id from being a revision id (see reader.h).  id
 * must not be NULL.
 */
MgIdProblem
mg_revision_id_problem(const char *id)
{
	if (!mg_name_is_valid(id, MG_MAX_REVISION_LEN))
		return MG_ID_BAD_NAME;
	if (strcmp(id, "head") == 0 || strcmp(id, "heads") == 0 ||
		strcmp(id, "base") == 0 || id[0] == '-')
		return MG_ID_RESERVED;
	return MG_ID_VALID;
}

/*
 * Is id usable as a revision id (mg_revision_id_problem)?  On failure
 * records an error on file f and line; from says where the id came from
 * ("from the file name", ...).
 */
static bool
check_id(Reader *r, const InFile *f, int line, const char *id, const char *from)
{
	char	   *shown;

	switch (mg_revision_id_problem(id))
	{
		case MG_ID_VALID:
			break;
		case MG_ID_BAD_NAME:
			shown = shown_name(id);
			add_error(r, f->shown, line,
					  "invalid revision id \"%s\" (%s): an id is 1 to %d characters from A-Z, a-z, 0-9, \"_\", \".\" and \"-\"",
					  shown, from, MG_MAX_REVISION_LEN);
			pfree(shown);
			return false;
		case MG_ID_RESERVED:
			add_error(r, f->shown, line,
					  "invalid revision id \"%s\" (%s): \"head\", \"heads\", \"base\" and ids starting with \"-\" are reserved for targets",
					  id, from);
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- contents */

/*
 * The text of file f: a leading UTF-8 byte order mark dropped, the rest
 * checked to be valid UTF-8 without NUL bytes.  Returns a palloc'd,
 * NUL-terminated copy and its length, or NULL after recording an error
 * that names the line of the first bad byte.
 */
static char *
file_text(Reader *r, const InFile *f, size_t *lenp)
{
	const char *p = f->data;
	size_t		len = f->len;
	size_t		valid;
	char	   *text;

	if (p == NULL)
		p = "";
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
	{
		p += 3;
		len -= 3;
	}
	if (len > READER_MAX_FILE_SIZE)
	{
		add_error(r, f->shown, 0, "file too large (%zu bytes; at most %zu)",
				  len, READER_MAX_FILE_SIZE);
		return NULL;
	}
	valid = (size_t) pg_encoding_verifymbstr(PG_UTF8, p, (int) len);
	if (valid < len)
	{
		int			line = 1;
		size_t		linestart = 0;
		size_t		i;

		for (i = 0; i < valid; i++)
		{
			if (p[i] == '\n')
			{
				line++;
				linestart = i + 1;
			}
		}
		if (p[valid] == '\0')
			add_error(r, f->shown, line,
					  "file contains a NUL byte (at byte %zu of the line)",
					  valid - linestart + 1);
		else
			add_error(r, f->shown, line,
					  "file is not valid UTF-8 (byte 0x%02x at byte %zu of the line)",
					  (unsigned char) p[valid], valid - linestart + 1);
		return NULL;
	}
	text = palloc(len + 1);
	memcpy(text, p, len);
	text[len] = '\0';
	*lenp = len;
	return text;
}

/* sqlx's opt-out of the transaction: the script starts with this line. */
static bool
has_sqlx_no_transaction(const char *text)
{
	return strncmp(text, "-- no-transaction", 17) == 0;
}

/* ---------------------------------------------------------------- revisions */

/* A zeroed revision at the end of r->revs (which may move). */
static MgFileRevision *
new_revision(Reader *r)
{
	MgFileRevision *rev;

	if (r->nrevs == r->maxrevs)
	{
		r->maxrevs = r->maxrevs == 0 ? 16 : r->maxrevs * 2;
		if (r->revs == NULL)
			r->revs = palloc(sizeof(MgFileRevision) * r->maxrevs);
		else
			r->revs = repalloc(r->revs, sizeof(MgFileRevision) * r->maxrevs);
	}
	rev = &r->revs[r->nrevs++];
	memset(rev, 0, sizeof(MgFileRevision));
	return rev;
}

/*
 * Whether a revision's scripts were read: the up script, and the down
 * script when there is a down file (want_down).  When one is missing (its
 * error recorded by file_text), frees the other and returns false.
 */
static bool
keep_scripts(char *uptext, char *downtext, bool want_down)
{
	if (uptext != NULL && (!want_down || downtext != NULL))
		return true;
	if (uptext)
		pfree(uptext);
	if (downtext)
		pfree(downtext);
	return false;
}

/*
 * A new revision at the end of r->revs, taking the palloc'd id, scripts
 * (downtext may be NULL) and source; parents are set later.  The pointer
 * returned is good until the next revision is added.
 */
static MgFileRevision *
add_file_revision(Reader *r, char *id, char *uptext, char *downtext,
				  bool nontx, char *source)
{
	MgFileRevision *rev = new_revision(r);

	rev->id = id;
	rev->up = uptext;
	rev->down = downtext;
	rev->nontransactional = nontx;
	rev->source = source;
	return rev;
}

/* Free what a revision points to (not the revision itself). */
static void
free_revision(MgFileRevision *rev)
{
	int			i;

	if (rev->id)
		pfree(rev->id);
	for (i = 0; i < rev->nparents; i++)
		pfree(rev->parents[i]);
	if (rev->parents)
		pfree(rev->parents);
	if (rev->description)
		pfree(rev->description);
	if (rev->up)
		pfree(rev->up);
	if (rev->down)
		pfree(rev->down);
	if (rev->source)
		pfree(rev->source);
}

/* Each revision's parent is the one before it; the first is a root. */
static void
set_linear_parents(Reader *r)
{
	int			i;

	for (i = 1; i < r->nrevs; i++)
	{
		r->revs[i].parents = palloc(sizeof(char *));
		r->revs[i].parents[0] = pstrdup(r->revs[i - 1].id);
		r->revs[i].nparents = 1;
	}
}

/* "a, b, c" from the shown names of the files given (NULLs skipped). */
static char *
join_sources(const InFile *a, const InFile *b, const InFile *c)
{
	StringInfoData buf;
	const InFile *files[3];
	int			i;

	files[0] = a;
	files[1] = b;
	files[2] = c;
	initStringInfo(&buf);
	for (i = 0; i < 3; i++)
	{
		if (files[i] == NULL)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, files[i]->shown);
	}
	return buf.data;
}

/* ---------------------------------------------------------------- detection */

/*
 * The layout the files' names vote for, or MG_LAYOUT_DETECT after
 * recording an error when they vote for none or for several.
 */
static MgLayout
detect_layout(Reader *r)
{
	const InFile *example[NUM_VOTES];
	int			nvotes = 0;
	int			i;
	int			v;

	memset(example, 0, sizeof(example));
	for (i = 0; i < r->nfiles; i++)
	{
		const InFile *f = &r->files[i];
		const char *base = f->base;
		size_t		baselen = strlen(base);
		Vote		vote = VOTE_NONE;
		char		prefix;
		const char *ver,
				   *desc;
		size_t		verlen,
					desclen;

		if (f->hidden || !ends_with(base, ".sql"))
			continue;
		if (f->depth == 1 &&
			(strcmp(base, "up.sql") == 0 || strcmp(base, "down.sql") == 0))
			vote = VOTE_DIESEL;
		else if (flyway_split(base, baselen - 4, &prefix, &ver, &verlen,
							  &desc, &desclen) || flyway_callback(base))
			vote = VOTE_FLYWAY;
		else if (f->depth == 0)
		{
			size_t		digits = strspn(base, "0123456789");

			if (digits > 0 && base[digits] == '_' &&
				(ends_with(base + digits + 1, ".up.sql") ||
				 ends_with(base + digits + 1, ".down.sql")))
				vote = VOTE_GOLANG;
			else
				vote = VOTE_PG_MIGRATE;
		}
		if (vote != VOTE_NONE && example[vote] == NULL)
		{
			example[vote] = f;
			nvotes++;
		}
	}

	if (nvotes == 0)
	{
		add_error(r, r->folder, 0,
				  "no migration files: expected NAME.sql (pg_migrate, dbmate), VERSION_NAME.up.sql (golang-migrate, sqlx), FOLDER/up.sql (diesel) or V1__NAME.sql (Flyway)");
		return MG_LAYOUT_DETECT;
	}
	if (nvotes > 1)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		for (v = 0; v < NUM_VOTES; v++)
		{
			if (example[v] == NULL)
				continue;
			if (buf.len > 0)
				appendStringInfoString(&buf, ", ");
			appendStringInfo(&buf, "%s (%s)", vote_names[v], example[v]->shown);
		}
		add_error(r, r->folder, 0,
				  "the folder mixes layouts: %s; keep one layout per folder, or name the layout to read",
				  buf.data);
		pfree(buf.data);
		return MG_LAYOUT_DETECT;
	}
	if (example[VOTE_PG_MIGRATE])
		return MG_LAYOUT_PG_MIGRATE;
	if (example[VOTE_GOLANG])
		return MG_LAYOUT_GOLANG_MIGRATE;
	if (example[VOTE_DIESEL])
		return MG_LAYOUT_DIESEL;
	return MG_LAYOUT_FLYWAY;
}

/* ---------------------------------------------------------------- pg_migrate */

/*
 * pg_migrate's own format, dbmate's too: every NAME.sql directly in the
 * folder, in name order.
 */
static void
read_pg_migrate(Reader *r)
{
	int			i;
	int			prev = -1;

	for (i = 0; i < r->nfiles; i++)
	{
		const InFile *f = &r->files[i];
		int			before = r->nrevs;

		if (f->hidden || !ends_with_ci(f->base, ".sql"))
			continue;
		if (!ends_with(f->base, ".sql"))
		{
			add_error(r, f->shown, 0,
					  "file name ends in \"%s\": migration files end in \".sql\", in lower case",
					  f->base + strlen(f->base) - 4);
			continue;
		}
		if (f->depth > 0)
		{
			add_error(r, f->shown, 0,
					  "file is in a subfolder: pg_migrate and dbmate migrations are the .sql files directly in the folder");
			continue;
		}
		read_own_file(r, f, prev);
		if (r->nrevs > before)
			prev = r->nrevs - 1;
	}
}

/*
 * If the line (without its line end) is a "-- migrate:" line, return where
 * its key starts; else NULL.  *indented tells whether blanks came first.
 */
static const char *
directive(const char *line, size_t len, bool *indented)
{
	size_t		i = 0;

	while (i < len && is_blank(line[i]))
		i++;
	*indented = i > 0;
	if (len - i < 2 || line[i] != '-' || line[i + 1] != '-')
		return NULL;
	i += 2;
	while (i < len && is_blank(line[i]))
		i++;
	if (len - i < 8 || pg_strncasecmp(line + i, "migrate:", 8) != 0)
		return NULL;
	return line + i + 8;
}

/*
 * The options after "-- migrate:up" or "-- migrate:down": blank-separated
 * KEY:VALUE pairs, of which only transaction:true and transaction:false
 * exist.  Sets *nontx for transaction:false; false after recording an
 * error.
 */
static bool
parse_section_options(Reader *r, const InFile *f, int line,
					  const char *opts, size_t len, bool *nontx)
{
	size_t		i = 0;
	bool		seen = false;
	bool		ok = true;

	while (i < len)
	{
		size_t		start;
		size_t		toklen;
		char	   *raw;
		char	   *tok;

		while (i < len && is_blank(opts[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !is_blank(opts[i]))
			i++;
		toklen = i - start;
		raw = pnstrdup(opts + start, toklen);
		tok = shown_name(raw);
		pfree(raw);
		if (strncmp(tok, "transaction:", 12) != 0)
		{
			add_error(r, f->shown, line,
					  "unknown option \"%s\": the only option is transaction:false (or transaction:true)",
					  tok);
			ok = false;
		}
		else if (seen)
		{
			add_error(r, f->shown, line, "option \"transaction\" given twice");
			ok = false;
		}
		else if (strcmp(tok + 12, "false") == 0)
			*nontx = true;
		else if (strcmp(tok + 12, "true") != 0)
		{
			add_error(r, f->shown, line,
					  "invalid option \"%s\": transaction is true or false", tok);
			ok = false;
		}
		seen = true;
		pfree(tok);
	}
	return ok;
}

/*
 * The ids after "-- migrate:parents", separated by commas and/or blanks;
 * none makes a root.  Invalid and repeated ids are errors (and left out).
 * Returns a palloc'd array, or NULL when there are none.
 */
static char **
parse_parents(Reader *r, const InFile *f, int line,
			  const char *val, size_t len, int *nparents)
{
	char	  **parents = NULL;
	int			n = 0;
	size_t		i = 0;

	while (i < len)
	{
		size_t		start;
		char	   *id;
		int			k;
		bool		dup = false;

		while (i < len && (is_blank(val[i]) || val[i] == ','))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !is_blank(val[i]) && val[i] != ',')
			i++;
		id = pnstrdup(val + start, i - start);
		for (k = 0; k < n; k++)
			if (strcmp(parents[k], id) == 0)
				dup = true;
		if (dup)
		{
			char	   *shown = shown_name(id);

			add_error(r, f->shown, line, "parent \"%s\" listed twice", shown);
			pfree(shown);
			pfree(id);
		}
		else if (!check_id(r, f, line, id, "in \"-- migrate:parents\""))
			pfree(id);
		else
		{
			if (parents == NULL)
				parents = palloc(sizeof(char *) * (len / 2 + 1));
			parents[n++] = id;
		}
	}
	*nparents = n;
	return parents;
}

/*
 * Read one file of pg_migrate's own format into a new revision (none when
 * the file has errors).  prev is the index in r->revs of the revision read
 * before it, -1 for none: its default parent.
 */
static void
read_own_file(Reader *r, const InFile *f, int prev)
{
	enum
	{
		IN_HEADER,				/* comments, blank and header lines so far */
		IN_SQL,					/* SQL seen before any section marker */
		IN_UP,
		IN_DOWN
	}			state = IN_HEADER;
	size_t		len;
	char	   *text = file_text(r, f, &len);
	int			nerrors = r->errors.n;
	size_t		pos = 0;
	int			lineno = 0;
	int			sql_line = 0;
	int			up_line = 0;
	int			down_line = 0;
	int			revision_line = 0;
	int			parents_line = 0;
	int			description_line = 0;
	size_t		up_start = 0;
	size_t		up_end = 0;
	size_t		down_start = 0;
	char	   *revision = NULL;
	char	  **parents = NULL;
	int			nparents = 0;
	char	   *description = NULL;
	bool		nontx = false;
	bool		stop = false;
	char	   *id;
	MgFileRevision *rev;
	int			i;

	if (text == NULL)
		return;

	while (pos < len && !stop)
	{
		size_t		start = pos;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t		end = nl ? (size_t) (nl - text) : len;
		size_t		linelen = end - start;
		const char *line = text + start;
		const char *key;
		bool		indented;

		pos = nl ? end + 1 : len;
		lineno++;
		if (linelen > 0 && line[linelen - 1] == '\r')
			linelen--;

		key = directive(line, linelen, &indented);
		if (key != NULL)
		{
			size_t		keylen = 0;
			const char *val;
			size_t		vallen;

			while (key + keylen < line + linelen && !is_blank(key[keylen]))
				keylen++;
			val = key + keylen;
			vallen = line + linelen - val;
			while (vallen > 0 && is_blank(val[0]))
			{
				val++;
				vallen--;
			}
			while (vallen > 0 && is_blank(val[vallen - 1]))
				vallen--;

			if (indented)
			{
				add_error(r, f->shown, lineno,
						  "indented \"-- migrate:\" line: it must start the line");
				stop = true;
			}
			else if (keylen == 2 && memcmp(key, "up", 2) == 0)
			{
				if (state == IN_SQL)
				{
					add_error(r, f->shown, lineno,
							  "SQL before \"-- migrate:up\" (from line %d): only comments and header lines may come before it",
							  sql_line);
					stop = true;
				}
				else if (state != IN_HEADER)
				{
					add_error(r, f->shown, lineno,
							  "a second \"-- migrate:up\" (the first is on line %d): a file holds one up section and one down section; split it into one file per revision",
							  up_line);
					stop = true;
				}
				else
				{
					state = IN_UP;
					up_line = lineno;
					up_start = pos;
					parse_section_options(r, f, lineno, val, vallen, &nontx);
				}
			}
			else if (keylen == 4 && memcmp(key, "down", 4) == 0)
			{
				if (state == IN_HEADER || state == IN_SQL)
				{
					add_error(r, f->shown, lineno,
							  "\"-- migrate:down\" before \"-- migrate:up\": the up section comes first");
					stop = true;
				}
				else if (state == IN_DOWN)
				{
					add_error(r, f->shown, lineno,
							  "a second \"-- migrate:down\" (the first is on line %d)",
							  down_line);
					stop = true;
				}
				else
				{
					state = IN_DOWN;
					down_line = lineno;
					up_end = start;
					down_start = pos;
					parse_section_options(r, f, lineno, val, vallen, &nontx);
				}
			}
			else if ((keylen == 8 && memcmp(key, "revision", 8) == 0) ||
					 (keylen == 7 && memcmp(key, "parents", 7) == 0) ||
					 (keylen == 11 && memcmp(key, "description", 11) == 0))
			{
				int		   *seen_line;
				char	   *name = pnstrdup(key, keylen);

				if (key[0] == 'r')
					seen_line = &revision_line;
				else if (key[0] == 'p')
					seen_line = &parents_line;
				else
					seen_line = &description_line;

				if (state == IN_SQL)
				{
					add_error(r, f->shown, lineno,
							  "header \"-- migrate:%s\" after SQL (from line %d): header lines come first",
							  name, sql_line);
					stop = true;
				}
				else if (state != IN_HEADER)
				{
					add_error(r, f->shown, lineno,
							  "header \"-- migrate:%s\" inside a section (\"-- migrate:%s\" on line %d): header lines come before \"-- migrate:up\"",
							  name, state == IN_UP ? "up" : "down",
							  state == IN_UP ? up_line : down_line);
					stop = true;
				}
				else if (*seen_line != 0)
					add_error(r, f->shown, lineno,
							  "header \"-- migrate:%s\" given twice (first on line %d)",
							  name, *seen_line);
				else if (key[0] == 'r')
				{
					revision_line = lineno;
					if (vallen == 0)
						add_error(r, f->shown, lineno,
								  "\"-- migrate:revision\" without an id");
					else
						revision = pnstrdup(val, vallen);
				}
				else if (key[0] == 'p')
				{
					parents_line = lineno;
					parents = parse_parents(r, f, lineno, val, vallen, &nparents);
				}
				else
				{
					description_line = lineno;
					if (vallen == 0)
						add_error(r, f->shown, lineno,
								  "\"-- migrate:description\" without a description");
					else
						description = pnstrdup(val, vallen);
				}
				pfree(name);
			}
			else
			{
				char	   *name = pnstrdup(key, keylen);
				char	   *shown = shown_name(name);

				add_error(r, f->shown, lineno,
						  "unknown key \"-- migrate:%s\": the keys are revision, parents, description, up and down",
						  shown);
				pfree(shown);
				pfree(name);
			}
		}
		else if (state == IN_HEADER)
		{
			size_t		k = 0;

			while (k < linelen && (is_blank(line[k]) || line[k] == '\n'))
				k++;
			if (k < linelen && !(linelen - k >= 2 && line[k] == '-' && line[k + 1] == '-'))
			{
				state = IN_SQL;
				sql_line = lineno;
			}
		}
	}

	/* the id */
	if (revision != NULL)
	{
		id = revision;
		if (!check_id(r, f, revision_line, id, "in \"-- migrate:revision\""))
			stop = true;
	}
	else
	{
		id = pnstrdup(f->base, strlen(f->base) - 4);
		if (revision_line == 0 &&
			!check_id(r, f, 0, id, "from the file name; a \"-- migrate:revision\" line can give another"))
			stop = true;
	}
	for (i = 0; i < nparents; i++)
	{
		if (strcmp(parents[i], id) == 0)
			add_error(r, f->shown, parents_line,
					  "revision \"%s\" names itself as its parent", id);
	}

	if (r->errors.n > nerrors)
	{
		pfree(text);
		pfree(id);
		for (i = 0; i < nparents; i++)
			pfree(parents[i]);
		if (parents)
			pfree(parents);
		if (description)
			pfree(description);
		return;
	}

	rev = new_revision(r);
	rev->id = id;
	rev->description = description;
	rev->source = pstrdup(f->shown);
	if (parents_line != 0)
	{
		rev->parents = parents;
		rev->nparents = nparents;
	}
	else if (prev >= 0)
	{
		rev->parents = palloc(sizeof(char *));
		rev->parents[0] = pstrdup(r->revs[prev].id);
		rev->nparents = 1;
	}
	if (state == IN_HEADER || state == IN_SQL)
	{
		/* no section marker: plain SQL, all of it up */
		rev->up = text;
		rev->nontransactional = has_sqlx_no_transaction(text);
		return;
	}
	rev->nontransactional = nontx;
	if (state == IN_UP)
		rev->up = pnstrdup(text + up_start, len - up_start);
	else
	{
		rev->up = pnstrdup(text + up_start, up_end - up_start);
		rev->down = pnstrdup(text + down_start, len - down_start);
	}
	pfree(text);
}

/* ---------------------------------------------------------------- golang-migrate */

static int
compare_numbered(const void *a, const void *b)
{
	const Numbered *x = a;
	const Numbered *y = b;
	int			c = compare_digit_strings(x->version, y->version);

	if (c != 0)
		return c;
	if ((x->direction == 2) != (y->direction == 2))
		return x->direction == 2 ? 1 : -1;
	return strcmp(x->file->name, y->file->name);
}

/*
 * golang-migrate's VERSION_TITLE.up.sql / .down.sql, and sqlx's, which
 * adds the simple VERSION_TITLE.sql: pairs by version, in version order.
 */
static void
read_numbered(Reader *r)
{
	Numbered   *entries = palloc(sizeof(Numbered) * Max(r->nfiles, 1));
	int			n = 0;
	int			i,
				j;

	for (i = 0; i < r->nfiles; i++)
	{
		const InFile *f = &r->files[i];
		const char *base = f->base;
		size_t		baselen = strlen(base);
		size_t		digits;
		size_t		skip;
		Numbered   *e;

		if (f->hidden || !ends_with_ci(base, ".sql"))
			continue;
		if (!ends_with(base, ".sql"))
		{
			add_error(r, f->shown, 0,
					  "file name ends in \"%s\": migration files end in \".sql\", in lower case",
					  base + baselen - 4);
			continue;
		}
		if (f->depth > 0)
		{
			add_error(r, f->shown, 0,
					  "file is in a subfolder: golang-migrate and sqlx migrations are the .sql files directly in the folder");
			continue;
		}
		digits = strspn(base, "0123456789");
		if (digits == 0 || base[digits] != '_')
		{
			add_error(r, f->shown, 0,
					  "not a golang-migrate or sqlx file name: expected VERSION_NAME.up.sql, VERSION_NAME.down.sql or VERSION_NAME.sql, VERSION in digits");
			continue;
		}
		e = &entries[n++];
		e->file = f;
		skip = 0;
		while (skip + 1 < digits && base[skip] == '0')
			skip++;
		e->version = pnstrdup(base + skip, digits - skip);
		/* what follows VERSION_: TITLE.up.sql, TITLE.down.sql or TITLE.sql */
		if (ends_with(base + digits + 1, ".up.sql"))
		{
			e->direction = 0;
			e->stemlen = baselen - 7;
		}
		else if (ends_with(base + digits + 1, ".down.sql"))
		{
			e->direction = 2;
			e->stemlen = baselen - 9;
		}
		else
		{
			e->direction = 1;
			e->stemlen = baselen - 4;
		}
	}

	qsort(entries, n, sizeof(Numbered), compare_numbered);

	for (i = 0; i < n; i = j)
	{
		const Numbered *up = NULL;
		const Numbered *down = NULL;
		bool		bad = false;
		int			k;

		for (j = i; j < n && strcmp(entries[j].version, entries[i].version) == 0; j++)
			;
		for (k = i; k < j; k++)
		{
			const Numbered *e = &entries[k];
			const Numbered **slot = e->direction == 2 ? &down : &up;

			if (*slot != NULL)
			{
				add_error(r, e->file->shown, 0,
						  "duplicate version %s: %s has it too",
						  e->version, (*slot)->file->shown);
				bad = true;
			}
			else
				*slot = e;
		}
		if (up == NULL)
		{
			add_error(r, down->file->shown, 0,
					  "down migration without its up migration: no VERSION_NAME.up.sql of version %s",
					  down->version);
			continue;
		}
		if (!bad)
		{
			char	   *id = pnstrdup(up->file->base, up->stemlen);
			char	   *uptext;
			char	   *downtext = NULL;
			size_t		len;

			if (!check_id(r, up->file, 0, id, "from the file name"))
			{
				pfree(id);
				continue;
			}
			uptext = file_text(r, up->file, &len);
			if (down)
				downtext = file_text(r, down->file, &len);
			if (!keep_scripts(uptext, downtext, down != NULL))
			{
				pfree(id);
				continue;
			}
			add_file_revision(r, id, uptext, downtext,
							  has_sqlx_no_transaction(uptext) ||
							  (downtext != NULL && has_sqlx_no_transaction(downtext)),
							  join_sources(up->file, down ? down->file : NULL, NULL));
		}
	}
	set_linear_parents(r);

	for (i = 0; i < n; i++)
		pfree(entries[i].version);
	pfree(entries);
}

/* ---------------------------------------------------------------- diesel */

static int
compare_diesel(const void *a, const void *b)
{
	const DieselDir *x = a;
	const DieselDir *y = b;
	int			c = strcmp(x->version, y->version);

	return c != 0 ? c : strcmp(x->folder, y->folder);
}

/*
 * diesel's FOLDER/up.sql, FOLDER/down.sql and FOLDER/metadata.toml, in the
 * order of the folders' versions.
 */
static void
read_diesel(Reader *r)
{
	DieselDir  *dirs = palloc(sizeof(DieselDir) * Max(r->nfiles, 1));
	int			n = 0;
	int			i;

	for (i = 0; i < r->nfiles; i++)
	{
		const InFile *f = &r->files[i];
		const char *base = f->base;
		size_t		folderlen;
		DieselDir  *d;

		if (f->hidden)
			continue;
		if (ends_with_ci(base, ".sql") && !ends_with(base, ".sql"))
		{
			add_error(r, f->shown, 0,
					  "file name ends in \"%s\": migration files end in \".sql\", in lower case",
					  base + strlen(base) - 4);
			continue;
		}
		if (!ends_with(base, ".sql") && strcmp(base, "metadata.toml") != 0)
			continue;
		if (f->depth != 1)
		{
			if (ends_with(base, ".sql"))
				add_error(r, f->shown, 0,
						  f->depth == 0 ?
						  "file is not in a migration folder: diesel migrations are FOLDER/up.sql and FOLDER/down.sql" :
						  "file is in a folder inside a migration folder: diesel migrations are FOLDER/up.sql and FOLDER/down.sql");
			continue;
		}
		if (ends_with(base, ".sql") &&
			strcmp(base, "up.sql") != 0 && strcmp(base, "down.sql") != 0)
		{
			add_error(r, f->shown, 0,
					  "file is neither up.sql nor down.sql: a diesel migration folder holds up.sql, down.sql and metadata.toml");
			continue;
		}

		folderlen = base - f->name - 1;
		if (n == 0 || strlen(dirs[n - 1].folder) != folderlen ||
			strncmp(dirs[n - 1].folder, f->name, folderlen) != 0)
		{
			const char *us;
			size_t		k;
			StringInfoData version;

			d = &dirs[n++];
			memset(d, 0, sizeof(DieselDir));
			d->folder = pnstrdup(f->name, folderlen);
			d->first = f;
			us = strchr(d->folder, '_');
			initStringInfo(&version);
			for (k = 0; k < (us ? (size_t) (us - d->folder) : folderlen); k++)
				if (d->folder[k] != '-')
					appendStringInfoChar(&version, d->folder[k]);
			d->version = version.data;
		}
		d = &dirs[n - 1];
		if (strcmp(base, "up.sql") == 0)
			d->up = f;
		else if (strcmp(base, "down.sql") == 0)
			d->down = f;
		else
			d->metadata = f;
	}

	qsort(dirs, n, sizeof(DieselDir), compare_diesel);

	for (i = 0; i < n; i++)
	{
		DieselDir  *d = &dirs[i];
		char	   *uptext;
		char	   *downtext = NULL;
		bool		nontx = false;
		size_t		len;
		bool		ok = true;

		if (d->version[0] == '\0')
		{
			add_error(r, d->first->shown, 0,
					  "folder name has no version: diesel folders are named VERSION_NAME, as in 2024-01-01-000000_create_users");
			ok = false;
		}
		else if (i > 0 && strcmp(dirs[i - 1].version, d->version) == 0)
		{
			char	   *version = shown_name(d->version);
			char	   *other = shown_name(dirs[i - 1].folder);

			add_error(r, d->first->shown, 0,
					  "duplicate version %s: folder %s has it too",
					  version, other);
			pfree(version);
			pfree(other);
			ok = false;
		}
		if (d->up == NULL)
		{
			add_error(r, d->first->shown, 0,
					  "migration folder without up.sql: a diesel migration needs one");
			ok = false;
		}
		if (!ok || !check_id(r, d->first, 0, d->folder, "from the folder name"))
			continue;
		if (d->metadata && !read_diesel_metadata(r, d->metadata, &nontx))
			continue;
		uptext = file_text(r, d->up, &len);
		if (d->down)
			downtext = file_text(r, d->down, &len);
		if (!keep_scripts(uptext, downtext, d->down != NULL))
			continue;
		add_file_revision(r, pstrdup(d->folder), uptext, downtext, nontx,
						  join_sources(d->up, d->down, d->metadata));
	}
	set_linear_parents(r);

	for (i = 0; i < n; i++)
	{
		pfree(dirs[i].folder);
		pfree(dirs[i].version);
	}
	pfree(dirs);
}

/*
 * diesel's metadata.toml: blank lines, "#" comments and
 * run_in_transaction = true|false, which must be there (diesel takes a
 * metadata.toml without it as false).  False after recording an error.
 */
static bool
read_diesel_metadata(Reader *r, const InFile *f, bool *nontx)
{
	size_t		len;
	char	   *text = file_text(r, f, &len);
	int			nerrors = r->errors.n;
	char	   *line;
	char	   *next;
	int			lineno = 0;
	int			seen = 0;

	if (text == NULL)
		return false;
	for (line = text; line != NULL; line = next)
	{
		char	   *end;
		char	   *eq;
		char	   *key;
		char	   *val;
		char	   *hash;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		while (is_blank(*line))
			line++;
		end = line + strlen(line);
		while (end > line && is_blank(end[-1]))
			*--end = '\0';
		if (*line == '\0')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
		{
			add_error(r, f->shown, lineno,
					  "not a setting: metadata.toml holds run_in_transaction = true or false");
			continue;
		}
		key = line;
		val = eq + 1;
		end = eq;
		while (end > key && is_blank(end[-1]))
			end--;
		*end = '\0';
		while (is_blank(*val))
			val++;
		if (strcmp(key, "run_in_transaction") != 0)
		{
			char	   *shown = shown_name(key);

			add_error(r, f->shown, lineno,
					  "unknown key \"%s\": the only key is run_in_transaction", shown);
			pfree(shown);
		}
		else if (seen != 0)
			add_error(r, f->shown, lineno,
					  "run_in_transaction given twice (first on line %d)", seen);
		else if (strcmp(val, "false") == 0)
		{
			seen = lineno;
			*nontx = true;
		}
		else if (strcmp(val, "true") == 0)
			seen = lineno;
		else
		{
			seen = lineno;
			add_error(r, f->shown, lineno,
					  "run_in_transaction must be true or false");
		}
	}
	if (seen == 0 && r->errors.n == nerrors)
		add_error(r, f->shown, 0,
				  "metadata.toml does not set run_in_transaction: diesel then runs the migration outside a transaction; write run_in_transaction = false (or true)");
	pfree(text);
	return r->errors.n == nerrors;
}

/* ---------------------------------------------------------------- Flyway */

static int
compare_flyway(const void *a, const void *b)
{
	const FlywayFile *x = a;
	const FlywayFile *y = b;
	int			c;

	if (x->prefix != y->prefix)
		return x->prefix == 'V' ? -1 : 1;
	c = compare_flyway_versions(x->version, y->version);
	return c != 0 ? c : strcmp(x->file->name, y->file->name);
}

/* true, false, in any case (as Java reads them); false if neither */
static bool
parse_bool_ci(const char *s, size_t len, bool *value)
{
	if (len == 4 && pg_strncasecmp(s, "true", 4) == 0)
		*value = true;
	else if (len == 5 && pg_strncasecmp(s, "false", 5) == 0)
		*value = false;
	else
		return false;
	return true;
}

/*
 * Flyway's V and U files anywhere in the folder, in version order, with
 * their .sql.conf files.
 */
static void
read_flyway(Reader *r)
{
	FlywayFile *ff = palloc(sizeof(FlywayFile) * Max(r->nfiles, 1));
	int			n = 0;
	int			nv = 0;
	int			i,
				k;

	for (i = 0; i < r->nfiles; i++)
	{
		const InFile *f = &r->files[i];
		const char *base = f->base;
		size_t		baselen = strlen(base);
		char		prefix;
		const char *ver,
				   *desc;
		size_t		verlen,
					desclen;
		char	   *version;
		const char *dot;

		if (f->hidden)
			continue;
		if (ends_with(base, ".sql"))
		{
			if (flyway_callback(base))
			{
				add_error(r, f->shown, 0,
						  "Flyway callbacks are not supported: pg_migrate runs no scripts around migrations; make it a versioned migration, or run it yourself");
				continue;
			}
			if (!flyway_split(base, baselen - 4, &prefix, &ver, &verlen, &desc, &desclen))
			{
				add_error(r, f->shown, 0,
						  "not a Flyway migration name: expected V<version>__<description>.sql or U<version>__<description>.sql");
				continue;
			}
			if (prefix == 'R')
			{
				add_error(r, f->shown, 0,
						  "Flyway repeatable migrations (R__) are not supported: pg_migrate applies each revision once; make it a versioned migration");
				continue;
			}
			if (prefix == 'B')
			{
				add_error(r, f->shown, 0,
						  "Flyway baseline migrations (B) are not supported: register the baseline as a versioned migration, or use migrate_stamp");
				continue;
			}
			version = flyway_version(ver, verlen);
			if (version == NULL)
			{
				char	   *v = pnstrdup(ver, verlen);

				add_error(r, f->shown, 0,
						  "invalid Flyway version \"%s\": numbers separated by \".\" or \"_\", as in V1__, V1.1__ or V2024_01_01__",
						  v);
				pfree(v);
				continue;
			}
			memset(&ff[n], 0, sizeof(FlywayFile));
			ff[n].file = f;
			ff[n].prefix = prefix;
			ff[n].version = version;
			ff[n].stemlen = baselen - 4;
			ff[n].desc = desc;
			ff[n].desclen = desclen;
			if (prefix == 'V')
				nv++;
			n++;
		}
		else if (ends_with_ci(base, ".sql"))
			add_error(r, f->shown, 0,
					  "file name ends in \"%s\": migration files end in \".sql\", in lower case",
					  base + baselen - 4);
		else if (ends_with(base, ".sql.conf"))
			continue;			/* below, once the scripts are known */
		else if ((dot = strrchr(base, '.')) != NULL &&
				 flyway_split(base, dot - base, &prefix, &ver, &verlen, &desc, &desclen))
			add_error(r, f->shown, 0,
					  "not an SQL migration: Flyway Java and script migrations are not supported");
	}

	/* script configuration files: NAME.sql.conf beside NAME.sql */
	for (i = 0; i < r->nfiles; i++)
	{
		const InFile *f = &r->files[i];
		size_t		namelen = strlen(f->name);
		FlywayFile *target = NULL;

		if (f->hidden || !ends_with(f->base, ".sql.conf"))
			continue;
		for (k = 0; k < n; k++)
		{
			if (strlen(ff[k].file->name) == namelen - 5 &&
				strncmp(ff[k].file->name, f->name, namelen - 5) == 0)
				target = &ff[k];
		}
		if (target == NULL)
		{
			add_error(r, f->shown, 0,
					  "script configuration for a migration that is not here: expected it beside V<version>__<description>.sql or U<version>__<description>.sql");
			continue;
		}
		target->conf = f;
		read_flyway_conf(r, target);
	}

	qsort(ff, n, sizeof(FlywayFile), compare_flyway);

	/* duplicates among V files, and among U files */
	for (i = 1; i < n; i++)
	{
		if (ff[i].prefix == ff[i - 1].prefix &&
			compare_flyway_versions(ff[i].version, ff[i - 1].version) == 0)
			add_error(r, ff[i].file->shown, 0,
					  "duplicate version %s: %s has it too",
					  ff[i].version, ff[i - 1].file->shown);
	}

	/* V files in version order, each with the U file of its version */
	k = nv;
	for (i = 0; i < nv; i++)
	{
		FlywayFile *v = &ff[i];
		FlywayFile *u = NULL;
		char	   *id;
		char	   *uptext;
		char	   *downtext = NULL;
		size_t		len;
		MgFileRevision *rev;

		if (i > 0 && compare_flyway_versions(v->version, ff[i - 1].version) == 0)
			continue;			/* a duplicate, reported */
		while (k < n && compare_flyway_versions(ff[k].version, v->version) < 0)
			k++;				/* an undo migration of no version here */
		if (k < n && compare_flyway_versions(ff[k].version, v->version) == 0)
		{
			u = &ff[k];
			while (k < n && compare_flyway_versions(ff[k].version, v->version) == 0)
				ff[k++].paired = true;
		}

		id = pnstrdup(v->file->base, v->stemlen);
		if (!check_id(r, v->file, 0, id, "from the file name"))
		{
			pfree(id);
			continue;
		}
		uptext = file_text(r, v->file, &len);
		if (uptext && !v->no_placeholders)
			check_placeholders(r, v->file, uptext);
		if (u)
		{
			downtext = file_text(r, u->file, &len);
			if (downtext && !u->no_placeholders)
				check_placeholders(r, u->file, downtext);
		}
		if (!keep_scripts(uptext, downtext, u != NULL))
		{
			pfree(id);
			continue;
		}
		rev = add_file_revision(r, id, uptext, downtext,
								v->nontransactional || (u && u->nontransactional),
								join_sources(v->file, u ? u->file : NULL, NULL));
		if (v->desclen > 0)
		{
			size_t		c;

			rev->description = pnstrdup(v->desc, v->desclen);
			for (c = 0; c < v->desclen; c++)
				if (rev->description[c] == '_')
					rev->description[c] = ' ';
		}
	}
	for (k = nv; k < n; k++)
	{
		if (ff[k].paired ||
			(k > nv && compare_flyway_versions(ff[k].version, ff[k - 1].version) == 0))
			continue;			/* paired, or a duplicate (reported) */
		add_error(r, ff[k].file->shown, 0,
				  "undo migration without its versioned migration: no V%s__<description>.sql",
				  ff[k].version);
	}
	set_linear_parents(r);

	for (i = 0; i < n; i++)
		pfree(ff[i].version);
	pfree(ff);
}

/*
 * A Flyway script configuration file, NAME.sql.conf: KEY=VALUE lines and
 * "#" or "!" comments, with the keys executeInTransaction,
 * placeholderReplacement and encoding (UTF-8 only).
 */
static void
read_flyway_conf(Reader *r, FlywayFile *ff)
{
	const InFile *f = ff->conf;
	size_t		len;
	char	   *text = file_text(r, f, &len);
	char	   *line;
	char	   *next;
	int			lineno = 0;

	if (text == NULL)
		return;
	for (line = text; line != NULL; line = next)
	{
		char	   *end;
		char	   *eq;
		char	   *val;
		bool		b;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (is_blank(*line))
			line++;
		end = line + strlen(line);
		while (end > line && is_blank(end[-1]))
			*--end = '\0';
		if (*line == '\0' || *line == '#' || *line == '!')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
		{
			add_error(r, f->shown, lineno, "not a setting: expected KEY=VALUE");
			continue;
		}
		val = eq + 1;
		while (eq > line && is_blank(eq[-1]))
			eq--;
		*eq = '\0';
		while (is_blank(*val))
			val++;
		if (strcmp(line, "executeInTransaction") == 0)
		{
			if (!parse_bool_ci(val, strlen(val), &b))
				add_error(r, f->shown, lineno, "executeInTransaction must be true or false");
			else
				ff->nontransactional = !b;
		}
		else if (strcmp(line, "placeholderReplacement") == 0)
		{
			if (!parse_bool_ci(val, strlen(val), &b))
				add_error(r, f->shown, lineno, "placeholderReplacement must be true or false");
			else
				ff->no_placeholders = !b;
		}
		else if (strcmp(line, "encoding") == 0)
		{
			if (pg_strcasecmp(val, "UTF-8") != 0 && pg_strcasecmp(val, "UTF8") != 0)
				add_error(r, f->shown, lineno,
						  "encoding must be UTF-8: pg_migrate reads only UTF-8 files");
		}
		else
		{
			char	   *shown = shown_name(line);

			add_error(r, f->shown, lineno,
					  "unknown key \"%s\": the keys read are executeInTransaction, placeholderReplacement and encoding",
					  shown);
			pfree(shown);
		}
	}
	pfree(text);
}

/*
 * Flyway replaces ${name} in scripts with values from its configuration,
 * which pg_migrate does not have: such a script would run with the
 * placeholder in it.  The first one found is an error naming its line.
 */
static void
check_placeholders(Reader *r, const InFile *f, const char *text)
{
	const char *p = text;
	int			line = 1;

	for (; *p; p++)
	{
		if (*p == '\n')
			line++;
		else if (p[0] == '$' && p[1] == '{')
		{
			size_t		k = 2;

			while ((p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= 'a' && p[k] <= 'z') ||
				   (p[k] >= '0' && p[k] <= '9') || p[k] == '_' || p[k] == ':' ||
				   p[k] == '.' || p[k] == '-')
				k++;
			if (k > 2 && p[k] == '}')
			{
				char	   *name = pnstrdup(p, k + 1);
				char	   *base = shown_name(f->base);

				add_error(r, f->shown, line,
						  "Flyway placeholder \"%s\": pg_migrate does not replace placeholders; write the value, or set placeholderReplacement=false in %s.conf",
						  name, base);
				pfree(base);
				pfree(name);
				return;
			}
		}
	}
}

/* ---------------------------------------------------------------- all files */

static int
compare_rev_ids(const void *a, const void *b)
{
	const MgFileRevision *x = *(MgFileRevision *const *) a;
	const MgFileRevision *y = *(MgFileRevision *const *) b;
	int			c = strcmp(x->id, y->id);

	return c != 0 ? c : strcmp(x->source, y->source);
}

/* Two revisions with one id are an error on the second. */
static void
check_unique_ids(Reader *r)
{
	MgFileRevision **sorted;
	int			i;

	if (r->nrevs < 2)
		return;
	sorted = palloc(sizeof(MgFileRevision *) * r->nrevs);
	for (i = 0; i < r->nrevs; i++)
		sorted[i] = &r->revs[i];
	qsort(sorted, r->nrevs, sizeof(MgFileRevision *), compare_rev_ids);
	for (i = 1; i < r->nrevs; i++)
	{
		if (strcmp(sorted[i]->id, sorted[i - 1]->id) == 0)
			add_error(r, sorted[i]->source, 0,
					  "duplicate revision id \"%s\": %s has it too",
					  sorted[i]->id, sorted[i - 1]->source);
	}
	pfree(sorted);
}

static int
compare_infiles(const void *a, const void *b)
{
	return strcmp(((const InFile *) a)->name, ((const InFile *) b)->name);
}

/*
 * mg_read_files, with folder naming the folder in messages.
 */
static MgFileSet *
read_files(int nfiles, const char *const *names, const char *const *data,
		   const size_t *lens, MgLayout layout, const char *folder)
{
	Reader		r;
	MgFileSet  *set = palloc0(sizeof(MgFileSet));
	int			i;

	memset(&r, 0, sizeof(Reader));
	r.folder = shown_name(folder);
	r.files = palloc(sizeof(InFile) * Max(nfiles, 1));

	/* every file, in name order, so that messages come in that order */
	for (i = 0; i < nfiles; i++)
	{
		InFile	   *f = &r.files[i];

		f->name = names[i];
		f->data = data[i];
		f->len = lens[i];
	}
	qsort(r.files, nfiles, sizeof(InFile), compare_infiles);

	/* drop the names that are not relative paths of files */
	for (i = 0; i < nfiles; i++)
	{
		InFile	   *f = &r.files[r.nfiles];
		const char *name;
		const char *p;
		bool		bad;

		*f = r.files[i];
		name = f->name;
		bad = name[0] == '\0';
		f->shown = shown_name(name);
		f->base = name;
		f->depth = 0;
		f->hidden = false;
		for (p = name; *p; p++)
		{
			if (p == name || p[-1] == '/')
			{
				if (*p == '/')
					bad = true;
				if (*p == '.')
					f->hidden = true;
			}
			if (*p == '/')
			{
				f->depth++;
				f->base = p + 1;
			}
		}
		if (p > name && p[-1] == '/')
			bad = true;
		if (bad)
		{
			add_error(&r, f->shown, 0,
					  "invalid file name: names are relative paths of files");
			pfree(f->shown);
			continue;
		}
		if (f->depth > READER_MAX_DEPTH && !f->hidden &&
			name_is_wanted(f->base))
		{
			add_error(&r, f->shown, 0,
					  "file nested too deep: folders more than %d levels down are not read",
					  READER_MAX_DEPTH);
			pfree(f->shown);
			continue;
		}
		if (!f->hidden && !name_is_wanted(f->base))
			f->hidden = true;	/* nothing any layout reads */
		if (r.nfiles > 0 && strcmp(f->name, r.files[r.nfiles - 1].name) == 0)
			add_error(&r, f->shown, 0, "file listed twice");
		r.nfiles++;
	}

	if (r.errors.n == 0)
	{
		if (layout == MG_LAYOUT_DETECT)
			layout = detect_layout(&r);
		switch (layout)
		{
			case MG_LAYOUT_PG_MIGRATE:
				read_pg_migrate(&r);
				break;
			case MG_LAYOUT_GOLANG_MIGRATE:
				read_numbered(&r);
				break;
			case MG_LAYOUT_DIESEL:
				read_diesel(&r);
				break;
			case MG_LAYOUT_FLYWAY:
				read_flyway(&r);
				break;
			case MG_LAYOUT_DETECT:
				break;			/* detection failed and said why */
		}
		if (layout != MG_LAYOUT_DETECT && r.nrevs == 0 && r.errors.n == 0)
			add_error(&r, r.folder, 0, "no %s migration files in the folder",
					  mg_layout_name(layout));
		check_unique_ids(&r);
	}

	set->layout = layout;
	if (r.errors.n > 0)
	{
		set->nerrors = r.errors.n;
		set->errors = r.errors.items;
		for (i = 0; i < r.nrevs; i++)
			free_revision(&r.revs[i]);
		if (r.revs)
			pfree(r.revs);
	}
	else
	{
		set->nrevisions = r.nrevs;
		set->revisions = r.revs;
	}

	for (i = 0; i < r.nfiles; i++)
		pfree(r.files[i].shown);
	pfree(r.files);
	pfree(r.folder);
	return set;
}

/*
 * Read files given in memory (see reader.h).  names are relative paths
 * ("a.sql", "dir/up.sql"); a name that is empty, absolute, or has an empty
 * part is an error.  data[i] may be NULL when lens[i] is 0.  Messages about
 * the folder as a whole name it ".".
 */
MgFileSet *
mg_read_files(int nfiles, const char *const *names,
			  const char *const *data, const size_t *lens,
			  MgLayout layout)
{
	return read_files(nfiles, names, data, lens, layout, ".");
}

/*
 * Free a result of mg_read_directory or mg_read_files (see reader.h).
 */
void
mg_free_file_set(MgFileSet *set)
{
	int			i;

	for (i = 0; i < set->nrevisions; i++)
		free_revision(&set->revisions[i]);
	if (set->revisions)
		pfree(set->revisions);
	for (i = 0; i < set->nerrors; i++)
		pfree(set->errors[i]);
	if (set->errors)
		pfree(set->errors);
	pfree(set);
}

/* ---------------------------------------------------------------- folders */

/* Why a listed file could not be read. */
typedef enum ReadFailure
{
	READ_OK = 0,
	READ_OPEN_FAILED,			/* open(), with errno */
	READ_STAT_FAILED,			/* fstat(), with errno */
	READ_TOO_LARGE,				/* larger than READER_MAX_FILE_SIZE */
	READ_FAILED,				/* read(), with errno */
	READ_SHRANK					/* ended before its size said */
} ReadFailure;

/*
 * One entry of a listing, in the order the folder was walked: a file to
 * read, or a problem found while walking.
 */
typedef struct ListedFile
{
	char	   *path;			/* to open; NULL for a problem of the walk */
	char	   *rel;			/* the name it is known by */
	char	   *problem;		/* the walk's problem: "REL:0: message" */
	/* filled by read_listed_file */
	char	   *data;			/* the contents, NUL-terminated */
	size_t		len;			/* their length; the size for READ_TOO_LARGE */
	ReadFailure failure;
	int			failure_errno;
} ListedFile;

/* The files of a folder and its subfolders, as mg_read_directory reads them. */
typedef struct Listing
{
	ListedFile *files;
	int			n;
	int			max;
	int			dirfd;			/* the client's descriptor of the folder, to
								 * open files relative to it; -1 for none */
} Listing;

/* The folders from the top down to the one being listed, to stop loops. */
typedef struct FolderPath
{
	dev_t		dev[READER_MAX_DEPTH + 1];
	ino_t		ino[READER_MAX_DEPTH + 1];
} FolderPath;

static void list_folder(Listing *l, const char *dir, const char *rel, int depth,
						FolderPath *above);
static ListedFile *listing_add(Listing *l);
static void listing_add_error(Listing *l, const char *rel, const char *fmt,...) pg_attribute_printf(3, 4);
static void read_listing(Listing *l);
static void read_listed_file(const Listing *l, ListedFile *f);
static void add_read_failure(StrList *errors, const ListedFile *f);
static int	compare_entries(const void *a, const void *b);

/* qsort order of list_folder's entries: by name, after the kind */
static int
compare_entries(const void *a, const void *b)
{
	return strcmp(*(char *const *) a + 1, *(char *const *) b + 1);
}

/* A new entry at the end of the listing, zeroed. */
static ListedFile *
listing_add(Listing *l)
{
	if (l->n == l->max)
	{
		l->max = l->max == 0 ? 64 : l->max * 2;
		if (l->files == NULL)
			l->files = palloc(sizeof(ListedFile) * l->max);
		else
			l->files = repalloc(l->files, sizeof(ListedFile) * l->max);
	}
	memset(&l->files[l->n], 0, sizeof(ListedFile));
	return &l->files[l->n++];
}

/*
 * Record the walk's problem "REL:0: message" (rel is shown as messages
 * show names).  Call with errno as the failed call left it when fmt has
 * %m.
 */
static void
listing_add_error(Listing *l, const char *rel, const char *fmt,...)
{
	int			save_errno = errno;
	char	   *shown = shown_name(rel);
	StrList		one;
	va_list		args;

	memset(&one, 0, sizeof(one));
	va_start(args, fmt);
	add_message(&one, shown, 0, save_errno, fmt, args);
	va_end(args);
	listing_add(l)->problem = one.items[0];
	pfree(one.items);
	pfree(shown);
}

/*
 * Read the file f->path of listing l into f.  Plain descriptors rather
 * than stdio: open, fstat, read, close and nothing more per file; the
 * client opens f->rel relative to the folder's descriptor, which spares
 * the kernel walking the folder's path again for every file.  A failure
 * is left in f->failure and f->failure_errno, for add_read_failure to
 * word.
 */
static void
read_listed_file(const Listing *l, ListedFile *f)
{
#ifdef FRONTEND
	int			fd = l->dirfd >= 0 ?
		openat(l->dirfd, f->rel, O_RDONLY | PG_BINARY | O_CLOEXEC) :
		reader_open(f->path);
#else
	int			fd = reader_open(f->path);
#endif
	struct stat st;
	char	   *buf;
	size_t		size;
	size_t		done = 0;

	if (fd < 0)
	{
		f->failure = READ_OPEN_FAILED;
		f->failure_errno = errno;
		return;
	}
	if (fstat(fd, &st) != 0)
	{
		f->failure = READ_STAT_FAILED;
		f->failure_errno = errno;
		reader_close(fd);
		return;
	}
	if ((uint64) st.st_size > READER_MAX_FILE_SIZE)
	{
		f->failure = READ_TOO_LARGE;
		f->len = (size_t) st.st_size;
		reader_close(fd);
		return;
	}
	size = (size_t) st.st_size;
	buf = palloc(size + 1);
	while (done < size)
	{
		ssize_t		n;

		errno = 0;
		n = read(fd, buf + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			f->failure = n == 0 ? READ_SHRANK : READ_FAILED;
			f->failure_errno = errno;
			pfree(buf);
			reader_close(fd);
			return;
		}
		done += (size_t) n;
	}
	buf[size] = '\0';
	reader_close(fd);
	f->data = buf;
	f->len = size;
}

/* Word f's read failure as "REL:0: message" in errors. */
static void
add_read_failure(StrList *errors, const ListedFile *f)
{
	Listing		one;

	memset(&one, 0, sizeof(one));
	errno = f->failure_errno;
	switch (f->failure)
	{
		case READ_OK:
			return;
		case READ_OPEN_FAILED:
			listing_add_error(&one, f->rel, "could not open file: %m");
			break;
		case READ_STAT_FAILED:
			listing_add_error(&one, f->rel, "could not stat file: %m");
			break;
		case READ_TOO_LARGE:
			listing_add_error(&one, f->rel, "file too large (%llu bytes; at most %zu)",
							  (unsigned long long) f->len, READER_MAX_FILE_SIZE);
			break;
		case READ_FAILED:
			listing_add_error(&one, f->rel, "could not read file: %m");
			break;
		case READ_SHRANK:
			listing_add_error(&one, f->rel, "could not read file: it changed while being read");
			break;
	}
	strlist_add(errors, one.files[0].problem);
	pfree(one.files);
}

/*
 * Read every file of the listing, calling mg_reader_file_hook after each.
 * The server answers interrupts between files.  (One thread reads: with
 * more, the client program was slower end to end, its threads competing
 * with the backend being started for it and paying for their own malloc
 * arenas.)
 */
static void
read_listing(Listing *l)
{
	int			i;

	for (i = 0; i < l->n; i++)
	{
		if (l->files[i].path == NULL)
			continue;
#ifndef FRONTEND
		CHECK_FOR_INTERRUPTS();
#endif
		read_listed_file(l, &l->files[i]);
		if (mg_reader_file_hook != NULL)
			mg_reader_file_hook();
	}
}

/*
 * Add the files of the folder dir/rel (rel NULL for dir itself) that some
 * layout may read, and those of its subfolders down to READER_MAX_DEPTH.
 * Hidden entries are skipped; symbolic links are followed, but a folder
 * that is one of the folders above it (a link loop) is an error, and so is
 * a wanted name that is not a regular file (a FIFO, a dangling link).  The
 * folder is read whole and closed before its subfolders are, so one
 * descriptor is open at a time.  above holds the folders from the top
 * down to this one (this one's entry, at depth, is filled here).
 *
 * A regular file is known as one from readdir where the file system says
 * so (d_type), without a stat() by path, which costs as much as reading a
 * small file: a client's no-op sync reads every file of the folder.  Every
 * other entry (a folder, a symbolic link, an unknown kind) is stat()ed.
 */
static void
list_folder(Listing *l, const char *dir, const char *rel, int depth,
			FolderPath *above)
{
	char	   *path = rel ? psprintf("%s/%s", dir, rel) : pstrdup(dir);
	DIR		   *d;
	StrList		entries;
	struct dirent *de;
	struct stat st;
	int			i;

	memset(&entries, 0, sizeof(entries));
	if (stat(path, &st) != 0)
	{
		listing_add_error(l, rel ? rel : dir, "could not open folder: %m");
		pfree(path);
		return;
	}
	above->dev[depth] = st.st_dev;
	above->ino[depth] = st.st_ino;
	d = reader_opendir(path);
	if (d == NULL)
	{
		listing_add_error(l, rel ? rel : dir, "could not open folder: %m");
		pfree(path);
		return;
	}
	for (;;)
	{
		errno = 0;
		de = readdir(d);
		if (de == NULL)
		{
			if (errno != 0)
				listing_add_error(l, rel ? rel : dir, "could not read folder: %m");
			break;
		}
		if (de->d_name[0] == '.')
			continue;			/* hidden, and "." and ".." */
		/* each entry is 'f' (a regular file) or '?' (ask stat), then the name */
#ifdef _DIRENT_HAVE_D_TYPE
		strlist_add(&entries, psprintf("%c%s", de->d_type == DT_REG ? 'f' : '?',
									   de->d_name));
#else
		strlist_add(&entries, psprintf("?%s", de->d_name));
#endif
	}
	reader_closedir(d);
	if (entries.n > 0)
		qsort(entries.items, entries.n, sizeof(char *), compare_entries);

	for (i = 0; i < entries.n; i++)
	{
		const char *entry = entries.items[i] + 1;
		bool		known_file = entries.items[i][0] == 'f';
		char	   *childrel = rel ? psprintf("%s/%s", rel, entry) : pstrdup(entry);
		char	   *childpath = psprintf("%s/%s", dir, childrel);
		bool		wanted = name_is_wanted(entry);
		int			k;

#ifndef FRONTEND
		CHECK_FOR_INTERRUPTS();
#endif
		if (known_file)
			st.st_mode = S_IFREG;
		if (!known_file && stat(childpath, &st) != 0)
		{
			if (wanted)
				listing_add_error(l, childrel, "could not stat file: %m");
		}
		else if (S_ISDIR(st.st_mode))
		{
			for (k = 0; k <= depth; k++)
				if (above->dev[k] == st.st_dev && above->ino[k] == st.st_ino)
					break;
			if (k <= depth)
				listing_add_error(l, childrel,
								  "folder loop: through a symbolic link, this is one of the folders it is in");
			else if (depth + 1 > READER_MAX_DEPTH)
				listing_add_error(l, childrel,
								  "folder nested too deep: folders more than %d levels down are not read",
								  READER_MAX_DEPTH);
			else
				list_folder(l, dir, childrel, depth + 1, above);
		}
		else if (!wanted)
			;					/* no layout reads it */
		else if (S_ISREG(st.st_mode))
		{
			ListedFile *f = listing_add(l);

			f->path = childpath;
			f->rel = childrel;
			continue;			/* they are the entry's now */
		}
		else
			listing_add_error(l, childrel, "not a regular file");
		pfree(childrel);
		pfree(childpath);
	}
	strlist_free(&entries);
	pfree(path);
}

/*
 * Read every migration file of the folder dir, without parsing them (see
 * reader.h).
 */
MgFolderFiles *
mg_read_folder_files(const char *dir)
{
	MgFolderFiles *files = palloc0(sizeof(MgFolderFiles));
	Listing		l;
	FolderPath	above;
	StrList		names;
	StrList		errors;
	int			i;

	memset(&l, 0, sizeof(l));
	memset(&names, 0, sizeof(names));
	memset(&errors, 0, sizeof(errors));
	l.dirfd = -1;
	list_folder(&l, dir, NULL, 0, &above);
#ifdef FRONTEND
	l.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
	read_listing(&l);
#ifdef FRONTEND
	if (l.dirfd >= 0)
		close(l.dirfd);
#endif

	/* the walk's problems and the files that could not be read, in order */
	files->data = palloc(sizeof(char *) * Max(l.n, 1));
	files->lens = palloc(sizeof(size_t) * Max(l.n, 1));
	for (i = 0; i < l.n; i++)
	{
		ListedFile *f = &l.files[i];

		if (f->problem != NULL)
			strlist_add(&errors, f->problem);
		else if (f->failure != READ_OK)
			add_read_failure(&errors, f);
		else
		{
			strlist_add(&names, f->rel);
			files->data[files->nfiles] = f->data;
			files->lens[files->nfiles] = f->len;
			files->nfiles++;
			pfree(f->path);
			continue;			/* the name is the file set's now */
		}
		if (f->path != NULL)
		{
			pfree(f->path);
			pfree(f->rel);
		}
	}
	if (l.files)
		pfree(l.files);
	files->names = names.items;
	files->nerrors = errors.n;
	files->errors = errors.items;
	if (errors.n == 0)
		folder_fingerprint(files);
	return files;
}

/*
 * The fingerprint of the files of a folder as read, into
 * files->fingerprint: 128 bits, two chains of PostgreSQL's
 * hash_bytes_extended (lookup3) with different seeds, over the version
 * line, then per file its name, a NUL, its length as 8 bytes and its
 * bytes, in the order read.  Not a cryptographic digest: it tells a
 * folder from an edited one, for the client's no-op deploy, and costs a
 * fraction of a millisecond where the first SHA-256 of a process costs
 * more than a millisecond of OpenSSL starting up.
 */
static void
folder_fingerprint(MgFolderFiles *files)
{
	uint64		h[2] = {UINT64CONST(0x706d5f6d69677261), UINT64CONST(0x7465206669667072)};
	int			i;

	fingerprint_fold(h, FINGERPRINT_LINE, strlen(FINGERPRINT_LINE));
	for (i = 0; i < files->nfiles; i++)
	{
		uint64		len = (uint64) files->lens[i];
		unsigned char lenbytes[8];
		int			b;

		for (b = 0; b < 8; b++)
			lenbytes[b] = (unsigned char) (len >> (8 * b));
		fingerprint_fold(h, files->names[i], strlen(files->names[i]) + 1);
		fingerprint_fold(h, lenbytes, sizeof(lenbytes));
		fingerprint_fold(h, files->data[i], files->lens[i]);
	}
	snprintf(files->fingerprint, sizeof(files->fingerprint), "%016llx%016llx",
			 (unsigned long long) h[0], (unsigned long long) h[1]);
}

/* Fold len bytes of data into both chains of a fingerprint. */
static void
fingerprint_fold(uint64 *h, const void *data, size_t len)
{
	h[0] = hash_bytes_extended(data, (int) len, h[0]);
	h[1] = hash_bytes_extended(data, (int) len, h[1]);
}

/*
 * Parse the files mg_read_folder_files read, with the given layout or
 * the one detected (see reader.h).
 */
MgFileSet *
mg_parse_folder_files(const MgFolderFiles *files, MgLayout layout,
					  const char *dir)
{
	if (files->nerrors > 0)
	{
		MgFileSet  *set = palloc0(sizeof(MgFileSet));
		int			i;

		set->layout = layout;
		set->nerrors = files->nerrors;
		set->errors = palloc(sizeof(char *) * files->nerrors);
		for (i = 0; i < files->nerrors; i++)
			set->errors[i] = pstrdup(files->errors[i]);
		return set;
	}
	return read_files(files->nfiles, (const char *const *) files->names,
					  (const char *const *) files->data, files->lens,
					  layout, dir);
}

/* Free a result of mg_read_folder_files with everything it points to. */
void
mg_free_folder_files(MgFolderFiles *files)
{
	int			i;

	for (i = 0; i < files->nfiles; i++)
	{
		pfree(files->names[i]);
		pfree(files->data[i]);
	}
	if (files->names)
		pfree(files->names);
	pfree(files->data);
	pfree(files->lens);
	for (i = 0; i < files->nerrors; i++)
		pfree(files->errors[i]);
	if (files->errors)
		pfree(files->errors);
	pfree(files);
}

/*
 * Read every migration file of the folder dir (see reader.h): read, then
 * parse.
 */
MgFileSet *
mg_read_directory(const char *dir, MgLayout layout)
{
	MgFolderFiles *files = mg_read_folder_files(dir);
	MgFileSet  *set = mg_parse_folder_files(files, layout, dir);

	mg_free_folder_files(files);
	return set;
}

/* ---------------------------------------------------------------- names of layouts */

/*
 * The layout a name stands for: "pg_migrate" and "dbmate" (one format),
 * "golang-migrate" and "sqlx" (one naming), "diesel", "flyway", and
 * "auto" for detection; any case.  False for any other name.
 */
bool
mg_layout_from_name(const char *name, MgLayout *layout)
{
	if (pg_strcasecmp(name, "pg_migrate") == 0 || pg_strcasecmp(name, "dbmate") == 0)
		*layout = MG_LAYOUT_PG_MIGRATE;
	else if (pg_strcasecmp(name, "golang-migrate") == 0 || pg_strcasecmp(name, "sqlx") == 0)
		*layout = MG_LAYOUT_GOLANG_MIGRATE;
	else if (pg_strcasecmp(name, "diesel") == 0)
		*layout = MG_LAYOUT_DIESEL;
	else if (pg_strcasecmp(name, "flyway") == 0)
		*layout = MG_LAYOUT_FLYWAY;
	else if (pg_strcasecmp(name, "auto") == 0)
		*layout = MG_LAYOUT_DETECT;
	else
		return false;
	return true;
}

/* The name of a layout, for messages: the first name mg_layout_from_name takes. */
const char *
mg_layout_name(MgLayout layout)
{
	switch (layout)
	{
		case MG_LAYOUT_DETECT:
			return "auto";
		case MG_LAYOUT_PG_MIGRATE:
			return "pg_migrate";
		case MG_LAYOUT_GOLANG_MIGRATE:
			return "golang-migrate";
		case MG_LAYOUT_DIESEL:
			return "diesel";
		case MG_LAYOUT_FLYWAY:
			return "flyway";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- hash */

/*
 * A failure of the SHA-256 implementation (out of memory in OpenSSL): not
 * a problem of the input, so it is not collected.  The server raises an
 * error; a frontend program exits, as libpgcommon's palloc does.
 */
static void
hash_failed(pg_cryptohash_ctx *ctx)
{
#ifndef FRONTEND
	elog(ERROR, "could not compute SHA-256: %s",
		 ctx ? pg_cryptohash_error(ctx) : "out of memory");
#else
	fprintf(stderr, "could not compute SHA-256: %s\n",
			ctx ? pg_cryptohash_error(ctx) : "out of memory");
	exit(EXIT_FAILURE);
#endif
}

/* Add len bytes of data to a SHA-256 under way; a failure is an error. */
static void
digest_bytes(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0)
		hash_failed(ctx);
}

/*
 * A tag byte, the length as 8 bytes big-endian, and the bytes; a NULL
 * string is the tag in upper case alone.
 */
static void
hash_field(pg_cryptohash_ctx *ctx, char tag, const char *data)
{
	uint8		len[8];
	uint64		n;
	int			i;

	if (data == NULL)
	{
		tag = (char) (tag - 'a' + 'A');
		digest_bytes(ctx, &tag, 1);
		return;
	}
	n = strlen(data);
	for (i = 7; i >= 0; i--)
	{
		len[i] = (uint8) (n & 0xff);
		n >>= 8;
	}
	digest_bytes(ctx, &tag, 1);
	digest_bytes(ctx, len, sizeof(len));
	digest_bytes(ctx, data, strlen(data));
}

/*
 * SHA-256 of a revision as the registry would keep it.  The serialization
 * cannot be read two ways: a version line, then every field as a tag, a
 * length and its bytes (see hash_field): id 'i'; the number of parents 'n'
 * (as decimal text) and each parent 'p' in order; description 'd', up
 * 'u' and down 'w', absent ones as their tag in upper case; the flag 't'
 * ("1" non-transactional, "0" not).  Changing any of these changes the
 * hash of every revision: bump the version line then.
 */
char *
mg_file_revision_hash(const MgFileRevision *rev)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex;
	char		count[16];
	int			i;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		hash_failed(ctx);
	digest_bytes(ctx, HASH_VERSION_LINE, strlen(HASH_VERSION_LINE));
	hash_field(ctx, 'i', rev->id ? rev->id : "");
	snprintf(count, sizeof(count), "%d", rev->nparents);
	hash_field(ctx, 'n', count);
	for (i = 0; i < rev->nparents; i++)
		hash_field(ctx, 'p', rev->parents[i]);
	hash_field(ctx, 'd', rev->description);
	hash_field(ctx, 'u', rev->up ? rev->up : "");
	hash_field(ctx, 'w', rev->down);
	hash_field(ctx, 't', rev->nontransactional ? "1" : "0");
	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		hash_failed(ctx);
	pg_cryptohash_free(ctx);

	hex = palloc(MG_DIGEST_HEX_LEN + 1);
	hex_of(digest, hex);
	return hex;
}

/* A SHA-256 digest in lower-case hex, into hex[MG_DIGEST_HEX_LEN + 1]. */
static void
hex_of(const uint8 *digest, char *hex)
{
	static const char hexdigits[] = "0123456789abcdef";
	int			i;

	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[2 * i] = hexdigits[digest[i] >> 4];
		hex[2 * i + 1] = hexdigits[digest[i] & 0x0f];
	}
	hex[MG_DIGEST_HEX_LEN] = '\0';
}
