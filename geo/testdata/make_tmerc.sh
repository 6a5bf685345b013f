#!/bin/sh
# Regenerates tmerc_gdal.tsv: positions in CGCS2000 3-degree Gauss-Kruger
# zones as GDAL/PROJ compute them, for TestTransverseMercatorGDAL. Run from
# this folder with gdal-bin installed.
#
# Codes: the first, Haimen's and the last zone, with zone numbers in the
# easting (4513, 4528, 4533) and without (4534, 4549, 4554). Forward: a grid
# from 2 degrees west to 2 east of the central meridian (a zone is 1.5 each
# side), latitudes 18-54 N. Inverse: eastings 250 km each side of the central
# meridian, northings 2000-6000 km.
set -eu
out=tmerc_gdal.tsv
printf 'dir\tepsg\tx\ty\tx2\ty2\n' >"$out"
for epsg in 4513 4528 4533 4534 4549 4554; do
	if [ "$epsg" -le 4533 ]; then
		zone=$((epsg - 4513 + 25)); cm=$((zone * 3)); fe=$((zone * 1000000 + 500000))
	else
		cm=$(((epsg - 4534) * 3 + 75)); fe=500000
	fi
	awk -v cm="$cm" 'BEGIN { for (d = -2; d <= 2; d += 0.5) for (lat = 18; lat <= 54; lat += 6) printf "%.1f %d\n", cm + d, lat }' >grid.tmp
	gdaltransform -s_srs EPSG:4490 -t_srs EPSG:"$epsg" <grid.tmp | paste -d' ' grid.tmp - |
		awk -v e="$epsg" '{ printf "fwd\t%s\t%s\t%s\t%s\t%s\n", e, $1, $2, $3, $4 }' >>"$out"
	awk -v fe="$fe" 'BEGIN { for (d = -250000; d <= 250000; d += 50000) for (n = 2000000; n <= 6000000; n += 500000) printf "%d %d\n", fe + d, n }' >grid.tmp
	gdaltransform -s_srs EPSG:"$epsg" -t_srs EPSG:4490 <grid.tmp | paste -d' ' grid.tmp - |
		awk -v e="$epsg" '{ printf "inv\t%s\t%s\t%s\t%s\t%s\n", e, $1, $2, $3, $4 }' >>"$out"
done
rm -f grid.tmp
