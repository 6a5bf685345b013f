package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/web"
)

// authServer is the real router over a real store with tokens, served
// over plain HTTP, or TLS with tlsServer. Where the router has no route
// yet for a write (the write handlers come with the writeapi branch), the
// test routes one that answers 501, so that Allow, which lists only the
// methods the router routes, has the writes to list.
type authServer struct {
	*httptest.Server
	store   cache.Store
	handler http.Handler
	logs    *layerstest.SyncBuffer
	tokens  map[string]string // by name: "parks" (editor of parks), "terminals", "admin", "revoked"
}

func newAuthServer(t *testing.T, opt web.Options, tlsServer bool) *authServer {
	t.Helper()
	return newAuthServerOn(t, newStore(t), opt, tlsServer)
}

// newAuthServerOn is newAuthServer on the store s.
func newAuthServerOn(t *testing.T, s cache.Store, opt web.Options, tlsServer bool) *authServer {
	t.Helper()
	ts := s.(interface {
		tokenStore
		RevokeToken(ctx context.Context, name string) error
	})
	tokens := map[string]string{}
	for _, c := range []struct {
		name   string
		role   layers.Role
		layers []string
	}{
		{"parks", layers.RoleEditor, []string{"parks"}},
		{"terminals", layers.RoleEditor, []string{"terminals"}},
		{"admin", layers.RoleAdmin, nil},
		{"revoked", layers.RoleAdmin, nil},
	} {
		tok, err := ts.AddToken(ctx, c.name, c.role, c.layers)
		if err != nil {
			t.Fatal(err)
		}
		tokens[c.name] = tok
	}
	if err := ts.RevokeToken(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	opt.Tokens = ts
	if opt.Downloads == nil {
		opt.Downloads = newCache(t, web.DefaultDownloadBudget)
	}
	logs := &layerstest.SyncBuffer{}
	h := web.NewRouter(s, opt, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	mux := h.(*chi.Mux)
	for _, w := range []struct{ method, path, sample string }{
		{"POST", "/collections", "/collections"},
		{"PUT", "/collections/{collectionId}", "/collections/parks"},
		{"DELETE", "/collections/{collectionId}", "/collections/parks"},
		{"POST", "/collections/{collectionId}/items", "/collections/parks/items"},
		{"PUT", "/collections/{collectionId}/items/{featureId}", "/collections/parks/items/1"},
		{"PATCH", "/collections/{collectionId}/items/{featureId}", "/collections/parks/items/1"},
		{"DELETE", "/collections/{collectionId}/items/{featureId}", "/collections/parks/items/1"},
	} {
		if !mux.Match(chi.NewRouteContext(), w.method, w.sample) {
			mux.MethodFunc(w.method, w.path, func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "no write handler on this branch", http.StatusNotImplemented)
			})
		}
	}
	srv := httptest.NewUnstartedServer(h)
	if tlsServer {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &authServer{Server: srv, store: s, handler: h, logs: logs, tokens: tokens}
}

// do sends method to path with the token of name ("" for none) and the
// headers given, and returns the response with its body read.
func (s *authServer) do(t *testing.T, method, path, name string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if name != "" {
		tok, ok := s.tokens[name]
		if !ok {
			tok = name // a token that is no one's
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res, body}
}

const (
	readOnly  = "GET, HEAD, OPTIONS"
	itemsEdit = "GET, HEAD, OPTIONS, POST"
	itemEdit  = "GET, HEAD, OPTIONS, PUT, PATCH, DELETE"
)

func TestOptionsAllow(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			srv := newAuthServerOn(t, st.open(t), web.Options{}, false)
			for _, c := range []struct {
				name, token, path string
				want              string // Allow; "" for 404
			}{
				{"Anonymous/Items", "", "/collections/parks/items", readOnly},
				{"Anonymous/Item", "", "/collections/parks/items/1", readOnly},
				{"Anonymous/Collections", "", "/collections", readOnly},
				{"Anonymous/Landing", "", "/", readOnly},
				{"Anonymous/Static", "", "/static/app.js", readOnly},
				{"OtherLayer/Items", "terminals", "/collections/parks/items", readOnly},
				{"OtherLayer/Item", "terminals", "/collections/parks/items/1", readOnly},
				{"Editor/Items", "parks", "/collections/parks/items", itemsEdit},
				{"Editor/Item", "parks", "/collections/parks/items/1", itemEdit},
				// PUT brings a deleted feature back under its id: any id is a
				// resource one may PUT.
				{"Editor/ItemNeverSeen", "parks", "/collections/parks/items/999999", itemEdit},
				{"Editor/Sheet", "parks", "/collections/parks/items/1/sheet", readOnly},
				{"Editor/Collection", "parks", "/collections/parks", readOnly},
				{"Editor/Collections", "parks", "/collections", readOnly},
				{"Admin/Collections", "admin", "/collections", "GET, HEAD, OPTIONS, POST"},
				{"Admin/Collection", "admin", "/collections/parks", "GET, HEAD, OPTIONS, PUT, DELETE"},
				{"Admin/Items", "admin", "/collections/terminals/items", itemsEdit},
				{"Admin/Item", "admin", "/collections/terminals/items/1", itemEdit},
				{"Admin/Conformance", "admin", "/conformance", readOnly},
				{"Admin/Queryables", "admin", "/collections/parks/queryables", readOnly},
				{"Revoked", "revoked", "/collections", readOnly},
				{"UnknownToken", "planmap_" + strings.Repeat("A", 43), "/collections/parks/items", readOnly},
				{"ErrNoCollection", "admin", "/collections/nosuch/items", ""},
				{"ErrNoCollectionAnonymous", "", "/collections/nosuch", ""},
				{"ErrNoPath", "", "/nowhere", ""},
			} {
				t.Run(c.name, func(t *testing.T) {
					r := srv.do(t, "OPTIONS", c.path, c.token)
					if c.want == "" {
						if r.StatusCode != 404 {
							t.Errorf("OPTIONS %s = %d, Allow %q; want 404", c.path, r.StatusCode, r.Header.Get("Allow"))
						}
						return
					}
					if r.StatusCode != 200 || r.Header.Get("Allow") != c.want || len(r.body) != 0 {
						t.Errorf("OPTIONS %s as %q = %d, Allow %q, %d bytes; want 200, Allow %q, no body", c.path, c.token, r.StatusCode, r.Header.Get("Allow"), len(r.body), c.want)
					}
					if strings.Contains(c.want, "PATCH") != (r.Header.Get("Accept-Patch") == "application/merge-patch+json") {
						t.Errorf("OPTIONS %s: Accept-Patch %q with Allow %q", c.path, r.Header.Get("Accept-Patch"), c.want)
					}
					if !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Authorization") {
						t.Errorf("OPTIONS %s: Vary %q, want Authorization in it", c.path, r.Header.Values("Vary"))
					}
				})
			}

			// A 405 lists what the same caller's OPTIONS lists.
			t.Run("MethodNotAllowed", func(t *testing.T) {
				for _, c := range []struct{ method, token, path string }{
					{"PATCH", "", "/collections/parks/items"},
					{"PATCH", "parks", "/collections/parks/items"},
					{"POST", "admin", "/collections/parks/items/1"},
					{"PATCH", "admin", "/collections"},
					{"DELETE", "parks", "/conformance"},
				} {
					r := srv.do(t, c.method, c.path, c.token)
					o := srv.do(t, "OPTIONS", c.path, c.token)
					if r.StatusCode != 405 || r.Header.Get("Allow") != o.Header.Get("Allow") || r.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("%s %s as %q = %d, Allow %q (OPTIONS: %q), %s; want a 405 problem with OPTIONS' Allow", c.method, c.path, c.token, r.StatusCode, r.Header.Get("Allow"), o.Header.Get("Allow"), r.Header.Get("Content-Type"))
					}
				}
				if r := srv.do(t, "PATCH", "/collections/nosuch", "admin"); r.StatusCode != 404 {
					t.Errorf("PATCH /collections/nosuch = %d, want 404", r.StatusCode)
				}
			})
		})
	}
}

// The token counts in Allow only when it came over a connection that
// others could not read (see TestAuthorize for every case).
func TestOptionsTransport(t *testing.T) {
	const items = "/collections/parks/items"
	t.Run("OK/Loopback", func(t *testing.T) {
		srv := newAuthServer(t, web.Options{}, false)
		if got := srv.do(t, "OPTIONS", items, "parks").Header.Get("Allow"); got != itemsEdit {
			t.Errorf("OPTIONS over plain HTTP from loopback: Allow %q, want %q", got, itemsEdit)
		}
	})
	t.Run("OK/TLS", func(t *testing.T) {
		srv := newAuthServer(t, web.Options{}, true)
		if !strings.HasPrefix(srv.URL, "https://") {
			t.Fatalf("the test server is at %s", srv.URL)
		}
		// Through a proxy that says so, and with no https base URL: over
		// TLS, nothing else matters.
		r := srv.do(t, "OPTIONS", items, "parks", "X-Forwarded-For", "192.0.2.7", "X-Forwarded-Proto", "http")
		if got := r.Header.Get("Allow"); got != itemsEdit {
			t.Errorf("OPTIONS over TLS: Allow %q, want %q", got, itemsEdit)
		}
	})
	proxied := []string{"X-Forwarded-For", "192.0.2.7", "X-Forwarded-Proto", "https"}
	t.Run("ErrProxyHTTPBaseURL", func(t *testing.T) {
		srv := newAuthServer(t, web.Options{}, false)
		if got := srv.do(t, "OPTIONS", items, "parks", proxied...).Header.Get("Allow"); got != readOnly {
			t.Errorf("OPTIONS through a proxy without an https base URL: Allow %q, want %q", got, readOnly)
		}
		if !strings.Contains(srv.logs.String(), "token_name=parks") {
			t.Errorf("the log does not name the token refused:\n%s", srv.logs)
		}
	})
	t.Run("OK/ProxyHTTPSBaseURL", func(t *testing.T) {
		srv := newAuthServer(t, web.Options{AllowedHosts: []string{"*"}, BaseURL: "https://plan.example"}, false)
		if got := srv.do(t, "OPTIONS", items, "parks", proxied...).Header.Get("Allow"); got != itemsEdit {
			t.Errorf("OPTIONS through a proxy with an https base URL: Allow %q, want %q", got, itemsEdit)
		}
	})

	// Another machine: set RemoteAddr on a request served by the handler
	// itself.
	remote := func(srv *authServer) *httptest.ResponseRecorder {
		r := httptest.NewRequest("OPTIONS", "http://127.0.0.1:8080"+items, nil)
		r.RemoteAddr = "192.0.2.7:50000"
		r.Header.Set("Authorization", "Bearer "+srv.tokens["parks"])
		w := httptest.NewRecorder()
		srv.handler.ServeHTTP(w, r)
		return w
	}
	t.Run("ErrRemotePlainHTTP", func(t *testing.T) {
		srv := newAuthServer(t, web.Options{BaseURL: "https://plan.example", AllowedHosts: []string{"*"}}, false)
		w := remote(srv)
		if w.Code != 200 || w.Header().Get("Allow") != readOnly {
			t.Errorf("OPTIONS over plain HTTP from 192.0.2.7 = %d, Allow %q; want 200, %q", w.Code, w.Header().Get("Allow"), readOnly)
		}
		if logs := srv.logs.String(); !strings.Contains(logs, "revoke it") || !strings.Contains(logs, "token_name=parks") || strings.Contains(logs, srv.tokens["parks"]) {
			t.Errorf("the log should name the token sent in clear, never show it:\n%s", logs)
		}
	})
	t.Run("OK/RemoteWithFlag", func(t *testing.T) {
		srv := newAuthServer(t, web.Options{AllowPlainHTTPTokens: true, AllowedHosts: []string{"*"}}, false)
		if w := remote(srv); w.Header().Get("Allow") != itemsEdit {
			t.Errorf("OPTIONS from 192.0.2.7 with AllowPlainHTTPTokens: Allow %q, want %q", w.Header().Get("Allow"), itemsEdit)
		}
	})
}

// A preflight carries no credentials: its answer is everyone's, whatever
// Authorization it has.
func TestPreflight(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			srv := newAuthServerOn(t, st.open(t), web.Options{}, false)
			pre := []string{"Origin", "https://elsewhere.example", "Access-Control-Request-Method", "PATCH",
				"Access-Control-Request-Headers", "authorization, content-type, if-match"}
			for _, path := range []string{"/collections/parks/items/1", "/collections", "/nowhere"} {
				anon := srv.do(t, "OPTIONS", path, "", pre...)
				for _, tok := range []string{"admin", "parks", "planmap_bogus"} {
					with := srv.do(t, "OPTIONS", path, tok, pre...)
					with.Header.Del("Date")
					anon.Header.Del("Date")
					if !equalHeaders(anon.Header, with.Header) || with.StatusCode != anon.StatusCode || string(with.body) != string(anon.body) {
						t.Errorf("preflight of %s with %s's token:\n%d %v\nwithout a token:\n%d %v", path, tok, with.StatusCode, with.Header, anon.StatusCode, anon.Header)
					}
				}
				h := anon.Header
				if anon.StatusCode != 200 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Max-Age") == "" {
					t.Errorf("preflight of %s = %d %v", path, anon.StatusCode, h)
				}
				for _, want := range []string{"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"} {
					if !listHas(h.Get("Access-Control-Allow-Methods"), want) {
						t.Errorf("preflight: Access-Control-Allow-Methods %q lacks %s", h.Get("Access-Control-Allow-Methods"), want)
					}
				}
				for _, want := range []string{"Authorization", "If-Match", "Content-Crs", "Content-Type", "Planmap-Note"} {
					if !listHas(h.Get("Access-Control-Allow-Headers"), want) {
						t.Errorf("preflight: Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
					}
				}
			}
			// Every answer exposes what a script needs to edit.
			r := srv.do(t, "GET", "/collections/parks/items/1", "", "Origin", "https://elsewhere.example")
			for _, want := range []string{"ETag", "Location"} {
				if !listHas(r.Header.Get("Access-Control-Expose-Headers"), want) {
					t.Errorf("Access-Control-Expose-Headers %q lacks %s", r.Header.Get("Access-Control-Expose-Headers"), want)
				}
			}
		})
	}
}

func listHas(list, name string) bool {
	for _, v := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(v), name) {
			return true
		}
	}
	return false
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// Tokens never reach the log, whatever carries them, nor an answer.
func TestTokensNotLogged(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			srv := newAuthServerOn(t, st.open(t), web.Options{}, false)
			tok := srv.tokens["admin"]
			var bodies strings.Builder
			for _, c := range []struct {
				method, path string
				inURL        bool // the client put the token in the URL too, and may see it quoted back
			}{
				{"GET", "/collections/parks/items?limit=1", false},
				{"OPTIONS", "/collections/parks/items", false},
				{"PATCH", "/collections", false},
				{"POST", "/collections/parks/items", false},
				{"GET", "/collections/nosuch/items", false},
				{"GET", "/collections/parks/items?access_token=" + tok, true},
				{"GET", "/collections/" + tok, true},
				{"GET", "/collections/parks/items?" + tok + "=1", true},
			} {
				for _, header := range [][]string{nil, {"X-Forwarded-For", "192.0.2.7"}} {
					r := srv.do(t, c.method, c.path, "admin", header...)
					if c.inURL {
						continue
					}
					bodies.Write(r.body)
					for k, v := range r.Header {
						bodies.WriteString(k + ": " + strings.Join(v, ", ") + "\n")
					}
				}
			}
			// Another machine over plain HTTP: refused, and logged by name.
			r := httptest.NewRequest("OPTIONS", "http://127.0.0.1:8080/collections", nil)
			r.RemoteAddr = "192.0.2.7:50000"
			r.Header.Set("Authorization", "Bearer "+tok)
			srv.handler.ServeHTTP(httptest.NewRecorder(), r)

			logs := srv.logs.String()
			if !strings.Contains(logs, "msg=request") || !strings.Contains(logs, "token_name=admin") {
				t.Fatalf("the log has not seen the requests:\n%s", logs)
			}
			secret := strings.TrimPrefix(tok, layers.TokenPrefix)
			if strings.Contains(logs, secret[:16]) {
				t.Errorf("the token is in the log:\n%s", logs)
			}
			if strings.Contains(bodies.String(), secret[:16]) {
				t.Errorf("the token is in an answer:\n%s", bodies.String())
			}
		})
	}
}

// A token revoked by another process (planmap token revoke) counts for
// nothing from the server's next request on.
func TestRevokedAtOnce(t *testing.T) {
	srv := newAuthServer(t, web.Options{}, false)
	const items = "/collections/parks/items"
	if got := srv.do(t, "OPTIONS", items, "parks").Header.Get("Allow"); got != itemsEdit {
		t.Fatalf("OPTIONS before the revocation: Allow %q, want %q", got, itemsEdit)
	}
	other, err := gpkg.Open(ctx, srv.store.(*gpkg.Store).Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.RevokeToken(ctx, "parks"); err != nil {
		t.Fatal(err)
	}
	if got := srv.do(t, "OPTIONS", items, "parks").Header.Get("Allow"); got != readOnly {
		t.Errorf("OPTIONS right after the revocation: Allow %q, want %q", got, readOnly)
	}
}
