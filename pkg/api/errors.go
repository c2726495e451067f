package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// ValidationError is one entry of the Nexus-style 400 body: a list of
// {"id": "PARAMETER <field>", "message": "..."}.
type ValidationError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// invalid returns a validation failure naming field (a JSON field path such as
// "storage.writePolicy").
func invalid(field, message string) error {
	return &errs.FieldError{Field: field, Message: message}
}

// fail writes err the way the Nexus REST API does: a validation list for bad
// input, a short text for other client errors, "internal error" (with the
// detail logged) for the rest. A 401 carries the Basic challenge.
func fail(c echo.Context, log *slog.Logger, err error) error {
	// Field errors, the API's own and the services', name the JSON field.
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		return c.JSON(http.StatusBadRequest, []ValidationError{{ID: "PARAMETER " + fe.Field, Message: fe.Message}})
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
		return c.JSON(status, []ValidationError{{ID: "*", Message: errs.Message(err)}})
	case errs.Unauthorized:
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="Sonatype Nexus Repository Manager"`)
	}
	return c.String(status, errs.Message(err))
}
