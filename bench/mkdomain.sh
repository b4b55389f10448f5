#!/bin/sh
# mkdomain.sh NAME MANAGED BDF... : print a libvirt domain XML with one
# vfio hostdev per BDF; MANAGED=1 adds the vsmmu metadata (mode accel) and
# points <emulator> at the wrapper, MANAGED=0 leaves both to plain QEMU.
set -eu
name=$1 managed=$2
shift 2
emulator=/usr/bin/qemu-system-aarch64
[ "$managed" = 1 ] && emulator=/usr/local/libexec/vsmmu/vsmmu-qemu
cat <<X
<domain type='kvm'>
  <name>$name</name>
X
if [ "$managed" = 1 ]; then
	cat <<X
  <metadata>
    <vsmmu:config xmlns:vsmmu='urn:vsmmu:domain:1' mode='accel'/>
  </metadata>
X
fi
cat <<X
  <memory unit='GiB'>64</memory>
  <vcpu placement='static'>16</vcpu>
  <os firmware='efi'>
    <type arch='aarch64' machine='virt'>hvm</type>
  </os>
  <features>
    <acpi/>
    <gic version='3'/>
  </features>
  <cpu mode='host-passthrough'>
    <numa>
      <cell id='0' cpus='0-7' memory='32' unit='GiB'/>
      <cell id='1' cpus='8-15' memory='32' unit='GiB'/>
    </numa>
  </cpu>
  <devices>
    <emulator>$emulator</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/$name.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
X
for bdf in "$@"; do
	# dddd:bb:ss.f
	d=${bdf%%:*} rest=${bdf#*:}
	b=${rest%%:*} sf=${rest#*:}
	s=${sf%.*} f=${sf#*.}
	cat <<X
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <driver name='vfio'/>
      <source>
        <address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/>
      </source>
    </hostdev>
X
done
cat <<X
    <console type='pty'/>
  </devices>
</domain>
X
