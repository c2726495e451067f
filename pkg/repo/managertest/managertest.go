// Package managertest is a repository manager with the given formats over
// a fresh database and blob store in a temporary directory, for the tests
// of formats: repositories are created from their Nexus JSON and requests
// go to the format's handler as the server would send them.
package managertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// Env is a manager on its storage.
type Env struct {
	t       testing.TB
	Storage *repotest.Storage
	M       *repo.Manager
}

// New returns a manager serving formats; authz nil grants everything.
func New(t testing.TB, authz repo.Authorizer, opts repo.Options, formats ...repo.Format) *Env {
	t.Helper()
	st := repotest.NewStorage(t)
	if authz == nil {
		authz = repotest.AllowAll{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := repo.NewManager(st.DB, st.Stores, authz, opts, formats...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Settle(ctx)
	})
	return &Env{t: t, Storage: st, M: m}
}

// Create creates a repository from its JSON configuration (with its
// "format" and "type") and returns it.
func (e *Env) Create(config string) repo.Repository {
	e.t.Helper()
	var cfg repo.Config
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		e.t.Fatalf("configuration %s: %v", config, err)
	}
	if err := e.M.Create(context.Background(), cfg); err != nil {
		e.t.Fatalf("Create %s: %v", cfg.Name, err)
	}
	r, ok := e.M.Lookup(cfg.Name)
	if !ok {
		e.t.Fatalf("repository %s not created", cfg.Name)
	}
	return r
}

// Response is what a format answered.
type Response struct {
	*httptest.ResponseRecorder
	// Aborted is set when the handler cut the response (http.ErrAbortHandler),
	// as it does when a download it streams fails.
	Aborted bool
}

// Do sends a request for path p of r to r's format, as the server does
// for /repository/<name>/<p> of http://127.0.0.1 (its URL is the base URL
// of the request), with headers hdr.
func (e *Env) Do(ctx context.Context, r repo.Repository, method, p string, body io.Reader, hdr map[string]string) *Response {
	e.t.Helper()
	return e.DoQuery(ctx, r, method, p, "", body, hdr)
}

// DoQuery is Do with the raw query string query ("" for none).
func (e *Env) DoQuery(ctx context.Context, r repo.Repository, method, p, query string, body io.Reader, hdr map[string]string) (resp *Response) {
	e.t.Helper()
	base := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/repository/" + r.Name() + "/"}
	ctx = repo.WithBaseURL(ctx, base)
	target := base.String() + repo.EscapePath(p)
	if query != "" {
		target += "?" + query
	}
	req := httptest.NewRequestWithContext(ctx, method, target, body)
	req.RemoteAddr = "127.0.0.1:5555"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp = &Response{ResponseRecorder: httptest.NewRecorder()}
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			resp.Aborted = true
		}
	}()
	r.Format().ServeHTTP(resp, req, r, p)
	return resp
}
