package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
)

// TestAudit_KillAfterCommit starts a child process that commits changes and
// is killed with SIGKILL right after, before anything reaches the log
// database; the application started again delivers every record.
func TestAudit_KillAfterCommit(t *testing.T) {
	if os.Getenv("AUDIT_CHILD_DB") != "" {
		t.Skip("child process")
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			url := storetest.URL(t, dialect)
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			db.Close()

			cmd := exec.Command(os.Args[0], "-test.run=^TestAuditChild$", "-test.v")
			cmd.Env = append(os.Environ(), "AUDIT_CHILD_DB="+url)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			var committed string
			for sc.Scan() {
				if id, ok := strings.CutPrefix(sc.Text(), "COMMITTED "); ok {
					committed = id
					break
				}
			}
			// Killed right after its commit returned: no deliverer ran.
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if committed == "" {
				t.Fatal("the child never committed")
			}

			r := newAuditRigAt(t, url)
			got := r.take(t)
			var seq []string
			for _, ch := range got {
				seq = append(seq, ch.Action+" "+ch.Entity)
			}
			if w := "[create user create org create membership create project update project]"; fmt.Sprint(seq) != w {
				t.Fatalf("after restart: %v, want %s", seq, w)
			}
			if last := got[len(got)-1]; last.EntityID != committed || last.RequestID != "killed-req" || fmt.Sprint(last.Diff["name"]) != "[before after]" {
				t.Errorf("last change: %+v, want project %s renamed in killed-req", last, committed)
			}
			if n, err := r.d.Pending(context.Background()); err != nil || n != 0 {
				t.Errorf("outbox after delivery: %d rows, %v", n, err)
			}
		})
	}
}

// TestAuditChild is the child process of TestAudit_KillAfterCommit: it
// commits a few changes, says so, and waits to be killed.
func TestAuditChild(t *testing.T) {
	url := os.Getenv("AUDIT_CHILD_DB")
	if url == "" {
		t.Skip("runs as the child of TestAudit_KillAfterCommit")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	u := &saas.User{Email: "victim@example.com"}
	if err := db.CreateUser(ctx, u, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	as := audit.WithActor(saas.NewContext(ctx, u), audit.Actor{RequestID: "killed-req"})
	org := &saas.Org{Name: "Org"}
	if err := db.CreateOrg(as, org, u.ID); err != nil {
		t.Fatal(err)
	}
	p := &saas.Project{OrgID: org.ID, Name: "before"}
	if err := db.CreateProject(as, p); err != nil {
		t.Fatal(err)
	}
	name := "after"
	if _, err := db.UpdateProject(as, p.ID, saas.ProjectUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("COMMITTED %d\n", p.ID)
	os.Stdout.Sync()
	time.Sleep(time.Minute)
}
