#!/usr/bin/env bats
# The native form (libvirt >= 11.10 per-bus <iommu>) through vsmmuctl and
# the hook, against the fake Grace tree: rewrite --native, check, show, the
# hook's stale check at prepare and the migrate/restore filter; and output
# a person can diff.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
load '../lib/hookenv'

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	export CTL="$TOP/build/vsmmuctl"
	export HOOK="${VSMMU_TEST_HOOK:-$TOP/build/vsmmu-hook}"
	local t="$BATS_FILE_TMPDIR"
	"$TOP/tests/fixtures/mkhost" grace "$t/sys" >/dev/null
	# The GPU behind smmu3.0x...16000000 and the NIC function behind
	# smmu3.0x...11000000, both on vfio-pci with cdevs vfio0 and vfio1.
	sed -e "s/domain='0x0019'/domain='0x0000'/" "$TOP/examples/domains/grace-2gpu.xml" >"$t/src.xml"
	VSMMU_CONF=/dev/null "$CTL" --sysfs "$t/sys" rewrite --native "$t/src.xml" >"$t/native.xml" 2>/dev/null
}

setup() {
	hook_env_setup
	GRACE="$F/sys"
	DOM="$TOP/examples/domains/grace-2gpu.xml"
	cd "$BATS_TEST_TMPDIR"
}

ctl() { VSMMU_CONF=/dev/null "$CTL" --sysfs "$GRACE" "$@"; }

# Lines of FILE that hold nothing but blanks.
blank_lines() { grep -c '^[[:space:]]\+$' "$1" || true; }

@test "rewrite --native: one per-bus <iommu> per expander, libvirt's iommufd, no wrapper" {
	run --separate-stderr ctl rewrite --native "$DOM"
	assert_success
	[ "$(grep -c '<iommu model="smmuv3">' <<<"$output")" -eq 2 ]
	# pciBus is the expander's controller index, not its busNr.
	local idx
	for idx in $(sed -n 's/.*<controller type="pci" index="\([0-9]*\)" model="pcie-expander-bus">.*/\1/p' <<<"$output"); do
		assert_output --partial "<driver pciBus=\"$idx\" accel=\"on\"/>"
	done
	assert_output --partial '  <iommufd enabled="yes"/>'
	refute_output --partial 'qemu:commandline'
	refute_output --partial VSMMU_PLAN
	assert_output --partial '<emulator>/usr/bin/qemu-system-aarch64</emulator>'
	assert_output --partial 'form="native"'
	grep -qF "note: native form: it needs libvirt >= 12.9.0" <<<"$stderr"
}

@test "rewrite --native: the emulator goes back to vsmmu.conf's qemu; --native and --wrapper exclude each other" {
	printf 'qemu = /opt/qemu/bin/qemu-system-aarch64\n' >"$T/q.conf"
	VSMMU_CONF="$T/q.conf" run "$CTL" --sysfs "$GRACE" rewrite --native "$DOM"
	assert_success
	assert_output --partial '<emulator>/opt/qemu/bin/qemu-system-aarch64</emulator>'
	run ctl rewrite --native --wrapper "$DOM"
	assert_failure 2
	assert_output 'vsmmuctl: rewrite takes --native or --wrapper, not both'
}

@test "rewrite: its native output comes back byte-identical, in the native form" {
	ctl rewrite "$F/native.xml" 2>/dev/null | cmp - "$F/native.xml"
	ctl rewrite --native "$F/native.xml" 2>/dev/null | cmp - "$F/native.xml"
}

@test "rewrite --wrapper turns the native form back into the wrapper form" {
	ctl rewrite --wrapper "$F/native.xml" >back.xml 2>/dev/null
	ctl rewrite "$F/src.xml" >direct.xml 2>/dev/null
	! grep -q '<iommu\|<iommufd\|form=' back.xml
	grep -q 'VSMMU_PLAN' back.xml
	# Only <emulator> differs: rewrite leaves it to apply.
	diff direct.xml back.xml | grep '^[<>]' >d.txt || true
	[ "$(grep -vc 'emulator' d.txt)" -eq 0 ]
}

@test "output a person can read: a diff shows only the real change, quote style aside" {
	local f host changed
	"$TOP/tests/fixtures/mkhost" kunpeng kunpeng >/dev/null
	for f in "$F/src.xml" "$TOP/examples/domains/kunpeng-nics.xml"; do
		host=$GRACE
		[[ $f != *kunpeng* ]] || host=kunpeng
		for form in --wrapper --native; do
			VSMMU_CONF=/dev/null "$CTL" --sysfs "$host" rewrite $form "$f" >out.xml 2>/dev/null
			[ "$(blank_lines out.xml)" -eq 0 ]
			# No element added after another's end tag on the same line.
			! grep -nE '(/>|</[a-zA-Z:]+>)[[:space:]]*<[a-zA-Z]' out.xml
			sed "s/'/\"/g" "$f" | diff - out.xml >d.txt || true
			# Lines of the input that changed: the root (qemu namespace),
			# <vsmmu:config> (now holding records) and <emulator>.
			changed=$(grep '^<' d.txt | grep -vcE '^< (<domain |    <vsmmu:config |    <emulator>)' || true)
			[ "$changed" -eq 0 ] || { cat d.txt; false; }
		done
	done
}

@test "output a person can read: four-space and tab indentation are kept" {
	sed -e 's/^\( *\)/\1\1/' "$F/src.xml" >four.xml
	ctl rewrite --native four.xml >out4.xml 2>/dev/null
	grep -q '^        <iommu model="smmuv3">$' out4.xml
	grep -q '^            <driver pciBus="[0-9]*" accel="on"/>$' out4.xml
	grep -q '^    <iommufd enabled="yes"/>$' out4.xml
	sed -e ':a;s/^\(\t*\)  /\1\t/;ta' "$F/src.xml" >tabs.xml
	ctl rewrite --native tabs.xml >outt.xml 2>/dev/null
	grep -q "$(printf '^\t\t<iommu model="smmuv3">$')" outt.xml
	grep -q "$(printf '^\t\t\t<address type="pci" domain="0x0000" bus="0x[0-9a-f]*" slot="0x00" function="0x0"/>$')" outt.xml
	[ "$(blank_lines out4.xml)" -eq 0 ] && [ "$(blank_lines outt.xml)" -eq 0 ]
}

@test "check: the native output fits; a device that changed SMMU is named" {
	run ctl check "$F/native.xml"
	assert_success
	cp -a "$GRACE" moved
	ln -sfn "$(readlink moved/bus/pci/devices/0000:01:00.0/iommu)" \
		"$(cd moved/bus/pci/devices/0009:01:00.0 && pwd -P)/iommu"
	VSMMU_CONF=/dev/null run "$CTL" --sysfs moved check "$F/native.xml"
	assert_failure 1
	assert_output --regexp 'hostdev 0009:01:00\.0 is behind smmu3\.0x0000000011000000 on this host, but is routed to expander pci\.[0-9]+, which mirrors smmu3\.0x0000000016000000.*fix: vsmmuctl apply'
}

@test "check: what apply cannot fix is reported without telling the user to run apply" {
	sed -e "s/<os firmware='efi'>/<os firmware='bios'>/" "$F/src.xml" >bios.xml
	run ctl check bios.xml
	assert_failure 1
	assert_line "the domain boots with <os firmware='bios'>: expanders need UEFI and ACPI; set <os firmware='efi'>"
	sed -e "s/bus='0x01' slot='0x00' function='0x0'/bus='0x7f' slot='0x00' function='0x0'/" "$F/src.xml" >gone.xml
	run ctl check gone.xml
	assert_failure 1
	refute_output --partial 'vsmmuctl apply'
	assert_output --partial 'no such PCI device'
}

@test "check and rewrite: no <acpi/> and no UEFI are fixed by rewrite, which says so" {
	sed -e "/<acpi\/>/d; s/<os firmware='efi'>/<os>/" "$F/src.xml" >bare.xml
	run ctl check bare.xml
	assert_failure 1
	assert_line --regexp '^the domain has no <features><acpi/>.*fix: vsmmuctl apply'
	run --separate-stderr ctl rewrite bare.xml
	assert_success
	assert_output --partial '<os firmware="efi">'
	assert_output --regexp '<features>[[:space:]]+<gic version="3"/>[[:space:]]+<acpi/>'
	grep -qF 'note: added <features><acpi/>' <<<"$stderr"
	grep -qF "note: set <os firmware='efi'>" <<<"$stderr"
	ctl rewrite bare.xml >fixed.xml 2>/dev/null
	run ctl check fixed.xml
	assert_success
}

@test "virt-install --print-xml style controllers without an index are numbered, not refused" {
	sed -e "s|    <console type='pty'/>|    <controller type='pci' model='pcie-root'/>\n    <controller type='pci' model='pcie-root-port'/>\n    <controller type='pci' model='pcie-root-port'/>\n&|" "$F/src.xml" >vi.xml
	run --separate-stderr ctl rewrite vi.xml
	assert_success
	assert_output --partial '<controller type="pci" model="pcie-root" index="0"/>'
	assert_output --partial '<controller type="pci" model="pcie-root-port" index="1"/>'
	assert_output --partial '<controller type="pci" model="pcie-root-port" index="2"/>'
	assert_output --partial '<controller type="pci" index="3" model="pcie-expander-bus">'
}

@test "plan: says the native form" {
	run --separate-stderr ctl plan "$F/native.xml"
	assert_success
	assert_line --index 0 --regexp "^mode accel \(native form: libvirt's vSMMUs\), 2 hostdevs"
}

@test "show: the native form's vSMMUs as libvirt names them" {
	run ctl show "$F/native.xml"
	assert_success
	assert_line --index 0 'domain grace-2gpu, vsmmu mode accel, native form'
	assert_output --regexp 'pcie-expander-bus busNr [0-9]+ node 0 mirrors smmu3\.0x0000000016000000 \[vSMMU iommu0, accel=on\]'
	assert_output --regexp 'pcie-expander-bus busNr [0-9]+ node 0 mirrors smmu3\.0x0000000011000000 \[vSMMU iommu1, accel=on\]'
	run ctl show --dot "$F/native.xml"
	assert_success
	assert_output --partial '"iommu0" -> "smmu3.0x0000000016000000" [style=dashed, label="mirrors"]'
}

@test "hook prepare: a native-form domain that fits starts; a stale one is refused with the apply command" {
	run --separate-stderr hook native prepare begin <"$F/native.xml"
	assert_success
	[ -z "$stderr" ]
	cp -a "$SYS" "$T/sys"
	ln -sfn "$(readlink -f "$T/sys/class/iommu/smmu3.0x0000100016000000")" "$T/sys/bus/pci/devices/0009:01:00.0/iommu"
	SYS="$T/sys"
	run --separate-stderr hook native prepare begin <"$F/native.xml"
	assert_failure 1
	grep -q "^vsmmu: hostdev 0009:01:00.0 is behind smmu3.0x0000100016000000 on this host.*run 'vsmmuctl apply native'$" <<<"$stderr"
}

@test "hook migrate/restore: a native-form domain comes back rewritten for this host in the native form" {
	run --separate-stderr hook native migrate begin <"$F/native.xml"
	assert_success
	assert_output ''
	cp -a "$SYS" "$T/sys"
	ln -sfn "$(readlink -f "$T/sys/class/iommu/smmu3.0x0000100016000000")" "$T/sys/bus/pci/devices/0009:01:00.0/iommu"
	SYS="$T/sys"
	run --separate-stderr hook native restore begin <"$F/native.xml"
	assert_success
	assert_output --partial 'form="native"'
	assert_output --partial 'smmu="smmu3.0x0000100016000000"'
	# The GPU's old expander goes with its <iommu>; the new one gets its own.
	[ "$(grep -c '<iommu model="smmuv3">' <<<"$output")" -eq 2 ]
	refute_output --partial 'smmu="smmu3.0x0000000016000000"'
	refute_output --partial VSMMU_PLAN
}
