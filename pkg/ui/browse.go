package ui

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// pageSize is how many entries, components or results a page shows.
const pageSize = 100

// registerBrowse mounts the browse, asset, component and search pages.
func (u *UI) registerBrowse(g routes) {
	g.GET("/ui/browse/:name", func(c echo.Context) error {
		return u.redirect(c, "/ui/browse/"+url.PathEscape(c.Param("name"))+"/")
	})
	g.GET("/ui/browse/:name/*", u.browse)
	g.GET("/ui/asset/:name/*", u.asset)
	g.GET("/ui/download/:name/*", u.download)
	g.POST("/ui/asset/:name/*", u.deleteAsset)
	g.GET("/ui/components/:name", u.components)
	g.GET("/ui/component/:name/:id", u.component)
	g.POST("/ui/component/:name/:id/delete", u.deleteComponent)
	g.GET("/ui/search", u.search)
}

// tail is the escaped path after /ui/<page>/<name>/ of the request, and
// the repository's name.
func (u *UI) tail(c echo.Context, page string) (name, escaped string, err error) {
	rest := strings.TrimPrefix(c.Request().URL.EscapedPath(), u.prefix+"/ui/"+page+"/")
	escName, escaped, _ := strings.Cut(rest, "/")
	if name, err = url.PathUnescape(escName); err != nil {
		return "", "", errs.New(errs.NotFound, "repository not found")
	}
	return name, escaped, nil
}

type crumb struct{ Name, Href string }

type browseData struct {
	Repository string
	Dir        string
	Crumbs     []crumb
	Entries    []browseEntry
	Next       string
	Paged      bool // past the first page
}

type browseEntry struct {
	repo.Entry
	Href string
}

// browse lists one page of a folder (Repository.List: a page costs
// O(page), whatever the folder holds).
func (u *UI) browse(c echo.Context) error {
	ctx := c.Request().Context()
	name, escaped, err := u.tail(c, "browse")
	if err != nil {
		return u.fail(c, err)
	}
	r, err := u.repos.Browsable(ctx, name)
	if err != nil {
		return u.fail(c, err)
	}
	dir := ""
	if escaped != "" {
		p, isDir, err := repo.CleanPath(r.Format(), escaped)
		if err != nil {
			return u.fail(c, err)
		}
		if !isDir {
			return u.redirect(c, "/ui/asset/"+url.PathEscape(name)+"/"+escaped)
		}
		dir = p
	}
	if err := r.AuthorizeFolder(ctx, "browse", dir); err != nil {
		return u.fail(c, err)
	}
	entries, next, err := r.List(ctx, dir, c.QueryParam("after"), pageSize)
	if err != nil {
		return u.fail(c, err)
	}
	entries = repo.BrowsableEntries(ctx, r, entries)
	d := browseData{Repository: name, Dir: dir, Next: next, Paged: c.QueryParam("after") != "", Crumbs: u.crumbs(name, dir)}
	for _, e := range entries {
		be := browseEntry{Entry: e}
		if e.Dir {
			be.Href = u.prefix + "/ui/browse/" + url.PathEscape(name) + "/" + escapePath(e.Path) + "/"
		} else {
			owner := name
			if e.Asset != nil && e.Asset.Repository != "" {
				owner = e.Asset.Repository // a group's entry is its member's
			}
			be.Href = u.prefix + "/ui/asset/" + url.PathEscape(owner) + "/" + escapePath(e.Path)
		}
		d.Entries = append(d.Entries, be)
	}
	title := name
	if dir != "" {
		title = name + ": " + dir + "/"
	}
	return u.render(c, http.StatusOK, "browse_ui", title, "repositories", d)
}

// crumbs are the links to the folders above dir.
func (u *UI) crumbs(name, dir string) []crumb {
	out := []crumb{{Name: name, Href: u.prefix + "/ui/browse/" + url.PathEscape(name) + "/"}}
	if dir == "" {
		return out
	}
	acc := ""
	for _, seg := range strings.Split(dir, "/") {
		acc = path.Join(acc, seg)
		out = append(out, crumb{Name: seg, Href: u.prefix + "/ui/browse/" + url.PathEscape(name) + "/" + escapePath(acc) + "/"})
	}
	return out
}

// escapePath escapes each segment of a repository path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

type checksum struct{ ID, Name, Value string }

type assetData struct {
	Repository string
	Asset      *meta.Asset
	Checksums  []checksum
	Download   string
	Crumbs     []crumb
	CanDelete  bool
	Confirm    bool
	Action     string
}

// assetOf finds the stored asset of the request's path.
func (u *UI) assetOf(c echo.Context, page string) (repo.Repository, *meta.Asset, error) {
	ctx := c.Request().Context()
	name, escaped, err := u.tail(c, page)
	if err != nil {
		return nil, nil, err
	}
	r, err := u.repos.Browsable(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	p, isDir, err := repo.CleanPath(r.Format(), escaped)
	if err != nil {
		return nil, nil, err
	}
	if isDir {
		return nil, nil, errs.New(errs.NotFound, "a folder is no asset")
	}
	// One the caller may not browse is as missing.
	if r.AuthorizePath(ctx, "browse", p) != nil {
		return nil, nil, errs.New(errs.NotFound, "asset %s not found", p)
	}
	a, err := r.Stat(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	return r, a, nil
}

// asset shows what is known of one asset; ?delete asks to confirm its
// deletion.
func (u *UI) asset(c echo.Context) error {
	r, a, err := u.assetOf(c, "asset")
	if err != nil {
		return u.fail(c, err)
	}
	name := r.Name()
	d := assetData{Repository: name, Asset: a, Crumbs: u.crumbs(name, strings.TrimSuffix(path.Dir(a.Path), ".")),
		Download:  u.prefix + "/ui/download/" + url.PathEscape(name) + "/" + escapePath(a.Path),
		CanDelete: r.AuthorizePath(c.Request().Context(), "delete", a.Path) == nil,
		Action:    u.prefix + "/ui/asset/" + url.PathEscape(name) + "/" + escapePath(a.Path)}
	for _, cs := range []checksum{{"asset-sha1", "SHA-1", "sha1"}, {"asset-sha256", "SHA-256", "sha256"}, {"asset-md5", "MD5", "md5"}, {"asset-sha512", "SHA-512", "sha512"}} {
		v := a.Checksums[cs.Value]
		if cs.Value == "sha256" && v == "" {
			v = a.Blob.Encoded()
		}
		if v != "" {
			cs.Value = v
			d.Checksums = append(d.Checksums, cs)
		}
	}
	if _, ok := c.QueryParams()["delete"]; ok {
		d.Confirm = true
		return u.render(c, http.StatusOK, "asset", "Delete "+path.Base(a.Path), "repositories", d)
	}
	return u.render(c, http.StatusOK, "asset", path.Base(a.Path), "repositories", d)
}

// deleteAsset deletes the asset (Manager.DeleteAsset decides whether the
// caller may) and goes back to its folder.
func (u *UI) deleteAsset(c echo.Context) error {
	r, a, err := u.assetOf(c, "asset")
	if err != nil {
		return u.fail(c, err)
	}
	if err := u.repos.DeleteAsset(c.Request().Context(), a.ID); err != nil {
		return u.fail(c, err)
	}
	u.log.Info("asset deleted", "repository", r.Name(), "path", a.Path, "user", stateOf(c).p.UserID)
	dir := strings.TrimSuffix(path.Dir(a.Path), ".")
	if dir != "" {
		dir = escapePath(dir) + "/"
	}
	return u.redirect(c, "/ui/browse/"+url.PathEscape(r.Name())+"/"+dir)
}

// download sends an asset's bytes to the signed-in user: the session
// cookie opens no /repository/ route, so the asset page links here. Its
// privilege is the format's download one (read).
func (u *UI) download(c echo.Context) error {
	r, a, err := u.assetOf(c, "download")
	if err != nil {
		return u.fail(c, err)
	}
	ctx := c.Request().Context()
	if err := r.AuthorizePath(ctx, "read", a.Path); err != nil {
		return u.fail(c, err)
	}
	content, err := r.Get(ctx, a.Path)
	if err != nil {
		return u.fail(c, err)
	}
	if err := serve.Content(c.Response(), c.Request(), content, "attachment"); err != nil {
		return u.fail(c, err)
	}
	return nil
}
