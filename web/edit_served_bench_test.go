package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"planmap/web"
)

// BenchmarkEditServed: one client PATCHes a parcel of the layer of
// benchParcels parcels over HTTP; another follows /changes/stream and a
// third GETs the feature when the PATCH has returned. lag-ns is how long
// after the PATCH returned the stream delivered its change (0 when it came
// first); max-lag-ns the worst. The GET must already see the new value.
func BenchmarkEditServed(b *testing.B) {
	benchEditRouter(b) // the store and its tokens
	stop := make(chan struct{})
	srv := httptest.NewServer(web.NewRouter(benchStore.store, web.Options{Tokens: benchTokens.tokens, Stop: stop},
		slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	defer close(stop)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/changes/stream?collections=parcels", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("GET /changes/stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	events := make(chan time.Time, 1024)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			switch sc.Text() {
			case "event: ready":
				close(ready)
			case "event: change":
				events <- time.Now()
			}
		}
	}()
	<-ready

	do := func(method, url, ct, body string, want int) string {
		req, _ := http.NewRequest(method, srv.URL+url, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Authorization", "Bearer ann-token")
			req.Header.Set("Content-Type", ct)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Body.Close()
		got, _ := io.ReadAll(r.Body)
		if r.StatusCode != want {
			b.Fatalf("%s %s = %d, want %d: %s", method, url, r.StatusCode, want, got)
		}
		return string(got)
	}
	var lags []time.Duration
	i := 0
	cpu := processCPU()
	for b.Loop() {
		fid := 20_001 + i%10_000
		name := fmt.Sprintf("served %d", i)
		i++
		do("PATCH", fmt.Sprintf("/collections/parcels/items/%d", fid), "application/merge-patch+json", fmt.Sprintf(`{"properties":{"name_zh":%q}}`, name), 200)
		returned := time.Now()
		if got := do("GET", fmt.Sprintf("/collections/parcels/items/%d", fid), "", "", 200); !strings.Contains(got, name) {
			b.Fatalf("GET after the PATCH returned does not see it: %s", got)
		}
		select {
		case at := <-events:
			lags = append(lags, max(0, at.Sub(returned)))
		case <-time.After(5 * time.Second):
			b.Fatal("the change stream did not deliver the PATCH within 5 s")
		}
	}
	reportCPU(b, cpu)
	var sum time.Duration
	for _, l := range lags {
		sum += l
	}
	slices.Sort(lags)
	b.ReportMetric(float64(sum)/float64(len(lags)), "lag-ns")
	b.ReportMetric(float64(lags[len(lags)*99/100]), "p99-lag-ns")
	b.ReportMetric(float64(lags[len(lags)-1]), "max-lag-ns")
}

// BenchmarkReadersWhileEditing: readers GET a bbox of 50 parcels of the
// layer of benchParcels parcels, in parallel, alone, then while one
// writer PATCHes parcels as fast as it can, then while it PATCHes 100 a
// second. reads/s is the readers' throughput, edits/s the writer's. A writer
// as fast as it can takes its share of the cores from readers who keep
// them all busy; the paced one is a busy office's rate, many times over.
//
// On a machine shared with other work, reads/s moves with its load by a
// third from one run to the next. cpu-ns/op, the process's CPU time per
// read (the writer's included), does not: with the cores kept busy, the
// readers' throughput is the cores over it, and cpu-loss-% is the share
// of their throughput the writer costs them on a machine of their own,
// 1 − (alone's cpu-ns/op) / (this run's), when alone ran in the same
// process. Run each alone (-test.bench 'BenchmarkReadersWhileEditing/alone$')
// to compare them on the same store: in one process, the paced writer
// comes after the flat-out one's thousands of edits.
func BenchmarkReadersWhileEditing(b *testing.B) {
	h := benchEditRouter(b)
	target := "/collections/parcels/items?bbox=" + bbox50 + "&limit=100"
	var aloneCPU float64
	for _, run := range []struct {
		name    string
		editing bool
		every   time.Duration // between edits; 0: as fast as it can
	}{{"alone", false, 0}, {"edits", true, 0}, {"edits100", true, 10 * time.Millisecond}} {
		editing := run.editing
		b.Run(run.name, func(b *testing.B) {
			var edits atomic.Int64
			var wg sync.WaitGroup
			done := make(chan struct{})
			if editing {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					for i := 0; ; i++ {
						// Paced by the clock, not a ticker: an edit the busy
						// scheduler started late is caught up with at once,
						// so the rate is the one asked for on average.
						if wait := time.Until(start.Add(time.Duration(i) * run.every)); run.every > 0 && wait > 0 {
							select {
							case <-done:
								return
							case <-time.After(wait):
							}
						}
						select {
						case <-done:
							return
						default:
						}
						req := httptest.NewRequest("PATCH", fmt.Sprintf("/collections/parcels/items/%d", 30_001+i%10_000), strings.NewReader(fmt.Sprintf(`{"properties":{"berths":%d}}`, i%7)))
						req.RemoteAddr, req.Host = "127.0.0.1:1234", "localhost"
						req.Header.Set("Authorization", "Bearer ann-token")
						req.Header.Set("Content-Type", "application/merge-patch+json")
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != 200 {
							panic(fmt.Sprintf("PATCH = %d: %s", rec.Code, rec.Body))
						}
						edits.Add(1)
					}
				}()
			}
			b.ResetTimer()
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				var buf bytes.Buffer
				for pb.Next() {
					if rec := benchRequest(h, httptest.NewRequest("GET", target, nil), &buf); rec.Code != 200 {
						panic(fmt.Sprintf("GET = %d", rec.Code))
					}
				}
			})
			el := b.Elapsed()
			perRead := float64(processCPU()-cpu) / float64(b.N)
			close(done)
			wg.Wait()
			b.ReportMetric(float64(b.N)/el.Seconds(), "reads/s")
			b.ReportMetric(float64(edits.Load())/el.Seconds(), "edits/s")
			b.ReportMetric(perRead, "cpu-ns/op")
			if !editing {
				aloneCPU = perRead
			} else if aloneCPU > 0 && perRead > 0 {
				b.ReportMetric(100*(1-aloneCPU/perRead), "cpu-loss-%")
			}
		})
	}
}
