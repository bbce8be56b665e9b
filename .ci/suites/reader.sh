# shellcheck shell=bash
# .ci/suites/reader.sh, sourced by .ci/test: the migration file reader
# (src/reader.c), built as the client program builds it (-DFRONTEND,
# libpgcommon, libpgport) into test/reader/reader_test, with
# AddressSanitizer and UBSan, and run on the fixture folders in
# test/fixtures/. It needs no cluster.

# suite_reader: the build (warnings are errors), the driver's self-test,
# one test per fixture folder (test/fixtures/NAME and
# test/fixtures/bad/NAME against NAME.out; see test/reader/run_fixtures.sh),
# and the example application's migrations, which must read cleanly.
suite_reader() {
	local d name
	check reader/build make -C "$PGM_ROOT/test/reader" -s clean all
	((CHECK_OK)) || return 0
	check reader/selftest "$PGM_ROOT/test/reader/reader_test" --selftest
	for d in "$PGM_ROOT"/test/fixtures/*/ "$PGM_ROOT"/test/fixtures/bad/*/; do
		d=${d%/}
		name=${d#"$PGM_ROOT"/test/fixtures/}
		[[ $name == bad ]] && continue
		check "reader/$name" "$PGM_ROOT/test/reader/run_fixtures.sh" "$name"
	done
	check reader/example_app _reader_example_app
}

# _reader_example_app: examples/app/migrations reads as four revisions
# and no error.
_reader_example_app() {
	local out
	out=$("$PGM_ROOT/test/reader/reader_test" "$PGM_ROOT/examples/app/migrations")
	printf '%s\n' "$out"
	grep -qx 'revisions: 4' <<<"$out"
	grep -qx 'errors: 0' <<<"$out"
}
