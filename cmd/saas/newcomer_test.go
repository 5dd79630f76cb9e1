package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog/saas/web/webtest"
)

// readmeCommands returns the shell lines of README.md's sh blocks, without
// their comments, in order.
func readmeCommands(t *testing.T, readme string) []string {
	t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in:
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
	}
	return out
}

// TestNewcomer is the README's first hour as a test: a fresh clone of the
// repository, the README's first command run exactly as written (with ADDR
// on a free port), a sign-up, a page view and a login with the printed
// password, then every operator command the README shows, run in the clone
// against the database the first run made, each checked for its exit code
// and a plausible output. It builds in the clone, reusing the build cache.
func TestNewcomer(t *testing.T) {
	if testing.Short() {
		t.Skip("clones and builds the repository")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	clone := filepath.Join(t.TempDir(), "sidelog")
	if out, err := exec.Command(git, "clone", "--quiet", "--no-hardlinks", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, string(readme))
	if len(cmds) == 0 || cmds[0] != "go run ./cmd/saas" {
		t.Fatalf("the README's first command is %q, not the reference app", cmds)
	}

	// The environment of a newcomer's shell: none of the app's variables.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DATABASE_URL", "SIDELOG_DB", "SAAS_DATA_DIR", "SAAS_ADMIN_EMAIL", "SAAS_ADMIN_PASSWORD",
			"SENTRY_DSN", "METRICS_ADDR", "METRICS_TOKEN", "ADDR", "GOWORK":
			continue
		}
		env = append(env, kv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	// The first command, as written.
	server := exec.Command("sh", "-c", cmds[0])
	server.Dir = clone
	server.Env = append(env, "ADDR="+addr)
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // go run's child too
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{w: io.Discard}
	server.Stderr = stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.Wait() }()
	interrupt := func() {
		syscall.Kill(-server.Process.Pid, syscall.SIGINT)
	}
	t.Cleanup(func() {
		if server.ProcessState == nil {
			syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
		}
	})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var first []string
	var url, pw string
	pwRE := regexp.MustCompile(`^generated password \(shown only now\): (\S+)$`)
	timeout := time.After(5 * time.Minute) // a cold build on a busy machine
	for url == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the first run exited before listening: %v\nstdout:\n%s\nstderr:\n%s", <-done, strings.Join(first, "\n"), stderr.String())
			}
			first = append(first, line)
			if m := pwRE.FindStringSubmatch(line); m != nil {
				pw = m[1]
			}
			if u, ok := strings.CutPrefix(line, "listening on "); ok {
				url = u
			}
		case <-timeout:
			interrupt()
			t.Fatalf("the first run did not listen in 5 minutes:\n%s\n%s", strings.Join(first, "\n"), stderr.String())
		}
	}
	// What the README says the first run prints.
	out := strings.Join(first, "\n")
	for _, want := range []string{"created superuser admin@example.com", "generated password (shown only now): ", "listening on http://" + addr} {
		if !strings.Contains(out, want) {
			t.Errorf("the first run's output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(string(readme), "created superuser admin@example.com") {
		t.Error("the README does not show what the first run prints")
	}

	c := webtest.New(t, url)
	c.Mail = func(to string) string { return waitMail(stderr, to) }
	c.Signup("newcomer@example.com", "a newcomer's password", "Newcomer Ltd")
	if r := c.Get("/projects"); r.Status != 200 || !strings.Contains(r.Body, "Newcomer Ltd") {
		t.Errorf("the projects page after sign-up: %d\n%.300s", r.Status, r.Body)
	}
	webtest.New(t, url).Login("admin@example.com", pw)
	if r := c.Get("/no-such-page"); r.Status != 404 { // a warning for the README's query
		t.Errorf("a missing page: %d", r.Status)
	}

	interrupt()
	select {
	case err := <-done:
		// go run itself may report the ^C it passed on; the app says
		// whether it shut down in order.
		if !strings.Contains(stderr.String(), "msg=stopped") {
			t.Errorf("the first run did not stop cleanly on ^C: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the first run did not stop on ^C")
	}

	// The README's operator commands, in the clone, on that database.
	ran := 0
	for _, cmd := range cmds[1:] {
		if !strings.HasPrefix(cmd, "go run ./cmd/saas logs ") && !strings.HasPrefix(cmd, "go run ./cmd/sidelog ") {
			continue // the tests, PostgreSQL, Docker
		}
		ran++
		t.Run(cmd, func(t *testing.T) {
			out, err := runReadmeCommand(t, clone, env, cmd)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var plausible string
			switch {
			case strings.Contains(cmd, " tail"):
				plausible = "GET /projects 200"
			case strings.Contains(cmd, " query"):
				plausible = "GET /no-such-page 404"
			case strings.Contains(cmd, " stats"):
				plausible = "records "
			}
			if plausible != "" && !strings.Contains(out, plausible) {
				t.Errorf("no %q in:\n%s", plausible, out)
			}
			if strings.TrimSpace(out) == "" {
				t.Error("no output")
			}
		})
	}
	if ran < 3 {
		t.Errorf("the README shows %d operator commands; the test expects tail, query and stats", ran)
	}
}

// runReadmeCommand runs one README line through the shell in dir. A
// following command (tail -f) runs until it has printed a request record
// and is then interrupted, as a user would.
func runReadmeCommand(t *testing.T, dir string, env []string, line string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncBuffer
	out.w = io.Discard
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	follow, interrupted := strings.Contains(line, " -f"), false
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			switch {
			case follow && !interrupted:
				return out.String(), fmt.Errorf("tail -f ended by itself: %v", err)
			case interrupted:
				return out.String(), nil // ^C ends it; go run reports the signal
			}
			return out.String(), err
		case <-tick.C:
			if follow && !interrupted && strings.Contains(out.String(), "GET /projects 200") {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
				interrupted = true
			}
		case <-ctx.Done():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return out.String(), fmt.Errorf("still running after 5 minutes")
		}
	}
}
