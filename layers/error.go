package layers

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error codes. The web layer maps them to HTTP statuses and the command
// line prints the message; neither matches on message text.
const (
	EINVALID  = "invalid"   // the input is wrong; the message says how
	ENOTFOUND = "not_found" // no such layer or feature
	ECONFLICT = "conflict"  // the input disagrees with what is stored
	// EPRECONDITION: a write named the version it replaces (If-Match),
	// and the feature has changed since.
	EPRECONDITION = "precondition"
	EGONE         = "gone"     // the feature existed and was deleted
	EFOREIGN      = "foreign"  // a database file that is not planmap's
	EINTERNAL     = "internal" // our fault; details are logged, not shown
)

// Error is an error whose Message is safe to show to the person who caused
// it.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is or wraps an *Error, and
// EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// MaxProblems is how many problems a check reports one by one before it
// only counts the rest.
const MaxProblems = 50

// Problems collects what is wrong with one or more layer files. Its Error
// lists every problem on its own line, up to MaxProblems, then a count of
// the rest.
type Problems struct {
	list  []string
	total int
	// stopped says where checking stopped before the end, with problems
	// perhaps left uncounted; empty when every problem was counted.
	stopped string
}

// maxProblemLen bounds the text of one problem, which may quote anything
// a file holds.
const maxProblemLen = 1000

// Add records a problem. Its text is made one line of at most
// maxProblemLen bytes: a value quoted from a file may hold line breaks,
// which would read as problems of their own, or be of any length.
func (p *Problems) Add(format string, args ...any) {
	p.total++
	if len(p.list) < MaxProblems {
		p.list = append(p.list, oneLine(fmt.Sprintf(format, args...)))
	}
}

func oneLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if len(s) <= maxProblemLen {
		return s
	}
	cut := maxProblemLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// addCount records n problems that are not listed.
func (p *Problems) addCount(n int) {
	p.total += n
}

// stop records that checking stopped early, at the place where says: the
// count of problems is then a lower bound.
func (p *Problems) stop(where string) {
	if p.stopped == "" {
		p.stopped = where
	}
}

// Len is the number of problems recorded, including those not listed.
func (p *Problems) Len() int { return p.total }

// List returns the problems listed, at most MaxProblems of them.
func (p *Problems) List() []string { return p.list }

// Err returns nil when there are no problems, else an *Error with code
// EINVALID listing them.
func (p *Problems) Err() error {
	if p.total == 0 {
		return nil
	}
	msg := strings.Join(p.list, "\n")
	more := p.total - len(p.list)
	switch {
	case p.stopped != "":
		msg += fmt.Sprintf("\n… and at least %d more problems (at least %d in all; %s)", more, p.total, p.stopped)
	case more > 0:
		msg += fmt.Sprintf("\n… and %d more problems (%d in all)", more, p.total)
	}
	return &Error{Code: EINVALID, Message: msg}
}
