#!/usr/bin/env bash
# Desktop smoke test: the native explorer opens a window under Xvfb and renders (the screenshot is
# not blank: it has many distinct colours).
set -euo pipefail
exe="$1"; out="${2:-build/screenshots}"
mkdir -p "$out"
display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
DISPLAY="$display" LIBGL_ALWAYS_SOFTWARE=1 "$exe" "v=1&act=tanh&w2=1.5&b2=0.05" &
app=$!
sleep 6
kill -0 "$app" || { echo "desktop: the explorer exited early"; exit 1; }
import -display "$display" -window root "$out/desktop.png"
colours=$(convert "$out/desktop.png" -format %k info:)
echo "desktop screenshot: $out/desktop.png, $colours distinct colours"
[ "$colours" -gt 200 ]
