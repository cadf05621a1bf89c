#!/usr/bin/env bash
# `npm run demo`: everything a new user needs to see vncplay work, on this one machine, as root:
# installs what is missing, starts a local 3-host fleet (network namespaces + systemd-nspawn, real sshd, systemd and
# TigerVNC), provisions a VNC session on each host, runs the shipped rolling restart against them, then a failover
# drill on the keepalived pair h2+h3 with its report.
# The fleet stays up afterwards for your own runs (`npx vncplay playbooks/restart.yml -i demo`); `npm run fleet -- down` removes it.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_DIR"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "installing prerequisites (Debian packages, npm ci, build) where missing"
bash scripts/setup.sh
step "starting the demo fleet: h1 h2 h3 on 198.18.0.11-13"
bash test/fleet/fleet.sh up 3
step "provisioning TigerVNC sessions (playbooks/vnc-setup.yml)"
node bin/vncplay.js playbooks/vnc-setup.yml -i demo
step "rolling restart of every VNC server (playbooks/restart.yml)"
node bin/vncplay.js playbooks/restart.yml -i demo "$@"
step "failover drill: keepalived VRRP pair h2+h3 behind 198.18.0.100, VNC stopped on the primary, RTO measured"
mkdir -p .demo
node bin/vncplay.js playbooks/failover-drill.yml -i demo -e drill_fault=stop_vnc --json > .demo/drill.ndjson || true
node bin/vncplay.js drill report .demo/drill.ndjson --out .demo/drill-report
cat .demo/drill-report/report.md
