# checks.sh — sourced by the shell tests: a temporary folder removed at exit ($tmp), pass and
# fail counters, ok/bad, expect (exit code + message), and finish NAME, which prints the
# counts and fails the test when anything failed.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

expect() { # expected-exit-code needle command...
  local code="$1" needle="$2"; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ]; then bad "'$*' exited $rc, expected $code: $out"; return; fi
  if [ -n "$needle" ] && ! grep -qF -- "$needle" <<< "$out"; then
    bad "'$*' output lacks '$needle': $out"; return
  fi
  ok
}

finish() { # name
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
