#!/usr/bin/env python3
"""test/hammer.py: many deploys upgrading while revisions keep arriving.

32 clients call SELECT * FROM migrate_upgrade('head') over and over while
a registrar adds 200 revisions one by one, each the child of the one before.
Every up script inserts its revision's id into hammer_effect, a table
without a unique constraint, so a revision applied twice leaves two rows.
When the registrar is done the clients stop, each after one last call
started after that moment, so the last revisions are applied too.

Then it checks, and prints every check with ok or FAILED:

  - every revision applied exactly once: hammer_effect holds one row per
    revision, 200 in all; migrate.applied and the "upgrade" rows of
    migrate_history() name the same 200 revisions, once each; and the rows
    the clients got back from migrate_upgrade name each revision once;
  - no client saw an error (each one is counted and printed);
  - no deadlock: none in pg_stat_database for the database, and no
    "deadlock detected" in the part of the server log written during the
    run (with --server-log; .ci/suites/hammer.sh passes the throwaway
    cluster's log).

It also prints how many upgrade calls ran and how many applied something,
to show that the calls contended.  The last line starts with "summary:".

Connection parameters come from the PG* environment (PGHOST, PGPORT,
PGUSER, PGDATABASE for the maintenance database).  The role must be able to
create a database and the extension.  It creates its own database
(pgm_hammer, dropped first if it exists) and drops it at the end
(--keep keeps it).  Exits 0 when every check passed, 1 when one failed,
2 on bad usage.

    python3 test/hammer.py [--clients 32] [--revisions 200]
                           [--server-log PATH] [--timeout 120] [--keep]
"""

import argparse
import collections
import os
import sys
import threading
import time

try:
    import psycopg2
except ImportError:
    sys.exit("hammer.py needs psycopg2: apt-get install python3-psycopg2, and run it"
             " with Debian's /usr/bin/python3 (another python3 may come first on PATH)")

DB = "pgm_hammer"
PROJECT = "default"


def rev_id(i):
    """Revision i's id (1-based): r0001, r0002, ..."""
    return "r%04d" % i


def connect(dbname=None, application_name="pgm_hammer"):
    """An autocommit connection; everything else from the PG* environment."""
    kwargs = {"application_name": application_name}
    if dbname is not None:
        kwargs["dbname"] = dbname
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True
    return conn


def describe(err):
    """One line for a psycopg2 error: SQLSTATE and the server's message."""
    msg = (getattr(err, "pgerror", None) or str(err)).strip().splitlines()
    first = msg[0] if msg else repr(err)
    return "%s %s" % (getattr(err, "pgcode", None) or "-----", first)


class Run:
    """What the threads share: the stop flag, and what they saw."""

    def __init__(self):
        self.stop = threading.Event()
        self.abort = threading.Event()   # --timeout passed: give up at once
        self.lock = threading.Lock()
        self.errors = []            # (who, description)
        self.applied_rows = []      # revisions as returned to the clients
        self.calls = 0              # migrate_upgrade calls that returned
        self.calls_applying = 0     # ... with at least one applied row
        self.most_in_one_call = 0
        self.per_client = collections.Counter()
        self.conns = []             # for cancelling on a timeout
        self.registered = 0
        self.registrar_done_at = None

    def error(self, who, err):
        with self.lock:
            self.errors.append((who, describe(err)))

    def connect(self, who, application_name):
        """A thread's connection to DB, kept for cancelling on a timeout;
        None, with the error recorded for who, when it cannot connect."""
        try:
            conn = connect(DB, application_name)
        except psycopg2.Error as err:
            self.error(who, err)
            return None
        with self.lock:
            self.conns.append(conn)
        return conn


def client(run, n):
    """Upgrade to head until told to stop, then once more."""
    who = "client %d" % n
    conn = run.connect(who, "pgm_hammer_client_%d" % n)
    if conn is None:
        return
    cur = conn.cursor()
    while True:
        # Read the flag before the call: a call that starts after the
        # registrar finished is this client's last.
        last = run.stop.is_set()
        try:
            cur.execute("SELECT revision, action FROM migrate_upgrade('head')")
            rows = cur.fetchall()
        except psycopg2.Error as err:
            run.error(who, err)
            if conn.closed or run.abort.is_set():
                return
            continue
        applied = [r[0] for r in rows if r[1] == "applied"]
        with run.lock:
            run.calls += 1
            run.per_client[n] += 1
            run.applied_rows.extend(applied)
            if applied:
                run.calls_applying += 1
                run.most_in_one_call = max(run.most_in_one_call, len(applied))
        if last or run.abort.is_set():
            break
    conn.close()


def registrar(run, count):
    """Register count revisions one by one, each the child of the last."""
    who = "registrar"
    conn = run.connect(who, "pgm_hammer_registrar")
    if conn is None:
        return
    cur = conn.cursor()
    try:
        for i in range(1, count + 1):
            if run.abort.is_set():
                break
            rev = rev_id(i)
            parents = [rev_id(i - 1)] if i > 1 else []
            cur.execute(
                "SELECT migrate_register(%s, %s, down => %s,"
                " parents => %s::text[])",
                (rev,
                 "INSERT INTO hammer_effect (revision) VALUES ('%s');" % rev,
                 "DELETE FROM hammer_effect WHERE revision = '%s';" % rev,
                 parents))
            result = cur.fetchone()[0]
            if result != "added":
                with run.lock:
                    run.errors.append((who, "migrate_register(%s) returned %r, expected 'added'"
                                       % (rev, result)))
            run.registered = i
    except psycopg2.Error as err:
        run.error(who, err)
    finally:
        run.registrar_done_at = time.monotonic()
        conn.close()


def log_size(path):
    """The server log's size now, or None without a log."""
    if path is None:
        return None
    return os.path.getsize(path)


def log_since(path, offset):
    """The lines the server log gained since offset."""
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace").splitlines()


class Checks:
    """Named checks, printed as they are made."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, name, ok, detail=""):
        print("%-7s %s%s" % ("ok" if ok else "FAILED", name,
                             (": " + detail) if detail else ""))
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)


def same_set(name, got, want, checks):
    """Check that the list got names every id in want exactly once."""
    counts = collections.Counter(got)
    twice = sorted(r for r, c in counts.items() if c > 1)
    missing = sorted(want - set(counts))
    extra = sorted(set(counts) - want)
    problems = []
    if twice:
        problems.append("more than once: %s" % ", ".join(twice[:10]))
    if missing:
        problems.append("missing: %s" % ", ".join(missing[:10]))
    if extra:
        problems.append("unexpected: %s" % ", ".join(extra[:10]))
    checks.check(name, not problems,
                 "; ".join(problems) if problems else "%d rows, one per revision" % len(got))


def main():
    ap = argparse.ArgumentParser(
        description="Many clients call migrate_upgrade('head') while revisions keep arriving.")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--revisions", type=int, default=200)
    ap.add_argument("--server-log", metavar="PATH",
                    help="the server's log file, searched for \"deadlock detected\"")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds before the run is cancelled and fails (default 120)")
    ap.add_argument("--keep", action="store_true", help="keep the database pgm_hammer")
    args = ap.parse_args()
    if args.clients < 1 or not 1 <= args.revisions <= 9999:
        ap.error("need at least 1 client and 1 to 9999 revisions")
    if args.server_log is not None and not os.path.isfile(args.server_log):
        ap.error("no such server log: %s" % args.server_log)

    admin = connect()
    acur = admin.cursor()
    acur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB)
    acur.execute("CREATE DATABASE %s" % DB)
    setup = connect(DB)
    scur = setup.cursor()
    scur.execute("CREATE EXTENSION pg_migrate")
    # no unique constraint: a revision applied twice shows as two rows
    scur.execute("CREATE TABLE hammer_effect ("
                 " revision text NOT NULL,"
                 " pid integer NOT NULL DEFAULT pg_backend_pid(),"
                 " at timestamptz NOT NULL DEFAULT clock_timestamp())")
    setup.close()

    run = Run()
    offset = log_size(args.server_log)
    print("hammer: %d clients upgrading to head while 1 registrar adds %d revisions"
          % (args.clients, args.revisions))
    started = time.monotonic()
    # daemon threads: after a timeout, one stuck for good must not keep
    # the process from exiting with the results
    clients = [threading.Thread(target=client, args=(run, n), name="client-%d" % n,
                                daemon=True)
               for n in range(1, args.clients + 1)]
    for t in clients:
        t.start()
    reg = threading.Thread(target=registrar, args=(run, args.revisions), name="registrar",
                           daemon=True)
    reg.start()

    reg.join(args.timeout)
    timed_out = reg.is_alive()
    run.stop.set()
    for t in clients:
        t.join(max(1.0, args.timeout - (time.monotonic() - started)))
    if timed_out or any(t.is_alive() for t in clients):
        timed_out = True
        run.abort.set()
        with run.lock:
            for conn in run.conns:
                if not conn.closed:
                    conn.cancel()
        reg.join(10)
        for t in clients:
            t.join(10)
    elapsed = time.monotonic() - started
    tail = (time.monotonic() - run.registrar_done_at) if run.registrar_done_at else float("nan")

    # ------------------------------------------------------------ results
    print("registrar: %d of %d revisions registered" % (run.registered, args.revisions))
    print("upgrade calls: %d in %.1f s by %d clients (%d to %d each); "
          "%d applied something (at most %d revision(s) in one call), %d found nothing to do"
          % (run.calls, elapsed, args.clients,
             min(run.per_client.values(), default=0), max(run.per_client.values(), default=0),
             run.calls_applying, run.most_in_one_call, run.calls - run.calls_applying))
    print("stopping took %.2f s after the last registration" % tail)
    print("client errors: %d" % len(run.errors))
    for who, what in run.errors[:50]:
        print("  %s: %s" % (who, what))
    if len(run.errors) > 50:
        print("  ... and %d more" % (len(run.errors) - 50))

    checks = Checks()
    want = {rev_id(i) for i in range(1, args.revisions + 1)}
    checks.check("finished in time", not timed_out,
                 "%.1f s" % elapsed if not timed_out else
                 "cancelled after %.0f s (--timeout)" % args.timeout)
    checks.check("all revisions registered", run.registered == args.revisions,
                 "%d of %d" % (run.registered, args.revisions))
    checks.check("no client saw an error", not run.errors, "%d errors" % len(run.errors))

    conn = connect(DB)
    cur = conn.cursor()
    cur.execute("SELECT revision FROM hammer_effect")
    same_set("hammer_effect: each revision's effect exactly once",
             [r[0] for r in cur.fetchall()], want, checks)
    cur.execute("SELECT revision FROM migrate.applied WHERE project = %s", (PROJECT,))
    same_set("migrate.applied: each revision once", [r[0] for r in cur.fetchall()], want, checks)
    # the history also has a row per registration: ask for all of it
    cur.execute("SELECT revision FROM migrate_history(%s) WHERE event = 'upgrade'",
                (10 * args.revisions + 1000,))
    same_set("migrate_history: one upgrade row per revision",
             [r[0] for r in cur.fetchall()], want, checks)
    same_set("migrate_upgrade results: each revision returned as applied once",
             run.applied_rows, want, checks)
    cur.execute("SELECT applied, pending, drifted FROM migrate_status()")
    applied, pending, drifted = cur.fetchone()
    checks.check("migrate_status: all applied, none pending",
                 (applied, pending, drifted) == (args.revisions, 0, 0),
                 "applied %d, pending %d, drifted %d" % (applied, pending, drifted))
    cur.execute("SELECT count(DISTINCT pid) FROM hammer_effect")
    appliers = cur.fetchone()[0]
    conn.close()

    # Deadlocks: the statistics count them per database (flushed when a
    # backend exits, so wait for the clients' backends to be gone).
    for _ in range(100):
        acur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (DB,))
        if acur.fetchone()[0] == 0:
            break
        time.sleep(0.1)
    acur.execute("SELECT pg_stat_clear_snapshot()")
    acur.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (DB,))
    deadlocks = acur.fetchone()[0]
    checks.check("pg_stat_database: no deadlock", deadlocks == 0, "%d deadlocks" % deadlocks)
    if args.server_log is not None:
        lines = log_since(args.server_log, offset)
        dl = [ln for ln in lines if "deadlock detected" in ln]
        errs = [ln for ln in lines if "ERROR:" in ln]
        checks.check("server log: no \"deadlock detected\"", not dl,
                     "%d lines written during the run, %d ERROR lines, %d deadlocks"
                     % (len(lines), len(errs), len(dl)))
        for ln in (dl + errs)[:20]:
            print("  log: %s" % ln)
    else:
        print("note: no --server-log given; the server log was not searched")

    if args.keep:
        print("database %s kept (--keep)" % DB)
    else:
        acur.execute("DROP DATABASE %s WITH (FORCE)" % DB)
    admin.close()

    print("summary: %d upgrade calls by %d clients, %d applied something "
          "(revisions applied by %d different backends); %d revisions; "
          "%d client errors; %d deadlocks; %.1f s; %s"
          % (run.calls, args.clients, run.calls_applying, appliers, args.revisions,
             len(run.errors), deadlocks, elapsed,
             "all %d checks passed" % checks.passed if not checks.failed
             else "FAILED: " + "; ".join(checks.failed)))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
