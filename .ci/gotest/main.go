// Command gotest reads `go test -json` on standard input, prints go test's
// output less the lines -json adds for every test that passed (=== RUN,
// --- PASS, PASS), as go test prints it without -json and -v, and writes the duration of each
// package and of its slowest top-level tests to the file named by -times,
// for the stage table at the end of .ci/run. It exits 1 when any package
// or test failed, so that a pipe into it keeps go test's verdict.
//
//	go test -json ./... | go run ./.ci/gotest -times times.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build output and failures
	Test       string
	Elapsed    float64
	Output     string
}

type timing struct {
	name    string
	seconds float64
	result  string
}

func main() {
	times := flag.String("times", "", "file to write the package and test durations to")
	top := flag.Int("top", 3, "slowest tests to list per package")
	flag.Parse()

	failed := false
	var pkgs []timing
	tests := map[string][]timing{}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		var e event
		if err := json.Unmarshal(in.Bytes(), &e); err != nil {
			// Not JSON: go test's own complaint, printed as it came.
			fmt.Fprintln(out, in.Text())
			out.Flush()
			continue
		}
		if e.Output != "" && !chatter(e.Output) {
			out.WriteString(e.Output)
			if strings.HasSuffix(e.Output, "\n") {
				out.Flush()
			}
		}
		switch e.Action {
		case "pass", "fail", "skip":
			if e.Action == "fail" {
				failed = true
			}
			switch {
			case e.Test == "":
				pkgs = append(pkgs, timing{e.Package, e.Elapsed, e.Action})
			case !strings.Contains(e.Test, "/"):
				tests[e.Package] = append(tests[e.Package], timing{e.Test, e.Elapsed, e.Action})
			}
		case "build-fail":
			failed = true
		}
	}
	out.Flush()
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(1)
	}
	if *times != "" {
		var b strings.Builder
		for _, p := range pkgs {
			if p.result == "skip" { // no test files
				continue
			}
			fmt.Fprintf(&b, "  %-40s %7.1fs  %s\n", p.name, p.seconds, p.result)
			ts := tests[p.name]
			sort.Slice(ts, func(i, j int) bool { return ts[i].seconds > ts[j].seconds })
			for _, t := range ts[:min(*top, len(ts))] {
				fmt.Fprintf(&b, "      %-36s %7.1fs  %s\n", t.name, t.seconds, t.result)
			}
		}
		if err := os.WriteFile(*times, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gotest:", err)
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// chatter reports whether line is one of the lines that -json (which
// implies -v) adds for tests that ran as expected.
func chatter(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "PASS\n"} {
		if strings.HasPrefix(strings.TrimLeft(line, " "), p) {
			return true
		}
	}
	return false
}
