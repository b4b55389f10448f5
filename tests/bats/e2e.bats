#!/usr/bin/env bats
# End to end: the installed vsmmu (`make install DESTDIR=` into a scratch
# root) against a real libvirtd (tests/lib/libvirtd.bash: private mount and
# network namespace) and the real Debian qemu-system-aarch64 (7.2, TCG).
#
# Inside the namespace the installed artifacts sit where a real install puts
# them: the wrapper's directory /usr/local/libexec/vsmmu is a bind mount of
# the scratch root's, the hook is the scratch root's file copied into
# /etc/libvirt/hooks/qemu.d/vsmmu before the daemon starts, vsmmuctl runs from
# the scratch root, and /etc/vsmmu (private tmpfs) holds the installed
# example vsmmu.conf plus the keys a test sets (hook and wrapper read it from
# there: libvirt passes them no environment of ours). Fake sysfs trees
# (tests/fixtures/mkhost) live in /var/lib/libvirt/vsmmu-e2e, readable by the
# QEMU user. /sys/devices/system/node is replaced by a two-node stand-in so
# that libvirt accepts <numatune> on host node 1 (domxml-to-native only; no
# domain with numatune is started).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/libvirtd'

QEMU=/usr/bin/qemu-system-aarch64
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
# Paths inside the namespace.
WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu
TREES=/var/lib/libvirt/vsmmu-e2e
CONF=/etc/vsmmu/vsmmu.conf

# Why this suite cannot run here, or nothing.
e2e_missing() {
	[ "$(id -u)" = 0 ] || { echo "needs root (mount namespace, libvirtd)"; return; }
	local c
	for c in unshare nsenter libvirtd virsh xmllint make; do
		command -v "$c" >/dev/null || { echo "$c not installed"; return; }
	done
	for c in "$QEMU" "$AAVMF_CODE" "$AAVMF_VARS"; do
		[ -e "$c" ] || { echo "$c missing"; return; }
	done
	unshare --mount --net true 2>/dev/null ||
		echo "unshare --mount --net is not permitted here (no CAP_SYS_ADMIN?)"
}

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local why
	why=$(e2e_missing)
	if [ -n "$why" ]; then
		export E2E_SKIP="$why"
		return 0
	fi
	export ROOT="$BATS_FILE_TMPDIR/root"
	make -C "$TOP" --no-print-directory install DESTDIR="$ROOT" >"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}
	export CTL="$ROOT/usr/local/bin/vsmmuctl"
	# /etc/vsmmu and the wrapper's directory do not exist on the host:
	# libvirtd.bash makes them private (shadowing their parents).
	export VSMMU_NS_EXTRA_DIRS="/etc/vsmmu /usr/local/libexec/vsmmu"
	vsmmu_ns_start
	vsmmu_ns mount -n --bind "$ROOT/usr/local/libexec/vsmmu" /usr/local/libexec/vsmmu
	vsmmu_ns install -m 0644 "$ROOT/etc/vsmmu/vsmmu.conf" "$CONF"
	# A two-node host for libvirt's numatune checks (libnuma reads it when
	# the daemon starts).
	vsmmu_ns sh -ec '
		n=/sys/devices/system/node
		mount -n -t tmpfs -o mode=0755,size=1m vsmmu-test "$n"
		for i in 0 1; do
			mkdir "$n/node$i"
			echo "$i" >"$n/node$i/cpulist"
		done
		echo 0-1 >"$n/online"; echo 0-1 >"$n/possible"
		echo 0-1 >"$n/has_memory"; echo 0-1 >"$n/has_cpu"'
	vsmmu_ns mkdir -p "$TREES"
	local kind
	for kind in grace kunpeng; do
		vsmmu_ns "$TOP/tests/fixtures/mkhost" "$kind" "$TREES/$kind" >/dev/null
	done
	vsmmu_ns "$TOP/tests/fixtures/mkhost" synthetic "$TREES/synthetic" 8 8 >/dev/null
	# Grace with the first GPU behind the other socket's SMMU.
	vsmmu_ns sh -ec '
		cp -a "$1/grace" "$1/stale"
		t=$(readlink -f "$1/stale/class/iommu/smmu3.0x0000100016000000")
		ln -sfn "$t" "$1/stale/bus/pci/devices/0009:01:00.0/iommu"' sh "$TREES"
	vsmmu_ns chmod -R a+rX "$TREES"
	conf_set grace
	# Hooks are looked up when the daemon starts: install before it.
	vsmmu_hook_install "$ROOT/etc/libvirt/hooks/qemu.d/vsmmu" vsmmu
	vsmmu_libvirtd_start
}

teardown_file() {
	[ -n "${E2E_SKIP:-}" ] || vsmmu_ns_stop
}

setup() {
	[ -z "${E2E_SKIP:-}" ] || skip "$E2E_SKIP"
	T=$BATS_TEST_TMPDIR
}

# conf_set TREE: the installed vsmmu.conf with sysfs = that fake tree.
conf_set() {
	vsmmu_ns sh -ec 'grep -v "^sysfs = " "$1" >"$1.new"; echo "sysfs = $2" >>"$1.new"
		chmod 0644 "$1.new"; mv "$1.new" "$1"' sh "$CONF" "$TREES/$1"
}

ctl() { # TREE ARGS...
	local tree=$1
	shift
	vsmmu_ns "$CTL" --sysfs "$TREES/$tree" "$@"
}

# mkdom NAME MODE NUMA(yes|no) EXTRA_DEVICES_XML BDF...: a managed aarch64
# TCG domain with UEFI and ACPI, a virtio disk and a virtio NIC (libvirt
# puts both on root ports of pcie.0) and one managed hostdev per BDF.
mkdom() {
	local name=$1 mode=$2 numa=$3 extra=$4 bdf d b s f meta=""
	shift 4
	[ "$mode" = none ] || meta="<metadata><vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='$mode'/></metadata>"
	cat <<XML
<domain type='qemu'>
  <name>$name</name>
  $meta
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
XML
	[ "$numa" = no ] || cat <<XML
  <numatune>
    <memnode cellid='0' mode='strict' nodeset='0'/>
    <memnode cellid='1' mode='strict' nodeset='1'/>
  </numatune>
XML
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
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$WRAPPER</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$TREES/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='null'/>
    $extra
XML
	for bdf in "$@"; do
		IFS=':.' read -r d b s f <<<"$bdf"
		echo "    <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source></hostdev>"
	done
	printf '  </devices>\n</domain>\n'
}

# host_facts TREE: "smmu NAME NODE" and "dev BDF SMMU NODE" lines from the
# installed vsmmuctl's `host --json` (NODE "null" when sysfs does not say).
host_facts() {
	ctl "$1" host --json | awk '
		/"smmus":/ { sec = "smmu" } /"pci_devices":/ { sec = "dev" }
		function val(s) { sub(/^[^:]*: */, "", s); gsub(/[",]/, "", s); return s }
		sec == "smmu" && /"name":/ { name = val($0) }
		sec == "smmu" && /"numa_node":/ { print "smmu", name, val($0) }
		sec == "dev" && /"bdf":/ { bdf = val($0) }
		sec == "dev" && /"numa_node":/ { node = val($0) }
		sec == "dev" && /"smmu":/ { print "dev", bdf, val($0), node }'
}

# argv_case TREE NAME MODE NUMA BDF...: the whole path of test 1 for one
# domain; leaves $T/NAME.final (the wrapper's final argv) checked.
argv_case() {
	local tree=$1 name=$2 mode=$3 numa=$4 bdf smmu node
	shift 4
	mkdom "$name" "$mode" "$numa" "" "$@" >"$T/$name.xml"
	ctl "$tree" rewrite "$T/$name.xml" >"$T/$name.rw.xml"
	run vsmmu_virsh define "$T/$name.rw.xml"
	assert_success
	vsmmu_virsh dumpxml --inactive "$name" >"$T/$name.dump.xml"
	# libvirt's own dump still matches the host.
	run ctl "$tree" check "$T/$name.dump.xml"
	assert_success
	run vsmmu_virsh domxml-to-native qemu-argv --domain "$name"
	assert_success
	# libvirt prints ENV=... EMULATOR ARGS, shell-quoted.
	local -a words envs=() args=()
	eval "words=($output)"
	local w i=0
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
			envs+=("$w")
		else
			args+=("$w")
		fi
	done
	[ "${args[0]}" = "$WRAPPER" ]
	# The plan libvirt sets is the one in the definition's <qemu:env>.
	local plan
	plan=$(xmllint --xpath "string(//*[local-name()='env'][@name='VSMMU_PLAN']/@value)" "$T/$name.dump.xml")
	[ -n "$plan" ]
	printf '%s\n' "${envs[@]}" | grep -qxF "VSMMU_PLAN=$plan"
	printf '%s\n' "${args[@]}" >"$T/$name.libvirt"
	run --separate-stderr vsmmu_ns env -i "${envs[@]}" VSMMU_PLAN="$plan" VSMMU_SYSFS="$TREES/$tree" \
		VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "$WRAPPER" "${args[@]:1}"
	assert_success
	[[ $stderr == "vsmmu-qemu: injected "* ]] || { echo "wrapper said: $stderr"; false; }
	printf '%s\n' "${lines[@]}" >"$T/$name.final"
	[ "${lines[0]}" = "$QEMU" ]
	# Facts: the domain's mode and NUMA, each hostdev's host SMMU and node,
	# the metadata's expander -> SMMU map.
	host_facts "$tree" >"$T/$name.host"
	{
		echo "mode $mode"
		echo "numa $numa"
		for bdf in "$@"; do
			read -r smmu node < <(awk -v b="$bdf" '$1 == "dev" && $2 == b { print $3, $4 }' "$T/$name.host")
			[ -n "$smmu" ] || { echo "no SMMU for $bdf in vsmmuctl host --json" >&2; return 1; }
			local snode
			snode=$(awk -v s="$smmu" '$1 == "smmu" && $2 == s { print $3 }' "$T/$name.host")
			[ "$snode" = null ] || node=$snode
			echo "hostdev $bdf $smmu $node"
		done
		grep -o "<vsmmu:expander [^>]*>" "$T/$name.dump.xml" |
			sed -E "s/.*index=.([0-9]+).*smmu=.([^'\"]+).*/expander pci.\1 \2/"
	} >"$T/$name.facts"
	[ "$(grep -c '^expander ' "$T/$name.facts")" -ge 1 ]
	run "$TOP/tests/e2e/argv-check" "$T/$name.facts" "$T/$name.final"
	echo "$output"
	assert_success
	# Nothing else changed: without the injected arguments the final argv is
	# libvirt's, argument for argument.
	diff "$T/$name.libvirt" <(awk 'NR == 1 { print "'"$WRAPPER"'"; next }
		skip { skip = 0; next }
		($0 == "-object" || $0 == "-device") && getline nxt > 0 {
			if (nxt ~ /^\{"qom-type":"iommufd"/ || nxt ~ /^iommufd,/ ||
			    nxt ~ /^\{"driver":"arm-smmuv3"/ || nxt ~ /^arm-smmuv3,/) next
			sub(/,"iommufd":"[^"]*"/, "", nxt); sub(/,iommufd=[^,]*/, "", nxt)
			print; print nxt; next
		}
		{ print }' "$T/$name.final")
	vsmmu_virsh undefine --nvram "$name" >/dev/null
}

@test "1. grace, 1 hostdev, no NUMA: libvirt's argv, wrapped, routes it through its SMMU's expander" {
	argv_case grace g1 accel no 0009:01:00.0
}

@test "1. grace, 2 hostdevs on two sockets, guest NUMA" {
	argv_case grace g2 accel yes 0009:01:00.0 0019:01:00.0
}

@test "1. grace, 2 hostdevs, no NUMA, emulated mode" {
	argv_case grace g2e emulated no 0009:01:00.0 0019:01:00.0
}

@test "1. grace, every endpoint (7 across 6 SMMUs, two functions on one), guest NUMA" {
	argv_case grace g7 accel yes 0000:01:00.0 0000:01:00.1 0002:01:00.0 0009:01:00.0 \
		0010:01:00.0 0012:01:00.0 0019:01:00.0
}

@test "1. kunpeng, 1 hostdev, no NUMA" {
	argv_case kunpeng k1 accel no 0000:7d:00.2
}

@test "1. kunpeng, 2 hostdevs (one SMMU without numa_node), guest NUMA" {
	argv_case kunpeng k2 accel yes 0000:76:00.0 0000:81:00.0
}

@test "1. kunpeng, 8 hostdevs across 5 SMMUs, guest NUMA" {
	argv_case kunpeng k8 accel yes 0000:76:00.0 0000:76:00.1 0000:7d:00.0 0000:7d:00.1 \
		0000:7d:00.2 0000:7d:00.3 0000:81:00.0 0000:bd:00.0
}

@test "1. kunpeng, 8 hostdevs, no NUMA" {
	argv_case kunpeng k8n accel no 0000:76:00.0 0000:76:00.1 0000:7d:00.0 0000:7d:00.1 \
		0000:7d:00.2 0000:7d:00.3 0000:81:00.0 0000:bd:00.0
}

@test "1. synthetic host, 8 hostdevs on 8 SMMUs, guest NUMA" {
	argv_case synthetic s8 accel yes 0000:01:00.0 0001:01:00.0 0002:01:00.0 0003:01:00.0 \
		0004:01:00.0 0005:01:00.0 0006:01:00.0 0007:01:00.0
}
