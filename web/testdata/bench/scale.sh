#!/usr/bin/env bash
# scale.sh: `make bench-scale`. Measures two planmap binaries, one after the
# other in one sitting, on the same PARCELS synthetic parcels (genparcels),
# for the targets of issue 10, and prints one table, old against new:
#
#   - import: wall time, peak RSS and CPU of `planmap import` of the parcels
#     into a new database, next to `ogr2ogr -f GPKG` of the same file;
#   - start: from starting `planmap serve` to the first 200 of /healthz and
#     of /collections/parcels/items?limit=1 (each polled every 20 ms);
#   - reads: wrk (THREADS threads, CONNS connections, DURATION) walking
#     lists of requests with walk.lua, one list at a time: boxes of 50
#     parcels, boxes of 1,000 (limit=1000), one feature by id, and
#     /collections. "From file": long lists of random boxes and ids over the
#     whole layer, so that no request repeats during the run (the wraps
#     column says if one did). "From cache": a few boxes and ids, fetched
#     once with curl, then asked again and again. For each run: the
#     server's CPU per request (utime+stime of the server process from
#     /proc/PID/stat, before and after, over wrk's request count: the figure
#     that noise moves least), requests/s, p99, and the CPU of everything
#     else on the machine during the run. The server's RSS is sampled every
#     0.2 s throughout;
#   - a 1-feature change: `planmap import` of a file with one changed
#     parcel into the served database, while the item is asked for every
#     5 ms (seen) until the change shows, timed from the end of the import
#     process (negative: seen before the process had exited, its commit
#     being earlier);
#   - readers during a 10,000-feature import: wrk on random
#     50-parcel boxes while `planmap import` updates IMPORT_FEATURES
#     parcels, until the change shows and one second more: p50, p99, max.
# CPU per request is set against pg_featureserv's on 200,000 parcels
# (/work/shared/bench/README.md: 2.1, 26.8, 0.34 and 1.1 ms).
#
# Run from the repository root, after make assets (make bench-scale does
# both); at 1,000,000 parcels it takes about 5 minutes for the old binary on
# a quiet machine, plus up to QUIET_MAX seconds per measurement on a busy
# one. The "before" figures are kept in results-old-*.txt and *.kv:
#
#	make bench-scale                                  # e4e3471 against this worktree
#	BIN_OLD=/tmp/old/planmap BIN_NEW=bin/planmap make bench-scale
#	NEW_REF=main PARCELS=10000 make bench-scale
#	ONLY=old PARCELS=10000 bash web/testdata/bench/scale.sh
#	OLD_KV=web/testdata/bench/results-old-1000000.kv make bench-scale   # new only, against the kept old
#	KV_DIR=/tmp/10k PARCELS=10000 make bench-scale; KV_DIR=/tmp/1m make bench-scale
#	bash web/testdata/bench/scale.sh compare /tmp/10k/new.kv /tmp/1m/new.kv   # per request, 10k against 1M
#
# Environment:
#   BIN_OLD, BIN_NEW  the two binaries; by default OLD_REF is built as old
#                     and NEW_REF as new, each from `git archive` with this
#                     worktree's web/static/vendor. OLD_REF defaults to
#                     e4e3471, the last commit of main before issue 10's
#                     store (the in-memory catalog); without NEW_REF the
#                     worktree itself is built as new
#   ONLY              old or new: measure only that one
#   PARCELS           default 1000000; IMPORT_FEATURES default 10000
#   DURING_THINK_MS   readers during the import pause this long on average
#                     between an answer and their next request (paced.lua),
#                     as map users do, instead of asking as fast as the
#                     server answers (default 0: as fast)
#   DURATION          of each wrk run, default 10s; THREADS 2, CONNS 32
#   SERVE_FLAGS       extra flags of `serve` for both binaries;
#                     SERVE_FLAGS_OLD / SERVE_FLAGS_NEW for one of them
#                     (default SERVE_FLAGS), e.g. SERVE_FLAGS_NEW="--cache-mb
#                     64" for the feature cache (old's --cache-mb is its
#                     download cache)
#   PORT              default 18190
#   QUIET, QUIET_MAX  before each measurement wait until the machine is
#                     less than QUIET % busy (default 30, of both cores)
#                     for 1 s, at most QUIET_MAX s (default 60)
#   KV_DIR            where to keep old.kv and new.kv, the raw figures
#                     (default: the temporary folder, removed at the end)
#   OLD_KV            print this saved old.kv instead of measuring old
#   KEEP=1            keep the temporary folder (databases, logs, lists)
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"

# scale.sh compare A.kv B.kv: the figures per request of two runs (say
# 10,000 and 1,000,000 parcels, KV_DIR of each) side by side.
if [ "${1:-}" = compare ]; then
	if [ $# -ne 3 ]; then
		echo "usage: scale.sh compare A.kv B.kv" >&2
		exit 2
	fi
	printf '%-22s %12s %12s %8s\n' figure "$(sed -n 's/^parcels=//p' "$2") parcels" "$(sed -n 's/^parcels=//p' "$3") parcels" "B/A"
	awk -F= 'NR == FNR { a[$1] = $2; next } $1 ~ /_(cpu_ms|rps|p99_ms)$/ && ($1 in a) {
		printf "%-22s %12s %12s %8s\n", $1, a[$1], $2, (a[$1] + 0 > 0 ? sprintf("%.2f", $2 / a[$1]) : "-")
	}' "$2" "$3"
	exit 0
fi
HERE=web/testdata/bench
GO=${GO:-go}
PARCELS=${PARCELS:-1000000}
IMPORT_FEATURES=${IMPORT_FEATURES:-10000}
DURING_THINK_MS=${DURING_THINK_MS:-0}
case $DURING_THINK_MS in
'' | *[!0-9]*)
	echo "scale.sh: DURING_THINK_MS must be a whole number of milliseconds, not $DURING_THINK_MS" >&2
	exit 2
	;;
esac
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
PORT=${PORT:-18190}
QUIET=${QUIET:-30}
QUIET_MAX=${QUIET_MAX:-60}
OLD_REF=${OLD_REF:-e4e3471}
ONLY=${ONLY:-}
SERVE_FLAGS=${SERVE_FLAGS:-}
SERVE_FLAGS_OLD=${SERVE_FLAGS_OLD-$SERVE_FLAGS}
SERVE_FLAGS_NEW=${SERVE_FLAGS_NEW-$SERVE_FLAGS}
BASE="http://127.0.0.1:$PORT"
TCK=$(getconf CLK_TCK)

for tool in wrk curl jq ogr2ogr /usr/bin/time; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "scale.sh: $tool is missing (apt-get install wrk curl jq gdal-bin time)" >&2
		exit 1
	fi
done
if [ "$IMPORT_FEATURES" -gt "$PARCELS" ]; then
	IMPORT_FEATURES=$PARCELS
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/planmap-scale-XXXXXX")
KV_DIR=${KV_DIR:-$TMP}
mkdir -p "$KV_DIR"
server=
sampler=
seenpid=
cleanup() {
	for p in $seenpid $sampler $server; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP:-}" = 1 ]; then
		echo "scale.sh: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

log() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }

# ---- the machine ------------------------------------------------------------
# Busy ticks of all CPUs (user, nice, system, irq, softirq, steal).
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
# wait_quiet waits until the machine is less than QUIET % busy over 1 s
# (both cores are 100 %), at most QUIET_MAX seconds: other helpers share
# it, and their work should not land inside a measurement.
wait_quiet() {
	local waited=0 a b
	while :; do
		a=$(busy_ticks)
		sleep 1
		b=$(busy_ticks)
		if [ $(( (b - a) * 100 / TCK / $(nproc) )) -lt "$QUIET" ]; then
			return 0
		fi
		waited=$((waited + 1))
		if [ "$waited" -ge "$QUIET_MAX" ]; then
			log "machine still busy after ${waited}s ($(ps -eo pcpu=,comm= --sort=-pcpu | head -1 | xargs)); measuring anyway"
			return 0
		fi
	done
}
# CPU ticks (utime + stime, all threads) of process $1.
proc_ticks() {
	local f
	f=$(cat "/proc/$1/stat") || return 1
	f=${f##*) }
	# shellcheck disable=SC2086
	set -- $f
	echo $(( ${12} + ${13} ))
}
# stop_wrk PID OUT makes wrk PID stop and report (into OUT). wrk stops on
# SIGINT, but the signal goes to any one of its threads: a worker thread
# stops its own loop while the main thread sleeps out the whole -d. Once
# the workers are gone, the next SIGINT reaches the main thread.
stop_wrk() {
	local i
	for i in $(seq 1 100); do
		kill -INT "$1" 2>/dev/null || break
		grep -q '^WALK ' "$2" && break
		sleep 0.2
	done
	wait "$1" || true
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- the data and the request lists, once for both binaries ------------------
log "building genparcels, scalelists and seen"
"$GO" build -o "$TMP/genparcels" ./layers/layerstest/genparcels
"$GO" build -o "$TMP/scalelists" ./$HERE/scalelists
"$GO" build -o "$TMP/seen" ./$HERE/seen
log "generating $PARCELS parcels"
"$TMP/genparcels" -n "$PARCELS" >"$TMP/parcels.geojson"
parcels_mb=$(( $(stat -c %s "$TMP/parcels.geojson") / 1048576 ))

# change_file LO HI TAG: the layer file with parcels LO ≤ id < HI of
# parcels.geojson, each with " TAG" appended to its name. genparcels writes
# the declaration, then each feature on two lines: id and properties, then
# the geometry.
change_file() {
	awk -v lo="$1" -v hi="$2" -v tag="$3" '
		BEGIN { hdr = 1 }
		hdr { print; if (index($0, "\"features\": [")) hdr = 0; next }
		/^    \{"type": "Feature", "id": / {
			id = $0
			sub(/^    \{"type": "Feature", "id": /, "", id)
			sub(/,.*/, "", id)
			id += 0
			if (id >= hi) exit
			keep = id >= lo
			if (keep) { head = $0; sub(/号地块"/, "号地块 " tag "\"", head) }
			next
		}
		keep { g = $0; sub(/,$/, "", g); out[++n] = head "\n" g; keep = 0 }
		END {
			for (i = 1; i <= n; i++) printf "%s%s\n", out[i], (i < n ? "," : "")
			print "  ]"
			print "}"
		}' "$TMP/parcels.geojson"
}
change_id=$(( PARCELS / 2 + 1 ))
change_file "$change_id" $((change_id + 1)) chg-one >"$TMP/change-one.geojson"
bulk_lo=$(( (PARCELS - IMPORT_FEATURES) / 4 + 1 ))
bulk_hi=$(( bulk_lo + IMPORT_FEATURES ))
change_file "$bulk_lo" "$bulk_hi" chg-bulk >"$TMP/change-bulk.geojson"
for f in change-one change-bulk; do
	got=$(jq '.features | length' "$TMP/$f.geojson")
	want=$([ "$f" = change-one ] && echo 1 || echo "$IMPORT_FEATURES")
	if [ "$got" != "$want" ]; then
		echo "scale.sh: $f.geojson holds $got features, want $want" >&2
		exit 1
	fi
done

log "request lists"
L="$TMP/scalelists -n $PARCELS"
# From file: more distinct requests than a run can ask, at 40,000, 8,000
# and 60,000 requests/s (old asked 10,600, 2,200 and 24,500 on 1,000,000
# parcels).
dur_s=$(awk -v d="$DURATION" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; if (d ~ /h$/) n *= 3600; print (n < 1 ? 1 : int(n + 0.999)) }')
$L -kind bbox -features 50 -k $((40000 * dur_s)) -seed 1 >"$TMP/file-bbox50.tsv"
$L -kind bbox -features 1000 -k $((8000 * dur_s)) -seed 2 >"$TMP/file-bbox1000.tsv"
$L -kind id -k $((60000 * dur_s)) -seed 3 >"$TMP/file-item.tsv"
printf '/collections\n' >"$TMP/collections.tsv"
# From cache: a few views and features asked again and again.
$L -kind bbox -features 50 -k 16 -seed 4 >"$TMP/cache-bbox50.tsv"
$L -kind bbox -features 1000 -k 16 -seed 5 >"$TMP/cache-bbox1000.tsv"
$L -kind id -k 200 -seed 6 >"$TMP/cache-item.tsv"
# Readers during the bulk import.
$L -kind bbox -features 50 -k 400000 -seed 7 >"$TMP/during-bbox50.tsv"

# ---- the binaries -------------------------------------------------------------
labels=()
[ "$ONLY" != new ] && [ -z "${OLD_KV:-}" ] && labels+=(old)
[ "$ONLY" != old ] && labels+=(new)
# build_ref LABEL REF builds REF's cmd/planmap into $TMP/planmap-LABEL.
build_ref() {
	log "building $2 ($(git rev-parse --short "$2")) as $1"
	mkdir -p "$TMP/src-$1"
	git archive "$2" | tar -x -C "$TMP/src-$1"
	cp -R web/static/vendor "$TMP/src-$1/web/static/"
	(cd "$TMP/src-$1" && "$GO" build -o "$TMP/planmap-$1" ./cmd/planmap)
}
if [[ " ${labels[*]} " == *" old "* ]] && [ -z "${BIN_OLD:-}" ]; then
	build_ref old "$OLD_REF"
	BIN_OLD=$TMP/planmap-old
	OLD_DESC="$OLD_REF $(git rev-parse --short "$OLD_REF")"
fi
if [[ " ${labels[*]} " == *" new "* ]] && [ -z "${BIN_NEW:-}" ] && [ -n "${NEW_REF:-}" ]; then
	build_ref new "$NEW_REF"
	BIN_NEW=$TMP/planmap-new
	NEW_DESC="$NEW_REF $(git rev-parse --short "$NEW_REF")"
fi
if [[ " ${labels[*]} " == *" new "* ]] && [ -z "${BIN_NEW:-}" ]; then
	log "building this worktree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with changes')) as new"
	"$GO" build -o "$TMP/planmap-new" ./cmd/planmap
	BIN_NEW=$TMP/planmap-new
	NEW_DESC="worktree $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+changes')"
fi
OLD_DESC=${OLD_DESC:-${BIN_OLD:-}}
NEW_DESC=${NEW_DESC:-${BIN_NEW:-}}

# ---- ogr2ogr, the yardstick of the import -------------------------------------
wait_quiet
log "ogr2ogr -f GPKG of the parcels"
/usr/bin/time -f '%e %M %U %S' -o "$TMP/ogr.time" ogr2ogr -f GPKG "$TMP/ogr.gpkg" "$TMP/parcels.geojson" 2>"$TMP/ogr.log"
read -r ogr_s ogr_rss_kb ogr_u ogr_s2 <"$TMP/ogr.time"
OGR_S=$ogr_s
OGR_RSS_MB=$((ogr_rss_kb / 1024))
rm -f "$TMP/ogr.gpkg"

# ---- one binary ---------------------------------------------------------------
# measure LABEL BIN FLAGS writes LABEL.kv (key=value lines) into KV_DIR.
measure() {
	local label=$1 bin=$2 flags=$3
	local kv="$KV_DIR/$label.kv" db="$TMP/$label.gpkg"
	: >"$kv"
	put() { echo "$1=$2" >>"$kv"; }
	put binary "$( [ "$label" = old ] && echo "$OLD_DESC" || echo "$NEW_DESC")"
	put serve_flags "$flags"
	put parcels "$PARCELS"
	put during_think_ms "$DURING_THINK_MS"

	log "$label: importing the Haimen layers (not timed), then $PARCELS parcels"
	"$bin" import --db "$db" seeds >"$TMP/$label.import-seeds.log" 2>&1
	wait_quiet
	local t0
	t0=$(now_ns)
	/usr/bin/time -f '%e %M %U %S' -o "$TMP/$label.import.time" \
		"$bin" import --db "$db" "$TMP/parcels.geojson" >"$TMP/$label.import.log" 2>&1
	local wall_ms rss_kb u s
	wall_ms=$(ms_since "$t0")
	read -r _ rss_kb u s <"$TMP/$label.import.time"
	put import_s "$(awk -v m="$wall_ms" 'BEGIN{printf "%.1f", m/1000}')"
	put import_rss_mb $((rss_kb / 1024))
	put import_cpu_s "$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.1f", u+s}')"
	put import_vs_ogr "$(awk -v m="$wall_ms" -v o="$OGR_S" 'BEGIN{printf "%.2f", o*1000/m}')"
	put db_mb $(( $(stat -c %s "$db") / 1048576 ))

	wait_quiet
	log "$label: serve $flags"
	rm -f "$TMP/up-healthz" "$TMP/up-items"
	t0=$(now_ns)
	# shellcheck disable=SC2086
	"$bin" serve --db "$db" --addr "127.0.0.1:$PORT" $flags 2>"$TMP/$label.serve.log" &
	server=$!
	# Two pollers, so that an items request the server holds back does not
	# delay seeing /healthz answer, and the other way round.
	local path
	for path in healthz "collections/parcels/items?limit=1"; do
		(
			while kill -0 "$server" 2>/dev/null; do
				if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 120 "$BASE/$path")" = 200 ]; then
					ms_since "$t0" >"$TMP/up-${path%%/*}.tmp"
					mv "$TMP/up-${path%%/*}.tmp" "$TMP/up-${path%%/*}"
					exit 0
				fi
				sleep 0.02
			done
		) &
	done
	wait_for_file() {
		local i
		for i in $(seq 1 6000); do
			[ -e "$1" ] && return 0
			if ! kill -0 "$server" 2>/dev/null; then
				echo "scale.sh: $label serve exited:" >&2
				tail -n 20 "$TMP/$label.serve.log" >&2
				exit 1
			fi
			sleep 0.05
		done
		echo "scale.sh: $label: no $1 after 300 s" >&2
		exit 1
	}
	wait_for_file "$TMP/up-healthz"
	wait_for_file "$TMP/up-collections"
	put start_healthz_ms "$(cat "$TMP/up-healthz")"
	put start_items_ms "$(cat "$TMP/up-collections")"
	put rss_ready_mb $(( $(rss_kb "$server") / 1024 ))

	# RSS samples every 0.2 s: "ns kB".
	(
		while kill -0 "$server" 2>/dev/null; do
			echo "$(now_ns) $(rss_kb "$server")"
			sleep 0.2
		done
	) >"$TMP/$label.rss" 2>/dev/null &
	sampler=$!
	rss_peak() { awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b && $2 > m { m = $2 } END { printf "%d", m / 1024 }' "$TMP/$label.rss"; }

	# Check the lists against the server: the first two entries of each
	# answer 200 with exactly the features the list expects, and bbox
	# answers say so in numberMatched too.
	local list check=ok line want body got matched
	for list in file-bbox50 file-bbox1000 file-item cache-bbox50 cache-bbox1000 cache-item during-bbox50; do
		while IFS=$'\t' read -r path want; do
			body=$(curl -fs "$BASE$path") || { check="FAIL: $path: no 200"; break; }
			got=$(jq 'if .type == "Feature" then 1 else (.features | length) end' <<<"$body")
			matched=$(jq '.numberMatched // empty' <<<"$body")
			if [ "$got" != "$want" ] || { [ -n "$matched" ] && [ "$matched" != "$want" ]; }; then
				check="FAIL: $path: $got features, numberMatched $matched, want $want"
				break
			fi
		done < <(head -n 2 "$TMP/$list.tsv")
	done
	put answers_checked "$check"
	if [ "$check" != ok ]; then
		log "$label: answers checked: $check"
	fi

	# run NAME LIST [-warm]: one wrk run walking LIST.
	run() {
		local name=$1 list=$2
		if [ "${3:-}" = -warm ]; then
			# Twice: the feature cache holds what it reads the second time.
			for _ in 1 2; do
				cut -f1 "$TMP/$list.tsv" | sed "s|^|$BASE|" | xargs -P 2 -I{} curl -s -o /dev/null {}
			done
		fi
		wait_quiet
		local c0 c1 b0 b1 s0 s1 out
		c0=$(proc_ticks "$server")
		b0=$(busy_ticks)
		s0=$(now_ns)
		/usr/bin/time -f '%U %S' -o "$TMP/wrk.time" \
			wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 30s -s "$HERE/walk.lua" "$BASE" -- "$TMP/$list.tsv" "$THREADS" >"$TMP/$label.$name.wrk"
		s1=$(now_ns)
		b1=$(busy_ticks)
		c1=$(proc_ticks "$server")
		out=$(sed -n 's/^WALK //p' "$TMP/$label.$name.wrk")
		if [ -z "$out" ]; then
			cat "$TMP/$label.$name.wrk" >&2
			echo "scale.sh: $label $name: no WALK line from wrk" >&2
			exit 1
		fi
		local requests errors non2xx wraps p50_us p90_us p99_us max_us
		eval "$(tr ' ' '\n' <<<"$out" | sed 's/^/local /')"
		local wu ws
		read -r wu ws <"$TMP/wrk.time"
		awk -v n="$name" -v r="$requests" -v dc=$((c1 - c0)) -v db=$((b1 - b0)) -v k="$TCK" \
			-v w=$((s1 - s0)) -v wrk=$(awk -v u="$wu" -v s="$ws" 'BEGIN{print u+s}') \
			-v bad=$((errors + non2xx)) -v wraps="$wraps" -v p99="$p99_us" 'BEGIN {
				wall = w / 1e9
				printf "%s_cpu_ms=%.4f\n", n, (r > 0 ? dc / k * 1000 / r : 0)
				printf "%s_rps=%.0f\n", n, r / wall
				printf "%s_p99_ms=%.2f\n", n, p99 / 1000
				printf "%s_requests=%d\n", n, r
				printf "%s_bad=%d\n", n, bad
				printf "%s_wraps=%d\n", n, wraps
				printf "%s_server_cpu_pct=%.0f\n", n, dc / k / wall * 100
				printf "%s_other_cpu_pct=%.0f\n", n, (db - dc) / k / wall * 100 - wrk / wall * 100
			}' >>"$kv"
		log "$label: $name: $(grep "^${name}_" "$kv" | sed "s/^${name}_//" | tr '\n' ' ')"
	}

	log "$label: reads from file"
	local f0 f1
	f0=$(now_ns)
	run bbox50 file-bbox50
	run bbox1000 file-bbox1000
	run item file-item
	run collections collections
	f1=$(now_ns)
	put rss_file_peak_mb "$(rss_peak "$f0" "$f1")"
	log "$label: reads from cache"
	run bbox50_cache cache-bbox50 -warm
	run bbox1000_cache cache-bbox1000 -warm
	run item_cache cache-item -warm
	put rss_reads_peak_mb "$(rss_peak "$f0" "$(now_ns)")"
	put rss_reads_end_mb $(( $(rss_kb "$server") / 1024 ))

	# A 1-feature change: import it, while seen asks for the item every
	# 5 ms over one connection until it shows, timing each request (a
	# reader may be made to wait). A shell loop of curl, as before
	# 2026-12-04, took 25-65 ms a round on this machine while the import
	# ran, which its figures carry.
	wait_quiet
	log "$label: a 1-feature change"
	local c_start c_end vis longest
	rm -f "$TMP/import-done"
	"$TMP/seen" -every 5ms -timeout 300s "$BASE/collections/parcels/items/$change_id" chg-one >"$TMP/$label.seen" &
	seenpid=$!
	c_start=$(now_ns)
	( "$bin" import --db "$db" "$TMP/change-one.geojson" >"$TMP/$label.change-one.log" 2>&1; now_ns >"$TMP/import-done" ) &
	local importer=$!
	wait "$importer" || { echo "scale.sh: $label: import of one changed parcel failed:" >&2; cat "$TMP/$label.change-one.log" >&2; exit 1; }
	wait "$seenpid" || { echo "scale.sh: $label: seen failed (above), or the 1-feature change did not show in 300 s" >&2; exit 1; }
	seenpid=
	c_end=$(cat "$TMP/import-done")
	vis=$(sed -n 's/.*seen_ns=\([0-9]*\).*/\1/p' "$TMP/$label.seen")
	longest=$(sed -n 's/.*longest_ms=\([0-9]*\).*/\1/p' "$TMP/$label.seen")
	put change_import_ms $(( (c_end - c_start) / 1000000 ))
	put change_visible_ms $(( (vis - c_end) / 1000000 ))
	put change_visible_from_start_ms $(( (vis - c_start) / 1000000 ))
	put change_longest_read_ms "$longest"
	sleep 1
	put rss_after_change_mb $(( $(rss_kb "$server") / 1024 ))

	# Readers during the import of IMPORT_FEATURES changed parcels: wrk
	# runs from one second before the import until one second after the
	# change shows; SIGINT makes it stop and report.
	wait_quiet
	log "$label: readers during a $IMPORT_FEATURES-feature import"
	local b_start b_end wrkpid c0 c1
	c0=$(proc_ticks "$server")
	if [ "$DURING_THINK_MS" -gt 0 ]; then
		wrk -t"$THREADS" -c"$CONNS" -d600s --timeout 120s -s "$HERE/paced.lua" "$BASE" -- "$TMP/during-bbox50.tsv" "$THREADS" "$DURING_THINK_MS" >"$TMP/$label.during.wrk" &
	else
		wrk -t"$THREADS" -c"$CONNS" -d600s --timeout 120s -s "$HERE/walk.lua" "$BASE" -- "$TMP/during-bbox50.tsv" "$THREADS" >"$TMP/$label.during.wrk" &
	fi
	wrkpid=$!
	sleep 1
	b_start=$(now_ns)
	/usr/bin/time -f '%e %M %U %S' -o "$TMP/$label.bulk.time" \
		"$bin" import --db "$db" "$TMP/change-bulk.geojson" >"$TMP/$label.change-bulk.log" 2>&1 ||
		{ echo "scale.sh: $label: import of $IMPORT_FEATURES changed parcels failed:" >&2; cat "$TMP/$label.change-bulk.log" >&2; stop_wrk "$wrkpid" "$TMP/$label.during.wrk"; exit 1; }
	b_end=$(now_ns)
	"$TMP/seen" -every 5ms -timeout 300s "$BASE/collections/parcels/items/$((bulk_hi - 1))" chg-bulk >"$TMP/$label.seen-bulk" ||
		{ echo "scale.sh: $label: seen failed (above), or the bulk change did not show in 300 s" >&2; stop_wrk "$wrkpid" "$TMP/$label.during.wrk"; exit 1; }
	vis=$(sed -n 's/.*seen_ns=\([0-9]*\).*/\1/p' "$TMP/$label.seen-bulk")
	sleep 1
	stop_wrk "$wrkpid" "$TMP/$label.during.wrk"
	c1=$(proc_ticks "$server")
	out=$(sed -n 's/^WALK //p' "$TMP/$label.during.wrk")
	if [ -z "$out" ]; then
		cat "$TMP/$label.during.wrk" >&2
		echo "scale.sh: $label: no WALK line from wrk during the import" >&2
		exit 1
	fi
	local requests errors non2xx wraps p50_us p90_us p99_us max_us
	eval "$(tr ' ' '\n' <<<"$out" | sed 's/^/local /')"
	read -r _ rss_kb _ _ <"$TMP/$label.bulk.time"
	put bulk_import_s "$(awk -v m=$(( (b_end - b_start) / 1000000 )) 'BEGIN{printf "%.1f", m/1000}')"
	put bulk_import_rss_mb $((rss_kb / 1024))
	put bulk_visible_ms $(( (vis - b_end) / 1000000 ))
	put bulk_requests "$requests"
	put bulk_bad $((errors + non2xx))
	put bulk_p50_ms "$(awk -v v="$p50_us" 'BEGIN{printf "%.2f", v/1000}')"
	put bulk_p99_ms "$(awk -v v="$p99_us" 'BEGIN{printf "%.2f", v/1000}')"
	put bulk_max_ms "$(awk -v v="$max_us" 'BEGIN{printf "%.0f", v/1000}')"
	put bulk_cpu_ms "$(awk -v d=$((c1 - c0)) -v k="$TCK" -v r="$requests" 'BEGIN{printf "%.4f", (r > 0 ? d / k * 1000 / r : 0)}')"
	put rss_peak_mb "$(rss_peak 0 "$(now_ns)")"
	put rss_end_mb $(( $(rss_kb "$server") / 1024 ))

	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	sampler=
	kill "$server"
	wait "$server" 2>/dev/null || true
	server=
	rm -f "$db" "$db-wal" "$db-shm"
}

for label in "${labels[@]}"; do
	if [ "$label" = old ]; then
		measure old "$BIN_OLD" "$SERVE_FLAGS_OLD"
	else
		measure new "$BIN_NEW" "$SERVE_FLAGS_NEW"
	fi
done
if [ -n "${OLD_KV:-}" ] && [ "$(realpath "$OLD_KV")" != "$(realpath "$KV_DIR/old.kv")" ]; then
	cp "$OLD_KV" "$KV_DIR/old.kv"
fi

# ---- the table ------------------------------------------------------------------
get() {
	if [ -e "$KV_DIR/$1.kv" ]; then
		sed -n "s/^$2=//p" "$KV_DIR/$1.kv" | tail -n 1
	fi
}
echo
echo "# planmap at scale: $PARCELS parcels ($parcels_mb MB of GeoJSON), $(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo "# wrk -t$THREADS -c$CONNS -d$DURATION with $HERE/walk.lua; server CPU from /proc/PID/stat (utime+stime) over wrk's requests"
for label in old new; do
	if [ -f "$KV_DIR/$label.kv" ] && [ "$(get $label during_think_ms)" != "" ] && [ "$(get $label during_think_ms)" != 0 ]; then
		echo "# $label: readers during the import paced (paced.lua), $(get $label during_think_ms) ms between an answer and the next request on average"
	fi
done
for label in old new; do
	if [ -e "$KV_DIR/$label.kv" ]; then
		echo "# $label: $(get $label binary); serve flags: $(get $label serve_flags)$( [ "$(get $label answers_checked)" = ok ] && echo '; answers checked' || echo "; answers checked: $(get $label answers_checked)")"
	fi
done
echo "# ogr2ogr -f GPKG of the same file: ${OGR_S} s, ${OGR_RSS_MB} MB peak RSS"
# row KEY DESCRIPTION TARGET [PGFS_MS]: one line of the table.
row() {
	local o n
	o=$(get old "$1")
	n=$(get new "$1")
	awk -v d="$2" -v t="$3" -v o="${o:--}" -v n="${n:--}" -v pg="${4:-}" 'BEGIN {
		r = (o != "-" && n != "-" && o + 0 > 0) ? sprintf("%.2f", n / o) : "-"
		po = (pg != "" && o != "-" && o + 0 > 0) ? sprintf("%.1fx", pg / o) : ""
		pn = (pg != "" && n != "-" && n + 0 > 0) ? sprintf("%.1fx", pg / n) : ""
		printf "%-50s %12s %12s %8s %9s %9s  %s\n", d, o, n, r, po, pn, t
	}'
}
echo "# pgfs/old, pgfs/new: pg_featureserv's CPU per request on 200,000 parcels divided by this one's (how many times less)"
printf '%-50s %12s %12s %8s %9s %9s  %s\n' figure old new new/old "pgfs/old" "pgfs/new" target
row import_s "import, s" ">=2x faster than ogr2ogr"
row import_vs_ogr "  ogr2ogr time / import time" ">= 2"
row import_rss_mb "  import peak RSS, MB" "< 500"
row import_cpu_s "  import CPU, s" ""
row db_mb "database size, MB" ""
row start_healthz_ms "start -> first 200 of /healthz, ms" ""
row start_items_ms "start -> first items?limit=1, ms" "< 1000"
row rss_ready_mb "RSS when items first answered, MB" ""
for kind in file cache; do
	suffix=$([ $kind = cache ] && echo _cache || true)
	row "bbox50${suffix}_cpu_ms" "CPU/request, 50-parcel box, from $kind, ms" "$([ $kind = file ] && echo '>=5x below pgfs' || echo '>=10x below pgfs')" 2.1
	row "bbox1000${suffix}_cpu_ms" "CPU/request, 1,000-parcel box, from $kind, ms" "$([ $kind = file ] && echo '>=5x below pgfs' || echo '>=10x below pgfs')" 26.8
	row "item${suffix}_cpu_ms" "CPU/request, one feature, from $kind, ms" "$([ $kind = file ] && echo '>=5x below pgfs' || echo '>=10x below pgfs')" 0.34
	if [ $kind = file ]; then
		row collections_cpu_ms "CPU/request, /collections, ms" ">=10x below pgfs" 1.1
	fi
done
for name in bbox50 bbox1000 item collections bbox50_cache bbox1000_cache item_cache; do
	row "${name}_rps" "requests/s, $name" ""
done
for name in bbox50 bbox1000 item collections bbox50_cache bbox1000_cache item_cache; do
	row "${name}_p99_ms" "p99, $name, ms" ""
done
row rss_file_peak_mb "RSS peak, reads from file, MB" "< 250"
row rss_reads_peak_mb "RSS peak, all reads, MB" "< 250"
row rss_reads_end_mb "RSS at the end of the reads, MB" ""
row change_import_ms "1-feature import, ms" ""
row change_visible_ms "1-feature change visible after import, ms" "< 100 (< 0: before it exited)"
row change_longest_read_ms "  longest read while it became visible, ms" ""
row rss_after_change_mb "RSS after the 1-feature change, MB" ""
row bulk_import_s "$IMPORT_FEATURES-feature import under reads, s" ""
row bulk_visible_ms "  visible after that import, ms" ""
row bulk_p50_ms "  readers' p50 during it, ms" ""
row bulk_p99_ms "  readers' p99 during it, ms" "< 50"
row bulk_max_ms "  readers' max during it, ms" ""
row bulk_cpu_ms "  server CPU/request during it, ms" ""
row rss_peak_mb "RSS peak over the whole run, MB" ""
row rss_end_mb "RSS at the end, MB" ""
echo "# errors (socket errors + non-2xx answers) and wraps (a thread asked its share of a list again) per wrk run;"
echo "# other_cpu: % of one core used by anything but the server and wrk during the run (noise):"
for label in old new; do
	[ -e "$KV_DIR/$label.kv" ] || continue
	line="#   $label:"
	for name in bbox50 bbox1000 item collections bbox50_cache bbox1000_cache item_cache; do
		line="$line $name $(get $label ${name}_bad)/$(get $label ${name}_wraps)/$(get $label ${name}_other_cpu_pct)%"
	done
	echo "$line; during import $(get $label bulk_bad) errors"
done
