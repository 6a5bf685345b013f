package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certificate serves the TLS certificate of serve --tls-cert/--tls-key and
// reads the files again when they change, at most every reloadEvery, so
// that a renewed certificate (certbot, acme.sh) is served without a
// restart. A renewal caught half-written is not taken: the last good pair
// stays until the files load again.
type certificate struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	mtimes  [2]time.Time
	checked time.Time
}

const reloadEvery = 10 * time.Second

// loadCertificate loads the pair, or says what is wrong with it.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	mtimes, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", certFile, keyFile, err)
	}
	c.cert, c.mtimes, c.checked = &cert, mtimes, time.Now()
	return c, nil
}

func (c *certificate) stat() ([2]time.Time, error) {
	var m [2]time.Time
	for i, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return m, err
		}
		m[i] = fi.ModTime()
	}
	return m, nil
}

// get is tls.Config.GetCertificate.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) < reloadEvery {
		return c.cert, nil
	}
	c.checked = time.Now()
	if m, err := c.stat(); err == nil && m != c.mtimes {
		if cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile); err == nil {
			c.cert, c.mtimes = &cert, m
		}
	}
	return c.cert, nil
}
