//go:build driverbench

package driverbench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// batchRows is the number of rows per transaction.
const batchRows = 10_000

// fixtureRows is the size of the shared segment.
const fixtureRows = 1_000_000

// FixturePath returns the cached segment of n rows built with modernc,
// building it first if needed. logf reports progress.
func FixturePath(ctx context.Context, n int, logf func(string, ...any)) (string, error) {
	schema, err := readSchema()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(schema + "\x00" + strconv.Itoa(genVersion)))
	dir := filepath.Join(os.TempDir(), "sidelog-driverbench")
	path := filepath.Join(dir, fmt.Sprintf("segment-%d-%s.db", n, hex.EncodeToString(sum[:6])))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("fixture: %w", err)
	}
	tmp := path + ".tmp"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	if err := buildSegment(ctx, Drivers()[0], tmp, n, logf); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("fixture: %w", err)
	}
	return path, nil
}

// buildSegment creates a segment at path and writes n rows (a multiple of
// batchRows) of day0 into it with d, then checkpoints the WAL away.
func buildSegment(ctx context.Context, d Driver, path string, n int, logf func(string, ...any)) error {
	if err := createSegment(ctx, d, path); err != nil {
		return err
	}
	db, err := d.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	w, err := newWriter(ctx, db)
	if err != nil {
		return err
	}
	defer w.Close()
	g := newGen(1, day0)
	start, lap := time.Now(), time.Now()
	for i := 0; i < n; i += batchRows {
		if err := w.writeBatch(ctx, g.batch(batchRows)); err != nil {
			return err
		}
		if done := i + batchRows; done%100_000 == 0 {
			logf("%s: %d rows, last 100k at %.0f rows/s", filepath.Base(path), done, 100_000/time.Since(lap).Seconds())
			lap = time.Now()
		}
	}
	logf("%s: %d rows in %v (%.0f rows/s)", filepath.Base(path), n, time.Since(start).Round(time.Millisecond),
		float64(n)/time.Since(start).Seconds())
	w.Close()
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return db.Close()
}

// copyFile copies the segment src (checkpointed, closed) to dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy segment: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy segment: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy segment: %w", err)
	}
	return out.Close()
}

// fileBytes returns the database's size: page_count × page_size, which is
// the main file's size once the WAL is checkpointed.
func fileBytes(ctx context.Context, db *sql.DB) (int64, error) {
	var pages, size int64
	if err := db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, fmt.Errorf("page_count: %w", err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, fmt.Errorf("page_size: %w", err)
	}
	return pages * size, nil
}

// lastTS returns the newest ts in the segment, where a writer continues.
func lastTS(ctx context.Context, db *sql.DB) (int64, error) {
	var ts int64
	err := db.QueryRowContext(ctx, "SELECT ts FROM logs ORDER BY id DESC LIMIT 1").Scan(&ts)
	if err != nil {
		return 0, fmt.Errorf("last ts: %w", err)
	}
	return ts, nil
}
