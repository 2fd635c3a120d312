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
command -v haproxy >/dev/null || need+=(haproxy)           # the load balancer in front of broker processes

if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

# PostgreSQL's server binaries (initdb, pg_ctl) for the PostgreSQL sync store's
# tests, which start a throwaway cluster of their own (test/support/postgres.ts);
# the package also makes the `postgres` user that cluster runs as. No system
# cluster is wanted: a createcluster.d snippet (read by the package's
# createcluster.conf) tells it beforehand not to create and start one.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/simsync.conf >/dev/null
  echo "installing Debian packages: postgresql"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql
fi

# The corpus test's independent parser (test/real-world-parse.py): Debian's
# Python vobject and icalendar, for /usr/bin/python3 (a pyenv python3 may come first in PATH).
if ! /usr/bin/python3 -c 'import vobject, icalendar' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: python3-vobject python3-icalendar"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-vobject python3-icalendar
fi
