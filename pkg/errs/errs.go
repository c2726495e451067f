// Package errs defines the kinds of error the server distinguishes and the one
// table that maps each kind to an HTTP status. Formats render their own error
// bodies; they ask this package only for the kind and the status.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
)

// Kind classifies an error independently of its message.
type Kind int

// The kinds, each with one HTTP status (see Status).
const (
	Internal Kind = iota
	NotFound
	Invalid
	Conflict
	Unauthorized
	Forbidden
	Unsupported
	Upstream
	TooLarge
	// TooLong is a request path or name longer than the server accepts.
	TooLong
	// InsufficientStorage is a write the disk (or quota) holding blobs or
	// metadata has no room for. KindOf finds ENOSPC and EDQUOT under any
	// error, so the stores need not wrap them.
	InsufficientStorage
	// Unavailable is a write refused while the server is read-only (frozen).
	Unavailable
)

var statuses = map[Kind]int{
	Internal:     http.StatusInternalServerError,
	NotFound:     http.StatusNotFound,
	Invalid:      http.StatusBadRequest,
	Conflict:     http.StatusConflict,
	Unauthorized: http.StatusUnauthorized,
	Forbidden:    http.StatusForbidden,
	Unsupported:  http.StatusMethodNotAllowed,
	Upstream:     http.StatusBadGateway,
	TooLarge:     http.StatusRequestEntityTooLarge,
	TooLong:      http.StatusRequestURITooLong,

	InsufficientStorage: http.StatusInsufficientStorage,
	Unavailable:         http.StatusServiceUnavailable,
}

var names = map[Kind]string{
	Internal:     "internal error",
	NotFound:     "not found",
	Invalid:      "invalid",
	Conflict:     "conflict",
	Unauthorized: "unauthorized",
	Forbidden:    "forbidden",
	Unsupported:  "unsupported",
	Upstream:     "upstream error",
	TooLarge:     "too large",
	TooLong:      "too long",

	InsufficientStorage: "insufficient storage: the server has no space left to store this",
	Unavailable:         "unavailable",
}

// String returns a short lower-case name of the kind.
func (k Kind) String() string { return names[k] }

// Error is an error of a kind. Its message is safe to show to clients, unlike
// the wrapped cause, which is for logs.
type Error struct {
	Kind    Kind
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil && e.Message == "" {
		return e.Cause.Error()
	}
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, errs.NotFound) style checks work through the kind sentinels.
func (e *Error) Is(target error) bool {
	var k kindSentinel
	if errors.As(target, &k) {
		return e.Kind == Kind(k)
	}
	return false
}

type kindSentinel Kind

func (k kindSentinel) Error() string { return Kind(k).String() }

// Sentinels for errors.Is: errors.Is(err, errs.ErrNotFound).
var (
	ErrNotFound     error = kindSentinel(NotFound)
	ErrInvalid      error = kindSentinel(Invalid)
	ErrConflict     error = kindSentinel(Conflict)
	ErrUnauthorized error = kindSentinel(Unauthorized)
	ErrForbidden    error = kindSentinel(Forbidden)
	ErrUnsupported  error = kindSentinel(Unsupported)
	ErrUpstream     error = kindSentinel(Upstream)
	ErrTooLarge     error = kindSentinel(TooLarge)
	ErrTooLong      error = kindSentinel(TooLong)

	ErrInsufficientStorage error = kindSentinel(InsufficientStorage)
)

// New returns an error of kind k with a client-safe message.
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with a client-safe message and a cause kept for logs.
func Wrap(k Kind, cause error, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// FieldError is invalid input that names the offending field of a request
// or configuration, as its JSON names it, so that clients can point at it.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap gives field errors the kind Invalid, for errors.Is and KindOf alike.
func (e *FieldError) Unwrap() error { return &Error{Kind: Invalid, Message: e.Error()} }

// KindOf returns the kind of err, or Internal when it has none. An error
// without a kind of its own (or Internal) caused by a full disk or quota is
// InsufficientStorage.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Kind
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return InsufficientStorage
	}
	if e != nil {
		return e.Kind
	}
	var k kindSentinel
	if errors.As(err, &k) {
		return Kind(k)
	}
	return Internal
}

// Status returns the HTTP status for err's kind.
func Status(err error) int { return statuses[KindOf(err)] }

// Message returns the text to show a client: the message of a kinded error,
// and "internal error" for anything else, whose detail belongs in logs only.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		if e.Message != "" {
			return e.Message
		}
		return e.Kind.String()
	}
	if k := KindOf(err); k != Internal {
		return k.String()
	}
	return "internal error"
}
