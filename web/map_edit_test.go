package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"planmap/layers"
	"planmap/web"
)

// tokenMaker is how a store makes an editor's token (planmap token add).
type tokenMaker interface {
	AddToken(ctx context.Context, name string, role layers.Role, layerIDs []string) (string, error)
}

// mapEditServer is the real router over s, a real store that takes
// writes, with the store checking tokens, and an editor's token for
// layer, made through the store as planmap token add makes it.
func mapEditServer(t *testing.T, s loadedStore, name string, layerIDs ...string) (*httptest.Server, string) {
	t.Helper()
	var tokens web.Tokens = s
	var maker tokenMaker = s
	token, err := maker.AddToken(ctx, name, layers.RoleEditor, layerIDs)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	srv := httptest.NewServer(web.NewRouter(s, web.Options{Tokens: tokens, Stop: stop, Downloads: newCache(t, web.DefaultDownloadBudget)},
		slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	if !strings.Contains(string(get(t, srv.URL+"/conformance").body), "create-replace-delete") {
		t.Fatal("the API does not say it takes writes (OGC API – Features Part 4): the map would offer no editing")
	}
	return srv, token
}

// clickOn clicks the middle of the element with the mouse, where it is
// on screen just before the click. An element on the map (a button in a
// popup) is clicked once the map stands still: the popup's auto-pan,
// late on a loaded machine, would move it from under the mouse.
func clickOn(t *testing.T, b *browser, selector string) {
	t.Helper()
	where := func() []float64 {
		return eval[[]float64](t, b, fmt.Sprintf(`(() => {
			const e = document.querySelector(%q);
			if (!e || !e.getClientRects().length) return [];
			e.scrollIntoView({block: 'nearest'});
			const r = e.getBoundingClientRect();
			return [r.left + r.width / 2, r.top + r.height / 2, e.closest('.leaflet-container') ? 1 : 0];
		})()`, selector))
	}
	deadline := time.Now().Add(patience)
	var xy []float64
	for {
		xy = where()
		if len(xy) == 3 && xy[2] == 1 {
			still(t, b)
			xy = where()
		}
		if len(xy) == 3 {
			break
		}
		if time.Now().After(deadline) {
			_, problems := b.snapshot()
			t.Fatalf("nothing to click at %s in %v; problems: %v", selector, patience, problems)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.do(t, chromedp.MouseClickXY(xy[0], xy[1]))
}

// waitJS waits until cond holds in the page, and fails the test, saying
// what did not happen, if it does not within patience.
func waitJS(t *testing.T, b *browser, what, cond string) {
	t.Helper()
	for deadline := time.Now().Add(patience); !eval[bool](t, b, cond); {
		if time.Now().After(deadline) {
			_, problems := b.snapshot()
			t.Fatalf("%s: not within %v (%s); problems: %v", what, patience, cond, problems)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func typeInto(t *testing.T, b *browser, field, text string) {
	t.Helper()
	sel := "#edit-f-" + field
	clickOn(t, b, sel)
	js(t, b, fmt.Sprintf(`document.querySelector(%q).value = ''`, sel))
	b.do(t, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks a value of a select of the form.
func choose(t *testing.T, b *browser, field, value string) {
	t.Helper()
	js(t, b, fmt.Sprintf(`document.querySelector('#edit-f-%s').value = %q`, field, value))
}

func shot(t *testing.T, b *browser, name string) {
	t.Helper()
	time.Sleep(150 * time.Millisecond)
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(artifactDir(t), name), png, 0o644)
}

// drawPolygon draws a polygon with the mouse: a click on each vertex
// where it is on screen now, then on the first again to finish.
func drawPolygon(t *testing.T, b *browser, vertices [][2]float64) {
	t.Helper()
	clickOn(t, b, "#edit-draw")
	waitJS(t, b, "drawing starts", `document.body.dataset.editing === 'drawing'`)
	for _, v := range vertices {
		moveClickAt(t, b, v[0], v[1])
		time.Sleep(120 * time.Millisecond)
	}
	moveClickAt(t, b, vertices[0][0], vertices[0][1])
	waitJS(t, b, "the form opens", `!!document.querySelector('#edit-form #edit-f-name_zh')`)
}

// moveClickAt moves the mouse to where latitude lat, longitude lng is on
// screen now, as a hand does before it clicks (drawing tools snap while
// the mouse moves), then clicks there.
func moveClickAt(t *testing.T, b *browser, lat, lng float64) {
	t.Helper()
	xy := eval[[]float64](t, b, fmt.Sprintf(`(() => {
		const p = planmap.map.latLngToContainerPoint([%f, %f]);
		const r = planmap.map.getContainer().getBoundingClientRect();
		return [r.left + p.x, r.top + p.y];
	})()`, lat, lng))
	b.do(t, chromedp.MouseEvent(chromedp.MouseMoved, xy[0]-6, xy[1]-6), chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]))
	time.Sleep(60 * time.Millisecond)
	clickAt(t, b, lat, lng)
}

// apiJSON reads a document of the API.
func apiJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return doc
}

// named returns the features of a layer named name_zh.
func named(t *testing.T, base, layer, name string) []map[string]any {
	t.Helper()
	doc := apiJSON(t, base+"/collections/"+layer+"/items?limit=1000")
	var out []map[string]any
	for _, f := range doc["features"].([]any) {
		f := f.(map[string]any)
		if p, _ := f["properties"].(map[string]any); p["name_zh"] == name {
			out = append(out, f)
		}
	}
	return out
}

func itemCount(t *testing.T, base, layer string) int {
	t.Helper()
	return int(apiJSON(t, base+"/collections/"+layer+"/items?limit=1")["numberMatched"].(float64))
}

// versionsOf returns a feature's versions, newest first.
func versionsOf(t *testing.T, base, layer string, fid int) []map[string]any {
	t.Helper()
	doc := apiJSON(t, fmt.Sprintf("%s/collections/%s/items/%d/versions", base, layer, fid))
	var out []map[string]any
	for _, f := range doc["features"].([]any) {
		out = append(out, f.(map[string]any)["planmap:version"].(map[string]any))
	}
	return out
}

// fillRequired fills every required field of a resettlement block but
// position_note.
func fillRequired(t *testing.T, b *browser, nameZh string) {
	t.Helper()
	typeInto(t, b, "name_zh", nameZh)
	typeInto(t, b, "name_en", "Block <b>X</b>")
	typeInto(t, b, "landuse_code", "R2")
	typeInto(t, b, "landuse_gb50137", "R")
	choose(t, b, "status", "planned")
	choose(t, b, "position_confidence", "low")
}

// TestWebMapEdit signs in with a real token, draws with the mouse, fills
// the form and saves; a second browser sees the new feature arrive; a
// bad shape and a missing value are refused where they are, storing
// nothing; two editors on one feature meet the 412 dialog; the history
// popup restores a version.
func TestWebMapEdit(t *testing.T) {
	onEachLoaded(t, testFiles, func(t *testing.T, store loadedStore) {
		const author = "王工"
		srv, token := mapEditServer(t, store, author, "resettlement")
		const lat, lng = 32.010, 121.510 // empty land inside the district
		onlyBoundaryAt(t, srv.URL, lat, lng)
		page := fmt.Sprintf("%s/#map=17/%f/%f&layers=boundary,resettlement", srv.URL, lat, lng)
		onlyBoundaryAt(t, srv.URL, lat, lng+0.0014) // and east of it, where the snapping test draws
		// A block of about 2 ha (the layer's rules ask for at least 1 ha).
		const dLat, dLng = 0.0006, 0.0009
		square := [][2]float64{{lat - dLat, lng - dLng}, {lat - dLat, lng + dLng}, {lat + dLat, lng + dLng}, {lat + dLat, lng - dLng}}
		bowtie := [][2]float64{{lat - dLat, lng - dLng}, {lat + dLat, lng + dLng}, {lat - dLat, lng + dLng}, {lat + dLat, lng - dLng}}

		a := newBrowser(t, 1280, 860)
		a.do(t, chromedp.Navigate(page))
		settle(t, a)
		waitJS(t, a, "editing ready", `document.body.dataset.editReady === '1'`)
		other := newBrowser(t, 1000, 700)
		other.do(t, chromedp.Navigate(page))
		settle(t, other)
		waitJS(t, other, "the change stream opens", `document.body.dataset.live === 'open'`)
		js(t, other, `window.__sameDocument = true;`) // gone if the page reloads

		t.Run("AnonymousSeesNoTools", func(t *testing.T) {
			if eval[bool](t, a, `!!document.querySelector('#edit-panel, #edit-box, .pm-edit-feature')`) {
				t.Error("editing tools shown before signing in")
			}
			if !eval[bool](t, a, `!!document.getElementById('signin-toggle')`) {
				t.Error("no sign-in button on a service that takes writes")
			}
			requests, _ := a.snapshot()
			for _, r := range requests {
				if strings.Contains(r, "leaflet-geoman") {
					t.Errorf("a reader's page loaded the drawing tools: %s", r)
				}
			}
		})

		t.Run("SignIn", func(t *testing.T) {
			clickOn(t, a, "#signin-toggle")
			clickOn(t, a, "#signin-token")
			a.do(t, chromedp.SendKeys(chromedp.ID("signin-token"), "pm_not_a_token"))
			clickOn(t, a, `#signin-form button[type="submit"]`)
			if got := waitText(t, a, "#signin-message", "无效"); !strings.Contains(got, "无效") {
				t.Errorf("a wrong token: message %q, want it refused", got)
			}
			shot(t, a, "edit-signin-refused.png")
			js(t, a, `document.getElementById('signin-token').value = ''`)
			a.do(t, chromedp.SendKeys(chromedp.ID("signin-token"), token))
			clickOn(t, a, `#signin-form button[type="submit"]`)
			waitJS(t, a, "signed in", `document.body.dataset.editor === 'yes' && !!document.getElementById('edit-panel')`)
			if eval[string](t, a, `sessionStorage.getItem('planmap-token')`) != token {
				t.Error("the token is not kept for the tab")
			}
			if eval[string](t, a, `localStorage.length + document.cookie`) != "0" {
				t.Error("the token went beyond the tab (localStorage or a cookie)")
			}
			// Only the layer the token covers is offered.
			if got := eval[string](t, a, `[...document.querySelectorAll('#edit-layer option')].map((o) => o.value).join(',')`); got != "resettlement" {
				t.Errorf("layers offered for drawing: %q, want resettlement only", got)
			}
		})

		before := itemCount(t, srv.URL, "resettlement")

		t.Run("SelfIntersectingRefused", func(t *testing.T) {
			drawPolygon(t, a, bowtie)
			fillRequired(t, a, "自交的地块")
			typeInto(t, a, "position_note", "test")
			clickOn(t, a, "#edit-save")
			waitJS(t, a, "the refusal on the shape", `!!document.querySelector('.pm-shape-error-tip')`)
			tip := eval[string](t, a, `document.querySelector('.pm-shape-error-tip').textContent`)
			if !strings.Contains(tip, "intersects itself") {
				t.Errorf("on the shape: %q, want the server's reason (ring intersects itself)", tip)
			}
			if got := eval[string](t, a, `document.getElementById('edit-f-name_zh').value`); got != "自交的地块" {
				t.Errorf("after the refusal the form holds %q: what was typed is lost", got)
			}
			shot(t, a, "edit-refused-shape.png")
			if n := itemCount(t, srv.URL, "resettlement"); n != before {
				t.Errorf("a refused shape was stored: %d features, had %d", n, before)
			}
			clickOn(t, a, "#edit-cancel")
			waitJS(t, a, "the form closes", `!document.getElementById('edit-box')`)
		})

		var fid int
		t.Run("DrawFillSave", func(t *testing.T) {
			drawPolygon(t, a, square)
			fillRequired(t, a, "新安置地块")
			typeInto(t, a, "source", "<img src=x onerror=alert(1)>")
			clickOn(t, a, "#edit-note")
			a.do(t, chromedp.SendKeys(chromedp.ID("edit-note"), "按 11 月批复新增 100%"))
			clickOn(t, a, "#edit-save")
			// position_note is required and left empty.
			waitJS(t, a, "the refusal at the field", `!!document.querySelector('#edit-f-position_note-error')`)
			msg := eval[string](t, a, `document.querySelector('#edit-f-position_note-error').textContent`)
			if !strings.Contains(msg, "position_note") {
				t.Errorf("at position_note: %q", msg)
			}
			if n := itemCount(t, srv.URL, "resettlement"); n != before {
				t.Errorf("a feature without a required value was stored: %d features, had %d", n, before)
			}
			if got := eval[string](t, a, `document.getElementById('edit-f-name_zh').value + '|' + document.getElementById('edit-note').value`); got != "新安置地块|按 11 月批复新增 100%" {
				t.Errorf("after the refusal the form holds %q", got)
			}
			shot(t, a, "edit-form-refused-field.png")
			// A hole, cut with the mouse inside the square.
			clickOn(t, a, "#edit-cut")
			waitJS(t, a, "cutting starts", `document.body.dataset.editing === 'cutting'`)
			hole := [][2]float64{{lat - 0.0002, lng - 0.0003}, {lat - 0.0002, lng + 0.0003}, {lat + 0.0002, lng}}
			for _, v := range hole {
				moveClickAt(t, a, v[0], v[1])
				time.Sleep(120 * time.Millisecond)
			}
			moveClickAt(t, a, hole[0][0], hole[0][1])
			waitJS(t, a, "the hole cut", `document.body.dataset.editing === 'new' && planmap.editing.geometry().coordinates.length === 2`)
			if got := eval[string](t, a, `document.getElementById('edit-f-name_zh').value`); got != "新安置地块" {
				t.Errorf("after cutting a hole the form holds %q", got)
			}
			typeInto(t, a, "position_note", "drawn in a test")
			clickOn(t, a, "#edit-save")
			waitJS(t, a, "saved", `!document.getElementById('edit-box')`)
			found := named(t, srv.URL, "resettlement", "新安置地块")
			if len(found) != 1 {
				t.Fatalf("the API has %d features named 新安置地块, want 1", len(found))
			}
			fid = int(found[0]["id"].(float64))
			p := found[0]["properties"].(map[string]any)
			if p["name_en"] != "Block <b>X</b>" || p["status"] != "planned" || p["source"] != "<img src=x onerror=alert(1)>" {
				t.Errorf("stored properties %v", p)
			}
			if g := found[0]["geometry"].(map[string]any); g["type"] != "MultiPolygon" || len(g["coordinates"].([]any)[0].([]any)) != 2 {
				t.Errorf("stored geometry %v, want a polygon with one hole", g)
			}
			vs := versionsOf(t, srv.URL, "resettlement", fid)
			if len(vs) != 1 || vs[0]["author"] != author || vs[0]["note"] != "按 11 月批复新增 100%" {
				t.Errorf("versions %v, want one by %s with the note", vs, author)
			}
			waitJS(t, a, "drawn on the map", fmt.Sprintf(`!!document.querySelector('path.pm-resettlement-%d')`, fid))
			waitJS(t, other, "seen by the other browser without a reload", fmt.Sprintf(`!!document.querySelector('path.pm-resettlement-%d')`, fid))
			if !eval[bool](t, other, `window.__sameDocument === true`) || eval[bool](t, other, `!!document.getElementById('edit-panel')`) {
				t.Error("the other browser reloaded, or shows editing tools without signing in")
			}
		})
		if fid == 0 {
			t.FailNow()
		}

		t.Run("OverlapRefused", func(t *testing.T) {
			// The layer's planning rules: blocks may not overlap. The other
			// block is named on the shape.
			n := itemCount(t, srv.URL, "resettlement")
			drawPolygon(t, a, [][2]float64{
				{lat - dLat/2, lng - dLng/2}, {lat - dLat/2, lng + 1.5*dLng}, {lat + 1.5*dLat, lng + 1.5*dLng}, {lat + 1.5*dLat, lng - dLng/2},
			})
			fillRequired(t, a, "重叠的地块")
			typeInto(t, a, "position_note", "overlaps on purpose")
			clickOn(t, a, "#edit-save")
			waitJS(t, a, "the refusal on the shape", `!!document.querySelector('.pm-shape-error-tip')`)
			tip := eval[string](t, a, `document.querySelector('.pm-shape-error-tip').textContent`)
			if !strings.Contains(tip, "overlaps") || !strings.Contains(tip, fmt.Sprint(fid)) {
				t.Errorf("on the shape: %q, want the overlap with block %d named", tip, fid)
			}
			shot(t, a, "edit-refused-overlap.png")
			if got := itemCount(t, srv.URL, "resettlement"); got != n {
				t.Errorf("an overlapping block was stored: %d features, had %d", got, n)
			}
			clickOn(t, a, "#edit-cancel")
			waitJS(t, a, "the form closes", `!document.getElementById('edit-box')`)
		})

		t.Run("SnapsToNeighbour", func(t *testing.T) {
			// A square east of the new block, its first two vertices clicked
			// a few pixels off the block's eastern corners: they land on them.
			near := func(lat, lng float64, dx, dy int) [2]float64 {
				ll := eval[[]float64](t, a, fmt.Sprintf(`(() => { const p = planmap.map.latLngToContainerPoint([%f, %f]).add([%d, %d]);
				const ll = planmap.map.containerPointToLatLng(p); return [ll.lat, ll.lng]; })()`, lat, lng, dx, dy))
				return [2]float64{ll[0], ll[1]}
			}
			clickOn(t, a, "#edit-draw")
			waitJS(t, a, "drawing starts", `document.body.dataset.editing === 'drawing'`)
			for _, v := range [][2]float64{
				near(lat-dLat, lng+dLng, 4, 3), near(lat+dLat, lng+dLng, 3, -4),
				{lat + dLat, lng + 2*dLng}, {lat - dLat, lng + 2*dLng},
			} {
				moveClickAt(t, a, v[0], v[1])
				time.Sleep(120 * time.Millisecond)
			}
			first := near(lat-dLat, lng+dLng, 4, 3)
			moveClickAt(t, a, first[0], first[1])
			waitJS(t, a, "the form opens", `!!document.querySelector('#edit-form #edit-f-name_zh')`)
			got := eval[[][]float64](t, a, `planmap.editing.geometry().coordinates[0]`)
			block := named(t, srv.URL, "resettlement", "新安置地块")[0]["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)
			corners := map[[2]float64]bool{}
			for _, c := range block {
				c := c.([]any)
				corners[[2]float64{c[0].(float64), c[1].(float64)}] = true
			}
			snapped := 0
			for _, c := range got {
				for k := range corners {
					if math.Abs(c[0]-k[0]) < 1e-7 && math.Abs(c[1]-k[1]) < 1e-7 {
						snapped++
					}
				}
			}
			if snapped < 2 {
				t.Errorf("drawn next to the block: %v; %d vertices on its corners %v, want 2", got, snapped, corners)
			}
			clickOn(t, a, "#edit-cancel")
			waitJS(t, a, "the form closes", `!document.getElementById('edit-box')`)
		})

		t.Run("Conflict412", func(t *testing.T) {
			clickAt(t, a, lat-0.0004, lng-0.0006) // on the block, not in its hole
			clickOn(t, a, ".pm-edit-feature")
			waitJS(t, a, "the form of the feature", `!!document.querySelector('#edit-form #edit-f-name_zh')`)
			// Another editor changes it meanwhile.
			putProperty(t, srv.URL, token, fid, "name_en", "Changed by someone else", "")
			typeInto(t, a, "name_zh", "我改的名字")
			clickOn(t, a, "#edit-save")
			waitJS(t, a, "the conflict shown", `!!document.getElementById('edit-conflict')`)
			rows := eval[string](t, a, `[...document.querySelectorAll('#edit-conflict tr.differs th')].map((e) => e.textContent).join('|')`)
			if !strings.Contains(rows, "名称") && !strings.Contains(rows, "name") {
				t.Errorf("rows shown as different: %q", rows)
			}
			text := eval[string](t, a, `document.getElementById('edit-conflict').textContent`)
			for _, want := range []string{"Changed by someone else", "我改的名字", author} {
				if !strings.Contains(text, want) {
					t.Errorf("the conflict does not show %q: %s", want, text)
				}
			}
			shot(t, a, "edit-conflict-412-zh.png")
			clickOn(t, a, "#conflict-overwrite")
			waitJS(t, a, "overwritten", `!document.getElementById('edit-box')`)
			got := named(t, srv.URL, "resettlement", "我改的名字")
			if len(got) != 1 || got[0]["properties"].(map[string]any)["name_en"] != "Block <b>X</b>" {
				t.Errorf("after overwriting: %v", got)
			}
		})

		t.Run("HistoryRestore", func(t *testing.T) {
			clickAt(t, a, lat-0.0004, lng-0.0006) // on the block, not in its hole
			clickOn(t, a, ".pm-history-toggle")
			waitJS(t, a, "the versions listed", `document.querySelectorAll('.pm-versions > li').length === 3`)
			text := eval[string](t, a, `document.querySelector('.pm-versions').textContent`)
			for _, want := range []string{author, "新建", "修改", "按 11 月批复新增 100%"} {
				if !strings.Contains(text, want) {
					t.Errorf("the history does not show %q: %s", want, text)
				}
			}
			if n := eval[int](t, a, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup b').length`); n != 0 {
				t.Error("feature text became markup in the popup")
			}
			shot(t, a, "edit-history-zh.png")
			clickOn(t, a, `.pm-versions li[data-version="1"] .pm-restore`)
			// The restore is the page's request: wait (patience, for a loaded
			// machine) for the API to show it; the checks below fail if not.
			deadline := time.Now().Add(patience)
			for len(named(t, srv.URL, "resettlement", "新安置地块")) != 1 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			vs := versionsOf(t, srv.URL, "resettlement", fid)
			if len(vs) != 4 || vs[0]["author"] != author || !strings.Contains(fmt.Sprint(vs[0]["note"]), "1") {
				t.Errorf("after restoring version 1: versions %v", vs)
			}
			if got := named(t, srv.URL, "resettlement", "新安置地块"); len(got) != 1 {
				t.Errorf("version 1 not restored")
			}
			waitJS(t, other, "the other browser follows", fmt.Sprintf(`(planmap.state.layers.get('resettlement').byId.get(%d) || {feature: {properties: {}}}).feature.properties.name_zh === '新安置地块'`, fid))
		})

		t.Run("English", func(t *testing.T) {
			// Reloaded in English: signed in again from the tab's token.
			a.do(t, chromedp.Navigate(page+"&lang=en"), chromedp.Reload())
			settle(t, a)
			// Signing in again checks the token with the server first: the
			// button says so once that has answered, not at once.
			waitJS(t, a, "signed in again from the tab's token", `document.body.dataset.editor === 'yes'`)
			if eval[string](t, a, `document.getElementById('signin-toggle').textContent`) != "Signed in" {
				t.Errorf("the key button in English: %q", eval[string](t, a, `document.getElementById('signin-toggle').textContent`))
			}
			clickAt(t, a, lat-0.0004, lng-0.0006) // on the block, not in its hole
			clickOn(t, a, ".pm-history-toggle")
			waitJS(t, a, "the versions listed", `document.querySelectorAll('.pm-versions > li').length === 4`)
			if text := eval[string](t, a, `document.querySelector('.pm-versions').textContent`); !strings.Contains(text, "restored version 1") && !strings.Contains(text, "恢复到版本 1") {
				t.Errorf("history in English: %s", text)
			}
			shot(t, a, "edit-history-en.png")
			clickOn(t, a, ".pm-edit-feature")
			waitJS(t, a, "the form", `!!document.querySelector('#edit-form #edit-f-name_zh')`)
			putProperty(t, srv.URL, token, fid, "status", "signed", "someone else's note")
			typeInto(t, a, "name_en", "Block Y")
			clickOn(t, a, "#edit-save")
			waitJS(t, a, "the conflict shown", `!!document.getElementById('edit-conflict')`)
			shot(t, a, "edit-conflict-412-en.png")
			clickOn(t, a, "#conflict-reload")
			waitJS(t, a, "the server's version in the form", `document.getElementById('edit-f-status').value === 'signed' && document.getElementById('edit-f-name_en').value === 'Block <b>X</b>'`)
			shot(t, a, "edit-form-en.png")
			clickOn(t, a, "#edit-delete")
			clickOn(t, a, "#delete-yes")
			// The shape being edited hides the feature's own: wait for the
			// delete's answer, not for the shape to go.
			waitJS(t, a, "deleted", `!document.getElementById('edit-box') && (document.getElementById('edit-notice') || {}).textContent.startsWith('Deleted')`)
			if eval[bool](t, a, fmt.Sprintf(`!!document.querySelector('path.pm-resettlement-%d')`, fid)) {
				t.Error("the deleted feature is still drawn")
			}
			if res, err := http.Get(fmt.Sprintf("%s/collections/resettlement/items/%d", srv.URL, fid)); err != nil || res.StatusCode != http.StatusGone {
				t.Errorf("after Delete: GET the feature = %v %v, want 410", res, err)
			}
			waitJS(t, other, "gone from the other browser", fmt.Sprintf(`!document.querySelector('path.pm-resettlement-%d')`, fid))
		})

		t.Run("SignOut", func(t *testing.T) {
			clickOn(t, a, "#signin-toggle")
			clickOn(t, a, "#signout")
			waitJS(t, a, "signed out", `document.body.dataset.editor === 'no'`)
			if eval[bool](t, a, `!!document.querySelector('#edit-panel, #edit-box') || sessionStorage.getItem('planmap-token') !== null`) {
				t.Error("after signing out, the tools or the token remain")
			}
		})

		for _, br := range []*browser{a, other} {
			_, problems := br.snapshot()
			for _, p := range problems {
				// The refusals the test asks for, logged by the browser.
				if strings.Contains(p, "status of 400") || strings.Contains(p, "status of 412") || strings.Contains(p, "status of 422") {
					continue
				}
				t.Errorf("browser problem: %s", p)
			}
		}
	})
}

// putProperty changes one property of a feature through the API, as another
// editor would.
func putProperty(t *testing.T, base, token string, fid int, key, value, note string) {
	t.Helper()
	url := fmt.Sprintf("%s/collections/resettlement/items/%d", base, fid)
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	json.NewDecoder(res.Body).Decode(&f)
	res.Body.Close()
	f["properties"].(map[string]any)[key] = value
	body, _ := json.Marshal(f)
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/geo+json")
	req.Header.Set("If-Match", res.Header.Get("ETag"))
	if note != "" {
		req.Header.Set("Planmap-Note", note)
	}
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(res.Body)
		t.Fatalf("PUT %s = %d %s", url, res.StatusCode, msg)
	}
}
