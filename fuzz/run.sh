#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: build fuzz/reader_fuzz (fuzz/Makefile) and fuzz the
# migration file reader for SECONDS (default: $PGM_FUZZ_SECONDS, else 45),
# starting from the seed corpus fuzz/corpus/ (never written to: new inputs
# go to a temporary corpus) with the dictionary fuzz/reader.dict, leak
# detection on. Exits non-zero on any crash, leak, sanitizer report or
# broken promise of the reader (the target aborts on those), printing the
# end of libFuzzer's log; the input that did it is kept in fuzz/out/ and
# replays with `fuzz/reader_fuzz fuzz/out/crash-...`.
#
# Knobs: PGM_FUZZ_SECONDS (run time), PGM_FUZZ_MAX_LEN (largest input,
# default 65536, which is also the most the target accepts).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=${1:-${PGM_FUZZ_SECONDS:-45}}
max_len=${PGM_FUZZ_MAX_LEN:-65536}

[[ $seconds =~ ^[0-9]+$ ]] && ((seconds > 0)) ||
	{ echo "run.sh: SECONDS must be a positive number, not \"$seconds\"" >&2; exit 2; }

make -C "$here" -s reader_fuzz

work=$(mktemp -d "${TMPDIR:-/tmp}/pgm-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$here/out" "$work/corpus"

rc=0
(cd "$work" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$here/reader_fuzz" \
	-max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
	-rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 \
	-dict="$here/reader.dict" -artifact_prefix="$here/out/" \
	"$work/corpus" "$here/corpus") >"$work/log" 2>&1 || rc=$?

# a report that did not stop the run is a failure too
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|broken promise' "$work/log"; then
	((rc != 0)) || rc=1
fi
stats=$(grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$work/log" | tr '\n' ' ')
if ((rc != 0)); then
	echo "fuzz: reader_fuzz failed (exit $rc); the end of its log:" >&2
	tail -n 60 "$work/log" >&2
	ls -1 "$here/out"/crash-* "$here/out"/leak-* "$here/out"/timeout-* "$here/out"/oom-* 2>/dev/null >&2 || true
	exit 1
fi
echo "fuzz: reader_fuzz ran ${seconds}s without a report: $stats"
