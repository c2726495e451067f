package ui

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/search"
)

type componentsData struct {
	Repository string
	Components []*meta.Component
	Next       string
	Paged      bool // past the first page
	// Members are a group's: it stores no components of its own.
	Members []string
}

// components lists a repository's components a page at a time.
func (u *UI) components(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := u.repos.Browsable(ctx, c.Param("name"))
	if err != nil {
		return u.fail(c, err)
	}
	comps, next, err := u.repos.Components(ctx, r.Name(), c.QueryParam("after"), pageSize)
	if err != nil {
		return u.fail(c, err)
	}
	d := componentsData{Repository: r.Name(), Components: comps, Next: next, Paged: c.QueryParam("after") != ""}
	if g := r.Config().Group; g != nil {
		d.Members = g.MemberNames
	}
	return u.render(c, http.StatusOK, "components", "Components of "+r.Name(), "repositories", d)
}

type componentData struct {
	Repository string
	Component  *meta.Component
	Assets     []*meta.Asset
	Total      int64
	Use        []repo.Snippet
	Versions   []*meta.Component
	CanDelete  bool
	Confirm    bool
}

// component shows a component's assets (for Docker, a tag's manifest and
// layers: Manager.ComponentAssets) and the line that fetches it.
func (u *UI) component(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := u.repos.Component(ctx, c.Param("id"))
	if err != nil {
		return u.fail(c, err)
	}
	if comp.Repository != c.Param("name") {
		return u.fail(c, errs.New(errs.NotFound, "component not found"))
	}
	r, err := u.repos.Browsable(ctx, comp.Repository)
	if err != nil {
		return u.fail(c, err)
	}
	assets, err := u.repos.ComponentAssets(ctx, comp)
	if err != nil {
		return u.fail(c, err)
	}
	sort.SliceStable(assets, func(i, j int) bool { return assets[i].Path < assets[j].Path })
	d := componentData{Repository: r.Name(), Component: comp, Assets: assets,
		CanDelete: deletable(ctx, r, assets)}
	for _, a := range assets {
		d.Total += a.Size
	}
	t := u.howToTarget(c, r)
	t.Component = comp
	d.Use = u.snippets(c, r, &t)
	// The other versions of the same group and name (npm's versions, a
	// Docker image's tags, a Maven artifact's), a page of them, from the
	// index. The check after it is for an ungrouped component, which the
	// query cannot tell from a grouped one (an empty group matches any).
	if u.may(c, auth.Application("search", "read")) && !strings.Contains(comp.Name, "*") {
		q := search.Query{Repository: r.Name(), Group: comp.Group, Name: comp.Name}
		others, _, err := u.finder.Components(ctx, q, "", pageSize)
		if err != nil {
			return u.fail(c, err)
		}
		for _, o := range others {
			if o.Group == comp.Group {
				d.Versions = append(d.Versions, o)
			}
		}
	}
	_, d.Confirm = c.QueryParams()["delete"]
	title := comp.Name
	if comp.Version != "" {
		title += " " + comp.Version
	}
	if d.Confirm {
		title = "Delete " + title
	}
	return u.render(c, http.StatusOK, "component", title, "repositories", d)
}

// deleteComponent deletes a component (Manager.DeleteComponent decides
// whether the caller may).
func (u *UI) deleteComponent(c echo.Context) error {
	ctx := c.Request().Context()
	comp, err := u.repos.Component(ctx, c.Param("id"))
	if err != nil {
		return u.fail(c, err)
	}
	if err := u.repos.DeleteComponent(ctx, comp.ID); err != nil {
		return u.fail(c, err)
	}
	u.log.Info("component deleted", "repository", comp.Repository, "name", comp.Name, "version", comp.Version, "user", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/components/"+url.PathEscape(comp.Repository))
}

type searchData struct {
	Query    url.Values
	Formats  []string
	Terms    []string
	Results  []*meta.Component
	Next     string
	Searched bool
	Errors   map[string]string
	Alert    string
}

// search runs the search service on the form's query, a page at a time.
func (u *UI) search(c echo.Context) error {
	ctx := c.Request().Context()
	if stateOf(c).p == nil {
		return u.fail(c, errs.New(errs.Unauthorized, "authentication required"))
	}
	v := c.QueryParams()
	d := searchData{Query: v, Errors: map[string]string{}}
	for _, f := range u.repos.Formats() {
		d.Formats = append(d.Formats, f.Name())
		if st, ok := f.(repo.SearchTerms); ok {
			for _, t := range st.SearchTerms() {
				d.Terms = append(d.Terms, t.Param)
			}
		}
	}
	status := http.StatusOK
	if anyValue(v) {
		d.Searched = true
		var err error
		var q search.Query
		if q, err = u.finder.ParseQuery(v, "after"); err == nil {
			d.Results, d.Next, err = u.finder.Components(ctx, q, v.Get("after"), pageSize)
		}
		switch {
		case errs.KindOf(err) == errs.Invalid:
			status, d.Alert = http.StatusBadRequest, errs.Message(err)
		case err != nil:
			return u.fail(c, err)
		}
	}
	return u.render(c, status, "search", "Search", "search", d)
}

// anyValue reports whether a search was asked for: some criterion given.
func anyValue(v url.Values) bool {
	for k, vs := range v {
		if k != "after" && len(vs) > 0 && vs[0] != "" {
			return true
		}
	}
	return false
}

// deletable reports whether the caller in ctx may delete every one of
// assets in r (Manager.DeleteComponent decides; this is for the button).
func deletable(ctx context.Context, r repo.Repository, assets []*meta.Asset) bool {
	for _, a := range assets {
		if r.AuthorizePath(ctx, "delete", a.Path) != nil {
			return false
		}
	}
	return r.AuthorizeFolder(ctx, "delete", "") == nil
}
