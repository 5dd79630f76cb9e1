package main

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync"

	"github.com/sidelog/sidelog"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/web"
	"github.com/sidelog/sidelog/sqlite"
)

// startAudit runs the audit deliverer (business outbox -> log database)
// until the returned stop is called; stop delivers what is pending first.
func startAudit(ctx context.Context, db *store.DB, lg *logging) (stop func()) {
	d := db.AuditDeliverer(lg.store, audit.DeliverOptions{OnError: func(err error) {
		lg.logger.Error("audit delivery failed; the changes wait in the outbox", "error", err)
	}})
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// deliverAudit moves the audit outbox into the log database once: what a
// command that changed business data (createsuperuser, migrate) does
// before it exits. A running server would deliver the rows too.
func deliverAudit(ctx context.Context, cfg config, db *store.DB) error {
	logs, err := sqlite.Open(ctx, cfg.LogDB, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("deliver audit records: %w", err)
	}
	_, err = db.AuditDeliverer(logs, audit.DeliverOptions{}).Deliver(ctx)
	if cerr := logs.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("deliver audit records (they stay in the outbox): %w", err)
	}
	return nil
}

// auditClientIP gives the audit actor of each request its client address,
// behind the same trusted proxies as the request log.
func auditClientIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := httplog.ClientIP(r, trusted)
			if ip.IsValid() {
				r = r.WithContext(audit.WithActor(r.Context(), audit.Actor{ClientIP: ip.String()}))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// orgAudit reads an organisation's audit log from the log database for
// the web server, which checks who may see it.
func orgAudit(lg *logging) web.OrgAuditFunc {
	return func(ctx context.Context, orgID, before int64, limit int) ([]audit.Change, int64, error) {
		changes, next, err := audit.TenantLog(ctx, lg.store, strconv.FormatInt(orgID, 10),
			sidelog.Page{Limit: limit, After: sidelog.Cursor{ID: before}})
		return changes, next.ID, err
	}
}
