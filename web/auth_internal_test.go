package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// authorize decides alone, before any write handler runs: who the token
// speaks for, what it covers, and whether it came over a connection
// others could read.
func TestAuthorize(t *testing.T) {
	ctx := context.Background()
	store := layerstest.MustOpen(t)
	files, err := layers.ReadFiles([]string{"../seeds/parks.geojson", "../seeds/terminals.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	editor, err := store.AddToken(ctx, "ed", layers.RoleEditor, []string{"parks"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := store.AddToken(ctx, "boss", layers.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := store.AddToken(ctx, "gone", layers.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RevokeToken(ctx, "gone"); err != nil {
		t.Fatal(err)
	}

	const local, remote = "127.0.0.1:50000", "192.0.2.7:50000"
	type req struct {
		token, remote, host string
		tls                 bool
		header              []string
	}
	for _, c := range []struct {
		name   string
		opt    Options
		req    req
		layer  string
		admin  bool
		status int    // 0: allowed
		say    string // in the refusal
	}{
		{name: "OK/EditorLoopback", req: req{token: editor, remote: local}, layer: "parks"},
		{name: "OK/EditorLoopbackIPv6", req: req{token: editor, remote: "[::1]:50000", host: "[::1]:8080"}, layer: "parks"},
		{name: "OK/EditorLocalhostName", req: req{token: editor, remote: "127.0.0.2:50000", host: "localhost:8080"}, layer: "parks"},
		{name: "OK/AdminLayers", req: req{token: admin, remote: local}, admin: true},
		{name: "OK/AdminFeatures", req: req{token: admin, remote: local}, layer: "terminals"},
		{name: "OK/TLSFromAnywhere", req: req{token: editor, remote: remote, tls: true, host: "plan.example"}, layer: "parks"},
		{name: "OK/FlagFromAnywhere", opt: Options{AllowPlainHTTPTokens: true}, req: req{token: editor, remote: remote, host: "plan.example"}, layer: "parks"},
		{name: "OK/HTTPSProxyOnLoopback", opt: Options{BaseURL: "https://plan.example"},
			req: req{token: editor, remote: local, host: "plan.example", header: []string{"X-Forwarded-For", "192.0.2.7", "X-Forwarded-Proto", "https"}}, layer: "parks"},
		{name: "OK/HTTPSProxyWithoutHeaders", opt: Options{BaseURL: "https://plan.example"}, req: req{token: editor, remote: local, host: "127.0.0.1:8080"}, layer: "parks"},
		{name: "OK/ForwardedProtoHTTPS", opt: Options{BaseURL: "https://plan.example"},
			req: req{token: editor, remote: local, header: []string{"Forwarded", `for=192.0.2.7;proto="https";host=plan.example`}}, layer: "parks"},

		{name: "ErrNoToken", req: req{remote: local}, layer: "parks", status: 401, say: "needs a token"},
		{name: "ErrNotBearer", req: req{remote: local, header: []string{"Authorization", "Basic " + editor}}, layer: "parks", status: 401, say: "needs a token"},
		{name: "ErrUnknownToken", req: req{token: editor + "x", remote: local}, layer: "parks", status: 401, say: "not valid"},
		{name: "ErrRevokedToken", req: req{token: revoked, remote: local}, admin: true, status: 401, say: "not valid"},
		{name: "ErrOtherLayer", req: req{token: editor, remote: local}, layer: "terminals", status: 403, say: "may not edit layer terminals"},
		{name: "ErrEditorAdmin", req: req{token: editor, remote: local}, admin: true, status: 403, say: "admin token"},
		{name: "ErrPlainHTTPRemote", req: req{token: admin, remote: remote, host: "plan.example"}, admin: true, status: 403, say: "plain HTTP from another machine"},
		{name: "ErrPlainHTTPRemoteHTTPSBase", opt: Options{BaseURL: "https://plan.example"}, req: req{token: admin, remote: remote, host: "plan.example"}, admin: true, status: 403, say: "another machine"},
		{name: "ErrProxyHTTPBase", opt: Options{BaseURL: "http://plan.example"},
			req: req{token: editor, remote: local, host: "plan.example", header: []string{"X-Forwarded-For", "192.0.2.7"}}, layer: "parks", status: 403, say: "through a proxy"},
		{name: "ErrProxyNoBase", req: req{token: editor, remote: local, header: []string{"X-Real-IP", "192.0.2.7"}}, layer: "parks", status: 403, say: "through a proxy"},
		{name: "ErrProxyByHost", req: req{token: editor, remote: local, host: "plan.example"}, layer: "parks", status: 403, say: "through a proxy"},
		{name: "ErrProxySaysHTTP", opt: Options{BaseURL: "https://plan.example"},
			req: req{token: editor, remote: local, host: "plan.example", header: []string{"X-Forwarded-Proto", "http"}}, layer: "parks", status: 403, say: "came to it over http"},
		{name: "ErrForwardedSaysHTTP", opt: Options{BaseURL: "https://plan.example"},
			req: req{token: editor, remote: local, header: []string{"Forwarded", "for=192.0.2.7;proto=http"}}, layer: "parks", status: 403, say: "came to it over http"},
		// The transport is refused before the token is looked at: a bad
		// token over plain HTTP learns nothing of whether it is valid.
		{name: "ErrPlainHTTPBadToken", req: req{token: "planmap_guess", remote: remote, host: "plan.example"}, layer: "parks", status: 403, say: "another machine"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs layerstest.SyncBuffer
			c.opt.Tokens = store
			s := &server{opt: c.opt, log: slog.New(slog.NewTextHandler(&logs, nil))}
			r := httptest.NewRequest("POST", "http://127.0.0.1:8080/collections/x/items", nil)
			r.RemoteAddr = c.req.remote
			if c.req.host != "" {
				r.Host = c.req.host
			}
			if c.req.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if c.req.token != "" {
				r.Header.Set("Authorization", "Bearer "+c.req.token)
			}
			for i := 0; i+1 < len(c.req.header); i += 2 {
				r.Header.Set(c.req.header[i], c.req.header[i+1])
			}
			p, err := s.authorize(r, c.layer, c.admin)
			if c.status == 0 {
				if err != nil || p == nil {
					t.Fatalf("authorize = %+v, %v; want allowed", p, err)
				}
				return
			}
			if p != nil || err == nil {
				t.Fatalf("authorize = %+v, %v; want refused with %d", p, err, c.status)
			}
			w := httptest.NewRecorder()
			s.writeError(w, r, err)
			var problem struct {
				Status int
				Detail string
			}
			json.Unmarshal(w.Body.Bytes(), &problem)
			if w.Code != c.status || problem.Status != c.status || !strings.Contains(problem.Detail, c.say) {
				t.Errorf("refusal = %d %s, want %d saying %q", w.Code, w.Body, c.status, c.say)
			}
			if got := w.Header().Get("WWW-Authenticate"); (c.status == 401) != strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q with %d", got, c.status)
			}
			for _, tok := range []string{editor, admin, revoked, "planmap_guess"} {
				if strings.Contains(w.Body.String(), tok) || strings.Contains(logs.String(), tok) {
					t.Errorf("a token is in the answer or the log:\n%s\n%s", w.Body, logs.String())
				}
			}
			if c.status == 403 && strings.Contains(c.say, "another machine") && !strings.Contains(logs.String(), "revoke it") {
				t.Errorf("the log does not tell the operator to revoke a token sent in clear:\n%s", logs.String())
			}
			if c.name == "ErrPlainHTTPRemote" && !strings.Contains(logs.String(), "token_name=boss") {
				t.Errorf("the log does not name the token sent in clear:\n%s", logs.String())
			}
		})
	}
}

func TestRedactTokens(t *testing.T) {
	tok := layers.NewToken()
	for _, c := range []struct{ in, want string }{
		{"/collections/parks/items?limit=5", "/collections/parks/items?limit=5"},
		{"/collections/planmap_layers", "/collections/planmap_layers"},
		{"/x?access_token=" + tok + "&limit=5", "/x?access_token=REDACTED&limit=5"},
		{"/x?ACCESS_TOKEN=abc", "/x?ACCESS_TOKEN=REDACTED"},
		{"/collections/" + tok, "/collections/planmap_REDACTED"},
		{"/x?q=" + tok[:30], "/x?q=planmap_REDACTED"},
	} {
		if got := redactTokens(c.in); got != c.want {
			t.Errorf("redactTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
