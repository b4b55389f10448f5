#!/usr/bin/env bats
# A private libvirtd (tests/lib/libvirtd.bash) defines, translates, starts
# and destroys a minimal aarch64 `virt` TCG domain with UEFI and ACPI.
# Needs root, unshare/nsenter, libvirt-daemon-system, qemu-system-arm and
# qemu-efi-aarch64; skips (with the reason) when any of these is missing.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/libvirtd'

DOM=vsmmu-smoke
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
QEMU=/usr/bin/qemu-system-aarch64

setup_file() {
	local why
	why=$(vsmmu_libvirt_missing "$QEMU" "$AAVMF_CODE" "$AAVMF_VARS")
	if [ -n "$why" ]; then
		export SMOKE_SKIP="$why"
		return 0
	fi
	# Hooks are looked up when the daemon starts: install before it.
	vsmmu_ns_start
	printf '#!/bin/sh\necho "$*" >>/run/vsmmu/smoke-hook.log\ncat >/dev/null\n' \
		>"$BATS_FILE_TMPDIR/hook"
	vsmmu_hook_install "$BATS_FILE_TMPDIR/hook" 50-smoke
	vsmmu_libvirtd_start
	cat >"$BATS_FILE_TMPDIR/$DOM.xml" <<XML
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <loader readonly='yes' type='pflash'>$AAVMF_CODE</loader>
    <nvram template='$AAVMF_VARS'/>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$QEMU</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <serial type='null'/>
  </devices>
</domain>
XML
}

teardown_file() {
	[ -n "${SMOKE_SKIP:-}" ] || vsmmu_ns_stop
}

setup() {
	[ -z "${SMOKE_SKIP:-}" ] || skip "$SMOKE_SKIP"
}

@test "private libvirtd answers and is isolated from the host" {
	run vsmmu_virsh uri
	assert_success
	assert_output qemu:///system
	# The daemon's state and config directories are our tmpfs.
	local d
	for d in /run/libvirt /run/vsmmu /var/lib/libvirt /var/log/libvirt /var/cache/libvirt \
		/etc/libvirt; do
		run vsmmu_ns findmnt -n -o SOURCE,FSTYPE --mountpoint "$d"
		assert_output 'vsmmu-test tmpfs'
	done
	# The daemon lives in another mount namespace than the host's init.
	local pid
	pid=$(vsmmu_ns cat /run/libvirt/vsmmu-libvirtd.pid)
	[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/1/ns/mnt)" ]
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$VSMMU_PRIVATE_NS_ID" ]
	# From outside, the daemon is reachable through VSMMU_LIBVIRT_URI.
	if ! vsmmu_ns_inside; then
		run timeout 20 virsh -c "$VSMMU_LIBVIRT_URI" uri
		assert_success
	fi
}

# What each private directory is inside the namespace: "DIR SOURCE FSTYPE"
# per mount on it (findmnt lists a stacked one twice).
private_mounts() {
	local d
	for d in /run/libvirt /run/vsmmu /var/lib/libvirt /var/log/libvirt /var/cache/libvirt \
		/etc/libvirt; do
		findmnt -n -o SOURCE,FSTYPE --mountpoint "$d" | sed "s|^|$d |"
	done
}

@test "a fresh host (/run/libvirt there, /run/vsmmu not): one tmpfs on each private directory, /run/vsmmu only inside" {
	local had=0
	[ -e /run/vsmmu ] && had=1
	export -f private_mounts
	run unshare -m "$BATS_TEST_DIRNAME/../lib/fresh-host" \
		"$BATS_TEST_DIRNAME/../lib/in-private-libvirt" bash -c private_mounts
	assert_success
	assert_output "/run/libvirt vsmmu-test tmpfs
/run/vsmmu vsmmu-test tmpfs
/var/lib/libvirt vsmmu-test tmpfs
/var/log/libvirt vsmmu-test tmpfs
/var/cache/libvirt vsmmu-test tmpfs
/etc/libvirt vsmmu-test tmpfs"
	[ "$had" = 1 ] || [ ! -e /run/vsmmu ]
}

@test "define an aarch64 virt TCG domain with UEFI and ACPI" {
	run vsmmu_virsh define "$BATS_FILE_TMPDIR/$DOM.xml"
	assert_success
	run vsmmu_virsh dumpxml --inactive "$DOM"
	assert_success
	assert_output --regexp "<type arch='aarch64' machine='virt-[0-9.]+'>hvm</type>"
	assert_output --partial "<acpi/>"
	assert_output --regexp "<nvram template='$AAVMF_VARS'>/var/lib/libvirt/qemu/nvram/${DOM}_VARS.fd</nvram>"
}

@test "domxml-to-native prints a qemu-system-aarch64 argv" {
	run vsmmu_virsh domxml-to-native qemu-argv --domain "$DOM"
	assert_success
	assert_output --regexp "^(.* )?$QEMU "
	assert_output --regexp "-machine virt-[0-9.]+,"
	assert_output --partial "-accel tcg"
	assert_output --partial "-cpu cortex-a57"
	assert_output --partial "$AAVMF_CODE"
}

@test "the domain starts under TCG, runs the qemu.d hook, and is destroyed" {
	run vsmmu_virsh start "$DOM"
	assert_success
	run vsmmu_virsh domstate "$DOM"
	assert_output running
	# Its QEMU runs as the qemu.conf user, in our namespace only.
	local pid
	pid=$(vsmmu_ns cat "/run/libvirt/qemu/$DOM.pid")
	[ -n "$pid" ] && [ -d "/proc/$pid" ]
	[[ "$(cat "/proc/$pid/comm")" == qemu-system-aar* ]]
	run vsmmu_virsh destroy "$DOM"
	assert_success
	run vsmmu_virsh domstate "$DOM"
	assert_output 'shut off'
	! [ -d "/proc/$pid" ] || [ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$pid/stat")" = Z ]
	# The qemu.d hook ran for each step, in order, with the XML on stdin.
	run vsmmu_ns cat /run/vsmmu/smoke-hook.log
	assert_output "$DOM prepare begin -
$DOM start begin -
$DOM started begin -
$DOM stopped end -
$DOM release end -"
}

@test "undefine removes the domain and its NVRAM" {
	run vsmmu_virsh undefine --nvram "$DOM"
	assert_success
	run vsmmu_ns test -e "/var/lib/libvirt/qemu/nvram/${DOM}_VARS.fd"
	assert_failure
	run vsmmu_virsh list --all --name
	refute_output --partial "$DOM"
}
