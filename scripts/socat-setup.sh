#!/usr/bin/env bash
# Installs socat (Debian package 'socat') when it is missing: hal-modem's tests
# and `simsync modem simulate` put the simulated modem on a socat pty pair.
# Idempotent; a machine that has socat spends no time here. Run as root or with sudo.
set -euo pipefail

if command -v socat >/dev/null; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian package: socat"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq socat
command -v socat >/dev/null
