package sqlite

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Space is how a log database's bytes on disk divide, summed over the
// catalog and every day file. Tables, Indexes, Search and Free are pages
// inside the database files (as SQLite's dbstat virtual table counts them,
// including pages whose newest version is still in the write-ahead log);
// WAL is the side files beside them. The -shm files (the WAL's index, 32
// KiB per open file, deleted when the last connection closes) are left
// out: they come and go with the connections.
type Space struct {
	Files   int   // the catalog and the day files
	Bytes   int64 // on disk: every file with its -wal file
	Tables  int64 // the records, their messages and dictionaries, rollups
	Indexes int64 // the secondary indexes on the records
	Search  int64 // the full-text index over messages (FTS5 tables)
	Free    int64 // free pages inside the files: reused by later writes, given back only by vacuum
	WAL     int64 // write-ahead logs: recent writes not yet folded into the files (reused after each checkpoint)
}

// Space measures where the database's bytes are. It reads every page
// header of every file (SQLite's dbstat), so it costs a read of the
// database, not a scan of the records' contents.
func (db *DB) Space(ctx context.Context) (Space, error) {
	var sp Space
	sp.addFiles(db.path)
	defer db.afterRead(ctx)
	if err := sp.addPages(ctx, db.cat()); err != nil {
		return sp, classify(fmt.Errorf("space of the catalog: %w", err))
	}
	for _, s := range db.segments() {
		err := s.withReader(func(r queryer) error {
			sp.addFiles(s.path)
			return sp.addPages(ctx, r)
		})
		if err = db.survive(s, err); err != nil {
			return sp, classify(fmt.Errorf("space of %s: %w", s.name(), err))
		}
	}
	return sp, nil
}

func (sp *Space) addFiles(path string) {
	sp.Files++
	if st, err := os.Stat(path); err == nil {
		sp.Bytes += st.Size()
	}
	if st, err := os.Stat(path + "-wal"); err == nil {
		sp.Bytes += st.Size()
		sp.WAL += st.Size()
	}
}

// spaceQuery sums the pages of every b-tree by what it holds. Internal
// b-trees (sqlite_schema, sqlite_stat*) count as tables.
const spaceQuery = `SELECT s.name, coalesce(m.type, 'table'), sum(s.pgsize)
	FROM dbstat AS s LEFT JOIN sqlite_schema AS m ON m.name = s.name
	GROUP BY s.name`

func (sp *Space) addPages(ctx context.Context, q queryer) error {
	rows, err := q.QueryContext(ctx, spaceQuery)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		var n int64
		if err := rows.Scan(&name, &typ, &n); err != nil {
			return err
		}
		switch {
		case strings.Contains(name, "_fts_"):
			sp.Search += n
		case typ == "index":
			sp.Indexes += n
		default:
			sp.Tables += n
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var free, size int64
	if err := q.QueryRowContext(ctx, `SELECT freelist_count, page_size FROM pragma_freelist_count, pragma_page_size`).Scan(&free, &size); err != nil {
		return err
	}
	sp.Free += free * size
	return nil
}
