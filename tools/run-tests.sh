#!/usr/bin/env bash
# run-tests.sh — the whole test suite, as CI runs it: a normal build with every test
# (unit, PyTorch parity, tools), an ASan/UBSan build of the CPU tests, the CLI checks and a
# short libFuzzer run of the safetensors reader.  Prints "N passed, N failed" last and
# exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/cuda/bin"
jobs=$(nproc)
passed=0
failed=0
failures=()

count_meson() { # build dir, label
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || { failed=$((failed + 1)); failures+=("$2: no test log"); return; }
  local ok bad
  ok=$(/usr/bin/python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(x["result"] in ("OK","SKIP","EXPECTEDFAIL") for x in r))' "$log")
  bad=$(/usr/bin/python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print("\n".join(x["name"] for x in r if x["result"] not in ("OK","SKIP","EXPECTEDFAIL")))' "$log")
  passed=$((passed + ok))
  if [ -n "$bad" ]; then
    while read -r n; do failed=$((failed + 1)); failures+=("$2: $n"); done <<< "$bad"
  fi
}

step() { # label, command...
  local label="$1"; shift
  echo "=== $label"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$label"); fi
}

# 1. the normal build: every test, including PyTorch parity and the tools
echo "=== build (debugoptimized)"
if meson setup build-ci --wipe -Dtests=enabled >/tmp/lac-setup.log 2>&1 || meson setup build-ci -Dtests=enabled >/tmp/lac-setup.log 2>&1; then
  ninja -C build-ci -j "$jobs" && meson test -C build-ci --print-errorlogs --num-processes 2
  count_meson build-ci "tests"
else
  cat /tmp/lac-setup.log; failed=$((failed + 1)); failures+=("meson setup")
fi

step "install + pkg-config" tests/test_install.sh build-ci

# 2. ASan/UBSan build of the CPU tests (small models only: sanitizers are slow)
echo "=== build (ASan/UBSan)"
if meson setup build-asan --wipe -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled -Dtests=enabled >/tmp/lac-asan.log 2>&1 || \
   meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dcuda=disabled -Dtests=enabled >/tmp/lac-asan.log 2>&1; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  # meson test takes either suites or test names per call: the unit suite, then the small
  # parity cases (their logs accumulate in testlog.json only per call, so count each)
  ninja -C build-asan -j "$jobs" && \
    meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit
  count_meson build-asan "asan unit"
  meson test -C build-asan --print-errorlogs --num-processes 2 \
      encoder_tiny_time_c1_t6 encoder_tiny_frame_c1_t6 encoder_tiny_time_c2_t8
  count_meson build-asan "asan parity"
else
  cat /tmp/lac-asan.log; failed=$((failed + 1)); failures+=("asan meson setup")
fi

# 3. short fuzz runs (clang, libFuzzer): the safetensors reader, the CPU alignment's vector
#    paths against its scalar path
step "fuzz safetensors and sw_cpu (30 s each)" fuzz/run.sh 30

echo
for f in "${failures[@]+"${failures[@]}"}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
