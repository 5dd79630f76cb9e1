package saas

import (
	"errors"
	"fmt"
)

// Error codes of the application. HTTP statuses derive from them; anything
// that is not an *Error is EINTERNAL.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized" // not logged in, or wrong credentials
	EFORBIDDEN    = "forbidden"    // logged in, but not allowed
	EINTERNAL     = "internal"
)

// Error is the application's error: a code and a message safe to show.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("saas %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, "" for nil and EINTERNAL for
// anything else.
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

// ErrorMessage returns the message of err's *Error, or "internal error".
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
