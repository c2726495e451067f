// Command nexus-go is a self-hosted artifact repository manager: hosted,
// proxy and group repositories of raw and Docker (and later Maven, npm)
// content behind a Nexus-compatible admin REST API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nexus-go/nexus-go/formats/docker"
	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/formats/npm"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/api"
	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/ldap"
	"github.com/nexus-go/nexus-go/pkg/mail"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/metrics"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/scripts"
	"github.com/nexus-go/nexus-go/pkg/search"
	"github.com/nexus-go/nexus-go/pkg/server"
	"github.com/nexus-go/nexus-go/pkg/tasks"
	"github.com/nexus-go/nexus-go/pkg/truststore"
	"github.com/nexus-go/nexus-go/pkg/ui"
	"github.com/nexus-go/nexus-go/pkg/webhooks"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage:
  nexus-go serve [--config FILE] [--data-dir DIR] [--port N]
  nexus-go version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version", "--version":
		fmt.Println("nexus-go", version)
	case "serve":
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "nexus-go:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var flags config.Flags
	fs.StringVar(&flags.ConfigFile, "config", "", "properties file")
	fs.StringVar(&flags.DataDir, "data-dir", "", "data directory")
	fs.IntVar(&flags.Port, "port", 0, "main HTTP port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(flags, os.Environ())
	if err != nil {
		return err
	}
	log := newLogger(cfg, os.Stderr)
	start := time.Now()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	db, err := meta.Open(filepath.Join(cfg.DataDir, "db", "nexus.bolt"))
	if err != nil {
		return err
	}
	defer db.Close()
	stores := blob.NewStores(filepath.Join(cfg.DataDir, "blobs"), cfg.BlobMinFree)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	meter := metrics.New()
	security := auth.New(db, log)
	security.UseLoginMeter(meter)
	// A nil log (audit.enabled off) records nothing wherever it is used.
	var auditLog *audit.Log
	if cfg.AuditEnabled {
		auditLog, err = audit.New(db, security, audit.Options{Dir: filepath.Join(cfg.DataDir, "log"),
			MaxFileSize: cfg.AuditMaxFileSize, MaxFiles: cfg.AuditMaxFiles, MaxAge: cfg.AuditMaxAge, Log: log})
		if err != nil {
			return err
		}
		defer auditLog.Close()
		security.UseAuditor(auditLog)
	}
	directory := ldap.New(db, security, log)
	directory.UseAudit(auditLog)
	security.SetLDAP(directory)
	pwFile, created, err := security.Bootstrap(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	trust, err := truststore.Open(db, security)
	if err != nil {
		return err
	}
	directory.SetTrustStore(trust)
	trust.UseAudit(auditLog)
	dockerFormat := docker.New(security, log, docker.Options{GCGrace: cfg.DockerGCGrace})
	repos := repo.NewManager(db, stores, security, repo.Options{
		ProxyTimeout:        cfg.ProxyTimeout,
		ProxyConnectTimeout: cfg.ProxyConnectTimeout,
		TrustStore:          trust,
		Meter:               meter,
		Log:                 log,
		Audit:               auditLog,
	}, raw.New(log), dockerFormat, maven.New(log, maven.Options{CentralURL: cfg.MavenCentralURL}), npm.New(security, log))
	security.SetRepositories(repos.RepositoryRefs)
	auditLog.UseWritable(repos.Writable)
	meter.Watch(repos)
	if err := repos.Load(ctx); err != nil {
		return err
	}
	if created {
		if err := repos.CreateDefaults(ctx); err != nil {
			return err
		}
	}
	if err := repos.Sweep(ctx); err != nil {
		return err
	}
	policies := cleanup.New(db, repos, security, log)
	policies.UseAudit(auditLog)
	jobs, err := tasks.New(db, security, log, nil, tasks.Defaults(cfg.UploadPurgeAge), tasks.Builtin(repos, policies)...)
	if err != nil {
		return err
	}
	jobs.UseWritable(repos.Writable)
	jobs.UseAudit(auditLog)
	mailer := mail.New(db, security, trust)
	mailer.UseAudit(auditLog)
	jobs.UseAlerts(mailer)
	hooks, err := webhooks.New(db, security, repos, log, webhooks.Options{MaxAge: cfg.WebhookMaxAge, Writable: repos.Writable})
	if err != nil {
		return err
	}
	if err := hooks.Declare(declaredWebhooks(cfg.NotificationEndpoints)); err != nil {
		return err
	}
	meter.WatchWebhooks(hooks)
	dockerMain := dockerFormat.MainPortHandler(repos)
	web, err := ui.New(repos, security, search.New(db, repos, security), ui.Options{ContextPath: cfg.ContextPath, SessionTimeout: cfg.UISessionTimeout, Version: version, Log: log})
	if err != nil {
		return err
	}
	rest := api.New(repos, security, db, cfg.ContextPath, log).WithCleanup(policies).WithTasks(jobs).WithLDAP(directory).WithTrustStore(trust).
		WithScripts(scripts.New(db, security, cfg.ScriptsAllowCreate)).WithMail(mailer).WithAudit(auditLog).
		WithWebhooks(hooks)
	srv, err := server.New(cfg, repos, security, rest, web, meter, log,
		server.Mount{Prefix: "/v2/", Format: dockerFormat.Name(), Handler: dockerMain},
		server.Mount{Prefix: "/v1/", Format: dockerFormat.Name(), Handler: dockerMain})
	if err != nil {
		return err
	}
	maintained := make(chan struct{})
	go func() {
		maintain(ctx, repos, cfg.MaintenanceInterval)
		close(maintained)
	}()
	delivering := make(chan struct{})
	go func() {
		hooks.Run(ctx)
		close(delivering)
	}()
	scheduled := make(chan struct{})
	go func() {
		jobs.Schedule(ctx, taskCheckInterval) // until ctx ends, then waits for the runs
		close(scheduled)
	}()
	pruned := make(chan struct{})
	go func() {
		auditLog.KeepPruned(ctx) // until ctx ends
		close(pruned)
	}()
	// Caught before the ports open: once the server answers, a SIGHUP
	// reloads certificates and never ends the process (its default).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHangup(ctx, hup, srv, log)
	ls, started, err := listen(cfg)
	if err != nil {
		return err
	}
	log.Info("nexus-go started", append(started, "dataDir", cfg.DataDir, "startupMs", time.Since(start).Milliseconds())...)
	if _, statErr := os.Stat(pwFile); statErr == nil {
		log.Info("the admin password is in "+pwFile, "firstStart", created)
	}
	err = srv.Serve(ctx, ls)
	stop() // ends maintenance too, when serving ended on its own
	<-maintained
	<-scheduled
	<-delivering
	<-pruned
	log.Info("nexus-go stopped")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// declaredWebhooks are the properties file's notification endpoints as
// the webhooks that deliver to them.
func declaredWebhooks(eps []config.NotificationEndpoint) []meta.Webhook {
	out := make([]meta.Webhook, len(eps))
	for i, e := range eps {
		out[i] = meta.Webhook{Name: e.Name, URL: e.URL, Headers: e.Headers, Timeout: e.Timeout, Threshold: e.Threshold,
			Backoff: e.Backoff, IgnoredActions: e.IgnoredActions, Repositories: e.Repositories}
	}
	return out
}

// listen opens the main port, and the HTTPS main port and the debug
// listener when configured; it returns them with their addresses for the
// start-up log line.
func listen(cfg config.Config) (server.Listeners, []any, error) {
	var ls server.Listeners
	var err error
	if ls.Main, err = net.Listen("tcp", cfg.Addr()); err != nil {
		return ls, nil, err
	}
	started := []any{"version", version, "address", ls.Main.Addr().String()}
	if cfg.SSLPort != 0 {
		if ls.HTTPS, err = net.Listen("tcp", cfg.SSLAddr()); err != nil {
			ls.Main.Close()
			return ls, nil, err
		}
		started = append(started, "httpsAddress", ls.HTTPS.Addr().String())
	}
	if cfg.DebugAddr != "" {
		if ls.Debug, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			ls.Main.Close()
			if ls.HTTPS != nil {
				ls.HTTPS.Close()
			}
			return ls, nil, fmt.Errorf("http.debug.addr: %w", err)
		}
		started = append(started, "debugAddress", ls.Debug.Addr().String())
	}
	return ls, started, nil
}

// reloadOnHangup reads the TLS certificates again on every SIGHUP until
// ctx ends. A failed reload keeps the old certificate (and is logged by
// the reloader); SIGHUP never ends the process.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, srv *server.Server, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if configured, _ := srv.ReloadTLS(); !configured {
				log.Info("SIGHUP: no TLS certificate to reload")
			}
		}
	}
}

// taskCheckInterval is how often the scheduler looks for due tasks: cron
// schedules are to the second, but runs start within this of their time.
const taskCheckInterval = 15 * time.Second

// maintain runs the repositories' housekeeping every interval until ctx ends.
func maintain(ctx context.Context, repos *repo.Manager, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			repos.Maintain(ctx)
		}
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
