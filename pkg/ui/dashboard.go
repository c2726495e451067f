package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

type dashboardData struct {
	Rows       []repoRow
	BlobStores []blobStoreRow
	Version    string
	Healthy    bool
	Health     string
	CanStatus  bool
}

type blobStoreRow struct {
	Name       string
	Count      int64
	Size, Free int64
}

// dashboard shows the repositories the caller may see with their status,
// the blob stores and the server's version and health. Nothing here waits
// on an upstream: a proxy's status is what it last learnt. Without
// anonymous access, visitors are sent to sign in.
func (u *UI) dashboard(c echo.Context) error {
	if stateOf(c).p == nil {
		return u.redirect(c, "/ui/login")
	}
	d := dashboardData{Version: u.opts.Version, Healthy: true, Health: "healthy"}
	for _, r := range u.visible(c) {
		d.Rows = append(d.Rows, u.rowOf(c, r))
	}
	if u.may(c, auth.Application("blobstores", "read")) {
		for _, s := range u.repos.BlobStores() {
			free, low, err := s.SpaceLow(c.Request().Context())
			row := blobStoreRow{Name: s.Name(), Free: free}
			if err != nil || low {
				d.Healthy, d.Health = false, "blob store "+s.Name()+" is short of space"
			}
			d.BlobStores = append(d.BlobStores, row)
		}
	}
	for _, r := range d.Rows {
		if r.Status.Blocked {
			d.Healthy, d.Health = false, "repository "+r.Name+" is blocked"
		}
	}
	return u.render(c, http.StatusOK, "dashboard", "Dashboard", "dashboard", d)
}
