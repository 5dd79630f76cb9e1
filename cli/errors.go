package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sidelog/sidelog"
)

// Exit codes.
const (
	ExitOK     = 0 // the command did what was asked
	ExitFailed = 1 // the work failed: an internal error, a busy database, or check found problems
	ExitUsage  = 2 // the command could not run as given: a bad flag or value, a missing or foreign file, a newer schema
)

// ExitCode returns the exit code for an error of Run.
func ExitCode(err error) int {
	switch {
	case err == nil || errors.Is(err, errHelp):
		return ExitOK
	}
	switch sidelog.ErrorCode(err) {
	case sidelog.EINVALID, sidelog.ENOTFOUND, sidelog.ECONFLICT, sidelog.EDENIED:
		return ExitUsage
	}
	return ExitFailed
}

// usageError is an EINVALID error: exit code 2.
func usageError(format string, args ...any) error {
	return sidelog.Errorf(sidelog.EINVALID, format, args...)
}

// cmdError names the command an error came from.
type cmdError struct {
	cmd string
	err error
}

func (e *cmdError) Error() string { return e.cmd + ": " + e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

// ErrorLine formats an error of Run as the one line the tool prints: the
// program and command, then the message of a sidelog error or the text of
// any other, with control characters made visible.
func (c *CLI) ErrorLine(err error) string {
	c.defaults()
	prefix := c.Name
	var ce *cmdError
	if errors.As(err, &ce) {
		prefix += " " + ce.cmd
		err = ce.err
	}
	msg := err.Error()
	var se *sidelog.Error
	if errors.As(err, &se) {
		msg = se.Message
	}
	return fmt.Sprintf("%s: %s", prefix, Sanitize(strings.TrimSpace(msg)))
}
