#!/usr/bin/env bats
# A fleet host: a domain exactly as OpenStack Nova's libvirt driver writes
# it (<nova:instance> metadata, no <emulator>, UEFI, PCI hostdevs with no
# <driver> and no guest address or one on bus 0, Nova's pcie-root-ports,
# optionally its machine-wide <iommu model="smmuv3"/> from
# hw_viommu_model) goes through the whole path with nothing but
# vsmmu.conf's `manage = hostdevs`:
#   1. the hook at prepare begin and start begin (the fake Grace sysfs);
#   2. a real libvirtd (12.9, the test stack: tests/lib/stack.bash; it has
#      the /dev/vfio/vfio that libvirt needs to resolve Nova's driver-less
#      hostdevs to VFIO, which the 9.0 namespace cannot fake) defines it
#      and gives its argv (domxml-to-native) with its default QEMU path;
#   3. the wrapper at that path, put there by `vsmmuctl emulator install`
#      as on a Debian host (in the stack's throwaway overlay: QEMU diverted
#      to .real), builds the topology into that argv (dry run: under TCG no
#      accelerated vSMMU can run).
# Under the default `manage = marked` the same domain passes untouched.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/stack'
load '../lib/hookenv'

DEFAULT_QEMU=/usr/bin/qemu-system-aarch64
REAL_QEMU=/usr/bin/qemu-system-aarch64.real
WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
# Three SMMUs in use: a GPU on each socket's GPU SMMU and a NIC function.
HOSTDEVS="0009:01:00.0 0010:01:00.0 0000:01:00.0"

# nova_xml NAME UUID [EXTRA_DEVICES]: Nova's shape (lxml's double quotes).
nova_xml() {
	local bdf d b s f i=0
	cat <<XML
<domain type="qemu">
  <uuid>$2</uuid>
  <name>$1</name>
  <memory>524288</memory>
  <vcpu>2</vcpu>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="31.0.0"/>
      <nova:name>gpu-vm</nova:name>
      <nova:creationTime>2026-12-02 10:00:00</nova:creationTime>
      <nova:flavor name="g1.grace">
        <nova:memory>512</nova:memory>
        <nova:disk>1</nova:disk>
        <nova:swap>0</nova:swap>
        <nova:ephemeral>0</nova:ephemeral>
        <nova:vcpus>2</nova:vcpus>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="8e1f7a1c7b2e4c0f9d8a6b5c4d3e2f1a">admin</nova:user>
        <nova:project uuid="0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5">admin</nova:project>
      </nova:owner>
      <nova:root type="image" uuid="1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b"/>
    </nova:instance>
  </metadata>
  <sysinfo type="smbios">
    <system>
      <entry name="manufacturer">OpenStack Foundation</entry>
      <entry name="product">OpenStack Nova</entry>
    </system>
  </sysinfo>
  <os>
    <type arch="aarch64" machine="virt">hvm</type>
    <loader readonly="yes" type="pflash">$AAVMF_CODE</loader>
    <nvram template="$AAVMF_VARS"/>
    <boot dev="hd"/>
    <smbios mode="sysinfo"/>
  </os>
  <features>
    <acpi/>
    <gic version="3"/>
  </features>
  <cpu mode="custom" match="exact">
    <model>cortex-a57</model>
    <topology sockets="2" cores="1" threads="1"/>
  </cpu>
  <clock offset="utc"/>
  <devices>
    <controller type="pci" model="pcie-root"/>
    <controller type="pci" model="pcie-root-port"/>
    <controller type="pci" model="pcie-root-port"/>
    <controller type="usb" model="qemu-xhci"/>
    <serial type="pty"/>
XML
	for bdf in $HOSTDEVS; do
		IFS=':.' read -r d b s f <<<"$bdf"
		printf '    <hostdev mode="subsystem" type="pci" managed="yes">\n'
		printf '      <source>\n        <address bus="0x%s" domain="0x%s" function="0x%s" slot="0x%s"/>\n      </source>\n' "$b" "$d" "$f" "$s"
		# One as an integrated endpoint on bus 0 (pcie.0), the others where libvirt puts them.
		[ $i != 0 ] || printf '      <address type="pci" domain="0x0000" bus="0x00" slot="0x05" function="0x0"/>\n'
		printf '    </hostdev>\n'
		i=$((i + 1))
	done
	printf '%s' "${3:-}"
	cat <<XML
    <memballoon model="virtio">
      <stats period="10"/>
    </memballoon>
    <rng model="virtio">
      <backend model="random">/dev/urandom</backend>
    </rng>
  </devices>
</domain>
XML
}

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export HOOK=$TOP/build/vsmmu-hook
	local why t=$BATS_FILE_TMPDIR name
	why=$(vsmmu_libvirt_missing)
	[ -n "$why" ] || why=$(vsmmu_stack_missing)
	if [ -n "$why" ]; then
		export NOVA_SKIP="$why"
		return 0
	fi
	vsmmu_stack_ensure
	"$TOP/tests/fixtures/mkhost" grace "$t/sys" >/dev/null
	chmod -R a+rX "$t"
	vsmmu_stack_start
	vsmmu_stack_install_vsmmu "$TOP/build"
	# The hook runs outside, on the fake tree: a start here would meet the
	# stack's /sys, which has no SMMU.
	vsmmu_stack rm -f /etc/libvirt/hooks/qemu.d/vsmmu
	# vsmmu.conf as the package installs it; emulator install edits its qemu line.
	vsmmu_stack install -D -m 0644 "$TOP/examples/vsmmu.conf" /etc/vsmmu/vsmmu.conf
	vsmmu_stack /usr/local/bin/vsmmuctl emulator install >/dev/null
	vsmmu_libvirtd12_start
	for name in nova-plain nova-viommu; do
		if [ $name = nova-plain ]; then
			nova_xml $name 5c6d9a3e-2f4b-4b7a-9c3e-0d1e2f3a4b5c
		else
			nova_xml $name 7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a '    <iommu model="smmuv3"/>
'
		fi >"$t/$name.xml"
		vsmmu_virsh12 define "$t/$name.xml" >/dev/null
		vsmmu_virsh12 dumpxml --inactive $name >"$t/$name.defined.xml"
		vsmmu_virsh12 domxml-to-native qemu-argv --domain $name >"$t/$name.native"
		(
			eval "set -- $(cat "$t/$name.native")"
			while [ $# -gt 0 ] && [ "${1#*=}" != "$1" ] && [ "${1#-}" = "$1" ]; do shift; done
			printf '%s\n' "$@"
		) >"$t/$name.argv"
	done
}

teardown_file() {
	[ -n "${NOVA_SKIP:-}" ] || vsmmu_stack_stop
}

setup() {
	[ -z "${NOVA_SKIP:-}" ] || skip "$NOVA_SKIP"
	hook_env_setup
	# Where the wrapper's pass-through lands in these tests: a recorder.
	printf '#!/bin/sh\nprintf "%%s\\n" "$0" "$@" >"%s"\n' "$T/exec" >"$T/record"
	chmod 0755 "$T/record"
	printf 'qemu = %s\n' "$T/record" >>"$CONF"
}

# nova_hook NAME OP SUBOP: the hook as libvirt runs it (hookenv), on the
# definition libvirt holds.
nova_hook() { hook "$1" "$2" "$3" <"$F/$1.defined.xml"; }

# default_qemu NAME: libvirt's argv for NAME run through what sits at the
# default QEMU path in the namespace; the final argv, one per line.
default_qemu() {
	local -a argv
	mapfile -t argv <"$F/$1.argv"
	[ "${argv[0]}" = "$DEFAULT_QEMU" ]
	vsmmu_stack env -i VSMMU_SYSFS="$F/sys" VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" \
		VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$DEFAULT_QEMU" "${argv[@]:1}"
}

# The value of key in a JSON -device line.
prop() { sed -n "s/.*\"$2\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<<"$1"; }

@test "libvirt takes Nova's domain as written: no <emulator> (its default QEMU), hostdevs with ids hostdevN, one on pcie.0" {
	! grep -q '<emulator>' "$F/nova-plain.xml"
	grep -qF "<emulator>$DEFAULT_QEMU</emulator>" "$F/nova-plain.defined.xml"
	local i
	for i in 0 1 2; do
		grep -q "\"driver\":\"vfio-pci\".*\"id\":\"hostdev$i\"" "$F/nova-plain.argv"
	done
	grep -q '"driver":"vfio-pci","host":"0009:01:00.0","id":"hostdev0","bus":"pcie.0","addr":"0x5"' "$F/nova-plain.argv"
	grep -A1 -x -- -machine "$F/nova-viommu.argv" | grep -q 'iommu=smmuv3'
}

@test "manage = hostdevs: the hook plans at start; the wrapper at the default QEMU path gives one accel vSMMU per SMMU in use and one iommufd" {
	printf 'manage = hostdevs\n' >>"$T/vsmmu.conf"
	run --separate-stderr nova_hook nova-plain prepare begin
	assert_success
	run --separate-stderr nova_hook nova-plain start begin
	assert_success
	S="$T/run/nova-plain/state.json"
	grep -qF '"topology": "runtime"' "$S"
	grep -qF '"managed": true' "$S"
	run --separate-stderr default_qemu nova-plain
	assert_success
	[[ $stderr == "vsmmu-qemu: injected iommufd0, 3 vSMMUs"* ]] || { echo "$stderr"; false; }
	mapfile -t out <<<"$output"
	[ "${out[0]}" = "$T/record" ]
	local -A driver bus
	local line id
	for line in "${out[@]}"; do
		[[ $line == '{"driver":'* ]] || continue
		id=$(prop "$line" id)
		[ -n "$id" ] || continue
		driver[$id]=$(prop "$line" driver)
		bus[$id]=$(prop "$line" bus)
	done
	[ "$(grep -c '"driver":"arm-smmuv3"' <<<"$output")" -eq 3 ]
	[ "$(grep -c '"driver":"arm-smmuv3".*"accel":true' <<<"$output")" -eq 3 ]
	[ "$(grep -c '"qom-type":"iommufd"' <<<"$output")" -eq 1 ]
	# Each hostdev: vfio-pci -> root port -> its own pxb-pcie, whose vSMMU is
	# the one on that expander, and the SMMU the hook recorded is its host's.
	declare -A want=([0009:01:00.0]=smmu3.0x0000000016000000 [0010:01:00.0]=smmu3.0x0000100011000000
		[0000:01:00.0]=smmu3.0x0000000011000000)
	local -A seen
	for line in "${out[@]}"; do
		[[ $line == *'"driver":"vfio-pci"'* ]] || continue
		local host port exp
		host=$(prop "$line" host) port=$(prop "$line" bus)
		[ "${driver[$port]}" = pcie-root-port ]
		exp=${bus[$port]}
		[ "${driver[$exp]}" = pxb-pcie ]
		[ -z "${seen[$exp]:-}" ]
		seen[$exp]=$host
		[[ $line == *'"iommufd":"iommufd0"'* ]]
		grep -q "\"driver\":\"arm-smmuv3\",\"primary-bus\":\"$exp\"" <<<"$output"
		grep -A5 "\"bdf\": \"$host\"" "$S" | grep -qF "\"smmu\": \"${want[$host]}\""
	done
	[ "${#seen[@]}" -eq 3 ]
	# The definition libvirt holds is as Nova wrote it: the policy never rewrites.
	run --separate-stderr nova_hook nova-plain migrate begin
	assert_success
	assert_output ''
	run --separate-stderr nova_hook nova-plain release end
	assert_success
	[ ! -e "$T/run/nova-plain" ]
}

@test "manage = hostdevs with Nova's machine-wide <iommu model='smmuv3'/>: it becomes an emulated vSMMU on pcie.0 beside the per-SMMU ones" {
	printf 'manage = hostdevs\n' >>"$T/vsmmu.conf"
	nova_hook nova-viommu prepare begin
	nova_hook nova-viommu start begin
	run --separate-stderr default_qemu nova-viommu
	assert_success
	local machine
	machine=$(grep -A1 -x -- '-machine' <<<"$output" | tail -1)
	[[ $machine == virt* ]]
	[[ $machine != *iommu=smmuv3* ]]
	[ "$(grep -c '"driver":"arm-smmuv3"' <<<"$output")" -eq 4 ]
	local root
	root=$(grep '"driver":"arm-smmuv3","primary-bus":"pcie.0"' <<<"$output")
	[ "$(wc -l <<<"$root")" -eq 1 ]
	[[ $root != *'"accel":true'* ]]
	[ "$(grep -c '"driver":"arm-smmuv3".*"accel":true' <<<"$output")" -eq 3 ]
	nova_hook nova-viommu release end
}

@test "manage = marked (the default): the hook leaves Nova's domain alone and the wrapper at the default QEMU path passes libvirt's argv untouched" {
	run --separate-stderr nova_hook nova-plain prepare begin
	assert_success
	[ -z "$output$stderr" ]
	run --separate-stderr nova_hook nova-plain start begin
	assert_success
	[ -z "$output$stderr" ]
	[ ! -e "$T/run/nova-plain" ]
	run --separate-stderr default_qemu nova-plain
	assert_success
	[ -z "$stderr" ]
	# The real QEMU (here the recorder) got libvirt's argv, argument for argument.
	diff <(tail -n +2 "$F/nova-plain.argv") <(tail -n +2 "$T/exec")
	[ "$(head -1 "$T/exec")" = "$T/record" ]
}

@test "manage = hostdevs, the hook not run (libvirtd not restarted after install): the wrapper at the default QEMU path refuses the start" {
	printf 'manage = hostdevs\n' >>"$T/vsmmu.conf"
	run --separate-stderr default_qemu nova-plain
	assert_failure 1
	[[ $stderr == "vsmmu-qemu: nova-plain: the vsmmu hook did not run for this start"*"restart libvirtd"* ]]
	[ ! -e "$T/exec" ]
}

@test "libvirt probes the wrapper at its default QEMU path and sees the real QEMU's aarch64 virt" {
	run vsmmu_stack /usr/local/bin/vsmmuctl emulator status
	assert_success
	[ "$(vsmmu_stack readlink "$DEFAULT_QEMU")" = "$WRAPPER" ]
	run vsmmu_virsh12 domcapabilities --arch aarch64 --machine virt --virttype qemu
	assert_success
	assert_output --partial "<path>$DEFAULT_QEMU</path>"
	assert_output --regexp "<machine>virt-[0-9.]+</machine>"
}
