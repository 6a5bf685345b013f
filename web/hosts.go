package web

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"planmap/layers"
)

// hostSet is the set of host names the service answers to. Without a base
// URL every absolute link it writes carries the request's Host, so a Host
// it does not know would let anyone behind a shared cache point other
// people's links at a server of their choosing.
//
// Names compare case-insensitively, without a trailing dot, and ports are
// ignored: a port cannot send a link to another machine, and the port a
// client uses often differs from the one planmap listens on (a container's
// published port, a proxy).
type hostSet struct {
	any   bool
	names map[string]bool
}

// hostName returns the lower-case name of a host or host:port, without
// brackets around an IPv6 address or a trailing dot.
func hostName(hostport string) string {
	h := hostport
	if name, _, err := net.SplitHostPort(hostport); err == nil {
		h = name
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

func newHostSet(hosts []string) hostSet {
	set := hostSet{names: map[string]bool{}}
	for _, h := range hosts {
		if h == "*" {
			set.any = true
		} else if n := hostName(strings.TrimSpace(h)); n != "" {
			set.names[n] = true
		}
	}
	return set
}

func (set hostSet) allows(host string) bool {
	return set.any || set.names[hostName(host)]
}

// DefaultAllowedHosts are the hosts the service answers to when
// Options.AllowedHosts is empty: the base URL's host, this machine by its
// loopback names (localhost, 127.0.0.1, ::1), and the listen address's
// host; a wildcard listen address (":8080", "0.0.0.0:8080", "[::]:8080")
// stands for each of the machine's own addresses and its host name.
func DefaultAllowedHosts(baseURL, listenAddr string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		hosts = append(hosts, u.Hostname())
	}
	if listenAddr == "" {
		return hosts
	}
	host, _, err := net.SplitHostPort(listenAddr)
	if err != nil {
		host = listenAddr
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return append(hosts, host)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	return hosts
}

// checkHost answers 421 Misdirected Request to a Host the service does
// not know, before anything can build a link from it.
func (s *server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts.allows(r.Host) {
			s.writeError(w, r, &layers.Error{Code: codeMisdirected, Message: "planmap does not answer to the host " +
				quoteHost(r.Host) + ": the links it writes would point there. If this is its public address, start it with " +
				"--base-url set to its public URL, or name the host in --allowed-hosts"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func quoteHost(h string) string {
	if h == "" {
		return "(none: the request has no Host)"
	}
	return strconv.Quote(h)
}
