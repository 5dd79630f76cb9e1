// Package browser drives the reference application's admin UI in headless
// Chromium (chromedp), on SQLite and on PostgreSQL. One browser serves the
// whole package; each test gets tabs of its own.
package browser

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

var (
	// browserCtx is the browser every test opens its tabs in; nil when
	// Chromium is missing (tests skip, or fail under CI).
	browserCtx context.Context
	// bin holds the saas and sidelog binaries built for the tests.
	bin string
	// noBrowser says why there is no browser.
	noBrowser string

	screenshots = flag.Bool("screenshots", false, "write the screenshots into ../../docs (else into a temporary directory)")
)

// chromiumPaths are the real binaries (not the shell wrappers on PATH) of
// Debian's chromium and chromium-headless-shell packages.
var chromiumPaths = []string{"/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium"}

func findChromium() string {
	if p := os.Getenv("SIDELOG_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sidelog-browser-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = dir
	exe := findChromium()
	if exe == "" {
		noBrowser = fmt.Sprintf("no Chromium at %v (set SIDELOG_CHROMIUM; apt-get install chromium)", chromiumPaths)
		return m.Run()
	}
	// The binaries under test, built from the repository.
	for _, cmd := range []string{"saas", "sidelog"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, cmd), "./cmd/"+cmd)
		build.Dir = "../.."
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", cmd, err, out)
			return 1
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// Start the browser on a context without a deadline: it lives as long.
	if err := chromedp.Do(bctx); err != nil {
		fmt.Fprintf(os.Stderr, "start %s: %v\n", exe, err)
		return 1
	}
	browserCtx = bctx
	return m.Run()
}

// needBrowser skips without a browser, except under CI, where a missing
// browser must not hide behind a skip.
func needBrowser(t *testing.T) {
	t.Helper()
	if browserCtx != nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set and there is no browser: %s", noBrowser)
	}
	t.Skip(noBrowser)
}
