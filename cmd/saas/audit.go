package main

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/sidelog/sidelog"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/web"
	"github.com/sidelog/sidelog/sqlite"
)

// startAudit runs the audit deliverer (business outbox -> log database)
// until the returned stop is called; stop delivers what is pending first.
// It also keeps the chain's head in the business database (keepChainHead)
// after every delivery, every headInterval, and once more at stop.
func startAudit(ctx context.Context, db *store.DB, lg *logging) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	keep := func() {
		if err := keepChainHead(ctx, db, lg.store); err != nil && ctx.Err() == nil {
			lg.logger.Error("save audit chain head", "error", err)
		}
	}
	d := db.AuditDeliverer(lg.store, audit.DeliverOptions{OnError: func(err error) {
		lg.logger.Error("audit delivery failed; the changes wait in the outbox", "error", err)
	}, OnDelivered: func(int) { keep() }})
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	wg.Go(func() {
		t := time.NewTicker(headInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				keep()
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
		// The security events queued so far are chained too: flush them
		// before the last head is taken.
		fctx, fcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer fcancel()
		if lg.handler != nil {
			if err := lg.handler.Flush(fctx); err != nil {
				lg.logger.Error("flush before saving the audit chain head", "error", err)
			}
		}
		if err := keepChainHead(fctx, db, lg.store); err != nil {
			lg.logger.Error("save audit chain head", "error", err)
		}
	}
}

// headInterval is how often the chain's head is saved besides after each
// audit delivery (security events join the chain between deliveries).
const headInterval = 10 * time.Second

// keepChainHead saves the log database's chain head in the business
// database, which only moves it forward.
func keepChainHead(ctx context.Context, db *store.DB, logs *sqlite.DB) error {
	h, err := logs.ChainHead(ctx)
	if err != nil {
		return err
	}
	_, err = db.SaveChainHead(ctx, h.Seq, h.Hash)
	return err
}

// deliverAudit moves the audit outbox into the log database once: what a
// command that changed business data (createsuperuser, migrate) does
// before it exits, saving the chain's head after. A running server would
// deliver the rows too.
func deliverAudit(ctx context.Context, cfg config, db *store.DB) error {
	logs, err := sqlite.Open(ctx, cfg.LogDB, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("deliver audit records: %w", err)
	}
	_, err = db.AuditDeliverer(logs, audit.DeliverOptions{}).Deliver(ctx)
	if err == nil {
		err = keepChainHead(ctx, db, logs)
	}
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
