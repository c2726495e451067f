// Package webhooks delivers the events pkg/meta records with each change
// (its outbox) to HTTP endpoints, as Nexus's webhooks do: one worker per
// webhook sends its events in order, retries a failure until it succeeds
// or the event is older than the maximum age, and stores how far it got,
// so a restart or a crash loses nothing and a slow receiver delays only
// its own deliveries.
package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Authorizer checks the caller's privileges (auth.Service).
type Authorizer interface {
	Require(ctx context.Context, perm auth.Privilege) error
}

// Formats names a repository's format and finds a format by name
// (repo.Manager).
type Formats interface {
	FormatOf(repository string) string
	Format(name string) (repo.Format, bool)
}

// Options tune delivery; zero values take the defaults.
type Options struct {
	// MaxAge is how old an undelivered event may get before it is dropped.
	MaxAge time.Duration
	// Poll is how often workers look for new events.
	Poll time.Duration
	// PruneEvery is how often the events every webhook has passed are
	// deleted: each pruning is a read of every webhook's state, and a
	// write when something goes, so it runs far less often than Poll.
	PruneEvery time.Duration
	// Client sends the requests; its timeout is each webhook's own.
	Client *http.Client
	// Writable fails while the server is read-only (repo.Manager's):
	// delivery then waits, since it could not save how far it got.
	Writable func() error
}

// Service manages webhooks and delivers their events.
type Service struct {
	db      *meta.DB
	authz   Authorizer
	formats Formats
	log     *slog.Logger
	opts    Options
	nodeID  string

	mu   sync.Mutex
	live map[string]liveState // by webhook name
}

// New returns the service.
func New(db *meta.DB, authz Authorizer, formats Formats, log *slog.Logger, opts Options) (*Service, error) {
	if opts.MaxAge <= 0 {
		opts.MaxAge = 72 * time.Hour
	}
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = 5 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Writable == nil {
		opts.Writable = func() error { return nil }
	}
	id, err := db.NodeID()
	if err != nil {
		return nil, err
	}
	return &Service{db: db, authz: authz, formats: formats, log: log, opts: opts, nodeID: id,
		live: map[string]liveState{}}, nil
}

// Defaults of a webhook's delivery settings (registry:2's, for its
// notification endpoints).
const (
	defaultTimeout   = 5 * time.Second
	defaultThreshold = 5
	defaultBackoff   = time.Second
)

// Validate checks w and fills its defaults.
func Validate(w *meta.Webhook) error {
	var fe []error
	add := func(field, msg string) { fe = append(fe, &errs.FieldError{Field: field, Message: msg}) }
	if w.Name == "" {
		add("name", "may not be empty")
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("url", "must be an http or https URL")
	}
	switch w.Payload {
	case "":
		w.Payload = meta.PayloadNexus
	case meta.PayloadRegistry:
		// Distribution's events are pushes, pulls and deletes of blobs and
		// manifests: asset events and downloads, both by default.
		if len(w.EventTypes) == 0 {
			w.EventTypes = []string{meta.EventAsset, meta.EventDownload}
		}
		for _, t := range w.EventTypes {
			if t != meta.EventAsset && t != meta.EventDownload {
				add("eventTypes", "a registry payload takes only asset and download events")
			}
		}
	case meta.PayloadNexus:
	default:
		add("payload", "must be nexus or registry")
	}
	if len(w.EventTypes) == 0 {
		add("eventTypes", "must name at least one of asset, component, repository, audit, download")
	}
	for _, t := range w.EventTypes {
		if !slices.Contains(EventTypes, t) {
			add("eventTypes", "unknown event type "+t)
		}
	}
	if w.Timeout < 0 || w.Backoff < 0 || w.Threshold < 0 {
		add("timeout", "timeout, threshold and backoff may not be negative")
	}
	if w.Timeout == 0 {
		w.Timeout = defaultTimeout
	}
	if w.Threshold == 0 {
		w.Threshold = defaultThreshold
	}
	if w.Backoff == 0 {
		w.Backoff = defaultBackoff
	}
	return errors.Join(fe...)
}

var (
	privRead   = auth.Application("settings", "read")
	privUpdate = auth.Application("settings", "update")
)

// Webhook is a webhook with its delivery state (its worker's when one
// runs), for the REST API.
type Webhook struct {
	meta.Webhook
	State   meta.WebhookState
	Pending int
}

// List returns every webhook with its state.
func (s *Service) List(ctx context.Context) ([]Webhook, error) {
	if err := s.authz.Require(ctx, privRead); err != nil {
		return nil, err
	}
	return s.Statuses()
}

// Get returns one webhook with its state.
func (s *Service) Get(ctx context.Context, name string) (Webhook, error) {
	if err := s.authz.Require(ctx, privRead); err != nil {
		return Webhook{}, err
	}
	return s.get(name)
}

// pendingCap bounds the count of pending events a read reports.
const pendingCap = 10000

func (s *Service) get(name string) (Webhook, error) {
	w, st, err := s.db.GetWebhook(name)
	if err != nil {
		return Webhook{}, err
	}
	if l, ok := s.liveOf(w); ok {
		st = l
	}
	evs, err := s.db.EventsAfter(st.Cursor, pendingCap)
	if err != nil {
		return Webhook{}, err
	}
	n := 0
	for _, ev := range evs {
		if wants(w, ev) {
			n++
		}
	}
	return Webhook{Webhook: w, State: st, Pending: n}, nil
}

// Create validates and stores a new webhook.
func (s *Service) Create(ctx context.Context, w meta.Webhook) error {
	if err := s.authz.Require(ctx, privUpdate); err != nil {
		return err
	}
	if err := Validate(&w); err != nil {
		return err
	}
	return s.db.CreateWebhook(w)
}

// Update replaces a webhook's settings; a declared one's are the
// properties file's.
func (s *Service) Update(ctx context.Context, w meta.Webhook) error {
	if err := s.authz.Require(ctx, privUpdate); err != nil {
		return err
	}
	if err := s.notDeclared(w.Name); err != nil {
		return err
	}
	if err := Validate(&w); err != nil {
		return err
	}
	return s.db.UpdateWebhook(w)
}

// Delete deletes a webhook and what it had left to deliver; a declared
// one goes when the properties file no longer has it.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := s.authz.Require(ctx, privUpdate); err != nil {
		return err
	}
	if err := s.notDeclared(name); err != nil {
		return err
	}
	return s.db.DeleteWebhook(name)
}

// notDeclared refuses a change through the REST API of a declared webhook.
func (s *Service) notDeclared(name string) error {
	w, _, err := s.db.GetWebhook(name)
	if err != nil {
		return err
	}
	if w.Declared {
		return errs.New(errs.Invalid, "webhook %q is declared in nexus-go.properties (notifications.endpoints.%s); change it there", name, name)
	}
	return nil
}

// Test sends the webhook a repository event about a repository named
// "test" (an empty envelope for a registry payload) at once, outside its
// queue, and returns the receiver's error.
func (s *Service) Test(ctx context.Context, name string) error {
	if err := s.authz.Require(ctx, privUpdate); err != nil {
		return err
	}
	w, _, err := s.db.GetWebhook(name)
	if err != nil {
		return err
	}
	ev := meta.Event{Time: time.Now(), Type: meta.EventRepository, Action: meta.ActionUpdated,
		Repository: "test", Initiator: audit.Initiator(ctx), Config: []byte(`{"format":"raw","type":"hosted"}`)}
	id := "test-" + time.Now().UTC().Format("20060102T150405.000000000")
	body, err := render(ev, s.nodeID, "")
	if w.Payload == meta.PayloadRegistry {
		body, err = []byte(`{"events":[]}`), nil
	}
	if err == nil {
		err = s.post(ctx, w, body, webhookIDs[ev.Type], id)
	}
	if err != nil {
		return errs.New(errs.Upstream, "webhook %q: %v", name, err)
	}
	return nil
}
