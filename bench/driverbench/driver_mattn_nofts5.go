//go:build driverbench && cgo && !(sqlite_fts5 || fts5)

package driverbench

// mattn/go-sqlite3 compiles FTS5 in only with its sqlite_fts5 build tag, and
// the segment schema needs FTS5. Build with
// -tags 'driverbench sqlite_fts5', or with CGO_ENABLED=0 to leave mattn out.
var _ = add_the_sqlite_fts5_build_tag_or_set_CGO_ENABLED_0
