package cli_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocs keeps docs/cli.md in step with the help of every command;
// -update rewrites its command sections.
func TestDocs(t *testing.T) {
	const path = "../docs/cli.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, c := range []string{"tail", "query", "show", "top", "stats", "cleanup", "vacuum", "check", "export", "import", "purge", "ship", "audit", "gen", "serve", "help"} {
		help := runCLI(t, nil, c, "--help").stdout
		section := regexp.MustCompile("(?s)### " + c + "\n\n```\n.*?```\n")
		want := "### " + c + "\n\n```\n" + help + "```\n"
		if *update {
			text = section.ReplaceAllLiteralString(text, want)
			continue
		}
		if !strings.Contains(text, want) {
			t.Errorf("docs/cli.md lacks the current help of %s (go test -update)", c)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
