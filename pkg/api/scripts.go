package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/scripts"
)

// WithScripts serves /v1/script over s.
func (a *API) WithScripts(s *scripts.Service) *API {
	a.scripts = s
	return a
}

func (a *API) registerScripts(g *echo.Group) {
	if a.scripts == nil {
		return
	}
	g.GET("/v1/script", a.listScripts)
	g.POST("/v1/script", a.createScript)
	g.GET("/v1/script/:name", a.getScript)
	g.PUT("/v1/script/:name", a.updateScript)
	g.DELETE("/v1/script/:name", a.deleteScript)
	g.POST("/v1/script/:name/run", a.runScript)
}

// scriptResult is Nexus's ScriptResultXO, the body of a refused write
// (410) and of a failed run (400).
type scriptResult struct {
	Name   string `json:"name"`
	Result string `json:"result"`
}

// failScript writes the script service's refusals as Nexus does, other
// errors as fail does.
func (a *API) failScript(c echo.Context, name string, err error) error {
	switch {
	case errors.Is(err, scripts.ErrCreationDisabled):
		return c.JSON(http.StatusGone, scriptResult{Name: name, Result: errs.Message(err)})
	case errors.Is(err, scripts.ErrNotRun):
		return c.JSON(http.StatusBadRequest, scriptResult{Name: name, Result: errs.Message(err)})
	}
	return fail(c, a.log, err)
}

func (a *API) listScripts(c echo.Context) error {
	all, err := a.scripts.List(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, all)
}

func (a *API) getScript(c echo.Context) error {
	sc, err := a.scripts.Get(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, sc)
}

func decodeScript(c echo.Context) (meta.Script, error) {
	var sc meta.Script
	body, err := readBody(c)
	if err != nil {
		return sc, err
	}
	if err := json.Unmarshal(body, &sc); err != nil {
		return sc, errs.Wrap(errs.Invalid, err, "the body is not a script in JSON")
	}
	return sc, nil
}

func (a *API) createScript(c echo.Context) error {
	sc, err := decodeScript(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if err := a.scripts.Create(c.Request().Context(), sc); err != nil {
		return a.failScript(c, sc.Name, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) updateScript(c echo.Context) error {
	sc, err := decodeScript(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if err := a.scripts.Update(c.Request().Context(), c.Param("name"), sc); err != nil {
		return a.failScript(c, c.Param("name"), err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteScript(c echo.Context) error {
	if err := a.scripts.Delete(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// runScript refuses every run; the arguments (any text) are read, within
// api.max-body-size, and dropped.
func (a *API) runScript(c echo.Context) error {
	if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
		return fail(c, a.log, errs.Wrap(errs.Invalid, err, "request body could not be read"))
	}
	return a.failScript(c, c.Param("name"), a.scripts.Run(c.Request().Context(), c.Param("name")))
}
