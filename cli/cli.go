// Package cli is sidelog's operator tool: the commands of the sidelog binary
// (tail, query, stats, cleanup, vacuum, check, export, import, purge, ship, gen),
// importable so that an application can offer them as its own subcommand.
//
// Every command takes the log database as --db PATH, or from the
// SIDELOG_DB environment variable. See docs/cli.md for the reference.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// EnvDB is the environment variable that names the log database when
// --db is not given.
const EnvDB = "SIDELOG_DB"

// CLI runs the operator commands with its own streams, environment and
// clock. Zero fields take the process's: os.Getenv, time.Now, and a
// terminal check of *os.File writers.
type CLI struct {
	Name string // the program name in help and errors; default "sidelog"
	// DB is the log database when --db is not given; when empty,
	// $SIDELOG_DB is used. An application sets it to its own log file.
	DB     string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	Getenv     func(key string) string
	Now        func() time.Time
	IsTerminal func(w io.Writer) bool

	// PollInterval is how often tail -f looks for new records; default 1s.
	PollInterval time.Duration
}

// Run runs the command in args (without the program name) with the
// process's environment and clock. See CLI.Run.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := &CLI{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	return c.Run(ctx, args)
}

// Main runs args like Run, writes an error as one line on stderr, and
// returns the exit code (see ExitCode).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &CLI{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	err := c.Run(ctx, args)
	if err != nil {
		fmt.Fprintln(stderr, c.ErrorLine(err))
	}
	return ExitCode(err)
}

// command is one subcommand.
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // synopsis, description and examples for --help
	run     func(c *CLI, ctx context.Context, args []string) error
}

// commands lists the subcommands in the order help shows them.
var commands []*command

func init() {
	commands = []*command{
		tailCommand, queryCommand, showCommand, topCommand, statsCommand, cleanupCommand, vacuumCommand,
		checkCommand, exportCommand, importCommand, purgeCommand, shipCommand, auditCommand, genCommand, serveCommand, helpCommand,
	}
}

func lookup(name string) *command {
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return commands[i]
}

// Run runs the command named by args[0] with the rest of args. "help",
// "-h" and "--help" print help to Stdout. Errors are returned, not printed;
// ErrorLine formats them and ExitCode maps them to an exit status.
func (c *CLI) Run(ctx context.Context, args []string) error {
	c.defaults()
	if len(args) == 0 {
		c.printOverview(c.Stderr)
		return usageError("no command given")
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" {
		name = "help"
	}
	cmd := lookup(name)
	if cmd == nil {
		return usageError("unknown command %q (see '%s help')", name, c.Name)
	}
	switch err := cmd.run(c, ctx, args[1:]); {
	case err == nil, errors.Is(err, errHelp):
		return nil
	default:
		return &cmdError{cmd: cmd.name, err: err}
	}
}

func (c *CLI) defaults() {
	if c.Name == "" {
		c.Name = "sidelog"
	}
	if c.Stdin == nil {
		c.Stdin = strings.NewReader("")
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.IsTerminal == nil {
		c.IsTerminal = isTerminal
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colour reports whether output to w may use ANSI colours: on a terminal,
// unless NO_COLOR is set (https://no-color.org).
func (c *CLI) colour(w io.Writer) bool {
	return c.IsTerminal(w) && c.Getenv("NO_COLOR") == ""
}

// flags is a command's flag set with the flags every command has.
type flags struct {
	*flag.FlagSet
	cmd *command
	db  string
}

func (c *CLI) newFlags(name string) *flags {
	cmd := lookup(name)
	fs := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), cmd: cmd}
	fs.SetOutput(io.Discard)
	fs.StringVar(&fs.db, "db", "", "the log database `PATH` (default $"+EnvDB+")")
	return fs
}

// errHelp ends a command after its help was printed.
var errHelp = errors.New("help shown")

// parse parses args, allowing flags between the positional arguments (so
// that "query level:warn --limit 5" works); "--" ends the flags. It prints
// the command's help and returns errHelp for -h and --help.
func (c *CLI) parse(fs *flags, args []string) ([]string, error) {
	var pos []string
	for {
		for len(args) > 0 && negatedTerm(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.printHelp(c.Stdout, fs)
				return nil, errHelp
			}
			return nil, usageError("%s (see '%s %s --help')", err, c.Name, fs.cmd.name)
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// negatedTerm reports whether a command-line argument that starts with a
// dash is a negated query term (-status:404, -"a phrase", -(a OR b))
// rather than a flag: before any '=', it has a character no flag name has.
func negatedTerm(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' || arg[1] == '-' {
		return false
	}
	name, _, _ := strings.Cut(arg, "=")
	return strings.ContainsAny(name, `:<>!("`)
}

// noArgs rejects positional arguments for commands that take none.
func noArgs(fs *flags, pos []string) error {
	if len(pos) > 0 {
		return usageError("unexpected argument %q (see '%s --help')", pos[0], fs.cmd.name)
	}
	return nil
}

// dbPath returns the database path from --db, CLI.DB or $SIDELOG_DB.
func (c *CLI) dbPath(fs *flags) (string, error) {
	p := fs.db
	if p == "" {
		p = c.DB
	}
	if p == "" {
		p = c.Getenv(EnvDB)
	}
	if p == "" {
		return "", usageError("no log database given: use --db PATH or set %s", EnvDB)
	}
	return p, nil
}

// open opens the database named by the flags. Only gen and import create
// a database; every other command fails on a missing file.
func (c *CLI) open(ctx context.Context, fs *flags, create bool) (*sqlite.DB, error) {
	p, err := c.dbPath(fs)
	if err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, p, sqlite.Options{MustExist: !create, Warnings: c.Stderr})
}

// filter builds the filter of a command from its positional query terms and
// its --since and --until flags.
func (c *CLI) filter(terms []string, since, until string) (sidelog.Filter, error) {
	now := c.Now()
	f, err := sidelog.ParseQuery(strings.Join(terms, " "), now)
	if err != nil {
		return f, err
	}
	for _, b := range []struct {
		flag, val string
		dst       *time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if b.val == "" {
			continue
		}
		if !b.dst.IsZero() {
			return f, usageError("--%s and %s: in the query both give the %s time", b.flag, b.flag, b.flag)
		}
		t, err := sidelog.ParseSince(b.val, now)
		if err != nil {
			return f, usageError("--%s: %s", b.flag, sidelog.ErrorMessage(err))
		}
		*b.dst = t
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, usageError("time range is empty: since is not before until")
	}
	return f, nil
}

// addTimeFlags adds --since and --until.
func addTimeFlags(fs *flags) (since, until *string) {
	since = fs.String("since", "", "only records at or after `TIME`: a duration ago (90m, 7d) or an RFC 3339 time")
	until = fs.String("until", "", "only records before `TIME`: a duration ago (90m, 7d) or an RFC 3339 time")
	return since, until
}

// closeDB closes db and keeps its error when the command had none, so that
// a failed final checkpoint is not silent.
func closeDB(db io.Closer, err *error) {
	if cerr := db.Close(); *err == nil {
		*err = cerr
	}
}
