package web_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"testing"

	"planmap/web"
)

// getHost is get with the request's Host set to host.
func getHost(t *testing.T, url, host string, header ...string) response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res, body}
}

func TestAllowedHosts(t *testing.T) {
	t.Run("ErrUnknownHost", func(t *testing.T) {
		srv, _ := newServer(t, web.Options{})
		for _, accept := range []string{"application/json", "text/html"} {
			r := getHost(t, srv.URL+"/", "evil.example", "Accept", accept)
			if r.StatusCode != http.StatusMisdirectedRequest || bytes.Contains(r.body, []byte("//evil.example")) {
				t.Errorf("GET / with Host evil.example, Accept %s = %d, want 421 with no link there:\n%s", accept, r.StatusCode, r.body)
			}
		}
		r := getHost(t, srv.URL+"/collections", "evil.example:8080")
		if r.Header.Get("Content-Type") != "application/problem+json" || !bytes.Contains(r.body, []byte("--base-url")) || !bytes.Contains(r.body, []byte("--allowed-hosts")) {
			t.Errorf("GET /collections with Host evil.example:8080 = %d %s, want a problem naming --base-url and --allowed-hosts:\n%s",
				r.StatusCode, r.Header.Get("Content-Type"), r.body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		srv, _ := newServer(t, web.Options{})
		for _, host := range []string{"LocalHost:9999", "localhost.", "127.0.0.1:1", "[::1]:8080"} {
			r := getHost(t, srv.URL+"/collections", host)
			want := "http://" + host + "/collections"
			if r.StatusCode != 200 || links(t, r.json(t))["self"][0]["href"] != want+"?f=json" {
				t.Errorf("GET /collections with Host %s = %d, want 200 linking to %s: %s", host, r.StatusCode, want, r.body)
			}
		}
	})
	// What the default admits beyond loopback, and that a list replaces it.
	for _, c := range []struct {
		name     string
		opt      web.Options
		allowed  []string
		refused  []string
		selfLink string
	}{
		{name: "BaseURLHost", opt: web.Options{BaseURL: "https://Maps.Example.cn/haimen/"},
			allowed: []string{"maps.example.cn", "MAPS.example.cn:443"}, refused: []string{"example.cn", "evil.example"},
			selfLink: "https://Maps.Example.cn/haimen/collections?f=json"},
		{name: "ListenAddress", opt: web.Options{ListenAddr: "192.0.2.7:8080"},
			allowed: []string{"192.0.2.7:8080", "192.0.2.7:80"}, refused: []string{"192.0.2.8:8080"}},
		{name: "List", opt: web.Options{AllowedHosts: []string{"plan.example", "  Other.example:8080"}},
			allowed: []string{"plan.example", "other.example"}, refused: []string{"localhost", "127.0.0.1"}},
		{name: "Any", opt: web.Options{AllowedHosts: []string{"*"}}, allowed: []string{"evil.example"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := newServer(t, c.opt)
			for _, host := range c.allowed {
				r := getHost(t, srv.URL+"/collections", host)
				if r.StatusCode != 200 {
					t.Errorf("GET /collections with Host %s = %d, want 200", host, r.StatusCode)
				} else if c.selfLink != "" && links(t, r.json(t))["self"][0]["href"] != c.selfLink {
					t.Errorf("with Host %s the self link is %v, want %s", host, links(t, r.json(t))["self"], c.selfLink)
				}
			}
			for _, host := range c.refused {
				if r := getHost(t, srv.URL+"/collections", host); r.StatusCode != http.StatusMisdirectedRequest {
					t.Errorf("GET /collections with Host %s = %d, want 421", host, r.StatusCode)
				}
			}
		})
	}
	t.Run("WildcardListenAddress", func(t *testing.T) {
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := newServer(t, web.Options{ListenAddr: "[::]:8080"})
		for _, a := range addrs {
			ip := a.(*net.IPNet).IP
			host := net.JoinHostPort(ip.String(), "8080")
			if r := getHost(t, srv.URL+"/healthz", host); r.StatusCode != 200 {
				t.Errorf("listening on [::]:8080, GET /healthz with Host %s (an address of this machine) = %d, want 200", host, r.StatusCode)
			}
		}
		if r := getHost(t, srv.URL+"/healthz", "192.0.2.200:8080"); r.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("listening on [::]:8080, GET /healthz with Host 192.0.2.200:8080 = %d, want 421", r.StatusCode)
		}
	})
}

// Pages load their scripts, styles and the API by path, so that neither a
// Host header nor the base URL's host reaches them, and a proxy may serve
// planmap under a prefix.
func TestPagesLinkByPath(t *testing.T) {
	for _, c := range []struct {
		name, baseURL, prefix string
	}{
		{"Root", "", ""},
		{"Prefix", "https://maps.example.cn/haimen/", "/haimen"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := newServer(t, web.Options{BaseURL: c.baseURL})
			r := getHost(t, srv.URL+"/", "localhost:7777", "Accept", "text/html")
			// The files by their content-hashed names (static.go).
			p := regexp.QuoteMeta(c.prefix)
			for _, want := range []string{
				`<script src="` + p + `/static/vendor/leaflet/leaflet\.[0-9a-f]{10}\.js">`,
				`<script type="module" src="` + p + `/static/app\.[0-9a-f]{10}\.js">`,
				`<link rel="stylesheet" href="` + p + `/static/style\.[0-9a-f]{10}\.css">`,
				regexp.QuoteMeta(`id="config">{"base":"` + c.prefix + `",`),
			} {
				if !regexp.MustCompile(want).Match(r.body) {
					t.Errorf("the map page lacks %s:\n%s", want, r.body)
				}
			}
			for _, m := range regexp.MustCompile(`(?:src|href)="[^"]*/static/[^"]*"`).FindAll(r.body, -1) {
				if bytes.Contains(m, []byte("//")) {
					t.Errorf("the map page loads %s through a host", m)
				}
			}
			r = getHost(t, srv.URL+"/collections/nope?f=html", "localhost:7777")
			if !bytes.Contains(r.body, []byte(`<a href="`+c.prefix+`/collections?f=html">`)) || bytes.Contains(r.body, []byte("localhost:7777")) {
				t.Errorf("the error page does not link from %s/ by path:\n%s", c.prefix, r.body)
			}
		})
	}
}
