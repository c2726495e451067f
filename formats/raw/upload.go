package raw

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// UploadComponent takes Nexus's raw upload form: raw.directory, and files
// raw.assetN each named by raw.assetN.filename, stored at
// directory/filename. Every field and path is checked, and the caller's
// privilege on each path, before the first write.
func (f *Format) UploadComponent(ctx context.Context, r repo.Repository, form *repo.UploadForm) error {
	dir := strings.Trim(form.Fields["raw.directory"], "/")
	if dir == "" {
		return &errs.FieldError{Field: "directory", Message: "Missing required component field 'Directory'"}
	}
	ns := form.Assets("raw.")
	if len(ns) == 0 {
		return &errs.FieldError{Field: "asset", Message: "No assets found in upload"}
	}
	paths := make([]string, len(ns))
	for i, n := range ns {
		name := form.Fields["raw.asset"+n+".filename"]
		if name == "" {
			return &errs.FieldError{Field: "filename", Message: fmt.Sprintf("Missing required asset field 'Filename' on '%s'", n)}
		}
		p, _, err := repo.CleanPath(f, repo.EscapePath(path.Join(dir, name)))
		if err != nil {
			return &errs.FieldError{Field: "filename", Message: fmt.Sprintf("'%s/%s' is not a valid path: %s", dir, name, err)}
		}
		for _, q := range paths[:i] {
			if q == p {
				return &errs.FieldError{Field: "filename", Message: fmt.Sprintf("Asset paths must be unique: %s", p)}
			}
		}
		paths[i] = p
		action := "add"
		if _, err := r.Stat(ctx, p); err == nil {
			action = "edit"
		}
		if err := r.AuthorizePath(ctx, action, p); err != nil {
			return err
		}
	}
	for i, n := range ns {
		file := form.Files["raw.asset"+n]
		body, err := file.Open()
		if err != nil {
			return err
		}
		_, err = r.Put(ctx, paths[i], body, form.PutOptions(file.Size))
		body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
