// Genparcels writes the synthetic parcels layer of the benchmarks to
// stdout, or with -bbox the bbox parameter that selects a block of them. It
// is a test tool, run by web/testdata/bench/wrk.sh:
//
//	go run ./layers/layerstest/genparcels -n 200000 > parcels.geojson
//	go run ./layers/layerstest/genparcels -bbox 300,150,10,5
//	121.47,32.035,121.479,32.0395
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"planmap/layers/layerstest"
)

func main() {
	n := flag.Int("n", 200_000, "number of parcels")
	block := flag.String("bbox", "", "print the bbox of the block COL,ROW,COLS,ROWS of the grid (see layerstest.ParcelsBBox) instead of the layer")
	flag.Parse()
	if *block != "" {
		var col, row, cols, rows int
		if _, err := fmt.Sscanf(*block, "%d,%d,%d,%d", &col, &row, &cols, &rows); err != nil {
			fmt.Fprintf(os.Stderr, "genparcels: -bbox %s: want COL,ROW,COLS,ROWS: %v\n", *block, err)
			os.Exit(2)
		}
		fmt.Println(layerstest.ParcelsBBox(col, row, cols, rows))
		return
	}
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "genparcels: -n must be at least 1")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	w.Write(layerstest.Parcels(*n))
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genparcels:", err)
		os.Exit(1)
	}
}
