package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// A token pasted with invisible characters around it (a zero-width space,
// a byte-order mark, a space) signs in, and an edit saves: the map sends
// the key without them, where the browser would refuse the request (a
// header holds no such character) before sending it.
func TestWebMapEditSignInWithInvisibleCharacters(t *testing.T) {
	onEachLoaded(t, testFiles, func(t *testing.T, store loadedStore) {
		srv, token := mapEditServer(t, store, "王工", "resettlement")
		const lat, lng = 32.010, 121.510 // empty land inside the district
		onlyBoundaryAt(t, srv.URL, lat, lng)
		b := newBrowser(t, 1280, 860)
		b.do(t, chromedp.Navigate(fmt.Sprintf("%s/#map=17/%f/%f&layers=boundary,resettlement", srv.URL, lat, lng)))
		settle(t, b)
		waitJS(t, b, "editing ready", `document.body.dataset.editReady === '1'`)

		pasted := "\u200b" + token + "\ufeff "
		clickOn(t, b, "#signin-toggle")
		clickOn(t, b, "#signin-token")
		// Pasted: inserted as text, as a paste is, not typed key by key (no
		// key types a zero-width space).
		if _, err := chromedp.Call(b.ctx, input.InsertText, input.InsertTextParams{Text: pasted}); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, b, `document.getElementById('signin-token').value`); got != pasted {
			t.Fatalf("test premise: the sign-in box holds %q, want %q", got, pasted)
		}
		clickOn(t, b, `#signin-form button[type="submit"]`)
		waitJS(t, b, "signed in, or refused", `document.body.dataset.editor === 'yes' || !!(document.getElementById('signin-message') || {}).textContent`)
		if msg := eval[string](t, b, `(document.getElementById('signin-message') || {}).textContent || ''`); msg != "" {
			t.Fatalf("signing in with a token pasted with invisible characters: %q, want signed in", msg)
		}
		waitJS(t, b, "signed in", `document.body.dataset.editor === 'yes' && !!document.getElementById('edit-panel')`)
		if got := eval[string](t, b, `sessionStorage.getItem('planmap-token')`); got != token {
			t.Errorf("token kept for the tab: %q, want %q", got, token)
		}

		before := itemCount(t, srv.URL, "resettlement")
		const dLat, dLng = 0.0006, 0.0009 // about 2 ha: the layer asks for at least 1
		drawPolygon(t, b, [][2]float64{{lat - dLat, lng - dLng}, {lat - dLat, lng + dLng}, {lat + dLat, lng + dLng}, {lat + dLat, lng - dLng}})
		fillRequired(t, b, "粘贴密钥的地块")
		typeInto(t, b, "position_note", "test")
		clickOn(t, b, "#edit-save")
		waitJS(t, b, "the form closes, saved", `!document.getElementById('edit-box')`)
		shot(t, b, "edit-signin-invisible-saved.png")
		if n := itemCount(t, srv.URL, "resettlement"); n != before+1 {
			t.Errorf("after saving with the pasted token: %d features, want %d", n, before+1)
		}
		if got := named(t, srv.URL, "resettlement", "粘贴密钥的地块"); len(got) != 1 {
			t.Errorf("features named 粘贴密钥的地块: %d, want the one saved", len(got))
		}
		_, problems := b.snapshot()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}
