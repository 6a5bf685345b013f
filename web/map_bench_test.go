package web_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// BenchmarkWebMapPanDense pans the web map over benchParcels synthetic
// parcels in headless Chromium, one animated pan per iteration, and
// reports the longest main-thread task (the target: under 200 ms),
// the 95th-percentile frame time while panning, and the most shapes the
// layer held. Machine-dependent figures: a benchmark, not a test.
func BenchmarkWebMapPanDense(b *testing.B) {
	h := benchRouter(b)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	// The benchmark router answers example.com only: the browser finds
	// it on this machine.
	br := newBrowser(b, 1280, 860, chromedp.Flag("host-resolver-rules", "MAP example.com 127.0.0.1"))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	if _, err := chromedp.Call(br.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__perf = {long: [], frames: []};
			new PerformanceObserver((l) => { for (const e of l.getEntries()) __perf.long.push(e.duration); }).observe({type: 'longtask', buffered: true});
			let __last = 0;
			requestAnimationFrame(function f(t) { if (__last) __perf.frames.push(t - __last); __last = t; requestAnimationFrame(f); });`,
	}); err != nil {
		b.Fatal(err)
	}
	br.do(b, chromedp.Navigate("http://example.com:"+port+"/#map=15/32.0500/121.3500&layers=parcels"))
	settle(b, br)
	js(b, br, `__perf.long = []; __perf.frames = [];`)
	most := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dx := 500
		if i%8 >= 4 {
			dx = -500 // back and forth over the grid
		}
		js(b, br, fmt.Sprintf(`planmap.map.panBy([%d, %d], {duration: 0.5});`, dx, (i%3-1)*200))
		settle(b, br)
		if n := eval[int](b, br, `planmap.state.layers.get('parcels').group.getLayers().length`); n > most {
			most = n
		}
	}
	b.StopTimer()
	perf := eval[struct{ Long, Frames []float64 }](b, br, `({Long: __perf.long, Frames: __perf.frames})`)
	longest := 0.0
	for _, d := range perf.Long {
		longest = max(longest, d)
	}
	sort.Float64s(perf.Frames)
	p95 := 0.0
	if n := len(perf.Frames); n > 0 {
		p95 = perf.Frames[n*95/100]
	}
	b.ReportMetric(longest, "ms-longest-task")
	b.ReportMetric(p95, "ms-p95-frame")
	b.ReportMetric(float64(most), "shapes-max")
}
