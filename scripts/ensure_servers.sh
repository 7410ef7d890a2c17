#!/usr/bin/env bash
# Make sure what the test suite starts is installed: the PostgreSQL and Redis server binaries
# (unless DATABASE_URL / REDIS_URL point at running servers), Chromium for the browser tests and
# Node.js with npm (npx runs newman on the Postman collection), GNU gettext (the translations test
# collects the project's strings as `make messages` does).
# As root on Debian/Ubuntu: installs them with apt-get. Otherwise: says what to install, exits 2.
set -euo pipefail

missing=()
if [ ! -x /usr/bin/chromium ]; then
  missing+=(chromium)
fi
if ! command -v npx >/dev/null; then
  missing+=(nodejs npm)
fi
if ! command -v xgettext >/dev/null || ! command -v msgfmt >/dev/null; then
  missing+=(gettext)
fi
if [ -z "${DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  missing+=(postgresql)
fi
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then
  missing+=(redis-server)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} with apt-get..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The suite starts its own throwaway servers; the distribution's default ones are not needed.
  for service in postgresql redis-server; do
    if command -v service >/dev/null; then service "$service" stop >/dev/null 2>&1 || true; fi
  done
  exit 0
fi

echo "The test suite needs these server packages: ${missing[*]}" >&2
echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
echo "(PostgreSQL and Redis are not needed when DATABASE_URL and REDIS_URL point at running servers.)" >&2
exit 2
