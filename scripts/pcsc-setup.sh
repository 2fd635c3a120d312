#!/usr/bin/env bash
# Makes a machine ready for hal-pcsc and its tests, idempotently:
#  1. installs pcscd, libpcsclite-dev (to build npm pcsclite), vsmartcard-vpcd
#     (virtual readers "Virtual PCD 00 00/01") and pcsc-tools (pcsc_scan) if
#     missing — `apt-get update` only when the package lists are missing or stale;
#  2. starts pcscd if it is not running, reusing a running one unless it lists
#     no vpcd reader (pcscd reads reader.conf.d only at start, so one started
#     before vsmartcard-vpcd was installed is restarted);
#  3. waits (bounded) until pcscd lists the virtual readers;
#  4. gives 127.0.0.2 a loopback route with quickack: Debian's vpcd writes a
#     frame's length and payload separately, and delayed ACKs would cost every
#     test APDU ~40 ms (tests connect their cards to 127.0.0.2).
# Run as root, or with sudo available. Safe to run again at any time.
set -euo pipefail

PACKAGES=(pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools iproute2)
READY_TIMEOUT_S=15
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { echo "pcsc-setup: $*"; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null; then
    $SUDO apt-get update -qq
  fi
  if ! $SUDO apt-get install -y -qq "${missing[@]}"; then
    log "install failed with the current package lists; updating them and retrying"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}"
  fi
}

# The first live pcscd (a killed daemon can linger as a zombie until reaped).
pcscd_pid() {
  local p
  for p in $(pgrep -x pcscd || true); do
    [[ $(ps -o stat= -p "$p" 2>/dev/null) == Z* ]] || { echo "$p"; return 0; }
  done
}

reader_list() { timeout 5 pcsc_scan -r 2>/dev/null || true; }

lists_vpcd() { [[ $(reader_list) == *'Virtual PCD'* ]]; }

# A pcscd that was just started may need a moment before it lists its readers.
lists_vpcd_soon() {
  for _ in $(seq 10); do lists_vpcd && return 0; sleep 0.2; done
  return 1
}

stop_pcscd() {
  local pid=$1
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    $SUDO systemctl stop pcscd.service pcscd.socket 2>/dev/null || true
  fi
  if kill -0 "$pid" 2>/dev/null; then $SUDO kill "$pid" 2>/dev/null || true; fi
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pcscd ($pid) did not stop on SIGTERM; killing it"
  $SUDO kill -9 "$pid" 2>/dev/null || true
  sleep 0.2
}

start_pcscd() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    # systemd's unit runs pcscd with --auto-exit through socket activation; a test run keeps it busy.
    $SUDO systemctl start pcscd.socket pcscd.service
    return
  fi
  # A pcscd that died leaves its socket and pid file; a new one refuses to start over them.
  $SUDO rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
  $SUDO pcscd
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until lists_vpcd; do
    if [ $SECONDS -ge $deadline ]; then
      log "pcscd did not list the vpcd readers within ${READY_TIMEOUT_S}s"
      reader_list
      exit 1
    fi
    sleep 0.2
  done
}

quickack_route() {
  command -v ip >/dev/null || { log "no ip command: PC/SC tests will run slower"; return 0; }
  $SUDO ip route replace local 127.0.0.2/32 dev lo table local proto static scope host src 127.0.0.1 \
    quickack 1 2>/dev/null || log "could not add the quickack route for 127.0.0.2: PC/SC tests will run slower"
}

install_missing

pid=$(pcscd_pid)
if [ -n "$pid" ] && ! lists_vpcd_soon; then
  log "pcscd ($pid) runs without the vpcd readers (started before vsmartcard-vpcd?); restarting it"
  stop_pcscd "$pid"
  pid=""
fi
if [ -z "$pid" ]; then
  log "starting pcscd"
  start_pcscd
fi
wait_ready
quickack_route
log "pcscd ready; readers: $(reader_list | tr '\n' ' ')"
