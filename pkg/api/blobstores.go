package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// registerBlobStores mounts Nexus's /v1/blobstores endpoints; the manager
// checks the nx-blobstores privileges.
func (a *API) registerBlobStores(g *echo.Group) {
	g.GET("/v1/blobstores", a.listBlobStores)
	g.POST("/v1/blobstores/file", a.createFileBlobStore)
	g.GET("/v1/blobstores/file/:name", a.getFileBlobStore)
	g.PUT("/v1/blobstores/file/:name", a.updateFileBlobStore)
	g.DELETE("/v1/blobstores/:name", a.deleteBlobStore)
	g.GET("/v1/blobstores/:name/quota-status", a.quotaStatus)
	// Only file stores exist: the others' creation says so, in Nexus's shape.
	for _, typ := range []string{"s3", "group", "azure"} {
		g.POST("/v1/blobstores/"+typ, a.unsupportedBlobStore(typ))
		g.PUT("/v1/blobstores/"+typ+"/:name", a.unsupportedBlobStore(typ))
	}
}

// softQuotaJSON is Nexus's softQuota: limit in bytes.
type softQuotaJSON struct {
	Type  string `json:"type"`
	Limit int64  `json:"limit"`
}

// fileBlobStoreJSON is the body of /v1/blobstores/file.
type fileBlobStoreJSON struct {
	Name      string         `json:"name"`
	Path      string         `json:"path"`
	SoftQuota *softQuotaJSON `json:"softQuota"`
}

func (b fileBlobStoreJSON) config() meta.BlobStoreConfig {
	c := meta.BlobStoreConfig{Name: b.Name, Type: "File", Path: b.Path}
	if b.SoftQuota != nil {
		c.SoftQuota = &meta.SoftQuota{Type: b.SoftQuota.Type, Limit: b.SoftQuota.Limit}
	}
	return c
}

func quotaJSON(q *meta.SoftQuota) *softQuotaJSON {
	if q == nil {
		return nil
	}
	return &softQuotaJSON{Type: q.Type, Limit: q.Limit}
}

// blobStoreJSON is an entry of GET /v1/blobstores.
type blobStoreJSON struct {
	Name                  string         `json:"name"`
	Type                  string         `json:"type"`
	Unavailable           bool           `json:"unavailable"`
	BlobCount             int64          `json:"blobCount"`
	TotalSizeInBytes      int64          `json:"totalSizeInBytes"`
	AvailableSpaceInBytes int64          `json:"availableSpaceInBytes"`
	SoftQuota             *softQuotaJSON `json:"softQuota"`
}

func (a *API) listBlobStores(c echo.Context) error {
	usage, err := a.repos.BlobStoreUsage(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	out := []blobStoreJSON{}
	for _, u := range usage {
		out = append(out, blobStoreJSON{Name: u.Name, Type: u.Type, Unavailable: u.Unavailable,
			BlobCount: u.BlobCount, TotalSizeInBytes: u.TotalSize, AvailableSpaceInBytes: u.AvailableSpace,
			SoftQuota: quotaJSON(u.SoftQuota)})
	}
	return a.ok(c, out)
}

func (a *API) createFileBlobStore(c echo.Context) error {
	var body fileBlobStoreJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, a.log, err)
	}
	if body.Name == "" {
		return fail(c, a.log, invalid("name", "may not be empty"))
	}
	if err := a.repos.CreateBlobStore(c.Request().Context(), body.config()); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) getFileBlobStore(c echo.Context) error {
	cfg, err := a.repos.BlobStoreConfig(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, fileBlobStoreJSON{Name: cfg.Name, Path: cfg.Path, SoftQuota: quotaJSON(cfg.SoftQuota)})
}

func (a *API) updateFileBlobStore(c echo.Context) error {
	var body fileBlobStoreJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, a.log, err)
	}
	// The path names the store; a body's name, if any, must agree.
	if body.Name != "" && body.Name != c.Param("name") {
		return fail(c, a.log, invalid("name", "does not match the blob store in the path"))
	}
	body.Name = c.Param("name")
	if err := a.repos.UpdateBlobStore(c.Request().Context(), body.config()); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteBlobStore(c echo.Context) error {
	if err := a.repos.DeleteBlobStore(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// quotaStatusJSON is the body of /v1/blobstores/{name}/quota-status.
type quotaStatusJSON struct {
	IsViolation   bool   `json:"isViolation"`
	Message       string `json:"message"`
	BlobStoreName string `json:"blobStoreName"`
}

func (a *API) quotaStatus(c echo.Context) error {
	st, err := a.repos.QuotaStatus(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, quotaStatusJSON{IsViolation: st.IsViolation, Message: st.Message, BlobStoreName: st.BlobStoreName})
}

func (a *API) unsupportedBlobStore(typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return fail(c, a.log, errs.New(errs.Invalid, "%s blob stores are not supported: only file blob stores are", typ))
	}
}
