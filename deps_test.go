package sidelog_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceDependencies builds the module graph of a tiny service that
// imports only the handler and the SQLite store, as a user's service would,
// and checks that it inherits no cgo SQLite driver, no browser automation
// library, no test-only tool and no web framework: those live in the nested
// modules bench/, e2e/ and frameworks/. It also checks that the
// packages it compiles leave out the optional integrations (Prometheus,
// the Sentry SDK), whose modules the graph may list.
func TestServiceDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/service\n\ngo 1.26\n\n"+
		"require github.com/sidelog/sidelog v0.0.0\n\n"+
		"replace github.com/sidelog/sidelog => "+filepath.ToSlash(root)+"\n")
	write("main.go", `package main

import (
	"context"
	"log/slog"

	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

func main() {
	st, err := sqlite.Open(context.Background(), "logs.db", sqlite.Options{})
	if err != nil {
		panic(err)
	}
	slog.SetDefault(slog.New(handler.New(st, nil)))
}
`)
	// The repository's go.sum covers every module the service can need.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write("go.sum", string(sum))
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	modules := run("list", "-m", "all")
	for _, bad := range []string{
		"github.com/mattn/go-sqlite3",   // cgo driver
		"github.com/ncruces/go-sqlite3", // the other compared driver
		"github.com/chromedp/",          // browser automation
		"github.com/go-rod/",
		"github.com/playwright-community/",
		"go.opentelemetry.io/collector", // the Collector tests
		"github.com/gin-gonic/",         // web frameworks: their adapters are in the frameworks module
		"github.com/labstack/echo",
	} {
		for _, line := range strings.Split(modules, "\n") {
			if strings.HasPrefix(line, bad) {
				t.Errorf("a service importing handler and sqlite inherits %s", line)
			}
		}
	}
	if !strings.Contains(modules, "modernc.org/sqlite") {
		t.Errorf("go list -m all does not list the pure-Go driver; the check reads the wrong graph:\n%s", modules)
	}
	pkgs := run("list", "-deps", ".")
	for _, bad := range []string{"github.com/prometheus/", "github.com/getsentry/", "github.com/sidelog/sidelog/promsidelog", "github.com/sidelog/sidelog/sentry"} {
		for _, line := range strings.Split(pkgs, "\n") {
			if strings.HasPrefix(line, bad) {
				t.Errorf("handler and sqlite compile in %s", line)
			}
		}
	}
}
