# planmap: the planned-land-use map of Haimen Port New Area.
GO ?= go
DB ?= data/planmap.gpkg
ADDR ?= 127.0.0.1:8080

LEAFLET := web/static/vendor/leaflet/leaflet.js

.PHONY: run test bench lint build assets

## run: serve the Haimen map on the built-in data (creates $(DB) on first start)
run: assets
	$(GO) run ./cmd/planmap serve --db $(DB) --addr $(ADDR)

## test: vet and run every test (GDAL, QGIS and browser tests skip when their tool is missing, unless PLANMAP_REQUIRE_TOOLS=1)
test: assets
	$(GO) vet ./...
	$(GO) test ./...

## bench: Go benchmarks through the real router and store (200,000 synthetic parcels), then, where wrk is installed, wrk against the real binary (BENCHMARKS.md)
bench: assets
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if command -v wrk >/dev/null 2>&1; then GO=$(GO) bash web/testdata/bench/wrk.sh; else echo "wrk is not installed (apt-get install wrk): skipping the wrk run"; fi

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## build: the planmap binary in bin/
build: assets
	$(GO) build -o bin/planmap ./cmd/planmap

## assets: Leaflet from the npm registry, pinned in web/package-lock.json, copied into the embedded folder
assets: $(LEAFLET)

$(LEAFLET): web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	rm -rf web/static/vendor/leaflet
	mkdir -p web/static/vendor/leaflet
	cp -R web/node_modules/leaflet/dist/leaflet.js web/node_modules/leaflet/dist/leaflet.css \
		web/node_modules/leaflet/dist/images web/node_modules/leaflet/LICENSE web/static/vendor/leaflet/
	touch $@
