#!/usr/bin/env bats
# The handoff between the hook (root, at start begin) and the wrapper (the
# QEMU user, when libvirt execs it) for a runtime-topology domain, each run
# as who runs it: the hook under the umask libvirtd may have (027), the
# wrapper as an unprivileged user (nobody, through setpriv). A managed start
# never reaches QEMU without its vSMMUs: the wrapper tells "not ours" (pass
# through) from "the hook did not run", "unreadable" and "unusable", and
# refuses the last three in one line naming the cause and the fix
# (docs/design-handoff.md). libvirt 9.0's own XML and argv for the domain:
# tests/fixtures/libvirt9-runtime.xml and argv/libvirt9-runtime.argv.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/hookenv'

DOM=vsmmu-runtime

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	export HOOK="${VSMMU_TEST_HOOK:-$TOP/build/vsmmu-hook}"
	export WRAPPER="${VSMMU_WRAPPER_BIN:-$TOP/build/vsmmu-qemu}"
}

setup() {
	hook_env_setup
	# Where nobody can read (bats' own directories are 0700).
	PUB=$(mktemp -d /tmp/vsmmu-handoff.XXXXXX)
	chmod 0755 "$PUB"
	"$TOP/tests/fixtures/mkhost" grace "$PUB/sys" >/dev/null
	SYS="$PUB/sys" RUN="$PUB/run"
	cp "$CONF" "$PUB/vsmmu.conf" && chmod 0644 "$PUB/vsmmu.conf"
	CONF="$PUB/vsmmu.conf"
	XML="$TOP/tests/fixtures/libvirt9-runtime.xml"
	mapfile -t ARGV <"$TOP/tests/fixtures/argv/libvirt9-runtime.argv"
	ARGV=("${ARGV[@]:1}")
	STATE="$RUN/$DOM/state.json"
}

teardown() {
	[ -z "${PUB:-}" ] || rm -rf "$PUB"
}

# wrapper PROGRAM [ENV=VALUE...]: as nobody, the environment libvirt gives
# QEMU plus ours, the final argv printed (dry run) instead of exec.
wrapper_as_nobody() {
	local prog=$1
	shift
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -i PATH=/usr/bin:/bin \
		VSMMU_SYSFS="$SYS" VSMMU_RUNDIR="$RUN" VSMMU_CONF="$CONF" VSMMU_QEMU=/bin/echo "$@" \
		"$prog" "${ARGV[@]}"
}

dry_run() { wrapper_as_nobody "$WRAPPER" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1; }

hook_under_027() { (umask 027 && start "$DOM" "$XML"); }

@test "the hook under umask 027 writes state nobody can read; the wrapper as nobody gives QEMU the vSMMUs" {
	run hook_under_027
	assert_success
	[ "$(stat -c %a "$RUN")" = 755 ]
	[ "$(stat -c %a "$RUN/$DOM")" = 755 ]
	[ "$(stat -c %a "$STATE")" = 644 ]
	run --separate-stderr dry_run
	assert_success
	[[ $stderr == "vsmmu-qemu: injected iommufd0, 3 vSMMUs"* ]]
	[ "$(grep -c '"driver":"arm-smmuv3"' <<<"$output")" = 3 ]
	[ "$(grep -c '"driver":"pxb-pcie"' <<<"$output")" = 3 ]
}

# A QEMU stand-in that counts its runs, as whoever runs it: one line per
# run in $RUNS ("probe -version", "probe -device", or "exec").
counting_qemu() {
	RUNS="$PUB/runs"
	: >"$RUNS" && chmod 0666 "$RUNS"
	cat >"$PUB/qemu" <<SH
#!/bin/sh
case "\$1" in
-version) echo "probe -version \$(id -u)" >>"$RUNS"; echo 'QEMU emulator version 11.1.3' ;;
-device) echo "probe -device \$(id -u)" >>"$RUNS"
	printf 'arm-smmuv3 options:\n  accel=<bool>\n  primary-bus=<link<PCI>>\n' ;;
*) echo "exec \$(id -u)" >>"$RUNS" ;;
esac
SH
	chmod 0755 "$PUB/qemu"
	printf 'qemu = %s\n' "$PUB/qemu" >>"$CONF"
}

# The wrapper as nobody, exec'ing the QEMU vsmmu.conf names.
exec_as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -i PATH=/usr/bin:/bin \
		VSMMU_SYSFS="$SYS" VSMMU_RUNDIR="$RUN" VSMMU_CONF="$CONF" "$WRAPPER" "${ARGV[@]}"
}

@test "a managed start runs QEMU once: the hook caches its capabilities as the QEMU user, the wrapper as nobody only reads them" {
	counting_qemu
	run hook_under_027
	assert_success
	# The hook probed at prepare, as the QEMU user, and left the cache for all to read.
	[ "$(cat "$RUNS")" = "$(printf 'probe -version %s\nprobe -device %s' "$QUID" "$QUID")" ]
	[ "$(stat -c %u:%a "$RUN/.qemu-caps")" = "0:644" ]
	grep -qx version=11.1.3 "$RUN/.qemu-caps"
	: >"$RUNS"
	run --separate-stderr exec_as_nobody
	assert_success
	[[ $stderr == "vsmmu-qemu: injected iommufd0, 3 vSMMUs"* ]]
	[ "$(cat "$RUNS")" = "exec $(id -u nobody)" ]
	# The next start: the cache is fresh, the hook probes nothing either.
	run hook "$DOM" release end <"$XML"
	: >"$RUNS"
	run hook_under_027
	assert_success
	run exec_as_nobody
	assert_success
	[ "$(cat "$RUNS")" = "exec $(id -u nobody)" ]
	# QEMU upgraded after prepare: the wrapper cannot trust the cache, so it
	# probes (as nobody) and still writes nothing.
	touch -d '2001-01-01' "$PUB/qemu"
	: >"$RUNS"
	run exec_as_nobody
	assert_success
	[ "$(cat "$RUNS")" = "$(printf 'probe -version %s\nprobe -device %s\nexec %s' \
		"$(id -u nobody)" "$(id -u nobody)" "$(id -u nobody)")" ]
	grep -qx version=11.1.3 "$RUN/.qemu-caps"
}

@test "the hook did not run (no state): the wrapper refuses and says to restart libvirtd" {
	run --separate-stderr dry_run
	assert_failure 1
	assert_output ''
	[ "$stderr" = "vsmmu-qemu: $DOM: the vsmmu hook did not run for this start (no state in $RUN): libvirt finds hooks when it starts, so restart libvirtd (systemctl restart libvirtd, or virtqemud) after installing vsmmu, then start the domain again" ]
}

@test "unreadable state (written by a hook that followed the umask): refused, naming the cause" {
	hook_under_027
	chmod 0750 "$RUN/$DOM"
	run --separate-stderr dry_run
	assert_failure 1
	assert_output ''
	[ "$stderr" = "vsmmu-qemu: $DOM: cannot read the state the vsmmu hook left for this start (cannot open $STATE: Permission denied); the QEMU user must be able to read it: restart libvirtd so that the installed hook (which writes it so) runs, and on a confined host install vsmmu's AppArmor rules (INSTALL, 'Confined hosts'), then start the domain again" ]
}

@test "corrupt, oversized or other-version state: refused as unusable" {
	hook_under_027
	cp "$STATE" "$PUB/good"
	printf '{"garbage' >"$STATE"
	run --separate-stderr dry_run
	assert_failure 1
	[[ $stderr == "vsmmu-qemu: $DOM: the state the vsmmu hook left for this start is unusable ($STATE: state: line 1: "* ]]
	[[ $stderr == *"it is damaged or from another vsmmu version; restart libvirtd after installing vsmmu, then start the domain again" ]]
	sed 's/"version": 1,/"version": 2,/' "$PUB/good" >"$STATE"
	run --separate-stderr dry_run
	assert_failure 1
	grep -qF "unusable ($STATE: state: version 2, this vsmmu reads version 1)" <<<"$stderr"
	# Larger than the bound: read as "no state" once (errno left by a
	# later call), which started the domain without its vSMMUs.
	{ cat "$PUB/good"; head -c 1100000 /dev/zero | tr '\0' ' '; } >"$STATE"
	run --separate-stderr dry_run
	assert_failure 1
	grep -qF "unusable ($STATE is larger than 1048576 bytes; refusing to read it)" <<<"$stderr"
	[ "$(grep -c . <<<"$stderr")" = 1 ]
	assert_output ''
}

@test "not ours: the wrapper under another name passes a domain the hook left no state for untouched" {
	ln -s "$(readlink -f "$WRAPPER")" "$PUB/qemu-system-aarch64"
	run --separate-stderr wrapper_as_nobody "$PUB/qemu-system-aarch64"
	assert_success
	assert_output "${ARGV[*]}"
	[ -z "$stderr" ]
}

@test "a domain named after every internal file starts, gets its vSMMUs and is released" {
	local names=(.lock .nodes .qemu-caps qemu-caps lock nodes state.json . .. '%2E' 'a,b' "$DOM")
	local n released=0
	for n in "${names[@]}"; do
		run start "$n" "$XML"
		assert_success
	done
	[ -f "$RUN/.lock" ] && [ -d "$RUN/.nodes" ]
	for n in "${names[@]}"; do
		ARGV[1]="guest=${n//,/,,},debug-threads=on" # libvirt doubles the commas
		run --separate-stderr dry_run
		assert_success
		[ "$(grep -c '"driver":"arm-smmuv3"' <<<"$output")" = 3 ]
	done
	# /dev/iommu is shared: held by every one of them until the last release
	[ "$(grep -c '^    "' "$RUN"/.nodes/*iommu)" = "${#names[@]}" ]
	for n in "${names[@]}"; do
		run hook "$n" release end <"$XML"
		assert_success
		released=$((released + 1))
		[ "$released" = "${#names[@]}" ] || [ "$(owner iommu)" = "$QUID:$QGID:660" ]
	done
	[ "$(owner iommu)" = "$ORIG" ]
	# what stays is shared by every domain: the lock, the records' directory, the QEMU cache
	[ "$(ls -A "$RUN" | grep -vx .qemu-caps)" = "$(printf '.lock\n.nodes')" ]
	[ -z "$(ls -A "$RUN/.nodes")" ]
}
