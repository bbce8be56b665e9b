#!/usr/bin/python3
"""test/pgxn/validate_meta.py: validate a PGXN META.json.

    validate_meta.py [--root DIR] META.json

Checks META.json against the PGXN Meta Spec, version 1.0.0
(https://pgxn.org/spec/, text at https://pgxn.org/meta/spec.txt), with the
spec's own JSON Schema: schema/v1/ beside this file is PGXN's, copied
unchanged from the pgxn/meta repository (PostgreSQL License,
schema/LICENSE.md), entry point distribution.schema.json. The schema is
JSON Schema draft 2020-12, validated here by Debian's python3-jsonschema,
with two things the schema leaves to the validator:

  - its "pattern"s are written for a regex engine with POSIX classes and
    Unicode property names ([[:digit:]], \\p{Cntrl}, \\p{Space},
    \\p{lower}), which Python's re lacks: they are matched with the regex
    module (python3-regex), which has both;
  - format "path" (path.schema.json; spec: "a relative file path ... with
    Unix conventions") is checked here: relative, '/'-separated, no '..'
    component, no backslash.

Then, beyond the schema: with --root (the distribution's root, default
META.json's folder), every "file" and "docfile" of "provides" must exist
there (spec, "provides": "relative file path from the root of the
distribution").

Prints "ok" and exits 0 when valid; otherwise prints each problem, one a
line, and exits 1.
"""

import argparse
import json
import os
import sys

import jsonschema
import regex

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "schema", "v1")
ENTRY = "https://pgxn.org/meta/v1/distribution.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def load_store():
    """Every schema of SCHEMA_DIR, by its $id, for offline $ref resolution.

    Each declares "$schema": draft 2020-12; the key is dropped here, once
    checked, because jsonschema picks a fresh stock validator class for a
    subschema that names one, which would drop our "pattern" below."""
    store = {}
    for name in sorted(os.listdir(SCHEMA_DIR)):
        if name.endswith(".schema.json"):
            with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
                schema = json.load(f)
            if schema.pop("$schema") != DRAFT:
                raise SystemExit(f"{name}: not a draft 2020-12 schema")
            store[schema["$id"]] = schema
    return store


def pattern(validator, patrn, instance, schema):
    """The "pattern" keyword, matched with the regex module."""
    if validator.is_type(instance, "string") and not regex.search(patrn, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")


format_checker = jsonschema.FormatChecker()


@format_checker.checks("path", raises=ValueError)
def is_path(value):
    """Format "path": a relative file path with Unix conventions."""
    if not isinstance(value, str):
        return True
    if value.startswith("/") or "\\" in value:
        raise ValueError(f"{value!r} is not a relative Unix path")
    if ".." in value.split("/"):
        raise ValueError(f"{value!r} leaves the distribution ('..')")
    return True


def problems(meta, root):
    """Every problem with META (a parsed document), as strings."""
    store = load_store()
    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                       {"pattern": pattern})
    resolver = jsonschema.RefResolver(base_uri=ENTRY, referrer=store[ENTRY],
                                      store=store)
    validator = cls(store[ENTRY], resolver=resolver,
                    format_checker=format_checker)
    found = []
    for err in sorted(validator.iter_errors(meta), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        found.append(f"{where}: {err.message}")
    if found:
        return found
    for ext, info in meta["provides"].items():
        for key in ("file", "docfile"):
            if key in info and not os.path.isfile(os.path.join(root, info[key])):
                found.append(f"provides/{ext}/{key}: {info[key]} not found in {root}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root")
    parser.add_argument("meta")
    args = parser.parse_args()
    root = args.root or os.path.dirname(os.path.abspath(args.meta))
    try:
        with open(args.meta, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{args.meta}: {e}")
        return 1
    found = problems(meta, root)
    for p in found:
        print(f"{args.meta}: {p}")
    if found:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
