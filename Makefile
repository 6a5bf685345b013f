# planmap: the planned-land-use map of Haimen Port New Area.
GO ?= go
DB ?= data/planmap.gpkg
ADDR ?= 127.0.0.1:8080

.PHONY: run test bench lint build

## run: serve the Haimen map on the built-in data (creates $(DB) on first start)
run:
	$(GO) run ./cmd/planmap serve --db $(DB) --addr $(ADDR)

## test: vet and run every test (GDAL tests skip without gdal-bin unless PLANMAP_REQUIRE_TOOLS=1)
test:
	$(GO) vet ./...
	$(GO) test ./...

## bench: run the benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## build: the planmap binary in bin/
build:
	$(GO) build -o bin/planmap ./cmd/planmap
