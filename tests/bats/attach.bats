#!/usr/bin/env bats
# vsmmuctl attach/detach against a private libvirtd (tests/lib/libvirtd.bash),
# the real libvirt 9.0: --config on a defined domain (then check, the hook's
# prepare and domxml-to-native), the refusals through the CLI, and --live
# refusals on running (paused, TCG) domains. No domain with a VFIO device can
# start here: what --live hands libvirt is checked in tests/unit/test_attach.c.
# (libvirt 12.x and a guest boot with a hot-plugged device: the boot-proof
# issue's test stack.)

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/libvirtd'
load '../lib/hookenv'

QEMU=/usr/bin/qemu-system-aarch64
DOM=vsmmu-attach
WRAPPER=/var/lib/libvirt/vsmmu/vsmmu-qemu
NIC_SMMU=smmu3.0x0000000011000000 # 0000:01:00.0 and 0000:01:00.1 are behind it

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	export HOOK="$TOP/build/vsmmu-hook"
	ATTACH_SKIP=$(vsmmu_libvirt_missing xmllint "$QEMU")
	export ATTACH_SKIP
	[ -z "$ATTACH_SKIP" ] || return 0
	local sys="$BATS_FILE_TMPDIR/sys"
	"$TOP/tests/fixtures/mkhost" grace "$sys" >/dev/null
	# The NVMe drive 0002:01:00.0 without its iommu link: a device with no SMMUv3.
	rm "$sys/devices/pci0002:00/0002:00:00.0/0002:01:00.0/iommu"
	vsmmu_ns_start
	vsmmu_libvirtd_start
	vsmmu_ns install -D -m 0755 "$TOP/build/vsmmu-qemu" "$WRAPPER"
	# One NIC function, one spare port, applied as a user would.
	one_hostdev "$DOM" 0x0000 "<metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' spare-ports='1'/></metadata>"
	ctl apply "$DOM" >/dev/null
	# Another domain's definition holds the GPU.
	one_hostdev vsmmu-other 0x0009 ""
}

# one_hostdev NAME SEGMENT METADATA: define a UEFI+ACPI aarch64 domain with
# hostdev SEGMENT:01:00.0.
one_hostdev() {
	cat >"$BATS_FILE_TMPDIR/$1.xml" <<XML
<domain type='qemu'>
  <name>$1</name>
  $3
  <memory unit='MiB'>256</memory>
  <os firmware='efi'><type arch='aarch64' machine='virt'>hvm</type></os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <emulator>$QEMU</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <driver name='vfio'/>
      <source><address domain='$2' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
  </devices>
</domain>
XML
	vsmmu_virsh define "$BATS_FILE_TMPDIR/$1.xml" >/dev/null
}

teardown_file() {
	[ -n "${ATTACH_SKIP:-}" ] || vsmmu_ns_stop
}

setup() {
	[ -z "${ATTACH_SKIP:-}" ] || skip "$ATTACH_SKIP"
	hook_env_setup
}

ctl() {
	vsmmu_ns env VSMMU_WRAPPER="$WRAPPER" VSMMU_BACKUPDIR="$BATS_FILE_TMPDIR/backup" \
		"$TOP/build/vsmmuctl" --sysfs "$BATS_FILE_TMPDIR/sys" -c qemu:///system "$@"
}

definition() { vsmmu_virsh dumpxml --inactive "$1"; }

# refused MESSAGE ARGS...: vsmmuctl ARGS exits 2 with MESSAGE in its one line.
refused() {
	local msg=$1
	shift
	run ctl "$@"
	assert_failure 2
	assert_output --partial "$msg"
	[ "${#lines[@]}" -eq 1 ]
}

# The attribute of the XPath in FILE (xmllint --xpath "string(...)").
xpath() { xmllint --xpath "string($2)" "$1"; }

@test "attach --config on a defined domain: the spare port of its SMMU's expander" {
	definition "$DOM" >"$BATS_TEST_TMPDIR/before.xml"
	run ctl attach "$DOM" 0000:01:00.1 --config
	assert_success
	assert_output --regexp "^$DOM: 0000:01:00\.1 added to the definition on root port pci\.[0-9]+ of expander pci\.[0-9]+ \(mirrors $NIC_SMMU\)$"
	definition "$DOM" >"$BATS_TEST_TMPDIR/after.xml"
	local x="$BATS_TEST_TMPDIR/after.xml" port exp
	port=$(xpath "$x" "//hostdev[source/address/@function='0x1']/address/@bus")
	exp=$(xpath "$x" "//controller[@index=$((port))]/address/@bus")
	[ "$(xpath "$x" "//controller[@index=$((exp))]/@model")" = pcie-expander-bus ]
	[ "$(xpath "$x" "//*[local-name()='expander'][@index=$((exp))]/@smmu")" = "$NIC_SMMU" ]
	# It took the port that was free before.
	[ -z "$(xpath "$BATS_TEST_TMPDIR/before.xml" "//hostdev[address/@bus='$port']/@type")" ]
	[ "$(xpath "$BATS_TEST_TMPDIR/before.xml" "//controller[@index=$((port))]/@model")" = pcie-root-port ]
	assert_output --partial "pci.$((port)) of expander pci.$((exp))"
}

@test "after attach --config: check and the hook's prepare accept the domain" {
	definition "$DOM" >"$BATS_TEST_TMPDIR/def.xml"
	grep -q "function='0x1'" "$BATS_TEST_TMPDIR/def.xml"
	run "$TOP/build/vsmmuctl" --sysfs "$SYS" check "$BATS_TEST_TMPDIR/def.xml"
	assert_success
	run --separate-stderr hook "$DOM" prepare begin <"$BATS_TEST_TMPDIR/def.xml"
	assert_success
	[ -z "$stderr" ]
}

@test "after attach --config: domxml-to-native puts the device behind the expander of its SMMU" {
	definition "$DOM" >"$BATS_TEST_TMPDIR/def.xml"
	local x="$BATS_TEST_TMPDIR/def.xml" port exp
	port=$(xpath "$x" "//hostdev[source/address/@function='0x1']/address/@bus")
	exp=$(xpath "$x" "//controller[@index=$((port))]/address/@bus")
	run vsmmu_virsh domxml-to-native qemu-argv --domain "$DOM"
	assert_success
	assert_output --regexp "\"driver\":\"pxb-pcie\",\"bus_nr\":[0-9]+,\"id\":\"pci\.$((exp))\",\"bus\":\"pcie\.0\""
	assert_output --regexp "\"driver\":\"pcie-root-port\",[^}]*\"id\":\"pci\.$((port))\",\"bus\":\"pci\.$((exp))\""
	assert_output --regexp "\"driver\":\"vfio-pci\",\"host\":\"0000:01:00\.1\",\"id\":\"hostdev[0-9]+\",\"bus\":\"pci\.$((port))\",\"addr\":\"0x0\""
	# The wrapper's plan routes it through the vSMMU of that expander.
	assert_output --partial "{\"bus\":\"pci.$((port))\",\"expander\":\"pci.$((exp))\",\"host\":\"0000:01:00.1\",\"smmu\":\"$NIC_SMMU\"}"
}

@test "after attach --config: show lists the spare port the next start gets as a free slot" {
	run ctl show "$DOM"
	assert_success
	assert_output --regexp "hostdev 0000:01:00\.1 \(vfio-pci\)"
	[ "$(grep -c 'free slot (vsmmuctl attach)' <<<"$output")" -eq 1 ]
}

@test "attach refuses a device another domain's definition holds, and changes nothing" {
	definition "$DOM" >"$BATS_TEST_TMPDIR/before.xml"
	refused "vsmmuctl: 0009:01:00.0 is already assigned to domain 'vsmmu-other' (in its definition): detach it there first ('vsmmuctl detach vsmmu-other 0009:01:00.0 --config')" \
		attach "$DOM" 0009:01:00.0 --config
	definition "$DOM" >"$BATS_TEST_TMPDIR/after.xml"
	cmp "$BATS_TEST_TMPDIR/before.xml" "$BATS_TEST_TMPDIR/after.xml"
}

@test "attach refuses a device the domain already has" {
	refused "vsmmuctl: 0000:01:00.0 is already assigned to domain '$DOM' (in its definition)" \
		attach "$DOM" 0000:01:00.0
}

@test "attach refuses a device with no SMMUv3, and one that does not exist" {
	refused "vsmmuctl: 0002:01:00.0 has no SMMUv3: it has no iommu link in sysfs" \
		attach "$DOM" 0002:01:00.0 --config
	refused "0002:07:00.0: no such PCI device" attach "$DOM" 0002:07:00.0 --config
	refused "vsmmuctl: '2:1:0.0' is not a PCI address DDDD:BB:SS.F (e.g. 0009:01:00.0)" \
		attach "$DOM" 2:1:0.0
}

@test "attach --live on a domain that is not running: refused" {
	refused "domain '$DOM' is not running: --live needs a running domain" \
		attach "$DOM" 0000:01:00.1 --live
}

@test "detach --config frees the port again; check accepts the domain" {
	run ctl detach "$DOM" 0000:01:00.1
	assert_success
	assert_output "$DOM: 0000:01:00.1 removed from the definition; its root port is free again"
	definition "$DOM" >"$BATS_TEST_TMPDIR/def.xml"
	! grep -q "function='0x1'" "$BATS_TEST_TMPDIR/def.xml"
	run "$TOP/build/vsmmuctl" --sysfs "$SYS" check "$BATS_TEST_TMPDIR/def.xml"
	assert_success
	run ctl show "$DOM"
	[ "$(grep -c 'free slot (vsmmuctl attach)' <<<"$output")" -eq 1 ]
	refused "vsmmuctl: 0000:01:00.1 is not assigned to domain '$DOM' (in its definition): nothing to detach" \
		detach "$DOM" 0000:01:00.1
}

@test "attach --config of a device behind an SMMU no expander mirrors: the next start gets one" {
	run ctl attach "$DOM" 0010:01:00.0 --config
	assert_success
	assert_output --regexp "0010:01:00\.0 added to the definition on root port pci\.[0-9]+ of expander pci\.[0-9]+ \(mirrors smmu3\.0x0000100011000000\); expander and root port are new: the next start creates them"
	definition "$DOM" >"$BATS_TEST_TMPDIR/def.xml"
	run "$TOP/build/vsmmuctl" --sysfs "$SYS" check "$BATS_TEST_TMPDIR/def.xml"
	assert_success
	run ctl detach "$DOM" 0010:01:00.0 --config
	assert_success
	definition "$DOM" >"$BATS_TEST_TMPDIR/back.xml"
	[ "$(grep -c "model='pcie-expander-bus'" "$BATS_TEST_TMPDIR/back.xml")" -eq 1 ]
}

# A running (paused, no firmware, no VFIO) managed domain: an expander for
# the NICs' SMMU with PORTS root ports (index 2, 3, ...), the plan the
# wrapper would have started it with, and the real QEMU as <emulator>.
running() { # NAME PORTS [CONFIG_ATTRS]
	local name=$1 ports=$2 attrs=${3:-} i ctrls="" jports=""
	for ((i = 0; i < ports; i++)); do
		ctrls+="<controller type='pci' index='$((i + 2))' model='pcie-root-port'><target chassis='$((i + 2))' port='0x$((i * 8))'/><address type='pci' domain='0x0000' bus='0x01' slot='0x0$i' function='0x0'/></controller>"
		jports+="${jports:+,}{\"bus\":\"pci.1\",\"chassis\":$((i + 2)),\"id\":\"pci.$((i + 2))\",\"index\":$((i + 2)),\"port\":$((i * 8)),\"slot\":$i}"
	done
	cat >"$BATS_TEST_TMPDIR/$name.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel' $attrs><vsmmu:expander index='1' smmu='$NIC_SMMU'/></vsmmu:config></metadata>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type></os>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <emulator>$QEMU</emulator>
    <controller type='usb' model='none'/>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-expander-bus'><target busNr='248'/><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></controller>
    $ctrls
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:env name='VSMMU_PLAN' value='{"expanders":[{"bus_nr":248,"id":"pci.1","index":1,"slot":1,"smmu":"$NIC_SMMU","vsmmu":{"accel":true,"id":"vsmmu.1"}}],"hostdevs":[],"iommufd":"iommufd0","mode":"accel","root_ports":[$jports],"topology":"persistent","version":1}'/>
  </qemu:commandline>
</domain>
XML
	vsmmu_virsh define "$BATS_TEST_TMPDIR/$name.xml" >/dev/null
	vsmmu_virsh start --paused "$name" >/dev/null
}

stop() { vsmmu_virsh destroy "$1" >/dev/null; vsmmu_virsh undefine "$1" >/dev/null; }

@test "attach to a running domain: each refusal before anything changes" {
	running vsmmu-live 1
	running vsmmu-full 0
	running vsmmu-rt 1 "topology='runtime'"
	definition vsmmu-live >"$BATS_TEST_TMPDIR/before.xml"
	vsmmu_virsh dumpxml vsmmu-live >"$BATS_TEST_TMPDIR/before-live.xml"
	# A free port on the right expander, but the wrapper's iommufd is not
	# there for a hot-plugged vfio-pci (libvirt 9.0 cannot give it one).
	# Without flags: the running domain and its definition, refused as one.
	refused "vsmmuctl: domain 'vsmmu-live' gets iommufd from the vsmmu wrapper, which adds iommufd= to vfio-pci only at start" \
		attach vsmmu-live 0000:01:00.1
	assert_output --partial "'vsmmuctl attach vsmmu-live 0000:01:00.1 --config'"
	refused "0009:01:00.0 is already assigned to domain 'vsmmu-other' (in its definition)" \
		attach vsmmu-live 0009:01:00.0 --live
	refused "no expander of running domain 'vsmmu-live' mirrors smmu3.0x0000100012000000, the SMMU 0012:01:00.0 is behind, and vSMMUs cannot be hot-plugged: 'vsmmuctl attach vsmmu-live 0012:01:00.0 --config'" \
		attach vsmmu-live 0012:01:00.0 --live
	refused "expander pci.1 of running domain 'vsmmu-full' has no free root port (0 in use; spare-ports='0'): raise spare-ports" \
		attach vsmmu-full 0000:01:00.1 --live
	refused "domain 'vsmmu-rt' uses topology='runtime': its expanders exist only in QEMU's command line" \
		attach vsmmu-rt 0000:01:00.1 --live
	# The GPU on socket 1 is on the nvidia driver: in use by the host.
	refused "0019:01:00.0 is bound to the host driver nvidia, in use by the host" \
		attach vsmmu-live 0019:01:00.0 --live
	refused "vsmmuctl: 0000:01:00.1 is not assigned to domain 'vsmmu-live' (running): nothing to detach" \
		detach vsmmu-live 0000:01:00.1 --live
	definition vsmmu-live >"$BATS_TEST_TMPDIR/after.xml"
	cmp "$BATS_TEST_TMPDIR/before.xml" "$BATS_TEST_TMPDIR/after.xml"
	vsmmu_virsh dumpxml vsmmu-live >"$BATS_TEST_TMPDIR/after-live.xml"
	cmp "$BATS_TEST_TMPDIR/before-live.xml" "$BATS_TEST_TMPDIR/after-live.xml"
	stop vsmmu-live
	stop vsmmu-full
	stop vsmmu-rt
}

@test "attach without flags on a shut-off domain changes only its definition" {
	run ctl attach "$DOM" 0000:01:00.1
	assert_success
	assert_output --regexp "^$DOM: 0000:01:00\.1 added to the definition"
	refute_output --partial "attached on"
	run ctl detach "$DOM" 0000:01:00.1
	assert_success
}
