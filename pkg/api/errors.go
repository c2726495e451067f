package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// ValidationError is one entry of the Nexus-style 400 body: a list of
// {"id": "PARAMETER <field>", "message": "..."}.
type ValidationError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// validationErrors is an errs.Invalid error that renders as a Nexus list.
type validationErrors []ValidationError

func (v validationErrors) Error() string {
	if len(v) == 0 {
		return "invalid request"
	}
	return v[0].ID + ": " + v[0].Message
}

// Unwrap gives validation failures the kind errs.Invalid, for errors.Is and
// errs.KindOf alike.
func (v validationErrors) Unwrap() error { return errs.New(errs.Invalid, "%s", v.Error()) }

// invalid returns a validation failure naming field (a JSON field path such as
// "storage.writePolicy").
func invalid(field, message string) error {
	return validationErrors{{ID: "PARAMETER " + field, Message: message}}
}

// fail writes err the way the Nexus REST API does: a validation list for bad
// input, a short text for other client errors, "internal error" (with the
// detail logged) for the rest. A 401 carries the Basic challenge.
func fail(c echo.Context, log *slog.Logger, err error) error {
	var v validationErrors
	if errors.As(err, &v) {
		return c.JSON(http.StatusBadRequest, v)
	}
	// Engine configuration errors carry the JSON field they are about.
	var fe *repo.FieldError
	if errors.As(err, &fe) {
		return c.JSON(http.StatusBadRequest, validationErrors{{ID: "PARAMETER " + fe.Field, Message: fe.Message}})
	}
	var ae *auth.FieldError
	if errors.As(err, &ae) {
		return c.JSON(http.StatusBadRequest, validationErrors{{ID: "PARAMETER " + ae.Field, Message: ae.Message}})
	}
	// A status of Nexus's own with its text (422 for a missing repository).
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return c.String(he.Code, fmt.Sprint(he.Message))
	}
	kind := errs.KindOf(err)
	status := errs.Status(err)
	switch kind {
	case errs.Internal, errs.InsufficientStorage:
		log.Error("api request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	case errs.Invalid:
		return c.JSON(status, validationErrors{{ID: "*", Message: errs.Message(err)}})
	case errs.Unauthorized:
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="Sonatype Nexus Repository Manager"`)
	}
	return c.String(status, errs.Message(err))
}
