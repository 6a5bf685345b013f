// Seen asks for a URL again and again until its body holds a text, and
// says when it first did: web/testdata/bench/scale.sh times with it how
// long a change takes to reach readers.
//
//	seen -every 5ms -timeout 300s URL TEXT
//
// Once seen, it prints one line of key=value: seen_ns, the Unix time in
// nanoseconds at which the answer that held TEXT had arrived; polls, how
// many requests it made; longest_ms, the longest of them. The requests go
// over one kept connection, one at a time, -every apart from the start of
// one to the start of the next (or at once after one that took longer),
// so that the time is known to within -every plus one request, not the
// tens of milliseconds a shell loop of curl takes to start each one. A
// request that fails is counted, timed and made again; it exits 1 if TEXT
// has not been seen within -timeout.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	every := flag.Duration("every", 5*time.Millisecond, "time from the start of one request to the start of the next")
	timeout := flag.Duration("timeout", 300*time.Second, "give up after this long")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: seen [-every 5ms] [-timeout 300s] URL TEXT")
		os.Exit(2)
	}
	url, text := flag.Arg(0), []byte(flag.Arg(1))
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(*timeout))
	defer cancel()
	var polls int
	var longest time.Duration
	var last error // of the last request, if it failed
	for next := start; time.Since(start) < *timeout; {
		time.Sleep(time.Until(next))
		t0 := time.Now()
		next = t0.Add(*every)
		body, err := get(ctx, url)
		last = err
		took := time.Since(t0)
		polls++
		longest = max(longest, took)
		if err == nil && bytes.Contains(body, text) {
			fmt.Printf("seen_ns=%d polls=%d longest_ms=%d\n", t0.Add(took).UnixNano(), polls, longest.Milliseconds())
			return
		}
	}
	fmt.Fprintf(os.Stderr, "seen: %q not in %s after %s (%d requests; the last one's error: %v)\n", text, url, *timeout, polls, last)
	os.Exit(1)
}

// get returns the body of url, read whole so that the connection is kept.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
