package sidelog_test

import (
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

func TestSuggestField(t *testing.T) {
	for key, want := range map[string]string{
		"lvl": "level", "LVL": "level", "levle": "level", "stauts": "status", "sttaus": "status", "latency": "duration",
		"usr": "user", "methd": "method", "rout": "route", "kinds": "kind",
		"level": "", "order": "", "project_id": "", "customer.email": "", "x": "",
	} {
		if got := sidelog.SuggestField(key); got != want {
			t.Errorf("SuggestField(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestMissingAttr(t *testing.T) {
	now := time.Now()
	for q, want := range map[string][]string{
		"lvl:warn":                      {"lvl:warn", "level:warn"},
		"-stauts:500 timeout":           {"stauts:500", "status:500"},
		"order.total>100 OR has:lvl":    {"order.total>100", "", "has:lvl", "has:level"},
		`(latency>=250ms) kind:request`: {"latency>=250ms", "duration>=250ms"},
		"level:warn":                    nil,
	} {
		f, err := sidelog.ParseQuery(q, now)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var got []string
		for _, term := range f.Expr.AttrTerms() {
			m := sidelog.NewMissingAttr(term)
			got = append(got, m.Term, m.Suggestion)
			if m.Hint() == "" {
				t.Errorf("%s: no hint", q)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %q, want %q", q, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %q, want %q", q, got, want)
			}
		}
	}
}
