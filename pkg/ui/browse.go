package ui

import "github.com/labstack/echo/v4"

// registerBrowse mounts the browse, component and search pages.
func (u *UI) registerBrowse(g *echo.Group) {}
