#!/usr/bin/env bats
# confine_record.bats on the modern stack: the Debian 13 + trixie-backports
# root (libvirt 12.9, QEMU 11.1) another suite builds under
# /var/cache/vsmmu-test, used read-only (tests/confine/in-stack mounts it
# read-only in a private mount namespace, with tmpfs over what libvirt
# writes, and runs its libvirtd there, chrooted). Skipped when the root is
# absent. QEMU 11.1 runs arm-smmuv3 with primary-bus, so here the managed
# domains start (persistent with an emulated vSMMU on pcie.0, runtime), and
# what QEMU opens with the wrapper's vSMMU is recorded. libvirt's private
# /dev for QEMU is off (namespaces = [], see in-stack). Accelerated plans
# (iommufd, vfio cdevs) still cannot run: no VFIO device, no KVM. The list
# is tests/fixtures/confine/access-libvirt12.txt (CONFINE_WRITE=1 to
# regenerate), checked against libvirt 12.9's AppArmor files by
# confine.bats.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/confine-record'

STACK_ROOT=${VSMMU_STACK_ROOT:-/var/cache/vsmmu-test/stack/current/root}
FIXTURE_NAME=tests/fixtures/confine/access-libvirt12.txt

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	local c
	[ "$(id -u)" = 0 ] || { export REC_SKIP="needs root"; return 0; }
	[ -x "$STACK_ROOT/usr/sbin/libvirtd" ] || { export REC_SKIP="no libvirt 12.x root at $STACK_ROOT"; return 0; }
	for c in strace python3 unshare nsenter; do
		command -v "$c" >/dev/null || { export REC_SKIP="$c not installed"; return 0; }
	done
	export F=$BATS_FILE_TMPDIR REC=$BATS_FILE_TMPDIR/rec M=$BATS_FILE_TMPDIR/m
	mkdir -p "$REC/daemon"
	make -C "$TOP" -j"$(nproc)" --no-print-directory B="$F/build" install DESTDIR="$F/inst" \
		>"$F/install.log" 2>&1 || { cat "$F/install.log" >&2; return 1; }
	# fd 3 closed: bats waits for every holder of its fd 3.
	unshare -m -n --propagation private "$TOP/tests/confine/in-stack" "$F" "$$" \
		>"$F/ns.log" 2>"$F/ns.err" 3>&- &
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q '^ready ' "$F/ns.log" && break
		sleep 0.2
	done
	grep -q '^ready ' "$F/ns.log" || { cat "$F/ns.err" >&2; return 1; }
	read -r _ HOLDER LIBVIRTD <"$F/ns.log"
	export HOLDER LIBVIRTD
	in_ns "$TOP/tests/fixtures/mkhost" grace "$M$TREES/grace" >/dev/null
	in_ns sh -ec 'echo "sysfs = $2/grace" >>"$1/etc/vsmmu/vsmmu.conf"; chmod -R a+rX "$1$2"' sh "$M" "$TREES"
	record
	{
		in_ns "$TOP/tests/confine/trace-files" "$REC/daemon" \
			"probe=^$WRAPPER .*-machine none" "domain=^$WRAPPER .*-name guest=" "hook=^$HOOKFILE "
	} | grep -v '^probe/qemu-system-aarch64 ' | sed -e "s| $M/| /|" -e "s| $M\$| /|" -e "s| $TREES/| $M$TREES/|" |
		in_ns "$TOP/tests/confine/normalise" "$M$TREES/grace" "$M$TREES" >"$REC/recorded"
}

teardown_file() {
	[ -n "${REC_SKIP:-}" ] || [ -z "${HOLDER:-}" ] || kill -TERM "$HOLDER" 2>/dev/null || true
}

setup() {
	[ -z "${REC_SKIP:-}" ] || skip "$REC_SKIP"
}

in_ns() { nsenter -t "$HOLDER" -m -n "$@"; }
in_root() { in_ns chroot "$M" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
virsh12() { in_root timeout 300 virsh -q -c qemu:///system "$@"; }

define() { # NAME < XML
	in_ns sh -ec 'truncate -s 1M "$1"; chmod 0666 "$1"; cat >"$2"' sh "$M$TREES/$1.img" "$M/tmp/$1.xml"
	virsh12 define "/tmp/$1.xml" >/dev/null
}

start_stop() { # NAME: start, wait for QEMU to run, destroy
	virsh12 start "$1" >"$F/$1.start" 2>&1 || return 0
	echo "started $1" >>"$F/$1.start"
	sleep 2
	virsh12 destroy "$1" >/dev/null
}

record() {
	local strace_pid
	# Not through in_ns (a function runs in a subshell): $! must be
	# strace's own pid (nsenter execs it) for the kill below.
	nsenter -t "$HOLDER" -m -n strace -f -ff -y -qq -s 4096 -e signal=none \
		-e trace="$CONFINE_TRACED" -o "$REC/daemon/t" -p "$LIBVIRTD" &
	strace_pid=$!
	sleep 1
	virsh12 domcapabilities --emulatorbin "$WRAPPER" --arch aarch64 --machine virt --virttype qemu >/dev/null
	dom vsmmu-c-persist "$(meta emulated persistent)" "<iommu model='smmuv3'/>" >"$F/persist.in.xml"
	in_ns "$F/build/vsmmuctl" --sysfs "$M$TREES/grace" rewrite "$F/persist.in.xml" | define vsmmu-c-persist
	start_stop vsmmu-c-persist
	# Runtime form: the definition stays as written, and a machine-wide
	# <iommu> would conflict with the wrapper's vSMMUs (it refuses it), so
	# without hostdevs this plan has none: QEMU starts with the hook's state
	# read and nothing injected.
	dom vsmmu-c-rt "$(meta emulated runtime)" "" | define vsmmu-c-rt
	start_stop vsmmu-c-rt
	dom vsmmu-c-plain "" "" | define vsmmu-c-plain
	in_ns chmod 0644 "$M$HOOKFILE"
	start_stop vsmmu-c-plain
	in_ns chmod 0755 "$M$HOOKFILE"
	kill -INT "$strace_pid"
	wait "$strace_pid" || true
}

@test "libvirt 12.9 + QEMU 11.1: the recorded accesses are the fixture's" {
	confine_compare "$FIXTURE_NAME" "$REC/recorded"
}

@test "libvirt 12.9 + QEMU 11.1: both managed forms started, the persistent one with the wrapper's vSMMU" {
	local d
	for d in vsmmu-c-persist vsmmu-c-rt; do
		run cat "$F/$d.start"
		assert_output --partial "started $d"
	done
	run in_ns cat "$M/var/log/libvirt/qemu/vsmmu-c-persist.log"
	assert_output --partial 'vsmmu-qemu: injected 1 vSMMU (vsmmu.0 on pcie.0 (emulated))'
	assert_output --partial 'shutting down, reason=destroyed' # it ran until destroyed
	grep -q '^domain/qemu-system-aarch64 ' "$REC/recorded"
	grep -q '^domain/vsmmu-qemu r /run/vsmmu/@{name}/state.json$' "$REC/recorded"
}
