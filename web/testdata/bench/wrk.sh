#!/usr/bin/env bash
# wrk.sh: the wrk half of `make bench`. Builds planmap, imports the
# Haimen layers and 200,000 synthetic parcels into a new database, serves it
# on 127.0.0.1:$PORT and runs wrk (2 threads, 32 connections, 10 s, as the
# pg_featureserv numbers of BENCHMARKS.md were measured) against the four
# requests the Go benchmarks in web/bench_test.go make, then prints
# requests/s for each. Run from the repository root, after make assets
# (make bench does both):
#
#	bash web/testdata/bench/wrk.sh
#
# Environment: GO (default go), PORT (default 18080), DURATION (default
# 10s), PARCELS (default 200000). Without wrk it says so and exits 0.
set -euo pipefail

GO=${GO:-go}
PORT=${PORT:-18080}
DURATION=${DURATION:-10s}
PARCELS=${PARCELS:-200000}

if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk.sh: wrk is not installed (apt-get install wrk); skipping the wrk run"
	exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/planmap-wrk-XXXXXX")
server=
cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "== building planmap and the parcel generator"
"$GO" build -o "$TMP/planmap" ./cmd/planmap
"$GO" build -o "$TMP/genparcels" ./layers/layerstest/genparcels

echo "== importing the Haimen layers and $PARCELS parcels"
"$TMP/genparcels" -n "$PARCELS" >"$TMP/parcels.geojson"
start=$(date +%s%N)
"$TMP/planmap" import --db "$TMP/planmap.gpkg" seeds "$TMP/parcels.geojson" 2>"$TMP/import.log" | tail -n 1
echo "import took $(( ($(date +%s%N) - start) / 1000000 )) ms"

# The same blocks of the parcel grid as web/bench_test.go.
bbox50=$("$TMP/genparcels" -bbox 300,150,10,5)
bbox1000=$("$TMP/genparcels" -bbox 280,140,40,25)

# One feature by id, a different one each request, as BenchmarkItem does.
cat >"$TMP/item.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/collections/parcels/items/" .. ((counter * 7919) % $PARCELS + 1))
end
LUA

echo "== serving on 127.0.0.1:$PORT"
# The request log goes to a file, as a real deployment would write it.
"$TMP/planmap" serve --db "$TMP/planmap.gpkg" --addr "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
server=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
	if curl -fs "$base/healthz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$server" 2>/dev/null; then
		echo "wrk.sh: planmap serve exited:" >&2
		tail -n 20 "$TMP/serve.log" >&2
		exit 1
	fi
	sleep 0.1
done
curl -fs "$base/healthz" >/dev/null

names=(ItemsBBox50 ItemsBBox1000 Item Collections)
paths=(
	"/collections/parcels/items?bbox=$bbox50&limit=100"
	"/collections/parcels/items?bbox=$bbox1000&limit=1000"
	"/collections/parcels/items/{id} (ids vary, item.lua)"
	"/collections"
)
rates=()
for i in "${!names[@]}"; do
	echo
	echo "== ${names[$i]}: ${paths[$i]}"
	if [ "${names[$i]}" = Item ]; then
		out=$(wrk -t2 -c32 -d"$DURATION" -s "$TMP/item.lua" "$base/")
	else
		out=$(wrk -t2 -c32 -d"$DURATION" "$base${paths[$i]}")
	fi
	echo "$out"
	if ! kill -0 "$server" 2>/dev/null; then
		echo "wrk.sh: planmap serve exited during the run:" >&2
		grep -v 'msg=request' "$TMP/serve.log" | tail -n 20 >&2
		exit 1
	fi
	rates+=("$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')")
done

echo
echo "== wrk -t2 -c32 -d$DURATION, requests/s"
for i in "${!names[@]}"; do
	printf '%-16s %10s\n' "${names[$i]}" "${rates[$i]}"
done
