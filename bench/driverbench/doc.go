//go:build driverbench

// Package driverbench measures the SQLite drivers sidelog could use
// (modernc.org/sqlite, ncruces/go-sqlite3, and with cgo mattn/go-sqlite3)
// on the real segment schema: batched inserts into a segment that already
// holds a million rows, the viewer's queries on a million-row segment, and
// the file size per million rows. The results and the decision they led to
// are in BENCHMARKS.md ("SQLite driver").
//
// Every file carries the build tag driverbench, so the default build and
// `go test ./...` never compile it. Both ncruces and mattn register a
// database/sql driver named "sqlite3" in their init functions, so a cgo
// build (which includes mattn) must rename one of them at link time:
//
//	go test -tags driverbench \
//	  -ldflags=-X=github.com/mattn/go-sqlite3.driverName=sqlite3_mattn \
//	  -run '^$' -bench . ./bench/driverbench
//
// The benchmarks open every driver through its connector, never by the
// registered name, so the new name does not matter. With CGO_ENABLED=0 the
// mattn variant is left out and no flag is needed.
//
// The million-row segment is built once with modernc and cached under
// os.TempDir()/sidelog-driverbench, keyed by the schema and the generator;
// each benchmark works on its own copy.
package driverbench
