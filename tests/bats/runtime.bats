#!/usr/bin/env bats
# topology='runtime' end to end: a real libvirt 9.0 (private daemon) turns a
# domain that has only <hostdev>s, the metadata and the wrapper as
# <emulator> into its QEMU argv; the hook plans at prepare/start against a
# fake Grace sysfs; the wrapper (dry run) builds the topology into that argv.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/libvirtd'

DOM=vsmmu-runtime
WRAPPER=/var/lib/libvirt/vsmmu/vsmmu-qemu

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	RT_SKIP=$(vsmmu_libvirt_missing)
	export RT_SKIP
	[ -z "$RT_SKIP" ] || return 0
	local t=$BATS_FILE_TMPDIR
	"$TOP/tests/fixtures/mkhost" grace "$t/sys" >/dev/null
	vsmmu_ns_start
	vsmmu_libvirtd_start
	vsmmu_ns install -D -m 0755 "$TOP/build/vsmmu-qemu" "$WRAPPER"
	{
		printf "<domain type='qemu'>\n  <name>%s</name>\n" "$DOM"
		printf "  <metadata>\n    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' topology='runtime'/>\n  </metadata>\n"
		printf "  <memory unit='MiB'>512</memory>\n  <vcpu>2</vcpu>\n"
		printf "  <os firmware='efi'>\n    <type arch='aarch64' machine='virt'>hvm</type>\n  </os>\n"
		printf "  <features><acpi/></features>\n"
		printf "  <cpu mode='custom' match='exact'><model>cortex-a57</model>\n"
		printf "    <numa><cell id='0' cpus='0' memory='256' unit='MiB'/><cell id='1' cpus='1' memory='256' unit='MiB'/></numa>\n  </cpu>\n"
		printf "  <numatune><memnode cellid='0' mode='strict' nodeset='0'/><memnode cellid='1' mode='strict' nodeset='0'/></numatune>\n"
		printf "  <devices>\n    <emulator>%s</emulator>\n" "$WRAPPER"
		for a in "0x0009 0x01 0x0" "0x0010 0x01 0x0" "0x0000 0x01 0x0" "0x0000 0x01 0x1"; do
			set -- $a
			printf "    <hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source><address domain='%s' bus='%s' slot='0x00' function='%s'/></source></hostdev>\n" "$1" "$2" "$3"
		done
		printf "    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/x.qcow2'/><target dev='vda' bus='virtio'/></disk>\n"
		printf "    <interface type='user'><model type='virtio'/></interface>\n"
		printf "  </devices>\n</domain>\n"
	} >"$t/$DOM.xml"
	vsmmu_virsh define "$t/$DOM.xml" >/dev/null
	vsmmu_virsh dumpxml --inactive "$DOM" >"$t/defined.xml"
	# libvirt's argv, one argument per line, without the environment.
	vsmmu_virsh domxml-to-native qemu-argv --domain "$DOM" >"$t/native.sh"
	(
		eval "set -- $(cat "$t/native.sh")"
		while [ $# -gt 0 ] && [ "${1#*=}" != "$1" ] && [ "${1#-}" = "$1" ]; do shift; done
		printf '%s\n' "$@"
	) >"$t/argv"
}

teardown_file() {
	[ -n "${RT_SKIP:-}" ] || vsmmu_ns_stop
}

setup() {
	[ -z "${RT_SKIP:-}" ] || skip "$RT_SKIP"
	T=$BATS_TEST_TMPDIR F=$BATS_FILE_TMPDIR
	mkdir -p "$T/dev/vfio/devices"
	for n in iommu vfio/devices/vfio0 vfio/devices/vfio1 vfio/devices/vfio2 vfio/devices/vfio3; do
		rm -f "$T/dev/$n" && mknod -m 0600 "$T/dev/$n" c 1 3
	done
	printf 'qemu_user = +%s\nqemu_group = +%s\n' "$(id -u)" "$(id -g)" >"$T/vsmmu.conf"
}

hook() {
	env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin VSMMU_SYSFS="$F/sys" VSMMU_DEV="$T/dev" \
		VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" "$TOP/build/vsmmu-hook" "$DOM" "$@" - \
		<"$F/defined.xml"
}

wrapper() { # the final argv, one per line, from libvirt's argv
	mapfile -t argv <"$F/argv"
	env VSMMU_SYSFS="$F/sys" VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" \
		VSMMU_QEMU=/bin/true VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 \
		"$TOP/build/vsmmu-qemu" "${argv[@]:1}"
}

# The value of key in a JSON -device line.
prop() { sed -n "s/.*\"$2\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<<"$1"; }

@test "libvirt's definition stays as written: no expander, hostdevs on pcie.0 root ports" {
	run grep -c 'pcie-expander-bus' "$F/defined.xml"
	assert_output 0
	run vsmmu_virsh dumpxml --inactive "$DOM"
	refute_output --partial 'VSMMU_PLAN'
}

@test "vsmmuctl check accepts the runtime domain on this host" {
	run "$TOP/build/vsmmuctl" --sysfs "$F/sys" check "$F/defined.xml"
	assert_success
}

@test "hook plans at start; the wrapper builds the per-SMMU topology into libvirt's argv" {
	hook prepare begin
	hook start begin
	[ -f "$T/run/$DOM/state.json" ]
	grep -q '"topology": "runtime"' "$T/run/$DOM/state.json"
	run --separate-stderr wrapper
	assert_success
	echo "$stderr" | grep -q '^vsmmu-qemu: injected iommufd0, 3 vSMMUs'
	mapfile -t out <<<"$output"
	local -A driver bus busnr
	local i id line
	for ((i = 0; i < ${#out[@]}; i++)); do
		[ "${out[i]}" = -device ] || continue
		line=${out[i + 1]}
		id=$(prop "$line" id)
		driver[$id]=$(prop "$line" driver)
		bus[$id]=$(prop "$line" bus)
		busnr[$id]=$(prop "$line" bus_nr)
		[ "$(prop "$line" driver)" = vfio-pci ] && hostline[$id]=$line
	done
	# Each hostdev: vfio-pci -> root port -> pxb-pcie mirroring its host SMMU.
	declare -A want=([0009:01:00.0]=smmu3.0x0000000016000000 [0010:01:00.0]=smmu3.0x0000100011000000
		[0000:01:00.0]=smmu3.0x0000000011000000 [0000:01:00.1]=smmu3.0x0000000011000000)
	for line in "${out[@]}"; do
		[[ $line == *'"driver":"vfio-pci"'* ]] || continue
		host=$(prop "$line" host)
		port=$(prop "$line" bus)
		[ "${driver[$port]}" = pcie-root-port ]
		exp=${bus[$port]}
		[ "${driver[$exp]}" = pxb-pcie ]
		# the hook's record of this hostdev: its SMMU and expander index
		entry=$(grep -A5 "\"bdf\": \"$host\"" "$T/run/$DOM/state.json")
		grep -qF "\"smmu\": \"${want[$host]}\"" <<<"$entry"
		grep -qF "\"expander\": ${exp#pci.}" <<<"$entry"
		[[ $line == *'"iommufd":"iommufd0"'* ]]
	done
	# Exactly one vSMMU per expander, right after it; libvirt's pcie.0 root
	# ports (where it put the hostdevs) are all still there.
	local pxbs=0 smmus=0
	for ((i = 0; i < ${#out[@]}; i++)); do
		[[ ${out[i]} == *'"driver":"pxb-pcie"'* ]] || continue
		pxbs=$((pxbs + 1))
		[[ ${out[i + 2]} == *'"driver":"arm-smmuv3","primary-bus":"'"$(prop "${out[i]}" id)"'"'* ]]
	done
	smmus=$(grep -c '"driver":"arm-smmuv3"' <<<"$output")
	[ "$pxbs" -eq 3 ] && [ "$smmus" -eq 3 ]
	[ "$(grep -c '"driver":"pcie-root-port","port":[0-9]*,"chassis":[0-9]*,"id":"pci\.[0-9]*","bus":"pcie.0"' <<<"$output")" -eq \
	  "$(grep -c '"driver":"pcie-root-port".*"bus":"pcie.0"' "$F/argv")" ]
	[ "$(grep -c '^-object$' <<<"$output")" -ge 1 ]
	[ "$(grep -c '"qom-type":"iommufd"' <<<"$output")" -eq 1 ]
	# Bus ranges: every expander above all of libvirt's pcie.0 buses, disjoint.
	local nrp0 ranges=""
	nrp0=$(grep -c '"driver":"pcie-root-port".*"bus":"pcie.0"' "$F/argv")
	for id in "${!driver[@]}"; do
		[ "${driver[$id]}" = pxb-pcie ] || continue
		local n=0 p
		for p in "${!bus[@]}"; do [ "${bus[$p]}" = "$id" ] && n=$((n + 1)); done
		[ "${busnr[$id]}" -gt "$nrp0" ]
		ranges+="${busnr[$id]} $((busnr[$id] + n))"$'\n'
	done
	sort -n <<<"$ranges" | awk 'NF { if (NR > 1 && $1 <= last) exit 1; last = $2 }'
}

@test "a domain with the wrapper as <emulator> but no metadata is refused at prepare" {
	sed '/vsmmu:config/d' "$F/defined.xml" >"$T/plain.xml"
	run --separate-stderr env -i LC_ALL=C PATH=/usr/bin:/bin VSMMU_SYSFS="$F/sys" \
		VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" "$TOP/build/vsmmu-hook" plain prepare begin - <"$T/plain.xml"
	assert_failure 1
	grep -qF "topology='runtime'/> in <metadata>" <<<"$stderr"
	grep -qF "run 'vsmmuctl apply plain'" <<<"$stderr"
}

@test "without the hook's state the wrapper refuses the start: it never runs QEMU without the vSMMUs" {
	mapfile -t argv <"$F/argv"
	run --separate-stderr env VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" VSMMU_QEMU=/bin/echo \
		"$TOP/build/vsmmu-qemu" "${argv[@]:1}"
	assert_failure 1
	assert_output ''
	[ "$stderr" = "vsmmu-qemu: $DOM: the vsmmu hook did not run for this start (no state in $T/run): libvirt finds hooks when it starts, so restart libvirtd (systemctl restart libvirtd, or virtqemud) after installing vsmmu, then start the domain again" ]
}

@test "vsmmuctl show NAME of a started runtime domain shows what QEMU was given" {
	hook start begin
	run env VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" "$TOP/build/vsmmuctl" show "$DOM"
	assert_success
	assert_line --index 0 "domain $DOM, vsmmu mode accel, topology runtime"
	assert_output --regexp 'pci\.[0-9]+ pcie-expander-bus busNr [0-9]+ node 0 mirrors smmu3\.0x0000000016000000 \[vSMMU vsmmu\.[0-9]+, accel=on\]'
	assert_output --partial 'hostdev 0009:01:00.0 (vfio-pci)'
	assert_output --partial "libvirt's own view (virsh dumpxml $DOM) differs"
	hook release end
	run env VSMMU_RUNDIR="$T/run" VSMMU_CONF="$T/vsmmu.conf" "$TOP/build/vsmmuctl" -c "$VSMMU_LIBVIRT_URI" show "$DOM"
	assert_success
	assert_output --partial 'pcie-root-port'
	refute_output --partial 'pcie-expander-bus'
}
