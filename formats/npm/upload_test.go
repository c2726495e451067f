package npm

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

func uploadOf(tgz []byte) *repo.UploadForm {
	return &repo.UploadForm{Fields: map[string]string{}, Files: map[string]repo.UploadFile{"npm.asset": {
		Filename: "p.tgz", Size: int64(len(tgz)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tgz)), nil }}}}
}

// The upload of a tarball publishes it as npm publish does: the packument
// names the version, latest points at it, the tarball is served; the
// same version again and tarballs that are not packages are refused.
func TestUploadComponent(t *testing.T) {
	fx := newFixture(t)
	ctx := auth.WithPrincipal(t.Context(), auth.System())
	h := fx.hosted("npm-hosted")
	p := npmtest.Package{Name: "@acme/uploaded", Version: "2.0.0"}
	tgz := p.Tarball()
	if err := fx.M.UploadComponent(ctx, "npm-hosted", uploadOf(tgz)); err != nil {
		t.Fatal(err)
	}
	doc := fx.get(h, "@acme%2fuploaded", map[string]string{"Accept": "application/json"}, http.StatusOK)
	if !strings.Contains(string(doc), `"latest":"2.0.0"`) || !strings.Contains(string(doc), `"shasum":`) {
		t.Fatalf("packument after upload: %s", doc)
	}
	if got := fx.get(h, "@acme/uploaded/-/uploaded-2.0.0.tgz", nil, http.StatusOK); !bytes.Equal(got, tgz) {
		t.Fatal("the tarball served is not the one uploaded")
	}
	if err := fx.M.UploadComponent(ctx, "npm-hosted", uploadOf(tgz)); err == nil {
		t.Fatal("the same version uploaded twice")
	}
	for what, form := range map[string]*repo.UploadForm{
		"no asset":      {Fields: map[string]string{}, Files: map[string]repo.UploadFile{}},
		"not a tarball": uploadOf([]byte("plain text")),
	} {
		var fe *errs.FieldError
		if err := fx.M.UploadComponent(ctx, "npm-hosted", form); !errors.As(err, &fe) || fe.Field != "asset" {
			t.Errorf("%s: %v, want a refusal of asset", what, err)
		}
	}
}
