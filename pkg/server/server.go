// Package server runs the HTTP side: the main echo instance with the
// repository content routes, the admin REST API and the request logging,
// authentication and limits around them.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/metrics"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
	"github.com/nexus-go/nexus-go/pkg/tlsconf"
)

// API is the admin REST API, mounted at <context-path>/service/rest.
type API interface {
	Register(g *echo.Group)
}

// UI is the admin web UI, mounted on the root of the context path ("/" and
// /ui/).
type UI interface {
	Register(g *echo.Group)
}

// Mount is a handler served at the root of the main port, outside the
// context path, for protocols whose clients expect a fixed path (Docker's
// /v2/). Prefix ends with a slash. The first path segment after it names
// a repository of Format (/v2/docker-h/…), which the request metrics
// count it under; other paths count under Format alone (/v2/_catalog).
type Mount struct {
	Prefix  string
	Format  string
	Handler http.Handler
}

// Server is the main HTTP listener and the connector listeners.
type Server struct {
	cfg        config.Config
	repos      *repo.Manager
	log        *slog.Logger
	echo       *echo.Echo
	http       *http.Server
	tls        *tlsconf.Reloader // of the HTTPS main port; nil without one
	connectors *connectors
	metrics    *metrics.Metrics
	mounts     []Mount
	// state is where the server is in its life (starting, serving,
	// draining), what readiness answers.
	state atomic.Int32
	// prefix is the context path without its trailing slash ("" for "/").
	prefix string
}

// New builds the server's routes and registers for repository changes, to
// keep connector ports in step. Every request of the main port and the
// connectors is counted in m.
func New(cfg config.Config, repos *repo.Manager, authn *auth.Service, api API, ui UI, m *metrics.Metrics, log *slog.Logger, mounts ...Mount) (*Server, error) {
	proxies, err := config.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("http.trusted-proxies: %w", err)
	}
	clientAddr := clientip.Extractor(proxies)
	conns, err := newConnectors(cfg, repos, authn, m, log, clientAddr)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, repos: repos, log: log, connectors: conns, metrics: m, mounts: mounts,
		prefix: strings.TrimSuffix(cfg.ContextPath, "/")}
	if cfg.SSLPort != 0 {
		files := tlsconf.Files{Cert: cfg.SSLCert, Key: cfg.SSLKey, ClientCAs: cfg.ClientCAFiles()}
		if s.tls, err = tlsconf.New("main port", files, log); err != nil {
			return nil, err
		}
	}
	repos.Observe(conns)
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = clientAddr
	e.Use(s.measure)
	e.Use(recordClient)
	e.Use(middleware.Recover())
	e.Use(s.logRequests)
	e.Use(s.exceptUI(authn.Middleware()))
	root := e.Group(s.prefix)
	root.Any("/repository/*", s.repository)
	root.Any("/repository", s.repositoryRoot)
	// Nexus's path; the metrics decide who may read them.
	root.GET("/service/metrics/prometheus", echo.WrapHandler(m.Protected(authn, log)))
	rest := root.Group("/service/rest", s.refuseBodies(true), middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: byteLimit(cfg.MaxRequestBody), Skipper: s.componentUpload}), s.uploadLimit(cfg.MaxUploadSize))
	rest.GET("/v1/status/ready", s.readiness)
	api.Register(rest)
	if ui != nil {
		ui.Register(root)
	}
	for _, m := range mounts {
		h := func(c echo.Context) error {
			req := c.Request()
			req = req.WithContext(repo.WithMaxUploadSize(req.Context(), cfg.MaxUploadSize))
			direct(c, func(w http.ResponseWriter) { m.Handler.ServeHTTP(w, req) })
			return nil
		}
		e.Any(m.Prefix+"*", h, s.refuseBodies(false))
		e.Any(strings.TrimSuffix(m.Prefix, "/"), h, s.refuseBodies(false))
	}
	s.echo = e
	s.http = &http.Server{
		Handler:           guardBodies(e, cfg.BodyIdleTimeout),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// exceptUI runs m on every request but the UI's ("/" and /ui/ under the
// context path), whose caller is its session's: Basic or Bearer
// credentials there are neither checked (bcrypt, the login throttle) nor
// able to spoil a valid session with a failed login.
func (s *Server) exceptUI(m echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withM := m(next)
		return func(c echo.Context) error {
			p := c.Request().URL.Path
			if p == s.prefix+"/" || strings.HasPrefix(p, s.prefix+"/ui/") {
				return next(c)
			}
			return withM(c)
		}
	}
}

// byteLimit renders n bytes in echo's BodyLimit syntax.
// componentUpload tells POST /v1/components, whose body is content (a
// multipart upload), not a JSON document.
func (s *Server) componentUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Request().URL.Path == s.prefix+"/service/rest/v1/components"
}

// uploadLimit bounds a component upload as uploads to /repository/ are:
// each file by upload.max-size (in the context, for the engine's writes),
// the whole form by repo.MaxUploadFiles such files and 1 MiB for its
// fields.
func (s *Server) uploadLimit(max int64) echo.MiddlewareFunc {
	formLimit := int64(0)
	if max > 0 && max <= (math.MaxInt64-1<<20)/repo.MaxUploadFiles {
		formLimit = repo.MaxUploadFiles*max + 1<<20
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !s.componentUpload(c) {
				return next(c)
			}
			req := c.Request()
			if formLimit > 0 {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, formLimit)
			}
			c.SetRequest(req.WithContext(repo.WithMaxUploadSize(req.Context(), max)))
			return next(c)
		}
	}
}

func byteLimit(n int64) string {
	if n <= 0 {
		n = 1 << 20
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Listeners are the sockets Serve accepts connections on.
type Listeners struct {
	Main  net.Listener // the main port
	HTTPS net.Listener // the HTTPS main port; nil for none
	Debug net.Listener // the debug listener (http.debug.addr); nil for none
}

// Serve accepts connections on the listeners and the connector ports
// until ctx is cancelled or a listener fails. It then drains: for
// shutdown.drain-delay it goes on serving while readiness answers 503,
// then it stops accepting and lets in-flight requests finish for at most
// shutdown.timeout. Both main ports share one http.Server: the same
// handler chain, timeouts and shutdown. The debug listener closes last,
// so that a shutdown can be profiled.
func (s *Server) Serve(ctx context.Context, ls Listeners) error {
	listeners := []net.Listener{limitConnections(ls.Main, s.cfg.MaxConnections)}
	if ls.HTTPS != nil {
		if s.tls == nil {
			return errors.New("an HTTPS listener, but no application-port-ssl configured")
		}
		// The cap counts TCP connections, handshakes included.
		listeners = append(listeners, tls.NewListener(limitConnections(ls.HTTPS, s.cfg.MaxConnections), s.tls.Config()))
	}
	s.connectors.Changed()
	errc := make(chan error, len(listeners)+1)
	var debug *http.Server
	if ls.Debug != nil {
		debug = s.debugServer()
		go func() { errc <- debug.Serve(ls.Debug) }()
	}
	s.state.Store(serving)
	for _, ln := range listeners {
		go func() { errc <- s.http.Serve(ln) }()
	}
	pending := len(listeners)
	if debug != nil {
		pending++
	}
	var failed error
	select {
	case failed = <-errc:
		pending--
	case <-ctx.Done():
	}
	s.state.Store(draining)
	if failed == nil {
		if failed = s.drain(errc); failed != nil {
			pending--
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	connsDone := make(chan struct{})
	go func() {
		s.connectors.shutdown(sctx)
		close(connsDone)
	}()
	err := s.http.Shutdown(sctx)
	<-connsDone
	if serr := s.repos.Settle(sctx); serr != nil {
		s.log.Warn("proxy downloads still running at shutdown", "err", serr)
	}
	if debug != nil {
		debug.Shutdown(sctx)
	}
	for ; pending > 0; pending-- {
		if serr := <-errc; failed == nil && !errors.Is(serr, http.ErrServerClosed) {
			failed = serr
		}
	}
	if failed != nil {
		return failed
	}
	return err
}

// ReloadTLS reads the certificates and client CAs of the HTTPS main port
// and of the Docker connectors again (on SIGHUP). A listener whose files
// fail to load keeps what it had; the errors are returned (and logged).
// It reports whether any listener has TLS to reload.
func (s *Server) ReloadTLS() (bool, error) {
	var errs []error
	configured := false
	for _, r := range []*tlsconf.Reloader{s.tls, s.connectors.tls} {
		if r != nil {
			configured = true
			errs = append(errs, r.Reload())
		}
	}
	return configured, errors.Join(errs...)
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		line := func() []any {
			req := c.Request()
			user := ""
			if p := auth.PrincipalFrom(req.Context()); p != nil {
				user = p.UserID
			}
			return []any{"method", req.Method, "path", auth.RedactTokens(req.URL.Path), "status", c.Response().Status,
				"bytes", c.Response().Size, "ms", time.Since(start).Milliseconds(), "remote", clientip.Of(req), "user", user}
		}
		defer logAbort(s.log, line)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.log.Info("request", line()...)
		return nil
	}
}

// logAbort logs a request whose handler panicked, before the panic goes
// on: net/http cuts the connection on http.ErrAbortHandler (a transfer
// that failed mid-way), which would otherwise leave no log line at all.
func logAbort(log *slog.Logger, line func() []any) {
	if v := recover(); v != nil {
		reason := "panic"
		if v == http.ErrAbortHandler {
			reason = "transfer cut"
		}
		log.Warn("request aborted", append(line(), "reason", reason)...)
		panic(v)
	}
}

// recordClient records the client address of each request (see clientip;
// the echo instance's IPExtractor decides it) for login throttling and the
// request log.
func recordClient(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.SetRequest(clientip.With(c.Request(), c.RealIP()))
		return next(c)
	}
}

func (s *Server) repositoryRoot(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, s.prefix+"/repository/")
}

// repository routes /repository/<name>/<path> to the repository's format,
// or to the folder listing for paths ending in "/".
func (s *Server) repository(c echo.Context) error {
	w, req := c.Response(), c.Request()
	rest := strings.TrimPrefix(req.URL.EscapedPath(), s.prefix+"/repository/")
	escapedName, tail, hasSlash := strings.Cut(rest, "/")
	name, err := url.PathUnescape(escapedName)
	if err != nil || name == "" {
		serve.Error(w, req, s.log, errs.New(errs.NotFound, "repository not found"))
		return nil
	}
	// A sign-in (npm login) carries its credentials in its body: it
	// reaches the format, which checks them, without a principal.
	r, found := s.repos.Lookup(name)
	var p string
	var dir bool
	pathErr := errs.New(errs.NotFound, "repository not found")
	if found && hasSlash {
		p, dir, pathErr = repo.CleanPath(r.Format(), tail)
	}
	signIn := pathErr == nil && signsIn(r, req.Method, p)
	if !signIn && refusesBody(req, false) {
		refuseBody(w, req, s.log)
		return nil
	}
	if !signIn {
		// Missing and hidden repositories answer alike (repo.Manager.Access).
		if r, err = s.repos.Access(req.Context(), name); err != nil {
			serve.Error(w, req, s.log, err)
			return nil
		}
	}
	if !hasSlash {
		return c.Redirect(http.StatusMovedPermanently, s.prefix+"/repository/"+escapedName+"/")
	}
	if pathErr != nil {
		// After Access: a hidden repository answers as a missing one,
		// whatever its path.
		s.formatError(w, req, r, pathErr)
		return nil
	}
	ctx := repo.WithBaseURL(req.Context(), s.baseURL(c, escapedName))
	ctx = repo.WithMaxUploadSize(ctx, s.cfg.MaxUploadSize)
	req = req.WithContext(ctx)
	if dir {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			s.formatError(w, req, r, errs.New(errs.Invalid, "a folder path cannot be written"))
			return nil
		}
		s.browse(w, req, r, p)
		return nil
	}
	direct(c, func(w http.ResponseWriter) { r.Format().ServeHTTP(w, req, r, p) })
	return nil
}

// formatError answers err in the error shape of r's format.
func (s *Server) formatError(w http.ResponseWriter, req *http.Request, r repo.Repository, err error) {
	if ew, ok := r.Format().(repo.ErrorWriter); ok {
		ew.WriteError(w, req, err)
		return
	}
	serve.Error(w, req, s.log, err)
}

// signsIn reports whether the request of method for path p of r is one
// its format authenticates from the body (repo.SignIn).
func signsIn(r repo.Repository, method, p string) bool {
	si, ok := r.Format().(repo.SignIn)
	return ok && si.SignsIn(method, p)
}

// direct lets write use the connection's own ResponseWriter, whose
// ReadFrom sends files with sendfile (echo's wrapper has none and copies
// through a buffer), and then tells echo what was sent, for the log and
// the metrics.
func direct(c echo.Context, write func(w http.ResponseWriter)) {
	resp := c.Response()
	sw := &serve.StatusWriter{ResponseWriter: resp.Writer}
	// Deferred: a transfer cut mid-way (http.ErrAbortHandler) is logged
	// and counted with what it sent.
	defer func() { resp.Status, resp.Size, resp.Committed = sw.Logged(), sw.Bytes, true }()
	write(sw)
}

// baseURL is the repository's URL as the client addressed it; the scheme
// follows the same rule as the REST API's URLs (echo's, which honours
// X-Forwarded-Proto from a TLS-terminating proxy).
func (s *Server) baseURL(c echo.Context, escapedName string) *url.URL {
	return &url.URL{Scheme: c.Scheme(), Host: c.Request().Host, Path: s.prefix + "/repository/" + escapedName + "/"}
}
