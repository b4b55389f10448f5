#!/bin/sh
# `make demo`: vsmmuctl on the example Grace host and domain.
set -eu
cd "$(dirname "$0")/.."
ctl=build/vsmmuctl
host=examples/hosts/grace
dom=examples/domains/grace-2gpu.xml
step() { printf '\n==== %s\n' "$*"; }
step "vsmmuctl --sysfs $host host   (the host's SMMUv3 instances and PCI devices)"
$ctl --sysfs "$host" host
step "vsmmuctl --sysfs $host plan $dom"
$ctl --sysfs "$host" plan "$dom"
step "vsmmuctl --sysfs $host rewrite $dom"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
$ctl --sysfs "$host" rewrite "$dom" | tee "$out"
step "vsmmuctl show (the rewritten domain's guest topology)"
$ctl show "$out"
step "vsmmuctl --sysfs $host check (the rewritten domain matches this host)"
$ctl --sysfs "$host" check "$out" && echo "check: matches"
