package server

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// The limits on what one client can hold, the same on the main port and
// on every connector port: connections per listener, header bytes, pauses
// inside a request body, and bodies nobody is accountable for.

// maxHeaderBytes bounds a request's line and headers. Go's default of
// 1 MiB lets every connection pin a megabyte before any check runs; the
// longest line a route accepts is a path of repo.MaxPathLength bytes,
// escaped at most three times over, and tokens and cookies take a few KiB.
const maxHeaderBytes = 64 << 10

// guardBodies puts an idle deadline on request bodies: each Read may wait
// at most idle for the client, so a stalled upload fails and frees its
// connection while a slow but steady one completes. A body the handler
// left unread gets one more idle period for the server's own read of up
// to 256 KiB of it (made to keep the connection), or none when the
// response closes the connection anyway.
func guardBodies(next http.Handler, idle time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		b := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: idle}
		r.Body = b
		next.ServeHTTP(w, r)
		switch {
		case b.ended:
		case w.Header().Get("Connection") == "close":
			b.rc.SetReadDeadline(time.Now())
		default:
			b.rc.SetReadDeadline(time.Now().Add(idle))
		}
	})
}

// idleBody is a request body whose every Read extends the connection's
// read deadline by idle.
type idleBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	ended bool // read to its end or failed
}

func (b *idleBody) Read(p []byte) (int, error) {
	// At the end of the body net/http lifts the deadline to watch the
	// connection for the client leaving; a Read past the end must not set
	// it again, or that watch would time out and cancel the request.
	if !b.ended {
		b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.ended = true
	}
	return n, err
}

// refusesBody reports whether req carries a body that nobody answers for,
// to be refused before a byte of it is read: the caller's Basic
// credentials failed, or it has no principal (no credentials while
// anonymous access is off). A Bearer token has no principal yet but is
// checked by its format before the body is read. usersOnly also refuses
// Bearer tokens and the anonymous principal, for routes that take writes
// from users only (the REST API).
func refusesBody(req *http.Request, usersOnly bool) bool {
	if req.ContentLength == 0 {
		return false
	}
	ctx := req.Context()
	p := auth.PrincipalFrom(ctx)
	switch {
	case auth.LoginFailed(ctx):
		return true
	case p == nil:
		return usersOnly || !auth.HasBearer(req)
	}
	return usersOnly && p.Anonymous
}

// refuseBody answers 401 without reading the body and closes the
// connection, which then cannot be kept without reading the body first.
func refuseBody(w http.ResponseWriter, req *http.Request, log *slog.Logger) {
	w.Header().Set("Connection", "close")
	serve.Error(w, req, log, errs.New(errs.Unauthorized, "authentication required"))
}

// refuseBodies is refusesBody as middleware, after the caller is resolved.
func (s *Server) refuseBodies(usersOnly bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if refusesBody(c.Request(), usersOnly) {
				refuseBody(c.Response(), c.Request(), s.log)
				return nil
			}
			return next(c)
		}
	}
}
