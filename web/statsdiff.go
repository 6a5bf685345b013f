package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"planmap/layers"
)

// The statistics of a layer compared between two times:
// /collections/{id}/stats?groupby=status&compare=T0[&as-of=T1] gives, per
// group, the count and measures at T0, at T1 (now when as-of is not
// given) and the change, and the transitions: the features whose group
// changed between the two times, from which group to which, with their
// count and measures ("how many 亩 went from planned to under
// construction"). The bbox and field values select at each time from the
// features as they were then.

// compareParam names the earlier time of a comparison.
const compareParam = "compare"

// parseCompare reads compare, which must be before at (now when zero).
func (s *server) parseCompare(q url.Values, at time.Time) (time.Time, error) {
	if !q.Has(compareParam) {
		return time.Time{}, nil
	}
	if len(q[compareParam]) > 1 {
		return time.Time{}, layers.Errorf(layers.EINVALID, "query parameter %s is given %d times; give it once", compareParam, len(q[compareParam]))
	}
	t, err := parseAsOfValue(compareParam, q.Get(compareParam))
	if err != nil {
		return time.Time{}, err
	}
	if _, ok := s.store.(Past); !ok {
		return time.Time{}, layers.Errorf(layers.EINVALID, "this store keeps no history, and cannot compare with the past; leave %s out", compareParam)
	}
	later := at
	if later.IsZero() {
		later = time.Now()
	}
	if !t.Before(later) {
		return time.Time{}, layers.Errorf(layers.EINVALID, "%s=%s is not before %s; compare with an earlier time", compareParam, q.Get(compareParam), later.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// comparing is the earlier half of a comparison, tallied, and the
// transitions found while the later half is.
type comparing struct {
	at    time.Time
	st    *layers.Stats
	keys  map[int64]any // each feature's group at the earlier time
	trans *layers.Transitions
}

// tallyEarlier tallies layer col as of at, grouped as the later half is.
func (s *server) tallyEarlier(ctx context.Context, col *layers.Collection, fields []string, f layers.Filter, at time.Time) (*comparing, error) {
	st, err := layers.NewFieldsStats(col.Layer, fields, f.BBoxes)
	if err != nil {
		return nil, err
	}
	c := &comparing{at: at, st: st, keys: map[int64]any{}, trans: st.Transitions()}
	err = s.tally(ctx, col.ID, at, f, st, func(it *layers.Item) {
		c.keys[it.ID] = st.Key(it)
	})
	return c, err
}

// add takes in a feature of the later time: a transition if its group
// was another at the earlier time.
func (c *comparing) add(it *layers.Item) {
	if c == nil {
		return
	}
	if from, ok := c.keys[it.ID]; ok {
		c.trans.Add(from, it)
	}
}

// statsCompared are a group's measures at the two times and the change.
type statsCompared struct {
	Earlier statsMeasures `json:"earlier"`
	Later   statsMeasures `json:"later"`
	Change  statsMeasures `json:"change"`
}

type statsComparedGroup struct {
	Key any `json:"key"`
	statsCompared
}

type statsTransition struct {
	From any `json:"from"`
	To   any `json:"to"`
	statsMeasures
}

// statsComparison is the comparison member of a statistics document.
type statsComparison struct {
	// Earlier is the time compared with (compare); the document's asOf
	// (or now) is the later.
	Earlier     time.Time            `json:"earlier"`
	Groups      []statsComparedGroup `json:"groups"`
	Total       statsCompared        `json:"total"`
	Transitions []statsTransition    `json:"transitions"`
	Note        string               `json:"note"`
}

func compared(earlier, later layers.Tally, k measureKinds) statsCompared {
	change := layers.Tally{Count: later.Count - earlier.Count, AreaM2: later.AreaM2 - earlier.AreaM2, LengthM: later.LengthM - earlier.LengthM}
	return statsCompared{measuresOf(earlier, k), measuresOf(later, k), measuresOf(change, k)}
}

// doc compares the earlier tally with later.
func (c *comparing) doc(later *layers.Stats, k measureKinds) *statsComparison {
	d := &statsComparison{
		Earlier: c.at, Groups: []statsComparedGroup{}, Transitions: []statsTransition{},
		Total: compared(c.st.Total(), later.Total(), k),
		Note: "Per group, the count and measures at the earlier time, at the later and the change (later less earlier); " +
			"the transitions are the features at both times whose group changed, measured as they are at the later time. " +
			"Features created or deleted between the times change the groups but are no transition. " +
			"每组在较早时间、较晚时间的个数与面积（或长度）及其变化（较晚减较早）；转变为两时均存在且分组改变的要素，按较晚时间的几何计量。其间新建或删除的要素计入分组变化，不计入转变。",
	}
	byKey := map[any][2]layers.Tally{}
	var keys []any
	for i, st := range []*layers.Stats{c.st, later} {
		for _, g := range st.Groups() {
			v, seen := byKey[g.Key]
			if !seen {
				keys = append(keys, g.Key)
			}
			v[i] = g.Tally
			byKey[g.Key] = v
		}
	}
	// Sorted as the groups are: Groups of a Stats with both halves.
	order := layers.SortKeys(keys)
	for _, key := range order {
		v := byKey[key]
		d.Groups = append(d.Groups, statsComparedGroup{Key: key, statsCompared: compared(v[0], v[1], k)})
	}
	for _, t := range c.trans.List() {
		d.Transitions = append(d.Transitions, statsTransition{From: t.From, To: t.To, statsMeasures: measuresOf(t.Tally, k)})
	}
	return d
}

// writeComparisonCSV writes a compared statistics document as two tables
// one after the other, as writeStatsCSV writes one: the groups with their
// measures at the two times and the change, then the transitions.
func writeComparisonCSV(w http.ResponseWriter, filename string, doc statsDoc, kinds measureKinds, fields []string) error {
	h := w.Header()
	h.Set("Content-Type", mediaCSV)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	if _, err := w.Write([]byte("\ufeff")); err != nil {
		return err
	}
	c := doc.Comparison
	later := "now 现在"
	if doc.AsOf != nil {
		later = doc.AsOf.Format(time.RFC3339)
	}
	earlier := c.Earlier.Format(time.RFC3339)
	type measure struct {
		name string
		get  func(statsMeasures) *float64
		prec int
	}
	count := func(m statsMeasures) *float64 { v := float64(m.Count); return &v }
	ms := []measure{{"count 个数", count, 0}}
	if kinds.area {
		ms = append(ms,
			measure{"area (m²) 面积（平方米）", func(m statsMeasures) *float64 { return m.AreaM2 }, 1},
			measure{"area (ha) 面积（公顷）", func(m statsMeasures) *float64 { return m.AreaHa }, 4},
			measure{"area (亩) 面积（亩）", func(m statsMeasures) *float64 { return m.AreaMu }, 2})
	}
	if kinds.length {
		ms = append(ms, measure{"length (m) 长度（米）", func(m statsMeasures) *float64 { return m.LengthM }, 1})
	}
	cell := func(p *float64, prec int) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', prec, 64)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	keyCols := fields
	if len(keyCols) == 0 {
		keyCols = []string{"group 分组"}
	}
	header := slices.Clone(keyCols)
	for _, m := range ms {
		header = append(header, m.name+" @ "+earlier, m.name+" @ "+later, m.name+" change 变化")
	}
	cw.Write(header)
	row := func(lead []string, g statsCompared) {
		rec := slices.Clone(lead)
		for _, m := range ms {
			rec = append(rec, cell(m.get(g.Earlier), m.prec), cell(m.get(g.Later), m.prec), cell(m.get(g.Change), m.prec))
		}
		cw.Write(rec)
	}
	for _, g := range c.Groups {
		k := keyCells(g.Key)
		if len(fields) == 0 {
			k = []string{"all 全部"}
		}
		row(k, g.statsCompared)
	}
	total := make([]string, len(keyCols))
	total[0] = "total 合计"
	if doc.ClippedToBBox {
		total[0] = "total inside bbox 范围框内合计"
	}
	row(total, c.Total)
	cw.Write(nil)
	header = nil
	for _, side := range []string{"from 从 (" + earlier + ")", "to 到 (" + later + ")"} {
		if len(fields) < 2 {
			header = append(header, side)
			continue
		}
		for _, fd := range fields {
			header = append(header, side+" "+fd)
		}
	}
	for _, m := range ms {
		header = append(header, m.name)
	}
	cw.Write(header)
	for _, t := range c.Transitions {
		rec := append(keyCells(t.From), keyCells(t.To)...)
		for _, m := range ms {
			rec = append(rec, cell(m.get(t.statsMeasures), m.prec))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}
