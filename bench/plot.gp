# plot.gp: gnuplot -e "datafile='...'; outfile='...'" bench/plot.gp
set terminal pngcairo size 1100,700 noenhanced
set output outfile
set title "vsmmu start path: median wall time of a whole process (bars: p10-p90), 10 SMMUs, 64 hostdevs"
set xlabel "PCI devices on the host"
set ylabel "ms"
set logscale xy
set key outside right top
set grid
plot for [i=0:*] datafile index i using 1:2:3:4 with yerrorlines title columnheader(1)
