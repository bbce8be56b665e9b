# shellcheck shell=bash
# .ci/suites/meta.sh, sourced by .ci/test: the release's metadata. META.json
# must pass the PGXN Meta Spec 1.0.0 (test/pgxn/validate_meta.py, with
# PGXN's own JSON Schema), and the release's versions must agree
# (test/pgxn/versions.sh): META.json's version and provides.pg_migrate's,
# default_version in pg_migrate.control, the newest install script in
# migrations/, the built client's `pg_migrate --version`, and
# debian/changelog's upstream version. Each check is also shown to fail
# on a copy with one thing wrong, so that a check that passes everything
# cannot pass here. It needs no cluster; python3-jsonschema and
# python3-regex come with the bootstrap (PGM_PACKAGES).

# suite_meta: the checks, one result each.
suite_meta() {
	local bad
	check meta/validate /usr/bin/python3 "$PGM_ROOT/test/pgxn/validate_meta.py" "$PGM_ROOT/META.json"
	for bad in no_license short_version license_name tag_slash meta_spec_2 \
		provides_no_version missing_file; do
		check "meta/validate_refuses_$bad" _meta_refuses "$bad"
	done
	check meta/versions "$PGM_ROOT/test/pgxn/versions.sh" "$PGM_ROOT" "$PGM_ROOT/client/pg_migrate"
	for bad in meta_version provides_version control migrations client changelog; do
		check "meta/versions_detect_$bad" _meta_versions_detect "$bad"
	done
}

# _meta_refuses CASE: META.json with one mistake (CASE) must be refused,
# and with the message that names it.
_meta_refuses() {
	local dir out rc=0 edit want
	dir=$(mktemp -d)
	case $1 in
	no_license) edit='del d["license"]' want="'license' is a required property" ;;
	short_version) edit='d["version"] = "0.4"' want="version: '0.4' does not match" ;;
	license_name) edit='d["license"] = "PostgreSQL License"' want="license: 'PostgreSQL License' is not valid" ;;
	tag_slash) edit='d["tags"].append("a/b")' want="does not match" ;;
	meta_spec_2) edit='d["meta-spec"]["version"] = "2.0.0"' want="meta-spec/version: '2.0.0' does not match" ;;
	provides_no_version) edit='del d["provides"]["pg_migrate"]["version"]' want="'version' is a required property" ;;
	missing_file) edit='d["provides"]["pg_migrate"]["file"] = "sql/pg_migrate.sql"' want="sql/pg_migrate.sql not found" ;;
	*) echo "unknown case $1"; return 1 ;;
	esac
	/usr/bin/python3 - "$PGM_ROOT/META.json" "$dir/META.json" "$edit" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=3)
PY
	out=$(/usr/bin/python3 "$PGM_ROOT/test/pgxn/validate_meta.py" --root "$PGM_ROOT" "$dir/META.json") || rc=$?
	rm -rf "$dir"
	printf '%s\n' "$out"
	if ((rc != 1)); then
		echo "expected exit 1 for case $1, got $rc"
		return 1
	fi
	grep -qF -- "$want" <<<"$out" || { echo "expected a message with: $want"; return 1; }
}

# _meta_versions_detect CASE: a copy of the versioned files with one of
# them a version ahead (CASE) must make versions.sh fail, naming it.
_meta_versions_detect() {
	local dir out rc=0 client=$PGM_ROOT/client/pg_migrate want
	dir=$(mktemp -d)
	mkdir -p "$dir/migrations" "$dir/debian"
	cp "$PGM_ROOT/META.json" "$PGM_ROOT/pg_migrate.control" "$dir/"
	cp "$PGM_ROOT"/migrations/pg_migrate--*.sql "$dir/migrations/"
	cp "$PGM_ROOT/debian/changelog" "$dir/debian/"
	case $1 in
	meta_version)
		sed -i '0,/"version": "[^"]*"/s//"version": "99.0.0"/' "$dir/META.json"
		want='META.json version' ;;
	provides_version)
		/usr/bin/python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); d["provides"]["pg_migrate"]["version"]="99.0.0"; json.dump(d, open(p,"w"))' "$dir/META.json"
		want='META.json provides.pg_migrate.version' ;;
	control)
		sed -i "s/^default_version *=.*/default_version = '99.0.0'/" "$dir/pg_migrate.control"
		want='differs from default_version 99.0.0' ;;
	migrations)
		echo '-- next' >"$dir/migrations/pg_migrate--$(_meta_version)--99.0.0.sql"
		want='newest migrations/ script' ;;
	client)
		printf '#!/bin/sh\necho "pg_migrate 99.0.0"\n' >"$dir/client"
		chmod +x "$dir/client"
		client=$dir/client
		want='pg_migrate --version' ;;
	changelog)
		sed -i '1s/(\([^)]*\))/(99.0.0-1)/' "$dir/debian/changelog"
		want='debian/changelog' ;;
	*) echo "unknown case $1"; return 1 ;;
	esac
	out=$("$PGM_ROOT/test/pgxn/versions.sh" "$dir" "$client") || rc=$?
	rm -rf "$dir"
	printf '%s\n' "$out"
	if ((rc != 1)); then
		echo "expected exit 1 for case $1, got $rc"
		return 1
	fi
	grep -F -- "$want" <<<"$out" | grep -q 'differs' || { echo "expected $want to be named"; return 1; }
}

# _meta_version: default_version in pg_migrate.control.
_meta_version() {
	sed -n "s/^default_version *= *'\(.*\)'\$/\1/p" "$PGM_ROOT/pg_migrate.control"
}
