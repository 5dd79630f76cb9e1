// Package bench holds measurements that need third-party code sidelog itself
// does not use: the SQLite driver comparison (package driverbench, with the
// cgo driver mattn/go-sqlite3 and ncruces/go-sqlite3). It is a module of its
// own so that a service importing sidelog never inherits those drivers; the
// workspace file (go.work) joins it to the repository's build.
package bench
