#!/usr/bin/env bash
# One setup path behind every entry script: installs what is missing (Debian packages by name),
# fetches the Dear ImGui sources through apt-get source, and configures the requested builds.
# Idempotent and quick when everything is already present.
#   scripts/setup.sh [native] [native128] [asan] [wasm] [wasm-mt]      (default: native wasm)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

packages=(
  g++ cmake ninja-build pkg-config clang-format
  libeigen3-dev doctest-dev nlohmann-json3-dev libcli11-dev librandom123-dev libstb-dev
  emscripten
  python3 python3-numpy python3-scipy libopenblas0-pthread
  libglfw3-dev libgl-dev fonts-dejavu-core
  chromium xvfb imagemagick xauth
  dataset-fashion-mnist python3-sklearn
)
# node and npm: Debian's packages unless the machine already has them (a newer node from elsewhere
# would conflict with Debian's npm package).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Dear ImGui sources (only the Debian binary package exists otherwise, which is useless for wasm).
imgui_dir="$root/.cache/imgui"
if [ ! -f "$imgui_dir/imgui.cpp" ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  if [ ! -f /etc/apt/sources.list.d/debian-src.sources ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $sudo_cmd tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    $sudo_cmd apt-get update -qq
  fi
  mkdir -p "$root/.cache/imgui-src"
  ( cd "$root/.cache/imgui-src" && apt-get source --download-only imgui >/dev/null 2>&1 )
  tarball=$(ls "$root"/.cache/imgui-src/imgui_*.orig.tar.* 2>/dev/null | head -n 1)
  if [ -z "$tarball" ]; then
    echo "setup: could not obtain the Dear ImGui sources with 'apt-get source imgui'" >&2
    exit 1
  fi
  rm -rf "$imgui_dir" && mkdir -p "$imgui_dir"
  tar xf "$tarball" -C "$imgui_dir" --strip-components=1
fi

# npm packages for the browser end-to-end tests (playwright-core drives Debian's chromium; it never
# downloads a browser of its own).
if [ ! -d node_modules/playwright-core ]; then
  npm install --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund
fi

export NODE_PATH=/usr/share/nodejs
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(native wasm)
for t in "${targets[@]}"; do
  case "$t" in
    native|native128|asan|wasm|wasm-mt)
      # Reconfiguring an existing build only refreshes the cache: quick. Warnings are errors in every
      # build, so that `run`, `test` and `bench` share one configuration and never rebuild each other's.
      cmake --preset "$t" -DFIELDSCOPE_WERROR=ON >/dev/null ;;
    *) echo "setup: unknown build '$t' (native, native128, asan, wasm, wasm-mt)" >&2; exit 2 ;;
  esac
done
