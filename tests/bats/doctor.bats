#!/usr/bin/env bats
# vsmmuctl doctor against fake sysfs (tests/fixtures/mkhost), /dev, /etc and
# /proc trees and a stand-in QEMU: every check to each of its outcomes, the
# exit codes 0/1/2 and --json. setup() builds a host on which all pass; each
# test breaks one thing.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CTL=${VSMMU_CTL_BIN:-$TOP/build/vsmmuctl}

setup_file() {
	sh "$TOP/tests/fixtures/mkhost" grace "$BATS_FILE_TMPDIR/grace" >/dev/null
	sh "$TOP/tests/fixtures/mkhost" other-iommu "$BATS_FILE_TMPDIR/other" >/dev/null
	sh "$TOP/tests/fixtures/mkhost" synthetic "$BATS_FILE_TMPDIR/novfio" 1 1 0 >/dev/null
}

# libvirt >= 12.1 opens /dev/iommu and the cdevs itself: no qemu.conf check.
libvirt_needs_acl() {
	v=$(pkg-config --modversion libvirt 2>/dev/null || echo 0.0)
	major=${v%%.*} rest=${v#*.} minor=${rest%%.*}
	[ "$major" -lt 12 ] || { [ "$major" -eq 12 ] && [ "$minor" -lt 1 ]; }
}

standin() { # VERSION PROPERTIES
	cat >"$T/qemu" <<SH
#!/bin/sh
if [ "\$1" = -version ]; then echo 'QEMU emulator version $1 (stand-in)'; exit 0; fi
printf 'arm-smmuv3 options:\n$2'
SH
	chmod 0755 "$T/qemu"
}

qemu_conf() { # the ACL QEMU needs on the Grace tree
	printf 'cgroup_device_acl = [ "/dev/null", "/dev/kvm",\n  "%s/iommu"' "$VSMMU_DEV"
	for n in 0 1 2 3 4; do printf ',\n  "%s/vfio/devices/vfio%s"' "$VSMMU_DEV" "$n"; done
	printf ' ]\n'
}

setup() {
	[ -x "$CTL" ] || skip "$CTL not built"
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	export VSMMU_SYSFS=$BATS_FILE_TMPDIR/grace VSMMU_DEV=$T/dev VSMMU_ETC=$T/etc
	export VSMMU_PROC=$T/proc VSMMU_RUNDIR=$T/run VSMMU_WRAPPER=$T/libexec/vsmmu-qemu
	export VSMMU_QEMU=$T/qemu VSMMU_CONF=$T/vsmmu.conf
	mkdir -p dev/vfio/devices etc/libvirt/hooks/qemu.d proc run libexec
	touch dev/iommu dev/vfio/devices/vfio0 dev/vfio/devices/vfio1 dev/vfio/devices/vfio2 \
		dev/vfio/devices/vfio3 dev/vfio/devices/vfio4
	printf '#!/bin/sh\n# vsmmu-hook stand-in\n' >etc/libvirt/hooks/qemu.d/vsmmu
	chmod 0755 etc/libvirt/hooks/qemu.d/vsmmu
	printf '#!/bin/sh\n' >libexec/vsmmu-qemu
	chmod 0755 libexec/vsmmu-qemu
	printf 'qemu_user = +0\nqemu_group = +0\n' >vsmmu.conf
	qemu_conf >etc/libvirt/qemu.conf
	standin 11.1.0 '  accel=<bool>\n  primary-bus=<link<PCI>>\n'
}

# line CHECK STATUS: the report has "vsmmu: CHECK<padding>: STATUS".
line() {
	assert_line --regexp "^vsmmu: $1 +: $2( |\$)"
}

fake_daemon() { # COMM START-SECONDS-AFTER-BOOT (boot at epoch 1000)
	hz=$(getconf CLK_TCK)
	mkdir -p "$T/proc/77"
	printf 'cpu 1 2\nbtime 1000\n' >"$T/proc/stat"
	echo "$1" >"$T/proc/77/comm"
	echo "77 ($1) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 $(($2 * hz)) 1 2" >"$T/proc/77/stat"
}

@test "a ready host: every check passes, exit 0" {
	run "$CTL" doctor
	assert_success
	line 'SMMUv3 instances' PASS
	line iommufd PASS
	line 'VFIO cdev support' PASS
	line 'vfio-pci device 0009:01:00.0' PASS
	line 'libvirt hook' PASS
	line 'wrapper executable by the QEMU user' PASS
	line 'QEMU arm-smmuv3 support' PASS
	line 'qemu.conf device access' PASS
	refute_output --partial WARN
	refute_output --partial FAIL
	[ "$(grep -c '^vsmmu: vfio-pci device ' <<<"$output")" -eq 5 ]
}

@test "--json: an array of {check, status, detail, remedy}" {
	run "$CTL" doctor --json
	assert_success
	run jq -r '.[] | "\(.check)|\(.status)|\(.remedy)"' <<<"$output"
	assert_success
	assert_line 'SMMUv3 instances|PASS|null'
	assert_line 'qemu.conf device access|PASS|null'
	assert_line 'QEMU confinement (AppArmor, SELinux)|PASS|null'
	assert_line 'host policy (vsmmu.conf manage =)|PASS|null'
	[ "${#lines[@]}" -eq 14 ]
}

@test "--json on a failing host still exits 2 and names the remedy" {
	rm "$T/etc/libvirt/hooks/qemu.d/vsmmu"
	run -2 "$CTL" doctor --json
	run jq -r '.[] | select(.status != "PASS") | "\(.check)|\(.status)|\(.remedy)"' <<<"$output"
	assert_output --partial 'libvirt hook|FAIL|install the hook'
}

@test "an unknown argument is an error, exit 2" {
	run -2 "$CTL" doctor --frobnicate
	assert_output --partial "unknown argument '--frobnicate'"
}

@test "SMMUv3 instances: none found is a FAIL, exit 2" {
	mkdir -p empty/class/iommu empty/bus/pci/devices
	VSMMU_SYSFS=$T/empty run -2 "$CTL" doctor
	line 'SMMUv3 instances' FAIL
	assert_output --partial 'CONFIG_ARM_SMMU_V3'
}

@test "SMMUv3 instances: --sysfs overrides VSMMU_SYSFS" {
	mkdir -p empty/class/iommu empty/bus/pci/devices
	run -2 "$CTL" --sysfs "$T/empty" doctor
	line 'SMMUv3 instances' FAIL
}

@test "iommufd: no /dev/iommu is a WARN (emulated mode works), exit 1" {
	rm "$T/dev/iommu"
	run -1 "$CTL" doctor
	line iommufd WARN
	assert_line '       load iommufd (modprobe iommufd; CONFIG_IOMMUFD=y) for accelerated vSMMUs'
}

@test "VFIO cdev support: vfio-pci devices without cdevs WARN, and each device too" {
	cp -a "$BATS_FILE_TMPDIR/grace" nocdev
	find nocdev/devices -name vfio-dev -type d -prune -exec rm -rf {} +
	VSMMU_SYSFS=$T/nocdev run -1 "$CTL" doctor
	line 'VFIO cdev support' WARN
	assert_output --partial 'none of 5 vfio-pci devices has a vfio-dev/ cdev'
	line 'vfio-pci device 0009:01:00.0' WARN
	assert_output --partial 'CONFIG_VFIO_DEVICE_CDEV'
}

@test "VFIO cdev support: no vfio-pci device at all cannot tell, WARN" {
	VSMMU_SYSFS=$BATS_FILE_TMPDIR/novfio run -1 "$CTL" doctor
	line 'VFIO cdev support' WARN
	assert_output --partial 'cannot tell'
	refute_output --partial 'vfio-pci device '
}

@test "vfio-pci device: a cdev without its /dev node is a WARN" {
	rm "$T/dev/vfio/devices/vfio0"
	run -1 "$CTL" doctor
	line 'vfio-pci device 0009:01:00.0' WARN
	assert_output --partial "no $T/dev/vfio/devices/vfio0"
	line 'vfio-pci device 0000:01:00.0' PASS
}

@test "vfio-pci device: behind an SMMUv2 is a FAIL, exit 2" {
	VSMMU_SYSFS=$BATS_FILE_TMPDIR/other run -2 "$CTL" doctor
	line 'vfio-pci device 0000:02:00.0' FAIL
	assert_output --partial 'behind smmu.0x00000000e0a00000, not an SMMUv3'
}

@test "vfio-pci device: no iommu link is a FAIL" {
	cp -a "$BATS_FILE_TMPDIR/grace" noiommu
	rm noiommu/devices/pci0009:00/0009:00:00.0/0009:01:00.0/iommu
	VSMMU_SYSFS=$T/noiommu run -2 "$CTL" doctor
	line 'vfio-pci device 0009:01:00.0' FAIL
	assert_output --partial 'no iommu link'
}

@test "libvirt hook: missing is a FAIL with the install path" {
	rm "$T/etc/libvirt/hooks/qemu.d/vsmmu"
	run -2 "$CTL" doctor
	line 'libvirt hook' FAIL
	assert_output --partial "$T/etc/libvirt/hooks/qemu.d/vsmmu"
}

@test "libvirt hook: not executable is a FAIL with the chmod" {
	chmod 0644 "$T/etc/libvirt/hooks/qemu.d/vsmmu"
	run -2 "$CTL" doctor
	line 'libvirt hook' FAIL
	assert_output --partial "chmod 0755 $T/etc/libvirt/hooks/qemu.d/vsmmu"
}

@test "libvirt hook: our hook installed as hooks/qemu passes, someone else's does not" {
	mv "$T/etc/libvirt/hooks/qemu.d/vsmmu" "$T/etc/libvirt/hooks/qemu"
	run "$CTL" doctor
	assert_success
	line 'libvirt hook' PASS
	printf '#!/bin/sh\nexit 0\n' >"$T/etc/libvirt/hooks/qemu"
	run -2 "$CTL" doctor
	line 'libvirt hook' FAIL
}

@test "libvirt hook: newer than the running daemon is a WARN to restart it" {
	fake_daemon libvirtd 10
	touch -d @1050 "$T/etc/libvirt/hooks/qemu.d/vsmmu"
	run -1 "$CTL" doctor
	line 'libvirt hook' WARN
	assert_output --partial 'newer than the running libvirtd (pid 77)'
	assert_output --partial 'restart libvirtd so it finds the hook'
}

@test "libvirt hook: older than the running virtqemud passes" {
	fake_daemon virtqemud 100
	touch -d @1050 "$T/etc/libvirt/hooks/qemu.d/vsmmu"
	run "$CTL" doctor
	assert_success
	assert_output --partial 'found by the running virtqemud (pid 77)'
}

@test "wrapper: missing is a FAIL" {
	rm "$T/libexec/vsmmu-qemu"
	run -2 "$CTL" doctor
	line 'wrapper executable by the QEMU user' FAIL
	assert_output --partial "no $T/libexec/vsmmu-qemu"
}

@test "wrapper: not executable by the QEMU user is a FAIL" {
	chmod 0644 "$T/libexec/vsmmu-qemu"
	run -2 "$CTL" doctor
	line 'wrapper executable by the QEMU user' FAIL
	assert_output --partial "chmod 0755 $T/libexec/vsmmu-qemu"
}

@test "wrapper: a directory above it the QEMU user cannot search is a FAIL" {
	chmod 0755 "$T" "$T/libexec"
	chmod 0700 "$T/libexec"
	printf 'qemu_user = +65534\nqemu_group = +65534\n' >"$T/vsmmu.conf"
	run -2 "$CTL" doctor
	line 'wrapper executable by the QEMU user' FAIL
	assert_output --partial 'uid 65534 cannot search'
}

@test "QEMU: 10.2 (user-creatable, no accel) is a WARN, exit 1" {
	standin 10.2.0 '  primary-bus=<link<PCI>>\n'
	run -1 "$CTL" doctor
	line 'QEMU arm-smmuv3 support' WARN
	assert_output --partial 'emulated vSMMUs only'
}

@test "QEMU: 7.2 (no user-creatable arm-smmuv3) is a FAIL, exit 2" {
	standin 7.2.22 '  bus_num=<uint8>\n'
	run -2 "$CTL" doctor
	line 'QEMU arm-smmuv3 support' FAIL
	assert_output --partial '7.2.22'
}

@test "QEMU: a missing binary is a FAIL" {
	rm "$T/qemu"
	run -2 "$CTL" doctor
	line 'QEMU arm-smmuv3 support' FAIL
}

@test "qemu.conf: no ACL with /dev/iommu present is a FAIL with the exact line" {
	libvirt_needs_acl || skip "libvirt >= 12.1 needs no ACL"
	: >"$T/etc/libvirt/qemu.conf"
	run -2 "$CTL" doctor
	line 'qemu.conf device access' FAIL
	assert_output --partial "cgroup_device_acl = [ \"/dev/null\", \"/dev/full\", \"/dev/zero\", \"/dev/random\", \"/dev/urandom\", \"/dev/ptmx\", \"/dev/kvm\", \"/dev/userfaultfd\", \"$T/dev/iommu\", \"$T/dev/vfio/devices/vfio1\""
}

@test "qemu.conf: without /dev/iommu the gap is only a WARN" {
	libvirt_needs_acl || skip "libvirt >= 12.1 needs no ACL"
	rm "$T/etc/libvirt/qemu.conf" "$T/dev/iommu"
	run -1 "$CTL" doctor
	line 'qemu.conf device access' WARN
}

@test "qemu.conf: namespaces = [] alone is not enough; with no devices cgroup it passes" {
	libvirt_needs_acl || skip "libvirt >= 12.1 needs no ACL"
	echo 'namespaces = [ ]' >"$T/etc/libvirt/qemu.conf"
	run -2 "$CTL" doctor
	line 'qemu.conf device access' FAIL
	assert_output --partial 'namespaces = [] is not enough'
	printf 'namespaces = []\ncgroup_controllers = [ "cpu", "memory" ]\n' >"$T/etc/libvirt/qemu.conf"
	run "$CTL" doctor
	assert_success
	line 'qemu.conf device access' PASS
}
