// Package childbuild builds the process that the kill tests start and
// kill (internal/killchild), without the race detector even when the tests
// run with it: a race-instrumented child costs several times more at each
// of the tests' 20 kills, and what the tests check, the files the child
// leaves, does not depend on it.
package childbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build builds internal/killchild into a temporary directory of tb and
// returns its path. It skips tb when there is no go command.
func Build(tb testing.TB) string {
	tb.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("no go command to build the child process:", err)
	}
	path := filepath.Join(tb.TempDir(), "killchild")
	cmd := exec.Command(goBin, "build", "-o", path, "github.com/sidelog/sidelog/internal/killchild")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as .ci/run's pure-Go build: its cache serves this one
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build internal/killchild: %v\n%s", err, out)
	}
	return path
}
