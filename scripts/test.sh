#!/usr/bin/env bash
# Builds and runs every test: native (warnings are errors), native under AddressSanitizer +
# UndefinedBehaviorSanitizer, the same test sources compiled to wasm and run under node, and a
# comparison of native and wasm results for the same scenes. Ends with "N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export NODE_PATH=/usr/share/nodejs
jobs="$(nproc 2>/dev/null || echo 2)"
scripts/setup.sh native asan wasm wasm-mt || { echo "setup failed"; exit 1; }

passed=0; failed=0; failures=()
stage() {  # stage NAME COMMAND...
  local name="$1"; shift
  echo "==== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

# One formatting authority (.clang-format): every C++ file as clang-format writes it.
stage "format (clang-format)" bash -c 'git ls-files -z "*.cpp" "*.h" | xargs -0 clang-format --dry-run --Werror'
stage "native build" cmake --build --preset native -j "$jobs"
stage "native tests" ctest --preset native -j "$jobs"
stage "sanitizer build" cmake --build --preset asan -j "$jobs"
stage "sanitizer tests" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan -j "$jobs"
stage "wasm build" cmake --build --preset wasm -j "$jobs"
stage "wasm tests (node)" ctest --preset wasm -j "$jobs"
stage "wasm build with threads" cmake --build --preset wasm-mt -j "$jobs" --target fieldscope-web test_parallel
stage "wasm threads test (node)" node --no-experimental-fetch build/wasm-mt/test_parallel.js
stage "native == wasm" tests/native_vs_wasm.sh build/native/fieldscope-cli build/wasm/fieldscope-cli.js
stage "browser end-to-end (headless chromium)" node tests/e2e/explorer.mjs build/wasm/site build/native/fieldscope-cli build/screenshots
stage "browser: finite-width tab" node tests/e2e/ensemble.mjs build/wasm/site build/native/fieldscope-cli build/screenshots
stage "browser: GP tab" node tests/e2e/gp.mjs build/wasm/site build/native/fieldscope-cli build/screenshots
stage "browser: finite-width learning tab" node tests/e2e/renorm.mjs build/wasm/site build/native/fieldscope-cli build/screenshots
stage "browser: packaged data" node tests/e2e/packaged_data.mjs build/wasm/site
stage "browser: share links, explorer == CLI on every tab" node tests/e2e/links.mjs build/wasm/site build/native/fieldscope-cli
stage "desktop smoke test (Xvfb)" tests/desktop_smoke.sh build/native/fieldscope build/screenshots

echo
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
