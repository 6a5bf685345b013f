//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// childArgs, when set in the environment, makes the test binary run planmap
// with these arguments (a JSON array) instead of the tests: readOnlyRunner
// runs it so under another user.
const childArgs = "PLANMAP_TEST_CHILD_ARGS"

func init() {
	if s := os.Getenv(childArgs); s != "" {
		var args []string
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			fmt.Fprintln(os.Stderr, "planmap test child:", err)
			os.Exit(3)
		}
		if err := run(context.Background(), args, func(string) string { return "" }, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "planmap:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// readOnlyRunner returns a function that runs planmap as a user who cannot
// write into dir: this process after dir is made read-only, or, for root,
// who writes anywhere, the test binary in a child process as user nobody.
// It fails the test unless writing into dir really fails for that user.
func readOnlyRunner(t *testing.T, dir string) func(args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if os.Geteuid() != 0 {
		chmodTree(t, dir, 0o555, 0o444)
		t.Cleanup(func() { chmodTree(t, dir, 0o755, 0o644) })
		if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
			f.Close()
			t.Fatalf("created a file in %s after chmod 0555: the test would prove nothing", dir)
		}
		return func(args ...string) (string, string, error) { return planmap(t, args...) }
	}
	// The child must reach the binary and dir: t.TempDir's folders are
	// private, so both go in folders that others may enter.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(openDir(t), "planmap.test")
	layerstest.CopyFile(t, exe, bin, 0o755)
	chmodTree(t, dir, 0o555, 0o444)
	const nobody = 65534
	child := func(args ...string) (string, string, error) {
		a, _ := json.Marshal(args)
		cmd := exec.Command(bin)
		cmd.Env = []string{childArgs + "=" + string(a)}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	probe := exec.Command("/bin/sh", "-c", `: > "$1/probe"`, "sh", dir)
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := probe.Run(); err == nil {
		t.Fatalf("user nobody created a file in %s: the test would prove nothing", dir)
	}
	return child
}

// openDir returns a new folder that every user may enter, removed when the
// test ends.
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "planmap-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		chmodTree(t, dir, 0o755, 0o644)
		os.RemoveAll(dir)
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func chmodTree(t *testing.T, dir string, dirMode, fileMode os.FileMode) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		mode := fileMode
		if d.IsDir() {
			mode = dirMode
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Errorf("chmod %s: %v", path, err)
		}
		return nil
	})
}

// TestReadOnlyMedium: planmap layers and export read a database in a
// folder they cannot write, where SQLite cannot create the -shm file it
// reads WAL databases through; a copy whose -wal holds changes the file
// does not have is refused, saying so, rather than read without them.
func TestReadOnlyMedium(t *testing.T) {
	ctx := context.Background()
	root := openDir(t)
	clean := filepath.Join(root, "clean", "planmap.gpkg")
	if _, _, err := planmap(t, "import", "--db", clean, "../../layers/testdata/parcels.geojson"); err != nil {
		t.Fatal(err)
	}
	// A copy taken while a writer has changes in its -wal: a store kept
	// open after an import, whose WAL nothing has checkpointed yet.
	walDB := filepath.Join(root, "wal", "planmap.gpkg")
	os.MkdirAll(filepath.Dir(walDB), 0o755)
	layerstest.CopyFile(t, clean, walDB, 0o644)
	live := filepath.Join(t.TempDir(), "live.gpkg")
	layerstest.CopyFile(t, clean, live, 0o644)
	s, err := gpkg.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	files, err := layers.ReadFiles([]string{"../../layers/testdata/parcels.geojson"})
	if err == nil {
		_, err = s.Import(ctx, files, layers.ImportOptions{Replace: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	layerstest.CopyFile(t, live, walDB, 0o644)
	layerstest.CopyFile(t, live+"-wal", walDB+"-wal", 0o644)
	s.Close()
	if fi, err := os.Stat(walDB + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the copied -wal is empty or missing (%v): the test would prove nothing", err)
	}

	reader := readOnlyRunner(t, root)
	t.Run("OK", func(t *testing.T) {
		out, errOut, err := reader("layers", "--db", clean)
		if err != nil || !strings.Contains(out, "parcels") {
			t.Fatalf("layers on a read-only folder = %v\nstdout: %s\nstderr: %s\nwant parcels listed", err, out, errOut)
		}
		out, errOut, err = reader("export", "--db", clean, "--layer", "parcels")
		if err != nil || !strings.Contains(out, `{"type":"Feature","id":1,`) {
			t.Fatalf("export on a read-only folder = %v\nstdout: %.200s\nstderr: %s\nwant the layer", err, out, errOut)
		}
	})
	t.Run("ErrUncheckpointedWAL", func(t *testing.T) {
		before := layerstest.FileState(t, walDB)
		_, errOut, err := reader("layers", "--db", walDB)
		want := walDB + " is on a read-only medium or in a folder this user cannot write, and has un-checkpointed changes in " + walDB + "-wal: copy both files to a writable place"
		if err == nil || !strings.Contains(errOut, want) {
			t.Errorf("layers with a -wal on a read-only folder = %v\nstderr: %s\nwant %q", err, errOut, want)
		}
		if after := layerstest.FileState(t, walDB); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}
