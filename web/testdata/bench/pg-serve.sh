#!/usr/bin/env bash
# pg-serve.sh: planmap beside pg_featureserv on one PostGIS cluster and the
# same N synthetic parcels (default 200,000), and planmap's vector tiles
# beside PostGIS's own ST_AsMVT on the same tiles: server CPU per request,
# the server's process tree plus the cluster's (its backends), each
# scenario run for one server after the other in ROUNDS rounds (default 2),
# so that the ratios come from runs interleaved in one sitting.
# BENCHMARKS.md, "PostGIS, side by side"; run by make bench-postgis.
#
#   PG=postgres://postgres@127.0.0.1:55472/postgres?sslmode=disable \
#   PGFS=/path/to/pg_featureserv bash web/testdata/bench/pg-serve.sh
#
# PG: a user who may create databases, on a cluster whose postmaster runs
# on this machine (its process tree is watched: nothing else should use
# the cluster meanwhile); set up as the anchor's: shared_buffers = 2GB,
# max_parallel_workers_per_gather = 0. PGFS: pg_featureserv built from its
# public repository at commit cd3ae95 (git clone
# https://github.com/CrunchyData/pg_featureserv; git checkout cd3ae95; go
# build), not part of this repository. BENCH: the shared bench tools
# (synth, bboxgen, wrk/bench.sh; default /work/shared/bench). ONLY: the
# parts to run, of "features tiles". D: wrk's duration per run (10s).
#
# The servers: pg_featureserv (LimitMax = 10000) serving the table ogr2ogr
# wrote (parcels_fs), as the anchor loads it; planmap serving the layer
# planmap import wrote (parcels) from the same database, once as it runs
# by default (its feature and tile caches on), once with both caches off
# (--cache-mb 0 --tile-cache-mb 0), every request read from PostgreSQL,
# and once ("held") with a feature cache big enough for the whole layer
# (--cache-mb HELD_MB, default 512), the layer read once through it before
# each run (every feature held), as a server that has been up a while: on
# the boxes of the others, and on "pan" boxes, never asked twice.
# Each is restarted before every run (pg_featureserv's pool deadlocks
# when wrk hangs up). Tiles: planmap's /collections/parcels/tiles (OGC API
# – Tiles, MVT) over wrk, and ST_AsMVT of the same tiles (every tile of
# zoom 12, 13 and 14 over the parcels), with the same properties, extent
# and buffer, run by psql (two at once, like wrk's two threads): the
# cluster's CPU per tile. At z12 planmap thins the parcels away (a tile
# would hold over 12,000) and answers 204: only ST_AsMVT is measured.
set -euo pipefail
N=${N:-200000}
ROUNDS=${ROUNDS:-2}
D=${D:-10s}
GO=${GO:-go}
BENCH=${BENCH:-/work/shared/bench}
ONLY=${ONLY:-features tiles}
PG=${PG:?set PG to a postgres:// URL of a user who may create databases}
PGFS=${PGFS:?set PGFS to a pg_featureserv binary built at commit cd3ae95}
export QUIET=${QUIET:-20} QUIET_MAX=${QUIET_MAX:-10}
for tool in ogr2ogr psql wrk curl jq; do
	command -v "$tool" >/dev/null || { echo "pg-serve.sh: $tool is missing" >&2; exit 1; }
done
dir=${WORK:-$(mktemp -d)}
cleanup() { [ -n "${WORK:-}" ] || rm -rf "$dir"; }
trap cleanup EXIT
"$GO" build -o "$dir/planmap" ./cmd/planmap
(cd "$BENCH/synth" && "$GO" build -o "$dir/synth" .)
(cd "$BENCH/bboxgen" && "$GO" build -o "$dir/bboxgen" .)

base=${PG%%\?*}
base=${base%/*}
name=bench_serve
url="$base/$name?sslmode=disable"
postmaster=$(psql "$PG" -qAt -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" | xargs ps -o ppid= -p | tr -d ' ')
pgkv() {
	local u=${1#postgres://} q
	q=${u%%\?*}
	local userhost=${q%%/*} db=${q#*/}
	local user=${userhost%@*} hostport=${userhost#*@}
	echo "host=${hostport%:*} port=${hostport##*:} user=$user dbname=$db"
}

# The data, once (WORK keeps it between runs).
if [ ! -s "$dir/bbox1000.tsv" ]; then
	[ -s "$dir/layer.geojson" ] || "$dir/synth" -n "$N" -layer parcels -o "$dir/layer.geojson" 2>/dev/null
	[ -s "$dir/plain.geojson" ] || "$dir/synth" -n "$N" -o "$dir/plain.geojson" 2>/dev/null
	PGOPTIONS='-c client_min_messages=warning' psql "$PG" -qAt -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
	ogr2ogr -f PostgreSQL "PG:$(pgkv "$url")" "$dir/plain.geojson" -nln parcels_fs -nlt POLYGON \
		-lco GEOMETRY_NAME=geom -lco FID=id -lco SPATIAL_INDEX=GIST -preserve_fid
	"$dir/planmap" import --db "$url" "$dir/layer.geojson"
	psql "$url" -qAt -c "VACUUM ANALYZE" >/dev/null
	"$dir/bboxgen" -in "$dir/plain.geojson" -mode bbox -target 50 -k 2000 -o "$dir/bbox50.tsv"
	"$dir/bboxgen" -in "$dir/plain.geojson" -mode bbox -target 1000 -k 2000 -o "$dir/bbox1000.tsv"
fi
# The same boxes, each moved east by k × 0.3 m for k = 1 … 100 in turn:
# 200,000 boxes of about as many parcels, none asked twice in a run (wrk
# walks a list round and round), as a map panned bit by bit asks. A cache
# holds no answer to any of them; only its spatial index helps.
for s in 50 1000; do
	[ -s "$dir/pan$s.tsv" ] || awk -F'\t' -v OFS='\t' '{ box[NR] = $1; n[NR] = $2 }
		END { for (k = 1; k <= 100; k++) for (i = 1; i <= NR; i++) {
			split(box[i], b, ","); d = k * 0.000003
			printf "%.7f,%.7f,%.7f,%.7f\t%s\n", b[1] + d, b[2], b[3] + d, b[4], n[i] } }' "$dir/bbox$s.tsv" >"$dir/pan$s.tsv"
done

cat >"$dir/pgfs.toml" <<TOML
[Server]
HttpHost = "127.0.0.1"
HttpPort = 9301
ReadTimeoutSec = 5
WriteTimeoutSec = 30
[Database]
DbConnection = "$url"
[Paging]
LimitDefault = 20
LimitMax = 10000
TOML

# start NAME CMD…: stop every server this script started, and start one
# in the background, its pid in $dir/NAME.pid: one server runs at a time.
start() {
	local n=$1 f
	shift
	for f in "$dir"/*.pid; do
		[ -s "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null || true
		while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.1; done
		rm -f "$f"
	done
	setsid "$@" >"$dir/$n.log" 2>&1 &
	echo $! >"$dir/$n.pid"
}
stopall() {
	local f
	for f in "$dir"/*.pid; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
}
trap 'stopall; cleanup' EXIT
export -f start
export dir PGFS
planmap_cmd="$dir/planmap serve --db $url"
fs_restart="start fs $PGFS -c $dir/pgfs.toml"
pm_restart="start pm $planmap_cmd --addr 127.0.0.1:9302 --cache-dir $dir/cache-pm"
pm0_restart="start pm0 $planmap_cmd --addr 127.0.0.1:9303 --cache-dir $dir/cache-pm0 --cache-mb 0 --tile-cache-mb 0"
# warm PORT: read the whole layer once through the server on PORT, page
# by page, as a server that has been up a while has: every feature held,
# and the layer's spatial index made.
warm() {
	local port=$1 i next
	for i in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/collections" && break; sleep 0.1; done
	next="http://127.0.0.1:$port/collections/parcels/items?limit=10000"
	while [ -n "$next" ]; do
		next=$(curl -sf "$next" | jq -r '(.links[] | select(.rel == "next") | .href) // empty')
	done
	# One box, so that the layer's spatial index is made (in the
	# background, under a second) before the run rather than in it.
	curl -sf -o /dev/null "http://127.0.0.1:$port/collections/parcels/items?bbox=121.5,32,121.501,32.001"
	sleep 2
}
export -f warm
# planmap with a feature cache that holds the whole layer, warmed so.
pmh_restart="start pmh $planmap_cmd --addr 127.0.0.1:9304 --cache-dir $dir/cache-pmh --cache-mb ${HELD_MB:-512}; warm 9304"

out="$dir/results.tsv"
rm -f "$out"
bench() { # name url list template restart watched-pidfile
	bash "$BENCH/wrk/bench.sh" -n "$1" -u "$2" -l "$3" -p "$4" -t 2 -c 32 -d "$D" -r 1 -w 300 \
		-x "$5" -g "srv:@$6" -g "pg:$postmaster" -o "$out" | grep -v '^#\|^run\|^median' || true
}

# Tiles: z/y/x (OGC row/col order) of every tile of zoom z over the parcels.
tiles() {
	awk -v z="$1" 'function x(lon) { return int((lon + 180) / 360 * 2^z) }
		function y(lat,   r) { r = lat * 3.141592653589793 / 180
			return int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / 3.141592653589793) / 2 * 2^z) }
		BEGIN { for (j = y(32.15); j <= y(31.95); j++) for (i = x(121.45); i <= x(121.75); i++) printf "%d/%d/%d\n", z, j, i }'
}
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
# mvt Z SECONDS: ST_AsMVT of the tiles of zoom Z, the list over and over,
# by two psql sessions for SECONDS: tiles made, and the cluster's CPU.
mvt() {
	local z=$1 secs=$2
	tiles "$z" | awk -F/ '{ printf "SELECT length(ST_AsMVT(q, '\''parcels'\'', 4096, '\''geom'\'', '\''fid'\'')) FROM (SELECT fid, landuse, status, name_zh, name_en, ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%d, %d, %d), 4096, 64, true) AS geom FROM parcels WHERE geom && ST_Transform(ST_TileEnvelope(%d, %d, %d, margin => 64.0 / 4096), 4326)) q;\n", $1, $3, $2, $1, $3, $2 }' >"$dir/mvt$z.sql"
	local n0 t0 t1 w0 w1 tck
	tck=$(getconf CLK_TCK)
	local bytes # the mean tile's size; and it warms the cache
	bytes=$(psql "$url" -qAt -f "$dir/mvt$z.sql" | awk '{ s += $1; n++ } END { printf "%.0f", s / n }')
	t0=$(ticks "$postmaster")
	w0=$(date +%s.%N)
	for k in 1 2; do
		(end=$(($(date +%s) + secs)); c=0
			while [ "$(date +%s)" -lt $end ]; do psql "$url" -qAt -f "$dir/mvt$z.sql" >/dev/null; c=$((c + 1)); done
			echo $c >"$dir/mvt.$k") &
	done
	wait
	w1=$(date +%s.%N)
	t1=$(ticks "$postmaster")
	local per runs
	per=$(wc -l <"$dir/mvt$z.sql")
	runs=$(($(cat "$dir/mvt.1") + $(cat "$dir/mvt.2")))
	awk -v n=$((runs * per)) -v d=$((t1 - t0)) -v k="$tck" -v w0="$w0" -v w1="$w1" -v z="$z" -v b="$bytes" \
		'BEGIN { printf "ST_AsMVT z%d: %d tiles in %.1f s, %.0f tiles/s, %d bytes/tile, PostgreSQL %.0f %% CPU, %.2f ms CPU per tile\n", z, n, w1 - w0, n / (w1 - w0), b, d / k / (w1 - w0) * 100, d / k / n * 1000 }'
}

for r in $(seq "$ROUNDS"); do
	echo "== round $r"
	if [[ " $ONLY " == *" features "* ]]; then
		for s in 50 1000; do
			bench "pg_featureserv/bbox$s" http://127.0.0.1:9301 "$dir/bbox$s.tsv" \
				"/collections/public.parcels_fs/items.json?bbox={}&limit=1000" "$fs_restart" "$dir/fs.pid"
			bench "planmap/bbox$s" http://127.0.0.1:9302 "$dir/bbox$s.tsv" \
				"/collections/parcels/items?bbox={}&limit=1000" "$pm_restart" "$dir/pm.pid"
			bench "planmap-nocache/bbox$s" http://127.0.0.1:9303 "$dir/bbox$s.tsv" \
				"/collections/parcels/items?bbox={}&limit=1000" "$pm0_restart" "$dir/pm0.pid"
			bench "planmap-held/bbox$s" http://127.0.0.1:9304 "$dir/bbox$s.tsv" \
				"/collections/parcels/items?bbox={}&limit=1000" "$pmh_restart" "$dir/pmh.pid"
			bench "planmap-held/pan$s" http://127.0.0.1:9304 "$dir/pan$s.tsv" \
				"/collections/parcels/items?bbox={}&limit=1000" "$pmh_restart" "$dir/pmh.pid"
		done
	fi
	if [[ " $ONLY " == *" tiles "* ]]; then
		for z in 12 13 14; do
			tiles "$z" >"$dir/tiles$z.tsv"
			mvt "$z" "${D%s}"
			# At z12 planmap draws no parcels: a tile would hold more than
			# tiles.MaxFeatures of them (minTileMatrix 13), and it answers
			# 204 at once.
			[ "$z" -gt 12 ] || continue
			bench "planmap-nocache/tiles-z$z" http://127.0.0.1:9303 "$dir/tiles$z.tsv" \
				"/collections/parcels/tiles/WebMercatorQuad/{}" "$pm0_restart" "$dir/pm0.pid"
			bench "planmap/tiles-z$z" http://127.0.0.1:9302 "$dir/tiles$z.tsv" \
				"/collections/parcels/tiles/WebMercatorQuad/{}" "$pm_restart" "$dir/pm.pid"
		done
	fi
done
# CPU per request: (server tree + cluster tree) CPU / requests.
echo "== server CPU per request (ms): the server's tree and PostgreSQL's"
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ rps = $c["req/s"]; srv = $c["srv_cpu%"] / 100 / rps * 1000; pg = $c["pg_cpu%"] / 100 / rps * 1000
	  printf "%-32s %8.0f req/s %8.3f ms server %8.3f ms PostgreSQL %8.3f ms in all   %s bytes/resp, errors %s, other %s %%\n", $c["name"], rps, srv, pg, srv + pg, $c["bytes/resp"], $c["errors"], $c["other_cpu%"] }' "$out"
