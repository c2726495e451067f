package api

import (
	"encoding/base64"
	"maps"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/search"
)

func (a *API) registerContent(g *echo.Group) {
	g.GET("/v1/components", a.listComponents)
	g.POST("/v1/components", a.uploadComponent)
	g.GET("/v1/components/:id", a.getComponent)
	g.DELETE("/v1/components/:id", a.deleteComponent)
	g.GET("/v1/assets", a.listAssets)
	g.GET("/v1/assets/:id", a.getAsset)
	g.DELETE("/v1/assets/:id", a.deleteAsset)
	g.GET("/v1/search", a.search)
	g.GET("/v1/search/assets", a.searchAssets)
	g.GET("/v1/search/assets/download", a.searchAssetsDownload)
}

// componentJSON and assetJSON are the Nexus REST shapes.
type componentJSON struct {
	ID         string      `json:"id"`
	Repository string      `json:"repository"`
	Format     string      `json:"format"`
	Group      *string     `json:"group"`
	Name       string      `json:"name"`
	Version    *string     `json:"version"`
	Assets     []assetJSON `json:"assets"`
}

type assetJSON struct {
	DownloadURL    string            `json:"downloadUrl"`
	Path           string            `json:"path"`
	ID             string            `json:"id"`
	Repository     string            `json:"repository"`
	Format         string            `json:"format"`
	Checksum       map[string]string `json:"checksum"`
	ContentType    string            `json:"contentType"`
	LastModified   time.Time         `json:"lastModified"`
	LastDownloaded *time.Time        `json:"lastDownloaded"`
	Uploader       string            `json:"uploader,omitempty"`
	UploaderIP     string            `json:"uploaderIp,omitempty"`
	FileSize       int64             `json:"fileSize"`
	BlobCreated    time.Time         `json:"blobCreated"`
	BlobStoreName  string            `json:"blobStoreName"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *API) assetJSON(c echo.Context, as *meta.Asset) assetJSON {
	r, _ := a.repos.Lookup(as.Repository)
	out := assetJSON{
		DownloadURL: a.serverURL(c) + "/repository/" + as.Repository + "/" + repo.EscapePath(as.Path),
		Path:        as.Path, ID: as.ID, Repository: as.Repository,
		Checksum: map[string]string{}, ContentType: as.ContentType, LastModified: as.LastModified,
		Uploader: as.Uploader, UploaderIP: as.UploaderIP, FileSize: as.Size, BlobCreated: as.Created,
		BlobStoreName: as.BlobStore,
	}
	if r != nil {
		out.Format = r.Config().Format
	}
	for k, v := range as.Checksums {
		out.Checksum[k] = v
	}
	if !as.LastDownloaded.IsZero() {
		out.LastDownloaded = &as.LastDownloaded
	}
	return out
}

func (a *API) componentJSON(c echo.Context, comp *meta.Component) (componentJSON, error) {
	assets, err := a.repos.ComponentAssets(c.Request().Context(), comp)
	if err != nil {
		return componentJSON{}, err
	}
	out := componentJSON{ID: comp.ID, Repository: comp.Repository, Format: comp.Format,
		Group: optional(comp.Group), Name: comp.Name, Version: optional(comp.Version), Assets: []assetJSON{}}
	for _, as := range assets {
		out.Assets = append(out.Assets, a.assetJSON(c, as))
	}
	return out, nil
}

// Continuation tokens are the last listed key, opaque to clients.
func encodeToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// pageParams reads a listing's page size and continuation token.
func pageParams(c echo.Context, defSize int) (size int, after string, err error) {
	if size, err = pageSize(c, defSize); err != nil {
		return 0, "", err
	}
	tok := c.QueryParam("continuationToken")
	if tok == "" {
		return size, "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", invalid("continuationToken", "is not a token this server issued")
	}
	return size, string(raw), nil
}

// errNoRepository is Nexus's answer to a listing without its repository.
var errNoRepository = echo.NewHTTPError(http.StatusUnprocessableEntity, "repositoryId is required.")

// listingParams reads a listing's repository (required) and its page.
func (a *API) listingParams(c echo.Context) (name string, size int, after string, err error) {
	if name = c.QueryParam("repository"); name == "" {
		return "", 0, "", errNoRepository
	}
	size, after, err = pageParams(c, 10)
	return name, size, after, err
}

// listComponents pages a repository's components by 10, as Nexus does.
func (a *API) listComponents(c echo.Context) error {
	name, size, after, err := a.listingParams(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	comps, next, err := a.repos.Components(c.Request().Context(), name, after, size)
	if err != nil {
		return fail(c, a.log, err)
	}
	items, err := a.componentItems(c, comps)
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, newPage(items, next))
}

// componentItems renders a page of components.
func (a *API) componentItems(c echo.Context, comps []*meta.Component) ([]componentJSON, error) {
	items := make([]componentJSON, 0, len(comps))
	for _, comp := range comps {
		cj, err := a.componentJSON(c, comp)
		if err != nil {
			return nil, err
		}
		items = append(items, cj)
	}
	return items, nil
}

func (a *API) getComponent(c echo.Context) error {
	comp, err := a.repos.Component(c.Request().Context(), c.Param("id"))
	if err != nil {
		return fail(c, a.log, err)
	}
	cj, err := a.componentJSON(c, comp)
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, cj)
}

func (a *API) deleteComponent(c echo.Context) error {
	if err := a.repos.DeleteComponent(c.Request().Context(), c.Param("id")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// listAssets pages a repository's assets by 10, as Nexus does.
func (a *API) listAssets(c echo.Context) error {
	name, size, after, err := a.listingParams(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	assets, next, err := a.repos.Assets(c.Request().Context(), name, after, size)
	if err != nil {
		return fail(c, a.log, err)
	}
	items := make([]assetJSON, 0, len(assets))
	for _, as := range assets {
		items = append(items, a.assetJSON(c, as))
	}
	return a.ok(c, newPage(items, next))
}

// getAsset shows one asset with all four checksums, computing (once, then
// stored) any that were not computed when it was written.
func (a *API) getAsset(c echo.Context) error {
	as, _, err := a.repos.Asset(c.Request().Context(), c.Param("id"))
	if err != nil {
		return fail(c, a.log, err)
	}
	sums, err := a.repos.Checksums(c.Request().Context(), as, []blob.Algorithm{blob.MD5, blob.SHA1, blob.SHA256, blob.SHA512})
	if err != nil {
		return fail(c, a.log, err)
	}
	if as.Checksums == nil {
		as.Checksums = map[string]string{}
	}
	maps.Copy(as.Checksums, sums)
	return a.ok(c, a.assetJSON(c, as))
}

func (a *API) deleteAsset(c echo.Context) error {
	if err := a.repos.DeleteAsset(c.Request().Context(), c.Param("id")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) search(c echo.Context) error {
	q, after, size, err := a.searchParams(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	comps, next, err := a.finder.Components(c.Request().Context(), q, after, size)
	if err != nil {
		return fail(c, a.log, err)
	}
	items, err := a.componentItems(c, comps)
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, searchPage(items, next))
}

// searchAssets lists the assets of the components a search matches (and
// that match its asset terms).
func (a *API) searchAssets(c echo.Context) error {
	q, after, size, err := a.searchParams(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	assets, next, err := a.finder.Assets(c.Request().Context(), q, after, size)
	if err != nil {
		return fail(c, a.log, err)
	}
	items := make([]assetJSON, 0, len(assets))
	for _, as := range assets {
		items = append(items, a.assetJSON(c, as))
	}
	return a.ok(c, searchPage(items, next))
}

// searchParams reads a search's query, its continuation token (the search
// service's cursor, already opaque) and page size (Nexus's default: 50).
func (a *API) searchParams(c echo.Context) (search.Query, string, int, error) {
	size, err := pageSize(c, search.DefaultLimit)
	if err != nil {
		return search.Query{}, "", 0, err
	}
	q, err := a.finder.ParseQuery(c.QueryParams(), "continuationToken", "pageSize")
	return q, c.QueryParam("continuationToken"), size, err
}

// searchPage is a page whose token is the search's own cursor.
func searchPage[T any](items []T, next string) page[T] {
	p := page[T]{Items: items}
	if next != "" {
		p.ContinuationToken = &next
	}
	return p
}

// searchAssetsDownload redirects (302) to the one asset a search matches:
// 404 for none, 400 for more than one unless sort is given, which picks the
// first (as Nexus does).
func (a *API) searchAssetsDownload(c echo.Context) error {
	q, err := a.finder.ParseQuery(c.QueryParams())
	if err != nil {
		return fail(c, a.log, err)
	}
	assets, _, err := a.finder.Assets(c.Request().Context(), q, "", 2)
	switch {
	case err != nil:
		return fail(c, a.log, err)
	case len(assets) == 0:
		return c.String(http.StatusNotFound, "Asset not found")
	case len(assets) > 1 && q.Sort == "":
		return c.String(http.StatusBadRequest, "Search returned multiple assets, please refine search criteria to find a single asset or use the sort query parameter to retrieve the first result.")
	}
	return c.Redirect(http.StatusFound, a.assetJSON(c, assets[0]).DownloadURL)
}
