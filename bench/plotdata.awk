# plotdata.awk: the device sweep of bench/run's raw lines as a gnuplot data
# file: one block per program (two blank lines between blocks), each block
# "# LABEL" then "NDEV median_ms p10_ms p90_ms" lines.
$1 == "devices" {
	if (!($5 in SEEN)) { SEEN[$5] = 1; L[++n] = $5 }
	D[$5] = D[$5] sprintf("%d %.4f %.4f %.4f\n", $3, $7 / 1000, $8 / 1000, $11 / 1000)
}
END {
	for (i = 1; i <= n; i++) {
		if (i > 1)
			printf "\n\n"
		printf "\"%s\"\n%s", L[i], D[L[i]]
	}
}
