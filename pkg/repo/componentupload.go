package repo

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// ComponentUploader is implemented by formats that take Nexus's component
// upload (POST /v1/components, multipart form fields such as raw.directory
// and raw.asset1): the format checks every field first, then writes with
// the same checks and privileges as its own write route.
type ComponentUploader interface {
	UploadComponent(ctx context.Context, r Repository, form *UploadForm) error
}

// MaxUploadFiles is how many files one component upload may hold: each is
// bounded by upload.max-size, the form by this many of them.
const MaxUploadFiles = 16

// UploadForm is a component upload's form: its text fields and files by
// name, and who sent it.
type UploadForm struct {
	Fields     map[string]string
	Files      map[string]UploadFile
	Uploader   string
	UploaderIP string
}

// UploadFile is one file of an upload form.
type UploadFile struct {
	Filename string
	Size     int64
	Open     func() (io.ReadCloser, error)
}

// Assets returns the numbers of the files named prefix+"asset"+N (N from
// 1, as Nexus's forms number them), in order: "raw.asset1", "raw.asset2".
func (f *UploadForm) Assets(prefix string) []string {
	var out []string
	for name := range f.Files {
		if n, ok := strings.CutPrefix(name, prefix+"asset"); ok {
			if _, err := strconv.Atoi(n); err == nil {
				out = append(out, n)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return out
}

// PutOptions are the options of a write of the form's files.
func (f *UploadForm) PutOptions(size int64) PutOptions {
	return PutOptions{Size: size, Uploader: f.Uploader, UploaderIP: f.UploaderIP}
}

// UploadComponent runs a component upload into the hosted repository
// name. The format's hook decides privileges as its write route does; if
// it fails, the paths it created are deleted again, so a refused upload
// leaves nothing of itself (a path it replaced keeps the new content).
func (m *Manager) UploadComponent(ctx context.Context, name string, form *UploadForm) error {
	r, err := m.Access(ctx, name)
	if err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	up, ok := r.Format().(ComponentUploader)
	if !ok {
		return errs.New(errs.Invalid, "Uploading components to %s repositories is unsupported", r.Config().Format)
	}
	if t := r.Config().Type; t != Hosted {
		return errs.New(errs.Invalid, "Uploading components to a '%s' type repository is unsupported", t)
	}
	t := &tracked{Repository: r}
	if err := up.UploadComponent(ctx, t, form); err != nil {
		t.undo(ctx, m.opts.Log)
		return err
	}
	return nil
}

// tracked is a repository that remembers the paths a write created.
type tracked struct {
	Repository
	mu      sync.Mutex
	created []string
}

func (t *tracked) Put(ctx context.Context, p string, body io.Reader, opts PutOptions) (*meta.Asset, error) {
	_, err := t.Stat(ctx, p)
	existed := err == nil
	a, err := t.Repository.Put(ctx, p, body, opts)
	if err == nil && !existed {
		t.mu.Lock()
		t.created = append(t.created, p)
		t.mu.Unlock()
	}
	return a, err
}

func (t *tracked) undo(ctx context.Context, log *slog.Logger) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.created {
		if err := t.Repository.Delete(context.WithoutCancel(ctx), p); err != nil && errs.KindOf(err) != errs.NotFound {
			log.Error("undoing a failed component upload", "repository", t.Name(), "path", p, "err", err)
		}
	}
}
