#!/usr/bin/env bats
# tests/fixtures/mkhost: the committed example hosts are exactly what it
# generates, and the trees it builds are laid out as a real sysfs.

setup() {
	MKHOST="$BATS_TEST_DIRNAME/../fixtures/mkhost"
	EXAMPLES="$BATS_TEST_DIRNAME/../../examples/hosts"
	T=$(mktemp -d)
}

teardown() {
	rm -rf "$T"
}

# entries DIR [PATTERN]: how many entries DIR holds (matching PATTERN)
entries() {
	find "$1" -mindepth 1 -maxdepth 1 -name "${2:-*}" | wc -l
}

@test "examples/hosts/grace is what 'mkhost grace' builds" {
	"$MKHOST" grace "$T/grace"
	diff -r --no-dereference "$EXAMPLES/grace" "$T/grace"
}

@test "examples/hosts/kunpeng is what 'mkhost kunpeng' builds" {
	"$MKHOST" kunpeng "$T/kunpeng"
	diff -r --no-dereference "$EXAMPLES/kunpeng" "$T/kunpeng"
}

@test "every kind is deterministic and leaves no dangling link" {
	for kind in grace kunpeng virt-dt other-iommu "synthetic 4 40 5"; do
		# shellcheck disable=SC2086
		set -- $kind
		"$MKHOST" "$1" "$T/a" "${@:2}"
		"$MKHOST" "$1" "$T/b" "${@:2}"
		diff -r --no-dereference "$T/a" "$T/b"
		[ -z "$(find "$T/a" -xtype l)" ]
		rm -rf "$T/a" "$T/b"
	done
}

@test "class/iommu entries link to the iommu node under the platform device" {
	"$MKHOST" grace "$T/g"
	[ "$(entries "$T/g/class/iommu")" -eq 10 ]
	for e in "$T"/g/class/iommu/*; do
		name=$(basename "$e")
		[[ "$name" =~ ^smmu3\.0x[0-9a-f]{16}$ ]]
		[[ "$(readlink "$e")" =~ ^\.\./\.\./devices/platform/arm-smmu-v3\.[0-9]\.auto/iommu/$name$ ]]
		[ -d "$e" ]
	done
	[ "$(readlink "$T/g/class/iommu/smmu3.0x0000100016000000")" = \
		../../devices/platform/arm-smmu-v3.7.auto/iommu/smmu3.0x0000100016000000 ]
	[ "$(cat "$T/g/devices/platform/arm-smmu-v3.7.auto/numa_node")" = 1 ]

	"$MKHOST" virt-dt "$T/v"
	[ "$(readlink "$T/v/class/iommu/smmu3.0x0000000009050000")" = \
		../../devices/platform/9050000.smmuv3/iommu/smmu3.0x0000000009050000 ]
	[ ! -e "$T/v/devices/platform/9050000.smmuv3/numa_node" ]
}

@test "bus/pci/devices links resolve to device directories" {
	"$MKHOST" kunpeng "$T/k"
	n=0
	for e in "$T"/k/bus/pci/devices/*; do
		[[ "$(readlink "$e")" =~ ^\.\./\.\./\.\./devices/pci0000:[0-9a-f]{2}/(.*/)?$(basename "$e")$ ]]
		[ -f "$e/vendor" ] && [ -f "$e/class" ] && [ -f "$e/numa_node" ]
		n=$((n + 1))
	done
	[ "$n" -eq 16 ]
}

@test "a device's iommu, iommu_group, driver and vfio-dev are as on a real host" {
	"$MKHOST" grace "$T/g"
	d="$T/g/devices/pci0009:00/0009:00:00.0/0009:01:00.0"
	[ "$(readlink "$T/g/bus/pci/devices/0009:01:00.0")" = \
		../../../devices/pci0009:00/0009:00:00.0/0009:01:00.0 ]
	[ "$(readlink "$d/iommu")" = \
		../../../platform/arm-smmu-v3.2.auto/iommu/smmu3.0x0000000016000000 ]
	[[ "$(readlink "$d/iommu_group")" =~ ^\.\./\.\./\.\./\.\./kernel/iommu_groups/[0-9]+$ ]]
	[ -d "$d/iommu_group" ]
	[ "$(readlink "$d/driver")" = ../../../../bus/pci/drivers/vfio-pci ]
	[ "$(cat "$d/vfio-dev/vfio0/dev")" = 511:0 ]
	[ "$(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class")" = "0x10de 0x2342 0x030200" ]
	[ "$(readlink "$d/../iommu_group")" != "$(readlink "$d/iommu_group")" ]
	# links back, as the kernel makes them
	[ -d "$d/iommu_group/devices/0009:01:00.0" ]
	[ -d "$d/iommu/devices/0009:01:00.0" ]
	[ -d "$T/g/bus/pci/drivers/vfio-pci/0009:01:00.0" ]

	d="$T/g/devices/pci0019:00/0019:00:00.0/0019:01:00.0"
	[ "$(readlink "$d/driver")" = ../../../../bus/pci/drivers/nvidia ]
	[ ! -e "$d/vfio-dev" ]
}

@test "kunpeng: one device without iommu link, one SMMU without numa_node, one segment" {
	"$MKHOST" kunpeng "$T/k"
	[ ! -e "$T/k/bus/pci/devices/0000:74:02.0/iommu" ]
	[ ! -e "$T/k/bus/pci/devices/0000:74:02.0/iommu_group" ]
	[ "$(readlink "$T/k/bus/pci/devices/0000:74:02.0/driver")" = ../../../bus/pci/drivers/ahci ]
	no_iommu=0
	for e in "$T"/k/bus/pci/devices/*; do
		[ -e "$e/iommu" ] || no_iommu=$((no_iommu + 1))
		[[ "$(basename "$e")" = 0000:* ]]
	done
	[ "$no_iommu" -eq 1 ]
	no_node=0
	for e in "$T"/k/class/iommu/*; do
		[ -e "$e/../../numa_node" ] || no_node=$((no_node + 1))
	done
	[ "$no_node" -eq 1 ]
	[ ! -e "$T/k/class/iommu/smmu3.0x0000000200100000/../../numa_node" ]
}

@test "other-iommu: a device behind an IOMMU that is not an SMMUv3" {
	"$MKHOST" other-iommu "$T/o"
	[ -d "$T/o/class/iommu/smmu.0x00000000e0a00000" ]
	[ "$(basename "$(readlink "$T/o/bus/pci/devices/0000:02:00.0/iommu")")" = smmu.0x00000000e0a00000 ]
}

@test "synthetic: SMMUs split over two nodes, endpoints round-robin, first NVFIO bound" {
	"$MKHOST" synthetic "$T/s" 4 10 3
	[ "$(entries "$T/s/class/iommu")" -eq 4 ]
	[ "$(entries "$T/s/bus/pci/devices")" -eq 14 ]
	[ "$(cat "$T/s/class/iommu/smmu3.0x0000000011000000/../../numa_node")" = 0 ]
	[ "$(cat "$T/s/class/iommu/smmu3.0x0000100010000000/../../numa_node")" = 1 ]
	# endpoint 5 is the second one behind SMMU 1
	[ "$(basename "$(readlink "$T/s/bus/pci/devices/0001:01:00.1/iommu")")" = smmu3.0x0000000011000000 ]
	[ "$(entries "$T/s/bus/pci/drivers/vfio-pci" "*:*")" -eq 3 ]
	[ "$(cat "$T/s/bus/pci/devices/0002:01:00.0/vfio-dev/vfio2/dev")" = 511:2 ]
	[ ! -e "$T/s/bus/pci/devices/0003:01:00.0/driver" ]
}

@test "mkhost refuses a non-empty DIR, a file, and bad arguments" {
	mkdir "$T/full" && touch "$T/full/x"
	run "$MKHOST" grace "$T/full"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not empty"* ]]
	[ "$(ls "$T/full")" = x ]

	touch "$T/file"
	run "$MKHOST" grace "$T/file"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not a directory"* ]]

	run "$MKHOST" nosuchkind "$T/n"
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown KIND"* ]]
	run "$MKHOST" synthetic "$T/n" 0 4
	[ "$status" -ne 0 ]
	run "$MKHOST" synthetic "$T/n" 2 4 5
	[ "$status" -ne 0 ]
	[ ! -e "$T/n" ]

	mkdir "$T/empty"
	"$MKHOST" virt-dt "$T/empty"
	[ -d "$T/empty/class/iommu" ]
}
