#!/bin/sh
# Makes Debian's Chromium available for the audit report rendering test (test/e2e/audit-report.test.ts).
# Prints the browser path on stdout; exits non-zero with a reason when it cannot be installed.
set -eu
for b in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$b" ]; then echo "$b"; exit 0; fi
done
if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
  echo "ensure-chromium: chromium is not installed and there is no root or sudo to install it (apt-get install chromium)" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || { echo "ensure-chromium: apt-get update failed" >&2; exit 1; }
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium >&2 || { echo "ensure-chromium: apt-get install chromium failed" >&2; exit 1; }
for b in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$b" ]; then echo "$b"; exit 0; fi
done
echo "ensure-chromium: chromium installed but no binary found" >&2
exit 1
