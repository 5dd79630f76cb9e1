// Package sidelog is a dedicated, local-only logging database for Go web
// applications.
//
// Business data stays in its own database; logs, HTTP requests, audit records
// and security events go into a separate embedded SQLite database owned by the
// application. This root package holds the domain types shared by every part
// of sidelog: the unified [Record], its [Kind], the [Filter] and [Page] of the
// read side, the [Store] contracts and the [Error] type. It imports no driver
// and nothing else of sidelog's; the SQLite store lives in package sqlite,
// the slog handler in package handler.
package sidelog
