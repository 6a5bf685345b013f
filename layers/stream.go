package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/paulmach/orb"

	"planmap/geo/jsonscan"
)

// source is where the features of a file that OpenFile read are: the
// bytes of its features array in the file at path.
type source struct {
	path       string
	start, end int64 // the features array, from its [ to after its ]
	total      int   // how many values the array holds
	proj       func(orb.Geometry) (orb.Geometry, error)
}

// OpenFile reads the layer file at path as ParseFile reads its contents,
// except that the features stay in the file: they are parsed and checked
// one at a time when the file is checked or imported (Check, Prepare,
// Stream), so that a file of any size costs memory for one feature, not
// for all of them. Its problems are those ParseFile finds, reported then,
// with the same messages: a file whose declaration has a problem, or whose
// features OpenFile cannot find, is read whole and given to ParseFile.
func OpenFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", path, errors.Unwrap(err))
	}
	defer fh.Close()
	start, end, total, ok, err := locateFeatures(fh)
	if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", path, err)
	}
	whole := func() (*File, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, Errorf(EINVALID, "%s: %v", path, errors.Unwrap(err))
		}
		return ParseFile(path, data)
	}
	if !ok {
		return whole()
	}
	// The file without its features: the declaration, read as ParseFile
	// reads it.
	head := make([]byte, start)
	tail, err := io.ReadAll(io.NewSectionReader(fh, end, 1<<62))
	if err == nil {
		_, err = fh.ReadAt(head, 0)
	}
	if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", path, err)
	}
	decl := append(append(head, "[]"...), tail...)
	f, err := ParseFile(path, decl)
	if err != nil {
		// Where a syntax error is, and the rest, as ParseFile says it
		// of the whole file.
		return whole()
	}
	var top struct {
		CRS json.RawMessage `json:"crs"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(decl, []byte("\xef\xbb\xbf")), &top); err != nil {
		return whole()
	}
	proj, err := parseCRS(top.CRS)
	if err != nil {
		return whole()
	}
	f.src = &source{path: path, start: start, end: end, total: total, proj: proj}
	return f, nil
}

// locateFeatures finds the value of the top-level features member of a
// JSON object read from r without decoding it: its first byte and the
// byte after it, and how many values it holds. ok is false unless the
// member is there once, under that exact name, and is an array: ParseFile
// then says what is wrong. The syntax inside the array is not checked
// here; the features are decoded later.
func locateFeatures(r io.Reader) (start, end int64, total int, ok bool, err error) {
	var (
		base                       int64 // offset of buf[0]
		depth                      int
		inString, escaped, inKey   bool
		key                        []byte
		keyOK, expectKey, wantNext bool
		found                      int
		inFeatures, nonEmpty       bool
	)
	buf := make([]byte, 1<<20)
	for {
		n, rerr := r.Read(buf)
		chunk := buf[:n]
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
					if inKey {
						keyOK = false // an escaped key is left to ParseFile
					}
				case c == '"':
					inString = false
				default:
					if inKey {
						if len(key) < 16 {
							key = append(key, c)
						}
					} else if j := bytes.IndexAny(chunk[i:], "\"\\"); j > 0 {
						// The rest of a string that is not a key.
						i += j - 1
					} else if j < 0 {
						i = len(chunk)
					}
				}
				continue
			}
			if depth >= 3 && !wantNext {
				// Inside a feature only brackets and strings matter.
				if j := bytes.IndexAny(chunk[i:], "\"[]{}"); j < 0 {
					break
				} else {
					i += j
					c = chunk[i]
				}
			}
			switch c {
			case ' ', '\t', '\n', '\r':
				continue
			}
			off := base + int64(i)
			if wantNext {
				// The first byte of the features member's value.
				wantNext = false
				if c != '[' {
					return 0, 0, 0, false, nil
				}
				start, inFeatures, found = off, true, found+1
				depth++
				continue
			}
			if inFeatures && depth == 2 && c != ']' {
				nonEmpty = true
			}
			switch c {
			case '"':
				inString = true
				inKey = depth == 1 && expectKey
				if inKey {
					key, keyOK = key[:0], true
				}
			case ':':
				if depth == 1 && inKey {
					wantNext = keyOK && string(key) == "features"
					inKey, expectKey = false, false
				}
			case '{', '[':
				depth++
				if depth == 1 {
					expectKey = c == '{'
				}
			case '}', ']':
				depth--
				if inFeatures && depth == 1 {
					end, inFeatures = off+1, false
				}
			case ',':
				switch {
				case depth == 1:
					expectKey = true
				case inFeatures && depth == 2:
					total++
				}
			}
		}
		base += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, 0, false, rerr
		}
	}
	if found != 1 || inFeatures || end == 0 {
		return 0, 0, 0, false, nil
	}
	if nonEmpty {
		total++
	}
	return start, end, total, true, nil
}

// stream reads, parses and checks the features of a file that OpenFile
// left on disk, as ParseFile and then Check would: the parse problems go
// to the file's own list (f.parseErr), as ParseFile's would; the problems
// Check would find go to p, and count only if parsing finds none. l nil
// only parses.
func (f *File) stream(l *Layer, p *Problems, fn func(Feature) error) error {
	if fn == nil {
		return f.read(l, p, nil)
	}
	// Reading, parsing and checking run beside the writing of what they
	// pass, in batches: on two cores an import takes about the longer of
	// the two instead of their sum, with a few batches in memory.
	const batchSize = 256
	batches := make(chan []Feature, 4)
	quit := make(chan struct{})
	var rerr error
	go func() {
		defer close(batches)
		batch := make([]Feature, 0, batchSize)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]Feature, 0, batchSize)
				return true
			case <-quit:
				return false
			}
		}
		rerr = f.read(l, p, func(ft Feature) error {
			batch = append(batch, ft)
			if len(batch) == batchSize && !send() {
				return errQuit
			}
			return nil
		})
		if rerr == nil && len(batch) > 0 {
			send()
		}
	}()
	var werr error
	for b := range batches {
		if werr != nil {
			continue // until the reader has seen quit
		}
		for _, ft := range b {
			if werr = fn(ft); werr != nil {
				close(quit)
				break
			}
		}
	}
	if werr != nil {
		return werr
	}
	return rerr
}

// errQuit stops the reading of a file whose writing failed.
var errQuit = errors.New("writing stopped")

// read is stream without the second goroutine: fn runs on the reader's.
func (f *File) read(l *Layer, p *Problems, fn func(Feature) error) error {
	src := f.src
	fh, err := os.Open(src.path)
	if err != nil {
		return Errorf(EINVALID, "%s: %v", f.Name, errors.Unwrap(err))
	}
	defer fh.Close()
	quit := make(chan struct{})
	defer close(quit)
	parsed := parseParallel(io.NewSectionReader(fh, src.start+1, src.end-src.start-1), src.proj, quit)

	// Parsing starts again: warnings and ids are found anew.
	f.Warnings, f.NewIDs = f.Warnings[:0:0], false
	var pp Problems
	fp := newFeatureParser(f.Name, src.proj, &pp)
	var c checker
	if l != nil {
		c = newChecker(f, l)
	}
	checking := l != nil
	i := 0 // the features parsed, as Check counts them
	for b := range parsed {
		<-b.done
		if b.err != nil {
			return fmt.Errorf("%s: features: %w", f.Name, b.err)
		}
		for _, r := range b.out {
			if pp.Len() >= countLimit {
				pp.stop(fmt.Sprintf("%s was checked up to feature %d of %d", f.Name, fp.n, src.total))
				fp.finish(f)
				f.parseErr = pp.Err()
				return nil
			}
			if r.syntax {
				// Not JSON: ParseFile says where in the file.
				f.parseErr = f.wholeError(r.err)
				return nil
			}
			rf, ok := fp.add(r.rf, r.hasZ, r.err)
			if !ok || pp.Len() > 0 {
				continue
			}
			if checking {
				if p.Len() >= countLimit {
					p.stop(fmt.Sprintf("%s was checked up to feature %d of %d", f.Name, i, src.total))
					checking = false
				} else if ft, ok := c.check(i, rf, p); ok && fn != nil && !fp.failing() && p.Len() == 0 {
					if err := fn(ft); err != nil {
						return err
					}
				}
			}
			i++
		}
	}
	fp.finish(f)
	f.parseErr = pp.Err()
	return nil
}

// parsedBatch is a run of consecutive features of a file, parsed by one
// of parseParallel's workers; done is closed when out is filled.
type parsedBatch struct {
	raw  [][]byte
	out  []parsed
	err  error // reading the file failed
	done chan struct{}
}

type parsed struct {
	rf     rawFeature
	hasZ   bool
	err    error
	syntax bool // the value is not JSON
}

// parseParallel cuts the values of a JSON array, read from r after its
// [, into batches and parses them as features on one goroutine per CPU:
// parsing JSON is most of an import. The batches come out in file order,
// each to be waited for (done). Closing quit stops it all.
func parseParallel(r io.Reader, proj func(orb.Geometry) (orb.Geometry, error), quit <-chan struct{}) <-chan *parsedBatch {
	const batchSize = 256
	ordered := make(chan *parsedBatch, 2*runtime.GOMAXPROCS(0))
	work := make(chan *parsedBatch, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.out = make([]parsed, len(b.raw))
				for i, raw := range b.raw {
					r := &b.out[i]
					r.rf, r.hasZ, r.err = parseFeature(raw, proj)
					r.syntax = r.err != nil && !json.Valid(raw)
				}
				close(b.done)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer func() { close(work); wg.Wait() }()
		send := func(b *parsedBatch) bool {
			select {
			case ordered <- b:
			case <-quit:
				return false
			}
			if b.err != nil {
				close(b.done)
				return false
			}
			select {
			case work <- b:
				return true
			case <-quit:
				return false
			}
		}
		b := &parsedBatch{done: make(chan struct{})}
		err := splitArray(r, func(v []byte) bool {
			b.raw = append(b.raw, v)
			if len(b.raw) < batchSize {
				return true
			}
			ok := send(b)
			b = &parsedBatch{done: make(chan struct{})}
			return ok
		})
		if err != nil {
			b.err = err
		}
		if len(b.raw) > 0 || b.err != nil {
			send(b)
		}
	}()
	return ordered
}

// splitArray calls fn with a copy of each value of a JSON array read from
// r, which starts after the array's [, up to its ]: the bytes between
// commas outside strings and nested values, trimmed. A value that is not
// JSON (an empty one where commas follow each other) is passed as it is,
// for the parser to find wrong. fn returns false to stop.
func splitArray(r io.Reader, fn func([]byte) bool) error {
	var (
		a   jsonscan.Array
		cur []byte
		n   int
	)
	emit := func() bool {
		n++
		v := bytes.TrimSpace(cur)
		out := make([]byte, len(v))
		copy(out, v)
		cur = cur[:0]
		return fn(out)
	}
	buf := make([]byte, 1<<20)
	for {
		nr, rerr := r.Read(buf)
		chunk := buf[:nr]
		for len(chunk) > 0 {
			i, c := a.Next(chunk)
			if i < 0 {
				cur = append(cur, chunk...)
				break
			}
			cur = append(cur, chunk[:i]...)
			chunk = chunk[i+1:]
			if c == ']' {
				// The end of the array: an empty one has no value.
				if n > 0 || len(bytes.TrimSpace(cur)) > 0 {
					emit()
				}
				return nil
			}
			if !emit() {
				return nil
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// wholeError is the error ParseFile gives for the file, read whole, whose
// features could not be decoded one by one (err).
func (f *File) wholeError(err error) error {
	data, rerr := os.ReadFile(f.src.path)
	if rerr != nil {
		return Errorf(EINVALID, "%s: %v", f.Name, errors.Unwrap(rerr))
	}
	if _, perr := ParseFile(f.Name, data); perr != nil {
		return perr
	}
	return Errorf(EINVALID, "%s: features: %v", f.Name, err)
}

// Streamed reports whether the file's features are read from disk as they
// are checked, rather than held in memory.
func (f *File) Streamed() bool { return f.src != nil }

// Len returns how many features the file holds: for a file that OpenFile
// read, as counted in the file, before they are parsed.
func (f *File) Len() int {
	if f.src != nil {
		return f.src.total
	}
	return len(f.raw)
}
