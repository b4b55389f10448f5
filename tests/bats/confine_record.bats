#!/usr/bin/env bats
# What the wrapper and the QEMU it execs open, recorded with strace on a
# real libvirt 9.0 (private daemon, tests/lib/libvirtd.bash) and the real
# Debian QEMU 7.2, for managed domains in both forms, and kept as the
# fixture tests/fixtures/confine/access-libvirt9.txt that the AppArmor
# rules are checked against (confine.bats). A change in what the code
# touches fails here; regenerate with CONFINE_WRITE=1 after updating
# apparmor/ and docs/confinement.md.
#
# Debian 12's QEMU 7.2 refuses every plan that has a vSMMU, so:
# - the starts through libvirt (strace attached to libvirtd, -f) record
#   libvirt's probe of the wrapper, the hook, and the wrapper of a
#   persistent and of a runtime managed domain up to its QEMU capability
#   check (which refuses), and the wrapper and QEMU of an unmanaged domain
#   that starts;
# - the hostdev plans (what a real host runs) are recorded by running the
#   installed wrapper the way libvirt runs it (libvirt's environment and
#   argv from domxml-to-native, as the QEMU user), as a dry run: the same
#   code up to the exec of QEMU.
# What QEMU itself opens for an injected iommufd and vfio cdevs cannot run
# here (nor in confine_record12.bats: no VFIO device, no KVM): the
# fixture's "qemu-source" lines hold those, from QEMU's hw/vfio/iommufd.c
# and backends/iommufd.c.
#
# libvirt's probe runs the wrapper under the daemon's profile, whose rule
# for it (apparmor/libvirtd.in: PUx, like libvirt's for /usr/bin/*) leaves
# it unconfined: the probe's QEMU lines are libvirt's business and left out.
#
# Per-domain and per-run parts are replaced by @{...} patterns
# (tests/confine/normalise): domain names, pids, BDFs, cdev numbers,
# temporary file names; paths in the fake sysfs tree become /sys paths,
# resolved the way the kernel resolves them (AppArmor sees /sys/devices/...,
# not the /sys/bus/pci/devices/ symlink).

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/libvirtd'
load '../lib/confine-record'

QEMU=/usr/bin/qemu-system-aarch64
CONF=/etc/vsmmu/vsmmu.conf
FIXTURE_NAME=tests/fixtures/confine/access-libvirt9.txt

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local why
	why=$(vsmmu_libvirt_missing xmllint make strace python3 setpriv "$QEMU" "$AAVMF_CODE" "$AAVMF_VARS")
	if [ -n "$why" ]; then
		export REC_SKIP="$why"
		return 0
	fi
	export ROOT="$BATS_FILE_TMPDIR/root" REC="$BATS_FILE_TMPDIR/rec"
	mkdir -p "$REC/daemon" "$REC/direct"
	make -C "$TOP" -j"$(nproc)" --no-print-directory B="$BATS_FILE_TMPDIR/build" install \
		DESTDIR="$ROOT" >"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log" >&2
		return 1
	}
	export CTL="$ROOT/usr/local/bin/vsmmuctl"
	export VSMMU_NS_EXTRA_DIRS="/etc/vsmmu /usr/local/libexec/vsmmu"
	vsmmu_ns_start
	vsmmu_ns mount -n --bind "$ROOT/usr/local/libexec/vsmmu" /usr/local/libexec/vsmmu
	vsmmu_ns sh -ec 'install -m 0644 "$1" "$2"; echo "sysfs = $3/grace" >>"$2"' sh \
		"$ROOT/etc/vsmmu/vsmmu.conf" "$CONF" "$TREES"
	vsmmu_ns mkdir -p "$TREES/dev/vfio/devices"
	vsmmu_ns "$TOP/tests/fixtures/mkhost" grace "$TREES/grace" >/dev/null
	# Character devices (/dev/null's numbers): the hook changes the owner of nothing else.
	vsmmu_ns sh -ec 'cd "$1/dev"; mknod -m 0600 iommu c 1 3
		for n in 0 1 2 3 4; do mknod -m 0600 vfio/devices/vfio$n c 1 3; done' sh "$TREES"
	vsmmu_ns chmod -R a+rX "$TREES"
	vsmmu_hook_install "$ROOT$HOOKFILE" vsmmu
	vsmmu_libvirtd_start
	record_daemon_scenarios
	record_direct_scenarios
	{
		vsmmu_ns "$TOP/tests/confine/trace-files" "$REC/daemon" \
			"probe=^$WRAPPER .*-machine none" "domain=^$WRAPPER .*-name guest=" \
			"domain=^${WRAPPER%/*}/qemu-system-aarch64 .*-name guest=" \
			"hook=^$HOOKFILE "
		vsmmu_ns "$TOP/tests/confine/trace-files" "$REC/direct" "domain=^$WRAPPER "
	} | grep -v '^probe/qemu-system-aarch64 ' |
		vsmmu_ns "$TOP/tests/confine/normalise" "$TREES/grace" "$TREES" >"$REC/recorded"
}

teardown_file() {
	[ -n "${REC_SKIP:-}" ] || vsmmu_ns_stop
}

setup() {
	[ -z "${REC_SKIP:-}" ] || skip "$REC_SKIP"
}

define() { # NAME < XML
	vsmmu_ns sh -ec 'truncate -s 1M "$1"; chmod 0666 "$1"' sh "$TREES/$1.img"
	cat >"$BATS_FILE_TMPDIR/$1.xml"
	vsmmu_virsh define "$BATS_FILE_TMPDIR/$1.xml" >/dev/null
}

record_daemon_scenarios() {
	local pid strace_pid
	pid=$(vsmmu_ns cat /run/libvirt/vsmmu-libvirtd.pid)
	strace -f -ff -y -qq -s 4096 -e signal=none -e trace="$CONFINE_TRACED" -o "$REC/daemon/t" -p "$pid" &
	strace_pid=$!
	sleep 1
	# libvirt probes the wrapper (daemon profile).
	vsmmu_virsh domcapabilities --emulatorbin "$WRAPPER" --arch aarch64 --machine virt \
		--virttype qemu >/dev/null
	# Persistent, emulated, the machine-wide vSMMU moved onto pcie.0: the
	# wrapper runs its whole check and QEMU 7.2 is refused.
	dom vsmmu-c-persist "$(meta emulated persistent)" "<iommu model='smmuv3'/>" >"$BATS_FILE_TMPDIR/vsmmu-c-persist.in.xml"
	vsmmu_ns "$CTL" --sysfs "$TREES/grace" rewrite "$BATS_FILE_TMPDIR/vsmmu-c-persist.in.xml" | define vsmmu-c-persist
	vsmmu_virsh start vsmmu-c-persist >/dev/null 2>&1 || true
	# Runtime, emulated, same vSMMU: the hook plans, the wrapper reads the
	# state it left.
	dom vsmmu-c-rt "$(meta emulated runtime)" "<iommu model='smmuv3'/>" | define vsmmu-c-rt
	vsmmu_virsh start vsmmu-c-rt >/dev/null 2>&1 || true
	# An unmanaged domain through the wrapper installed under QEMU's name,
	# as in e2e.bats test 3: no state is "not ours" there, and QEMU starts.
	# (Under its own name the wrapper refuses a start the hook never saw.)
	local emu=${WRAPPER%/*}/qemu-system-aarch64
	vsmmu_ns ln -sf vsmmu-qemu "$emu"
	dom vsmmu-c-plain "" "" | sed "s|<emulator>$WRAPPER</emulator>|<emulator>$emu</emulator>|" |
		define vsmmu-c-plain
	vsmmu_ns chmod 0644 "$HOOKFILE"
	# QEMU under strace -f is slow on a loaded machine.
	VSMMU_VIRSH_TIMEOUT=300 vsmmu_virsh start vsmmu-c-plain >/dev/null
	vsmmu_ns chmod 0755 "$HOOKFILE"
	sleep 2
	vsmmu_virsh destroy vsmmu-c-plain >/dev/null
	kill -INT "$strace_pid"
	wait "$strace_pid" || true
}

# libvirt's environment and argv for a defined domain, as NUL-separated
# words in $BATS_FILE_TMPDIR/NAME.argv.
native() {
	local -a words
	eval "words=($(vsmmu_virsh domxml-to-native qemu-argv --domain "$1"))"
	printf '%s\0' "${words[@]}" >"$BATS_FILE_TMPDIR/$1.argv"
}

# Run the installed wrapper on NAME's argv as libvirt would, as the QEMU
# user, under strace; extra K=V words first.
run_wrapper() {
	local name=$1 w envs=() args=()
	shift
	local -a words
	mapfile -d '' words <"$BATS_FILE_TMPDIR/$name.argv"
	for w in "${words[@]}"; do
		if [ "${#args[@]}" = 0 ] && [[ $w =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then envs+=("$w"); else args+=("$w"); fi
	done
	vsmmu_ns strace -f -ff -y -qq -s 4096 -e signal=none -e trace="$CONFINE_TRACED" -o "$REC/direct/t.$name" \
		setpriv --reuid=libvirt-qemu --regid=kvm --clear-groups \
		env -i "${envs[@]}" "$@" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 "${args[@]}" >/dev/null
}

record_direct_scenarios() {
	local hd
	hd="$(hostdev 0009 01) $(hostdev 0010 01) $(hostdev 0000 01)"
	# Persistent, accel: the plan in VSMMU_PLAN.
	dom vsmmu-c-pa "$(meta accel persistent)" "$hd" >"$BATS_FILE_TMPDIR/vsmmu-c-pa.in.xml"
	vsmmu_ns "$CTL" --sysfs "$TREES/grace" rewrite "$BATS_FILE_TMPDIR/vsmmu-c-pa.in.xml" | define vsmmu-c-pa
	native vsmmu-c-pa
	run_wrapper vsmmu-c-pa
	# Runtime, accel: the hook (as libvirt runs it) leaves the plan in the
	# run dir, the wrapper reads it.
	dom vsmmu-c-ra "$(meta accel runtime)" "$hd" | define vsmmu-c-ra
	native vsmmu-c-ra
	vsmmu_virsh dumpxml vsmmu-c-ra >"$BATS_FILE_TMPDIR/vsmmu-c-ra.live.xml"
	vsmmu_ns sh -ec 'for op in "prepare begin" "start begin"; do
		env -i PATH=/usr/bin:/bin VSMMU_DEV="$2/dev" "$1" vsmmu-c-ra $op - <"$3" || exit 1; done' \
		sh "$HOOKFILE" "$TREES" "$BATS_FILE_TMPDIR/vsmmu-c-ra.live.xml"
	run_wrapper vsmmu-c-ra
	# strace -ff names the files t.NAME.PID: make them t.PID for trace-files.
	local f
	for f in "$REC"/direct/t.*.*; do mv "$f" "$REC/direct/t.${f##*.}"; done
}

@test "the recorded accesses are the fixture's (a new access fails: see the header)" {
	confine_compare "$FIXTURE_NAME" "$REC/recorded"
}

@test "the recording saw every role: probe, hook, persistent and runtime wrapper, QEMU" {
	local r
	for r in probe/spawn hook/vsmmu domain/spawn domain/vsmmu-qemu domain/qemu-system-aarch64; do
		grep -q "^$r " "$REC/recorded" || { echo "no $r line"; cat "$REC/recorded"; false; }
	done
	grep -q '^domain/vsmmu-qemu r /run/vsmmu/@{name}/state.json$' "$REC/recorded"
	grep -q '^domain/vsmmu-qemu r /etc/vsmmu/vsmmu.conf$' "$REC/recorded"
	grep -q '^domain/vsmmu-qemu r /sys/devices/' "$REC/recorded"
}
