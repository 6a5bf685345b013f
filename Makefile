# planmap: the planned-land-use map of Haimen Port New Area.
GO ?= go
DB ?= data/planmap.gpkg
ADDR ?= 127.0.0.1:8080
FUZZTIME ?= 1m
SOAK_SECONDS ?= 180
# TESTTIMEOUT bounds each package's test binary. go test's default, 10m,
# is less than package web's browser tests take under -race on a loaded
# 2-core machine (each browser test took 20-170 s in a stress run beside
# other tests); the browser tests' own waits fail well before this.
TESTTIMEOUT ?= 30m

LEAFLET := web/static/vendor/leaflet/leaflet.js
GEOMAN := web/static/vendor/leaflet-geoman/leaflet-geoman.js
SCREENSHOT := web/static/vendor/modern-screenshot/modern-screenshot.js
PROTOMAPS := web/static/vendor/protomaps-leaflet/protomaps-leaflet.js

.PHONY: run test race fuzz soak bench bench-import bench-scale bench-postgis lint build assets

## run: serve the Haimen map on the built-in data (creates $(DB) on first start)
run: assets
	$(GO) run ./cmd/planmap serve --db $(DB) --addr $(ADDR)

## test: vet and run every test (GDAL, QGIS and browser tests skip when their tool is missing, unless PLANMAP_REQUIRE_TOOLS=1)
test: assets
	$(GO) vet ./...
	$(GO) test -timeout $(TESTTIMEOUT) $(TESTFLAGS) ./...

## race: every test again under the race detector (the race build of modernc.org/sqlite takes about a minute the first time)
race: assets
	$(GO) test -race -timeout $(TESTTIMEOUT) $(TESTFLAGS) ./...

## fuzz: each fuzz target of each package for FUZZTIME (default 1m), one after another (.ci/fuzz)
fuzz: assets
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz

## soak: the real server under a mix of requests for SOAK_SECONDS (default 180) on 200,000 parcels; fails on 5xx, socket errors or RSS growth (web/testdata/bench/soak.sh)
soak: assets
	GO=$(GO) SOAK_SECONDS=$(SOAK_SECONDS) bash web/testdata/bench/soak.sh

## bench: Go benchmarks through the real router and store (200,000 synthetic parcels), then, where wrk is installed, wrk against the real binary (BENCHMARKS.md)
bench: assets
	$(GO) test -p 1 -run '^$$' -bench . -benchmem ./...
	@if command -v wrk >/dev/null 2>&1; then GO=$(GO) bash web/testdata/bench/wrk.sh; else echo "wrk is not installed (apt-get install wrk): skipping the wrk run"; fi

## bench-import: planmap import and ogr2ogr side by side on the same 1,000,000 synthetic parcels (N=…; OLD=path/to/planmap adds another build), wall and CPU time and peak RSS of each (web/testdata/bench/import.sh)
bench-import:
	GO=$(GO) bash web/testdata/bench/import.sh

## bench-scale: old against new binary on PARCELS (default 1,000,000) synthetic parcels: import, start, CPU per request from file and from cache, RSS, changes under reads (web/testdata/bench/scale.sh: old is e4e3471, before issue 10's store, new this worktree; BIN_OLD, BIN_NEW, NEW_REF, ONLY, DURATION, SERVE_FLAGS); about 7 minutes per binary
bench-scale: assets
	GO=$(GO) bash web/testdata/bench/scale.sh

## bench-postgis: on PostGIS (PG=postgres://… of a local cluster; PGFS=path/to/pg_featureserv built at cd3ae95), side by side: planmap import and ogr2ogr of 1,000,000 parcels, then planmap and pg_featureserv on 200,000 (bbox of 50 and 1,000), and planmap's tiles beside ST_AsMVT (z12, z14): server CPU per request, PostgreSQL's included (web/testdata/bench/pg-import.sh, pg-serve.sh; BENCHMARKS.md "PostGIS, side by side"); about 15 minutes
bench-postgis:
	GO=$(GO) bash web/testdata/bench/pg-import.sh
	GO=$(GO) bash web/testdata/bench/pg-serve.sh

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## build: the planmap binary in bin/
build: assets
	$(GO) build -o bin/planmap ./cmd/planmap

## assets: Leaflet, Leaflet-Geoman (the map's drawing tools), protomaps-leaflet (vector tiles on a canvas) and modern-screenshot (the sheets' Save as PNG) from the npm registry, pinned in web/package-lock.json, copied into the embedded folder
assets: $(LEAFLET) $(GEOMAN) $(SCREENSHOT) $(PROTOMAPS)

$(LEAFLET) $(GEOMAN) $(SCREENSHOT) $(PROTOMAPS) &: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	rm -rf web/static/vendor/leaflet web/static/vendor/leaflet-geoman web/static/vendor/modern-screenshot web/static/vendor/protomaps-leaflet
	mkdir -p web/static/vendor/leaflet web/static/vendor/leaflet-geoman web/static/vendor/modern-screenshot
	cp -R web/node_modules/leaflet/dist/leaflet.js web/node_modules/leaflet/dist/leaflet.css \
		web/node_modules/leaflet/dist/images web/node_modules/leaflet/LICENSE web/static/vendor/leaflet/
	cp web/node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js $(GEOMAN)
	cp web/node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css \
		web/node_modules/@geoman-io/leaflet-geoman-free/LICENSE web/static/vendor/leaflet-geoman/
	cp web/node_modules/modern-screenshot/dist/index.mjs $(SCREENSHOT)
	cp web/node_modules/modern-screenshot/LICENSE web/static/vendor/modern-screenshot/
	mkdir -p web/static/vendor/protomaps-leaflet
	cp web/node_modules/protomaps-leaflet/dist/protomaps-leaflet.js web/node_modules/protomaps-leaflet/LICENSE \
		web/static/vendor/protomaps-leaflet/
	touch $(LEAFLET) $(GEOMAN) $(SCREENSHOT) $(PROTOMAPS)
