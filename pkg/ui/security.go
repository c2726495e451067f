package ui

import "github.com/labstack/echo/v4"

// registerSecurity mounts the users, roles, anonymous access and token pages.
func (u *UI) registerSecurity(g *echo.Group) {}
