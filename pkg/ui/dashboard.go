package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

type dashboardData struct {
	Rows       []repoRow
	BlobStores []repo.BlobStoreUsage
	Health     []repo.HealthCheck
	Version    string
}

// dashboard shows the repositories the caller may see with their status
// and statistics, the blob stores' usage and the health checks, for
// callers who may read them. All of it is what the server already knows
// (Manager.Summaries, BlobStoreUsage, Health): nothing waits on an
// upstream, nothing reads a repository's content. Without anonymous
// access, visitors are sent to sign in.
func (u *UI) dashboard(c echo.Context) error {
	if stateOf(c).p == nil {
		return u.redirect(c, "/ui/login")
	}
	ctx := c.Request().Context()
	d := dashboardData{Version: u.opts.Version}
	for _, s := range u.repos.Summaries(ctx) {
		d.Rows = append(d.Rows, repoRow{Name: s.Config.Name, Format: s.Config.Format, Type: s.Config.Type,
			URL: u.repoURL(c, s.Config.Name), Status: s.Status, Stats: repoStats{Bytes: s.Stats.Bytes, Components: s.Stats.Components}})
	}
	var err error
	if d.BlobStores, err = u.repos.BlobStoreUsage(ctx); err != nil && !refused(err) {
		return u.fail(c, err)
	}
	if d.Health, err = u.repos.Health(ctx); err != nil && !refused(err) {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "dashboard", "Dashboard", "dashboard", d)
}

// refused reports whether err is a service's refusal for lack of a
// privilege: a part of a page the caller may not see is left out.
func refused(err error) bool {
	k := errs.KindOf(err)
	return k == errs.Forbidden || k == errs.Unauthorized
}
