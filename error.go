package livedash

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status in one place.
const (
	EINVALID      = "invalid"      // bad input: 400
	EUNAUTHORIZED = "unauthorized" // no, invalid or expired token: 401
	EFORBIDDEN    = "forbidden"    // token lacks the right: 403
	ENOTFOUND     = "not_found"    // 404
	ECONFLICT     = "conflict"     // 409
	ETOOLARGE     = "too_large"    // 413
	EUNSUPPORTED  = "unsupported"  // a body in a content type or encoding not taken: 415
	ERATELIMITED  = "rate_limited" // 429
	EUNAVAILABLE  = "unavailable"  // store or broker unreachable, shutting down: 503
	EINTERNAL     = "internal"     // 500; the message is not shown to users
)

// Error is an error meant for the caller: a code and a human message.
// Index, when >= 0, names the item of a batch that caused it.
type Error struct {
	Code    string
	Message string
	Index   int
}

func (e *Error) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("livedash: %s: item %d: %s", e.Code, e.Index, e.Message)
	}
	return fmt.Sprintf("livedash: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Index: -1}
}

// ErrorCode returns the code of err, or EINTERNAL when err is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors are
// hidden behind a generic message.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// WithIndex returns a copy of err that names batch item i.
func WithIndex(err error, i int) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Index = i
		return &c
	}
	return err
}
