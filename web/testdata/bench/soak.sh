#!/usr/bin/env bash
# soak.sh: `make soak`. Serves the Haimen layers and 200,000 synthetic
# parcels with the real binary, as web/testdata/bench/wrk.sh does, and
# drives it with wrk for SOAK_SECONDS (default 180) with a mix of requests
# (bbox pages, single features, deep offsets, search, the collection list
# and documents, a small layer download, HTML, a bad bbox that must get
# 400), sampling the server's RSS from /proc every 2 s. It fails on any
# 5xx response, any socket error, a server that died, or RSS that grows
# after the warm-up (the first third of the run, at least 20 s) by more
# than SOAK_MAX_GROWTH_MB (default 64) above the highest RSS of the
# warm-up. Not part of CI: it takes minutes. Run from the repository root,
# after make assets:
#
#	SOAK_SECONDS=60 bash web/testdata/bench/soak.sh
#
# Environment: GO, PORT (default 18081), SOAK_SECONDS, SOAK_MAX_GROWTH_MB,
# PARCELS (default 200000), CONNECTIONS (default 16).
set -euo pipefail

GO=${GO:-go}
PORT=${PORT:-18081}
SOAK_SECONDS=${SOAK_SECONDS:-180}
SOAK_MAX_GROWTH_MB=${SOAK_MAX_GROWTH_MB:-64}
PARCELS=${PARCELS:-200000}
CONNECTIONS=${CONNECTIONS:-16}

if ! command -v wrk >/dev/null 2>&1; then
	echo "soak.sh: wrk is not installed (apt-get install wrk)" >&2
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/planmap-soak-XXXXXX")
server=
sampler=
cleanup() {
	for p in $sampler $server; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "== building planmap and the parcel generator"
"$GO" build -o "$TMP/planmap" ./cmd/planmap
"$GO" build -o "$TMP/genparcels" ./layers/layerstest/genparcels
echo "== importing the Haimen layers and $PARCELS parcels"
"$TMP/genparcels" -n "$PARCELS" >"$TMP/parcels.geojson"
"$TMP/planmap" import --db "$TMP/planmap.gpkg" seeds "$TMP/parcels.geojson" 2>"$TMP/import.log" | tail -n 1

# Each request picks the next entry of the mix, with its own parameters;
# responses of 500 and above are counted per thread and summed in done().
cat >"$TMP/mix.lua" <<LUA
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
counter = 0
fivexx = 0
bad = 0
local paths = {
  function(n)
    local col, row = (n * 37) % 590, (n * 13) % 330
    local w, s = 121.2 + col * 0.0009, 31.9 + row * 0.0009
    return string.format("/collections/parcels/items?bbox=%.4f,%.4f,%.4f,%.4f&limit=100", w, s, w + 0.009, s + 0.0045)
  end,
  function(n) return "/collections/parcels/items/" .. ((n * 7919) % $PARCELS + 1) end,
  function(n) return "/collections/parcels/items?limit=500&offset=" .. ((n * 104729) % ($PARCELS - 500)) end,
  function(n) return "/search?q=" .. ((n * 31) % 9999 + 1) .. "%E5%8F%B7" end,
  function(n) return "/collections" end,
  function(n) return "/collections/parcels" end,
  function(n) return "/api" end,
  function(n) return "/collections/terminals/download.geojson" end,
  function(n) return "/collections/roads/items?f=html" end,
  function(n) return "/collections/parcels/items?bbox=1,2,3" end, -- 400
  function(n) return "/collections/terminals/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857" end,
}
request = function()
  counter = counter + 1
  return wrk.format(nil, paths[counter % #paths + 1](counter))
end
response = function(status, headers, body)
  if status >= 500 then fivexx = fivexx + 1 end
  if status >= 400 and status < 500 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local f, b = 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("fivexx")
    b = b + t:get("bad")
  end
  io.write(string.format("soak-5xx: %d\nsoak-4xx: %d\n", f, b))
end
LUA

echo "== serving on 127.0.0.1:$PORT"
"$TMP/planmap" serve --db "$TMP/planmap.gpkg" --addr "127.0.0.1:$PORT" 2>"$TMP/serve.log" &
server=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
	curl -fs "$base/healthz" >/dev/null 2>&1 && break
	if ! kill -0 "$server" 2>/dev/null; then
		echo "soak.sh: planmap serve exited:" >&2
		tail -n 20 "$TMP/serve.log" >&2
		exit 1
	fi
	sleep 0.1
done
curl -fs "$base/healthz" >/dev/null

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
(
	t0=$SECONDS
	while kill -0 "$server" 2>/dev/null; do
		echo "$((SECONDS - t0)) $(rss_kb)"
		sleep 2
	done
) >"$TMP/rss" 2>/dev/null &
sampler=$!

echo "== wrk -t2 -c$CONNECTIONS -d${SOAK_SECONDS}s, a mix of 11 requests"
wrk -t2 -c"$CONNECTIONS" -d"${SOAK_SECONDS}s" --timeout 30s -s "$TMP/mix.lua" "$base/" | tee "$TMP/wrk.out"
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
sampler=

fail=()
if ! kill -0 "$server" 2>/dev/null; then
	fail+=("the server died during the run")
elif ! curl -fs "$base/healthz" >/dev/null; then
	fail+=("the server does not answer /healthz after the run")
fi
fivexx=$(awk '/^soak-5xx:/ {print $2}' "$TMP/wrk.out")
fourxx=$(awk '/^soak-4xx:/ {print $2}' "$TMP/wrk.out")
total=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
[ "${fivexx:-x}" = 0 ] || fail+=("${fivexx:-?} responses with status 5xx")
if grep -q 'Socket errors' "$TMP/wrk.out"; then
	fail+=("$(grep 'Socket errors' "$TMP/wrk.out" | sed 's/^ *//')")
fi
# Exactly the bad-bbox requests (1 in 11) get 400; anything else 4xx is
# a regression too. The requests still in flight when wrk stops make the
# count of those completed differ by a few.
want4xx=$(( total / 11 ))
slack=$(( want4xx / 50 + 4 ))
if [ "$(( fourxx - want4xx ))" -gt "$slack" ] || [ "$(( want4xx - fourxx ))" -gt "$slack" ]; then
	fail+=("$fourxx responses with status 4xx, want about $want4xx (the bad bbox)")
fi

warm=$(( SOAK_SECONDS / 3 ))
[ "$warm" -ge 20 ] || warm=20
read -r warm_max after_max last < <(awk -v w="$warm" '
	$1 <= w { if ($2 > wm) wm = $2 }
	$1 > w  { if ($2 > am) am = $2; last = $2 }
	END { printf "%d %d %d\n", wm, am, last }' "$TMP/rss")
echo
echo "== RSS (MB) sampled every 2 s: highest in the warm-up (first ${warm}s) $((warm_max / 1024)), highest after $((after_max / 1024)), at the end $((last / 1024))"
awk '{printf "%s:%d ", $1, $2/1024} END {print ""}' "$TMP/rss"
growth=$(( (after_max - warm_max) / 1024 ))
if [ "$after_max" -gt 0 ] && [ "$growth" -gt "$SOAK_MAX_GROWTH_MB" ]; then
	fail+=("RSS grew by ${growth} MB after the warm-up, more than SOAK_MAX_GROWTH_MB=$SOAK_MAX_GROWTH_MB")
fi
echo "== $total requests in ${SOAK_SECONDS}s: ${fivexx:-?} 5xx, ${fourxx:-?} 4xx (want about $want4xx), RSS growth after warm-up ${growth} MB (limit $SOAK_MAX_GROWTH_MB)"
if [ ${#fail[@]} -gt 0 ]; then
	printf 'soak: FAIL: %s\n' "${fail[@]}" >&2
	exit 1
fi
echo "soak: ok"
