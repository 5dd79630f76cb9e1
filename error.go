package sidelog

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to an HTTP status and a CLI exit code; everything
// that is not an *Error is EINTERNAL.
const (
	EINVALID     = "invalid"     // the caller's input is wrong
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	ECONFLICT    = "conflict"    // the state does not allow it (e.g. newer schema)
	EDENIED      = "denied"      // the caller may not do it
	EUNAVAILABLE = "unavailable" // the log database cannot be reached now
	EINTERNAL    = "internal"    // anything else; its text is not shown to users
)

// Error is sidelog's error type: a code and a message safe to show a user.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("sidelog: %s", e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, "" for nil, and EINTERNAL for
// any other error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err's *Error, or
// "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "internal error"
}
