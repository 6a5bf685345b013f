package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"planmap/layers/layerstest"
)

// TestMain lets a test run the real program in a process of its own: the
// test binary re-executed with PLANMAP_TEST_MAIN=1 is planmap, main and
// all, so it can be killed or hold a database open as a server would.
func TestMain(m *testing.M) {
	if os.Getenv("PLANMAP_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command returns planmap as a process of its own, with args.
func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PLANMAP_TEST_MAIN=1")
	return cmd
}

// startServeProcess runs planmap serve on db in a process of its own and
// returns its base URL and a function that stops it with SIGTERM, as a
// service manager would, and waits for it.
func startServeProcess(t *testing.T, db string) (string, func()) {
	t.Helper()
	cmd := command(context.Background(), "serve", "--db", db, "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logs layerstest.SyncBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		var listening string
		ready := false
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := regexp.MustCompile(`msg=listening addr=(\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				listening = m[1]
			}
			ready = ready || strings.Contains(sc.Text(), "msg=ready")
			// Ready to answer once it has said both, in either order:
			// serve listens before it is ready, but logs the two from
			// different goroutines.
			if ready && listening != "" {
				addr <- listening
				ready, listening = false, ""
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("planmap serve ended with %v after SIGTERM:\n%s", err, logs.String())
		}
	}
	select {
	case base := <-addr:
		return base, stop
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("planmap serve did not listen within 60 s:\n%s", logs.String())
	}
	return "", nil
}

// content is what planmap layers and planmap export show of db: the list
// of layers and each one as a layer file.
func content(t *testing.T, db string) string {
	t.Helper()
	list, stderr, err := planmap(t, "layers", "--db", db)
	if err != nil {
		t.Fatalf("planmap layers: %v\n%s", err, stderr)
	}
	var b strings.Builder
	b.WriteString(list)
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		id := strings.Fields(line)[0]
		out, stderr, err := planmap(t, "export", "--db", db, "--layer", id)
		if err != nil {
			t.Fatalf("planmap export --layer %s: %v\n%s", id, err, stderr)
		}
		b.WriteString(out)
	}
	return b.String()
}
