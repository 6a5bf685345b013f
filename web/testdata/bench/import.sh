#!/usr/bin/env bash
# import.sh: planmap import side by side with ogr2ogr writing a GeoPackage
# of the same N synthetic parcels (default 1,000,000): wall time, CPU time
# (user + system) and peak RSS of each, from GNU time. OLD=path/to/planmap
# also runs another build of planmap on the same file, for before and after
# (BENCHMARKS.md, "Import of 1,000,000 parcels"). Run by make bench-import.
set -euo pipefail
N=${N:-1000000}
GO=${GO:-go}
for tool in ogr2ogr /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "import.sh: $tool is missing (apt-get install gdal-bin time)" >&2; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$GO" build -o "$dir/planmap" ./cmd/planmap
"$GO" run ./layers/layerstest/genparcels -n "$N" >"$dir/parcels.geojson"
echo "$N parcels, $(du -m "$dir/parcels.geojson" | cut -f1) MB of GeoJSON; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

run() {
	local name=$1
	shift
	if ! /usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$@" >"$dir/out" 2>"$dir/err"; then
		echo "$name failed:" >&2
		cat "$dir/out" "$dir/err" >&2
		exit 1
	fi
	read -r wall user sys rss <"$dir/time"
	awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
		'BEGIN { printf "%-24s %7.1f s wall %7.1f s CPU %6d MB peak RSS\n", n, w, u + s, m / 1024 }'
}

run "ogr2ogr -f GPKG" ogr2ogr -f GPKG "$dir/ogr.gpkg" "$dir/parcels.geojson"
run "planmap import" "$dir/planmap" import --db "$dir/new.gpkg" "$dir/parcels.geojson"
grep -q "$N features written" "$dir/out" || { echo "planmap import wrote: $(cat "$dir/out")" >&2; exit 1; }
if [ -n "${OLD:-}" ]; then
	run "planmap import (OLD)" "$OLD" import --db "$dir/old.gpkg" "$dir/parcels.geojson"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
