package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// selectorJSON is a content selector as Nexus shows and takes it.
type selectorJSON struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description"`
	Expression  string `json:"expression"`
}

func toSelectorJSON(s *meta.ContentSelector) selectorJSON {
	return selectorJSON{Name: s.Name, Type: "csel", Description: s.Description, Expression: s.Expression}
}

// registerSelectors mounts /v1/security/content-selectors.
func (h *securityHandlers) registerSelectors(g *echo.Group) {
	g.GET("/v1/security/content-selectors", h.listSelectors)
	g.POST("/v1/security/content-selectors", h.createSelector)
	g.GET("/v1/security/content-selectors/:name", h.getSelector)
	g.PUT("/v1/security/content-selectors/:name", h.updateSelector)
	g.DELETE("/v1/security/content-selectors/:name", h.deleteSelector)
}

func (h *securityHandlers) listSelectors(c echo.Context) error {
	sels, err := h.s.ListContentSelectors(c.Request().Context())
	if err != nil {
		return fail(c, h.log, err)
	}
	out := make([]selectorJSON, 0, len(sels))
	for _, s := range sels {
		out = append(out, toSelectorJSON(s))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *securityHandlers) getSelector(c echo.Context) error {
	s, err := h.s.GetContentSelector(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, h.log, err)
	}
	return c.JSON(http.StatusOK, toSelectorJSON(s))
}

func (h *securityHandlers) createSelector(c echo.Context) error {
	var body selectorJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	s := &meta.ContentSelector{Name: body.Name, Description: body.Description, Expression: body.Expression}
	if err := h.s.CreateContentSelector(c.Request().Context(), s); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) updateSelector(c echo.Context) error {
	var body selectorJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	// The name cannot change; the path names the selector.
	s := &meta.ContentSelector{Name: c.Param("name"), Description: body.Description, Expression: body.Expression}
	if err := h.s.UpdateContentSelector(c.Request().Context(), s); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) deleteSelector(c echo.Context) error {
	if err := h.s.DeleteContentSelector(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
