# shellcheck shell=bash
# Shared by the recording suites (confine_record.bats on libvirt 9.0,
# confine_record12.bats on the libvirt 12.x root): the syscalls traced, the
# test domains, and the comparison with a fixture. Needs TOP.

# Paths where the recorded daemon sees them.
AAVMF_CODE=/usr/share/AAVMF/AAVMF_CODE.fd
AAVMF_VARS=/usr/share/AAVMF/AAVMF_VARS.fd
WRAPPER=/usr/local/libexec/vsmmu/vsmmu-qemu
HOOKFILE=/etc/libvirt/hooks/qemu.d/vsmmu
TREES=/var/lib/libvirt/vsmmu-confine  # the fake sysfs trees and disk images

# What strace records: every call AppArmor mediates by path, and the forks
# that tell which process is whose (tests/confine/trace-files).
CONFINE_TRACED="execve,execveat,open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir,link,linkat,symlink,symlinkat,truncate,chmod,fchmodat,chown,lchown,fchownat,mknod,mknodat,flock,fcntl,mmap,clone,clone3,fork,vfork"

# dom NAME META EXTRA_DEVICES: an aarch64 TCG domain with UEFI, the wrapper,
# ACPI and a disk image in $TREES.
dom() {
	cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <metadata>$2</metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <loader readonly='yes' type='pflash'>$AAVMF_CODE</loader>
    <nvram template='$AAVMF_VARS'/>
  </os>
  <features><acpi/></features>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <emulator>$WRAPPER</emulator>
    <controller type='pci' index='0' model='pcie-root'/>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$TREES/$1.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='null'/>
    $3
  </devices>
</domain>
XML
}

meta() { # MODE TOPOLOGY
	echo "<vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='$1' topology='$2'/>"
}

hostdev() { # DOMAIN BUS
	echo "<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source><address domain='0x$1' bus='0x$2' slot='0x00' function='0x0'/></source></hostdev>"
}

# confine_compare FIXTURE_NAME RECORDED: RECORDED must be the fixture's
# recorded lines (all but comments and qemu-source/ lines). With
# CONFINE_WRITE=1 the fixture is rewritten first (comments and qemu-source
# lines kept).
confine_compare() {
	local fixture=$TOP/$1 recorded=$2
	if [ "${CONFINE_WRITE:-}" = 1 ]; then
		{
			sed -n '/^#/p' "$fixture" 2>/dev/null
			cat "$recorded"
			grep '^qemu-source/' "$fixture" 2>/dev/null || true
		} >"$fixture.new" && mv "$fixture.new" "$fixture"
	fi
	# QEMU reads overcommit_memory only when it maps guest RAM, which a
	# start the test stops early (on a loaded machine) may not reach: its
	# absence alone is no change; any other difference is.
	run diff <(grep -v '^#' "$fixture" | grep -v '^qemu-source/') "$recorded"
	[ "$status" = 0 ] || [ -z "$(printf '%s\n' "$output" | grep '^[<>]' |
		grep -vx '[<>] domain/qemu-system-aarch64 r /proc/sys/vm/overcommit_memory')" ] || {
		echo "recorded accesses differ from $1 ('>' new, '<' gone):"
		echo "$output"
		false
	}
}
