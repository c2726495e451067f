package server

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/metrics"
)

// What operators watch: the request metrics of the main port, readiness,
// the drain before shutdown, and the debug listener.

// The states of a server, as readiness reports them.
const (
	starting int32 = iota // repositories and connectors not up yet: 503
	serving               // 200
	draining              // shutting down: 503
)

// measure counts each request of the main port under its route, with its
// final status (middleware inside it has turned errors and panics into
// answers by then), time and body bytes. A cut transfer counts with what
// it sent.
func (s *Server) measure(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		route := s.routeOf(req.URL.Path)
		var body *metrics.CountingBody
		if req.ContentLength != 0 {
			body = &metrics.CountingBody{ReadCloser: req.Body}
			req.Body = body
		}
		defer func() {
			var received int64
			if body != nil {
				received = body.N
			}
			resp := c.Response()
			route.Observe(req.Method, resp.Status, time.Since(start), received, resp.Size)
		}()
		return next(c)
	}
}

// routeOf is the metrics route of a main-port path: the repository it
// names if that exists (under /repository/, or a mount's first segment),
// else what kind of route it is. Only names of existing repositories
// become label values, so made-up names cannot grow the series.
func (s *Server) routeOf(p string) *metrics.Route {
	if rest, ok := strings.CutPrefix(p, s.prefix+"/repository/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		if r, ok := s.repos.Lookup(name); ok {
			return s.metrics.Repository(name, r.Format().Name())
		}
		return s.metrics.Fixed(metrics.Other)
	}
	for _, m := range s.mounts {
		rest, ok := strings.CutPrefix(p, m.Prefix)
		if !ok {
			if p+"/" == m.Prefix {
				return s.metrics.Fixed(m.Format)
			}
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		if r, ok := s.repos.Lookup(name); ok && r.Format().Name() == m.Format {
			return s.metrics.Repository(name, m.Format)
		}
		return s.metrics.Fixed(m.Format)
	}
	switch {
	case strings.HasPrefix(p, s.prefix+"/service/"):
		return s.metrics.Fixed(metrics.API)
	case p == s.prefix+"/" || p == s.prefix || strings.HasPrefix(p, s.prefix+"/ui/"):
		return s.metrics.Fixed(metrics.UI)
	}
	return s.metrics.Fixed(metrics.Other)
}

// readiness answers load balancers: 200 while the server serves, 503
// while it starts and while it drains. It needs no caller and tells
// nothing else.
func (s *Server) readiness(c echo.Context) error {
	if s.state.Load() != serving {
		return c.NoContent(http.StatusServiceUnavailable)
	}
	return c.NoContent(http.StatusOK)
}

// drain goes on serving for shutdown.drain-delay, readiness answering
// 503, so that load balancers take the server out of rotation while it
// still answers what they send meanwhile; keep-alive connections close
// after their next answer, so clients reconnect elsewhere. A listener
// failing meanwhile ends it with its error.
func (s *Server) drain(errc <-chan error) error {
	if s.cfg.DrainDelay <= 0 {
		return nil
	}
	s.http.SetKeepAlivesEnabled(false)
	s.log.Info("draining before shutdown: readiness answers 503", "delay", s.cfg.DrainDelay)
	t := time.NewTimer(s.cfg.DrainDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case err := <-errc:
		return err
	}
}

// debugServer serves http.debug.addr: the metrics without authentication
// and Go's profiles, on a mux of its own (net/http/pprof also registers
// on http.DefaultServeMux, which nothing serves). It is for localhost or a
// private interface only.
func (s *Server) debugServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.Handler(s.log))
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles: heap, goroutine, …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}
