package api

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// uploadMemory is how much of an upload form is held in memory; larger
// files go to temporary files, removed when the request ends.
const uploadMemory = 8 << 20

// uploadComponent is POST /v1/components?repository=x: Nexus's multipart
// upload (raw.directory, raw.asset1, maven2.groupId, npm.asset, ...),
// handed to the repository's format (repo.ComponentUploader). 204 on
// success; a bad field is a 400 list whose ids name it as Nexus's do
// ("directory", "extension").
func (a *API) uploadComponent(c echo.Context) error {
	name := c.QueryParam("repository")
	if name == "" {
		return fail(c, a.log, errNoRepository)
	}
	mf, err := c.Request().MultipartReader()
	if err != nil {
		return fail(c, a.log, errs.Wrap(errs.Invalid, err, "the body is not a multipart/form-data upload"))
	}
	form, err := mf.ReadForm(uploadMemory)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fail(c, a.log, errs.New(errs.TooLarge, "the upload is larger than the upload limit of %d bytes", tooLarge.Limit))
	case err != nil:
		return fail(c, a.log, errs.Wrap(errs.Invalid, err, "the upload form could not be read"))
	}
	defer form.RemoveAll()
	files := 0
	for _, fs := range form.File {
		files += len(fs)
	}
	if files > repo.MaxUploadFiles {
		return c.JSON(http.StatusBadRequest, []ValidationError{{ID: "*",
			Message: fmt.Sprintf("an upload holds at most %d files, this one %d", repo.MaxUploadFiles, files)}})
	}
	up := &repo.UploadForm{Fields: map[string]string{}, Files: map[string]repo.UploadFile{}, UploaderIP: clientip.Of(c.Request())}
	if p := auth.PrincipalFrom(c.Request().Context()); p != nil {
		up.Uploader = p.UserID
	}
	for k, vs := range form.Value {
		if len(vs) > 0 {
			up.Fields[k] = vs[0]
		}
	}
	for k, fs := range form.File {
		if len(fs) > 0 {
			fh := fs[0]
			up.Files[k] = repo.UploadFile{Filename: fh.Filename, Size: fh.Size,
				Open: func() (io.ReadCloser, error) { return openPart(fh) }}
		}
	}
	if err := a.repos.UploadComponent(c.Request().Context(), name, up); err != nil {
		var fe *errs.FieldError
		if errors.As(err, &fe) {
			return c.JSON(http.StatusBadRequest, []ValidationError{{ID: fe.Field, Message: fe.Message}})
		}
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func openPart(fh *multipart.FileHeader) (io.ReadCloser, error) { return fh.Open() }
