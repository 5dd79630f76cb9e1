package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

var helpCommand = &command{
	name:    "help",
	summary: "show this help, or a command's",
	usage: `usage: sidelog help [COMMAND]

Shows the list of commands, or the help of one command with its flags and
examples. "sidelog COMMAND --help" does the same.
`,
	run: (*CLI).runHelp,
}

func (c *CLI) runHelp(ctx context.Context, args []string) error {
	switch len(args) {
	case 0:
		c.printOverview(c.Stdout)
		return nil
	case 1:
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			fmt.Fprint(c.Stdout, lookup("help").usage)
			return nil
		}
		cmd := lookup(args[0])
		if cmd == nil {
			return usageError("unknown command %q (see '%s help')", args[0], c.Name)
		}
		return cmd.run(c, ctx, []string{"--help"})
	}
	return usageError("help takes at most one command")
}

func (c *CLI) printOverview(w io.Writer) {
	fmt.Fprintf(w, "%s is the operator's tool for a sidelog log database.\n\n", c.Name)
	fmt.Fprintf(w, "usage: %s COMMAND [--db PATH] [flags] [arguments]\n\ncommands:\n", c.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", cmd.name, cmd.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, `
Every command takes the log database as --db PATH or from $%s.
Run '%s COMMAND --help' for a command's flags and examples.

exit codes: 0 done; 1 the work failed (or check found problems);
2 the command could not run as given (bad flag or value, missing or
foreign file, database from a newer sidelog).
`, EnvDB, c.Name)
}

func (c *CLI) printHelp(w io.Writer, fs *flags) {
	usage := fs.cmd.usage
	if c.Name != "sidelog" {
		usage = strings.ReplaceAll(usage, "sidelog ", c.Name+" ")
	}
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
