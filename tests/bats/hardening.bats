#!/usr/bin/env bats
# Hardening: bad input on every channel (domain XML to vsmmuctl and to the
# hook, argv, VSMMU_* environment, VSMMU_PLAN, vsmmu.conf, sysfs, the run
# dir) and injected faults (vanishing sysfs nodes, unbinding mid-way, a
# broken or full run dir, the hook killed mid-start, 32 concurrent starts).
# Every case records what it tried and what it observed; the last test
# turns those records into the table in tests/README.md and fails if the
# committed file differs. Regenerate it with:
#   HARDENING_WRITE=1 bats tests/bats/hardening.bats

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/hookenv'

setup_file() {
	export TOP
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export HOOK="${VSMMU_TEST_HOOK:-$TOP/build/vsmmu-hook}"
	export CTL="${VSMMU_TEST_CTL:-$TOP/build/vsmmuctl}"
	export WRAPPER="${VSMMU_WRAPPER_BIN:-$TOP/build/vsmmu-qemu}"
	export ROWS="$BATS_RUN_TMPDIR/hardening-rows"
	mkdir -p "$ROWS"
	local t="$BATS_FILE_TMPDIR"
	"$TOP/tests/fixtures/mkhost" grace "$t/sys" >/dev/null
	sed -e "s/domain='0x0019'/domain='0x0000'/" "$TOP/examples/domains/grace-2gpu.xml" >"$t/src.xml"
	"$CTL" --sysfs "$t/sys" rewrite "$t/src.xml" >"$t/ok.xml" 2>/dev/null
}

setup() {
	hook_env_setup
}

# ---- recording ---------------------------------------------------------------

# Paths and temporary names as placeholders, '|' escaped, one line, bounded.
normalize() {
	local esc=${BATS_TEST_TMPDIR//\//%2F}
	sed -e "s|$BATS_TEST_TMPDIR|\$T|g" -e "s|$BATS_FILE_TMPDIR|\$F|g" -e "s|$TOP|\$TOP|g" \
		-e "s|$esc|\$T|g" \
		-e 's/\.tmp[A-Za-z0-9]\{6\}/.tmpXXXXXX/g' -e 's/|/\\|/g' |
		tr -d '\r' | head -1 | cut -c1-220
}

# record CHANNEL WHAT [OBSERVED]: a table row; OBSERVED defaults to the exit
# status and first stderr line of the last `run --separate-stderr`.
record() {
	local seen=${3:-}
	if [ -z "$seen" ]; then
		seen="exit $status: $(printf '%s\n' "$stderr" | grep -av '^$' | cat -v | normalize)"
	fi
	printf '| %s | %s | %s |\n' "$1" "$2" "$seen" >>"$ROWS/$(printf %03d "$BATS_TEST_NUMBER")"
}

# The last run failed with exactly one line on stderr that starts with $1.
one_line_refusal() {
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -ac .)" = 1 ] || {
		echo "stderr: $stderr"
		return 1
	}
	[[ "$stderr" == "$1"* ]] || {
		echo "stderr: $stderr"
		echo "wanted: $1..."
		return 1
	}
}

# ---- drivers -----------------------------------------------------------------

# The hook itself is bounded (hookenv: a blocked hook exits 124), because
# one that blocks would stall libvirtd.

all_orig() {
	for n in iommu vfio/devices/vfio0 vfio/devices/vfio1 vfio/devices/vfio2 \
		vfio/devices/vfio3 vfio/devices/vfio4; do
		[ "$(owner "$n")" = "$ORIG" ] || {
			echo "$n is $(owner "$n"), want $ORIG"
			return 1
		}
	done
}

no_tmp_left() { [ -z "$(find "$@" -name '*.tmp*' 2>/dev/null)" ]; }

# A managed domain XML with $1 inside <devices>, $2 before <domain>.
managed_xml() {
	printf '%s<domain type="kvm">\n  <name>h</name>\n  <metadata><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1" mode="accel"/></metadata>\n  <os firmware="efi"><type arch="aarch64" machine="virt">hvm</type></os>\n  <features><acpi/></features>\n  <devices>%s</devices>\n</domain>\n' "${2:-}" "${1:-}"
}

SMMU0=smmu3.0x0000000016000000
SMMU1=smmu3.0x0000100016000000

# plan [HOSTDEV0] [EXPANDER_BUS]: the wrapper.bats plan for the libvirt9-grace argv.
plan() {
	local h0=${1:-0009:01:00.0} bus=${2:-pci.2}
	printf '{"version":1,"mode":"accel","topology":"persistent","iommufd":"iommufd0",'
	printf '"expanders":['
	printf '{"id":"pci.1","index":1,"bus_nr":250,"slot":1,"smmu":"%s","numa_node":0,' "$SMMU0"
	printf '"vsmmu":{"id":"vsmmu.1","accel":true}},'
	printf '{"id":"pci.3","index":3,"bus_nr":240,"slot":2,"smmu":"%s","numa_node":1,' "$SMMU1"
	printf '"vsmmu":{"id":"vsmmu.3","accel":true}}],'
	printf '"root_ports":[{"id":"pci.2","bus":"pci.1","index":2,"slot":0,"chassis":2,"port":0},'
	printf '{"id":"pci.4","bus":"pci.3","index":4,"slot":0,"chassis":4,"port":0}],'
	printf '"hostdevs":[{"host":"%s","smmu":"%s","bus":"%s","expander":"pci.1"},' "$h0" "$SMMU0" "$bus"
	printf '{"host":"0019:01:00.0","smmu":"%s","bus":"pci.4","expander":"pci.3"}]}' "$SMMU1"
}

standin() {
	cat >"$T/qemu" <<'SH'
#!/bin/sh
if [ "$#" = 1 ] && [ "$1" = -version ]; then
	echo "QEMU emulator version 11.1.0 (stand-in)"; exit 0
fi
if [ "$#" = 2 ] && [ "$1" = -device ] && [ "$2" = arm-smmuv3,help ]; then
	printf 'arm-smmuv3 options:\n  accel=<bool>\n  primary-bus=<link<PCI>>\n'; exit 0
fi
printf '%s\n' "$0" "$@" >"$STANDIN_LOG"
SH
	chmod +x "$T/qemu"
}

# wrap [ENV=VALUE...] -- ARGS: the wrapper with the grace host and a stand-in QEMU.
wrap() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	standin
	mkdir -p "$RUN"
	env -i PATH=/usr/bin:/bin VSMMU_SYSFS="$SYS" VSMMU_RUNDIR="$RUN" VSMMU_CONF="$T/none.conf" \
		VSMMU_QEMU="$T/qemu" STANDIN_LOG="$T/argv" "${envs[@]}" "$WRAPPER" "$@"
}

grace_argv() {
	mapfile -t ARGS <"$TOP/tests/fixtures/argv/libvirt9-grace.argv"
	ARGS=("${ARGS[@]:1}")
}

big_file() { # PATH BYTES: a managed domain padded with a comment to BYTES
	{
		managed_xml
		printf '<!--'
		head -c "$2" /dev/zero | tr '\0' 'x'
		printf -- '-->\n'
	} >"$1"
}

# ---- domain XML --------------------------------------------------------------

@test "domain XML: billion laughs (DOCTYPE with nested entities) is refused" {
	{
		printf '<?xml version="1.0"?>\n<!DOCTYPE domain [\n <!ENTITY a "aaaaaaaaaa">\n'
		local prev=a
		for e in b c d e f g h i j; do
			printf ' <!ENTITY %s "&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;">\n' "$e" $prev $prev $prev $prev $prev $prev $prev $prev $prev $prev
			prev=$e
		done
		printf ']>\n'
		managed_xml '<description>&j;</description>'
	} >"$T/laughs.xml"
	run --separate-stderr hook h prepare begin <"$T/laughs.xml"
	one_line_refusal "vsmmu: h: "
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "domain XML (hook stdin)" "billion laughs: DOCTYPE, 10 levels of 10x entities"
	run --separate-stderr timeout 20 "$CTL" --sysfs "$SYS" plan "$T/laughs.xml"
	one_line_refusal "vsmmuctl: "
	record "domain XML (vsmmuctl plan FILE)" "billion laughs: DOCTYPE, 10 levels of 10x entities"
	[ ! -e "$RUN" ]
}

@test "domain XML: external entities (file:// and http://) are refused, nothing is fetched" {
	managed_xml '<description>&x;</description>' \
		'<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>' >"$T/file.xml"
	managed_xml '<description>&x;</description>' \
		'<!DOCTYPE domain [<!ENTITY x SYSTEM "http://192.0.2.1/x">]>' >"$T/http.xml"
	managed_xml '' '<!DOCTYPE domain SYSTEM "http://192.0.2.1/domain.dtd">' >"$T/dtd.xml"
	for x in file http dtd; do
		run --separate-stderr hook h prepare begin <"$T/$x.xml"
		one_line_refusal "vsmmu: h: "
		[[ "$stderr" != *root:* ]]
		record "domain XML (hook stdin)" "external $x entity/DTD: $(grep -o '<!DOCTYPE.*>' "$T/$x.xml" | head -1 | normalize)"
		run --separate-stderr timeout 20 "$CTL" --sysfs "$SYS" rewrite - <"$T/$x.xml"
		one_line_refusal "vsmmuctl: "
		[ -z "$output" ]
		record "domain XML (vsmmuctl rewrite -)" "external $x entity/DTD"
	done
	if command -v strace >/dev/null; then
		ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=socket,connect -o "$T/net" \
			"$CTL" --sysfs "$SYS" plan "$T/http.xml" || true
		[ ! -s "$T/net" ]
		record "domain XML (vsmmuctl plan FILE)" "http:// entity and DTD under strace -e socket,connect" "no socket() or connect() call"
	fi
}

@test "domain XML: XInclude is not processed" {
	managed_xml '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>' >"$T/xi.xml"
	run --separate-stderr "$CTL" --sysfs "$SYS" rewrite "$T/xi.xml"
	[[ "$output" != *root:* ]]
	record "domain XML (vsmmuctl rewrite FILE)" "xi:include of /etc/passwd" \
		"exit $status, /etc/passwd not included: $(printf '%s\n' "$stderr" | grep -v '^$' | normalize)"
}

@test "domain XML: input over the 4 MiB cap is refused (hook stdin, vsmmuctl file and stdin)" {
	big_file "$T/big.xml" $((4 * 1024 * 1024))
	run --separate-stderr hook h prepare begin <"$T/big.xml"
	one_line_refusal "vsmmu: h: "
	record "domain XML (hook stdin)" "4 MiB + 250 bytes of managed domain XML"
	# release needs no XML: it gives back what the records say (release.bats)
	run --separate-stderr hook h release end <"$T/big.xml"
	assert_success
	[ -z "$stderr" ]
	record "domain XML (hook stdin)" "same, at release end (release reads no XML)"
	run --separate-stderr bash -c 'head -c 100000000 /dev/zero | "$1" h prepare begin -' _ "$HOOK"
	one_line_refusal "vsmmu: h: "
	record "domain XML (hook stdin)" "100 MB of NUL bytes"
	run --separate-stderr "$CTL" --sysfs "$SYS" plan "$T/big.xml"
	one_line_refusal "vsmmuctl: "
	record "domain XML (vsmmuctl plan FILE)" "4 MiB + 250 bytes"
	run --separate-stderr "$CTL" --sysfs "$SYS" rewrite - <"$T/big.xml"
	one_line_refusal "vsmmuctl: "
	record "domain XML (vsmmuctl rewrite -)" "4 MiB + 250 bytes on stdin"
	[ ! -e "$RUN" ]
}

@test "domain XML: nesting deeper than libxml2's limit is refused" {
	{
		printf '<domain type="kvm"><metadata><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1"/></metadata><description>'
		for _ in $(seq 3000); do printf '<a>'; done
		for _ in $(seq 3000); do printf '</a>'; done
		printf '</description></domain>\n'
	} >"$T/deep.xml"
	run --separate-stderr hook h prepare begin <"$T/deep.xml"
	one_line_refusal "vsmmu: h: "
	record "domain XML (hook stdin)" "3000 nested elements"
	run --separate-stderr "$CTL" --sysfs "$SYS" plan "$T/deep.xml"
	one_line_refusal "vsmmuctl: "
	record "domain XML (vsmmuctl plan FILE)" "3000 nested elements"
}

@test "domain XML: malformed, truncated, NUL byte, wrong root, bad numbers" {
	printf '<domain><metadata><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1"' >"$T/trunc.xml"
	{ managed_xml | head -c 60; printf '\0'; managed_xml | tail -c +61; } >"$T/nul.xml"
	printf '<network><vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1"/></network>\n' >"$T/root.xml"
	managed_xml '<hostdev mode="subsystem" type="pci"><source><address domain="0x10000" bus="0x01" slot="0x00" function="0x0"/></source></hostdev>' >"$T/num.xml"
	managed_xml '<hostdev mode="subsystem" type="pci"><source><address domain="0x0009" bus="-1" slot="0x00" function="0x0"/></source></hostdev>' >"$T/neg.xml"
	managed_xml '<controller type="pci" index="99999999999999999999" model="pcie-root-port"/>' >"$T/idx.xml"
	printf '<?xml version="1.0" encoding="UTF-7"?>\n' >"$T/enc.xml"
	managed_xml >>"$T/enc.xml"
	for x in trunc nul root num neg idx enc; do
		run --separate-stderr hook h prepare begin <"$T/$x.xml"
		case $x in
		trunc) what="truncated inside <vsmmu:config" ;;
		nul) what="a NUL byte 60 bytes in" ;;
		root) what="<network> root holding <vsmmu:config>" ;;
		num) what="hostdev address domain='0x10000'" ;;
		neg) what="hostdev address bus='-1'" ;;
		idx) what="controller index='99999999999999999999'" ;;
		enc) what="encoding='UTF-7' declared on ASCII content" ;;
		esac
		record "domain XML (hook stdin)" "$what"
		[ "$status" != 0 ] || [ "$x" = enc ]
		[ "$status" -lt 128 ]
		run --separate-stderr "$CTL" --sysfs "$SYS" plan "$T/$x.xml"
		[ "$status" -lt 128 ]
		record "domain XML (vsmmuctl plan FILE)" "$what"
	done
	[ ! -e "$RUN" ]
}

@test "domain XML: 2000 hostdevs are refused or planned in bounded time" {
	local devs=""
	for i in $(seq 0 1999); do
		devs+=$(printf '<hostdev mode="subsystem" type="pci"><source><address domain="0x%04x" bus="0x01" slot="0x00" function="0x0"/></source></hostdev>' "$i")
	done
	managed_xml "$devs" >"$T/many.xml"
	run --separate-stderr timeout 30 "$CTL" --sysfs "$SYS" plan "$T/many.xml"
	[ "$status" != 124 ]
	[ "$status" -lt 128 ]
	record "domain XML (vsmmuctl plan FILE)" "2000 hostdevs (absent from the host)"
	run --separate-stderr hook h prepare begin <"$T/many.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "domain XML (hook stdin)" "2000 hostdevs (absent from the host)"
}

# ---- argv (the wrapper) ------------------------------------------------------

@test "argv: VSMMU_PLAN naming a hostdev or a bus absent from argv is refused" {
	grace_argv
	run --separate-stderr wrap VSMMU_PLAN="$(plan 0009:02:00.0)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	[ ! -e "$T/argv" ]
	record "VSMMU_PLAN" "hostdev 0009:02:00.0 that argv does not hold"
	run --separate-stderr wrap VSMMU_PLAN="$(plan 0009:01:00.0 pci.9)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "VSMMU_PLAN" "root port pci.9 that argv does not hold"
	run --separate-stderr wrap VSMMU_PLAN="$(plan | sed 's/"id":"pci.3","index":3/"id":"pci.7","index":7/')" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "VSMMU_PLAN" "expander pci.7 that argv does not hold"
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" -- "${ARGS[@]:0:14}"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	[ ! -e "$T/argv" ]
	record "argv" "a valid plan with the hostdev -device arguments cut off"
}

@test "VSMMU_PLAN: huge, malformed, deeply nested, wrong version or types are refused" {
	grace_argv
	local deep
	deep=$(printf '%.0s[' $(seq 5000))
	# (bats' run clobbers a global i: loops below use other names)
	# The kernel caps one environment string at 128 KiB, below the 256 KiB
	# cap of VSMMU_PLAN: a padded plan that fits is read like any other.
	run --separate-stderr wrap VSMMU_PLAN="$(head -c 120000 /dev/zero | tr '\0' ' ')$(plan)" \
		VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}"
	[ "$status" = 0 ]
	record "VSMMU_PLAN" "120000 spaces then a valid plan (the kernel refuses env strings over 128 KiB)"
	for p in '{"version":1,' "$deep" \
		'{"version":2,"mode":"accel","topology":"persistent","expanders":[],"root_ports":[],"hostdevs":[]}' \
		'{"version":1,"mode":"accel","topology":"persistent","expanders":{},"root_ports":[],"hostdevs":[]}' \
		'{"version":1,"mode":"accel","mode":"emulated","topology":"persistent","expanders":[],"root_ports":[],"hostdevs":[]}' \
		"$(plan | sed 's/"bus_nr":250/"bus_nr":9999999999999999999999/')" \
		"$(plan | sed 's/"smmu":"smmu3.0x0000000016000000","bus"/"smmu":"..\/..\/etc","bus"/')" ''; do
		run --separate-stderr wrap VSMMU_PLAN="$p" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}"
		[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
		[ ! -e "$T/argv" ]
		local what
		what=$(printf '%s' "$p" | head -c 90 | tr -s ' ' | normalize)
		[ ${#p} = 5000 ] && what="5000 nested ["
		[ -z "$p" ] && what="empty"
		record "VSMMU_PLAN" "$what"
	done
}

@test "argv: the wrapper execs only the configured QEMU" {
	grace_argv
	run --separate-stderr bash -c 'exec -a /bin/sh "$@"' _ env -i PATH=/usr/bin:/bin VSMMU_SYSFS="$SYS" \
		VSMMU_RUNDIR="$RUN" VSMMU_CONF="$T/none.conf" VSMMU_QEMU=/bin/true "$WRAPPER" -c 'touch '"$T/pwned"
	[ "$status" = 0 ]
	[ ! -e "$T/pwned" ]
	record "argv" "argv[0]=/bin/sh, args -c 'touch ...' (probe path, VSMMU_QEMU=/bin/true)" "exit $status: /bin/true ran, nothing touched"
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}"
	[ "$status" = 0 ]
	[ "$(head -1 "$T/argv")" = "$T/qemu" ]
	record "argv" "managed start: what runs" "the configured QEMU, argv[0] = its path"
	run -127 --separate-stderr env -i PATH=/usr/bin:/bin VSMMU_QEMU="$WRAPPER" VSMMU_CONF="$T/none.conf" "$WRAPPER" -version
	[ "$status" = 127 ]
	record "environment" "VSMMU_QEMU pointing at the wrapper itself"
	ln -s "$WRAPPER" "$T/qemu-link"
	run -127 --separate-stderr env -i PATH=/usr/bin:/bin VSMMU_QEMU="$T/qemu-link" VSMMU_CONF="$T/none.conf" "$WRAPPER" -version
	[ "$status" = 127 ]
	record "environment" "VSMMU_QEMU a symlink to the wrapper"
	run -127 --separate-stderr env -i PATH="$T:/usr/bin:/bin" VSMMU_QEMU=qemu VSMMU_CONF="$T/none.conf" "$WRAPPER" -version
	record "environment" "VSMMU_QEMU=qemu (relative, PATH has a qemu)" "exit $status: $(printf '%s\n' "$stderr" | grep -v '^$' | normalize)"
	[ "$status" = 127 ]
}

@test "argv: oversized and hostile QEMU arguments are refused before anything runs" {
	grace_argv
	local huge more=()
	huge=$(head -c 120000 /dev/zero | tr '\0' 'a')
	for i in $(seq 10); do more+=(-device "virtio-rng-pci,id=rng$i,x=$huge"); done
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}" "${more[@]}"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	[ ! -e "$T/argv" ]
	record "argv" "10 extra -device values of 120000 bytes (1.2 MB of argv)"
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}" \
		-device '{"driver":"vfio-pci","host":"0009:01:00.0","id":"hostdev0","bus":"pci.2","addr":"0x0"}'
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "argv" "the planned vfio-pci -device twice (same id)"
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}" \
		-device 'arm-smmuv3,primary-bus=pci.1,id=evil'
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "argv" "an extra arm-smmuv3 on a planned expander"
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}" \
		-device 'vfio-pci,host=0009:01:00.0,,iommufd=x,id=hostdev9,bus=pci.2'
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "argv" "key=value vfio-pci smuggling ',,iommufd=x' in host="
	run --separate-stderr wrap VSMMU_PLAN="$(plan)" VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1 -- "${ARGS[@]}" -device
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "argv" "a trailing -device without a value"
}

@test "run dir: the wrapper writes nothing (the hook fills the capability cache)" {
	command -v strace >/dev/null || skip "strace not installed"
	grace_argv
	standin
	mkdir -p "$RUN"
	# (LeakSanitizer cannot run under ptrace: off for an ASan build, see tools/check-asan)
	env -i PATH=/usr/bin:/bin VSMMU_SYSFS="$SYS" VSMMU_RUNDIR="$RUN" VSMMU_CONF="$T/none.conf" \
		VSMMU_QEMU="$T/qemu" VSMMU_PLAN="$(plan)" VSMMU_DRY_RUN=1 STANDIN_LOG="$T/argv" \
		ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=openat,open,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,link,symlink,chmod,fchmodat,chown,fchownat \
		-o "$T/trace" "$WRAPPER" "${ARGS[@]}" >/dev/null 2>&1
	# Every path written, created, renamed or removed by the wrapper itself
	# (the stand-in QEMU probes run as children: their writes are the shell's).
	grep -E 'O_WRONLY|O_RDWR|O_CREAT|creat\(|rename|unlink|mkdir|link\(|chmod|chown' "$T/trace" |
		grep -vE '"/dev/null"|= -1 ' | grep -oE '"[^"]*"' | tr -d '"' | sort -u >"$T/written"
	local bad
	bad=$(grep -v "^$T/argv$" "$T/written" || true)
	[ -z "$bad" ] || {
		echo "written: $bad"
		return 1
	}
	[ -z "$(ls -A "$RUN")" ]
	record "run dir" "wrapper under strace -f (open for write, creat, rename, unlink, mkdir, chmod, chown)" \
		"nothing written, the run dir left empty"
}

# ---- environment -------------------------------------------------------------

@test "environment: VSMMU_SYSFS, VSMMU_DEV, VSMMU_CONF pointing at the wrong things" {
	SYS=$T/nonexistent
	run --separate-stderr start h "$F/ok.xml"
	one_line_refusal "vsmmu: "
	record "environment" "VSMMU_SYSFS=a missing directory"
	all_orig
	SYS=$F/sys
	SYS=/etc
	run --separate-stderr start h "$F/ok.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "environment" "VSMMU_SYSFS=/etc (not a sysfs tree)"
	SYS=$F/sys
	DEV=$T/nodev
	run --separate-stderr start h "$F/ok.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "environment" "VSMMU_DEV=a missing directory"
	DEV=$T/dev
	CONF=$T
	run --separate-stderr start h "$F/ok.xml"
	one_line_refusal "vsmmu: "
	record "environment" "VSMMU_CONF=a directory"
	CONF=/dev/zero
	run --separate-stderr hook h prepare begin <"$F/ok.xml"
	one_line_refusal "vsmmu: "
	record "environment" "VSMMU_CONF=/dev/zero"
	all_orig
	[ ! -e "$RUN/h" ]
}

# ---- vsmmu.conf --------------------------------------------------------------

@test "vsmmu.conf: unknown keys, garbage, empty values, oversize are refused with file:line" {
	local nc=0
	for text in 'qemu_usr = x' 'just words' 'qemu =' 'log_level = loud' \
		"$(printf 'sysfs = /sys\n\x01\x02\xff = \xfe')"; do
		nc=$((nc + 1))
		printf '%s\n' "$text" >"$T/c$nc.conf"
		CONF=$T/c$nc.conf
		run --separate-stderr hook h prepare begin <"$F/ok.xml"
		one_line_refusal "vsmmu: h: $T/c$nc.conf:"
		record "vsmmu.conf" "$(printf '%s' "$text" | tr '\n' ';' | cat -v | normalize)"
	done
	printf 'qemu_user = +0\0\nqemu = /bin/sh\n' >"$T/nul.conf"
	CONF=$T/nul.conf
	run --separate-stderr hook h prepare begin <"$F/ok.xml"
	one_line_refusal "vsmmu: h: "
	record "vsmmu.conf" "qemu_user = +0<NUL>, then qemu = /bin/sh"
	{ for _ in $(seq 5000); do echo "# padding padding padding"; done; } >"$T/big.conf"
	CONF=$T/big.conf
	run --separate-stderr hook h prepare begin <"$F/ok.xml"
	one_line_refusal "vsmmu: h: "
	record "vsmmu.conf" "130 KB of comments (over the 64 KiB cap)"
	printf 'qemu_user = nosuchuser-vsmmu\n' >"$T/u.conf"
	CONF=$T/u.conf
	run --separate-stderr start h "$F/ok.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "vsmmu.conf" "qemu_user = nosuchuser-vsmmu"
	all_orig
	[ ! -e "$RUN/h" ]
}

# ---- sysfs -------------------------------------------------------------------

# A private copy of the host tree in SYS; D is device $1's directory in it.
copy_sys() {
	cp -a "$F/sys" "$T/sys"
	SYS=$T/sys
	D=$(readlink -f "$SYS/bus/pci/devices/$1")
}

@test "sysfs: an attribute that is a FIFO, a directory, a dangling link or garbage" {
	copy_sys 0009:01:00.0
	local d=$D
	for fault in fifo dir dangling garbage huge; do
		rm -rf "$d/vendor"
		case $fault in
		fifo) mkfifo "$d/vendor" ;;
		dir) mkdir "$d/vendor" ;;
		dangling) ln -s nowhere "$d/vendor" ;;
		garbage) printf '0x10de\n0xffff\n' >"$d/vendor" ;;
		huge) head -c 100000 /dev/zero | tr '\0' 1 >"$d/vendor" ;;
		esac
		run --separate-stderr hook h prepare begin <"$F/ok.xml"
		one_line_refusal "vsmmu: h: "
		record "sysfs" "vendor attribute of a planned device: $fault"
		run --separate-stderr timeout 10 "$CTL" --sysfs "$SYS" host
		one_line_refusal "vsmmuctl: "
		record "sysfs (vsmmuctl host)" "vendor attribute: $fault"
	done
	all_orig
}

@test "sysfs: links that escape the root, loop or point at nonsense" {
	copy_sys 0009:01:00.0
	local d=$D
	for fault in escape loop nonsmmu group driver; do
		cp -a "$d" "$T/saved"
		case $fault in
		escape) ln -sfn /etc "$d/iommu" ;;
		loop) ln -sfn iommu "$d/iommu" ;;
		nonsmmu) mkdir -p "$SYS/devices/platform/evil/iommu/smmu3.0xffffffffffffffff" &&
			ln -sfn ../../../platform/evil/iommu/smmu3.0xffffffffffffffff "$d/iommu" ;;
		group) ln -sfn ../../../../kernel/iommu_groups/-1 "$d/iommu_group" ;;
		driver) ln -sfn / "$d/driver" ;;
		esac
		run --separate-stderr start h "$F/ok.xml"
		[ "$status" = 1 ]
		record "sysfs" "$fault: $(for l in iommu iommu_group driver; do [ -L "$d/$l" ] && printf '%s -> %s  ' "$l" "$(readlink "$d/$l")"; done | normalize)"
		all_orig
		rm -rf "$d" && mv "$T/saved" "$d"
	done
	[ ! -e "$RUN/h" ]
}

@test "sysfs: a device that vanishes between prepare and start" {
	copy_sys 0009:01:00.0
	local d=$D
	run hook h prepare begin <"$F/ok.xml"
	assert_success
	rm "$SYS/bus/pci/devices/0009:01:00.0"
	run --separate-stderr hook h start begin <"$F/ok.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "sysfs" "device link removed between prepare and start"
	all_orig
	[ ! -e "$RUN/h/state.json" ]
	run hook h release end <"$F/ok.xml"
	assert_success
	all_orig
}

@test "sysfs: a device unbound from vfio-pci between prepare and start" {
	copy_sys 0009:01:00.0
	local d=$D
	run hook h prepare begin <"$F/ok.xml"
	assert_success
	rm "$d/driver"
	run --separate-stderr hook h start begin <"$F/ok.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "sysfs" "driver link removed between prepare and start"
	all_orig
	run hook h release end <"$F/ok.xml"
	assert_success
	all_orig
}

@test "sysfs: a device unbound after start; release still restores every node" {
	copy_sys 0009:01:00.0
	local d=$D
	run start h "$F/ok.xml"
	assert_success
	rm "$d/driver"
	rm -rf "$d/vfio-dev"
	run --separate-stderr hook h release end <"$F/ok.xml"
	assert_success
	all_orig
	record "sysfs" "driver and vfio-dev removed between start and release" "exit $status; every node back to its owner"
}

# ---- run dir -----------------------------------------------------------------

@test "run dir: a file in place of /run/vsmmu, or of the domain's dir" {
	: >"$RUN"
	run --separate-stderr start h "$F/ok.xml"
	one_line_refusal "vsmmu: h: "
	record "run dir" "a regular file in place of \$VSMMU_RUNDIR"
	all_orig
	rm "$RUN"
	mkdir -p "$RUN"
	: >"$RUN/h"
	run --separate-stderr start h "$F/ok.xml"
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "run dir" "a regular file in place of \$VSMMU_RUNDIR/<domain>"
	all_orig
	rm "$RUN/h"
	mkdir -p "$T/elsewhere"
	ln -s "$T/elsewhere" "$RUN/h"
	run --separate-stderr start h "$F/ok.xml"
	one_line_refusal "vsmmu: h: "
	[ -z "$(ls -A "$T/elsewhere")" ]
	record "run dir" "\$VSMMU_RUNDIR/<domain> a symlink to another directory"
	run hook h release end <"$F/ok.xml"
	all_orig
}

@test "run dir: corrupt state and node records at release" {
	run start h "$F/ok.xml"
	assert_success
	cp -a "$RUN" "$T/run.saved"
	printf '{"garbage' >"$RUN/h/state.json"
	run --separate-stderr hook h release end <"$F/ok.xml"
	record "run dir" "state.json truncated to '{\"garbage' before release"
	[ "$status" -lt 128 ]
	rm -rf "$RUN" && cp -a "$T/run.saved" "$RUN"
	printf 'nonsense' >"$(ls -d "$RUN"/.nodes/*iommu)"
	run --separate-stderr hook h release end <"$F/ok.xml"
	record "run dir" "the /dev/iommu record in .nodes replaced by 'nonsense' before release"
	[ "$status" -lt 128 ]
}

@test "run dir: full (a 64 KiB tmpfs) at start leaves nothing half written" {
	[ "$(id -u)" = 0 ] || skip "needs root for a private tmpfs"
	unshare -m true 2>/dev/null || skip "unshare -m not available"
	mkdir -p "$RUN"
	run --separate-stderr unshare -m bash -c '
		mount -t tmpfs -o size=64k,mode=0755 tmpfs "$1" || exit 99
		mkdir -p "$1/.nodes" 2>/dev/null
		head -c 10000000 /dev/zero >"$1/filler" 2>/dev/null
		env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin VSMMU_SYSFS="$2" VSMMU_DEV="$3" \
			VSMMU_RUNDIR="$1" VSMMU_CONF="$4" "$5" h prepare begin - <"$6" &&
		env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin VSMMU_SYSFS="$2" VSMMU_DEV="$3" \
			VSMMU_RUNDIR="$1" VSMMU_CONF="$4" "$5" h start begin - <"$6"
		rc=$?
		find "$1" -name "*.tmp*" | grep -q . && exit 98
		exit $rc' _ "$RUN" "$SYS" "$DEV" "$CONF" "$HOOK" "$F/ok.xml"
	[ "$status" != 99 ] || skip "cannot mount a tmpfs here"
	[ "$status" != 98 ]
	[ "$status" = 1 ] || { echo "status=$status stderr=$stderr"; false; }
	record "run dir" "\$VSMMU_RUNDIR on a full 64 KiB tmpfs at start begin"
	all_orig
}

@test "run dir: the hook killed at random points of start begin; release restores everything" {
	local kills=0
	for i in $(seq 1 40); do
		hook h prepare begin <"$F/ok.xml"
		# 0.1 ms .. 4 ms into start begin
		delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.4f", 0.0001 + rand() * 0.004 }')
		env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin VSMMU_SYSFS="$SYS" VSMMU_DEV="$DEV" \
			VSMMU_RUNDIR="$RUN" VSMMU_CONF="$CONF" timeout -s KILL "$delay" "$HOOK" h start begin - \
			<"$F/ok.xml" && : || kills=$((kills + 1))
		run --separate-stderr hook h release end <"$F/ok.xml"
		[ "$status" = 0 ] || {
			echo "release after a kill at ${delay}s: $stderr"
			return 1
		}
		all_orig || {
			echo "after a kill at ${delay}s"
			return 1
		}
		[ ! -e "$RUN/h" ]
		no_tmp_left "$RUN"
	done
	run --separate-stderr start h "$F/ok.xml"
	assert_success
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	run hook h release end <"$F/ok.xml"
	all_orig
	record "run dir" "40 starts SIGKILLed 0.1-4 ms in, each followed by release" \
		"after every release all nodes back to their owner, no temp file left; the next start and release work"
}

@test "run dir: 32 domains start at once, then release at once" {
	for i in $(seq 1 32); do
		(start "vm$i" "$F/ok.xml" 2>"$T/err$i"; echo $? >"$T/rc$i") &
	done
	wait
	for i in $(seq 1 32); do
		[ "$(cat "$T/rc$i")" = 0 ] || {
			cat "$T/err$i"
			return 1
		}
	done
	[ "$(owner iommu)" = "$QUID:$QGID:660" ]
	for i in $(seq 1 32); do
		(hook "vm$i" release end <"$F/ok.xml"; echo $? >"$T/rel$i") &
	done
	wait
	for i in $(seq 1 32); do [ "$(cat "$T/rel$i")" = 0 ]; done
	all_orig
	[ -z "$(ls -A "$RUN/.nodes")" ]
	no_tmp_left "$RUN"
	record "run dir" "32 domains started concurrently, then released concurrently" \
		"all 32 started; after the releases every node back to its owner, nothing left in the run dir"
}

# ---- the table ---------------------------------------------------------------

@test "tests/README.md holds the table these tests produce" {
	local n
	n=$(find "$ROWS" -type f | wc -l)
	# Every other test recorded rows (skipped ones do not: then only warn).
	[ "$n" -ge $((BATS_TEST_NUMBER - 1)) ] || skip "only $n of $((BATS_TEST_NUMBER - 1)) tests recorded rows (some skipped or filtered)"
	{
		# What precedes this table in tests/README.md is written by hand.
		sed '/^# Bad inputs and faults$/,$d' "$TOP/tests/README.md"
		cat <<'EOF'
# Bad inputs and faults

Generated by `tests/bats/hardening.bats` (do not edit: run
`HARDENING_WRITE=1 bats tests/bats/hardening.bats` to regenerate). Each row
is one input or fault the suite feeds to vsmmu-hook, vsmmuctl or vsmmu-qemu,
and what the program did: its exit status and the first line it printed on
stderr. `$T` and `$F` stand for the test's temporary directories.

The same channels are fuzzed by the libFuzzer targets under `tests/fuzz/`
(`make fuzz`): domain XML -> plan -> rewrite (a second rewrite changes
nothing), the prepare-time check against rewrite, QEMU argv
parse/edit/print, VSMMU_PLAN JSON -> inject, the runtime argv build, QEMU's
capability output, vsmmu.conf and sysfs link targets; their crashers
are kept under `tests/fuzz/regress/` and replayed by `tests/fuzz/run --replay`
and `make check-asan`.

| Channel | Bad input or fault | Observed |
|---|---|---|
EOF
		cat "$ROWS"/*
	} >"$BATS_RUN_TMPDIR/README.md"
	if [ "${HARDENING_WRITE:-}" = 1 ]; then
		cp "$BATS_RUN_TMPDIR/README.md" "$TOP/tests/README.md"
	fi
	diff -u "$TOP/tests/README.md" "$BATS_RUN_TMPDIR/README.md" || {
		echo "tests/README.md is stale: run HARDENING_WRITE=1 bats tests/bats/hardening.bats"
		return 1
	}
}
