// Package security holds sidelog's standing security suite; it has tests
// only. The suite runs with the rest of the tests (go test ./...) and so in
// CI:
//
//   - TestPlantedSecrets logs every kind of secret the redactor knows
//     through the handler, the middleware and the CLI's exports into a real
//     log database, then reads every file under the data directory (the
//     day files, the catalog, WAL and shm files, the exports) byte by byte
//     and fails on any trace of them; the same run with redaction off must
//     find every one, which proves the scan can see them;
//   - TestHostileQueries sends SQL injection, FTS syntax, path traversal
//     and oversized input through every filter parameter and the query
//     language, and expects clear errors or empty results, never a crash
//     or another record;
//   - TestOutputInjection writes records whose message, keys and values
//     hold terminal escapes, bidi overrides and spreadsheet formulas, and
//     checks every output format of query, tail and export.
//
// The reference application's part of the suite lives next to it, in
// saas/web (TestSecurity*), because it needs its test server.
package security
