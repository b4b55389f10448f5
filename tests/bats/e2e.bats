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

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local why
	why=$(vsmmu_libvirt_missing xmllint make "$QEMU" "$AAVMF_CODE" "$AAVMF_VARS")
	if [ -n "$why" ]; then
		export E2E_SKIP="$why"
		return 0
	fi
	export ROOT="$BATS_FILE_TMPDIR/root"
	# A private build directory: other builds in $TOP/build cannot race
	# ours, and what gets installed is exactly this tree's sources.
	export E2E_B="$BATS_FILE_TMPDIR/build"
	make -C "$TOP" -j"$(nproc)" --no-print-directory B="$E2E_B" install DESTDIR="$ROOT" \
		>"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
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

# A failed test leaves no domain and no QEMU behind for the next one.
teardown() {
	[ -z "${E2E_SKIP:-}" ] || return 0
	local d
	vsmmu_ns chmod 0755 /etc/libvirt/hooks/qemu.d/vsmmu
	conf_set grace
	for d in $(vsmmu_virsh list --name 2>/dev/null); do
		vsmmu_virsh destroy "$d" >/dev/null 2>&1 || true
	done
	for d in $(vsmmu_virsh list --all --name 2>/dev/null); do
		vsmmu_virsh undefine --nvram "$d" >/dev/null 2>&1 || true
	done
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
      <source file='$TREES/$name.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/><rom enabled='no'/></interface>
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

@test "2. libvirt probes the installed wrapper as <emulator> and reports aarch64 virt through it" {
	run vsmmu_virsh domcapabilities --emulatorbin "$WRAPPER" --arch aarch64 --machine virt --virttype qemu
	assert_success
	assert_output --partial "<path>$WRAPPER</path>"
	assert_output --partial "<domain>qemu</domain>"
	assert_output --regexp "<machine>virt-[0-9.]+</machine>"
	assert_output --partial "<arch>aarch64</arch>"
}

# The QEMU process libvirt runs for domain $1, or nothing.
qemu_pid() { vsmmu_ns cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }

gone() { ! [ -d "/proc/$1" ] || [ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat")" = Z ]; }

disk_image() { # NAME: the domain's (empty) disk
	vsmmu_ns sh -ec '[ -e "$1" ] || truncate -s 1M "$1"; chmod 0666 "$1"' sh "$TREES/$1.img"
}

@test "3. an unmanaged domain starts through the wrapper installed under QEMU's name, with the real QEMU, and is destroyed" {
	disk_image plain
	# The wrapper under another name than its own (as when it stands in for
	# the default QEMU): a domain the hook left no state for is not ours and
	# passes through. Under its own name the hook refuses such a domain at
	# prepare, and the wrapper refuses it when the hook did not run (3b).
	local emu=/usr/local/libexec/vsmmu/qemu-system-aarch64
	vsmmu_ns ln -sf vsmmu-qemu "$emu"
	mkdom plain none no "" | sed "s|<emulator>$WRAPPER</emulator>|<emulator>$emu</emulator>|" >"$T/plain.xml"
	grep -qF "<emulator>$emu</emulator>" "$T/plain.xml"
	run vsmmu_virsh define "$T/plain.xml"
	assert_success
	run vsmmu_virsh start plain
	assert_success
	local pid
	pid=$(qemu_pid plain)
	[ -n "$pid" ]
	# The wrapper exec'd the real QEMU in place: same pid, QEMU's image,
	# the argv libvirt built (argv[0] set to the real QEMU).
	[ "$(readlink "/proc/$pid/exe")" = "$QEMU" ]
	[ "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -1)" = "$QEMU" ]
	tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qx 'guest=plain,debug-threads=on'
	! tr '\0' '\n' <"/proc/$pid/cmdline" | grep -q 'arm-smmuv3\|iommufd'
	run vsmmu_ns cat /var/log/libvirt/qemu/plain.log
	assert_output --partial "$emu \\"
	refute_output --partial "vsmmu-qemu:"
	run vsmmu_virsh destroy plain
	assert_success
	run vsmmu_virsh domstate plain
	assert_output 'shut off'
	gone "$pid"
	vsmmu_virsh undefine --nvram plain >/dev/null
	vsmmu_ns rm -f "$emu"
}

@test "3b. the hook not run (disabled, as before a libvirtd restart): the wrapper refuses to start QEMU" {
	mkdom plain none no "" >"$T/plain.xml"
	run vsmmu_virsh define "$T/plain.xml"
	assert_success
	# libvirt runs only executables in qemu.d and re-lists it at every call.
	vsmmu_ns chmod 0644 /etc/libvirt/hooks/qemu.d/vsmmu
	run vsmmu_virsh start plain
	vsmmu_ns chmod 0755 /etc/libvirt/hooks/qemu.d/vsmmu
	assert_failure
	# libvirt quotes the domain log in its error when it reads it in time;
	# on a loaded host it may say only "failed to connect to monitor
	# socket". The log always holds the wrapper's refusal.
	run vsmmu_ns cat /var/log/libvirt/qemu/plain.log
	assert_output --partial "vsmmu-qemu: plain: the vsmmu hook did not run for this start"
	assert_output --partial "restart libvirtd"
	run vsmmu_virsh domstate plain
	assert_output 'shut off'
	[ -z "$(qemu_pid plain)" ]
	vsmmu_virsh undefine --nvram plain >/dev/null
}

@test "4a. a managed domain on a host whose SMMU changed: the hook refuses the start and names the fix" {
	mkdom stale accel no "" 0009:01:00.0 0019:01:00.0 >"$T/stale.xml"
	ctl grace rewrite "$T/stale.xml" >"$T/stale.rw.xml"
	run vsmmu_virsh define "$T/stale.rw.xml"
	assert_success
	conf_set stale
	run vsmmu_virsh start stale
	conf_set grace
	assert_failure
	assert_output --partial "vsmmu: hostdev 0009:01:00.0 is behind smmu3.0x0000100016000000"
	assert_output --regexp "run 'vsmmuctl apply [^']*'"
	refute_output --partial "0019:01:00.0"
	run vsmmu_virsh domstate stale
	assert_output 'shut off'
	[ -z "$(qemu_pid stale)" ]
	vsmmu_virsh undefine --nvram stale >/dev/null
}

@test "4b. a managed domain needing a vSMMU on QEMU 7.2: the wrapper refuses with the version it needs" {
	disk_image rootsmmu
	mkdom rootsmmu emulated no "<iommu model='smmuv3'/>" >"$T/rootsmmu.xml"
	ctl grace rewrite "$T/rootsmmu.xml" >"$T/rootsmmu.rw.xml"
	grep -q 'root-iommu="smmuv3"' "$T/rootsmmu.rw.xml"
	run vsmmu_virsh define "$T/rootsmmu.rw.xml"
	assert_success
	run vsmmu_virsh start rootsmmu
	assert_failure
	# The refusal is read from the domain log, as in 3b: virsh quotes it
	# only when libvirt reads the log in time.
	run vsmmu_ns cat /var/log/libvirt/qemu/rootsmmu.log
	assert_output --regexp "vsmmu-qemu: .*QEMU 7\.[0-9.]+ cannot run this plan, it needs QEMU 10\.2 or newer"
	run vsmmu_virsh domstate rootsmmu
	assert_output 'shut off'
	vsmmu_virsh undefine --nvram rootsmmu >/dev/null
}

@test "5. the planned expanders and root ports start under the real QEMU with the planned bus numbers" {
	disk_image topo
	# Three expanders, one with two root ports (two functions behind one SMMU).
	mkdom topo accel no "" 0009:01:00.0 0019:01:00.0 0000:01:00.0 0000:01:00.1 >"$T/topo.xml"
	ctl grace rewrite "$T/topo.xml" >"$T/topo.rw.xml"
	# No vfio-pci and no vSMMU (Debian's QEMU has neither devices nor the
	# arm-smmuv3 option): drop the hostdevs and the wrapper's plan, keep
	# every controller. Without hostdevs the domain is no longer one vsmmu
	# manages (the hook would rightly call its expanders stale): drop our
	# metadata and run the real QEMU directly.
	perl -0pe 's{<hostdev\b.*?</hostdev>}{}gs; s{<qemu:commandline>.*?</qemu:commandline>}{}gs;
		s{<vsmmu:config\b.*?</vsmmu:config>}{}gs; s{<emulator>[^<]*</emulator>}{<emulator>'"$QEMU"'</emulator>}' \
		"$T/topo.rw.xml" >"$T/topo.start.xml"
	! grep -q 'hostdev\|VSMMU_PLAN\|vsmmu:config' "$T/topo.start.xml"
	grep -q "model=.pcie-expander-bus." "$T/topo.start.xml"
	run vsmmu_virsh define "$T/topo.start.xml"
	assert_success
	vsmmu_virsh dumpxml --inactive topo >"$T/topo.dump.xml"
	# Expected: expander index -> busNr, root port index -> expander index.
	local x xs=() bnr n nports=0
	mapfile -t xs < <(xmllint --xpath "//controller[@model='pcie-expander-bus']/@index" "$T/topo.dump.xml" |
		grep -o '[0-9]\+')
	[ "${#xs[@]}" = 3 ]
	run vsmmu_virsh start topo
	assert_success
	run vsmmu_virsh qemu-monitor-command --hmp topo 'info pci'
	assert_success
	# "BUS ID" for every device that has an id.
	awk '/^ *Bus +[0-9]+,/ { b = $2; sub(/,/, "", b) }
		/^ *id "/ { gsub(/["\r]/, "", $2); if ($2 != "") print b + 0, $2 }' <<<"$output" >"$T/info"
	cat "$T/info"
	for x in "${xs[@]}"; do
		bnr=$(xmllint --xpath "string(//controller[@index='$x']/target/@busNr)" "$T/topo.dump.xml")
		[ -n "$bnr" ]
		grep -qx "0 pci.$x" "$T/info"
		# Every root port libvirt placed on this expander sits on its bus.
		n=0
		while read -r rp; do
			grep -qx "$bnr pci.$rp" "$T/info" || { echo "root port pci.$rp not on bus $bnr"; false; }
			n=$((n + 1))
		done < <(xmllint --xpath "//controller[@model='pcie-root-port'][address/@bus='$(printf '0x%02x' "$x")']/@index" \
			"$T/topo.dump.xml" 2>/dev/null | grep -o '[0-9]\+')
		[ "$n" -ge 1 ]
		nports=$((nports + n))
	done
	[ "$nports" = 4 ]
	run vsmmu_virsh destroy topo
	assert_success
	vsmmu_virsh undefine --nvram topo >/dev/null
}

@test "make install DESTDIR=X then make uninstall DESTDIR=X leaves no file in X" {
	local x=$T/x
	run make -C "$TOP" --no-print-directory B="$E2E_B" install DESTDIR="$x"
	assert_success
	[ -x "$x/usr/local/bin/vsmmuctl" ]
	[ -x "$x/usr/local/libexec/vsmmu/vsmmu-qemu" ]
	[ -x "$x/etc/libvirt/hooks/qemu.d/vsmmu" ]
	[ -f "$x/etc/vsmmu/vsmmu.conf" ]
	local m
	for m in man1/vsmmuctl.1 man8/vsmmu-hook.8 man8/vsmmu-qemu.8; do
		[ -f "$x/usr/local/share/man/$m" ]
		# The page renders without a roff warning (when man is installed).
		if command -v man >/dev/null; then
			run -0 --separate-stderr env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$x/usr/local/share/man/$m"
			[ -z "$stderr" ] || { echo "$stderr"; false; }
			assert_output --partial "NAME"
		fi
	done
	run make -C "$TOP" --no-print-directory B="$E2E_B" uninstall DESTDIR="$x"
	assert_success
	run find "$x" ! -type d
	assert_output ''
}
