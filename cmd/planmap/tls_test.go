package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 named cn and
// its key into dir, and returns the files and a pool that trusts it.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serve --tls-cert/--tls-key serves HTTPS, where a token counts even
// through a proxy; over plain HTTP the same request's token is refused and
// the log names it for revocation, never showing it.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "planmap.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", db, "../../seeds"); err != nil {
		t.Fatalf("import seeds: %v\n%s", err, stderr)
	}
	token, _, err := planmap(t, "token", "add", "--db", db, "--name", "alice", "--role", "editor")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	certFile, keyFile, pool := writeCert(t, dir, "planmap test")

	options := func(client *http.Client, base string) {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", base+"/collections/parks/items", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", "192.0.2.7")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Allow"), "GET") {
			t.Errorf("OPTIONS %s = %d, Allow %q", base, res.StatusCode, res.Header.Get("Allow"))
		}
	}

	base, stop := startServe(t, db, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("serve with TLS listens at %s, want https://127.0.0.1:…", base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	res, err := client.Get(base + "/collections")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.ProtoMajor != 2 {
		t.Errorf("GET %s/collections = %d, TLS %v, %s; want 200 over TLS, HTTP/2", base, res.StatusCode, res.TLS != nil, res.Proto)
	}
	options(client, base)
	logs := stop()
	if strings.Contains(logs, "refused a token") || strings.Contains(logs, token) {
		t.Errorf("over TLS the token was refused, or logged:\n%s", logs)
	}

	base, stop = startServe(t, db)
	options(http.DefaultClient, base)
	logs = stop()
	if !strings.Contains(logs, "refused a token") || !strings.Contains(logs, "token_name=alice") || strings.Contains(logs, token) {
		t.Errorf("over plain HTTP through a proxy the log should name the refused token, never show it:\n%s", logs)
	}

	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--tls-cert", certFile}, "go together"},
		{[]string{"--tls-key", keyFile}, "go together"},
		{[]string{"--tls-cert", keyFile, "--tls-key", keyFile}, "--tls-cert"},
		{[]string{"--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", keyFile}, "none.pem"},
	} {
		if _, _, err := planmap(t, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, c.flags...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %s = %v, want an error saying %q", strings.Join(c.flags, " "), err, c.want)
		}
	}
}

// A renewed certificate is served without a restart.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir, "first")
	c, err := loadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cn := func() string {
		t.Helper()
		cert, err := c.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.Subject.CommonName
	}
	writeCert(t, dir, "renewed")
	later := time.Now().Add(time.Minute)
	os.Chtimes(certFile, later, later)
	if got := cn(); got != "first" {
		t.Errorf("certificate right after the renewal = %s, want first (checked every %v)", got, reloadEvery)
	}
	c.checked = time.Now().Add(-reloadEvery)
	if got := cn(); got != "renewed" {
		t.Errorf("certificate %v after the renewal = %s, want renewed", reloadEvery, got)
	}
	// A half-written renewal is not taken.
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	c.checked = time.Now().Add(-reloadEvery)
	if got := cn(); got != "renewed" {
		t.Errorf("certificate after a broken key file = %s, want renewed kept", got)
	}
}
