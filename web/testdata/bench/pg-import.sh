#!/usr/bin/env bash
# pg-import.sh: planmap import into PostGIS side by side with ogr2ogr of the
# same N synthetic parcels (default 1,000,000), each into a fresh database
# of the cluster PG names, interleaved for ROUNDS rounds (default 2): wall
# time, client CPU (user + system) and client peak RSS from GNU time, and
# the CPU of the cluster's process tree meanwhile (its postmaster must run
# on this machine, and nothing else use the cluster).
# OLD=path/to/planmap adds another build of planmap, for before and after.
# The parcels come from the shared bench tools' synth (BENCH, default
# /work/shared/bench): the planmap layer file and the plain FeatureCollection
# ogr2ogr reads are the same features. BENCHMARKS.md, "PostGIS, side by
# side"; run by make bench-postgis (with pg-serve.sh).
#
#   PG=postgres://postgres@127.0.0.1:55472/postgres?sslmode=disable bash web/testdata/bench/pg-import.sh
#
# The cluster should be set up as the anchor's: shared_buffers = 2GB,
# max_parallel_workers_per_gather = 0 (bash .ci/postgres start DIR PORT,
# then those two lines in DIR/data/postgresql.conf and a restart).
set -euo pipefail
N=${N:-1000000}
ROUNDS=${ROUNDS:-2}
GO=${GO:-go}
BENCH=${BENCH:-/work/shared/bench}
PG=${PG:?set PG to a postgres:// URL of a user who may create databases}
for tool in ogr2ogr psql /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "pg-import.sh: $tool is missing" >&2; exit 1; }
done
dir=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$dir"' EXIT
"$GO" build -o "$dir/planmap" ./cmd/planmap
(cd "$BENCH/synth" && "$GO" build -o "$dir/synth" .)
[ -s "$dir/layer-$N.geojson" ] || "$dir/synth" -n "$N" -layer parcels -o "$dir/layer-$N.geojson" 2>/dev/null
[ -s "$dir/plain-$N.geojson" ] || "$dir/synth" -n "$N" -o "$dir/plain-$N.geojson" 2>/dev/null

# db NAME: a fresh, empty database NAME, and its URL.
base=${PG%%\?*}
base=${base%/*}
db() {
	PGOPTIONS='-c client_min_messages=warning' psql "$PG" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
	echo "$base/$1?sslmode=disable"
}
# pgkv URL: libpq's key=value form of a postgres:// URL, for GDAL.
pgkv() {
	local u=${1#postgres://} q
	q=${u%%\?*}
	local userhost=${q%%/*} name=${q#*/}
	local user=${userhost%@*} hostport=${userhost#*@}
	echo "host=${hostport%:*} port=${hostport##*:} user=$user dbname=$name"
}

echo "$N parcels, $(du -mL "$dir/layer-$N.geojson" | cut -f1) MB of GeoJSON; $(nproc) CPUs"
postmaster=$(psql "$PG" -qAt -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" | xargs ps -o ppid= -p | tr -d ' ')
tck=$(getconf CLK_TCK)
# ticks PID: CPU ticks of the process tree of PID, reaped children included.
ticks() {
	local s=0 p f
	for p in $(ps -e -o pid=,ppid= | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
		END { q[1] = root; n = 1; i = 1; while (i <= n) { p = q[i++]; print p; m = split(kids[p], a, " "); for (j = 1; j <= m; j++) q[++n] = a[j] } }'); do
		f=$(cat /proc/$p/stat 2>/dev/null) || continue
		f=${f##*) }
		set -- $f
		s=$((s + ${12} + ${13} + ${14} + ${15}))
	done
	echo $s
}
run() {
	local name=$1
	shift
	sync
	local load t0 t1
	load=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(ticks "$postmaster")
	if ! /usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$@" >"$dir/out" 2>"$dir/err"; then
		echo "$name failed:" >&2
		cat "$dir/out" "$dir/err" >&2
		exit 1
	fi
	# The client's backends, gone with it, are counted in the postmaster's
	# reaped children's CPU once it has reaped them.
	sleep 1
	t1=$(ticks "$postmaster")
	read -r wall user sys rss <"$dir/time"
	awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v l="$load" -v pg=$((t1 - t0)) -v k="$tck" \
		'BEGIN { printf "%-22s %6.1f s wall %6.1f s client CPU %6.1f s PostgreSQL CPU %5d MB client peak RSS  (load before %s)\n", n, w, u + s, pg / k, m / 1024, l }'
}
count() { psql "$1" -qAt -c "SELECT count(*) FROM parcels"; }

for r in $(seq "$ROUNDS"); do
	echo "round $r"
	u=$(db bench_ogr)
	run "ogr2ogr" ogr2ogr -f PostgreSQL "PG:$(pgkv "$u")" "$dir/plain-$N.geojson" -nln parcels -nlt POLYGON \
		-lco GEOMETRY_NAME=geom -lco FID=id -lco SPATIAL_INDEX=GIST -preserve_fid
	[ "$(count "$u")" = "$N" ] || { echo "ogr2ogr wrote $(count "$u") rows" >&2; exit 1; }
	u=$(db bench_planmap)
	run "planmap import" "$dir/planmap" import --db "$u" "$dir/layer-$N.geojson"
	grep -q "$N features written" "$dir/out" || { echo "planmap import wrote: $(cat "$dir/out")" >&2; exit 1; }
	if [ -n "${OLD:-}" ]; then
		u=$(db bench_old)
		run "planmap import (OLD)" "$OLD" import --db "$u" "$dir/layer-$N.geojson"
	fi
done
psql "$PG" -qAt -c "DROP DATABASE bench_ogr WITH (FORCE)" -c "DROP DATABASE bench_planmap WITH (FORCE)" >/dev/null
[ -z "${OLD:-}" ] || psql "$PG" -qAt -c "DROP DATABASE bench_old WITH (FORCE)" >/dev/null
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
