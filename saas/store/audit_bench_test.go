package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/store/storetest"
	"github.com/sidelog/sidelog/sqlite"
)

// BenchmarkAuditCapture measures what audit capture adds to a business
// write: UpdateProject (read, check, UPDATE, commit) changing the budget,
// on a store without audit (triggers dropped, no context) and with it
// (context + trigger + outbox row), and with the deliverer running beside
// it into a log database. Run the modes in one invocation and compare
// them within it:
//
//	go test -run '^$' -bench AuditCapture -count 5 ./saas/store/
//
// -count repeats each mode before the next; to interleave the modes, run
// the command several times (BENCHMARKS.md does, and compares cpu-ns/op).
func BenchmarkAuditCapture(b *testing.B) {
	for _, dialect := range storetest.Dialects {
		for _, mode := range []string{"off", "capture", "capture+deliver"} {
			b.Run(fmt.Sprintf("%s/audit=%s", dialect, mode), func(b *testing.B) {
				ctx := context.Background()
				db := storetest.MustOpen(b, dialect)
				switch mode {
				case "off":
					if err := db.WithoutAudit(ctx); err != nil {
						b.Fatal(err)
					}
				case "capture+deliver":
					logs, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "logs.db"), sqlite.Options{})
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { logs.Close() })
					dctx, cancel := context.WithCancel(ctx)
					done := make(chan struct{})
					go func() { db.AuditDeliverer(logs, audit.DeliverOptions{}).Run(dctx); close(done) }()
					b.Cleanup(func() { cancel(); <-done })
				}
				u := &saas.User{Email: "bench@example.com"}
				if err := db.CreateUser(ctx, u, "correct horse battery"); err != nil {
					b.Fatal(err)
				}
				as := saas.NewContext(ctx, u)
				org := &saas.Org{Name: "Bench"}
				if err := db.CreateOrg(as, org, u.ID); err != nil {
					b.Fatal(err)
				}
				p := &saas.Project{OrgID: org.ID, Name: "Bench project"}
				if err := db.CreateProject(as, p); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				cpu0 := processCPU()
				for i := range b.N {
					budget := int64(i + 1)
					if _, err := db.UpdateProject(as, p.ID, saas.ProjectUpdate{BudgetCents: &budget}); err != nil {
						b.Fatal(err)
					}
				}
				// CPU of the whole process (user + system, the deliverer
				// included): on a loaded machine wall time mostly measures
				// the other processes. PostgreSQL's own CPU is not in it.
				b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

var _ = store.Postgres

// processCPU returns the process's user and system CPU time in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
