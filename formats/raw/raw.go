// Package raw is the raw format: files at arbitrary paths, no metadata.
package raw

import (
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// Format is the raw format plugin.
type Format struct {
	log *slog.Logger
}

var _ repo.Format = (*Format)(nil)

// New returns the raw format.
func New(log *slog.Logger) *Format { return &Format{log: log} }

// Name returns "raw".
func (f *Format) Name() string { return "raw" }

// settings is the "raw" section of a raw repository's configuration.
type settings struct {
	ContentDisposition string `json:"contentDisposition"`
}

// Validate checks the "raw" section: contentDisposition INLINE or ATTACHMENT.
func (f *Format) Validate(cfg *repo.Config) error {
	var s settings
	found, err := cfg.Section("raw", &s)
	if err != nil {
		return &errs.FieldError{Field: "raw", Message: "malformed section"}
	}
	s.ContentDisposition = strings.ToUpper(s.ContentDisposition)
	switch {
	case !found || s.ContentDisposition == "":
		s.ContentDisposition = "ATTACHMENT"
	case s.ContentDisposition != "INLINE" && s.ContentDisposition != "ATTACHMENT":
		return &errs.FieldError{Field: "raw.contentDisposition", Message: "must be INLINE or ATTACHMENT"}
	}
	return cfg.SetSection("raw", s)
}

// Checksums are the four that raw clients (and the REST API) ask for.
func (f *Format) Checksums() []blob.Algorithm {
	return []blob.Algorithm{blob.MD5, blob.SHA1, blob.SHA512}
}

// IsMetadata is false: raw has no metadata, every file is content.
func (f *Format) IsMetadata(string) bool { return false }

// Component makes each file its own component, as Nexus does: the name is
// the path, the group its folder.
func (f *Format) Component(p string) *meta.Component {
	return &meta.Component{Name: p, Group: "/" + strings.TrimSuffix(path.Dir(p), ".")}
}

// ServeHTTP handles GET, HEAD, PUT and DELETE of one file.
func (f *Format) ServeHTTP(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) {
	ctx := req.Context()
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		if err := r.AuthorizePath(ctx, "read", p); err != nil {
			serve.Error(w, req, f.log, err)
			return
		}
		c, err := r.Get(ctx, p)
		if err != nil {
			serve.Error(w, req, f.log, err)
			return
		}
		if err := serve.Content(w, req, c, f.disposition(r)); err != nil {
			serve.Error(w, req, f.log, err)
		}
	case http.MethodPut:
		action := "add"
		if _, err := r.Stat(ctx, p); err == nil {
			action = "edit"
		}
		if err := r.AuthorizePath(ctx, action, p); err != nil {
			serve.Error(w, req, f.log, err)
			return
		}
		who := ""
		if pr := auth.PrincipalFrom(ctx); pr != nil {
			who = pr.UserID
		}
		_, err := r.Put(ctx, p, req.Body, repo.PutOptions{
			ContentType: uploadType(req),
			Size:        req.ContentLength,
			Uploader:    who,
			UploaderIP:  clientip.Of(req),
		})
		if err != nil {
			serve.Error(w, req, f.log, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
	case http.MethodDelete:
		if err := r.AuthorizePath(ctx, "delete", p); err != nil {
			serve.Error(w, req, f.log, err)
			return
		}
		if err := r.Delete(ctx, p); err != nil {
			serve.Error(w, req, f.log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
		serve.Error(w, req, f.log, errs.New(errs.Unsupported, "method %s not allowed", req.Method))
	}
}

func (f *Format) disposition(r repo.Repository) string {
	cfg := r.Config()
	var s settings
	if _, err := cfg.Section("raw", &s); err == nil && s.ContentDisposition == "INLINE" {
		return "inline"
	}
	return "attachment"
}

// uploadType takes the content type a client declared unless it is the
// generic one, in which case the extension decides (the engine's default).
func uploadType(req *http.Request) string {
	declared := req.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil || mt == "application/octet-stream" || mt == "application/x-www-form-urlencoded" {
		return ""
	}
	return declared
}
