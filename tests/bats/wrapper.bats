#!/usr/bin/env bats
# vsmmu-qemu against a recording stand-in QEMU (VSMMU_QEMU), fake Grace sysfs
# trees from tests/fixtures/mkhost, and the real Debian qemu-system-aarch64.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
WRAPPER=${VSMMU_WRAPPER_BIN:-$TOP/build/vsmmu-qemu}
REAL_QEMU=/usr/bin/qemu-system-aarch64
SMMU0=smmu3.0x0000000016000000
SMMU1=smmu3.0x0000100016000000

setup_file() {
	sh "$TOP/tests/fixtures/mkhost" grace "$BATS_FILE_TMPDIR/sys" >/dev/null
}

setup() {
	[ -x "$WRAPPER" ] || skip "$WRAPPER not built"
	export VSMMU_SYSFS=$BATS_FILE_TMPDIR/sys
	export VSMMU_RUNDIR=$BATS_TEST_TMPDIR/run
	export VSMMU_CONF=$BATS_TEST_TMPDIR/none.conf
	mkdir -p "$VSMMU_RUNDIR"
	unset VSMMU_PLAN VSMMU_DRY_RUN VSMMU_SKIP_CAPS
	LOG=$BATS_TEST_TMPDIR/argv
	PROBES=$BATS_TEST_TMPDIR/probes
	export STANDIN_LOG=$LOG STANDIN_PROBES=$PROBES
	export STANDIN_VERSION=11.1.0
	export STANDIN_HELP='arm-smmuv3 options:
  accel=<bool>           -  (default: false)
  primary-bus=<link<PCI>>
'
	standin=$BATS_TEST_TMPDIR/qemu-standin
	cat >"$standin" <<'SH'
#!/bin/sh
# Recording stand-in QEMU: answers the capability probes, records the rest.
if [ "$#" = 1 ] && [ "$1" = -version ]; then
	echo "QEMU emulator version $STANDIN_VERSION (stand-in)"
	echo probe >>"$STANDIN_PROBES"
	exit 0
fi
if [ "$#" = 2 ] && [ "$1" = -device ] && [ "$2" = arm-smmuv3,help ]; then
	printf '%s' "$STANDIN_HELP"
	exit 0
fi
printf '%s\n' "$@" >"$STANDIN_LOG"
SH
	chmod +x "$standin"
	export VSMMU_QEMU=$standin
}

# plan [MODE] [TOPOLOGY] [VSMMU_PROPS] [SMMU_OF_HOSTDEV0]
plan() {
	mode=${1:-accel} topo=${2:-persistent} props=${3:-} s0=${4:-$SMMU0}
	fd=; [ "$mode" = accel ] && fd='"iommufd":"iommufd0",'
	printf '{"version":1,"mode":"%s","topology":"%s",%s' "$mode" "$topo" "$fd"
	printf '"expanders":['
	printf '{"id":"pci.1","index":1,"bus_nr":250,"slot":1,"smmu":"%s","numa_node":0,' "$s0"
	printf '"vsmmu":{"id":"vsmmu.1","accel":true%s}},' "$props"
	printf '{"id":"pci.3","index":3,"bus_nr":240,"slot":2,"smmu":"%s","numa_node":1,' "$SMMU1"
	printf '"vsmmu":{"id":"vsmmu.3","accel":true%s}}],' "$props"
	printf '"root_ports":[{"id":"pci.2","bus":"pci.1","index":2,"slot":0,"chassis":2,"port":0},'
	printf '{"id":"pci.4","bus":"pci.3","index":4,"slot":0,"chassis":4,"port":0}],'
	printf '"hostdevs":[{"host":"0009:01:00.0","smmu":"%s","bus":"pci.2","expander":"pci.1"},' "$s0"
	printf '{"host":"0019:01:00.0","smmu":"%s","bus":"pci.4","expander":"pci.3"}]}' "$SMMU1"
}

# The argv of a fixture without its program name, in ARGS.
fixture() {
	mapfile -t ARGS <"$TOP/tests/fixtures/argv/$1"
	ARGS=("${ARGS[@]:1}")
}

# Line number (1-based) of the first recorded argument equal to $1.
line_of() {
	grep -nxF -- "$1" "$LOG" | head -1 | cut -d: -f1
}

refused() { # NEEDLE, then the wrapper's arguments
	needle=$1; shift
	run "$WRAPPER" "$@"
	assert_failure 1
	assert_output --partial "vsmmu-qemu: $needle"
	[ ! -e "$LOG" ]
}

@test "probe argv reaches QEMU byte-identical, -daemonize included" {
	probe=(-S -no-user-config -nodefaults -nographic -machine none,accel=kvm:tcg
	       -qmp unix:/x/qmp.monitor,server=on,wait=off -pidfile /x/qmp.pid -daemonize)
	run "$WRAPPER" "${probe[@]}"
	assert_success
	diff <(printf '%s\n' "${probe[@]}") "$LOG"
	[ ! -e "$PROBES" ]
}

@test "vsmmu.conf starting with a UTF-8 byte order mark is read like one without" {
	printf '\xef\xbb\xbfqemu = %s\n' "$VSMMU_QEMU" >"$VSMMU_CONF"
	unset VSMMU_QEMU
	run "$WRAPPER" -S -nodefaults
	assert_success
	assert_output ''
	diff <(printf '%s\n' -S -nodefaults) "$LOG"
}

@test "vsmmu.conf: '#' after a blank starts a comment; a quoted value keeps its '#'" {
	printf 'qemu = %s   # the real QEMU\nlog_level = error\t# quiet\n' "$VSMMU_QEMU" >"$VSMMU_CONF"
	cp "$VSMMU_QEMU" "$BATS_TEST_TMPDIR/qemu#2"
	unset VSMMU_QEMU
	run "$WRAPPER" -S
	assert_success
	assert_output ''
	diff <(printf '%s\n' -S) "$LOG"
	rm "$LOG"
	printf 'qemu = %s/qemu#2 # no blank before the first #\n' "$BATS_TEST_TMPDIR" >"$VSMMU_CONF"
	run "$WRAPPER" -S
	assert_success
	diff <(printf '%s\n' -S) "$LOG"
	rm "$LOG"
	mv "$BATS_TEST_TMPDIR/qemu#2" "$BATS_TEST_TMPDIR/my #qemu"
	printf 'qemu = "%s/my #qemu"  # quoted\n' "$BATS_TEST_TMPDIR" >"$VSMMU_CONF"
	run "$WRAPPER" -S
	assert_success
	diff <(printf '%s\n' -S) "$LOG"
	printf 'qemu = "/usr/bin/qemu" -enable-kvm\n' >"$VSMMU_CONF"
	run "$WRAPPER" -S
	assert_failure
	assert_output "vsmmu-qemu: $VSMMU_CONF:1: 'qemu' has text after its closing quote; only a # comment may follow it"
}

@test "pass-through keeps odd arguments untouched" {
	args=(-device 'virtio-net-pci,id=a,,b' '' '-set' 'device.x.y=1' $'two\tword' -S)
	run "$WRAPPER" "${args[@]}"
	assert_success
	diff <(printf '%s\n' "${args[@]}") "$LOG"
}

@test "libvirt 9.0 JSON argv: iommufd, one arm-smmuv3 after each expander, iommufd= on hostdevs" {
	fixture libvirt9-grace.argv
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	assert_output "vsmmu-qemu: injected iommufd0, 2 vSMMUs (vsmmu.1 on pci.1 for $SMMU0, vsmmu.3 on pci.3 for $SMMU1), iommufd= on 2 vfio-pci devices"
	obj=$(line_of '{"qom-type":"iommufd","id":"iommufd0"}')
	pxb1=$(grep -n '"id":"pci.1"' "$LOG" | cut -d: -f1)
	pxb3=$(grep -n '"id":"pci.3"' "$LOG" | cut -d: -f1)
	[ "$(sed -n "$((obj - 1))p" "$LOG")" = -object ]
	[ "$obj" -lt "$pxb1" ]
	[ "$(sed -n "$((pxb1 + 2))p" "$LOG")" = '{"driver":"arm-smmuv3","primary-bus":"pci.1","id":"vsmmu.1","accel":true}' ]
	[ "$(sed -n "$((pxb3 + 2))p" "$LOG")" = '{"driver":"arm-smmuv3","primary-bus":"pci.3","id":"vsmmu.3","accel":true}' ]
	[ "$(grep -c arm-smmuv3 "$LOG")" = 2 ]
	[ "$(grep -c '"iommufd":"iommufd0"' "$LOG")" = 2 ]
	grep -qxF '{"driver":"vfio-pci","host":"0009:01:00.0","id":"hostdev0","bus":"pci.2","addr":"0x0","iommufd":"iommufd0"}' "$LOG"
	! grep -q 'net0.*iommufd' "$LOG"
	[ "$(wc -l <"$LOG")" = $(( ${#ARGS[@]} + 6 )) ]
}

@test "key=value argv gets key=value injections" {
	fixture keyval-grace.argv
	VSMMU_PLAN=$(plan accel persistent ',"ats":"on","oas":"48"') run "$WRAPPER" "${ARGS[@]}"
	assert_success
	pxb1=$(grep -n '^pxb-pcie,.*id=pci.1' "$LOG" | cut -d: -f1)
	[ "$(sed -n "$((pxb1 - 2))p" "$LOG")" = iommufd,id=iommufd0 ]
	[ "$(sed -n "$((pxb1 + 2))p" "$LOG")" = arm-smmuv3,primary-bus=pci.1,id=vsmmu.1,accel=on,ats=on,oas=48 ]
	grep -qxF vfio-pci,host=0019:01:00.0,id=hostdev1,bus=pci.4,addr=0x0,iommufd=iommufd0 "$LOG"
}

@test "emulated mode: plain vSMMUs, no iommufd" {
	fixture keyval-grace.argv
	VSMMU_PLAN=$(plan emulated) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	assert_output --partial "injected 2 vSMMUs"
	grep -qxF arm-smmuv3,primary-bus=pci.3,id=vsmmu.3 "$LOG"
	! grep -q iommufd "$LOG"
}

@test "log_level: error is silent, info (the default) says what was injected, debug adds the final argv" {
	fixture keyval-grace.argv
	summary="vsmmu-qemu: injected iommufd0, 2 vSMMUs"
	printf 'log_level = error\n' >"$VSMMU_CONF"
	VSMMU_PLAN=$(plan) run --separate-stderr "$WRAPPER" "${ARGS[@]}"
	assert_success
	[ -z "$stderr" ]
	printf 'log_level = info\n' >"$VSMMU_CONF"
	VSMMU_PLAN=$(plan) run --separate-stderr "$WRAPPER" "${ARGS[@]}"
	[[ "$stderr" == "$summary"* ]]
	[ "${#stderr_lines[@]}" = 1 ]
	rm "$VSMMU_CONF"
	VSMMU_PLAN=$(plan) run --separate-stderr "$WRAPPER" "${ARGS[@]}"
	[[ "$stderr" == "$summary"* ]]
	[ "${#stderr_lines[@]}" = 1 ]
	printf 'log_level = debug\n' >"$VSMMU_CONF"
	VSMMU_PLAN=$(plan) run --separate-stderr "$WRAPPER" "${ARGS[@]}"
	assert_success
	[[ "${stderr_lines[0]}" == "$summary"* ]]
	# Then the argv QEMU got, exactly, one "exec:" line an argument.
	diff <(printf 'vsmmu-qemu: exec: %s\n' "$VSMMU_QEMU"; sed 's/^/vsmmu-qemu: exec: /' "$LOG") \
		<(printf '%s\n' "${stderr_lines[@]:1}")
}

@test "VSMMU_DRY_RUN prints the final argv and runs nothing" {
	fixture libvirt9-grace.argv
	VSMMU_PLAN=$(plan) VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 run --separate-stderr "$WRAPPER" "${ARGS[@]}"
	assert_success
	[ "${lines[0]}" = "$VSMMU_QEMU" ]
	[ "${#lines[@]}" = $(( ${#ARGS[@]} + 7 )) ]
	printf '%s\n' "${lines[@]}" | grep -qxF '{"driver":"arm-smmuv3","primary-bus":"pci.3","id":"vsmmu.3","accel":true}'
	[ ! -e "$LOG" ]
	[ ! -e "$PROBES" ]
}

@test "refused: expander missing from the argv" {
	fixture libvirt9-grace.argv
	ARGS=("${ARGS[@]/\"id\":\"pci.3\"/\"id\":\"pci.9\"}")
	VSMMU_PLAN=$(plan) refused "expander pci.3 (for $SMMU1): no -device with id pci.3" "${ARGS[@]}"
}

@test "refused: a plan of 199 expanders against an argv without them: 10 problems shown, then a count" {
	fixture libvirt9-grace.argv
	json='{"version":1,"mode":"accel","topology":"persistent","iommufd":"iommufd0","expanders":['
	for i in $(seq 1 199); do
		json+=$(printf '{"id":"pci.%d","index":%d,"bus_nr":%d,"slot":1,"smmu":"smmu3.0x%016x","vsmmu":{"id":"vsmmu.%d","accel":true}}' \
			"$i" "$i" $((255 - i)) $((0x16000000 + i)) "$i")
		[ "$i" = 199 ] || json+=,
	done
	json+='],"root_ports":[],"hostdevs":[]}'
	VSMMU_PLAN=$json run "$WRAPPER" "${ARGS[@]}"
	assert_failure 1
	[ "${#lines[@]}" = 11 ]
	assert_line --index 9 --regexp '^vsmmu-qemu: expander pci\.10 .*no -device with id pci\.10 '
	[[ "${lines[10]}" =~ ^vsmmu-qemu:\ \.\.\.\ and\ ([0-9]+)\ more\ problems\ not\ shown\ \(([0-9]+)\ in\ all\)$ ]]
	# one problem per expander at least, and the count adds up
	[ "${BASH_REMATCH[2]}" -ge 199 ]
	[ $((BASH_REMATCH[1] + 10)) = "${BASH_REMATCH[2]}" ]
	[ ! -e "$LOG" ]
}

@test "refused: expander bus_nr differs from the plan" {
	fixture keyval-grace.argv
	ARGS=("${ARGS[@]/bus_nr=250/bus_nr=200}")
	VSMMU_PLAN=$(plan) refused "expander pci.1: bus_nr is 200, the plan says 250" "${ARGS[@]}"
}

@test "refused: hostdev on a root port of the wrong expander" {
	fixture keyval-grace.argv
	ARGS=("${ARGS[@]/hostdev0,bus=pci.2/hostdev0,bus=pci.4}")
	VSMMU_PLAN=$(plan) refused "hostdev 0009:01:00.0: its root port pci.4 is on pci.3" "${ARGS[@]}"
}

@test "refused: emulated endpoint behind an accelerated expander" {
	fixture libvirt9-grace.argv
	ARGS+=(-device '{"driver":"pcie-root-port","id":"pci.6","bus":"pci.1","addr":"0x1"}'
	       -device '{"driver":"virtio-blk-pci","id":"disk0","bus":"pci.6"}')
	VSMMU_PLAN=$(plan) refused "-device virtio-blk-pci (disk0): emulated endpoint behind pci.1" "${ARGS[@]}"
}

@test "refused: -machine iommu=smmuv3" {
	fixture keyval-grace.argv
	ARGS=("${ARGS[@]/virt,gic-version=3/virt,gic-version=3,iommu=smmuv3}")
	VSMMU_PLAN=$(plan) refused "-machine: iommu=smmuv3" "${ARGS[@]}"
}

@test "refused: a second arm-smmuv3 on a planned root complex" {
	fixture keyval-grace.argv
	ARGS+=(-device arm-smmuv3,primary-bus=pci.3,id=extra)
	VSMMU_PLAN=$(plan) refused "-device arm-smmuv3 on pci.3: the plan puts its own vSMMU there" "${ARGS[@]}"
}

@test "refused: -set and -global aimed at vfio-pci, pxb-pcie, arm-smmuv3" {
	fixture keyval-grace.argv
	VSMMU_PLAN=$(plan) refused "-set device.hostdev1.host=0009:02:00.0: changes" "${ARGS[@]}" -set device.hostdev1.host=0009:02:00.0
	VSMMU_PLAN=$(plan) refused "-global pxb-pcie.bus_nr=3: changes every pxb-pcie" "${ARGS[@]}" -global pxb-pcie.bus_nr=3
}

@test "refused: the host no longer matches (hostdev behind another SMMU)" {
	fixture keyval-grace.argv
	sed_plan=$(plan | sed "s/$SMMU0/smmu3.0x0000000011000000/g")
	VSMMU_PLAN=$sed_plan refused "hostdev 0009:01:00.0: is behind $SMMU0 on this host, the plan says smmu3.0x0000000011000000" "${ARGS[@]}"
}

@test "refused: a plan naming a device absent from the host" {
	fixture keyval-grace.argv
	ARGS=("${ARGS[@]/0019:01:00.0/0019:05:00.0}")
	p=$(plan | sed 's/0019:01:00.0/0019:05:00.0/')
	VSMMU_PLAN=$p refused "hostdev 0019:05:00.0: not found on this host" "${ARGS[@]}"
}

@test "refused: a runtime plan whose controllers libvirt's argv already has" {
	fixture keyval-grace.argv
	VSMMU_PLAN=$(plan accel runtime) refused "pci.1: the runtime plan adds a controller with this id but libvirt's command line has one" "${ARGS[@]}"
}

@test "refused: malformed VSMMU_PLAN" {
	fixture keyval-grace.argv
	VSMMU_PLAN='{"version":1' refused "VSMMU_PLAN is not a JSON object" "${ARGS[@]}"
}

@test "QEMU 11.0 refuses cmdqv=on and ats=auto with the version message" {
	export STANDIN_VERSION=11.0.0
	fixture libvirt9-grace.argv
	VSMMU_PLAN=$(plan accel persistent ',"cmdqv":"on"') refused \
		"$VSMMU_QEMU: QEMU 11.0.0 cannot run this plan, it needs QEMU 11.1 or newer (arm-smmuv3 cmdqv)" "${ARGS[@]}"
	VSMMU_PLAN=$(plan accel persistent ',"ats":"auto"') refused \
		"$VSMMU_QEMU: QEMU 11.0.0 cannot run this plan, it needs QEMU 11.1 or newer (arm-smmuv3 property value 'auto')" "${ARGS[@]}"
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
}

# The cache the hook writes at prepare (lib/qemu/qemucaps.c's format).
write_caps() {
	printf 'path=%s\nsize=%s\nmtime=%s\nversion=%s\nprimary_bus=1\naccel=1\n' "$VSMMU_QEMU" \
		"$(stat -c %s "$VSMMU_QEMU")" "$(stat -c %.9Y "$VSMMU_QEMU")" "$1" \
		>"$VSMMU_RUNDIR/.qemu-caps"
}

@test "the wrapper reads the capability cache, keyed by path, size and mtime, and never writes it" {
	fixture keyval-grace.argv
	write_caps 11.1.0
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	[ ! -e "$PROBES" ]
	# What the cache says decides: a cached 11.0 refuses cmdqv without a probe.
	write_caps 11.0.0
	rm -f "$LOG"
	VSMMU_PLAN=$(plan accel persistent ',"cmdqv":"on"') refused \
		"$VSMMU_QEMU: QEMU 11.0.0 cannot run this plan, it needs QEMU 11.1" "${ARGS[@]}"
	[ ! -e "$PROBES" ]
	# Stale (QEMU changed since the hook wrote it): probed, and nothing written.
	write_caps 11.1.0
	cp "$VSMMU_RUNDIR/.qemu-caps" "$BATS_TEST_TMPDIR/caps"
	touch -d '2001-01-01' "$VSMMU_QEMU"
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	[ "$(wc -l <"$PROBES")" = 1 ]
	cmp "$VSMMU_RUNDIR/.qemu-caps" "$BATS_TEST_TMPDIR/caps"
	[ "$(ls -A "$VSMMU_RUNDIR")" = .qemu-caps ]
}

@test "a capability cache others can write is not trusted: the wrapper probes" {
	fixture keyval-grace.argv
	write_caps 11.1.0
	chmod 0666 "$VSMMU_RUNDIR/.qemu-caps"
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	[ "$(wc -l <"$PROBES")" = 1 ]
}

@test "an unwritable run dir does not stop the start" {
	fixture keyval-grace.argv
	export VSMMU_RUNDIR=$BATS_TEST_TMPDIR/absent/run
	VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_success
	[ -e "$LOG" ]
}

@test "real QEMU 7.2: -version passes through" {
	[ -x "$REAL_QEMU" ] || skip "no $REAL_QEMU"
	VSMMU_QEMU=$REAL_QEMU run "$WRAPPER" -version
	assert_success
	assert_line --index 0 --partial "QEMU emulator version 7.2"
}

@test "real QEMU 7.2: the libvirt probe argv daemonizes and writes its pidfile" {
	[ -x "$REAL_QEMU" ] || skip "no $REAL_QEMU"
	d=$BATS_TEST_TMPDIR
	VSMMU_QEMU=$REAL_QEMU run "$WRAPPER" -S -no-user-config -nodefaults -nographic \
		-machine none,accel=kvm:tcg -qmp "unix:$d/qmp.monitor,server=on,wait=off" \
		-pidfile "$d/qmp.pid" -daemonize
	assert_success
	[ -s "$d/qmp.pid" ]
	pid=$(cat "$d/qmp.pid")
	[ -S "$d/qmp.monitor" ]
	kill "$pid"
}

@test "real QEMU 7.2: a managed plan is refused with the version message" {
	[ -x "$REAL_QEMU" ] || skip "no $REAL_QEMU"
	fixture libvirt9-grace.argv
	VSMMU_QEMU=$REAL_QEMU VSMMU_PLAN=$(plan) run "$WRAPPER" "${ARGS[@]}"
	assert_failure 1
	assert_output --partial "vsmmu-qemu: $REAL_QEMU: QEMU 7.2."
	assert_output --partial "it needs QEMU 11.0 or newer (arm-smmuv3 accel=on)"
	VSMMU_QEMU=$REAL_QEMU VSMMU_PLAN=$(plan emulated) run "$WRAPPER" "${ARGS[@]}"
	assert_failure 1
	assert_output --partial "it needs QEMU 10.2 or newer (user-creatable arm-smmuv3 with primary-bus)"
}

@test "a configured QEMU that is the wrapper itself is refused, not exec'd in a loop" {
	VSMMU_QEMU=$WRAPPER run -127 "$WRAPPER" -S
	assert_failure 127
	assert_output --partial "is this wrapper, not QEMU"
}

@test "manage = hostdevs, at the default QEMU path: a vfio-pci start without the hook's verdict is refused; with 'not ours' it passes" {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	local emu=$BATS_TEST_TMPDIR/bin/qemu-system-aarch64
	ln -s "$WRAPPER" "$emu"
	local -a args=(-name guest=nova-1,debug-threads=on -device
		'{"driver":"vfio-pci","host":"0009:01:00.0","id":"hostdev0","bus":"pci.1","addr":"0x0"}')
	printf 'manage = hostdevs\n' >"$VSMMU_CONF"
	run --separate-stderr "$emu" "${args[@]}"
	assert_failure 1
	[[ $stderr == "vsmmu-qemu: nova-1: the vsmmu hook did not run for this start"*"restart libvirtd"* ]]
	[ ! -e "$LOG" ]
	# A start without a PCI hostdev is never the policy's: no verdict needed.
	run --separate-stderr "$emu" -name guest=plain -device virtio-blk-pci,id=vd0
	assert_success
	[ "$(cat "$LOG")" = "$(printf '%s\n' -name guest=plain -device virtio-blk-pci,id=vd0)" ]
	rm -f "$LOG"
	# The hook's "not ours" verdict (an opted-out domain): passed through untouched.
	install -d -m 0755 "$VSMMU_RUNDIR/nova-1"
	printf '{"version": 1, "domain": "nova-1", "managed": false}\n' >"$VSMMU_RUNDIR/nova-1/state.json"
	chmod 0644 "$VSMMU_RUNDIR/nova-1/state.json"
	run --separate-stderr "$emu" "${args[@]}"
	assert_success
	[ -z "$stderr" ]
	[ "$(cat "$LOG")" = "$(printf '%s\n' "${args[@]}")" ]
	# Under the default policy a domain without state is not ours.
	rm -rf "$VSMMU_RUNDIR/nova-1" "$LOG"
	: >"$VSMMU_CONF"
	run --separate-stderr "$emu" "${args[@]}"
	assert_success
	[ "$(cat "$LOG")" = "$(printf '%s\n' "${args[@]}")" ]
}
