#!/bin/sh
# codecheck.sh — fails the build on code patterns we never allow (cf. Fossil's codecheck1).
set -u
src=${TIANBAO_SRCDIR:-.}
cd "$src" || exit 99
fail=0
report() { echo "codecheck: $*" >&2; fail=1; }

csrc=$(find core cgi admin sync -name '*.[ch]' 2>/dev/null | sort)

# 1. SQL reaches SQLite only through db_prep (string literals) in core/db.c.
for f in $csrc; do
  [ "$f" = core/db.c ] && continue
  if grep -n 'sqlite3_prepare' "$f" >/dev/null; then
    report "$f calls sqlite3_prepare* directly; use db_prep(db, \"literal\")"
  fi
done
# sqlite3_exec runs whole files of trusted SQL in the migration runner only.
for f in $csrc; do
  [ "$f" = core/migrate.c ] && continue
  grep -n 'sqlite3_exec\b' "$f" >/dev/null && report "$f calls sqlite3_exec; only core/migrate.c may"
done
# db_prep's argument must start with a string literal (the macro also enforces it).
grep -nE 'db_prep\([^,]+, *[^" ]' $csrc | grep -v 'define db_prep' && report "db_prep with a non-literal"

# 2. printf-like helpers carry a format attribute.
for f in $(find core cgi admin sync -name '*.h' 2>/dev/null); do
  grep -nE '^[a-z].*printf\(.*\.\.\.\)' "$f" | grep -v 'format(printf' | while read -r l; do
    echo "codecheck: $f: printf-like declaration without __attribute__((format)): $l" >&2
    echo x
  done | grep -q x && fail=1
done

# 3. No shelling out, no unbounded string functions.
grep -nE '\b(system|popen|gets|strcpy|strcat|sprintf)\(' $csrc && report "forbidden function (system/popen/gets/strcpy/strcat/sprintf)"

# 4. Every C file starts with its purpose line.
for f in $csrc; do
  head -n 1 "$f" | grep -qE '^/\* [a-z_]+\.[ch] — ' || report "$f: first line must be '/* $(basename "$f") — purpose */'"
done

# 5. Raw (unescaped) template output only in templates that are listed as reviewed.
if grep -rnE '\{\{\{|\{\{&' templates/ | grep -v -f tests/raw-allowed.txt; then
  report "unescaped template output outside tests/raw-allowed.txt"
fi

# 6. Every POST form in a template carries the CSRF token partial on its opening line.
if grep -rn '<form method="post"' templates/ | grep -v '{{> csrf}}'; then
  report "a POST form without {{> csrf}} right after its opening tag"
fi

# 7. The C sources follow .clang-format (skipped where clang-format is not installed).
if command -v clang-format >/dev/null 2>&1; then
  for f in $csrc $(find tests/unit -name '*.[ch]' | sort); do
    clang-format --style=file "$f" | cmp -s - "$f" || report "$f is not clang-format clean (clang-format -i $f)"
  done
fi

[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
