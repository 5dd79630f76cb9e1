package main

import (
	"bytes"
	"strings"
	"testing"
)

// A small run of every peer: each stores every record and answers the
// three questions with the records the generator made (run fails
// otherwise), and the report has a row for each.
func TestPeersSmall(t *testing.T) {
	var out bytes.Buffer
	err := run(config{n: 3000, producers: 4, callN: 300, rate: 5000, peers: []string{"sidelog", "pocketbase", "jsonfile"}, dir: t.TempDir(), seed: 3}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, p := range []string{"| sidelog |", "| pocketbase |", "| jsonfile |", "sidelog / pocketbase:"} {
		if !strings.Contains(out.String(), p) {
			t.Errorf("no %q in the report:\n%s", p, out.String())
		}
	}
}
