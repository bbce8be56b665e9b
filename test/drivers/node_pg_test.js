// test/drivers/node_pg_test.js: pg_migrate through Node's pg (node-postgres).
//
// What a Node application or deploy script does with pg_migrate, through
// Debian's node-pg: register revisions, run SELECT * FROM
// migrate_upgrade('head') and read its rows, receive the NOTICE progress,
// catch a failing script's error and read its SQLSTATE (err.code: the
// statement's own, 42P01 for a missing table) and its context line
// (err.where: project, revision, statement, line), catch pg_migrate's own
// errors (SQLSTATE class MG) with their hint, read migrate_status(), and
// call migrate_check() at head and behind it.
//
// Written for Debian 12's Node 18: node:test and node:assert only.
// Connection parameters come from the PG* environment (PGHOST, PGPORT,
// PGUSER, PGDATABASE for the maintenance database); the role must be able
// to create a database and the extension.  The test creates its own
// database, pgm_drivers_node (dropped first if it exists), and drops it at
// the end.
//
//     NODE_PATH=/usr/share/nodejs node test/drivers/node_pg_test.js

'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { Client } = require('pg');

const DB = 'pgm_drivers_node';

// Run sql on a fresh connection to the maintenance database.
async function admin(sql) {
	const client = new Client({ application_name: 'pgm_drivers' });
	await client.connect();
	try {
		await client.query('SET client_min_messages = warning');
		await client.query(sql);
	} finally {
		await client.end();
	}
}

// The error client.query(sql, params) fails with; fails the test if none.
async function errorOf(client, sql, params) {
	try {
		await client.query(sql, params);
	} catch (err) {
		return err;
	}
	assert.fail(`expected an error from: ${sql}`);
}

test('pg_migrate through node-pg', async (t) => {
	await admin(`DROP DATABASE IF EXISTS ${DB}`);
	await admin(`CREATE DATABASE ${DB}`);
	const client = new Client({ database: DB, application_name: 'pgm_drivers' });
	const notices = [];
	client.on('notice', (msg) => notices.push(`${msg.severity}: ${msg.message}`));
	await client.connect();

	const register = async (revision, up, down = null) =>
		(await client.query('SELECT migrate_register($1, $2, $3) AS result',
			[revision, up, down])).rows[0].result;
	const status = async () =>
		(await client.query('SELECT * FROM migrate_status()')).rows[0];

	try {
		await client.query('CREATE EXTENSION pg_migrate');

		await t.test('an upgrade returns a row per revision, and NOTICE progress', async () => {
			assert.strictEqual(await register('0001_users',
				'CREATE TABLE users (id bigint PRIMARY KEY);'), 'added');
			assert.strictEqual(await register('0002_orders',
				'CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE INDEX ON orders (id);',
				'DROP TABLE orders;'), 'added');
			notices.length = 0;
			const res = await client.query("SELECT * FROM migrate_upgrade('head')");
			assert.deepStrictEqual(res.fields.map((f) => f.name),
				['revision', 'action', 'duration', 'statements', 'attempts']);
			assert.deepStrictEqual(
				res.rows.map((r) => [r.revision, r.action, r.statements, r.attempts]),
				[['0001_users', 'applied', 1, 1], ['0002_orders', 'applied', 2, 1]]);
			for (const row of res.rows)
				assert.strictEqual(typeof row.duration, 'object', 'duration is a parsed interval');
			assert.deepStrictEqual(notices, [
				'NOTICE: applying 0001_users (1/2)',
				'NOTICE: applying 0002_orders (2/2)',
			]);
		});

		await t.test('migrate_status()', async () => {
			const s = await status();
			assert.strictEqual(s.project, 'default');
			assert.deepStrictEqual(s.applied_heads, ['0002_orders']);
			assert.deepStrictEqual(s.registry_heads, ['0002_orders']);
			assert.deepStrictEqual([s.applied, s.pending, s.drifted], [2, 0, 0]);
			assert.strictEqual(s.last_revision, '0002_orders');
			assert.strictEqual(s.lock_pid, null);
		});

		await t.test('a failing script keeps its SQLSTATE and says where it failed', async () => {
			await register('0003_bad', 'SELECT 1;\nINSERT INTO no_such_table VALUES (1);');
			const err = await errorOf(client, "SELECT * FROM migrate_upgrade('head')");
			assert.strictEqual(err.code, '42P01');
			assert.strictEqual(err.message, 'relation "no_such_table" does not exist');
			assert.match(err.where,
				/revision "0003_bad" of project "default", statement 2, line 2, column 13/);
			const s = await status();
			assert.deepStrictEqual([s.applied, s.pending], [2, 1], 'nothing applied');
		});

		await t.test("pg_migrate's own errors have class MG and a hint", async () => {
			const err = await errorOf(client, 'SELECT * FROM migrate_upgrade($1)', ['0009_nope']);
			assert.strictEqual(err.code, 'MG002');
			assert.strictEqual(err.code.slice(0, 2), 'MG');
			assert.strictEqual(err.message, 'unknown target "0009_nope"');
			assert.match(err.hint, /"head"/);
		});

		await t.test('migrate_check() fails behind head', async () => {
			const err = await errorOf(client, 'SELECT migrate_check()');
			assert.strictEqual(err.code, 'MG024');
			assert.strictEqual(err.message, 'project "default" has 1 pending revision');
			assert.match(err.detail, /0003_bad/);
			assert.match(err.hint, /migrate_upgrade\('head'\)/);
		});

		await t.test("the caller's transaction decides", async () => {
			await register('0003_bad', 'ALTER TABLE users ADD COLUMN email text;');
			await client.query('BEGIN');
			const res = await client.query("SELECT revision FROM migrate_upgrade('head')");
			assert.deepStrictEqual(res.rows, [{ revision: '0003_bad' }]);
			await client.query('ROLLBACK');
			assert.strictEqual((await status()).pending, 1, 'rolled back with the transaction');
			const again = await client.query("SELECT count(*)::int AS n FROM migrate_upgrade('head')");
			assert.strictEqual(again.rows[0].n, 1);
		});

		await t.test('migrate_check() is ok at head', async () => {
			const res = await client.query('SELECT migrate_check() AS line');
			assert.strictEqual(res.rows[0].line,
				'ok: project "default" at head 0003_bad (3 applied, none pending, no drift)');
		});
	} finally {
		await client.end();
		await admin(`DROP DATABASE IF EXISTS ${DB}`);
	}
});
