#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (the dashboard browser test) and a
# PostgreSQL server (the PostgreSQL tests start a throwaway one on loopback). Installs what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if ((${#need[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
