// Scalelists writes the request lists that web/testdata/bench/scale.sh walks
// with wrk (web/testdata/bench/walk.lua): one request path a line, a tab,
// and the number of features the answer must hold.
//
//	go run ./web/testdata/bench/scalelists -n 1000000 -kind bbox -features 50 -k 120000 > bbox50.tsv
//	go run ./web/testdata/bench/scalelists -n 1000000 -kind id -k 300000 > ids.tsv
//
// The parcels are those of layerstest.Parcels(n) (genparcels -n N), on its
// grid of ParcelsColumns columns of square cells. A bbox of -kind bbox
// follows the edges of a block of cols × rows whole cells (cols·rows =
// -features, the most nearly square block that fits in the full rows), at a
// random place over the whole layer, so it holds exactly -features
// parcels. Each edge is then moved by a random amount smaller than
// ParcelsMargin, inside which no parcel reaches: the box still holds
// exactly the same parcels, and the lists can hold more distinct boxes
// than there are blocks (with 10,000 parcels there are only a few thousand
// blocks of 1,000). Block places are drawn without repeating until every
// place has been used. Ids of -kind id are a random permutation of 1..n,
// repeated if -k is larger.
//
// The same flags always give the same lists.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"

	"planmap/layers/layerstest"
)

func main() {
	n := flag.Int("n", 1_000_000, "number of parcels of the layer (genparcels -n)")
	kind := flag.String("kind", "bbox", "bbox (items in a box) or id (one feature)")
	features := flag.Int("features", 50, "parcels in each box (-kind bbox)")
	limit := flag.Int("limit", 0, "limit parameter of each box request (default: -features)")
	k := flag.Int("k", 1000, "number of lines")
	seed := flag.Uint64("seed", 1, "seed of the random places and ids")
	flag.Parse()

	rng := rand.New(rand.NewPCG(*seed, 0x5ca1e))
	w := bufio.NewWriter(os.Stdout)
	var err error
	switch *kind {
	case "bbox":
		if *limit == 0 {
			*limit = *features
		}
		err = boxes(w, rng, *n, *features, *limit, *k)
	case "id":
		err = ids(w, rng, *n, *k)
	default:
		err = fmt.Errorf("-kind %q: want bbox or id", *kind)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalelists:", err)
		os.Exit(1)
	}
}

// shape returns the block of cols × rows cells, cols·rows = features, that
// is most nearly square (rows ≤ cols) and fits in fullRows rows of
// layerstest.ParcelsColumns columns.
func shape(features, fullRows int) (cols, rows int, err error) {
	for rows = int(math.Sqrt(float64(features))); rows >= 1; rows-- {
		cols = features / rows
		if cols*rows == features && rows <= fullRows && cols <= layerstest.ParcelsColumns {
			return cols, rows, nil
		}
	}
	return 0, 0, fmt.Errorf("no block of %d parcels fits in %d full rows of %d", features, fullRows, layerstest.ParcelsColumns)
}

func boxes(w *bufio.Writer, rng *rand.Rand, n, features, limit, k int) error {
	fullRows := n / layerstest.ParcelsColumns
	cols, rows, err := shape(features, fullRows)
	if err != nil {
		return err
	}
	places := (layerstest.ParcelsColumns - cols + 1) * (fullRows - rows + 1)
	used := make(map[int]bool)
	// Each edge moves by up to 0.8 margins, in units of 1e-7 degrees
	// (the precision the parcels are written with).
	slack := int(math.Round(0.8 * layerstest.ParcelsMargin * 1e7))
	jitter := func() float64 { return float64(rng.IntN(2*slack+1)-slack) / 1e7 }
	for range k {
		if len(used) == places {
			clear(used)
		}
		var p int
		for {
			p = rng.IntN(places)
			if !used[p] {
				break
			}
		}
		used[p] = true
		col, row := p%(layerstest.ParcelsColumns-cols+1), p/(layerstest.ParcelsColumns-cols+1)
		edges := [4]float64{
			layerstest.ParcelsWest + float64(col)*layerstest.ParcelsCell + jitter(),
			layerstest.ParcelsSouth + float64(row)*layerstest.ParcelsCell + jitter(),
			layerstest.ParcelsWest + float64(col+cols)*layerstest.ParcelsCell + jitter(),
			layerstest.ParcelsSouth + float64(row+rows)*layerstest.ParcelsCell + jitter(),
		}
		line := append([]byte(nil), "/collections/parcels/items?bbox="...)
		for i, e := range edges {
			if i > 0 {
				line = append(line, ',')
			}
			line = strconv.AppendFloat(line, math.Round(e*1e7)/1e7, 'f', -1, 64)
		}
		line = append(line, "&limit="...)
		line = strconv.AppendInt(line, int64(limit), 10)
		line = append(line, '\t')
		line = strconv.AppendInt(line, int64(min(features, limit)), 10)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

func ids(w *bufio.Writer, rng *rand.Rand, n, k int) error {
	perm := rng.Perm(n)
	for i := range k {
		if _, err := fmt.Fprintf(w, "/collections/parcels/items/%d\t1\n", perm[i%n]+1); err != nil {
			return err
		}
	}
	return nil
}
