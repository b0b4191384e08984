#!/bin/sh
# Makes Debian's rsyslog and socat available for the syslog emitter tests
# (test/e2e/emit-syslog.test.ts): rsyslogd proves a real syslog parser accepts our lines, socat
# captures the raw bytes. Exits non-zero with a reason when they cannot be installed.
set -eu
have() { command -v rsyslogd >/dev/null 2>&1 && command -v socat >/dev/null 2>&1; }
if have; then exit 0; fi
if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
  echo "ensure-syslog-tools: rsyslog/socat are not installed and there is no root or sudo to install them (apt-get install rsyslog socat)" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || { echo "ensure-syslog-tools: apt-get update failed" >&2; exit 1; }
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends rsyslog socat >&2 || { echo "ensure-syslog-tools: apt-get install rsyslog socat failed" >&2; exit 1; }
if have; then exit 0; fi
echo "ensure-syslog-tools: rsyslog/socat installed but rsyslogd or socat not found on PATH" >&2
exit 1
