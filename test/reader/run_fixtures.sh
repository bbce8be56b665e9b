#!/usr/bin/env bash
# test/reader/run_fixtures.sh [NAME...]: read each fixture folder
# test/fixtures/NAME (all of them, bad/ ones included, when no NAME is
# given) with ./reader_test and compare what it prints with
# test/fixtures/NAME.out. A file test/fixtures/NAME.layout names the layout
# to read with (default: detect). Fails on any difference, on anything
# the driver prints to stderr (a sanitizer report), and on an exit status
# other than 0 (no errors) or 1 (errors in the folder, as the .out says).
#
# The driver runs from test/fixtures, so messages about a folder as a
# whole name it as NAME. Build the driver first: make -C test/reader.
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixtures=$(cd "$here/../fixtures" && pwd)
driver=$here/reader_test

[[ -x $driver ]] || { echo "run_fixtures.sh: $driver not built (make -C test/reader)" >&2; exit 2; }

names=("$@")
if ((${#names[@]} == 0)); then
	# test/fixtures/NAME and test/fixtures/bad/NAME, in byte order
	for d in "$fixtures"/*/ "$fixtures"/bad/*/; do
		d=${d%/}
		d=${d#"$fixtures"/}
		[[ $d == bad ]] || names+=("$d")
	done
fi

failed=0
for name in "${names[@]}"; do
	layout=auto
	[[ -f $fixtures/$name.layout ]] && layout=$(<"$fixtures/$name.layout")
	out=$(mktemp)
	err=$(mktemp)
	(cd "$fixtures" && "$driver" --layout "$layout" "$name") >"$out" 2>"$err"
	rc=$?
	ok=1
	if [[ ! -f $fixtures/$name.out ]]; then
		echo "FAIL $name: no expected output $name.out; the driver printed:"
		sed 's/^/    /' "$out"
		ok=0
	elif ! diff -u "$fixtures/$name.out" "$out" >"$out.diff"; then
		echo "FAIL $name: output differs from $name.out:"
		sed 's/^/    /' "$out.diff"
		ok=0
	fi
	if [[ -s $err ]]; then
		echo "FAIL $name: the driver wrote to stderr:"
		sed 's/^/    /' "$err"
		ok=0
	fi
	want=0
	grep -q '^errors: 0$' "$out" || want=1
	if ((rc != want)); then
		echo "FAIL $name: exit status $rc, expected $want"
		ok=0
	fi
	((ok)) && echo "ok $name"
	((ok)) || failed=$((failed + 1))
	rm -f "$out" "$out.diff" "$err"
done
((failed == 0))
