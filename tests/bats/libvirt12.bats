#!/usr/bin/env bats
# The native form, and the wrapper form on libvirt's own iommufd, against a
# real libvirt >= 12.9 (the Debian 13 stack: libvirt 12.9, QEMU 11.1): every
# native output vsmmuctl writes is defined, and libvirt's own argv
# (domxml-to-native) holds exactly one vSMMU per expander, with accel, and
# libvirt's iommufd; the wrapper, on libvirt's argv for the wrapper form
# with libvirt's iommufd, adds the vSMMUs and nothing else.
#
# Runs on the Debian 13 test stack (tests/lib/stack.bash: libvirtd 12.9
# in a private namespace, /dev/vfio/vfio and /sys/kernel/iommu_groups
# faked there, which libvirt 12.9 wants before it writes any vfio-pci
# argv; DESIGN.md) and skips, saying why, only where the stack cannot
# exist. vsmmuctl runs inside, against that daemon, on fake host trees.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/stack'

NEED=12.9.0

# VERSION (a.b.c) as a number (virConnectGetLibVersion's encoding).
version_number() {
	local a b c
	IFS=. read -r a b c <<<"$1"
	echo $((a * 1000000 + b * 1000 + ${c:-0}))
}

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export L12_SKIP
	L12_SKIP=$(vsmmu_stack_missing)
	local c
	for c in xmllint jq; do
		[ -n "$L12_SKIP" ] || command -v $c >/dev/null || L12_SKIP="$c not installed (tools/deps.sh test)"
	done
	[ -z "$L12_SKIP" ] || return 0
	vsmmu_stack_ensure
	local v
	v=$(vsmmu_stack_version libvirt)
	if [ "$(version_number "$v")" -lt "$(version_number $NEED)" ]; then
		L12_SKIP="the test stack runs libvirt $v; these need >= $NEED (tools/teststack.sh)"
		return 0
	fi
	"$TOP/tests/fixtures/mkhost" grace "$BATS_FILE_TMPDIR/grace" >/dev/null
	"$TOP/tests/fixtures/mkhost" kunpeng "$BATS_FILE_TMPDIR/kunpeng" >/dev/null
	"$TOP/build/vsmmuctl" --sysfs "$BATS_FILE_TMPDIR/grace" host --json >"$BATS_FILE_TMPDIR/grace.json"
	chmod -R a+rX "$BATS_FILE_TMPDIR"
	vsmmu_stack_start
	vsmmu_stack_install_vsmmu "$TOP/build"
	# Domains are only defined here, never started: no hook.
	vsmmu_stack rm -f /etc/libvirt/hooks/qemu.d/vsmmu
	vsmmu_libvirtd12_start
}

teardown_file() {
	[ -n "${L12_SKIP:-}" ] || vsmmu_stack_stop
}

setup() {
	[ -z "${L12_SKIP:-}" ] || skip "$L12_SKIP"
	cd "$BATS_TEST_TMPDIR"
}

l12() { vsmmu_virsh12 -q "$@"; }
# vsmmuctl inside the stack; -c qemu:///system there is libvirt 12.9.
ctl() { vsmmu_stack env VSMMU_CONF=/dev/null vsmmuctl "$@"; }
L12=qemu:///system

# An example domain as TCG on this host takes it: type qemu, a named CPU
# model, guest memory on host node 0 only, Debian's QEMU as <emulator>,
# no NIC (domxml-to-native opens /dev/net/tun for it), named NAME.
as_tcg() {
	sed -e "s/<domain type=.kvm.>/<domain type='qemu'>/; s|<name>[^<]*</name>|<name>$1</name>|" \
		-e "s|<cpu mode='host-passthrough'>|<cpu mode='custom' match='exact'>\n    <model>cortex-a57</model>|" \
		-e "s|nodeset='[^']*'|nodeset='0'|" -e '/<interface/,/<\/interface>/d' \
		-e "s|<emulator>[^<]*</emulator>|<emulator>/usr/bin/qemu-system-aarch64</emulator>|" "$2"
}

# define FILE as NAME, print its argv; undefine it afterwards.
argv_of() {
	l12 define "$1" >/dev/null || return 1
	l12 domxml-to-native qemu-argv --domain "$2"
	local rc=$?
	l12 undefine --nvram "$2" >/dev/null 2>&1 || l12 undefine "$2" >/dev/null
	return $rc
}

# ARGV holds one arm-smmuv3 per pxb-pcie that has a root port with a
# vfio-pci behind it (N of them), each on its own expander; ACCEL=1: with
# accel and exactly one iommufd object that every vfio-pci uses.
assert_vsmmus() {
	local argv=$1 n=$2 accel=$3 bus
	[ "$(grep -o '"driver":"arm-smmuv3"' <<<"$argv" | wc -l)" -eq "$n" ]
	[ "$(grep -o '"driver":"pxb-pcie"' <<<"$argv" | wc -l)" -eq "$n" ]
	for bus in $(grep -o '"driver":"pxb-pcie"[^}]*"id":"pci\.[0-9]*"' <<<"$argv" | grep -o 'pci\.[0-9]*'); do
		[ "$(grep -o "\"driver\":\"arm-smmuv3\",\"primary-bus\":\"$bus\"" <<<"$argv" | wc -l)" -eq 1 ]
	done
	if [ "$accel" = 1 ]; then
		[ "$(grep -o '"driver":"arm-smmuv3"[^}]*"accel":true' <<<"$argv" | wc -l)" -eq "$n" ]
		[ "$(grep -o '"qom-type":"iommufd"' <<<"$argv" | wc -l)" -eq 1 ]
		! grep -o '"driver":"vfio-pci"[^}]*}' <<<"$argv" | grep -v '"iommufd":"iommufd0"'
	else
		! grep -q '"accel":true\|"qom-type":"iommufd"' <<<"$argv"
	fi
}

@test "libvirt 12: the native form of both example domains is defined; one accel vSMMU per expander" {
	local argv
	as_tcg l12-grace "$TOP/examples/domains/grace-2gpu.xml" >g.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" -c $L12 rewrite --native g.xml >gn.xml
	argv=$(argv_of gn.xml l12-grace)
	assert_vsmmus "$argv" 2 1
	as_tcg l12-kunpeng "$TOP/examples/domains/kunpeng-nics.xml" >k.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/kunpeng" -c $L12 rewrite --native k.xml >kn.xml
	argv=$(argv_of kn.xml l12-kunpeng)
	assert_vsmmus "$argv" 3 1
}

@test "libvirt 12: emulated mode's native form: plain per-bus vSMMUs, no iommufd" {
	local argv
	# ats stays in our metadata: libvirt takes it only with accel.
	as_tcg l12-emu "$TOP/examples/domains/grace-2gpu.xml" | sed "s/mode='accel'/mode='emulated' ats='on'/" >e.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" rewrite --native e.xml >en.xml
	argv=$(argv_of en.xml l12-emu)
	assert_vsmmus "$argv" 2 0
}

@test "libvirt 12: the policy's settings reach each vSMMU" {
	local argv
	as_tcg l12-props "$TOP/examples/domains/grace-2gpu.xml" |
		sed "s/mode='accel'/mode='accel' ats='on' ril='off' ssidsize='20' oas='44'/" >p.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" rewrite --native p.xml >pn.xml
	argv=$(argv_of pn.xml l12-props)
	assert_vsmmus "$argv" 2 1
	[ "$(grep -o '"driver":"arm-smmuv3"[^}]*"ats":"on"' <<<"$argv" | wc -l)" -eq 2 ]
	[ "$(grep -o '"driver":"arm-smmuv3"[^}]*"ril":"off"' <<<"$argv" | wc -l)" -eq 2 ]
	[ "$(grep -o '"driver":"arm-smmuv3"[^}]*"ssidsize":"20"' <<<"$argv" | wc -l)" -eq 2 ]
	[ "$(grep -o '"driver":"arm-smmuv3"[^}]*"oas":"44"' <<<"$argv" | wc -l)" -eq 2 ]
}

@test "libvirt 12: apply picks the native form by itself and libvirt takes it" {
	as_tcg l12-apply "$TOP/examples/domains/grace-2gpu.xml" | sed '/vsmmu:config/d' >a.xml
	l12 undefine --nvram l12-apply >/dev/null 2>&1 || true
	l12 define a.xml >/dev/null
	run --separate-stderr vsmmu_stack env VSMMU_BACKUPDIR="$BATS_TEST_TMPDIR/backup" VSMMU_CONF=/dev/null \
		vsmmuctl --sysfs "$BATS_FILE_TMPDIR/grace" -c $L12 apply l12-apply
	assert_success
	grep -qF 'note: native form: libvirt 12.9' <<<"$stderr"
	run l12 dumpxml --inactive l12-apply
	[ "$(grep -c "<iommu model='smmuv3'>" <<<"$output")" -eq 2 ]
	refute_output --partial vsmmu-qemu
	run l12 domxml-to-native qemu-argv --domain l12-apply
	assert_success
	assert_vsmmus "$output" 2 1
	run ctl --sysfs "$BATS_FILE_TMPDIR/grace" -c $L12 apply l12-apply
	assert_output --partial 'definition already matches this host'
	l12 undefine --nvram l12-apply >/dev/null 2>&1 || l12 undefine l12-apply >/dev/null
}

@test "libvirt 12: libvirt's own per-bus domain and the smmuv3Dev proposal, adopted, are defined" {
	local argv
	cat >pb.xml <<'XML'
<domain type='qemu'>
  <name>l12-perbus</name>
  <memory unit='KiB'>1048576</memory>
  <metadata>
    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1'/>
  </metadata>
  <os firmware='efi'>
    <type arch='aarch64' machine='virt'>hvm</type>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-expander-bus'>
      <model name='pxb-pcie'/>
      <target busNr='252'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </controller>
    <controller type='pci' index='2' model='pcie-root-port'>
      <model name='pcie-root-port'/>
      <target chassis='21' port='0x0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </controller>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source>
        <address domain='0x0009' bus='0x01' slot='0x00' function='0x0'/>
      </source>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source>
        <address domain='0x0019' bus='0x01' slot='0x00' function='0x0'/>
      </source>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x1'/>
    </hostdev>
    <iommu model='smmuv3'>
      <driver pciBus='1' accel='on' ats='on'/>
    </iommu>
  </devices>
</domain>
XML
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" rewrite --native pb.xml >pbn.xml
	argv=$(argv_of pbn.xml l12-perbus)
	assert_vsmmus "$argv" 2 1
	sed -e "s|<iommu model='smmuv3'>|<iommu model='smmuv3Dev'>|; s|pciBus='1'|parentIdx='1'|; s|l12-perbus|l12-dev|; /vsmmu:config/d; /<metadata>/d; /<\/metadata>/d" pb.xml >dev.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" rewrite --native dev.xml >devn.xml
	argv=$(argv_of devn.xml l12-dev)
	assert_vsmmus "$argv" 2 1
}

WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu

# wrapped NAME: libvirt 12.9's argv for domain NAME into NAME.in (one
# argument a line, without the program), and what the wrapper (the build's,
# dry run, with the environment libvirt gives it: VSMMU_PLAN) makes of it
# on the fake Grace tree into NAME.out.
wrapped() {
	local -a words envs=() args=()
	local out w
	out=$(l12 domxml-to-native qemu-argv --domain "$1") || return 1
	eval "words=($out)"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$w"); else args+=("$w"); fi
	done
	[ "${args[0]}" = "$WRAPPER" ] || { echo "libvirt runs ${args[0]}, not the wrapper" >&2; return 1; }
	printf '%s\n' "${args[@]:1}" >"$1.in"
	env -i "${envs[@]}" VSMMU_SYSFS="$BATS_FILE_TMPDIR/grace" VSMMU_CONF=/nonexistent \
		VSMMU_QEMU=/bin/true VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$TOP/build/vsmmu-qemu" "${args[@]:1}" >"$1.out"
}

# devices_where FILE DRIVER KEY VALUE: the -device lines of DRIVER whose KEY is VALUE.
devices_where() { grep -F "{\"driver\":\"$2\"" "$1" | grep -F "\"$3\":\"$4\""; }
field() { grep -o "\"$1\":\"[^\"]*\"" | cut -d'"' -f4; }

# assert_on_libvirts_iommufd NAME: the wrapper's argv for NAME (two GPUs,
# one per Grace socket, libvirt's iommufd) is libvirt's with one accel
# arm-smmuv3 per expander added and nothing else: libvirt's iommufd0 the
# only iommufd object, every vfio-pci on it once, each behind the vSMMU of
# the expander the metadata built for its SMMU.
assert_on_libvirts_iommufd() {
	local n=$1 e p h smmu i=0
	# Nothing of libvirt's is changed, doubled or dropped.
	diff <(sed 1d "$n.out" | grep -v '"driver":"arm-smmuv3"' | grep -vx -- -device | sed '/^$/d') \
		<(grep -vx -- -device "$n.in")
	[ "$(grep -c '"qom-type":"iommufd"' "$n.out")" = 1 ]
	grep -qx '{"qom-type":"iommufd","id":"iommufd0"[,}].*' "$n.out"
	[ "$(grep -c '"driver":"pxb-pcie"' "$n.out")" = 2 ]
	[ "$(grep -c '"driver":"arm-smmuv3"' "$n.out")" = 2 ]
	for e in $(grep '"driver":"pxb-pcie"' "$n.out" | field id); do
		[ "$(devices_where "$n.out" arm-smmuv3 primary-bus "$e" | grep -c '"accel":true')" = 1 ]
	done
	[ "$(grep -c '"driver":"vfio-pci"' "$n.out")" = 2 ]
	[ "$(grep '"driver":"vfio-pci"' "$n.out" | grep -c '"iommufd":"iommufd0"')" = 2 ]
	[ "$(grep '"driver":"vfio-pci"' "$n.out" | grep -c '"iommufd".*"iommufd"\|"host"')" = 0 ]
	l12 dumpxml --inactive "$n" >"$n.xml"
	# hostdevN is the N-th <hostdev>: 0009:01:00.0 (socket 0), 0019:01:00.0.
	for h in 0009:01:00.0 0019:01:00.0; do
		p=$(devices_where "$n.out" vfio-pci id "hostdev$i" | field bus)
		e=$(devices_where "$n.out" pcie-root-port id "$p" | field bus)
		smmu=$(xmllint --xpath "string(//*[local-name()='expander'][@index='${e#pci.}']/@smmu)" "$n.xml")
		[ "$smmu" = "$(jq -r --arg b "$h" '.pci_devices[] | select(.bdf == $b) | .smmu' "$BATS_FILE_TMPDIR/grace.json")" ]
		[ "$(devices_where "$n.out" arm-smmuv3 primary-bus "$e" | wc -l)" = 1 ]
		i=$((i + 1))
	done
}

@test "libvirt 12: the wrapper form with libvirt's domain-wide <iommufd enabled='yes'/> (12.2): the wrapper uses libvirt's iommufd, one accel vSMMU per expander" {
	as_tcg l12-wfd "$TOP/examples/domains/grace-2gpu.xml" | sed "s|<emulator>[^<]*<|<emulator>$WRAPPER<|" >w.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" rewrite --wrapper w.xml |
		sed "s|^  <devices>|  <iommufd enabled='yes'/>\n&|" >wfd.xml
	grep -q VSMMU_PLAN wfd.xml
	l12 define wfd.xml >/dev/null
	wrapped l12-wfd
	assert_on_libvirts_iommufd l12-wfd
}

@test "libvirt 12: the wrapper form with per-hostdev <driver iommufd='yes'/> (12.1): the wrapper uses libvirt's iommufd, one accel vSMMU per expander" {
	as_tcg l12-hfd "$TOP/examples/domains/grace-2gpu.xml" |
		sed "s|<emulator>[^<]*<|<emulator>$WRAPPER<|; s|<source>|<driver iommufd='yes'/>\n&|" >h.xml
	ctl --sysfs "$BATS_FILE_TMPDIR/grace" rewrite --wrapper h.xml >hfd.xml
	[ "$(grep -c '<driver iommufd="yes" name="vfio"/>' hfd.xml)" = 2 ]
	# libvirt 12.9 takes the per-hostdev form only where /dev/iommu
	# exists (DESIGN.md); the stack's /dev is its own tmpfs.
	vsmmu_stack touch /dev/iommu
	l12 define hfd.xml >/dev/null
	wrapped l12-hfd
	assert_on_libvirts_iommufd l12-hfd
}

@test "libvirt 12: topology='runtime' on libvirt's own iommufd: the hook records libvirt's ids, the wrapper finds each vfio-pci (no host=) by it and builds the topology" {
	local T=$BATS_TEST_TMPDIR S=$BATS_FILE_TMPDIR/grace a n e
	{
		printf "<domain type='qemu'>\n  <name>l12-rt</name>\n"
		printf "  <metadata>\n    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' topology='runtime'/>\n  </metadata>\n"
		printf "  <memory unit='MiB'>512</memory>\n  <vcpu>1</vcpu>\n"
		printf "  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm</type>\n  </os>\n"
		printf "  <features><acpi/></features>\n"
		printf "  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>\n"
		printf "  <iommufd enabled='yes'/>\n"
		printf "  <devices>\n    <emulator>%s</emulator>\n" "$WRAPPER"
		# A USB hostdev first takes hostdev0: the PCI ones are hostdev1-4.
		printf "    <controller type='usb' model='qemu-xhci'/>\n"
		printf "    <hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>\n"
		for a in "0x0009 0x0" "0x0010 0x0" "0x0000 0x0" "0x0000 0x1"; do
			set -- $a
			printf "    <hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source><address domain='%s' bus='0x01' slot='0x00' function='%s'/></source></hostdev>\n" "$1" "$2"
		done
		printf "  </devices>\n</domain>\n"
	} >rt.xml
	l12 define rt.xml >/dev/null
	l12 dumpxml --inactive l12-rt >defined.xml
	[ "$(grep -c 'pcie-expander-bus' defined.xml)" = 0 ]
	# The hook at prepare and start, as libvirt runs it, on the fake tree.
	mkdir -p "$T/dev/vfio/devices"
	for n in iommu vfio/devices/vfio0 vfio/devices/vfio1 vfio/devices/vfio2 vfio/devices/vfio3; do
		mknod -m 0600 "$T/dev/$n" c 1 3
	done
	printf 'qemu_user = +%s\nqemu_group = +%s\n' "$(id -u)" "$(id -g)" >vsmmu.conf
	for a in prepare start; do
		env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin VSMMU_SYSFS="$S" VSMMU_DEV="$T/dev" \
			VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" "$TOP/build/vsmmu-hook" l12-rt $a begin - <defined.xml
	done
	jq -e '.plan.topology == "runtime" and ([.plan.hostdevs[].id] == ["hostdev1", "hostdev2", "hostdev3", "hostdev4"])' "$T/run/l12-rt/state.json"
	# libvirt's argv, through the wrapper with the hook's state.
	local -a words envs=() args=()
	local out w
	out=$(l12 domxml-to-native qemu-argv --domain l12-rt)
	eval "words=($out)"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$w"); else args+=("$w"); fi
	done
	printf '%s\n' "${args[@]:1}" >rt.in
	[ "$(grep -c '^{"driver":"vfio-pci","id":"hostdev[1-4]","iommufd":"iommufd0"' rt.in)" = 4 ]
	[ "$(grep -c '"driver":"vfio-pci","host"' rt.in)" = 0 ]
	run --separate-stderr env -i "${envs[@]}" VSMMU_SYSFS="$S" VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" \
		VSMMU_QEMU=/bin/true VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$TOP/build/vsmmu-qemu" "${args[@]:1}"
	assert_success
	printf '%s\n' "${lines[@]}" >rt.out
	grep -q "^vsmmu-qemu: injected iommufd0 (libvirt's), 3 vSMMUs" <<<"$stderr"
	[ "$(grep -c '"qom-type":"iommufd"' rt.out)" = 1 ]
	[ "$(grep -c '"driver":"pxb-pcie"' rt.out)" = 3 ]
	[ "$(grep -c '"driver":"arm-smmuv3".*"accel":true' rt.out)" = 3 ]
	for e in $(grep '"driver":"pxb-pcie"' rt.out | field id); do
		[ "$(devices_where rt.out arm-smmuv3 primary-bus "$e" | wc -l)" = 1 ]
	done
	# hostdevN is the N-th <hostdev>; each behind the expander of its SMMU.
	local i=1 h p smmu
	for h in 0009:01:00.0 0010:01:00.0 0000:01:00.0 0000:01:00.1; do
		p=$(devices_where rt.out vfio-pci id "hostdev$i" | field bus)
		e=$(devices_where rt.out pcie-root-port id "$p" | field bus)
		[ "$(devices_where rt.out pxb-pcie id "$e" | wc -l)" = 1 ]
		smmu=$(jq -r --argjson x "${e#pci.}" '.expanders[] | select(.index == $x) | .smmu' "$T/run/l12-rt/state.json")
		[ "$smmu" = "$(jq -r --arg b "$h" '.pci_devices[] | select(.bdf == $b) | .smmu' "$BATS_FILE_TMPDIR/grace.json")" ]
		[ "$(devices_where rt.out vfio-pci id "hostdev$i" | grep -o '"iommufd":"iommufd0"' | wc -l)" = 1 ]
		i=$((i + 1))
	done
	[ "$(grep -c '"driver":"vfio-pci"' rt.out)" = 4 ]
}
