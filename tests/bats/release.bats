#!/usr/bin/env bats
# release end gives back what the domain's records say, whatever the live
# XML or vsmmu.conf hold by then: each case is what an admin does while the
# domain runs (the hook as libvirt runs it: hookenv).

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
}

started() {
	run start ok "$F/ok.xml"
	assert_success
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	[ "$(owner vfio/devices/vfio0)" = "$QUID:$QGID:660" ]
}

given_back() {
	[ "$(owner iommu)" = "$ORIG" ]
	[ "$(owner vfio/devices/vfio0)" = "$ORIG" ]
	[ "$(owner vfio/devices/vfio1)" = "$ORIG" ]
	[ ! -e "$RUN/ok" ]
	[ -z "$(ls -A "$RUN/.nodes")" ]
}

@test "a typo in vsmmu.conf between start and release: reported in one line, every node given back" {
	started
	echo 'qemu_usr = libvirt-qemu' >>"$CONF"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_failure 1
	[ "$stderr" = "vsmmu: ok: $CONF:3: unknown key 'qemu_usr'; releasing with the rest of it" ]
	given_back
}

@test "a relative dev = added while it runs: reported, the nodes are still given back" {
	started
	printf 'dev = dev\n' >>"$CONF"
	run --separate-stderr hook ok release end <"$F/ok.xml"
	assert_failure 1
	[ "$(grep -c . <<<"$stderr")" = 1 ]
	grep -qF "vsmmu: ok: $CONF: 'dev = dev' is a relative path" <<<"$stderr"
	given_back
}

@test "the dev dir moved in vsmmu.conf while it runs: release gives back inside the one it had at start" {
	started
	mkdir "$T/otherdev"
	run --separate-stderr env -i LC_ALL=C PATH=/usr/bin:/bin VSMMU_SYSFS="$SYS" \
		VSMMU_DEV="$T/otherdev" VSMMU_RUNDIR="$RUN" VSMMU_CONF="$CONF" "$HOOK" ok release end - <"$F/ok.xml"
	assert_success
	given_back
}

@test "our metadata removed from the live XML while it runs: release still gives back" {
	started
	sed -e '/vsmmu:config/,/<\/vsmmu:config>/d' -e '/vsmmu:/d' -e '/VSMMU_PLAN/d' "$F/ok.xml" >"$T/live.xml"
	! grep -q 'urn:vsmmu\|vsmmu-qemu' "$T/live.xml"
	run --separate-stderr hook ok release end <"$T/live.xml"
	assert_success
	[ -z "$stderr" ]
	given_back
}

@test "a live XML the hook cannot read at release (over 4 MiB): release still gives back" {
	started
	{ cat "$F/ok.xml"; head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' ' '; } >"$T/big.xml"
	run --separate-stderr hook ok release end <"$T/big.xml"
	assert_success
	given_back
}

@test "an unmanaged domain's release reads nothing but the run dir and says nothing, even with a broken conf" {
	started
	echo 'no_such_key = 1' >>"$CONF"
	printf '<domain type="kvm"><name>plain</name></domain>\n' >"$T/plain.xml"
	run --separate-stderr hook plain release end <"$T/plain.xml"
	assert_success
	[ -z "$stderr" ]
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
}
