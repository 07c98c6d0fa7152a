#!/usr/bin/env bash
# Installs what the make targets need from Debian packages when it is missing, so that a fresh
# clone needs no other step than `make run` or `make test`:
#   scripts/setup.sh run     PostgreSQL (unless DATABASE_URL is set, a server on :5432 lets user
#                            postgres in without a password, or the server binaries are installed)
#   scripts/setup.sh test    PostgreSQL, Chromium (browser tests), poppler-utils (PDF checks)
#   scripts/setup.sh faults  PostgreSQL's binaries (the fault suite runs private clusters)
# As root it runs apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail
what="${1:-test}"
pkgs=()

. "$(dirname "$0")/pglib.sh"

case "$what" in
  run | test)
    # scripts/postgres.sh then uses the server on :5432 if it lets postgres in without a
    # password, else starts a private cluster from the binaries.
    if [ -z "${DATABASE_URL:-}" ] && ! usable_5432 && [ -z "$(pg_bindir)" ]; then pkgs+=(postgresql); fi
    ;;
  faults)
    [ -n "$(pg_bindir)" ] || pkgs+=(postgresql)
    ;;
  *) echo "usage: $0 run|test|faults" >&2; exit 2 ;;
esac
if [ "$what" = test ]; then
  [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
  { command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; } || pkgs+=(poppler-utils)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "Missing: ${pkgs[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing: ${pkgs[*]}, and this machine has no apt-get: install them with its package manager." >&2
  exit 1
fi
echo "Installing ${pkgs[*]} (once) …" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${pkgs[@]}" >/dev/null
echo "Installed ${pkgs[*]}." >&2
