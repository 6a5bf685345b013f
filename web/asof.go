package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"planmap/layers"
)

// "As of": items, one feature and the statistics as they were at a time,
// asked with ?as-of=RFC 3339 or, as Memento (RFC 7089) clients do, with
// the Accept-Datetime header. datetime keeps its meaning of OGC API –
// Features Part 1 (the features' own time properties).

// Past is what the web layer needs of a store to answer as of a time; a
// store that does not implement it answers as-of requests with 400. The
// GeoPackage and PostGIS stores, and the cache in front of them (which
// passes the past through, never holding it), are ones.
type Past interface {
	// ItemsAsOf is Items as the layer was at t: features deleted since
	// are among them, those created after t are not; f applies to the
	// features as they were.
	ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	// ItemAsOf is Item as the feature was at t: EGONE if it had been
	// deleted by then, ENOTFOUND if it did not exist yet.
	ItemAsOf(ctx context.Context, id string, fid int64, t time.Time) (*layers.Item, error)
	// PastCollection is layer id as it was at t when it has been dropped
	// since (its declaration then); when t falls in the life of the layer
	// there now, nil, or a collection of its declaration then alone
	// (Dropped zero) if it has been declared otherwise since; ENOTFOUND
	// when there was no layer id at t.
	PastCollection(ctx context.Context, id string, t time.Time) (*layers.Collection, error)
}

// asOfParam is the query parameter that asks for the past.
const asOfParam = "as-of"

// parseAsOf reads the time a request asks about: as-of, else
// Accept-Datetime; zero for now. It sets the headers every response of a
// resource that has a past carries (Vary: Accept-Datetime), and those of
// an answer about the past (Memento-Datetime, Cache-Control).
func (s *server) parseAsOf(w http.ResponseWriter, r *http.Request) (time.Time, error) {
	h := w.Header()
	h.Add("Vary", "Accept-Datetime")
	q := queryOf(r)
	var at time.Time
	switch {
	case len(q[asOfParam]) > 1:
		return at, layers.Errorf(layers.EINVALID, "query parameter %s is given %d times; give it once", asOfParam, len(q[asOfParam]))
	case q.Has(asOfParam):
		t, err := parseAsOfValue(asOfParam, q.Get(asOfParam))
		if err != nil {
			return at, err
		}
		at = t
	case r.Header.Get("Accept-Datetime") != "":
		v := r.Header.Get("Accept-Datetime")
		t, err := http.ParseTime(v)
		if err != nil {
			return at, layers.Errorf(layers.EINVALID, "Accept-Datetime: %q is not an HTTP date (RFC 7089: Thu, 31 May 2007 20:35:00 GMT)", v)
		}
		at = t
	default:
		return at, nil
	}
	if _, ok := s.store.(Past); !ok {
		return time.Time{}, layers.Errorf(layers.EINVALID, "this store keeps no history, and answers only as of now; leave %s and Accept-Datetime out", asOfParam)
	}
	h.Set("Memento-Datetime", at.UTC().Format(http.TimeFormat))
	h.Add("Access-Control-Expose-Headers", "Memento-Datetime")
	// The past stays as it was: an answer about a time well gone may be
	// kept, revalidated by its ETag (which has the layer's version, for a
	// declaration that changes). A time about now or to come may change.
	if time.Since(at) > time.Minute {
		h.Set("Cache-Control", "public, max-age=3600")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	return at.UTC(), nil
}

// parseAsOfValue parses an as-of value: an RFC 3339 date-time, or a date,
// which means its start in UTC.
func parseAsOfValue(name, v string) (time.Time, error) {
	t, ok := parseInstant(strings.TrimSpace(v))
	if !ok {
		return time.Time{}, layers.Errorf(layers.EINVALID, "%s=%s is not a date-time; give an RFC 3339 date-time (2026-11-30T12:00:00Z, or with an offset: 2026-11-30T20:00:00+08:00) or a date (2026-11-30)", name, v)
	}
	return t.UTC(), nil
}

// asOfVersion is what an ETag of an answer as of at depends on besides the
// request's query (Accept-Datetime is not in it): the time.
func asOfVersion(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return "as-of " + at.Format(time.RFC3339Nano)
}

// lookupAt is lookup as of at: the collection the path names as it was
// then. A layer dropped since is read from the store's history, in the
// declaration it had then: the catalog has the layers there now only. A
// layer there now that was declared otherwise then is the catalog's, in
// that declaration, so that the query's properties and the answer's
// fields are those of then.
func (s *server) lookupAt(r *http.Request, at time.Time) (*layers.Collection, error) {
	if at.IsZero() {
		return s.lookup(r)
	}
	past, err := s.store.(Past).PastCollection(r.Context(), chi.URLParam(r, "collectionId"), at)
	if err != nil || (past != nil && !past.Dropped.IsZero()) {
		return past, err
	}
	col, err := s.lookup(r)
	if err != nil || past == nil {
		return col, err
	}
	then := *col
	then.Layer = past.Layer
	return &then, nil
}

// itemsAt is Items of the store, as of at when it is not zero.
func (s *server) itemsAt(ctx context.Context, id string, at time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error) {
	if at.IsZero() {
		return s.store.Items(ctx, id, f, p)
	}
	return s.store.(Past).ItemsAsOf(ctx, id, at, f, p)
}

// itemAt is Item of the store, as of at when it is not zero.
func (s *server) itemAt(ctx context.Context, id string, fid int64, at time.Time) (*layers.Item, error) {
	if at.IsZero() {
		return s.store.Item(ctx, id, fid)
	}
	return s.store.(Past).ItemAsOf(ctx, id, fid, at)
}

// lookupItemAt is lookupItem as of at: the feature the path names in col
// as it was then (the store's error says when it was not).
func (s *server) lookupItemAt(r *http.Request, col *layers.Collection, at time.Time) (*layers.Item, string, error) {
	if at.IsZero() {
		return s.lookupItem(r, col)
	}
	raw := chi.URLParam(r, "featureId")
	fid, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || strconv.FormatInt(fid, 10) != raw {
		return nil, raw, layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %q", col.ID, raw)
	}
	it, err := s.itemAt(r.Context(), col.ID, fid, at)
	return it, raw, err
}
