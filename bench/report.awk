# report.awk: bench/run's raw lines in, bench/results/results.md out.
# Raw line: SWEEP NSMMU NDEV NHOSTDEV LABEL n med p10 p25 p75 p90 min rss_kib
# (times in microseconds). Variables from bench/run: rounds, plan_rounds,
# secs, machine, date, commit.
function floor_of(l) {
	if (l ~ /^wrapper/ || l == "floor-null") return "floor-null"
	if (l == "vsmmuctl-plan" || l == "floor-plan") return "floor-plan"
	return "floor"
}
function ms(us) { return sprintf("%.2f", us / 1000) }
function ratio(k, l) { return M[k, l] / M[k, floor_of(l)] }
function rs(k, l) { return sprintf("%.2fx", ratio(k, l)) }
# The wrapper's exec paths end in an exec of the floor (probe) or of a
# stand-in as small as the floor (managed): its own share, net of that exec.
function own(k, l) { return (M[k, l] - M[k, "floor-null"]) / M[k, "floor-null"] }
function mib(kib) { return sprintf("%.1f", kib / 1024) }
function verdict(ok) { return ok ? "holds" : "**missed**" }
# One table over the points of sweep sw: a row a point, a column a program;
# cells "time" (median and ratio to its floor) or "rss" (peak MiB).
function sweep_table(sw, cells,    i, j, k, l, keys) {
	keys = sw == "smmus" ? "| SMMUs | devices |" : sw == "hostdevs" ? "| hostdevs |" : "| devices |"
	printf "%s", keys
	for (j = 1; j <= NL; j++) printf " %s |", LABELS[j]
	printf "\n%s", sw == "smmus" ? "|---|---|" : "|---|"
	for (j = 1; j <= NL; j++) printf "---|"
	printf "\n"
	for (i = 1; i <= NK; i++) {
		k = KEYS[i]
		if (SW[k] != sw) continue
		if (sw == "smmus") printf "| %d | %d |", NS[k], NDEV[k]
		else printf "| %d |", sw == "hostdevs" ? NH[k] : NDEV[k]
		for (j = 1; j <= NL; j++) {
			l = LABELS[j]
			if (cells == "rss") printf " %s |", mib(RSS[k, l])
			else printf " %s%s |", ms(M[k, l]), l ~ /^floor/ ? "" : " (" rs(k, l) ")"
		}
		printf "\n"
	}
}
# Least squares of median time over x for label l in sweep s: sets SLOPE,
# ICPT, R2.
function fit(s, l, xf,    i, n, x, y, sx, sy, sxx, sxy, syy, k, d) {
	n = 0; sx = sy = sxx = sxy = syy = 0
	for (i = 1; i <= NK; i++) {
		k = KEYS[i]
		if (SW[k] != s || !((k, l) in M)) continue
		x = xf == "dev" ? NDEV[k] : NH[k]; y = M[k, l]
		n++; sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y
	}
	d = n * sxx - sx * sx
	if (n < 2 || d == 0) { SLOPE = ICPT = R2 = 0; return 0 }
	SLOPE = (n * sxy - sx * sy) / d
	ICPT = (sy - SLOPE * sx) / n
	R2 = (n * sxy - sx * sy) ^ 2 / (d * (n * syy - sy * sy))
	return n
}
{
	k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
	if (!(k in SEEN)) { SEEN[k] = 1; KEYS[++NK] = k; SW[k] = $1; NS[k] = $2; NDEV[k] = $3; NH[k] = $4 }
	M[k, $5] = $7; P10[k, $5] = $8; P25[k, $5] = $9; P75[k, $5] = $10; P90[k, $5] = $11
	RSS[k, $5] = $13; N[k, $5] = $6
	if (!($5 in LSEEN)) { LSEEN[$5] = 1; LABELS[++NL] = $5 }
}
END {
	for (i = 1; i <= NK; i++) {
		k = KEYS[i]
		if (SW[k] == "grace") G = k
		if (SW[k] == "devices" && (BIG == "" || NDEV[k] > NDEV[BIG])) BIG = k
	}
	DESC["floor"] = "floor: trivial C program, reads the domain XML on stdin"
	DESC["floor-libs"] = "floor linked dynamically against libxml2 + jansson (loader cost the hook avoids)"
	DESC["hook-unmanaged"] = "vsmmu-hook prepare begin, unmanaged domain"
	DESC["hook-managed"] = "vsmmu-hook prepare begin, managed domain"
	DESC["hook-start"] = "vsmmu-hook start begin, managed (checks devices, takes nodes, writes state)"
	DESC["hook-release"] = "vsmmu-hook release end, managed (restores nodes, removes state)"
	DESC["floor-null"] = "floor, stdin /dev/null (the wrapper's floor)"
	DESC["wrapper-probe"] = "vsmmu-qemu, no VSMMU_PLAN (probe path), execs the floor"
	DESC["wrapper-dry"] = "vsmmu-qemu, managed argv, VSMMU_DRY_RUN=1 VSMMU_SKIP_CAPS=1"
	DESC["wrapper-exec"] = "vsmmu-qemu, managed argv, caps cached, execs a stand-in QEMU"
	DESC["wrapper-exec-user"] = "the same as the QEMU user (nobody), caps cached by the hook's prepare"
	DESC["wrapper-exec-user-nocache"] = "the same as the QEMU user, no cache: probes QEMU twice first (every start before the hook filled the cache)"
	DESC["floor-plan"] = "floor (same invocation as vsmmuctl plan)"
	DESC["vsmmuctl-plan"] = "vsmmuctl plan FILE"

	printf "# vsmmu start-path benchmark\n\n"
	printf "Written by `make bench` (bench/run); how to read it: bench/README.md.\n"
	printf "Run %s at commit %s on %s; %d measured runs a point (vsmmuctl plan: %d), " \
		"3 warm-up rounds, round-robin with the floor; %d s in all.\n", date, commit, machine,
		rounds, plan_rounds, secs
	printf "Times are wall-clock medians of whole processes (fork to wait4), in ms; " \
		"spread is p10-p90; ratios are median / median of the floor measured in the same " \
		"runner invocation; RSS is peak ru_maxrss.\n\n"

	printf "## Targets\n\n| target | measured | verdict |\n|---|---|---|\n"
	for (pass = 1; pass <= 2; pass++) {
		k = pass == 1 ? G : BIG
		where = pass == 1 ? "mkhost grace" : sprintf("synthetic %d SMMUs, %d devices, %d hostdevs", NS[k], NDEV[k], NH[k])
		printf "| unmanaged hook <= 1.5x floor (%s) | %s ms vs %s ms: %s | %s |\n", where,
			ms(M[k, "hook-unmanaged"]), ms(M[k, "floor"]), rs(k, "hook-unmanaged"),
			verdict(ratio(k, "hook-unmanaged") <= 1.5)
		printf "| wrapper probe path <= 1.5x floor (%s) | %s ms vs %s ms: %s with the exec of the floor it ends in, %.2fx net of it | %s |\n",
			where, ms(M[k, "wrapper-probe"]), ms(M[k, "floor-null"]), rs(k, "wrapper-probe"),
			own(k, "wrapper-probe"), verdict(own(k, "wrapper-probe") <= 1.5) \
			(ratio(k, "wrapper-probe") <= 1.5 ? "" : " (net of the stand-in's exec; " rs(k, "wrapper-probe") " gross)")
	}
	k = G
	printf "| managed hook <= 3x floor on a 2-socket Grace (mkhost grace, 2 hostdevs) | %s ms: %s | %s |\n",
		ms(M[k, "hook-managed"]), rs(k, "hook-managed"), verdict(ratio(k, "hook-managed") <= 3)
	printf "| managed wrapper <= 3x floor on Grace, dry run | %s ms: %s | %s |\n",
		ms(M[k, "wrapper-dry"]), rs(k, "wrapper-dry"), verdict(ratio(k, "wrapper-dry") <= 3)
	printf "| managed wrapper <= 3x floor on Grace, exec of a stand-in | %s ms: %s gross, %.2fx net of the stand-in | %s |\n",
		ms(M[k, "wrapper-exec"]), rs(k, "wrapper-exec"), own(k, "wrapper-exec"), verdict(own(k, "wrapper-exec") <= 3)
	printf "| managed start as the QEMU user <= 3x floor on Grace, cache filled by the hook | %s ms: %s gross, %.2fx net of the stand-in (no cache: %s ms, %s) | %s |\n",
		ms(M[k, "wrapper-exec-user"]), rs(k, "wrapper-exec-user"), own(k, "wrapper-exec-user"),
		ms(M[k, "wrapper-exec-user-nocache"]), rs(k, "wrapper-exec-user-nocache"),
		verdict(own(k, "wrapper-exec-user") <= 3)
	k = BIG
	printf "| managed hook < 20 ms at %d devices, %d hostdevs | %s ms (p90 %s) | %s |\n", NDEV[k], NH[k],
		ms(M[k, "hook-managed"]), ms(P90[k, "hook-managed"]), verdict(P90[k, "hook-managed"] < 20000)
	printf "| managed hook peak RSS < 16 MiB there | %s MiB | %s |\n", mib(RSS[k, "hook-managed"]),
		verdict(RSS[k, "hook-managed"] < 16384)
	lin = 1; worst = ""
	for (j = 1; j <= NL; j++) {
		l = LABELS[j]
		if (l ~ /^floor/ || fit("devices", l, "dev") < 3) continue
		if (R2 < 0.95 && SLOPE * NDEV[BIG] > 0.25 * M[BIG, l]) { lin = 0; worst = worst " " l }
	}
	printf "| cost linear in devices (R^2 >= 0.95 wherever devices matter, see slopes) | %s | %s |\n",
		lin ? "all fits linear" : "not linear:" worst, verdict(lin)

	for (pass = 1; pass <= 2; pass++) {
		k = pass == 1 ? G : BIG
		if (pass == 1) printf "\n## 2-socket Grace (mkhost grace: %d devices, %d hostdevs)\n\n", NDEV[k], NH[k]
		else printf "\n## Synthetic %d SMMUs, %d devices, %d hostdevs\n\n", NS[k], NDEV[k], NH[k]
		printf "| program | median ms | p10-p90 ms | ratio to floor | peak RSS MiB |\n|---|---|---|---|---|\n"
		for (j = 1; j <= NL; j++) {
			l = LABELS[j]
			if (!((k, l) in M)) continue
			printf "| %s | %s | %s-%s | %s | %s |\n", DESC[l], ms(M[k, l]), ms(P10[k, l]), ms(P90[k, l]),
				l ~ /^floor/ && l != "floor-libs" ? "1" : rs(k, l), mib(RSS[k, l])
		}
	}

	printf "\n## Device sweep (%d SMMUs, %d hostdevs): median ms (ratio to floor)\n\n", NS[BIG], NH[BIG]
	sweep_table("devices", "time")
	printf "\nPeak RSS (MiB) over the sweep:\n\n"
	sweep_table("devices", "rss")

	printf "\n## Slopes (least squares over the sweeps)\n\n"
	printf "| program | us per host device | R^2 | share of the median at %d devices | us per hostdev (at %d devices) | R^2 |\n|---|---|---|---|---|---|\n", NDEV[BIG], NDEV[BIG]
	for (j = 1; j <= NL; j++) {
		l = LABELS[j]
		fit("devices", l, "dev"); ds = SLOPE; dr = R2
		fit("hostdevs", l, "h"); hs = SLOPE; hr = R2
		printf "| %s | %.4f | %.3f | %.0f%% | %.2f | %.3f |\n", l, ds, dr,
			100 * ds * NDEV[BIG] / M[BIG, l], hs, hr
	}

	printf "\n## Hostdev sweep (%d SMMUs, %d devices): median ms (ratio to floor)\n\n", NS[BIG], NDEV[BIG]
	sweep_table("hostdevs", "time")
	printf "\n## SMMU sweep (64 hostdevs): median ms (ratio to floor)\n\n"
	sweep_table("smmus", "time")
	printf "\n![median time against host device count](time-vs-devices.png)\n"
}
