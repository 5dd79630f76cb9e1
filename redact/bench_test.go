package redact_test

import (
	"testing"

	"github.com/sidelog/sidelog/redact"
)

func BenchmarkRedactor_String(b *testing.B) {
	r := redact.New(redact.Options{})
	for _, bc := range []struct{ name, s string }{
		{"clean-short", "GET /projects/42 200"},
		{"clean-message", "user 1234 updated project 99 in org acme: renamed to Apollo launch plan"},
		{"secret", "calling api with Authorization: Bearer " + jwt},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.String(bc.s)
			}
		})
	}
}

func BenchmarkRedactor_Key(b *testing.B) {
	r := redact.New(redact.Options{})
	b.ReportAllocs()
	for b.Loop() {
		r.Key("project_id")
	}
}

// BenchmarkRedactor_Record4 is the redaction work the handler does for the
// four-attribute record of handler.BenchmarkRedaction: the message, four
// keys and the one string value.
func BenchmarkRedactor_Record4(b *testing.B) {
	r := redact.New(redact.Options{})
	b.ReportAllocs()
	for b.Loop() {
		r.String("request handled")
		r.Key("path")
		r.String("/api/projects/42")
		r.Key("status")
		r.Key("elapsed")
		r.Key("cached")
	}
}
