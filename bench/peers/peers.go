package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	_ "github.com/pocketbase/pocketbase/migrations" // the system migrations: _logs in auxiliary.db
	"github.com/pocketbase/pocketbase/tools/logger"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// A peer is one way of logging: a slog.Handler writing somewhere, and the
// way its user finds records again.
type peer interface {
	// start opens a fresh store in dir and returns its logger.
	start(ctx context.Context, dir string) (*slog.Logger, error)
	// finish makes everything logged so far stored (as the logger's own
	// shutdown does) and closes the store; it returns how many calls the
	// logger lost or dropped by its own count (-1 when it does not count).
	finish(ctx context.Context) (dropped int64, err error)
	// files are the paths holding the logs in dir (for their size).
	files(dir string) []string
	// reopen opens the store in dir for reading.
	reopen(ctx context.Context, dir string) error
	// count returns the number of stored records.
	count(ctx context.Context) (int64, error)
	// queries answered by the peer's own means; each returns the number
	// of records found.
	byRequestID(ctx context.Context, id string) (int, error)
	newestErrors(ctx context.Context) (int, error)
	word(ctx context.Context, w string) (int, error)
	close() error
}

// sidelogPeer is sidelog with default options (Level debug, so that every
// generated record is kept, as for the other peers).
type sidelogPeer struct {
	db *sqlite.DB
	h  *handler.Handler
}

func (p *sidelogPeer) start(ctx context.Context, dir string) (*slog.Logger, error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{})
	if err != nil {
		return nil, err
	}
	p.db = db
	p.h = handler.New(db, &handler.Options{Level: slog.LevelDebug})
	return slog.New(p.h), nil
}

func (p *sidelogPeer) finish(ctx context.Context) (int64, error) {
	err := p.h.Close(ctx)
	st := p.h.Stats()
	return st.Dropped + st.Failed, errors.Join(err, p.db.Close())
}

func (p *sidelogPeer) files(dir string) []string {
	return []string{filepath.Join(dir, "logs.db"), filepath.Join(dir, "logs.db.d")}
}

func (p *sidelogPeer) reopen(ctx context.Context, dir string) (err error) {
	p.db, err = sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{MustExist: true})
	return err
}

func (p *sidelogPeer) count(ctx context.Context) (int64, error) {
	return p.db.Count(ctx, sidelog.Filter{})
}

func (p *sidelogPeer) byRequestID(ctx context.Context, id string) (int, error) {
	res, err := p.db.Query(ctx, sidelog.Filter{RequestID: id}, sidelog.Page{Limit: 1000})
	return len(res.Records), err
}

func (p *sidelogPeer) newestErrors(ctx context.Context) (int, error) {
	lvl := slog.LevelError
	res, err := p.db.Query(ctx, sidelog.Filter{MinLevel: &lvl}, sidelog.Page{Limit: 50})
	return len(res.Records), err
}

func (p *sidelogPeer) word(ctx context.Context, w string) (int, error) {
	res, err := p.db.Query(ctx, sidelog.Filter{Text: w}, sidelog.Page{Limit: 50})
	return len(res.Records), err
}

func (p *sidelogPeer) close() error { return p.db.Close() }

// pocketbasePeer is PocketBase's application logger (app.Logger(): its
// batch handler, 200 records per transaction and a flush every 3 s,
// writing the table _logs of auxiliary.db), queried the way its logs API
// filters: data.request_id is json_extract, level and time are columns,
// a word is a LIKE over message and data.
type pocketbasePeer struct {
	app *core.BaseApp
	bh  *logger.BatchHandler
}

func (p *pocketbasePeer) start(ctx context.Context, dir string) (*slog.Logger, error) {
	p.app = core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := p.app.Bootstrap(); err != nil {
		return nil, err
	}
	l := p.app.Logger()
	bh, ok := l.Handler().(*logger.BatchHandler)
	if !ok {
		return nil, fmt.Errorf("pocketbase's logger is a %T, not a batch handler", l.Handler())
	}
	// Keep debug records too, as the other peers do: set in the app's
	// settings (as in its admin UI), else a restart deletes them.
	settings := p.app.Settings()
	settings.Logs.MinLevel = int(slog.LevelDebug)
	if err := p.app.Save(settings); err != nil {
		return nil, err
	}
	if !bh.Enabled(ctx, slog.LevelDebug) {
		return nil, fmt.Errorf("pocketbase's logger still ignores debug records")
	}
	p.bh = bh
	return l, nil
}

func (p *pocketbasePeer) finish(ctx context.Context) (int64, error) {
	// What the app's OnTerminate does: write what is left.
	err := p.bh.WriteAll(ctx)
	return -1, errors.Join(err, p.app.ResetBootstrapState())
}

func (p *pocketbasePeer) files(dir string) []string {
	return []string{filepath.Join(dir, "auxiliary.db"), filepath.Join(dir, "auxiliary.db-wal")}
}

func (p *pocketbasePeer) reopen(ctx context.Context, dir string) error {
	p.app = core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	return p.app.Bootstrap()
}

func (p *pocketbasePeer) count(ctx context.Context) (int64, error) {
	var n int64
	err := p.app.AuxDB().NewQuery("SELECT COUNT(*) FROM _logs").WithContext(ctx).Row(&n)
	return n, err
}

func (p *pocketbasePeer) rows(ctx context.Context, q string, params dbx.Params) (int, error) {
	var logs []*core.Log
	err := p.app.AuxDB().NewQuery(q).Bind(params).WithContext(ctx).All(&logs)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return len(logs), err
}

func (p *pocketbasePeer) byRequestID(ctx context.Context, id string) (int, error) {
	return p.rows(ctx, "SELECT * FROM _logs WHERE json_extract(data, '$.request_id') = {:id} ORDER BY created DESC LIMIT 1000", dbx.Params{"id": id})
}

func (p *pocketbasePeer) newestErrors(ctx context.Context) (int, error) {
	return p.rows(ctx, "SELECT * FROM _logs WHERE level >= 8 ORDER BY created DESC LIMIT 50", nil)
}

func (p *pocketbasePeer) word(ctx context.Context, w string) (int, error) {
	return p.rows(ctx, "SELECT * FROM _logs WHERE message LIKE {:w} OR data LIKE {:w} ORDER BY created DESC LIMIT 50", dbx.Params{"w": "%" + w + "%"})
}

func (p *pocketbasePeer) close() error { return p.app.ResetBootstrapState() }

// jsonPeer is what a Go team does without a log database:
// slog.NewJSONHandler into a file, one line per record, searched with grep
// (and jq in the report).
type jsonPeer struct {
	f    *os.File
	path string
}

func (p *jsonPeer) start(ctx context.Context, dir string) (*slog.Logger, error) {
	p.path = filepath.Join(dir, "app.log")
	f, err := os.OpenFile(p.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p.f = f
	return slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})), nil
}

func (p *jsonPeer) finish(ctx context.Context) (int64, error) { return -1, p.f.Close() }

func (p *jsonPeer) files(dir string) []string { return []string{filepath.Join(dir, "app.log")} }

func (p *jsonPeer) reopen(ctx context.Context, dir string) error {
	p.path = filepath.Join(dir, "app.log")
	_, err := os.Stat(p.path)
	return err
}

func (p *jsonPeer) count(ctx context.Context) (int64, error) {
	f, err := os.Open(p.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	sc := bufio.NewReader(f)
	buf := make([]byte, 1<<20)
	for {
		k, err := sc.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err != nil {
			return n, nil
		}
	}
}

// lines runs a shell pipeline over the file (as $F) and counts its output
// lines.
func (p *jsonPeer) lines(ctx context.Context, pipeline string) (int, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", pipeline)
	cmd.Env = append(os.Environ(), "F="+p.path, "LC_ALL=C")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && len(out) == 0 {
		err = nil // grep found nothing
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", pipeline, err)
	}
	return strings.Count(string(out), "\n"), nil
}

func (p *jsonPeer) byRequestID(ctx context.Context, id string) (int, error) {
	return p.lines(ctx, fmt.Sprintf(`grep -F '"request_id":"%s"' "$F"`, id))
}

func (p *jsonPeer) newestErrors(ctx context.Context) (int, error) {
	return p.lines(ctx, `tac "$F" | grep -m 50 -F '"level":"ERROR"'`)
}

func (p *jsonPeer) word(ctx context.Context, w string) (int, error) {
	return p.lines(ctx, fmt.Sprintf(`tac "$F" | grep -m 50 -F '%s'`, w))
}

func (p *jsonPeer) close() error { return nil }

// jqQueries are the same three questions asked with jq, which reads every
// record as JSON instead of matching bytes.
func jqQueries(id, w string) [3]string {
	return [3]string{
		fmt.Sprintf(`jq -c 'select(.request_id == "%s")' "$F"`, id),
		`jq -c 'select(.level == "ERROR")' "$F" | tail -n 50`,
		fmt.Sprintf(`jq -c 'select(tostring | contains("%s"))' "$F" | tail -n 50`, w),
	}
}
