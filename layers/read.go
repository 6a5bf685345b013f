package layers

// What every store's read path shares, the reading itself aside: the
// ranking of a search, the columns and order of shapes, the paging of
// features read in Go (the past, "as of") and the error of one absent then.

import (
	"errors"
	"slices"
	"strings"
	"time"
)

// Match is a feature a store found for a search, in a layer: FID, and
// whether one of its names starts with the text (Starts) or only holds it.
type Match struct {
	FID    int64
	Starts bool
}

// Search finds up to limit features of the collections cols (in drawing
// order) whose Chinese or English name contains text, ignoring case and
// the spaces around text: those whose name starts with it first, then the
// others, each kind in the order of cols and then of ids. It is the
// ranking every store's Search shares; the store gives the reading:
//
//   - find returns the matches in collection col of text (lower-cased),
//     looking in fields (the names of its text fields name_zh and
//     name_en, at least one): at most limit, those that start with text
//     first, each kind in id order. Only a collection with such a field is
//     asked.
//   - load returns the features fids of layer l, in the order of fids; it
//     is called once for each layer with a hit, for those hits only.
//
// Fewer than limit matches of a layer could not all make the list: the
// hits of one layer are a prefix of its matches in the order find gives.
func Search(text string, limit int, cols []*Collection,
	find func(col *Collection, fields []string, text string, limit int) ([]Match, error),
	load func(l *Layer, fids []int64) ([]*Item, error)) ([]Hit, error) {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" || limit <= 0 {
		return nil, nil
	}
	type found struct {
		col int // index in cols
		fid int64
	}
	var first, rest []found
	for i, col := range cols {
		var fields []string
		for _, fd := range col.Schema {
			if (fd.Name == "name_zh" || fd.Name == "name_en") && fd.Type == String {
				fields = append(fields, fd.Name)
			}
		}
		if len(fields) == 0 {
			continue
		}
		ms, err := find(col, fields, text, limit)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.Starts {
				first = append(first, found{i, m.FID})
			} else {
				rest = append(rest, found{i, m.FID})
			}
		}
	}
	ranked := append(first, rest...)
	ranked = ranked[:min(limit, len(ranked))]
	// Each layer's hits, read at once.
	fids := make([][]int64, len(cols))
	for _, h := range ranked {
		fids[h.col] = append(fids[h.col], h.fid)
	}
	items := make(map[found]*Item, len(ranked))
	for i, ids := range fids {
		if len(ids) == 0 {
			continue
		}
		its, err := load(cols[i].Layer, ids)
		if err != nil {
			return nil, err
		}
		for _, it := range its {
			items[found{i, it.ID}] = it
		}
	}
	hits := make([]Hit, 0, len(ranked))
	for _, h := range ranked {
		if it := items[h]; it != nil {
			hits = append(hits, Hit{Layer: cols[h.col].ID, Item: it})
		}
	}
	return hits, nil
}

// ShapeColumns returns the fields of l named in fields, the columns a
// store reads for shapes with the values of fields, and for each the index
// of its value in a Shape's Values. A field l lacks has no value in any of
// its features, and is not read.
func ShapeColumns(l *Layer, fields []string) (cols []Field, at []int) {
	for i, name := range fields {
		if fd := l.Field(name); fd != nil {
			cols, at = append(cols, *fd), append(at, i)
		}
	}
	return cols, at
}

// OrderShapes puts shapes, each the feature of an id of fids, in the
// order of fids (an id fids holds twice, at its first place). Shapes read
// in ascending id order for ascending fids, as a page is, are left as
// they are.
func OrderShapes(shapes []Shape, fids []int64) {
	inOrder := slices.IsSorted(fids)
	for i := 1; inOrder && i < len(shapes); i++ {
		inOrder = shapes[i-1].ID < shapes[i].ID
	}
	if inOrder {
		return
	}
	pos := make(map[int64]int, len(fids))
	for i, fid := range fids {
		if _, ok := pos[fid]; !ok {
			pos[fid] = i
		}
	}
	slices.SortStableFunc(shapes, func(a, b Shape) int { return pos[a.ID] - pos[b.ID] })
}

// PageOf returns page p of matches, the ids of the features a query
// selects in any order and perhaps more than once (a feature in two of
// its boxes), and how many different ones there are, or 0 for an
// uncounted page: its store may have left out the matches up to p.After.
// It sorts matches.
func PageOf(matches []int64, p Page) (page []int64, matched int) {
	slices.Sort(matches)
	matches = slices.Compact(matches)
	i, _ := slices.BinarySearch(matches, p.After+1)
	page = matches[i:]
	page = page[min(max(p.Offset, 0), len(page)):]
	page = page[:min(max(p.Limit, 0), len(page))]
	if p.Uncounted {
		return page, 0
	}
	return page, len(matches)
}

// PageOfFeatures is PageOf over features read in Go rather than selected
// by an index, as a layer's past is: each calls its argument with every
// feature of layer l in id order, and those f selects (the rule of
// Filter.Matches, without encoding those not served) are counted and
// paged as PageOf pages ids: matched counts them all, the page is those
// after p.After, less p.Offset, at most p.Limit. It stops at the first
// error of each, and, when p.Uncounted, once the page is full (matched is
// then 0).
func PageOfFeatures(l *Layer, f Filter, p Page, each func(fn func(Feature) error) error) (page []*Item, matched int, err error) {
	skipped := 0
	err = each(func(ft Feature) error {
		if p.Uncounted && len(page) >= max(p.Limit, 0) {
			return errPageFull
		}
		if !f.MatchesProperties(ft.Properties) || !f.MatchesGeometry(ft.Geometry, ft.Geometry.Bound()) {
			return nil
		}
		matched++
		switch {
		case ft.ID <= p.After:
		case skipped < p.Offset:
			skipped++
		case len(page) < max(p.Limit, 0):
			page = append(page, NewItem(l, ft))
		}
		return nil
	})
	if p.Uncounted {
		matched = 0
		if errors.Is(err, errPageFull) {
			err = nil
		}
	}
	if err != nil {
		return nil, 0, err
	}
	return page, matched, nil
}

// UncountedAfter is the id after which a store that reads the features
// in id order to page them (PageOfFeatures) may start: p.After when the
// page is uncounted, else 0, since every feature is counted.
func (p Page) UncountedAfter() int64 {
	if p.Uncounted {
		return p.After
	}
	return 0
}

// errPageFull stops PageOfFeatures' reading once an uncounted page is full.
var errPageFull = errors.New("page full")

// AbsentAsOf is the error of a store asked for feature fid of layer id as
// of time t, when it was not there then: EGONE if it had been deleted by
// t (deleted), ENOTFOUND if it did not exist yet. past is the ended life
// of the layer t falls in, nil for the layer there now.
func AbsentAsOf(id string, fid int64, t time.Time, deleted bool, past *PastLayer) error {
	at := t.UTC().Format(time.RFC3339Nano)
	switch {
	case deleted && past != nil:
		// Its versions went with the layer: /versions serves the layer
		// there now only.
		return Errorf(EGONE, "feature %d of collection %s had been deleted by %s; the collection was dropped at %s", fid, id, at, past.Dropped.UTC().Format(time.RFC3339Nano))
	case deleted:
		return Errorf(EGONE, "feature %d of collection %s had been deleted by %s; its versions are at /collections/%s/items/%d/versions", fid, id, at, id, fid)
	}
	return Errorf(ENOTFOUND, "collection %s had no feature %d at %s", id, fid, at)
}
