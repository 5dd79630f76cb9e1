// Package e2e holds sidelog's end-to-end tests that need heavy third-party
// test tools (a headless browser driver, an OpenTelemetry Collector). It is a
// module of its own so that a service importing sidelog never inherits them;
// the workspace file (go.work) lets `go test ./... ./e2e/...` run both.
package e2e
