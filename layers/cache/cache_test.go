package cache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// counting is a real store that counts what the cache asks of it, and can
// hold a read back (after reading it) to stage a race.
type counting struct {
	*gpkg.Store
	selects, loads, loaded, items, bounds, holdings atomic.Int64
	// afterRead, when set, runs after a Load or Item has read from the
	// store and before it returns.
	afterRead atomic.Pointer[func()]
}

func (s *counting) Select(ctx context.Context, id string, f layers.Filter, p layers.Page) ([]int64, int, error) {
	s.selects.Add(1)
	return s.Store.Select(ctx, id, f, p)
}

// ItemsHolding counts as a select, and the features it read, not held,
// as loaded.
func (s *counting) ItemsHolding(ctx context.Context, id string, f layers.Filter, p layers.Page, held func(int64) *layers.Item) ([]*layers.Item, int, bool, error) {
	given := map[*layers.Item]bool{}
	items, matched, ok, err := s.Store.ItemsHolding(ctx, id, f, p, func(fid int64) *layers.Item {
		it := held(fid)
		given[it] = true
		return it
	})
	if ok {
		s.holdings.Add(1)
		s.selects.Add(1)
		for _, it := range items {
			if !given[it] {
				s.loaded.Add(1)
			}
		}
	}
	return items, matched, ok, err
}

func (s *counting) Bounds(ctx context.Context, id string, each func(int64, orb.Bound)) error {
	s.bounds.Add(1)
	return s.Store.Bounds(ctx, id, each)
}

func (s *counting) Load(ctx context.Context, id string, fids []int64) ([]*layers.Item, error) {
	s.loads.Add(1)
	s.loaded.Add(int64(len(fids)))
	items, err := s.Store.Load(ctx, id, fids)
	if fn := s.afterRead.Load(); fn != nil {
		(*fn)()
	}
	return items, err
}

func (s *counting) Item(ctx context.Context, id string, fid int64) (*layers.Item, error) {
	s.items.Add(1)
	it, err := s.Store.Item(ctx, id, fid)
	if fn := s.afterRead.Load(); fn != nil {
		(*fn)()
	}
	return it, err
}

// parcelsFile is the layer file of layerstest.Parcels(n), its features
// passed through edit first (nil: as they are).
func parcelsFile(t testing.TB, n int, edit func(features []map[string]any) []map[string]any) *layers.File {
	t.Helper()
	data := layerstest.Parcels(n)
	if edit != nil {
		var fc map[string]any
		if err := json.Unmarshal(data, &fc); err != nil {
			t.Fatal(err)
		}
		var fs []map[string]any
		for _, f := range fc["features"].([]any) {
			fs = append(fs, f.(map[string]any))
		}
		fc["features"] = edit(fs)
		var err error
		if data, err = json.Marshal(fc); err != nil {
			t.Fatal(err)
		}
	}
	f, err := layers.ParseFile("parcels.geojson", data)
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	return f
}

// setStatus returns an edit that keeps only feature fid, with status s.
func setStatus(fid int, s string) func([]map[string]any) []map[string]any {
	return func(fs []map[string]any) []map[string]any {
		f := fs[fid-1]
		f["properties"].(map[string]any)["status"] = s
		return []map[string]any{f}
	}
}

// mustImport imports files into s.
func mustImport(t testing.TB, s *gpkg.Store, opt layers.ImportOptions, files ...*layers.File) {
	t.Helper()
	if _, err := s.Import(context.Background(), files, opt); err != nil {
		t.Fatalf("Import: %v", err)
	}
}

// newStore returns a real store holding the Haimen layers and n parcels,
// with its catalog built.
func newStore(t testing.TB, n int) *counting {
	t.Helper()
	s := layerstest.MustOpen(t)
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, layers.ImportOptions{}, append(files, parcelsFile(t, n, nil))...)
	if _, err := s.Catalog(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &counting{Store: s}
}

// parcelBox is the box of the cols × rows parcels from grid cell (col, row).
func parcelBox(col, row, cols, rows int) orb.Bound {
	var b orb.Bound
	var v [4]float64
	fmt.Sscanf(layerstest.ParcelsBBox(col, row, cols, rows), "%g,%g,%g,%g", &v[0], &v[1], &v[2], &v[3])
	b.Min, b.Max = orb.Point{v[0], v[1]}, orb.Point{v[2], v[3]}
	return b
}

// query is one Items call.
type query struct {
	layer string
	f     layers.Filter
	p     layers.Page
}

func (q query) String() string {
	return fmt.Sprintf("Items(%s, boxes %v, equals %v, %+v)", q.layer, q.f.BBoxes, q.f.Equals, q.p)
}

// randomQuery makes a query of the n parcels as a map or a client would:
// a box of a few to a few hundred cells (sometimes two boxes, sometimes
// none), sometimes a status, a page by offset or by key.
func randomQuery(rng *rand.Rand, n int) query {
	rows := max(n/layerstest.ParcelsColumns, 1)
	q := query{layer: "parcels", p: layers.Page{Limit: 1 + rng.Intn(200)}}
	boxes := rng.Intn(4)
	if boxes == 3 {
		boxes = 0
	}
	for range boxes {
		// Edges off the grid as often as on it: boxes crossing parcels.
		b := parcelBox(rng.Intn(layerstest.ParcelsColumns), rng.Intn(rows), 1+rng.Intn(20), 1+rng.Intn(5))
		if rng.Intn(2) == 0 {
			b.Min[0] += rng.Float64() * layerstest.ParcelsCell
			b.Max[1] -= rng.Float64() * layerstest.ParcelsCell / 2
		}
		q.f.BBoxes = append(q.f.BBoxes, b)
	}
	if rng.Intn(3) == 0 {
		q.f.Equals = map[string]any{"status": layerstest.ParcelsStatuses[rng.Intn(len(layerstest.ParcelsStatuses))]}
	}
	switch rng.Intn(3) {
	case 0:
		q.p.Offset = rng.Intn(50)
	case 1:
		q.p.After = int64(rng.Intn(n))
	}
	return q
}

// sameItems reports how two answers differ, or "".
func sameItems(got []*layers.Item, gotN int, want []*layers.Item, wantN int) string {
	if gotN != wantN || len(got) != len(want) {
		return fmt.Sprintf("%d features of %d matched, want %d of %d", len(got), gotN, len(want), wantN)
	}
	for i := range got {
		if got[i].ID != want[i].ID || !bytes.Equal(got[i].JSON, want[i].JSON) {
			return fmt.Sprintf("feature %d is %.200s, want %.200s", i, got[i].JSON, want[i].JSON)
		}
	}
	return ""
}

// sameAsStore asks q of the store and of the cache in front of it, and
// fails the test unless they answer alike and the cache's bookkeeping is
// right and within its budget after it. It returns the cache's answer.
func sameAsStore(t *testing.T, when string, s *counting, c *cache.Cache, q query) []*layers.Item {
	t.Helper()
	ctx := context.Background()
	want, wantN, err := s.Store.Items(ctx, q.layer, q.f, q.p)
	if err != nil {
		t.Fatalf("%s: store %s: %v", when, q, err)
	}
	got, gotN, err := c.Items(ctx, q.layer, q.f, q.p)
	if err != nil {
		t.Fatalf("%s: cache %s: %v", when, q, err)
	}
	if d := sameItems(got, gotN, want, wantN); d != "" {
		t.Fatalf("%s: cache %s: %s", when, q, d)
	}
	if err := c.Check(); err != nil {
		t.Fatalf("%s, after %s: %v", when, q, err)
	}
	if st := c.Stats(); st.Bytes > st.Budget {
		t.Fatalf("%s, after %s the cache holds %d bytes, over its budget %d", when, q, st.Bytes, st.Budget)
	}
	return got
}

// jsonOf is the feature as served, for messages.
func jsonOf(it *layers.Item) string {
	if it == nil {
		return "nil"
	}
	return string(it.JSON)
}

// The cache answers exactly what the store answers, for random queries
// asked twice (from the store, then from the cache), with a budget that
// holds everything and one that holds a fraction; the bookkeeping is right
// and within the budget after every call.
func TestItemsSameAsStore(t *testing.T) {
	const n = 1200
	s := newStore(t, n)
	ctx := context.Background()
	for _, budget := range []int64{64 << 20, 200 << 10} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			c := cache.New(s, budget).AdmitFirst()
			rng := rand.New(rand.NewSource(budget))
			var qs []query
			for range 100 {
				qs = append(qs, randomQuery(rng, n))
			}
			for round := range 2 {
				for _, q := range qs {
					sameAsStore(t, fmt.Sprint("round ", round), s, c, q)
				}
			}
			st := c.Stats()
			if st.Hits == 0 || budget > 1<<20 && st.QueryHits+st.IndexHits < int64(len(qs)) {
				t.Errorf("Stats = %+v: want hits, and with room for all every query answered again from the cache", st)
			}
			for fid := int64(1); fid <= 50; fid++ {
				want, _ := s.Store.Item(ctx, "parcels", fid)
				got, err := c.Item(ctx, "parcels", fid)
				if err != nil || !bytes.Equal(got.JSON, want.JSON) {
					t.Fatalf("Item(parcels, %d) = %s, %v; want %s", fid, jsonOf(got), err, jsonOf(want))
				}
			}
			if _, err := c.Item(ctx, "parcels", n+1); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Item(parcels, %d) = %v, want ENOTFOUND", n+1, err)
			}
			if _, _, err := c.Items(ctx, "nope", layers.Filter{}, layers.Page{Limit: 10}); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Items(nope) = %v, want ENOTFOUND", err)
			}
		})
	}
}

// A held feature is kept packed, which the collector need not walk, and
// served as one item, unpacked once: it comes back without its decoded
// geometry and property map, and serves what the store's item did.
func TestHeldCompact(t *testing.T) {
	s := newStore(t, 10)
	ctx := context.Background()
	c := cache.New(s, 1<<20).AdmitFirst()
	read, err := c.Item(ctx, "parcels", 3)
	if err != nil {
		t.Fatal(err)
	}
	held, err := c.Item(ctx, "parcels", 3)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Item(ctx, "parcels", 3)
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := c.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case again != held || page[2] != held:
		t.Error("a held feature served again was unpacked again, not served as the item it was served as")
	case held == read:
		t.Fatal("the second read gave the store's item, not the one held")
	case decoded(held):
		t.Error("the held item keeps its decoded geometry or property map")
	case !bytes.Equal(held.JSON, read.JSON) || held.Version() != read.Version() || held.Bound != read.Bound:
		t.Errorf("held %s (%s, %v), read %s (%s, %v)", held.JSON, held.Version(), held.Bound, read.JSON, read.Version(), read.Bound)
	case !orb.Equal(held.Geometry(), read.Geometry()):
		t.Errorf("held geometry %v, read %v", held.Geometry(), read.Geometry())
	case !reflect.DeepEqual(held.Properties(), read.Properties()):
		t.Errorf("held properties %v, read %v", held.Properties(), read.Properties())
	}
}

// The least recently used feature goes first, and only as many as the
// budget needs.
func TestEvictionOrder(t *testing.T) {
	s := newStore(t, 10)
	ctx := context.Background()
	size := map[int64]int64{}
	for fid := int64(1); fid <= 4; fid++ {
		it, err := s.Store.Item(ctx, "parcels", fid)
		if err != nil {
			t.Fatal(err)
		}
		if size[fid], err = cache.HeldSize(it); err != nil {
			t.Fatal(err)
		}
	}
	c := cache.New(s, size[1]+size[2]+size[3]+min(size[4], size[2])-1).AdmitFirst()
	get := func(fid int64, fromStore bool) {
		t.Helper()
		before := s.items.Load()
		if _, err := c.Item(ctx, "parcels", fid); err != nil {
			t.Fatal(err)
		}
		if asked := s.items.Load() > before; asked != fromStore {
			t.Errorf("Item(%d) asked the store: %v, want %v", fid, asked, fromStore)
		}
		if err := c.Check(); err != nil {
			t.Fatal(err)
		}
	}
	get(1, true)
	get(2, true)
	get(3, true)
	get(1, false) // 1 is now the most recently used, 2 the least
	get(4, true)  // evicts 2 only
	get(3, false)
	get(1, false)
	get(4, false)
	get(2, true) // evicts 3, the least recently used now
	get(1, false)
	get(3, true)
	if st := c.Stats(); st.Items != 3 || st.Bytes > st.Budget {
		t.Errorf("Stats = %+v, want 3 features within the budget", st)
	}
}

// pageAll reads the whole layer through c in pages of 100 and returns the
// features by id.
func pageAll(t testing.TB, c *cache.Cache, id string, f layers.Filter) map[int64]*layers.Item {
	t.Helper()
	out := map[int64]*layers.Item{}
	for p := (layers.Page{Limit: 100}); ; {
		items, _, err := c.Items(context.Background(), id, f, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			out[it.ID] = it
		}
		if len(items) < p.Limit {
			return out
		}
		p.After = items[len(items)-1].ID
	}
}

// An import of one feature drops that feature and the layer's query
// answers, and moves the feature in the layer's spatial index; every
// other feature stays held and is not loaded again.
func TestChangeOneFeature(t *testing.T) {
	const n = 500
	s := newStore(t, n)
	c := cache.New(s, 64<<20).AdmitFirst().IndexNow()
	box := layers.Filter{BBoxes: []orb.Bound{parcelBox(0, 0, 30, 1)}} // parcels 1 to 30
	first := pageAll(t, c, "parcels", layers.Filter{})
	inBox := pageAll(t, c, "parcels", box)
	roads := pageAll(t, c, "roads", layers.Filter{})
	if len(first) != n || len(inBox) != 30 || len(roads) == 0 {
		t.Fatalf("read %d parcels, %d in the box and %d roads; want %d, 30 and some", len(first), len(inBox), len(roads), n)
	}
	loaded, selects := s.loaded.Load(), s.selects.Load()
	pageAll(t, c, "parcels", layers.Filter{})
	pageAll(t, c, "parcels", box)
	if s.loaded.Load() != loaded || s.selects.Load() != selects {
		t.Fatalf("reading again loaded %d features and ran %d selects, want none", s.loaded.Load()-loaded, s.selects.Load()-selects)
	}

	status := "signed"
	if first[7].Properties()["status"] == status {
		status = "planned"
	}
	mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, n, setStatus(7, status)))

	before := c.Stats()
	again := pageAll(t, c, "parcels", box)
	if d := s.loaded.Load() - loaded; d != 1 {
		t.Errorf("after a 1-feature import, reading the box again loaded %d features, want 1", d)
	}
	if st := c.Stats(); st.QueryHits != before.QueryHits || st.IndexHits == before.IndexHits || st.Indexes != 1 {
		t.Errorf("after a 1-feature import the box was read from %d held answers and %d times from %d indexes; want none, some and 1",
			st.QueryHits-before.QueryHits, st.IndexHits-before.IndexHits, st.Indexes)
	}
	if got := again[7].Properties()["status"]; got != status {
		t.Errorf("feature 7 after the import has status %v, want %v", got, status)
	}
	for fid, it := range again {
		// Served from the cache, it shares the bytes held when first read.
		if fid != 7 && &it.JSON[0] != &inBox[fid].JSON[0] {
			t.Errorf("feature %d was read again, not served from the cache", fid)
		}
	}
	loaded, selects = s.loaded.Load(), s.selects.Load()
	pageAll(t, c, "parcels", layers.Filter{})
	pageAll(t, c, "roads", layers.Filter{})
	if d := s.loaded.Load() - loaded; d != 0 {
		t.Errorf("reading the layers again loaded %d features, want none", d)
	}
	if s.selects.Load() == selects {
		t.Error("after a 1-feature import the query answers of its layer were still used")
	}
	if err := c.Check(); err != nil {
		t.Error(err)
	}
}

// An editor's reads (layers.ReadPrimary) go to the store, never to what
// the cache holds: the editor's last write, made through another planmap
// process, may not have reached this one's cache yet.
func TestEditorReadsBypass(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 50)
	c := cache.New(s, 64<<20).AdmitFirst()
	pageAll(t, c, "parcels", layers.Filter{})
	if _, err := c.Item(ctx, "parcels", 7); err != nil {
		t.Fatal(err)
	}
	loaded, bypassed := s.loaded.Load(), c.Stats().Bypassed
	editor := layers.ReadPrimary(ctx)
	if _, _, err := c.Items(editor, "parcels", layers.Filter{}, layers.Page{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Item(editor, "parcels", 7); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Shapes(editor, "parcels", layers.Filter{}, layers.Page{Limit: 10}, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.Stats().Bypassed - bypassed; got != 3 {
		t.Errorf("an editor's three reads: %d bypassed the cache; want 3", got)
	}
	pageAll(t, c, "parcels", layers.Filter{})
	if s.loaded.Load() != loaded {
		t.Errorf("anonymous reads after them loaded %d features; want them held", s.loaded.Load()-loaded)
	}
}

// A layer replaced as a whole (one 'layer' change) is dropped whole; the
// other layers stay.
func TestChangeLayer(t *testing.T) {
	const n = 200
	s := newStore(t, n)
	c := cache.New(s, 64<<20).AdmitFirst()
	pageAll(t, c, "parcels", layers.Filter{})
	roads := pageAll(t, c, "roads", layers.Filter{})
	mustImport(t, s.Store, layers.ImportOptions{Replace: true}, parcelsFile(t, n/2, nil))
	cs, err := s.Changes(context.Background(), 0, 1<<20)
	if err != nil || len(cs) == 0 || cs[len(cs)-1].Op != layers.OpLayer {
		t.Fatalf("the change log ends with %v, %v; want a layer change", cs[len(cs)-1:], err)
	}
	loaded := s.loaded.Load()
	parcels := pageAll(t, c, "parcels", layers.Filter{})
	if len(parcels) != n/2 {
		t.Errorf("after replacing the parcels with %d the cache serves %d", n/2, len(parcels))
	}
	if d := s.loaded.Load() - loaded; d != n/2 {
		t.Errorf("after replacing the parcels reading them loaded %d, want all %d", d, n/2)
	}
	loaded = s.loaded.Load()
	for fid, it := range pageAll(t, c, "roads", layers.Filter{}) {
		if string(roads[fid].JSON) != string(it.JSON) {
			t.Errorf("road %d is served as %s, was %s", fid, it.JSON, roads[fid].JSON)
		}
	}
	if d := s.loaded.Load() - loaded; d != 0 {
		t.Errorf("reading the roads again loaded %d, want none", d)
	}
	// Deleted by the replace: its id is retired, not merely absent.
	if _, err := c.Item(context.Background(), "parcels", n); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(parcels, %d) after the replace = %v, want EGONE", n, err)
	}
}

// A feature read before a change and offered to the cache after the
// change was applied is not kept: the next reader gets the new one.
func TestReadRacesChange(t *testing.T) {
	const n = 50
	for _, call := range []string{"Item", "Items"} {
		t.Run(call, func(t *testing.T) {
			s := newStore(t, n)
			// Held at the first read, so that the read held back is
			// refused by its epoch alone.
			c := cache.New(s, 64<<20).AdmitFirst()
			ctx := context.Background()
			read := func() *layers.Item {
				if call == "Item" {
					it, err := c.Item(ctx, "parcels", 7)
					if err != nil {
						t.Error(err)
					}
					return it
				}
				items, _, err := c.Items(ctx, "parcels", layers.Filter{}, layers.Page{After: 6, Limit: 1})
				if err != nil || len(items) != 1 {
					t.Errorf("Items = %d, %v", len(items), err)
					return nil
				}
				return items[0]
			}
			// Another feature first, so that the cache has an epoch.
			if _, err := c.Item(ctx, "parcels", 1); err != nil {
				t.Fatal(err)
			}
			old, _ := s.Store.Item(ctx, "parcels", 7)
			status := "signed"
			if old.Properties()["status"] == status {
				status = "planned"
			}
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			hook := func() {
				once.Do(func() {
					close(held)
					<-release
				})
			}
			s.afterRead.Store(&hook)
			done := make(chan *layers.Item)
			go func() { done <- read() }()
			<-held // the old feature is read, not yet offered to the cache
			s.afterRead.Store(nil)
			mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, n, setStatus(7, status)))
			// A reader takes the change in.
			if _, err := c.Item(ctx, "parcels", 1); err != nil {
				t.Fatal(err)
			}
			close(release)
			if it := <-done; it == nil || it.Properties()["status"] != old.Properties()["status"] {
				t.Fatalf("the held read returned %s, want the old feature", jsonOf(it))
			}
			if it := read(); it == nil || it.Properties()["status"] != status {
				t.Errorf("after the change the cache serves %s, want status %s", jsonOf(it), status)
			}
		})
	}
}

// Readers never get a feature older than what the store's catalog showed
// before they asked, while a writer changes features one import at a
// time. Run with -race.
func TestConcurrentReadersAndWriter(t *testing.T) {
	// With the layer's spatial index made as the first box is asked for,
	// and without one.
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprintf("indexed=%v", indexed), func(t *testing.T) {
			const n = 300
			s := newStore(t, n)
			c := cache.New(s, 256<<10) // small: evictions happen too
			if indexed {
				c.IndexNow()
			} else {
				c.NoIndex()
			}
			testConcurrentReadersAndWriter(t, s, c, n)
		})
	}
}

func testConcurrentReadersAndWriter(t *testing.T, s *counting, c *cache.Cache, n int) {
	const hot = 5
	ctx := context.Background()
	// committed[fid] is the berths value last imported for feature fid.
	var committed [hot + 1]atomic.Int64
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		for v := int64(100); ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			fid := 1 + int(v)%hot
			mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, hot, func(fs []map[string]any) []map[string]any {
				fs[fid-1]["properties"].(map[string]any)["berths"] = v
				return fs[fid-1 : fid]
			}))
			committed[fid].Store(v)
		}
	}()
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			rng := rand.New(rand.NewSource(int64(r)))
			for range 300 {
				fid := int64(1 + rng.Intn(hot))
				want := committed[fid].Load()
				var it *layers.Item
				if rng.Intn(2) == 0 {
					var err error
					if it, err = c.Item(ctx, "parcels", fid); err != nil {
						t.Error(err)
						return
					}
				} else {
					items, _, err := c.Items(ctx, "parcels", layers.Filter{BBoxes: []orb.Bound{parcelBox(0, 0, 10, 1)}}, layers.Page{Limit: 10})
					if err != nil || len(items) != 10 {
						t.Errorf("Items = %d features, %v; want 10", len(items), err)
						return
					}
					it = items[fid-1]
				}
				if got, _ := it.Properties()["berths"].(int64); want != 0 && got < want {
					t.Errorf("feature %d has berths %d; %d was imported before it was asked for", fid, got, want)
					return
				}
				q := randomQuery(rng, n)
				if _, _, err := c.Items(ctx, q.layer, q.f, q.p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	writer.Wait()
	if err := c.Check(); err != nil {
		t.Error(err)
	}
	// Once quiet, the cache answers as the store does.
	for fid := int64(1); fid <= hot; fid++ {
		want, _ := s.Store.Item(ctx, "parcels", fid)
		got, err := c.Item(ctx, "parcels", fid)
		if err != nil || !bytes.Equal(got.JSON, want.JSON) {
			t.Errorf("Item(%d) = %s, %v; want %s", fid, jsonOf(got), err, jsonOf(want))
		}
	}
	st := c.Stats()
	t.Logf("%+v", st)
	if st.Hits == 0 {
		t.Error("no hits")
	}
}

// The cache answers what web.Store asks by passing the rest to the store.
func TestPassThrough(t *testing.T) {
	s := newStore(t, 20)
	c := cache.New(s, 1<<20)
	ctx := context.Background()
	want, _ := s.Store.Catalog(ctx)
	if got, err := c.Catalog(ctx); err != nil || got != want {
		t.Errorf("Catalog = %p, %v; want the store's %p", got, err, want)
	}
	hits, err := c.Search(ctx, "地块", 5)
	if err != nil || len(hits) != 5 {
		t.Errorf("Search = %d hits, %v; want 5", len(hits), err)
	}
	cs, err := c.Changes(ctx, 0, 1000)
	if err != nil || len(cs) == 0 || cs[len(cs)-1].Seq != want.Seq {
		t.Errorf("Changes = %v, %v; want up to %d", cs, err, want.Seq)
	}
	var b bytes.Buffer
	if err := c.WriteGeoJSON(ctx, &b, "parcels", nil); err != nil || !bytes.Contains(b.Bytes(), []byte(`"parcels"`)) {
		t.Errorf("WriteGeoJSON = %v, %.100s", err, b.Bytes())
	}
	if err := c.Ping(ctx); err != nil {
		t.Error(err)
	}
	if st := c.Stats(); !slices.Contains([]int64{0, want.Seq}, st.Seq) {
		t.Errorf("Stats.Seq = %d", st.Seq)
	}
}

// After more changes than a reader applies itself, readers go to the store
// while the cache catches up in the background, and get the store's
// answers throughout.
func TestManyChanges(t *testing.T) {
	const n = 600
	s := newStore(t, n)
	c := cache.New(s, 64<<20)
	c.SetInline(100)
	ctx := context.Background()
	box := layers.Filter{BBoxes: []orb.Bound{parcelBox(0, 0, 50, 2)}}
	check := func(when string) {
		t.Helper()
		want, wantN, err := s.Store.Items(ctx, "parcels", box, layers.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		got, gotN, err := c.Items(ctx, "parcels", box, layers.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameItems(got, gotN, want, wantN); d != "" {
			t.Fatalf("%s: %s", when, d)
		}
	}
	check("before")
	// Every parcel updated, one change each: more than a reader applies.
	mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, n, func(fs []map[string]any) []map[string]any {
		for _, f := range fs {
			f["properties"].(map[string]any)["berths"] = 7
		}
		return fs
	}))
	cat, _ := s.Catalog(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Seq != cat.Seq {
		check("while the cache catches up")
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the import the cache is at change %d, the store at %d: %+v", c.Stats().Seq, cat.Seq, c.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	check("after")
	if st := c.Stats(); st.Bypassed == 0 || st.ApplyErrors != 0 {
		t.Errorf("Stats = %+v; want requests sent to the store while the changes were applied, and no errors", st)
	}
	for _, it := range pageAll(t, c, "parcels", box) {
		if it.Properties()["berths"] != int64(7) {
			t.Fatalf("feature %d after the import: %s", it.ID, it.JSON)
		}
	}
}

// switching is a store that is one store, then another: a database file
// replaced by another whose change log is shorter.
type switching struct {
	cache.Store
}

// When the store's change log goes back (the file was replaced), the cache
// drops everything and serves the new file.
func TestLogGoesBack(t *testing.T) {
	a, b := newStore(t, 300), newStore(t, 100)
	ctx := context.Background()
	// Feature 3 of the first store made different from the second's.
	b3, _ := b.Store.Item(ctx, "parcels", 3)
	var other []string
	for _, st := range layerstest.ParcelsStatuses {
		if st != b3.Properties()["status"] {
			other = append(other, st)
		}
	}
	mustImport(t, a.Store, layers.ImportOptions{}, parcelsFile(t, 300, setStatus(3, other[0])))
	mustImport(t, a.Store, layers.ImportOptions{}, parcelsFile(t, 300, setStatus(3, other[1])))
	ca, _ := a.Catalog(ctx)
	cb, _ := b.Catalog(ctx)
	if cb.Seq >= ca.Seq {
		t.Fatalf("the second store's log is at %d, the first's at %d; want it behind", cb.Seq, ca.Seq)
	}
	sw := &switching{a}
	c := cache.New(sw, 64<<20)
	pageAll(t, c, "parcels", layers.Filter{})
	if it, _ := c.Item(ctx, "parcels", 3); it.Properties()["status"] != other[1] {
		t.Fatalf("feature 3 from the first store = %s, want status %s", it.JSON, other[1])
	}
	sw.Store = b
	got := pageAll(t, c, "parcels", layers.Filter{})
	if len(got) != 100 {
		t.Errorf("after the switch the cache serves %d parcels, want the 100 of the new store", len(got))
	}
	for fid, it := range got {
		want, _ := b.Store.Item(ctx, "parcels", fid)
		if !bytes.Equal(it.JSON, want.JSON) {
			t.Fatalf("feature %d = %s, want %s", fid, it.JSON, want.JSON)
		}
	}
}

// lagging is a store whose catalog is held back: the file is ahead of
// it, as it is for up to the store's poll interval after another
// process writes.
type lagging struct {
	*counting
	cat atomic.Pointer[layers.Catalog]
}

func (s *lagging) Catalog(ctx context.Context) (*layers.Catalog, error) { return s.cat.Load(), nil }

// The cache applies the changes up to the catalog it is shown and no
// further, and applies the rest once the catalog shows them.
func TestFileAheadOfCatalog(t *testing.T) {
	s := &lagging{counting: newStore(t, 50)}
	ctx := context.Background()
	first, _ := s.Store.Catalog(ctx)
	s.cat.Store(first)
	c := cache.New(s, 64<<20).AdmitFirst()
	old := pageAll(t, c, "parcels", layers.Filter{})
	flip := func(fid int) string {
		if old[int64(fid)].Properties()["status"] == "signed" {
			return "planned"
		}
		return "signed"
	}
	mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, 50, setStatus(5, flip(5))))
	second, _ := s.Store.Catalog(ctx)
	mustImport(t, s.Store, layers.ImportOptions{}, parcelsFile(t, 50, setStatus(6, flip(6))))
	third, _ := s.Store.Catalog(ctx)

	s.cat.Store(second)
	loaded := s.loaded.Load()
	for _, fid := range []int64{5, 6} {
		if _, err := c.Item(ctx, "parcels", fid); err != nil {
			t.Fatal(err)
		}
	}
	if d := s.loaded.Load() - loaded + s.items.Load(); d != 1 {
		t.Errorf("with the catalog at the first import, features 5 and 6 cost %d reads, want 1 (feature 5)", d)
	}
	if st := c.Stats(); st.Seq != second.Seq {
		t.Errorf("Stats.Seq = %d, want %d (the catalog's)", st.Seq, second.Seq)
	}
	s.cat.Store(third)
	if it, _ := c.Item(ctx, "parcels", 6); it.Properties()["status"] != flip(6) {
		t.Errorf("with the catalog at the second import, feature 6 = %s, want status %s", it.JSON, flip(6))
	}
}

// decoded reports whether it keeps a decoded geometry or property map
// (layers.Item's unexported geom and props), which a held item must not.
func decoded(it *layers.Item) bool {
	v := reflect.ValueOf(it).Elem()
	return !v.FieldByName("geom").IsNil() || !v.FieldByName("props").IsNil()
}
