# mkargv.awk: read a VSMMU_PLAN (one JSON object) on stdin, print the QEMU
# argv that libvirt 9.0 generates for the rewritten domain, one argument per
# line, program name first: expanders (pxb-pcie), root ports, one vfio-pci
# device per hostdev, JSON -device syntax as in tests/fixtures/argv.
# Only what the plan format needs is parsed: objects in the top-level arrays
# "expanders", "root_ports" and "hostdevs", their scalar members.
function flush(    s) {
	if (arr == "expanders") {
		s = "{\"driver\":\"pxb-pcie\",\"bus_nr\":" O["bus_nr"] ",\"id\":\"" O["id"] "\""
		if ("numa_node" in O)
			s = s ",\"numa_node\":" O["numa_node"]
		EXP[++nexp] = s ",\"bus\":\"pcie.0\",\"addr\":\"" sprintf("0x%x", O["slot"]) "\"}"
	} else if (arr == "root_ports") {
		RP[++nrp] = "{\"driver\":\"pcie-root-port\",\"port\":" O["port"] ",\"chassis\":" \
			O["chassis"] ",\"id\":\"" O["id"] "\",\"bus\":\"" O["bus"] "\",\"addr\":\"" \
			sprintf("0x%x", O["slot"]) "\"}"
	} else if (arr == "hostdevs") {
		HD[++nhd] = "{\"driver\":\"vfio-pci\",\"host\":\"" O["host"] "\",\"id\":\"hostdev" \
			(nhd - 1) "\",\"bus\":\"" O["bus"] "\",\"addr\":\"0x0\"}"
	}
	split("", O)
}
{ text = text $0 }
END {
	depth = 0; arr = ""; key = ""; n = length(text)
	for (i = 1; i <= n; i++) {
		c = substr(text, i, 1)
		if (c == "\"") {
			j = i + 1
			while (substr(text, j, 1) != "\"")
				j += substr(text, j, 1) == "\\" ? 2 : 1
			s = substr(text, i + 1, j - i - 1)
			i = j
			if (expect_key) { key = s; expect_key = 0 }
			else if (depth == 2 && key != "") { O[key] = s; key = "" }
		} else if (c == "{") {
			depth++; expect_key = 1
			if (depth == 2) split("", O)
		} else if (c == "}") {
			if (depth == 2) flush()
			depth--; key = ""
		} else if (c == "[") {
			if (depth == 1) arr = key
			key = ""
		} else if (c == "]") {
			if (depth == 1) arr = ""
		} else if (c == ",") {
			expect_key = 1; key = ""
		} else if (c == ":") {
			expect_key = 0
		} else if (c ~ /[-0-9tfn]/) {
			j = i
			while (substr(text, j + 1, 1) ~ /[-0-9.a-z]/)
				j++
			if (depth == 2 && key != "") O[key] = substr(text, i, j - i + 1)
			key = ""; i = j
		}
	}
	print "/usr/libexec/vsmmu/vsmmu-qemu"
	print "-name"; print "guest=bench,debug-threads=on"
	print "-S"
	print "-machine"; print "virt-7.2,usb=off,gic-version=3,dump-guest-core=off,memory-backend=mach-virt.ram"
	print "-accel"; print "kvm"
	print "-m"; print "65536"
	print "-object"; print "{\"qom-type\":\"memory-backend-ram\",\"id\":\"mach-virt.ram\",\"size\":68719476736}"
	print "-no-user-config"; print "-nodefaults"
	for (k = 1; k <= nexp; k++) { print "-device"; print EXP[k] }
	for (k = 1; k <= nrp; k++) { print "-device"; print RP[k] }
	for (k = 1; k <= nhd; k++) { print "-device"; print HD[k] }
	print "-msg"; print "timestamp=on"
}
