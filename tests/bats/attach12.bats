#!/usr/bin/env bats
# vsmmuctl attach/detach --config against libvirt 12.9 and QEMU 11.1 (the
# Debian 13 test stack, tests/lib/stack.bash), in both forms: the wrapper
# form (<emulator> the wrapper, VSMMU_PLAN) and the native form (libvirt's
# per-bus <iommu>, its own iommufd). After each attach, check and the
# hook's prepare accept the definition, and libvirt's argv
# (domxml-to-native; for the wrapper form also the wrapper's dry run on it)
# puts the device behind the expander, and the vSMMU, of its SMMU. Then a
# guest boots the wrapper form's topology with the attached device, each
# device behind its own vSMMU (tests/lib/guest.bash, vfio-pci replaced by
# emulated NICs). No domain with a VFIO device, and no accel=on domain
# (KVM), can start here: --live is refused before libvirt for the wrapper
# form (its reason checked on a running 12.9 domain), and its device XML
# for the native form is checked in tests/unit/test_attach.c.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/stack'
load '../lib/guest'
load '../lib/hookenv'

WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
NIC_SMMU=smmu3.0x0000000011000000     # 0000:01:00.0 and 0000:01:00.1
NIC1_SMMU=smmu3.0x0000100011000000    # 0010:01:00.0, socket 1

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local why
	why=$(vsmmu_libvirt_missing xmllint jq)
	[ -n "$why" ] || why=$(vsmmu_stack_missing)
	if [ -n "$why" ]; then
		export A12_SKIP="$why"
		return 0
	fi
	export F=$BATS_FILE_TMPDIR B=$TOP/build HOOK=$TOP/build/vsmmu-hook
	vsmmu_stack_ensure
	"$TOP/tests/fixtures/mkhost" grace "$F/sys" >/dev/null
	chmod -R a+rX "$F"
	vsmmu_stack_start
	vsmmu_stack_install_vsmmu "$B"
	# The fake tree is not the stack's /sys: a start would meet the
	# hook's checks against a host without SMMUs. The hook runs here,
	# outside, on the fake tree (hookenv).
	vsmmu_stack rm -f /etc/libvirt/hooks/qemu.d/vsmmu
	vsmmu_libvirtd12_start
	export LIBVIRT12 QEMU11
	LIBVIRT12=$(vsmmu_stack_version libvirt)
	QEMU11=$(vsmmu_stack_version qemu)
}

teardown_file() {
	[ -n "${A12_SKIP:-}" ] || vsmmu_stack_stop
}

setup() {
	[ -z "${A12_SKIP:-}" ] || skip "$A12_SKIP"
	hook_env_setup
	cd "$BATS_TEST_TMPDIR"
}

# Each test's domains go with it: a device another definition holds is
# refused (as it should be).
teardown() {
	[ -z "${A12_SKIP:-}" ] || return 0
	local d
	for d in $(vsmmu_virsh12 list --all --name 2>/dev/null); do
		vsmmu_virsh12 destroy "$d" >/dev/null 2>&1 || true
		vsmmu_virsh12 undefine --nvram "$d" >/dev/null 2>&1 || true
	done
}

# vsmmuctl inside the stack, against libvirt 12.9, on the fake Grace tree.
ctl12() {
	vsmmu_stack env VSMMU_WRAPPER="$WRAPPER" VSMMU_BACKUPDIR="$F/backup" VSMMU_CONF=/dev/null \
		vsmmuctl --sysfs "$F/sys" -c qemu:///system "$@"
}

# mkdom NAME EMULATOR BDF: an aarch64 TCG domain with UEFI and ACPI,
# managed (spare-ports='1'), one hostdev.
mkdom() {
	local d b s f
	IFS=':.' read -r d b s f <<<"$3"
	cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel' spare-ports='1'/></metadata>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <loader readonly='yes' type='pflash'>$AAVMF_CODE</loader>
    <nvram template='$AAVMF_VARS'/>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <emulator>$2</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <driver name='vfio'/>
      <source><address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source>
    </hostdev>
  </devices>
</domain>
XML
}

# defined NAME EMULATOR BDF FORM: define it in libvirt 12.9, apply --FORM.
defined() {
	vsmmu_virsh12 undefine --nvram "$1" >/dev/null 2>&1 || true
	mkdom "$1" "$2" "$3" >"$1.xml"
	vsmmu_virsh12 define "$1.xml" >/dev/null
	ctl12 apply "$1" "--$4" >/dev/null
}

definition() { vsmmu_virsh12 dumpxml --inactive "$1"; }
xpath() { xmllint --xpath "string($2)" "$1"; }

# where XML BDF: "PORT EXPANDER" the definition gives the hostdev.
where() {
	local port
	port=$(xpath "$1" "//hostdev[source/address/@domain='0x${2%%:*}'][source/address/@function='0x${2##*.}'][source/address/@bus='0x$(cut -d: -f2 <<<"$2")']/address/@bus")
	echo "$((port)) $(($(xpath "$1" "//controller[@index=$((port))]/address/@bus")))"
}

# accepted XML: check and the hook's prepare (as libvirt runs it) accept it.
accepted() {
	run "$B/vsmmuctl" --sysfs "$SYS" check "$1"
	assert_success
	run --separate-stderr hook "$(xpath "$1" /domain/name)" prepare begin <"$1"
	assert_success
	[ -z "$stderr" ]
}

# native_argv NAME: libvirt 12.9's argv for the domain, one JSON -device a line.
native_argv() {
	run vsmmu_virsh12 domxml-to-native qemu-argv --domain "$1"
	assert_success
	tr ' ' '\n' <<<"$output" | sed "s/^'//; s/'$//" >"$1.argv"
}

@test "wrapper form, libvirt 12.9: attach --config takes the spare port; check, prepare and libvirt's argv put it behind its SMMU's expander" {
	defined a12w "$WRAPPER" 0000:01:00.0 wrapper
	run ctl12 attach a12w 0000:01:00.1 --config
	assert_success
	assert_output --regexp "^a12w: 0000:01:00\.1 added to the definition on root port pci\.[0-9]+ of expander pci\.[0-9]+ \(mirrors $NIC_SMMU\)$"
	definition a12w >def.xml
	accepted def.xml
	local port exp
	read -r port exp < <(where def.xml 0000:01:00.1)
	[ "$(xpath def.xml "//controller[@index=$exp]/@model")" = pcie-expander-bus ]
	[ "$(xpath def.xml "//*[local-name()='expander'][@index=$exp]/@smmu")" = "$NIC_SMMU" ]
	native_argv a12w
	grep -q "^{\"driver\":\"pxb-pcie\",\"bus_nr\":[0-9]*,\"id\":\"pci.$exp\",\"bus\":\"pcie.0\"" a12w.argv
	grep -q "^{\"driver\":\"pcie-root-port\",.*\"id\":\"pci.$port\",\"bus\":\"pci.$exp\"" a12w.argv
	grep -q "^{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.1\",\"id\":\"hostdev[0-9]*\",\"bus\":\"pci.$port\",\"addr\":\"0x0\"" a12w.argv
	# The wrapper, on libvirt's argv and environment, puts the vSMMU of
	# that expander on it and gives the device iommufd.
	local -a words envs=() args=()
	run vsmmu_virsh12 domxml-to-native qemu-argv --domain a12w
	eval "words=($output)"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$w"); else args+=("$w"); fi
	done
	[ "${args[0]}" = "$WRAPPER" ]
	run --separate-stderr env -i "${envs[@]}" VSMMU_SYSFS="$SYS" VSMMU_CONF=/nonexistent \
		VSMMU_QEMU=/bin/true VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$B/vsmmu-qemu" "${args[@]:1}"
	assert_success
	printf '%s\n' "${lines[@]}" >a12w.final
	grep -q "\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.$exp\"" a12w.final
	grep -q "^{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.1\",.*\"bus\":\"pci.$port\".*\"iommufd\":\"iommufd0\"" a12w.final
}

@test "wrapper form, libvirt 12.9: a guest boots the definition with the attached device, each device behind its own vSMMU" {
	[ "${VSMMU_GUEST_BOOTS:-1}" != 0 ] || skip "VSMMU_GUEST_BOOTS=0"
	[ -s "$F/initrd" ] || vsmmu_guest_initrd "$F/initrd"
	export VSMMU_GUEST_INITRD=$F/initrd
	defined a12g "$WRAPPER" 0000:01:00.0 wrapper
	ctl12 attach a12g 0010:01:00.0 --config >/dev/null
	definition a12g >def.xml
	accepted def.xml
	local -a words envs=() args=()
	run vsmmu_virsh12 domxml-to-native qemu-argv --domain a12g
	assert_success
	eval "words=($output)"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$w"); else args+=("$w"); fi
	done
	run --separate-stderr env -i "${envs[@]}" VSMMU_SYSFS="$SYS" VSMMU_CONF=/nonexistent \
		VSMMU_QEMU=/bin/true VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$B/vsmmu-qemu" "${args[@]:1}"
	assert_success
	printf '%s\n' "${lines[@]}" >g.final
	# What guest-check expects: each hostdev on the expander mirroring its
	# SMMU (host scan + metadata), each expander's vSMMU (the plan).
	"$B/vsmmuctl" --sysfs "$SYS" host --json |
		jq -r '.pci_devices[] | select(.smmu != null) | "\(.bdf) \(.smmu)"' |
		grep -E '^(0000:01:00\.0|0010:01:00\.0) ' >smmu-of
	grep -o "<vsmmu:expander [^>]*>" def.xml |
		sed -E "s/.*index=.([0-9]+).*smmu=.([^'\"]+).*/\2 pci.\1/" >expander-of
	{
		awk 'NR == FNR { x[$1] = $2; next } $2 in x { print "hostdev", $1, x[$2] }' expander-of smmu-of
		xmllint --xpath "string(//*[local-name()='env'][@name='VSMMU_PLAN']/@value)" def.xml |
			jq -r '.expanders[] | select(.vsmmu != null) | "vsmmu \(.id) \(.vsmmu.id)"'
	} >facts
	[ "$(grep -c '^hostdev ' facts)" = 2 ] && [ "$(grep -c '^vsmmu ' facts)" = 2 ]
	run vsmmu_guest_boot g.final boot
	[ "$status" = 0 ] || { tail -20 boot/monitor; tail -40 boot/console; false; }
	run "$TOP/tests/guest/guest-check" facts g.final boot/map boot/smmus boot/report
	echo "$output"
	assert_success
	echo "# booted a12g with 0010:01:00.0 attached by --config (libvirt $LIBVIRT12, QEMU $QEMU11): $(vsmmu_guest_summary boot)" >&3
}

@test "native form, libvirt 12.9: attach --config keeps libvirt's per-bus vSMMUs; libvirt's argv puts the device behind the expander of its SMMU" {
	defined a12n /usr/bin/qemu-system-aarch64 0000:01:00.0 native
	definition a12n >before.xml
	[ "$(grep -c "<iommu model='smmuv3'>" before.xml)" = 1 ]
	run ctl12 attach a12n 0000:01:00.1 --config
	assert_success
	assert_output --regexp "^a12n: 0000:01:00\.1 added to the definition on root port pci\.[0-9]+ of expander pci\.[0-9]+ \(mirrors $NIC_SMMU\)$"
	definition a12n >def.xml
	accepted def.xml
	! grep -q VSMMU_PLAN def.xml
	[ "$(grep -c "<iommu model='smmuv3'>" def.xml)" = 1 ]
	grep -q "<iommufd enabled='yes'/>" def.xml
	local port exp
	read -r port exp < <(where def.xml 0000:01:00.1)
	grep -q "<driver pciBus='$exp' accel='on'/>" def.xml
	native_argv a12n
	grep -q "^{\"driver\":\"pcie-root-port\",.*\"id\":\"pci.$port\",\"bus\":\"pci.$exp\"" a12n.argv
	grep -q "^{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.$exp\",\"id\":\"iommu0\",\"accel\":true" a12n.argv
	grep -q "^{\"driver\":\"vfio-pci\",.*\"bus\":\"pci.$port\",\"addr\":\"0x0\"" a12n.argv
	# Every vfio-pci takes libvirt's iommufd object.
	[ "$(grep -c '^{"driver":"vfio-pci"' a12n.argv)" = 2 ]
	[ "$(grep '^{"driver":"vfio-pci"' a12n.argv | grep -c '"iommufd":"iommufd0"')" = 2 ]
}

@test "native form, libvirt 12.9: attach --config behind an SMMU no expander mirrors adds an expander with its own vSMMU; detach takes it away" {
	defined a12x /usr/bin/qemu-system-aarch64 0000:01:00.0 native
	run ctl12 attach a12x 0010:01:00.0 --config
	assert_success
	assert_output --regexp "0010:01:00\.0 added to the definition on root port pci\.[0-9]+ of expander pci\.[0-9]+ \(mirrors $NIC1_SMMU\); expander and root port are new: the next start creates them"
	definition a12x >def.xml
	accepted def.xml
	local port exp
	read -r port exp < <(where def.xml 0010:01:00.0)
	[ "$(grep -c "<iommu model='smmuv3'>" def.xml)" = 2 ]
	grep -q "<driver pciBus='$exp' accel='on'/>" def.xml
	native_argv a12x
	[ "$(grep -c '^{"driver":"arm-smmuv3"' a12x.argv)" = 2 ]
	grep -q "^{\"driver\":\"arm-smmuv3\",\"primary-bus\":\"pci.$exp\"," a12x.argv
	grep -q "^{\"driver\":\"vfio-pci\",.*\"bus\":\"pci.$port\",\"addr\":\"0x0\"" a12x.argv
	run ctl12 detach a12x 0010:01:00.0 --config
	assert_success
	definition a12x >back.xml
	accepted back.xml
	[ "$(grep -c "<iommu model='smmuv3'>" back.xml)" = 1 ]
	[ "$(grep -c "model='pcie-expander-bus'" back.xml)" = 1 ]
}

@test "wrapper form, libvirt 12.9: attach --live to a running domain is refused with the reason, nothing changed" {
	# Running (paused, TCG, QEMU 11): an expander for the NICs' SMMU with a
	# spare port, the plan the wrapper would have started it with, QEMU itself
	# as <emulator> (no VFIO device can start here).
	cat >live.xml <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>a12l</name>
  <metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel'><vsmmu:expander index='1' smmu='$NIC_SMMU'/></vsmmu:config></metadata>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type></os>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <controller type='usb' model='none'/>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-expander-bus'><target busNr='248'/><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></controller>
    <controller type='pci' index='2' model='pcie-root-port'><target chassis='2' port='0x0'/><address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></controller>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:env name='VSMMU_PLAN' value='{"expanders":[{"bus_nr":248,"id":"pci.1","index":1,"slot":1,"smmu":"$NIC_SMMU","vsmmu":{"accel":true,"id":"vsmmu.1"}}],"hostdevs":[],"iommufd":"iommufd0","mode":"accel","root_ports":[{"bus":"pci.1","chassis":2,"id":"pci.2","index":2,"port":0,"slot":0}],"topology":"persistent","version":1}'/>
  </qemu:commandline>
</domain>
XML
	vsmmu_virsh12 define live.xml >/dev/null
	run vsmmu_virsh12 start --paused a12l
	assert_success
	vsmmu_virsh12 dumpxml a12l >before.xml
	run ctl12 attach a12l 0000:01:00.1 --live
	assert_failure 2
	assert_output --partial "vsmmuctl: domain 'a12l' gets iommufd from the vsmmu wrapper, which adds iommufd= to vfio-pci only at start"
	assert_output --partial "'vsmmuctl attach a12l 0000:01:00.1 --config' and restart the domain"
	assert_output --partial "libvirt >= 12.1's native form"
	[ "${#lines[@]}" = 1 ]
	vsmmu_virsh12 dumpxml a12l >after.xml
	cmp before.xml after.xml
}
