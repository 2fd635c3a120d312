#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when something is missing
# (so a warm machine spends no time here). Run as root, or with sudo available.
set -euo pipefail

need=()
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
command -v tmux >/dev/null || need+=(tmux)       # the terminal agent is tested in a real pty
command -v openssl >/dev/null || need+=(openssl) # TLS tests make a self-signed certificate
command -v redis-server >/dev/null || need+=(redis-server) # the clustered server's fan-out and limits

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
