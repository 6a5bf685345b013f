package layers

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TokenPrefix begins every bearer token planmap makes, so that people
// and secret scanners recognise one in a file or a paste.
const TokenPrefix = "planmap_"

// NewToken returns a new bearer token: TokenPrefix and 256 random bits in
// unpadded base64url. It is shown once, to whoever adds it; stores keep
// only HashToken of it.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns what a store keeps of a token, and looks it up by:
// its SHA-256. The token is 256 random bits, so a plain hash (no salt, no
// slow hash) cannot be reversed, and a lookup by hash compares nothing of
// the token itself: how long a failed lookup takes tells nothing about it.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Token describes a bearer token as a store lists it; the token itself is
// never kept.
type Token struct {
	Principal
	Created time.Time
	// Revoked is when the token was revoked; zero while it is valid.
	Revoked time.Time
}

// ParseRole returns the role named s, or an EINVALID error.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleEditor, RoleAdmin:
		return r, nil
	}
	return "", Errorf(EINVALID, "role %q is neither %s nor %s", s, RoleEditor, RoleAdmin)
}

// MaxTokenNameLen is the longest token name, in characters.
const MaxTokenNameLen = 64

// CheckTokenName returns an EINVALID error unless name may name a token:
// the history records it as the author of every change made with the
// token, and logs print it, so it is one word of 1 to MaxTokenNameLen
// letters (any script), digits and . _ - @, starting with a letter or a
// digit.
func CheckTokenName(name string) error {
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxTokenNameLen || !utf8.ValidString(name) {
		return Errorf(EINVALID, "token name %q must be 1 to %d characters", name, MaxTokenNameLen)
	}
	for i, r := range name {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("._-@", r))
		if !ok {
			return Errorf(EINVALID, "token name %q: use letters, digits and . _ - @ only, starting with a letter or a digit (it is recorded as the author of changes)", name)
		}
	}
	return nil
}

// CheckNewToken checks what a new token is to be: a valid name, a known
// role, and layers only for an editor (an admin may change every layer).
// Whether the layers exist is for the store to say.
func CheckNewToken(name string, role Role, layerIDs []string) error {
	if err := CheckTokenName(name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if role == RoleAdmin && len(layerIDs) > 0 {
		return Errorf(EINVALID, "an admin token may change every layer; name layers only for an editor token")
	}
	return nil
}
