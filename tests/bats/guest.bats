#!/usr/bin/env bats
# Boot what vsmmu builds. For fake hosts (tests/fixtures/mkhost) and managed
# domains: vsmmuctl rewrite -> a real libvirt (9.0 of this machine, in a
# private namespace: tests/lib/libvirtd.bash; and 12.x of the test stack:
# tests/lib/stack.bash) define + domxml-to-native -> vsmmu-qemu's dry run ->
# a guest booted from that argv's PCI topology with QEMU 11 under TCG, UEFI
# and ACPI, each vfio-pci replaced by an emulated e1000e at the same id,
# bus and addr, the accel-only properties dropped (tests/guest/standin).
# tests/guest/guest-check holds what the guest reports against the argv and
# the plan: every root complex, every stand-in, each behind the vSMMU of its
# own root complex, no bus-number error, no SMMU event.
#
# The stack is built on first use (tools/teststack.sh; minutes, cached in
# /var/cache/vsmmu-test). VSMMU_GUEST_BOOTS=0 runs everything up to the
# boots and skips them, saying so (make check-asan does: the boots test the
# topology, not the sanitized binaries). Besides the wrapper form, the native
# form and the wrapper form on libvirt 12.x's own iommufd boot (their vfio-pci
# have no host=: guest-check gets their expanders by id).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/stack'
load '../lib/guest'

# Inside both namespaces.
WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local why
	why=$(vsmmu_libvirt_missing xmllint jq make "$AAVMF_CODE")
	[ -n "$why" ] || why=$(vsmmu_stack_missing)
	if [ -n "$why" ]; then
		export GUEST_SKIP="$why"
		return 0
	fi
	export F=$BATS_FILE_TMPDIR
	# make check has built them (make check-asan, sanitized, in its copy).
	export B=$TOP/build
	make -C "$TOP" --no-print-directory all >"$F/build.log" 2>&1 ||
		{ cat "$F/build.log" >&2; return 1; }
	vsmmu_stack_ensure
	local kind
	for kind in grace kunpeng virt-dt; do
		"$TOP/tests/fixtures/mkhost" "$kind" "$F/$kind" >/dev/null
	done
	chmod -R a+rX "$F"

	# libvirt 9.0: the wrapper where a real install puts it (libvirt
	# probes <emulator> at define), a two-node host for <numatune>.
	export VSMMU_NS_EXTRA_DIRS=/usr/local/libexec/vsmmu
	vsmmu_ns_start
	vsmmu_ns install -m 0755 "$B/vsmmu-qemu" "$WRAPPER"
	vsmmu_ns_fn eval "$(declare -f two_nodes); two_nodes"
	vsmmu_libvirtd_start

	# libvirt 12.x, the same inside the stack.
	vsmmu_stack_start
	vsmmu_stack_install_vsmmu "$B"
	vsmmu_stack_fn eval "$(declare -f two_nodes); two_nodes"
	vsmmu_libvirtd12_start

	vsmmu_guest_initrd "$F/initrd"
	export VSMMU_GUEST_INITRD=$F/initrd
	export LIBVIRT9 LIBVIRT12
	LIBVIRT9=$(libvirtd --version | awk '{print $NF}')
	LIBVIRT12=$(vsmmu_stack_version libvirt)
	echo "# stack: libvirt $LIBVIRT12 and QEMU $(vsmmu_stack_version qemu) (Debian 13," \
		"trixie-backports, in $(vsmmu_stack_root)); guest kernel $(vsmmu_stack_version kernel);" \
		"libvirt $LIBVIRT9 of this machine" >&3
}

teardown_file() {
	[ -n "${GUEST_SKIP:-}" ] && return 0
	vsmmu_stack_stop
	vsmmu_ns_stop
}

setup() {
	[ -z "${GUEST_SKIP:-}" ] || skip "$GUEST_SKIP"
	T=$BATS_TEST_TMPDIR
}

# A two-node /sys/devices/system/node (libvirt checks <numatune> node sets
# against it; libnuma reads it when the daemon starts).
two_nodes() {
	local n=/sys/devices/system/node i
	mount -n -t tmpfs -o mode=0755,size=1m vsmmu-test "$n" || return 1
	for i in 0 1; do
		mkdir "$n/node$i" && echo "$i" >"$n/node$i/cpulist"
	done
	echo 0-1 >"$n/online" && echo 0-1 >"$n/possible" && echo 0-1 >"$n/has_memory" &&
		echo 0-1 >"$n/has_cpu"
}

# mkdom NAME NUMA(yes|no) BDF...: a managed aarch64 TCG domain with UEFI
# and ACPI, nothing but one managed hostdev per BDF (no disk, no NIC, no
# USB, no balloon: the guest boots from -kernel and -initrd).
mkdom() {
	local name=$1 numa=$2 bdf d b s f
	shift 2
	cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel'/></metadata>
  <memory unit='MiB'>512</memory>
XML
	if [ "$numa" = yes ]; then
		cat <<XML
  <vcpu>2</vcpu>
  <numatune>
    <memnode cellid='0' mode='strict' nodeset='0'/>
    <memnode cellid='1' mode='strict' nodeset='1'/>
  </numatune>
XML
	else
		echo "  <vcpu>1</vcpu>"
	fi
	cat <<XML
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <loader readonly='yes' type='pflash'>$AAVMF_CODE</loader>
    <nvram template='$AAVMF_VARS'/>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'>
    <model>cortex-a57</model>
XML
	[ "$numa" = no ] || cat <<XML
    <numa>
      <cell id='0' cpus='0' memory='256' unit='MiB'/>
      <cell id='1' cpus='1' memory='256' unit='MiB'/>
    </numa>
XML
	cat <<XML
  </cpu>
  <devices>
    <emulator>$WRAPPER</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
XML
	for bdf in "$@"; do
		IFS=':.' read -r d b s f <<<"$bdf"
		echo "    <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source></hostdev>"
	done
	printf '  </devices>\n</domain>\n'
}

# virsh_of 9|12 ARGS...: that libvirt's virsh.
virsh_of() {
	local v=$1
	shift
	if [ "$v" = 12 ]; then vsmmu_virsh12 "$@"; else vsmmu_virsh "$@"; fi
}

# final_argv LIBVIRT TREE XML OUT: define XML in that libvirt (9 or 12),
# translate it, run the wrapper's dry run on libvirt's argv, undefine it;
# leaves OUT.dump.xml, OUT.libvirt (libvirt's argv) and OUT.final (the
# wrapper's).
final_argv() {
	local lv=$1 tree=$2 xml=$3 out=$4 name w
	local -a words envs=() args=()
	name=$(xmllint --xpath 'string(/domain/name)' "$xml")
	run virsh_of "$lv" define "$xml"
	assert_success
	virsh_of "$lv" dumpxml --inactive "$name" >"$out.dump.xml"
	run virsh_of "$lv" domxml-to-native qemu-argv --domain "$name"
	virsh_of "$lv" undefine --nvram "$name" >/dev/null
	assert_success
	# libvirt prints ENV=... EMULATOR ARGS, shell-quoted.
	eval "words=($output)"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
			envs+=("$w")
		else
			args+=("$w")
		fi
	done
	[ "${args[0]}" = "$WRAPPER" ]
	printf '%s\n' "${args[@]}" >"$out.libvirt"
	run --separate-stderr env -i "${envs[@]}" VSMMU_SYSFS="$F/$tree" VSMMU_CONF=/nonexistent \
		VSMMU_QEMU="$VSMMU_STACK_QEMU" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$B/vsmmu-qemu" "${args[@]:1}"
	[ "$status" = 0 ] || { echo "wrapper (exit $status): $stderr"; return 1; }
	printf '%s\n' "${lines[@]}" >"$out.final"
}

# facts TREE OUT BDF...: what guest-check expects for the hostdevs BDF, from
# the host scan, the domain's metadata in OUT.dump.xml (expander -> host
# SMMU) and its plan (expander -> vSMMU); in OUT.facts.
facts() {
	local tree=$1 out=$2 plan
	shift 2
	"$B/vsmmuctl" --sysfs "$F/$tree" host --json |
		jq -r '.pci_devices[] | select(.smmu != null) | "\(.bdf) \(.smmu)"' |
		grep -F -f <(printf '%s \n' "$@") >"$out.smmu-of"
	grep -o "<vsmmu:expander [^>]*>" "$out.dump.xml" |
		sed -E "s/.*index=.([0-9]+).*smmu=.([^'\"]+).*/\2 pci.\1/" >"$out.expander-of"
	plan=$(xmllint --xpath "string(//*[local-name()='env'][@name='VSMMU_PLAN']/@value)" "$out.dump.xml")
	{
		awk 'NR == FNR { x[$1] = $2; next } $2 in x { print "hostdev", $1, x[$2] }' \
			"$out.expander-of" "$out.smmu-of"
		jq -r '.expanders[] | select(.vsmmu != null) | "vsmmu \(.id) \(.vsmmu.id)"' <<<"$plan"
	} >"$out.facts"
	[ "$(grep -c '^hostdev ' "$out.facts")" = "$#" ] ||
		{ echo "facts: not every hostdev has an expander:"; cat "$out.facts"; return 1; }
}

boots() { [ "${VSMMU_GUEST_BOOTS:-1}" != 0 ]; }

# boot_all OUT...: boot each OUT.final at once (two cores, one guest each).
boot_all() {
	local o pids=() i=0 rc=0
	for o in "$@"; do
		vsmmu_guest_boot "$o.final" "$o.boot" &
		pids+=($!)
	done
	for o in "$@"; do
		if ! wait "${pids[$i]}"; then
			echo "$o: QEMU failed; its output and the guest's console:"
			tail -20 "$o.boot/monitor"
			tail -40 "$o.boot/console"
			rc=1
		fi
		i=$((i + 1))
	done
	return $rc
}

# guest_ok OUT LABEL: guest-check of OUT's boot, one summary line for make check.
guest_ok() {
	local o=$1
	run "$TOP/tests/guest/guest-check" "$o.facts" "$o.final" "$o.boot/map" "$o.boot/smmus" "$o.boot/report"
	echo "$output"
	if [ "$status" != 0 ]; then
		echo "the guest ($o) reported:"
		cat "$o.boot/report"
		sed 's/^/console: /' "$o.boot/crash"
		return 1
	fi
	echo "# booted $2: $(vsmmu_guest_summary "$o.boot")" >&3
}

# guest_case TREE NAME NUMA BDF...: the whole path for one domain, through
# libvirt 9.0 and 12.x; both guests boot at once.
guest_case() {
	local tree=$1 name=$2 numa=$3 lv
	shift 3
	mkdom "$name" "$numa" "$@" >"$T/$name.xml"
	"$B/vsmmuctl" --sysfs "$F/$tree" rewrite "$T/$name.xml" >"$T/$name.rw.xml"
	for lv in 9 12; do
		final_argv "$lv" "$tree" "$T/$name.rw.xml" "$T/$name-$lv"
		facts "$tree" "$T/$name-$lv" "$@"
	done
	boots || skip "VSMMU_GUEST_BOOTS=0: libvirt's argv and the wrapper's built, no guest booted"
	boot_all "$T/$name-9" "$T/$name-12"
	guest_ok "$T/$name-9" "$name (libvirt $LIBVIRT9, QEMU 11)"
	guest_ok "$T/$name-12" "$name (libvirt $LIBVIRT12, QEMU 11)"
}

@test "grace, 2 sockets: GPUs on both, NICs behind three other SMMUs, guest NUMA: each device behind its own vSMMU" {
	guest_case grace grace yes 0009:01:00.0 0019:01:00.0 0000:01:00.0 0000:01:00.1 0010:01:00.0
}

@test "kunpeng 920: a NIC, an accelerator and an NVMe behind three SMMUs (one without numa_node)" {
	guest_case kunpeng kunpeng no 0000:7d:00.2 0000:76:00.0 0000:81:00.0
}

@test "device-tree-named host (9050000.smmuv3): one hostdev behind its vSMMU" {
	guest_case virt-dt dt no 0000:01:00.0
}

# busnr_of XML INDEX: the busNr libvirt gave expander INDEX in XML.
busnr_of() {
	xmllint --xpath "string(//controller[@model='pcie-expander-bus'][@index='$2']/target/@busNr)" "$1"
}

@test "libvirt's own bus numbers lose the devices in the guest; vsmmu's numbering of the same domain boots" {
	# Two functions behind one SMMU: one expander with two root ports.
	mkdom pair no 0000:01:00.0 0000:01:00.1 >"$T/pair.xml"
	"$B/vsmmuctl" --sysfs "$F/grace" rewrite "$T/pair.xml" >"$T/pair.rw.xml"
	final_argv 12 grace "$T/pair.rw.xml" "$T/pair"
	facts grace "$T/pair" 0000:01:00.0 0000:01:00.1
	local x
	x=$(xmllint --xpath "string(//controller[@model='pcie-expander-bus']/@index)" "$T/pair.dump.xml")
	[ "$(grep -c '"driver":"pcie-root-port".*"bus":"pci.'"$x"'"' "$T/pair.final")" = 2 ]
	# The same domain without busNr: libvirt numbers the expander itself.
	sed 's/ busNr=.[0-9]*.//' "$T/pair.rw.xml" >"$T/default.xml"
	! grep -q busNr "$T/default.xml"
	run vsmmu_virsh12 define "$T/default.xml"
	assert_success
	vsmmu_virsh12 dumpxml --inactive pair >"$T/default.dump.xml"
	vsmmu_virsh12 undefine --nvram pair >/dev/null
	local ours theirs
	ours=$(busnr_of "$T/pair.dump.xml" "$x")
	theirs=$(busnr_of "$T/default.dump.xml" "$x")
	echo "expander pci.$x: busNr $ours from vsmmu, $theirs from libvirt"
	[ -n "$theirs" ] && [ "$theirs" != "$ours" ]
	# Boot the wrapper's argv as it is, and with libvirt's number instead.
	sed 's/"bus_nr":'"$ours"',"id":"pci.'"$x"'"/"bus_nr":'"$theirs"',"id":"pci.'"$x"'"/' \
		"$T/pair.final" >"$T/default.final"
	[ "$(diff "$T/pair.final" "$T/default.final" | grep -c '^>')" = 1 ]
	cp "$T/pair.facts" "$T/default.facts"
	boots || skip "VSMMU_GUEST_BOOTS=0: argv built, no guest booted"
	boot_all "$T/pair" "$T/default"
	guest_ok "$T/pair" "pair with vsmmu's busNr $ours (libvirt $LIBVIRT12, QEMU 11)"
	run "$TOP/tests/guest/guest-check" "$T/default.facts" "$T/default.final" "$T/default.boot/map" \
		"$T/default.boot/smmus" "$T/default.boot/report"
	echo "$output"
	assert_failure 1
	assert_output --partial "hostdev0 (stand-in for vfio-pci 0000:01:00.0, mac"
	assert_output --partial ") is not in the guest"
	local crash
	crash=$(head -1 "$T/default.boot/crash" | sed 's/^\[[^]]*\] *//')
	echo "# booted pair with libvirt's busNr $theirs: $(grep -c 'is not in the guest' <<<"$output") of 2 devices lost, as expected${crash:+ (the kernel: $crash)}" >&3
}

# in_fresh_stack [iommu] ARGV_FILE: QEMU 11 with ARGV_FILE's arguments in a
# namespace of its own, with what libvirt creates before it starts QEMU
# (the domain's directories, master key and NVRAM) and, with iommu, an
# empty /dev/iommu in its private /dev.
in_fresh_stack() {
	local iommu=no
	if [ "$1" = iommu ]; then iommu=yes; shift; fi
	# shellcheck disable=SC2016
	"$VSMMU_STACK_TOOL" enter "$VSMMU_STACK" sh -c '
		iommu=$1 argv=$2
		[ "$iommu" = no ] || : >/dev/iommu
		for p in $(grep -o "/var/lib/libvirt/qemu/[^\",]*" "$argv"); do mkdir -p "$(dirname "$p")"; done
		for p in $(grep -o "/var/lib/libvirt/qemu/domain-[^\",]*/master-key.aes" "$argv"); do
			head -c 32 /dev/urandom >"$p"
		done
		for p in $(grep -o "/var/lib/libvirt/qemu/nvram/[^\",]*" "$argv"); do cp "$3" "$p"; done
		set --
		while IFS= read -r a; do set -- "$@" "$a"; done <"$argv"
		exec timeout 60 "$@"' sh "$iommu" "$1" "$AAVMF_VARS"
}

@test "the accel argv on QEMU 11: every device and property accepted, the only refusal is the KVM requirement" {
	mkdom accel no 0009:01:00.0 0019:01:00.0 0000:01:00.0 >"$T/accel.xml"
	"$B/vsmmuctl" --sysfs "$F/grace" rewrite "$T/accel.xml" >"$T/accel.rw.xml"
	final_argv 12 grace "$T/accel.rw.xml" "$T/accel"
	# The full accel argv: libvirt's, with the wrapper's iommufd object,
	# accelerated vSMMUs and iommufd= on every vfio-pci.
	[ "$(grep -c '^{"qom-type":"iommufd"' "$T/accel.final")" = 1 ]
	[ "$(grep -c '^{"driver":"arm-smmuv3",.*"accel":true' "$T/accel.final")" = 3 ]
	[ "$(grep -c '^{"driver":"vfio-pci","host":.*"iommufd":"iommufd0"' "$T/accel.final")" = 3 ]
	# Every property of every -device and -object is one QEMU 11 has.
	local v t k help
	while IFS= read -r v; do
		if t=$(jq -er '.driver' <<<"$v" 2>/dev/null); then
			help=$(vsmmu_stack "$VSMMU_STACK_QEMU" -device "$t,help")
			for k in $(jq -r 'keys[] | select(. != "driver" and . != "id" and . != "bus")' <<<"$v"); do
				grep -q "^  $k=" <<<"$help" || { echo "QEMU 11's $t has no property $k"; false; }
			done
		elif t=$(jq -er '."qom-type"' <<<"$v" 2>/dev/null); then
			help=$(vsmmu_stack "$VSMMU_STACK_QEMU" -object "$t,help")
			for k in $(jq -r 'keys[] | select(. != "qom-type" and . != "id")' <<<"$v"); do
				grep -q "^  $k=" <<<"$help" || { echo "QEMU 11's $t has no property $k"; false; }
			done
		fi
	done < <(awk 'prev == "-device" || prev == "-object" { print } { prev = $0 }' "$T/accel.final")
	tail -n +2 "$T/accel.final" >"$T/accel.args"
	sed -i "1i $VSMMU_STACK_QEMU" "$T/accel.args"
	# Here there is no /dev/iommu: that is what QEMU checks first.
	run --separate-stderr in_fresh_stack "$T/accel.args"
	echo "$stderr"
	[ "$status" = 1 ]
	[ "$(wc -l <<<"$stderr")" = 1 ]
	[[ $stderr == *"qemu-system-aarch64: /dev/iommu does not exist (is your kernel config missing CONFIG_IOMMUFD?)" ]]
	# With one (an empty file, in that namespace's private /dev), QEMU
	# creates everything before the first vSMMU, takes all its properties,
	# and refuses it for the want of KVM; nothing else.
	run --separate-stderr in_fresh_stack iommu "$T/accel.args"
	echo "$stderr"
	[ "$status" = 1 ]
	[ "$(wc -l <<<"$stderr")" = 1 ]
	local first kvm
	first=$(grep -m1 '^{"driver":"arm-smmuv3"' "$T/accel.final")
	kvm="SMMUv3 accel=on requires KVM with kernel-irqchip=on support"
	[[ $stderr == *"qemu-system-aarch64: -device $first: $kvm" ]]
	# The vfio-pci devices come after every vSMMU, so the KVM check stops
	# QEMU before them. Without the vSMMUs, QEMU takes the first vfio-pci's
	# properties (iommufd= included) and stops at its host device, which
	# this machine does not have.
	awk 'prev == "-device" && /^\{"driver":"arm-smmuv3"/ { prev = ""; next }
		{ if (prev != "") print prev; prev = $0 } END { print prev }' "$T/accel.args" >"$T/nosmmu.args"
	[ "$(grep -c arm-smmuv3 "$T/nosmmu.args")" = 0 ]
	run --separate-stderr in_fresh_stack iommu "$T/nosmmu.args"
	echo "$stderr"
	[ "$status" = 1 ]
	[ "$(wc -l <<<"$stderr")" = 1 ]
	first=$(grep -m1 '^{"driver":"vfio-pci"' "$T/accel.final")
	[[ $stderr == *"qemu-system-aarch64: -device $first: vfio /sys/bus/pci/devices/"*": no such host device: No such file or directory" ]]
	echo "# QEMU $(vsmmu_stack_version qemu) takes the accel argv; its one refusal: \"$kvm\"" >&3
}

# native_argv XML OUT: define XML (the native form: QEMU itself as
# <emulator>, no wrapper) in libvirt 12.x and translate it, undefine it;
# libvirt's argv is the final one: OUT.dump.xml, OUT.final.
native_argv() {
	local xml=$1 out=$2 name w
	local -a words args=()
	name=$(xmllint --xpath 'string(/domain/name)' "$xml")
	run vsmmu_virsh12 define "$xml"
	assert_success
	vsmmu_virsh12 dumpxml --inactive "$name" >"$out.dump.xml"
	run vsmmu_virsh12 domxml-to-native qemu-argv --domain "$name"
	vsmmu_virsh12 undefine --nvram "$name" >/dev/null
	assert_success
	eval "words=($output)"
	for w in "${words[@]}"; do
		[ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || args+=("$w")
	done
	[ "${args[0]}" = "$VSMMU_STACK_QEMU" ]
	printf '%s\n' "${args[@]}" >"$out.final"
}

# facts_by_id TREE OUT: guest-check's facts for an argv whose vfio-pci have
# no host= (libvirt's own iommufd): "device ID EXPANDER" for each hostdev
# of OUT.dump.xml, ID the vfio-pci on its root port (libvirt's -device bus
# pci.N for the hostdev's <address bus=N>), EXPANDER the one the metadata
# gives its host SMMU; and the plan's vSMMUs, if there is a plan.
facts_by_id() {
	local tree=$1 out=$2 n i d b f port id smmu plan
	"$B/vsmmuctl" --sysfs "$F/$tree" host --json >"$out.host.json"
	n=$(xmllint --xpath 'count(/domain/devices/hostdev)' "$out.dump.xml")
	: >"$out.facts"
	for ((i = 1; i <= n; i++)); do
		d=$(xmllint --xpath "string(/domain/devices/hostdev[$i]/source/address/@domain)" "$out.dump.xml")
		b=$(xmllint --xpath "string(/domain/devices/hostdev[$i]/source/address/@bus)" "$out.dump.xml")
		f=$(xmllint --xpath "string(/domain/devices/hostdev[$i]/source/address/@function)" "$out.dump.xml")
		port=$(($(xmllint --xpath "string(/domain/devices/hostdev[$i]/address/@bus)" "$out.dump.xml")))
		id=$(grep '^{"driver":"vfio-pci"' "$out.final" | grep -F "\"bus\":\"pci.$port\"" |
			sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
		smmu=$(jq -r --arg b "$(printf '%04x:%02x:00.%x' "$d" "$b" "$f")" \
			'.pci_devices[] | select(.bdf == $b) | .smmu' "$out.host.json")
		[ -n "$id" ] && [ -n "$smmu" ] || { echo "facts: hostdev $i: no vfio-pci on pci.$port or no SMMU"; return 1; }
		xmllint --xpath "string(//*[local-name()='expander'][@smmu='$smmu']/@index)" "$out.dump.xml" |
			sed "s/^/device $id pci./; s/\$/\n/" | sed '/^$/d' >>"$out.facts"
	done
	plan=$(xmllint --xpath "string(//*[local-name()='env'][@name='VSMMU_PLAN']/@value)" "$out.dump.xml")
	[ -z "$plan" ] || jq -r '.expanders[] | select(.vsmmu != null) | "vsmmu \(.id) \(.vsmmu.id)"' <<<"$plan" >>"$out.facts"
	[ "$(grep -c '^device ' "$out.facts")" = "$n" ]
}

@test "libvirt 12.x's own iommufd: the native form and the wrapper form with <iommufd enabled='yes'/> boot, each device behind its own vSMMU" {
	mkdom nat no 0009:01:00.0 0019:01:00.0 0000:01:00.0 >"$T/nat.xml"
	VSMMU_CONF=/dev/null "$B/vsmmuctl" --sysfs "$F/grace" rewrite --native "$T/nat.xml" >"$T/nat.rw.xml"
	grep -q "<iommufd enabled=.yes./>" "$T/nat.rw.xml"
	native_argv "$T/nat.rw.xml" "$T/nat"
	mkdom wfd no 0009:01:00.0 0019:01:00.0 0000:01:00.0 >"$T/wfd.xml"
	"$B/vsmmuctl" --sysfs "$F/grace" rewrite "$T/wfd.xml" |
		sed "s|^  <devices>|  <iommufd enabled='yes'/>\n&|" >"$T/wfd.rw.xml"
	grep -q VSMMU_PLAN "$T/wfd.rw.xml"
	final_argv 12 grace "$T/wfd.rw.xml" "$T/wfd"
	local o
	for o in nat wfd; do
		# libvirt's iommufd, its vfio-pci by fd without host=, one accel
		# vSMMU per expander (libvirt's in the native form, the wrapper's
		# in the other).
		[ "$(grep -c '^{"qom-type":"iommufd","id":"iommufd0"' "$T/$o.final")" = 1 ]
		[ "$(grep -c '^{"driver":"vfio-pci","id":"hostdev[0-9]","iommufd":"iommufd0"' "$T/$o.final")" = 3 ]
		[ "$(grep -c '^{"driver":"vfio-pci","host"' "$T/$o.final")" = 0 ]
		[ "$(grep -c '^{"driver":"arm-smmuv3",.*"accel":true' "$T/$o.final")" = 3 ]
		[ "$(grep -c '^{"driver":"pxb-pcie"' "$T/$o.final")" = 3 ]
		facts_by_id grace "$T/$o"
	done
	boots || skip "VSMMU_GUEST_BOOTS=0: libvirt's argv and the wrapper's built, no guest booted"
	boot_all "$T/nat" "$T/wfd"
	guest_ok "$T/nat" "native form, libvirt's iommufd (libvirt $LIBVIRT12, QEMU 11)"
	guest_ok "$T/wfd" "wrapper form with <iommufd enabled='yes'/> (libvirt $LIBVIRT12, QEMU 11)"
}

@test "topology='runtime' on libvirt 12.x's own iommufd boots: the wrapper builds the topology around libvirt's host=-less vfio-pci" {
	local o=$T/rt a w
	local -a words envs=() args=()
	mkdom rt no 0009:01:00.0 0010:01:00.0 0000:01:00.0 |
		sed "s|mode='accel'/>|mode='accel' topology='runtime'/>|; s|^  <devices>|  <iommufd enabled='yes'/>\n&|" >"$o.xml"
	grep -q "topology='runtime'" "$o.xml"
	run vsmmu_virsh12 define "$o.xml"
	assert_success
	vsmmu_virsh12 dumpxml --inactive rt >"$o.dump.xml"
	run vsmmu_virsh12 domxml-to-native qemu-argv --domain rt
	vsmmu_virsh12 undefine --nvram rt >/dev/null
	assert_success
	eval "words=($output)"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$w"); else args+=("$w"); fi
	done
	[ "${args[0]}" = "$WRAPPER" ]
	# The hook at prepare and start, on the fake tree, leaves the runtime plan.
	mkdir -p "$T/dev/vfio/devices"
	for a in iommu vfio/devices/vfio0 vfio/devices/vfio1 vfio/devices/vfio2 vfio/devices/vfio3; do
		mknod -m 0600 "$T/dev/$a" c 1 3
	done
	printf 'qemu_user = +%s\nqemu_group = +%s\n' "$(id -u)" "$(id -g)" >"$T/vsmmu.conf"
	for a in prepare start; do
		env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin VSMMU_SYSFS="$F/grace" VSMMU_DEV="$T/dev" \
			VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" "$B/vsmmu-hook" rt $a begin - <"$o.dump.xml"
	done
	run --separate-stderr env -i "${envs[@]}" VSMMU_SYSFS="$F/grace" VSMMU_RUNDIR="$T/run" \
		VSMMU_CONF="$T/vsmmu.conf" VSMMU_QEMU="$VSMMU_STACK_QEMU" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 \
		"$B/vsmmu-qemu" "${args[@]:1}"
	[ "$status" = 0 ] || { echo "wrapper (exit $status): $stderr"; return 1; }
	printf '%s\n' "${lines[@]}" >"$o.final"
	[ "$(grep -c '^{"qom-type":"iommufd","id":"iommufd0"' "$o.final")" = 1 ]
	[ "$(grep -c '^{"driver":"vfio-pci","id":"hostdev[0-9]","iommufd":"iommufd0"' "$o.final")" = 3 ]
	[ "$(grep -c '^{"driver":"vfio-pci","host"' "$o.final")" = 0 ]
	[ "$(grep -c '^{"driver":"arm-smmuv3",.*"accel":true' "$o.final")" = 3 ]
	# Facts: each hostdev by libvirt's id (the plan's), on the expander
	# the hook built for its host SMMU (the host scan).
	"$B/vsmmuctl" --sysfs "$F/grace" host --json >"$o.host.json"
	jq -r --slurpfile h "$o.host.json" '.expanders as $x | .plan.hostdevs[] | .host as $b | .id as $id |
		($h[0].pci_devices[] | select(.bdf == $b) | .smmu) as $s |
		($x[] | select(.smmu == $s) | "device \($id) pci.\(.index)")' "$T/run/rt/state.json" >"$o.facts"
	[ "$(grep -c '^device hostdev' "$o.facts")" = 3 ]
	boots || skip "VSMMU_GUEST_BOOTS=0: libvirt's argv and the wrapper's built, no guest booted"
	vsmmu_guest_boot "$o.final" "$o.boot" || { tail -20 "$o.boot/monitor"; tail -40 "$o.boot/console"; false; }
	guest_ok "$o" "topology='runtime' on libvirt's iommufd (libvirt $LIBVIRT12, QEMU 11)"
}
