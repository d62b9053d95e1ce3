#!/usr/bin/env bash
# Make .tools/bin/bun point at a bun >= 1.4.4: the one on PATH if new enough, else one installed
# from the npm registry into .tools/ (project-local; nothing global is changed).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/bin
min="1.4.4"
newer_or_equal() { [ "$(printf '%s\n%s\n' "$min" "$1" | sort -V | head -n1)" = "$min" ]; }
if [ -x .tools/bin/bun ] && newer_or_equal "$(.tools/bin/bun --version 2>/dev/null || echo 0)"; then exit 0; fi
sys_bun=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -v "$PWD/.tools/bin" | paste -sd:) command -v bun || true)
if [ -n "$sys_bun" ] && newer_or_equal "$("$sys_bun" --version)"; then
  ln -sf "$sys_bun" .tools/bin/bun
else
  echo "installing bun from the npm registry into .tools/" >&2
  npm install --silent --no-audit --no-fund --prefix .tools bun >&2
  ln -sf "$PWD/.tools/node_modules/.bin/bun" .tools/bin/bun
fi
.tools/bin/bun --version >/dev/null
