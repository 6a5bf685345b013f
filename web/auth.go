package web

import (
	"net/http"
	"strings"

	"planmap/layers"
)

// authorize returns who the request's bearer token speaks for, if it may
// change layer (admin: create, redeclare or delete layers; layer is then
// ignored). A request without a valid token gets an error that answers
// 401, one whose token does not cover what it asks 403. Reads never come
// here. The token itself is never logged nor put in an error.
func (s *server) authorize(r *http.Request, layer string, admin bool) (*layers.Principal, error) {
	token, ok := bearer(r)
	if !ok || s.opt.Tokens == nil {
		return nil, &layers.Error{Code: codeUnauthorized, Message: "writing needs a token: send Authorization: Bearer <token>"}
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
