package cli_test

import (
	"os"
	"strings"
	"testing"
)

// TestDocs keeps docs/cli.md in step with the help of every command.
func TestDocs(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"tail", "query", "stats", "cleanup", "vacuum", "check", "export", "import", "purge", "gen", "help"} {
		res := runCLI(t, nil, c, "--help")
		if !strings.Contains(string(doc), "```\n"+res.stdout+"```") {
			t.Errorf("docs/cli.md lacks the current help of %s; copy it from 'sidelog %s --help'", c, c)
		}
	}
}
