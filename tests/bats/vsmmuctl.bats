#!/usr/bin/env bats
# vsmmuctl against fake sysfs trees built by tests/fixtures/mkhost.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	export TOP="$BATS_TEST_DIRNAME/../.."
	export CTL="$TOP/build/vsmmuctl"
	for kind in grace kunpeng other-iommu; do
		"$TOP/tests/fixtures/mkhost" "$kind" "$BATS_FILE_TMPDIR/$kind" >/dev/null
	done
	# 40 endpoints behind one SMMU; one endpoint behind each of 32 SMMUs
	"$TOP/tests/fixtures/mkhost" synthetic "$BATS_FILE_TMPDIR/one-smmu" 1 40 >/dev/null
	"$TOP/tests/fixtures/mkhost" synthetic "$BATS_FILE_TMPDIR/32-smmus" 32 32 >/dev/null
}

setup() {
	GRACE="$BATS_FILE_TMPDIR/grace"
	DOM="$TOP/examples/domains/grace-2gpu.xml"
	cd "$BATS_TEST_TMPDIR"
}

# A managed domain with the given hostdev BDFs.
domain_with() {
	printf '<domain type="kvm">\n  <name>t</name>\n  <metadata>\n'
	printf '    <vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1" %s/>\n' "${CONFIG:-}"
	printf '  </metadata>\n  <memory>1048576</memory>\n'
	printf '  <os firmware="efi">\n    <type arch="aarch64" machine="virt">hvm</type>\n  </os>\n'
	printf '  <features>\n    <acpi/>\n  </features>\n  <devices>\n'
	for bdf in "$@"; do
		IFS=':.' read -r d b s f <<<"$bdf"
		printf '    <hostdev mode="subsystem" type="pci" managed="yes">\n'
		printf '      <source>\n        <address domain="0x%s" bus="0x%s" slot="0x%s" function="0x%s"/>\n' "$d" "$b" "$s" "$f"
		printf '      </source>\n    </hostdev>\n'
	done
	printf '%s' "${EXTRA:-}"
	printf '  </devices>\n</domain>\n'
}

@test "host: lists every SMMUv3 keyed by its smmu3 name, with platform device and node" {
	run "$CTL" --sysfs "$GRACE" host
	assert_success
	[ "$(grep -c '^smmu3\.0x' <<<"$output")" -eq 10 ]
	assert_output --regexp 'smmu3\.0x0000000016000000 +arm-smmu-v3\.[0-9]+\.auto +0 '
	assert_output --regexp 'smmu3\.0x0000100016000000 +arm-smmu-v3\.[0-9]+\.auto +1 '
	assert_output --regexp '0009:01:00\.0 +10de:2342 +030200 +vfio-pci .*smmu3\.0x0000000016000000 +vfio0'
}

@test "host --json: machine-readable, devices without an iommu link say so" {
	run "$CTL" --sysfs "$BATS_FILE_TMPDIR/kunpeng" host --json
	assert_success
	assert_output --partial '"name": "smmu3.0x0000000200100000"'
	assert_output --regexp '"platform_device": "arm-smmu-v3\.[0-9]+\.auto",[[:space:]]+"numa_node": null'
	assert_output --regexp '"bdf": "0000:74:02.0"(.|[[:space:]])*"iommu": "none"'
}

@test "VSMMU_SYSFS selects the sysfs root like --sysfs" {
	VSMMU_SYSFS="$GRACE" run "$CTL" host
	assert_success
	assert_output --partial 'smmu3.0x0000000011000000'
}

@test "plan: one expander per SMMU, NUMA cells from numatune, one vSMMU each" {
	run "$CTL" --sysfs "$GRACE" plan "$DOM"
	assert_success
	assert_output --regexp 'pci\.[0-9]+ +[0-9]+ +[0-9]+-[0-9]+ +0 +0x[0-9a-f]+ +smmu3\.0x0000000016000000 +vsmmu\.'
	assert_output --regexp 'pci\.[0-9]+ +[0-9]+ +[0-9]+-[0-9]+ +1 +0x[0-9a-f]+ +smmu3\.0x0000100016000000 +vsmmu\.'
	assert_output --regexp 'pci\.[0-9]+ +pci\.[0-9]+ +0x00 +0009:01:00\.0'
	# Its disk and NIC have no PCI address yet: libvirt would put them on a
	# spare port behind an accelerated vSMMU, so spares wait.
	refute_output --partial '(spare)'
	assert_output --partial 'note: no spare root ports yet: 2 device(s) have no PCI address'
}

@test "plan: spare-ports adds empty root ports once every device has an address" {
	CONFIG="spare-ports='2'" domain_with 0009:01:00.0 >d.xml
	run "$CTL" --sysfs "$GRACE" plan d.xml
	assert_success
	[ "$(grep -c '(spare)' <<<"$output")" -eq 2 ]
}

@test "plan --json reads from stdin and carries the versioned plan" {
	run "$CTL" --sysfs "$GRACE" plan - --json <"$DOM"
	assert_success
	assert_output --partial '"version":1'
	assert_output --partial '"host":"0019:01:00.0"'
	assert_output --partial '"iommufd":"iommufd0"'
}

@test "rewrite: libvirt's schema accepts the result and a second rewrite is byte-identical" {
	"$CTL" --sysfs "$GRACE" rewrite "$DOM" >once.xml
	run virt-xml-validate once.xml domain
	assert_success
	"$CTL" --sysfs "$GRACE" rewrite once.xml >twice.xml
	cmp once.xml twice.xml
	grep -q "<!-- Two GH200 GPUs" once.xml
	[ "$(grep -c 'model="pcie-expander-bus"' once.xml)" -eq 2 ]
}

@test "rewrite: a device on a bus the domain does not declare keeps it; a second rewrite is byte-identical" {
	# libvirt adds the missing controller pci.2 for the NIC: vsmmu must not
	# put a root port of its own at index 2, behind which the NIC would sit.
	EXTRA='    <interface type="network"><source network="default"/><address type="pci" domain="0x0000" bus="0x02" slot="0x00" function="0x0"/></interface>
' CONFIG="mode='emulated'" domain_with 0009:01:00.0 >d.xml
	"$CTL" --sysfs "$GRACE" rewrite d.xml >once.xml
	run grep -c 'index="2"' once.xml
	assert_output 0
	"$CTL" --sysfs "$GRACE" rewrite once.xml >twice.xml
	cmp once.xml twice.xml
	run "$CTL" --sysfs "$GRACE" check once.xml
	assert_success
}

@test "rewrite: xmlns:qemu bound to another URI is refused at once, naming the fix" {
	domain_with 0009:01:00.0 | sed 's|<domain type="kvm">|<domain type="kvm" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.1">|' >d.xml
	run "$CTL" --sysfs "$GRACE" rewrite d.xml
	assert_failure 2
	assert_output "vsmmuctl: <domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.1'>: the prefix qemu names another namespace than libvirt's http://libvirt.org/schemas/domain/qemu/1.0, so libvirt ignores <qemu:...> elements; fix the xmlns:qemu URI"
}

@test "rewrite: a <qemu:commandline> without xmlns:qemu is refused at once, naming the fix" {
	domain_with 0009:01:00.0 | sed 's|</devices>|</devices><qemu:commandline><qemu:arg value="-S"/></qemu:commandline>|' >d.xml
	run "$CTL" --sysfs "$GRACE" rewrite d.xml
	assert_failure 2
	assert_output --regexp "^vsmmuctl: domain XML: XML namespace error at line [0-9]+: Namespace prefix qemu on (commandline|arg) is not defined; declare each prefix on the root: <domain xmlns:PREFIX='URI'>\$"
}

@test "rewrite: hand-edited records naming one expander for two SMMUs: each SMMU gets its own, once" {
	"$CTL" --sysfs "$GRACE" rewrite "$DOM" 2>/dev/null |
		sed 's|<vsmmu:expander index="2" smmu="smmu3.0x0000100016000000"/>|<vsmmu:expander index="1" smmu="smmu3.0x0000100016000000"/>|' >edited.xml
	grep -q '<vsmmu:expander index="1" smmu="smmu3.0x0000100016000000"/>' edited.xml
	"$CTL" --sysfs "$GRACE" rewrite edited.xml >once.xml 2>/dev/null
	"$CTL" --sysfs "$GRACE" rewrite once.xml >twice.xml 2>/dev/null
	cmp once.xml twice.xml
	run grep -o '<vsmmu:expander index="[0-9]*" smmu="[^"]*"/>' once.xml
	assert_line --index 0 '<vsmmu:expander index="1" smmu="smmu3.0x0000000016000000"/>'
	assert_line --index 1 --regexp '^<vsmmu:expander index="([02-9]|[1-9][0-9]+)" smmu="smmu3.0x0000100016000000"/>$'
	[ "${#lines[@]}" = 2 ]
}

@test "rewrite: retired expanders, one hung from the other, both go in one rewrite" {
	# Records for two SMMUs no hostdev is behind; pci.6 sits on pci.5.
	EXTRA='    <controller type="pci" index="5" model="pcie-expander-bus"><model name="pxb-pcie"/><target busNr="200"/><address type="pci" domain="0x0000" bus="0x00" slot="0x05" function="0x0"/></controller>
    <controller type="pci" index="6" model="pcie-expander-bus"><model name="pxb-pcie"/><target busNr="180"/><address type="pci" domain="0x0000" bus="0x05" slot="0x00" function="0x0"/></controller>
' domain_with 0009:01:00.0 |
		sed 's|<vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1" />|<vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1"><vsmmu:expander index="5" smmu="smmu3.0x0000000012000000"/><vsmmu:expander index="6" smmu="smmu3.0x0000000011000000"/></vsmmu:config>|' >d.xml
	grep -q 'index="6" smmu=' d.xml
	"$CTL" --sysfs "$GRACE" rewrite d.xml >once.xml
	"$CTL" --sysfs "$GRACE" rewrite once.xml >twice.xml
	cmp once.xml twice.xml
	run grep -cE 'index="(5|6)"' once.xml
	assert_output 0
}

@test "rewrite: every example domain on every example host validates" {
	for host in grace kunpeng; do
		for dom in "$TOP"/examples/domains/*.xml; do
			if "$CTL" --sysfs "$BATS_FILE_TMPDIR/$host" rewrite "$dom" >out.xml 2>err.txt; then
				virt-xml-validate out.xml domain >/dev/null
			else
				grep -q 'no such PCI device' err.txt  # the other host's domain
			fi
		done
	done
}

@test "rewrite: an unmanaged domain comes back byte for byte" {
	sed '/vsmmu:config/d' "$DOM" >plain.xml
	run "$CTL" --sysfs "$GRACE" rewrite plain.xml
	assert_success
	"$CTL" --sysfs "$GRACE" rewrite plain.xml | cmp - plain.xml
}

@test "rewrite: <iommu model='nestedSmmuv3'/> opts a domain in" {
	sed '/vsmmu:config/d; s|</devices>|<iommu model="nestedSmmuv3"/></devices>|' "$DOM" >nested.xml
	run "$CTL" --sysfs "$GRACE" rewrite nested.xml
	assert_success
	refute_output --partial 'nestedSmmuv3'
	assert_output --partial '<vsmmu:config xmlns:vsmmu="urn:vsmmu:domain:1" mode="accel">'
}

@test "check: 0 on the rewritten domain, 1 with one line per problem before" {
	"$CTL" --sysfs "$GRACE" rewrite "$DOM" >done.xml
	run "$CTL" --sysfs "$GRACE" check done.xml
	assert_success
	run "$CTL" --sysfs "$GRACE" check "$DOM"
	assert_failure 1
	assert_line --regexp '^hostdev 0009:01:00\.0 is not on a root port of an expander for smmu3\.0x0000000016000000.*fix: vsmmuctl apply'
	assert_line --regexp '^hostdev 0019:01:00\.0 '
}

@test "check: a device that moved to another SMMU is named with both SMMUs" {
	"$CTL" --sysfs "$GRACE" rewrite "$DOM" >done.xml
	cp -a "$GRACE" moved
	ln -sfn "$(readlink moved/bus/pci/devices/0002:01:00.0/iommu)" \
		"$(cd moved/bus/pci/devices/0009:01:00.0 && pwd -P)/iommu"
	run "$CTL" --sysfs moved check done.xml
	assert_failure 1
	assert_output --regexp 'hostdev 0009:01:00\.0 is behind smmu3\.0x0000000012000000 on this host, but is routed to expander pci\.[0-9]+, which mirrors smmu3\.0x0000000016000000'
	refute_output --partial '0019:01:00.0'
}

@test "check: 2 on unreadable input" {
	run "$CTL" --sysfs "$GRACE" check /nonexistent.xml
	assert_failure 2
	assert_output --partial 'cannot open /nonexistent.xml'
}

@test "show: tree of root complexes, vSMMUs, root ports and hostdevs" {
	"$CTL" --sysfs "$GRACE" rewrite "$DOM" >done.xml
	run "$CTL" show done.xml
	assert_success
	assert_line --index 0 'domain grace-2gpu, vsmmu mode accel'
	assert_output --regexp 'pcie-expander-bus busNr [0-9]+ node 0 mirrors smmu3\.0x0000000016000000 \[vSMMU vsmmu\.[0-9]+, accel=on\]'
	assert_output --regexp '(\||`).*hostdev 0009:01:00\.0 \(vfio-pci\)'
	run "$CTL" show --dot done.xml
	assert_success
	assert_line --index 0 'digraph "grace-2gpu" {'
	assert_output --partial '[style=dashed, label="mirrors"]'
}

@test "show: whether and why vsmmu manages the domain, under each host policy" {
	domain_with 0009:01:00.0 | sed '/vsmmu:config/d' >nova.xml
	printf 'manage = hostdevs\n' >hostdevs.conf
	run env VSMMU_CONF=/dev/null "$CTL" --sysfs "$GRACE" show nova.xml
	assert_success
	assert_line --index 0 'domain t, not managed by vsmmu: no vsmmu metadata'
	run env VSMMU_CONF=hostdevs.conf "$CTL" --sysfs "$GRACE" show nova.xml
	assert_success
	assert_line --index 0 --partial 'domain t, managed by vsmmu: host policy manage = hostdevs'
	assert_line --index 1 --partial 'note: the definition stays as written'
	# The owner's opt-out beats the policy; a hostdev behind no SMMUv3 is not taken.
	CONFIG="mode='off'" domain_with 0009:01:00.0 >off.xml
	run env VSMMU_CONF=hostdevs.conf "$CTL" --sysfs "$GRACE" show off.xml
	assert_line --index 0 "domain t, not managed by vsmmu: opted out by <vsmmu:config mode='off'/>"
	domain_with 0000:02:00.0 | sed "/vsmmu:config/d" >smmuv2.xml
	run env VSMMU_CONF=hostdevs.conf "$CTL" --sysfs "$BATS_FILE_TMPDIR/other-iommu" show smmuv2.xml
	assert_line --index 0 'domain t, not managed by vsmmu: no vsmmu metadata'
	printf 'manage = some\n' >bad.conf
	run env VSMMU_CONF=bad.conf "$CTL" --sysfs "$GRACE" show nova.xml
	assert_failure 2
	assert_output --partial 'manage'
	[ "${#lines[@]}" -eq 1 ]
}

bad() { # expected-message, then the vsmmuctl arguments
	local msg=$1; shift
	run "$CTL" "$@"
	assert_failure 2
	assert_output --partial "$msg"
	[ "${#lines[@]}" -eq 1 ]
}

@test "bad input: malformed XML" {
	printf '<domain><name>x</name>' >broken.xml
	bad 'malformed XML at line' --sysfs "$GRACE" rewrite broken.xml
}

@test "bad input: an empty file, /dev/null or blank stdin is called empty" {
	empty="vsmmuctl: domain XML is empty: expected a libvirt <domain> document, such as 'virsh dumpxml DOMAIN' prints"
	: >empty.xml
	for args in "plan /dev/null" "plan empty.xml" "rewrite /dev/null" "check /dev/null"; do
		# shellcheck disable=SC2086
		run "$CTL" --sysfs "$GRACE" $args
		assert_failure 2
		assert_output "$empty"
	done
	run "$CTL" --sysfs "$GRACE" plan - <<<'   '
	assert_failure 2
	assert_output "$empty"
}

@test "FILE a FIFO: read when it has a writer, refused at once when it has none" {
	run "$CTL" --sysfs "$GRACE" plan <(cat "$DOM")
	assert_success
	assert_output --partial 'mode accel, 2 hostdevs'
	mkfifo fifo
	# timeout only guards the suite against the old behaviour: a hang
	run timeout 60 "$CTL" --sysfs "$GRACE" plan fifo
	assert_failure 2
	assert_output "vsmmuctl: fifo is a FIFO and nothing was written to it: start its writer first, or pipe the XML into vsmmuctl and give '-' as FILE"
}

@test "bad input: a DOCTYPE (entity expansion) is refused" {
	printf '<!DOCTYPE d [<!ENTITY a "aaaa">]><domain>&a;</domain>' >dtd.xml
	bad 'DOCTYPE is refused' --sysfs "$GRACE" rewrite dtd.xml
}

@test "bad input: a guest address outside PCI domain 0 is refused as libvirt refuses it" {
	EXTRA='    <interface type="network"><source network="default"/><address type="pci" domain="0x2000" bus="0x02" slot="0x00" function="0x0"/></interface>
' domain_with 0009:01:00.0 >d.xml
	bad "interface <address type='pci' domain='0x2000'>: a guest has PCI domain 0 only; set domain='0x0000'" --sysfs "$GRACE" rewrite d.xml
}

@test "bad input: hostdev absent from sysfs" {
	domain_with 0005:01:00.0 >d.xml
	bad 'hostdev 0005:01:00.0: no such PCI device' --sysfs "$GRACE" rewrite d.xml
}

@test "bad input: hostdev without an iommu link" {
	domain_with 0000:74:02.0 >d.xml
	bad 'hostdev 0000:74:02.0 has no iommu link' --sysfs "$BATS_FILE_TMPDIR/kunpeng" rewrite d.xml
}

@test "bad input: hostdev behind a non-SMMUv3 IOMMU" {
	domain_with 0000:02:00.0 >d.xml
	bad 'which is not an SMMUv3' --sysfs "$BATS_FILE_TMPDIR/other-iommu" rewrite d.xml
}

@test "bad input: a PCI bridge as hostdev" {
	domain_with 0003:00:00.0 >d.xml
	bad 'hostdev 0003:00:00.0 is a PCI bridge (class 0x060400)' --sysfs "$GRACE" plan d.xml
}

@test "bad input: duplicate hostdev" {
	domain_with 0009:01:00.0 0009:01:00.0 >d.xml
	bad 'hostdev 0009:01:00.0 appears twice' --sysfs "$GRACE" plan d.xml
}

@test "bad input: more expanders than bus numbers allow" {
	# 6 SMMUs x (1 hostdev + 31 spare root ports) need 198 buses; 60 NICs
	# libvirt has yet to place keep pcie.0's hierarchy up to bus 68.
	EXTRA=$(for i in $(seq 60); do printf '    <interface type="network"><source network="default"/></interface>\n'; done)
	EXTRA=$EXTRA CONFIG="mode='emulated' spare-ports='31'" domain_with 0000:01:00.0 0002:01:00.0 \
		0009:01:00.0 0010:01:00.0 0012:01:00.0 0019:01:00.0 >d.xml
	run "$CTL" --sysfs "$GRACE" rewrite d.xml
	assert_failure 2
	assert_output --partial 'not enough PCI bus numbers'
	assert_output --partial 'lower spare-ports (now 31) or assign fewer devices'
	[ "${#lines[@]}" -eq 1 ]
}

# The first N endpoints (class 020000) of a synthetic host.
endpoints() {
	"$CTL" --sysfs "$1" host | awk '$3 == "020000" { print $1 }' | head -n "$2"
}

@test "bad input: 33 hostdevs behind one SMMU overfill its expander; spare-ports is not the cause" {
	# shellcheck disable=SC2046
	domain_with $(endpoints "$BATS_FILE_TMPDIR/one-smmu" 33) >d.xml
	run "$CTL" --sysfs "$BATS_FILE_TMPDIR/one-smmu" plan d.xml
	assert_failure 2
	assert_output "vsmmuctl: expander pci.1 has no free slot for another root port: 33 hostdevs are behind smmu3.0x0000000010000000 and one expander takes 32 root ports; assign at most 32 devices behind one SMMU to this domain"
}

@test "bad input: spare ports that overfill an expander: lower spare-ports" {
	# shellcheck disable=SC2046
	CONFIG="spare-ports='5'" domain_with $(endpoints "$BATS_FILE_TMPDIR/one-smmu" 30) >d.xml
	run "$CTL" --sysfs "$BATS_FILE_TMPDIR/one-smmu" plan d.xml
	assert_failure 2
	assert_output "vsmmuctl: expander pci.1 has no free slot for another root port: it takes 32, and its 30 hostdevs and 5 spare ports need one each; lower spare-ports"
}

@test "bad input: out of bus numbers without spare-ports: no advice to lower it" {
	EXTRA=$(for i in $(seq 250); do printf '    <interface type="network"><source network="default"/></interface>\n'; done)
	EXTRA=$EXTRA CONFIG="mode='emulated'" domain_with 0009:01:00.0 >d.xml
	run "$CTL" --sysfs "$GRACE" plan d.xml
	assert_failure 2
	assert_output --partial 'not enough PCI bus numbers'
	assert_output --partial '; assign fewer devices'
	refute_output --partial 'spare-ports'
}

@test "bad input: hostdevs behind 32 SMMUs need 32 expanders; pcie.0 has 31 slots" {
	# shellcheck disable=SC2046
	domain_with $(endpoints "$BATS_FILE_TMPDIR/32-smmus" 32) >d.xml
	run "$CTL" --sysfs "$BATS_FILE_TMPDIR/32-smmus" plan d.xml
	assert_failure 2
	assert_output "vsmmuctl: the hostdevs are behind 32 SMMUs and each needs a pcie-expander-bus of its own on pcie.0, which has 31 slots: assign devices behind at most 31 SMMUs to this domain"
	refute_output --partial 'free a slot'
}

@test "bad input: pcie.0 full of other devices: move them, or let libvirt place them" {
	EXTRA=$(for i in $(seq 31); do printf '    <interface type="network"><source network="default"/><address type="pci" domain="0x0000" bus="0x00" slot="0x%02x" function="0x0"/></interface>\n' "$i"; done)
	EXTRA=$EXTRA CONFIG="mode='emulated'" domain_with 0009:01:00.0 >d.xml
	run "$CTL" --sysfs "$GRACE" plan d.xml
	assert_failure 2
	assert_output "vsmmuctl: pcie.0 has no free slot for the pcie-expander-bus of smmu3.0x0000000016000000: other devices and controllers hold its slots 1-31; move some behind a pcie-root-port, or drop their <address> so libvirt places them"
}

@test "bad input: every PCI controller index taken: say which controllers to remove" {
	EXTRA=$(for i in $(seq 255); do printf '    <controller type="pci" index="%d" model="pcie-root-port"/>\n' "$i"; done)
	EXTRA=$EXTRA domain_with 0009:01:00.0 >d.xml
	run "$CTL" --sysfs "$GRACE" plan d.xml
	assert_failure 2
	assert_output "vsmmuctl: no free PCI controller index for a new pcie-expander-bus: the domain's controllers, and the buses its devices name, take every index up to 255; remove PCI controllers nothing is plugged into, or assign fewer hostdevs"
	CONFIG="spare-ports='2'" EXTRA=$EXTRA domain_with 0009:01:00.0 >d.xml
	run "$CTL" --sysfs "$GRACE" plan d.xml
	assert_output --partial 'or lower spare-ports (now 2) or assign fewer hostdevs'
}

@test "bad input: not an aarch64 domain" {
	domain_with 0009:01:00.0 | sed 's/aarch64/x86_64/' >d.xml
	bad "vsmmu manages aarch64 domains only" --sysfs "$GRACE" rewrite d.xml
}

@test "bad input: a sysfs root that is not one" {
	run "$CTL" --sysfs "$BATS_TEST_TMPDIR" host
	assert_failure 2
	assert_output --regexp "no PCI devices under .*: is .* a sysfs root"
}

@test "usage: --help, --version, unknown command, missing FILE" {
	run "$CTL" --help
	assert_success
	assert_output --partial 'usage: vsmmuctl'
	run "$CTL" --version
	assert_output --regexp '^vsmmuctl [0-9]+\.[0-9]+\.[0-9]+$'
	bad "unknown command 'frobnicate'" frobnicate
	bad 'rewrite needs a domain XML FILE' rewrite
}
