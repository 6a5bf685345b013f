package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"planmap/layers"
)

// authorize returns who the request's bearer token speaks for, if it may
// change layer (admin: create, redeclare or delete layers; layer is then
// ignored). A request without a valid token gets an error that answers
// 401, one whose token does not cover what it asks 403, and so does one
// whose token came over a connection that let others read it (see
// tokenTransport). Reads never come here. The token itself is never
// logged nor put in an error.
func (s *server) authorize(r *http.Request, layer string, admin bool) (*layers.Principal, error) {
	token, ok := bearer(r)
	if !ok || s.opt.Tokens == nil {
		return nil, &layers.Error{Code: codeUnauthorized, Message: "writing needs a token: send Authorization: Bearer <token>"}
	}
	if err := s.tokenTransport(r); err != nil {
		s.exposed(r, token)
		return nil, err
	}
	p, err := s.opt.Tokens.Principal(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, &layers.Error{Code: codeUnauthorized, Message: "the token is not valid (unknown or revoked)"}
	}
	if admin && !p.MayAdmin() {
		return nil, &layers.Error{Code: codeForbidden, Message: "token " + p.Name + " may not change layers themselves; that needs an admin token"}
	}
	if !admin && !p.MayEdit(layer) {
		return nil, &layers.Error{Code: codeForbidden, Message: "token " + p.Name + " may not edit layer " + layer}
	}
	return p, nil
}

// editorReads marks the reads of a request that carries a bearer token
// to go to the primary database (layers.ReadPrimary): an editor's reads,
// which a read replica that has not yet replayed the editor's last write,
// made through another planmap process, would answer from before it. The
// token is not looked up: a read is open to anyone, and a token that is
// not valid costs only that its reads are the primary's.
func editorReads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := bearer(r); ok {
			r = r.WithContext(layers.ReadPrimary(r.Context()))
		}
		next.ServeHTTP(w, r)
	})
}

// caller returns who r's bearer token speaks for, for the answers that
// every caller gets but that say what this one may do (OPTIONS, 405's
// Allow): nil without a token, for a token that is not valid, and for one
// that tokenTransport refuses. It never fails the request.
func (s *server) caller(r *http.Request) *layers.Principal {
	token, ok := bearer(r)
	if !ok || s.opt.Tokens == nil {
		return nil
	}
	if s.tokenTransport(r) != nil {
		s.exposed(r, token)
		return nil
	}
	p, err := s.opt.Tokens.Principal(r.Context(), token)
	if err != nil {
		s.logFailure(r, "look up a token", err)
		return nil
	}
	return p
}

// tokenTransport refuses a token that others on the way may have read,
// with an error that answers 403: the request is refused whatever token
// it carries, so a 401, which asks the client for credentials, would
// send it looking for another. A token is accepted
//
//   - over TLS (serve --tls-cert/--tls-key);
//   - from a client on this machine (a loopback address), unless the
//     request came through a proxy (it has Forwarded, X-Forwarded-* or
//     X-Real-IP headers, or a Host that is not a loopback name);
//   - through a proxy on this machine when the base URL is https: the
//     operator says a TLS proxy fronts planmap; unless the proxy says
//     (X-Forwarded-Proto, Forwarded: proto) the request came to it over
//     plain HTTP;
//   - from anywhere with Options.AllowPlainHTTPTokens (the operator's
//     choice: a network they trust, TLS to planmap from another proxy).
func (s *server) tokenTransport(r *http.Request) error {
	if r.TLS != nil || s.opt.AllowPlainHTTPTokens {
		return nil
	}
	const how = "Serve planmap with --tls-cert and --tls-key, or behind a TLS proxy on the same machine named by an https --base-url (see the README, Editing)."
	const revoke = " Its token crossed the network in clear: revoke it (planmap token revoke NAME) and add another. "
	if !loopback(r.RemoteAddr) {
		return &layers.Error{Code: codeForbidden, Message: "planmap accepts a token only over HTTPS or from this machine, and this request came over plain HTTP from another machine." + revoke + how}
	}
	if proto := forwardedProto(r); proto != "" && proto != "https" {
		return &layers.Error{Code: codeForbidden, Message: "the proxy in front of planmap says this request came to it over " + proto + ", and planmap accepts a token only over HTTPS." + revoke + how}
	}
	if strings.HasPrefix(strings.ToLower(s.opt.BaseURL), "https://") {
		return nil
	}
	if forwarded(r) {
		return &layers.Error{Code: codeForbidden, Message: "this request came through a proxy, and planmap's --base-url is not https, so nothing says the proxy took it over HTTPS; planmap accepts a token only over HTTPS or from this machine. " + how}
	}
	return nil
}

// exposed logs, by its name, a token that tokenTransport refused, so that
// the operator can revoke it.
func (s *server) exposed(r *http.Request, token string) {
	args := []any{"request_id", middleware.GetReqID(r.Context()), "remote", r.RemoteAddr}
	if p, err := s.opt.Tokens.Principal(r.Context(), token); err == nil && p != nil {
		args = append(args, "token_name", p.Name)
	}
	s.log.Warn("refused a token sent over plain HTTP; it may have been read on the way: revoke it", args...)
}

// loopback reports whether addr (host:port, as in RemoteAddr) is on this
// machine: 127.0.0.0/8 or ::1.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// forwarded reports whether r came through a proxy, as far as it shows:
// a proxy's headers, or a Host other than a loopback name (a client on
// this machine that connects to a loopback address names one).
func forwarded(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	if r.Host == "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// forwardedProto returns the protocol by which the first proxy says the
// client reached it (X-Forwarded-Proto, or proto= of Forwarded), lower
// case, or "".
func forwardedProto(r *http.Request) string {
	if v := r.Header.Get("X-Forwarded-Proto"); v != "" {
		first, _, _ := strings.Cut(v, ",")
		return strings.ToLower(strings.TrimSpace(first))
	}
	first, _, _ := strings.Cut(r.Header.Get("Forwarded"), ",")
	for _, pair := range strings.Split(first, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if strings.EqualFold(k, "proto") {
			return strings.ToLower(strings.Trim(v, `"`))
		}
	}
	return ""
}

// bearer returns the token of an Authorization: Bearer header (RFC 6750;
// the scheme is case-insensitive).
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// tokenLike matches what may be a token in text that is logged: one of
// planmap's, or the value of an access_token parameter (RFC 6750 §2.3,
// which planmap does not accept, but a client may send all the same).
var tokenLike = regexp.MustCompile(layers.TokenPrefix + `[A-Za-z0-9_-]{20,}|(?i:access_token)=[^&#]*`)

// redactingHandler passes log records on with whatever in their message
// and attributes may be a token replaced (redactTokens): a path such as
// /collections/planmap_… or ?access_token=…, the text of an error that
// quotes one. Records with nothing of the kind, nearly all, pass as they
// are.
type redactingHandler struct{ slog.Handler }

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	dirty := mayHoldToken(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		dirty = dirty || mayHoldToken(attrText(a.Value))
		return !dirty
	})
	if !dirty {
		return h.Handler.Handle(ctx, r)
	}
	clean := slog.NewRecord(r.Time, r.Level, redactTokens(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if text := attrText(a.Value); mayHoldToken(text) {
			a.Value = slog.StringValue(redactTokens(text))
		}
		clean.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, clean)
}

func (h redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return redactingHandler{h.Handler.WithAttrs(as)}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{h.Handler.WithGroup(name)}
}

// attrText is the text of a string or an error value, which may quote what
// a client sent; "" for other values.
func attrText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return ""
}

// mayHoldToken is the quick test before redactTokens.
func mayHoldToken(s string) bool {
	return strings.Contains(s, layers.TokenPrefix) || strings.Contains(strings.ToLower(s), "access_token")
}

// redactTokens replaces whatever in s may be a token.
func redactTokens(s string) string {
	return tokenLike.ReplaceAllStringFunc(s, func(m string) string {
		if name, _, ok := strings.Cut(m, "="); ok && !strings.HasPrefix(m, layers.TokenPrefix) {
			return name + "=REDACTED"
		}
		return layers.TokenPrefix + "REDACTED"
	})
}
