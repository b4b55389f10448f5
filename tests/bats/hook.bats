#!/usr/bin/env bats
# vsmmu-hook invoked exactly as libvirt invokes it: `NAME OP SUBOP -`, the
# domain XML on stdin, an environment reduced to LC_ALL and PATH (plus the
# VSMMU_* variables that point it at fake sysfs, /dev and run trees).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/hookenv'

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	export HOOK="${VSMMU_TEST_HOOK:-$TOP/build/vsmmu-hook}"
	export CTL="${VSMMU_TEST_CTL:-$TOP/build/vsmmuctl}"
	local t="$BATS_FILE_TMPDIR"
	"$TOP/tests/fixtures/mkhost" grace "$t/sys" >/dev/null
	# GPU 0009:01:00.0 (vfio0) and NIC function 0000:01:00.0 (vfio1): both on vfio-pci.
	sed -e "s/domain='0x0019'/domain='0x0000'/" "$TOP/examples/domains/grace-2gpu.xml" >"$t/src.xml"
	"$CTL" --sysfs "$t/sys" rewrite "$t/src.xml" >"$t/ok.xml"
	sed -e "s/mode=.accel./mode='emulated'/" "$t/src.xml" >"$t/emu-src.xml"
	"$CTL" --sysfs "$t/sys" rewrite "$t/emu-src.xml" >"$t/emu.xml"
	# Both GPUs: 0019:01:00.0 is on the nvidia driver.
	"$CTL" --sysfs "$t/sys" rewrite "$TOP/examples/domains/grace-2gpu.xml" >"$t/gpus.xml"
	printf '<domain type="kvm">\n  <name>plain</name>\n  <memory>1048576</memory>\n  <devices>\n    <hostdev mode="subsystem" type="pci"><source><address domain="0x0009" bus="0x01" slot="0x00" function="0x0"/></source></hostdev>\n  </devices>\n</domain>\n' >"$t/plain.xml"
}

setup() {
	hook_env_setup
}

tree_sum() { find "$@" -printf '%p %u %g %m %s %T@\n' 2>/dev/null | sort | md5sum; }

# A copy of the host tree where 0009:01:00.0 sits behind the other socket's SMMU.
stale_sys() {
	cp -a "$SYS" "$T/sys"
	local target
	target=$(readlink -f "$T/sys/class/iommu/smmu3.0x0000100016000000")
	ln -sfn "$target" "$T/sys/bus/pci/devices/0009:01:00.0/iommu"
	SYS="$T/sys"
}

@test "unmanaged domain: every op exits 0, prints nothing and touches nothing" {
	mkdir -p "$RUN"
	before=$(tree_sum "$RUN" "$DEV")
	for op in "prepare begin" "start begin" "started begin" "stopped end" "release end" \
		"migrate begin" "restore begin" "reconnect begin" "attach begin" "frobnicate x"; do
		run --separate-stderr hook plain $op <"$F/plain.xml"
		assert_success
		assert_output ''
		[ -z "$stderr" ]
	done
	[ "$(tree_sum "$RUN" "$DEV")" = "$before" ]
}

@test "unmanaged domain passes even with a broken vsmmu.conf" {
	echo 'no_such_key = 1' >"$CONF"
	run --separate-stderr hook plain prepare begin <"$F/plain.xml"
	assert_success
	[ -z "$stderr" ]
}

@test "prepare checks and changes nothing; start hands /dev/iommu and the cdevs to the QEMU user and writes the state" {
	run --separate-stderr hook ok prepare begin <"$F/ok.xml"
	assert_success
	[ -z "$stderr" ]
	[ "$(owner iommu)" = "$ORIG" ]
	[ ! -e "$RUN/ok" ]
	run --separate-stderr hook ok start begin <"$F/ok.xml"
	assert_success
	[ -z "$stderr" ]
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	[ "$(owner vfio/devices/vfio0)" = "$QUID:$QGID:660" ]
	[ "$(owner vfio/devices/vfio1)" = "$QUID:$QGID:660" ]
	[ "$(owner vfio/devices/vfio2)" = "$ORIG" ]
	S="$RUN/ok/state.json"
	grep -qF '"domain": "ok"' "$S"
	grep -qF '"mode": "accel"' "$S"
	grep -qF "\"iommufd\": \"$DEV/iommu\"" "$S"
	grep -A2 -F '"bdf": "0009:01:00.0"' "$S" | grep -qF "\"cdev_path\": \"$DEV/vfio/devices/vfio0\""
	grep -A2 -F '"bdf": "0000:01:00.0"' "$S" | grep -qF "\"cdev_path\": \"$DEV/vfio/devices/vfio1\""
	grep -B1 -F '"smmu": "smmu3.0x0000000016000000"' "$S" | grep -q '"index": [0-9]'
	grep -B1 -F '"smmu": "smmu3.0x0000000011000000"' "$S" | grep -q '"index": [0-9]'
	[ "$(grep -c '"path": ' "$S")" = 3 ]
	grep -q '"plan": {' "$S"
	[ "$(stat -c %a "$RUN/ok/state.json")" = 644 ]
	[ -z "$(find "$RUN" -name '*.tmp*')" ]
}

@test "release: restores owners and modes and removes the state; twice is fine" {
	start ok "$F/ok.xml"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_success
	[ "$(owner iommu)" = "$ORIG" ]
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	[ "$(owner vfio/devices/vfio1)" = "$ORIG" ]
	[ ! -e "$RUN/ok" ]
	[ -z "$(ls -A "$RUN/.nodes")" ]
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_success
	[ -z "$stderr" ]
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "release without prepare: exits 0 and creates nothing" {
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_success
	[ -z "$stderr" ]
	[ ! -e "$RUN" ]
}

@test "stopped/release after a refused prepare leave the host as it was" {
	rm "$DEV/iommu"
	run hook ok prepare begin <"$F/ok.xml"
	assert_failure
	run hook ok stopped end <"$F/ok.xml"
	assert_success
	run hook ok release end <"$F/ok.xml"
	assert_success
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	[ ! -e "$RUN/ok" ]
}

@test "other ops on a managed domain exit 0 quietly and change nothing" {
	mkdir -p "$RUN"
	before=$(tree_sum "$RUN" "$DEV")
	for op in "started begin" "stopped end" "reconnect begin" "attach begin" \
		"prepare end" "frobnicate x"; do
		run --separate-stderr hook ok $op <"$F/ok.xml"
		assert_success
		assert_output ''
		[ -z "$stderr" ]
	done
	[ "$(tree_sum "$RUN" "$DEV")" = "$before" ]
}

@test "stale topology: refused with one line per device and the apply command" {
	stale_sys
	run --separate-stderr hook ok prepare begin <"$F/ok.xml"
	assert_failure 1
	[ -z "$output" ]
	grep -q '^vsmmu: hostdev 0009:01:00.0 is behind smmu3.0x0000100016000000 on this host.*'"run 'vsmmuctl apply ok'"'$' <<<"$stderr"
	[ -z "$(grep -v '^vsmmu: ' <<<"$stderr")" ]
	[ "$(owner iommu)" = "$ORIG" ]
	[ ! -e "$RUN/ok" ]
}

@test "device on another driver: managed='yes' passes prepare (libvirt binds it) and is refused at start" {
	run --separate-stderr hook gpus prepare begin <"$F/gpus.xml"
	assert_success
	run --separate-stderr hook gpus start begin <"$F/gpus.xml"
	assert_failure 1
	grep -qF "vsmmu: hostdev 0019:01:00.0 is bound to nvidia, not vfio-pci; bind it to vfio-pci: echo 0019:01:00.0 > $SYS/bus/pci/devices/0019:01:00.0/driver/unbind && echo vfio-pci > $SYS/bus/pci/devices/0019:01:00.0/driver_override && echo 0019:01:00.0 > $SYS/bus/pci/drivers_probe" <<<"$stderr"
	[ "$(grep -c . <<<"$stderr")" = 1 ]
	[ "$(owner iommu)" = "$ORIG" ]
	[ ! -e "$RUN/gpus" ]
}

@test "device on another driver with managed='no': refused already at prepare" {
	sed "s/managed=\"yes\"/managed=\"no\"/" "$F/gpus.xml" >"$T/gpus-no.xml"
	run --separate-stderr hook gpus prepare begin <"$T/gpus-no.xml"
	assert_failure 1
	grep -qF "vsmmu: hostdev 0019:01:00.0 is bound to nvidia, not vfio-pci" <<<"$stderr"
}

@test "a refusal with more than 10 problems shows 10 and counts the rest" {
	# 12 endpoints behind one SMMU, none bound to a driver
	"$TOP/tests/fixtures/mkhost" synthetic "$T/sys12" 1 12 0 >/dev/null
	SYS=$T/sys12
	{
		printf '<domain type="kvm"><name>d12</name><metadata><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1"/></metadata>'
		printf '<os firmware="efi"><type arch="aarch64" machine="virt">hvm</type></os><features><acpi/></features><devices>\n'
		"$CTL" --sysfs "$SYS" host | awk '$3 == "020000" { print $1 }' | while IFS=':.' read -r d b s f; do
			printf '<hostdev mode="subsystem" type="pci" managed="no"><source><address domain="0x%s" bus="0x%s" slot="0x%s" function="0x%s"/></source></hostdev>\n' "$d" "$b" "$s" "$f"
		done
		printf '</devices></domain>\n'
	} >"$T/d12-src.xml"
	"$CTL" --sysfs "$SYS" rewrite "$T/d12-src.xml" >"$T/d12.xml"
	run --separate-stderr hook d12 prepare begin <"$T/d12.xml"
	assert_failure 1
	[ "${#stderr_lines[@]}" = 11 ]
	[ "$(grep -c '^vsmmu: hostdev [0-9a-f:.]* is not bound to any driver' <<<"$stderr")" = 10 ]
	[ "${stderr_lines[10]}" = "vsmmu: ... and 2 more problems not shown (12 in all)" ]
}

@test "unbound device: refused naming driver_override and drivers_probe" {
	cp -a "$SYS" "$T/sys"
	rm "$T/sys/bus/pci/devices/0009:01:00.0/driver"
	SYS="$T/sys"
	run --separate-stderr start ok "$F/ok.xml"
	assert_failure 1
	grep -qF "vsmmu: hostdev 0009:01:00.0 is not bound to any driver; bind it to vfio-pci: echo vfio-pci > $SYS/bus/pci/devices/0009:01:00.0/driver_override" <<<"$stderr"
}

@test "missing cdev node: refused in accel mode" {
	rm "$DEV/vfio/devices/vfio1"
	run --separate-stderr start ok "$F/ok.xml"
	assert_failure 1
	grep -qF "vsmmu: hostdev 0000:01:00.0: its vfio cdev node $DEV/vfio/devices/vfio1 is missing" <<<"$stderr"
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "missing /dev/iommu: refused in accel mode, fine in emulated mode" {
	rm "$DEV/iommu"
	run --separate-stderr hook ok prepare begin <"$F/ok.xml"
	assert_failure 1
	grep -qF "vsmmu: $DEV/iommu is missing: mode 'accel' needs iommufd; load it: modprobe iommufd" <<<"$stderr"
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	run --separate-stderr start emu "$F/emu.xml"
	assert_success
	grep -qF '"mode": "emulated"' "$RUN/emu/state.json"
	grep -qF '"nodes": []' "$RUN/emu/state.json"
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	run hook emu release end <"$F/emu.xml"
	assert_success
	[ ! -e "$RUN/emu" ]
}

@test "broken vsmmu.conf: one line and exit 1 at prepare of a managed domain" {
	echo 'no_such_key = 1' >"$CONF"
	run --separate-stderr hook ok prepare begin <"$F/ok.xml"
	assert_failure 1
	[ "$(grep -c . <<<"$stderr")" = 1 ]
	grep -q "^vsmmu: ok: .*unknown key 'no_such_key'" <<<"$stderr"
}

@test "a domain name that would leave the run dir stays inside it" {
	run --separate-stderr start ../evil "$F/ok.xml"
	assert_success
	[ -f "$RUN/%2E.%2Fevil/state.json" ]
	[ "$(find "$T" -name evil -o -name state.json | grep -v "^$RUN/")" = "" ]
	run hook ../evil release end <"$F/ok.xml"
	assert_success
	[ ! -e "$RUN/%2E.%2Fevil" ]
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "migrate/restore: empty output when the domain already fits this host" {
	for op in migrate restore; do
		run --separate-stderr hook ok $op begin <"$F/ok.xml"
		assert_success
		assert_output ''
		[ -z "$stderr" ]
	done
	[ ! -e "$RUN" ]
}

@test "migrate/restore: prints the domain rewritten for this host" {
	stale_sys
	want=$("$CTL" --sysfs "$SYS" rewrite "$F/ok.xml")
	for op in migrate restore; do
		run --separate-stderr hook ok $op begin <"$F/ok.xml"
		assert_success
		[ "$output" = "$want" ]
		[ "$output" != "$(cat "$F/ok.xml")" ]
	done
	run --separate-stderr hook ok restore begin <"$F/src.xml"
	assert_success
	assert_output --partial "pcie-expander-bus"
}

@test "migrate: unreadable XML of a managed domain is an error" {
	run --separate-stderr hook ok migrate begin <<<'<domain><metadata><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1"'
	assert_failure 1
	grep -q '^vsmmu: ok: ' <<<"$stderr"
}

@test "declared encodings: iconv's work, ICU-only ones are refused in one line" {
	# The hook links libxml2 statically without ICU (hooks/no-icu.c): glibc's
	# iconv still converts EUC-JP; SCSU, which only ICU knows, is refused.
	{ echo "<?xml version='1.0' encoding='EUC-JP'?>"; cat "$F/ok.xml"; } >"$T/eucjp.xml"
	run --separate-stderr hook ok prepare begin <"$T/eucjp.xml"
	assert_success
	{ echo "<?xml version='1.0' encoding='SCSU'?>"; cat "$F/ok.xml"; } >"$T/scsu.xml"
	run --separate-stderr hook ok prepare begin <"$T/scsu.xml"
	assert_failure 1
	[ "$stderr" = "vsmmu: ok: domain XML: malformed XML at line 1: Unsupported encoding SCSU" ]
}

@test "the hook loads no libxml2, ICU, libstdc++, jansson, zlib or liblzma at exec" {
	run readelf -d "$HOOK"
	assert_success
	grep -q '(NEEDED).*\[libc\.so' <<<"$output"
	# Sanitizer builds add their runtimes; what must never appear:
	run grep -E '\(NEEDED\).*\[(libxml2|libicu|libstdc\+\+|libjansson|libz\.|liblzma)' <<<"$output"
	assert_failure 1
}

@test "8 domains start concurrently; /dev/iommu is restored only after the last release" {
	for i in 1 2 3 4 5 6 7 8; do
		(start "vm$i" "$F/ok.xml"; echo $? >"$T/rc$i") &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(cat "$T/rc$i")" = 0 ]
		[ -f "$RUN/vm$i/state.json" ]
	done
	[ "$(grep -c '"vm[1-8]"' "$RUN"/.nodes/*iommu)" = 8 ]
	for i in 1 2 3 4 5 6 7; do
		(hook "vm$i" release end <"$F/ok.xml"; echo $? >"$T/rel$i") &
	done
	wait
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	[ "$(owner vfio/devices/vfio0)" = "$QUID:$QGID:660" ]
	hook vm8 release end <"$F/ok.xml"
	[ "$(owner iommu)" = "$ORIG" ]
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	[ -z "$(ls -A "$RUN/.nodes")" ]
	[ "$(ls "$RUN")" = "" ]
}

@test "installed as /etc/libvirt/hooks/qemu itself: same argv, same result" {
	mkdir -p "$T/hooks"
	cp "$HOOK" "$T/hooks/qemu"
	HOOK="$T/hooks/qemu"
	run --separate-stderr start ok "$F/ok.xml"
	assert_success
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	run hook ok release end <"$F/ok.xml"
	assert_success
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "manage = hostdevs: a domain with no metadata, aarch64, and a hostdev behind an SMMUv3 gets its state; marked leaves it alone; mode='off' opts out" {
	printf 'manage = hostdevs\n' >>"$CONF"
	# A domain of another arch is none of ours, whatever its hostdevs.
	run --separate-stderr start plain "$F/plain.xml"
	assert_success
	[ ! -e "$RUN/plain" ]
	sed 's|<devices>|<os firmware="efi"><type arch="aarch64" machine="virt">hvm</type></os>\n  <features><acpi/></features>\n  <devices>|' \
		"$F/plain.xml" >"$T/nova.xml"
	# What apply could fix is not the remedy for a domain nobody applies.
	sed 's|<features><acpi/></features>||' "$T/nova.xml" >"$T/noacpi.xml"
	run --separate-stderr start plain "$T/noacpi.xml"
	assert_failure
	[[ $stderr == *"no <features><acpi/>"*"in the XML that writes this domain, or opt it out with <vsmmu:config mode='off'/>"* ]]
	[[ $stderr != *"vsmmuctl apply"* ]]
	[ ! -e "$RUN/plain" ]
	start plain "$T/nova.xml"
	S="$RUN/plain/state.json"
	grep -qF '"domain": "plain"' "$S"
	grep -qF '"mode": "accel"' "$S"
	grep -A2 -F '"bdf": "0009:01:00.0"' "$S" | grep -qF "\"cdev_path\": \"$DEV/vfio/devices/vfio0\""
	[ "$(owner vfio/devices/vfio0)" = "$QUID:$QGID:660" ]
	# The definition is never rewritten for a domain the policy manages.
	run --separate-stderr hook plain migrate begin <"$T/nova.xml"
	assert_success
	assert_output ''
	run --separate-stderr hook plain release end <"$T/nova.xml"
	assert_success
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	[ ! -e "$RUN/plain" ]
	# The owner's word wins over the policy.
	sed 's|<devices>|<metadata><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1" mode="off"/></metadata>\n  <devices>|' \
		"$T/nova.xml" >"$T/off.xml"
	grep -q 'mode="off"' "$T/off.xml"
	run --separate-stderr start plain "$T/off.xml"
	assert_success
	[ -z "$stderr" ]
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	# Its verdict for the wrapper at the default QEMU path: not ours, nothing held.
	grep -qF '"managed": false' "$RUN/plain/state.json"
	! grep -qF '"bdf"' "$RUN/plain/state.json"
	run --separate-stderr hook plain release end <"$T/off.xml"
	assert_success
	[ ! -e "$RUN/plain" ]
	# The default policy: untouched.
	sed -i '/^manage = /d' "$CONF"
	run --separate-stderr start plain "$T/nova.xml"
	assert_success
	[ ! -e "$RUN/plain" ]
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
}
