package errs

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"
)

func TestKindsMapToStatusesThroughWrapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		msg    string
	}{
		{New(NotFound, "no %s", "thing"), http.StatusNotFound, "no thing"},
		{fmt.Errorf("ctx: %w", New(Invalid, "bad path")), http.StatusBadRequest, "bad path"},
		{Wrap(Upstream, errors.New("dial tcp: refused"), "upstream failed"), http.StatusBadGateway, "upstream failed"},
		{errors.New("disk on fire"), http.StatusInternalServerError, "internal error"},
		{ErrForbidden, http.StatusForbidden, "forbidden"},
		{New(TooLong, "path too long"), http.StatusRequestURITooLong, "path too long"},
		// A full disk or quota, however deep, and even under Internal.
		{&os.PathError{Op: "write", Path: "/blobs/x", Err: syscall.ENOSPC}, http.StatusInsufficientStorage, names[InsufficientStorage]},
		{Wrap(Internal, fmt.Errorf("commit: %w", syscall.EDQUOT), "storing"), http.StatusInsufficientStorage, names[InsufficientStorage]},
		{Wrap(Invalid, syscall.ENOSPC, "bad digest"), http.StatusBadRequest, "bad digest"},
	}
	for _, c := range cases {
		if got := Status(c.err); got != c.status {
			t.Errorf("Status(%v) = %d, want %d", c.err, got, c.status)
		}
		if got := Message(c.err); got != c.msg {
			t.Errorf("Message(%v) = %q, want %q", c.err, got, c.msg)
		}
	}
}

func TestErrorsIsMatchesKind(t *testing.T) {
	err := fmt.Errorf("outer: %w", New(Conflict, "exists"))
	if !errors.Is(err, ErrConflict) {
		t.Fatal("errors.Is(err, ErrConflict) = false")
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatal("errors.Is(err, ErrNotFound) = true for a conflict")
	}
	cause := errors.New("root")
	if !errors.Is(Wrap(Internal, cause, "x"), cause) {
		t.Fatal("cause not reachable through Wrap")
	}
}

func TestFieldErrorIsInvalidAndNamesItsField(t *testing.T) {
	err := fmt.Errorf("saving: %w", &FieldError{Field: "storage.writePolicy", Message: "must be ALLOW or DENY"})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "storage.writePolicy" || fe.Message != "must be ALLOW or DENY" {
		t.Fatalf("errors.As(%v) = %+v", err, fe)
	}
	if got, want := fe.Error(), "storage.writePolicy: must be ALLOW or DENY"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if KindOf(err) != Invalid || Status(err) != http.StatusBadRequest || !errors.Is(err, ErrInvalid) {
		t.Errorf("%v: kind %v, status %d, want invalid and 400", err, KindOf(err), Status(err))
	}
	if got, want := Message(err), fe.Error(); got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
}
