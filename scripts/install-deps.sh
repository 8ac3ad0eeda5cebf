#!/usr/bin/env bash
# Installs what Portico needs to build and test, when it is missing: Debian packages (SQLite's
# and zlib's headers; Chromium and its driver for the portal's browser tests, openssl for the TLS
# tests' certificates, redis-server and postgresql for the cluster tests) and PyPI's selenium and schemathesis.
# Used by `make run` and `make test`; safe to run again. `install-deps.sh build` skips the
# browser-test tools.
set -euo pipefail

packages=(libsqlite3-dev zlib1g-dev)
# openssl makes the TLS tests' certificates; curl and nghttp (nghttp2-client) are the HTTP/2
# tests' h2c clients; the cluster tests start their own redis-server and PostgreSQL (initdb in a
# temporary folder) on 127.0.0.1.
[ "${1:-test}" = "build" ] || packages+=(chromium chromium-driver python3-pip openssl curl nghttp2-client redis-server postgresql)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# python3-pip is only needed when no pip is on the PATH (pyenv and others bring their own).
if [ ${#missing[@]} -gt 0 ] && command -v pip3 >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}")
  read -r -a missing <<< "${missing[*]}"
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} (Debian packages)..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# The test-only PyPI packages: selenium drives Chromium in the browser tests, schemathesis
# generates the admin and portal APIs' contract tests from their OpenAPI documents.
if [ "${1:-test}" != "build" ]; then
  for package in selenium schemathesis; do
    python3 -c "import $package" 2>/dev/null && continue
    echo "Installing $package (PyPI)..."
    python3 -m pip install --quiet "$package" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$package"
  done
fi
