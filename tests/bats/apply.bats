#!/usr/bin/env bats
# vsmmuctl apply against a private libvirtd (tests/lib/libvirtd.bash): the
# real libvirt 9.0 client API, define and domxml-to-native.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/libvirtd'

DOM=vsmmu-apply
WRAPPER=/var/lib/libvirt/vsmmu/vsmmu-qemu

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	APPLY_SKIP=$(vsmmu_libvirt_missing)
	export APPLY_SKIP
	[ -z "$APPLY_SKIP" ] || return 0
	"$TOP/tests/fixtures/mkhost" grace "$BATS_FILE_TMPDIR/grace" >/dev/null
	vsmmu_ns_start
	vsmmu_libvirtd_start
	# libvirt probes <emulator> as the QEMU user at define: give it the
	# wrapper where that user can run it.
	vsmmu_ns install -D -m 0755 "$TOP/build/vsmmu-qemu" "$WRAPPER"
	cat >"$BATS_FILE_TMPDIR/$DOM.xml" <<XML
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>256</memory>
  <os firmware='efi'>
    <type arch='aarch64' machine='virt'>hvm</type>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <driver name='vfio'/>
      <source><address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <driver name='vfio'/>
      <source><address domain='0x0019' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/none.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
	vsmmu_virsh define "$BATS_FILE_TMPDIR/$DOM.xml" >/dev/null
}

teardown_file() {
	[ -n "${APPLY_SKIP:-}" ] || vsmmu_ns_stop
}

setup() {
	[ -z "${APPLY_SKIP:-}" ] || skip "$APPLY_SKIP"
	BACKUP="$BATS_FILE_TMPDIR/backup"
}

ctl() {
	vsmmu_ns env VSMMU_WRAPPER="$WRAPPER" VSMMU_BACKUPDIR="$BACKUP" \
		"$TOP/build/vsmmuctl" --sysfs "$BATS_FILE_TMPDIR/grace" -c qemu:///system "$@"
}

@test "apply --dry-run prints the diff and changes nothing" {
	run ctl apply "$DOM" --dry-run
	assert_success
	assert_output --partial "--- $DOM (libvirt)"
	assert_output --regexp "\+ +<controller type=.pci. index=.[0-9]+. model=.pcie-expander-bus.>"
	assert_output --partial "+    <emulator>$WRAPPER</emulator>"
	run vsmmu_virsh dumpxml --inactive "$DOM"
	refute_output --partial pcie-expander-bus
	[ ! -e "$BACKUP" ]
}

@test "apply defines the rewritten domain, keeps a backup, and libvirt accepts the topology" {
	vsmmu_virsh dumpxml --inactive --security-info "$DOM" >"$BATS_TEST_TMPDIR/before.xml"
	run ctl apply "$DOM"
	assert_success
	assert_output --partial "$DOM: defined"
	run vsmmu_virsh dumpxml --inactive "$DOM"
	[ "$(grep -c "model='pcie-expander-bus'" <<<"$output")" -eq 2 ]
	assert_output --partial "<emulator>$WRAPPER</emulator>"
	assert_output --regexp '<vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1" mode="accel">'
	assert_output --partial "<qemu:env name='VSMMU_PLAN'"
	# The backup is the definition as it was (virsh adds a final newline).
	run find "$BACKUP" -name "$DOM-*.xml"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(cat "${lines[0]}")" = "$(cat "$BATS_TEST_TMPDIR/before.xml")" ]
	# libvirt turns it into QEMU arguments: every hostdev on a root port
	# of an expander, the plan in the environment.
	run vsmmu_virsh domxml-to-native qemu-argv --domain "$DOM"
	assert_success
	assert_output --regexp '"driver":"pxb-pcie","bus_nr":[0-9]+,"id":"pci\.[0-9]+"'
	assert_output --regexp '"driver":"vfio-pci","host":"0009:01:00.0","id":"hostdev0","bus":"pci\.[0-9]+"'
	assert_output --partial "VSMMU_PLAN='{"
}

@test "apply on a definition that already matches does nothing" {
	run ctl apply "$DOM"
	assert_success
	assert_output "$DOM: definition already matches this host; nothing to do"
	run find "$BACKUP" -name "$DOM-*.xml"
	[ "${#lines[@]}" -eq 1 ]
}

@test "vsmmuctl check passes on libvirt's own dump of the applied domain" {
	vsmmu_virsh dumpxml --inactive "$DOM" >"$BATS_TEST_TMPDIR/applied.xml"
	run "$TOP/build/vsmmuctl" --sysfs "$BATS_FILE_TMPDIR/grace" check "$BATS_TEST_TMPDIR/applied.xml"
	assert_success
}

@test "apply names an unknown domain and exits 2" {
	run ctl apply no-such-domain
	assert_failure 2
	assert_output --partial "vsmmuctl: no-such-domain: Domain not found"
}

@test "vsmmuctl show DOMAIN reads the definition through libvirt" {
	run ctl show "$DOM"
	assert_success
	assert_line --index 0 "domain $DOM, vsmmu mode accel"
	assert_output --regexp 'pcie-expander-bus busNr [0-9]+ mirrors smmu3\.0x0000000016000000 \[vSMMU vsmmu\.[0-9]+, accel=on\]'
}

@test "apply --native on libvirt 9.0 is refused, naming the libvirt it needs; nothing changes" {
	vsmmu_virsh dumpxml --inactive "$DOM" >"$BATS_TEST_TMPDIR/before.xml"
	run ctl apply "$DOM" --native
	assert_failure 2
	assert_output "vsmmuctl: libvirt 9.0.0 cannot hold this domain in native form: <iommu model='smmuv3'><driver accel='on'/> needs libvirt >= 12.9.0; upgrade libvirt or use the wrapper form"
	vsmmu_virsh dumpxml --inactive "$DOM" | cmp - "$BATS_TEST_TMPDIR/before.xml"
}

@test "apply on libvirt 9.0 picks the wrapper form by itself and says why" {
	sed "s|<name>$DOM</name>|<name>$DOM-auto</name>|" "$BATS_FILE_TMPDIR/$DOM.xml" >"$BATS_TEST_TMPDIR/auto.xml"
	vsmmu_virsh define "$BATS_TEST_TMPDIR/auto.xml" >/dev/null
	run --separate-stderr ctl apply "$DOM-auto" --dry-run
	assert_success
	grep -qF 'note: wrapper form: libvirt 9.0.0 is older than the 12.9.0 the native form needs' <<<"$stderr"
	assert_output --partial "+    <emulator>$WRAPPER</emulator>"
	refute_output --partial '<iommu'
}
