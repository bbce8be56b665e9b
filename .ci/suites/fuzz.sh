# shellcheck shell=bash
# .ci/suites/fuzz.sh, sourced by .ci/test: the libFuzzer target of the
# migration file reader (fuzz/reader_fuzz.c), built with clang and
# -fsanitize=fuzzer,address,undefined, run for a bounded time from the seed
# corpus in fuzz/corpus/ with leak detection on (fuzz/run.sh). It needs no
# cluster.
#
# Knob: PGM_FUZZ_SECONDS, how long to fuzz (default 45).

# suite_fuzz: one test, failed by any crash, leak, sanitizer report or
# broken promise of the reader; the input that did it stays in fuzz/out/.
# The run's size (executions, peak memory) goes to stderr either way.
suite_fuzz() {
	local out
	out=$(mktemp)
	check fuzz/reader _fuzz_run "$out"
	sed -n 's/^fuzz: /==> fuzz: /p' "$out" >&2
	rm -f "$out"
}

# _fuzz_run OUT: fuzz/run.sh, its output also in OUT.
_fuzz_run() {
	bash "$PGM_ROOT/fuzz/run.sh" "${PGM_FUZZ_SECONDS:-45}" | tee "$1"
}
