#!/usr/bin/env python3
"""test/drivers/psycopg2_test.py: pg_migrate through Python's psycopg2.

What an application or a deploy script written in Python does with
pg_migrate, through Debian's python3-psycopg2: register revisions, run
SELECT * FROM migrate_upgrade('head') and read its rows, receive the
NOTICE progress, catch a failing script's error and read its SQLSTATE
(the statement's own, 42P01 for a missing table) and its context line
(project, revision, statement, line), catch pg_migrate's own errors (SQLSTATE
class MG) with their hint, read migrate_status(), and call migrate_check()
at head and behind it.

Connection parameters come from the PG* environment (PGHOST, PGPORT, PGUSER,
PGDATABASE for the maintenance database); the role must be able to create a
database and the extension.  The test creates its own database,
pgm_drivers_psycopg2 (dropped first if it exists), and drops it at the end.

    /usr/bin/python3 test/drivers/psycopg2_test.py [-v]
"""

import datetime
import sys
import unittest

try:
    import psycopg2
    import psycopg2.extras
except ImportError:
    sys.exit("psycopg2_test.py needs psycopg2: apt-get install python3-psycopg2, and run it"
             " with Debian's /usr/bin/python3 (another python3 may come first on PATH)")

DB = "pgm_drivers_psycopg2"


def maintenance_connection():
    """An autocommit connection to the maintenance database (PGDATABASE)."""
    conn = psycopg2.connect(application_name="pgm_drivers")
    conn.autocommit = True
    return conn


class PgMigrateThroughPsycopg2(unittest.TestCase):
    """One database, one connection; the tests run in name order and each
    starts where the one before left the project."""

    @classmethod
    def setUpClass(cls):
        admin = maintenance_connection()
        with admin.cursor() as cur:
            cur.execute("SET client_min_messages = warning")
            cur.execute("DROP DATABASE IF EXISTS " + DB)
            cur.execute("CREATE DATABASE " + DB)
        admin.close()
        cls.conn = psycopg2.connect(dbname=DB, application_name="pgm_drivers")
        cls.conn.autocommit = True
        with cls.conn.cursor() as cur:
            cur.execute("CREATE EXTENSION pg_migrate")

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        admin = maintenance_connection()
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS " + DB)
        admin.close()

    def register(self, revision, up, **named):
        """migrate_register(revision, up, ...named arguments); its result."""
        args = "".join(", %s => %%(%s)s" % (name, name) for name in named)
        with self.conn.cursor() as cur:
            cur.execute("SELECT migrate_register(%(revision)s, %(up)s" + args + ")",
                        dict(revision=revision, up=up, **named))
            return cur.fetchone()[0]

    def status(self):
        """migrate_status() as a dict."""
        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT * FROM migrate_status()")
            return cur.fetchone()

    def test_01_upgrade_returns_a_row_per_revision(self):
        self.assertEqual(self.register("0001_users",
                                       "CREATE TABLE users (id bigint PRIMARY KEY);"),
                         "added")
        self.assertEqual(self.register("0002_orders",
                                       "CREATE TABLE orders (id bigint PRIMARY KEY);\n"
                                       "CREATE INDEX ON orders (id);",
                                       down="DROP TABLE orders;"),
                         "added")
        del self.conn.notices[:]
        with self.conn.cursor() as cur:
            cur.execute("SELECT * FROM migrate_upgrade('head')")
            self.assertEqual([d.name for d in cur.description],
                             ["revision", "action", "duration", "statements", "attempts"])
            rows = cur.fetchall()
        self.assertEqual([(r[0], r[1], r[3], r[4]) for r in rows],
                         [("0001_users", "applied", 1, 1),
                          ("0002_orders", "applied", 2, 1)])
        for row in rows:
            self.assertIsInstance(row[2], datetime.timedelta, "duration is an interval")
        # the progress NOTICEs reached the driver, in order
        self.assertEqual([n.strip() for n in self.conn.notices],
                         ["NOTICE:  applying 0001_users (1/2)",
                          "NOTICE:  applying 0002_orders (2/2)"])

    def test_02_status(self):
        status = self.status()
        self.assertEqual(status["project"], "default")
        self.assertEqual(status["applied_heads"], ["0002_orders"])
        self.assertEqual(status["registry_heads"], ["0002_orders"])
        self.assertEqual((status["applied"], status["pending"], status["drifted"]), (2, 0, 0))
        self.assertEqual(status["last_revision"], "0002_orders")
        self.assertIsNone(status["lock_pid"])

    def test_03_a_failing_script_keeps_its_sqlstate_and_names_where(self):
        self.register("0003_bad", "SELECT 1;\nINSERT INTO no_such_table VALUES (1);")
        with self.assertRaises(psycopg2.errors.UndefinedTable) as caught:
            with self.conn.cursor() as cur:
                cur.execute("SELECT * FROM migrate_upgrade('head')")
        err = caught.exception
        self.assertEqual(err.pgcode, "42P01")
        self.assertEqual(err.diag.sqlstate, "42P01")
        self.assertEqual(err.diag.message_primary, 'relation "no_such_table" does not exist')
        self.assertIn('revision "0003_bad" of project "default", statement 2, line 2, column 13',
                      err.diag.context)
        # nothing was applied, and the connection is usable
        status = self.status()
        self.assertEqual((status["applied"], status["pending"]), (2, 1))

    def test_04_pg_migrate_errors_have_class_mg_and_a_hint(self):
        with self.assertRaises(psycopg2.Error) as caught:
            with self.conn.cursor() as cur:
                cur.execute("SELECT * FROM migrate_upgrade('0009_nope')")
        err = caught.exception
        self.assertEqual(err.pgcode, "MG002")
        self.assertTrue(err.pgcode.startswith("MG"), "pg_migrate's own class")
        self.assertEqual(err.diag.message_primary, 'unknown target "0009_nope"')
        self.assertIn('"head"', err.diag.message_hint)
        # a driver can branch on the class without knowing every code
        self.assertEqual(err.pgcode[:2], "MG")

    def test_05_check_fails_behind_head(self):
        with self.assertRaises(psycopg2.Error) as caught:
            with self.conn.cursor() as cur:
                cur.execute("SELECT migrate_check()")
        err = caught.exception
        self.assertEqual(err.pgcode, "MG024")
        self.assertEqual(err.diag.message_primary, 'project "default" has 1 pending revision')
        self.assertIn("0003_bad", err.diag.message_detail)
        self.assertIn("migrate_upgrade('head')", err.diag.message_hint)

    def test_06_the_callers_transaction_decides(self):
        self.register("0003_bad", "ALTER TABLE users ADD COLUMN email text;")
        self.conn.autocommit = False
        try:
            with self.conn.cursor() as cur:
                cur.execute("SELECT revision FROM migrate_upgrade('head')")
                self.assertEqual(cur.fetchall(), [("0003_bad",)])
            self.conn.rollback()
        finally:
            self.conn.autocommit = True
        self.assertEqual(self.status()["pending"], 1, "rolled back with the caller's transaction")
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM migrate_upgrade('head')")
            self.assertEqual(cur.fetchone()[0], 1)

    def test_07_check_is_ok_at_head(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT migrate_check()")
            self.assertEqual(cur.fetchone()[0],
                             'ok: project "default" at head 0003_bad (3 applied, none pending,'
                             ' no drift)')


if __name__ == "__main__":
    unittest.main(verbosity=2)
