#!/usr/bin/env bats
# What the hook (root) trusts: only a run dir, .nodes directory and records
# that root alone can write, only character devices inside the dev dir,
# reached without following a symlink, and only absolute rundir/dev paths
# that no user can create or swap. Each case as the user who would hit it:
# a non-root user (nobody, through setpriv) plants what root later reads.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/hookenv'

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	export HOOK="${VSMMU_TEST_HOOK:-$TOP/build/vsmmu-hook}"
	export CTL="${VSMMU_TEST_CTL:-$TOP/build/vsmmuctl}"
	local t="$BATS_FILE_TMPDIR"
	"$TOP/tests/fixtures/mkhost" grace "$t/sys" >/dev/null
	sed -e "s/domain='0x0019'/domain='0x0000'/" "$TOP/examples/domains/grace-2gpu.xml" >"$t/src.xml"
	"$CTL" --sysfs "$t/sys" rewrite "$t/src.xml" >"$t/ok.xml"
}

setup() {
	hook_env_setup
	# A directory nobody can reach (bats' own are 0700), for the run dir.
	PUB=$(mktemp -d /tmp/vsmmu-trust.XXXXXX)
	chmod 0755 "$PUB"
	RUN="$PUB/run"
}

teardown() {
	[ -z "${PUB:-}" ] || rm -rf "$PUB"
}

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

# The record vsmmu writes for $1 (escaped as lib/hook/rundir.c does: [A-Za-z0-9_-] kept).
record_name() {
	local s=$1 out= c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in [A-Za-z0-9_-]) out+=$c ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
	done
	printf '%s' "$out"
}

# plant_record DIR TARGET: nobody writes, into DIR/.nodes, a record telling
# release to make TARGET root's and setuid (the exploit that made a
# setuid-root shell).
plant_record() {
	as_nobody sh -c 'mkdir -p "$1/.nodes" && printf "%s" "$3" >"$1/.nodes/$2"' _ "$1" \
		"$(record_name "$2")" \
		"{\"path\": \"$2\", \"uid\": 0, \"gid\": 0, \"mode\": 2541, \"holders\": [\"ok\"]}"
}

# A copy of a shell that nobody owns: what the attacker wants root to bless.
victim() {
	cp /bin/sh "$PUB/sh"
	chown nobody:nogroup "$PUB/sh"
	chmod 0755 "$PUB/sh"
}

@test "a world-writable run dir: nobody plants a record, release refuses it and changes nothing" {
	victim
	mkdir -m 0777 "$RUN"
	chmod 0777 "$RUN"
	plant_record "$RUN" "$PUB/sh"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_failure 1
	[ "$stderr" = "vsmmu: ok: $RUN can be written by group or others (mode 0777); vsmmu trusts only what root alone can write: chmod go-w $RUN, or remove it" ]
	[ "$(stat -c '%U:%a' "$PUB/sh")" = nobody:755 ]
	# and a start does not run on it either
	run --separate-stderr start ok "$F/ok.xml"
	assert_failure 1
	grep -qF "$RUN can be written by group or others" <<<"$stderr"
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "a run dir nobody owns: release refuses the records in it" {
	victim
	mkdir -m 0755 "$RUN"
	chown nobody:nogroup "$RUN"
	plant_record "$RUN" "$PUB/sh"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_failure 1
	[ "$stderr" = "vsmmu: ok: $RUN is owned by uid 65534, not by root; vsmmu trusts only what root created: remove it (rm -rf $RUN)" ]
	[ "$(stat -c '%U:%a' "$PUB/sh")" = nobody:755 ]
}

@test "a record nobody owns in root's .nodes: refused, the node stays as it is" {
	run start ok "$F/ok.xml"
	assert_success
	rec=$(ls -d "$RUN"/.nodes/*iommu)
	chown nobody:nogroup "$rec"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_failure 1
	grep -qF "vsmmu: ok: $rec is owned by uid 65534, not by root" <<<"$stderr"
	[ "$(grep -c . <<<"$stderr")" = 1 ]
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	# the cdevs, whose records are root's, are back
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
}

@test "a record root wrote for a path outside the dev dir is not acted on" {
	victim
	mkdir -p "$RUN/.nodes"
	printf '{"path": "%s", "uid": 0, "gid": 0, "mode": 493, "holders": ["ok"]}' "$PUB/sh" \
		>"$RUN/.nodes/$(record_name "$PUB/sh")"
	chmod 0600 "$RUN/.nodes/"*
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_failure 1
	grep -qF "vsmmu: ok: $PUB/sh is not inside the device directory $DEV" <<<"$stderr"
	[ "$(stat -c '%U:%a' "$PUB/sh")" = nobody:755 ]
}

@test "a symlinked cdev at start: refused, no record left; a later release leaves the real node alone" {
	mknod_fake "$T/elsewhere"
	rm "$DEV/vfio/devices/vfio0"
	ln -s "$T/elsewhere" "$DEV/vfio/devices/vfio0"
	run --separate-stderr start ok "$F/ok.xml"
	assert_failure 1
	grep -qF "$DEV/vfio/devices/vfio0 is a symbolic link, not a device node; refusing to change its owner" <<<"$stderr"
	[ "$(stat -c '%u:%g:%a' "$T/elsewhere")" = "$ORIG" ]
	[ -z "$(ls -A "$RUN/.nodes" 2>/dev/null)" ]
	[ "$(owner iommu)" = "$ORIG" ]
	# udev puts the real node back; the release after the refused start
	# must not give it the symlink's mode (0777)
	rm "$DEV/vfio/devices/vfio0"
	mknod_fake "$DEV/vfio/devices/vfio0"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_success
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "a cdev that is a regular file or sits behind a symlinked directory is refused" {
	rm "$DEV/vfio/devices/vfio1"
	: >"$DEV/vfio/devices/vfio1"
	run --separate-stderr start ok "$F/ok.xml"
	assert_failure 1
	grep -qF "$DEV/vfio/devices/vfio1 is not a character device; refusing to change its owner" <<<"$stderr"
	mknod_fake "$DEV/vfio/devices/vfio1"
	mv "$DEV/vfio/devices" "$T/devices"
	ln -s "$T/devices" "$DEV/vfio/devices"
	run --separate-stderr start ok "$F/ok.xml"
	assert_failure 1
	grep -qF "a directory on the way is a symbolic link or a file; refusing to change its owner" <<<"$stderr"
	[ "$(stat -c '%u:%g:%a' "$T/devices/vfio0")" = "$ORIG" ]
	[ "$(owner iommu)" = "$ORIG" ]
}

@test "vsmmu.conf: a relative rundir or dev, or one under a world-writable directory, is refused" {
	for kv in "rundir = run" "dev = dev"; do
		printf '%s\n' "$kv" >>"$CONF"
		# refused even where the environment overrides it, as here
		run --separate-stderr hook ok prepare begin <"$F/ok.xml"
		assert_failure 1
		grep -qF "'$kv' is a relative path; give an absolute one" <<<"$stderr"
		sed -i '$d' "$CONF"
	done
	mkdir -m 1777 "$PUB/open"
	chmod 1777 "$PUB/open"
	printf 'rundir = %s/open/vsmmu\n' "$PUB" >>"$CONF"
	run --separate-stderr env -i LC_ALL=C PATH=/usr/bin:/bin VSMMU_SYSFS="$SYS" VSMMU_DEV="$DEV" \
		VSMMU_CONF="$CONF" "$HOOK" ok prepare begin - <"$F/ok.xml"
	assert_failure 1
	[ "$stderr" = "vsmmu: ok: $CONF: 'rundir = $PUB/open/vsmmu' lies in $PUB/open, which anyone may write; choose a directory only root can write (the default is /run/vsmmu)" ]
	[ ! -e "$PUB/open/vsmmu" ]
	run --separate-stderr env -i LC_ALL=C PATH=/usr/bin:/bin VSMMU_SYSFS="$SYS" VSMMU_DEV="$DEV" \
		VSMMU_RUNDIR=relative/run VSMMU_CONF="$T/none.conf" "$HOOK" ok prepare begin - <"$F/ok.xml"
	assert_failure 1
	grep -qF "'VSMMU_RUNDIR = relative/run' is a relative path" <<<"$stderr"
}
