package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

func newService(t *testing.T, formats Formats) (*Service, *meta.DB) {
	t.Helper()
	return newServiceWith(t, formats, Options{})
}

func newServiceWith(t *testing.T, formats Formats, opts Options) (*Service, *meta.DB) {
	t.Helper()
	db := openDB(t)
	s, err := New(db, repotest.AllowAll{}, formats, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func mustGet(t *testing.T, db *meta.DB, name string) (meta.Webhook, meta.WebhookState) {
	t.Helper()
	w, st, err := db.GetWebhook(name)
	if err != nil {
		t.Fatalf("webhook %s: %v", name, err)
	}
	return w, st
}

func TestDeclare(t *testing.T) {
	s, db := newService(t, rawOnly{})
	ctx := context.Background()
	rest := meta.Webhook{Name: "ci", URL: "http://localhost:9/ci", EventTypes: []string{meta.EventComponent}}
	if err := s.Create(ctx, rest); err != nil {
		t.Fatal(err)
	}
	restStored, _ := mustGet(t, db, "ci")

	hook := meta.Webhook{Name: "registry", URL: "http://localhost:9/events",
		Headers: map[string]string{"Authorization": "Bearer t"}, IgnoredActions: []string{"delete"}}
	other := meta.Webhook{Name: "audit-sink", URL: "http://localhost:9/other", Repositories: []string{"docker-hosted"}}
	if err := s.Declare([]meta.Webhook{hook, other}); err != nil {
		t.Fatal(err)
	}
	got, _ := mustGet(t, db, "registry")
	want := meta.Webhook{ID: got.ID, Name: "registry", URL: "http://localhost:9/events", EventTypes: []string{meta.EventAsset, meta.EventDownload},
		Headers: map[string]string{"Authorization": "Bearer t"}, Timeout: defaultTimeout, Threshold: defaultThreshold,
		Backoff: defaultBackoff, Payload: meta.PayloadRegistry, IgnoredActions: []string{"delete"}, Declared: true}
	if got.ID == "" || !reflect.DeepEqual(got, want) {
		t.Errorf("declared webhook %+v\nwant %+v", got, want)
	}

	t.Run("UpdateKeepsCursor", func(t *testing.T) {
		progress := meta.WebhookState{Cursor: 7, Delivered: 3}
		if err := db.SaveWebhookState("registry", got.ID, progress); err != nil {
			t.Fatal(err)
		}
		changed := hook
		changed.Timeout, changed.URL = 2*time.Second, "http://localhost:9/moved"
		if err := s.Declare([]meta.Webhook{changed, other}); err != nil {
			t.Fatal(err)
		}
		w, st := mustGet(t, db, "registry")
		if w.ID != got.ID || w.Timeout != 2*time.Second || w.URL != "http://localhost:9/moved" || !w.Declared {
			t.Errorf("updated webhook %+v: want id %s, timeout 2s and the new url, declared", w, got.ID)
		}
		if !reflect.DeepEqual(st, progress) {
			t.Errorf("state after the update %+v, want %+v", st, progress)
		}
	})

	t.Run("Removal", func(t *testing.T) {
		before, _ := mustGet(t, db, "audit-sink")
		if err := s.Declare([]meta.Webhook{other}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.GetWebhook("registry"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("webhook left out of the declaration: %v, want not found", err)
		}
		if after, _ := mustGet(t, db, "audit-sink"); after.ID != before.ID {
			t.Errorf("unchanged declared webhook got a new id %s, had %s", after.ID, before.ID)
		}
		if err := s.Declare(nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.GetWebhook("audit-sink"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("webhook after an empty declaration: %v, want not found", err)
		}
	})

	t.Run("RESTUntouched", func(t *testing.T) {
		if w, _ := mustGet(t, db, "ci"); !reflect.DeepEqual(w, restStored) {
			t.Errorf("REST webhook after declarations %+v, want %+v", w, restStored)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		err := s.Declare([]meta.Webhook{{Name: "ci", URL: "http://localhost:9/x"}, {Name: "new", URL: "http://localhost:9/y"}})
		if err == nil || !strings.Contains(err.Error(), `"ci"`) || !strings.Contains(err.Error(), "REST API") {
			t.Fatalf("declaring the name of a REST webhook: %v, want an error naming it and the REST API", err)
		}
		if _, _, err := db.GetWebhook("new"); errs.KindOf(err) != errs.NotFound {
			t.Errorf("after the conflict, webhook new: %v, want not created", err)
		}
		if w, _ := mustGet(t, db, "ci"); !reflect.DeepEqual(w, restStored) {
			t.Errorf("REST webhook after the conflict %+v, want %+v", w, restStored)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		err := s.Declare([]meta.Webhook{{Name: "bad", URL: "localhost:9"}})
		if err == nil || !strings.Contains(err.Error(), `"bad"`) {
			t.Errorf("declaring a bad url: %v, want an error naming the endpoint", err)
		}
	})
}

// The REST API cannot change or delete a declared webhook.
func TestDeclaredReadOnly(t *testing.T) {
	s, db := newService(t, rawOnly{})
	ctx := context.Background()
	if err := s.Declare([]meta.Webhook{{Name: "registry", URL: "http://localhost:9/events"}}); err != nil {
		t.Fatal(err)
	}
	before, _ := mustGet(t, db, "registry")
	for name, err := range map[string]error{
		"update": s.Update(ctx, meta.Webhook{Name: "registry", URL: "http://localhost:9/other", EventTypes: []string{meta.EventAsset}}),
		"delete": s.Delete(ctx, "registry"),
	} {
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "nexus-go.properties") {
			t.Errorf("%s of a declared webhook: %v, want invalid, naming nexus-go.properties", name, err)
		}
	}
	if after, _ := mustGet(t, db, "registry"); !reflect.DeepEqual(after, before) {
		t.Errorf("declared webhook after REST changes %+v, want %+v", after, before)
	}
}

// registryFormat is a format whose every asset event is a push and a
// delete, so that ignoring either shows.
type registryFormat struct{ repo.Format }

func (registryFormat) RegistryEvents(ev meta.Event) []repo.RegistryEvent {
	return []repo.RegistryEvent{
		{Action: "push", Repository: "team/app", Digest: digest.FromString("m"), Size: 1, Tag: "1.0"},
		{Action: "delete", Repository: "team/app", Digest: digest.FromString("old")},
	}
}

type registryOnly struct{}

func (registryOnly) FormatOf(string) string            { return "docker" }
func (registryOnly) Format(string) (repo.Format, bool) { return registryFormat{}, true }

func TestIgnoredActions(t *testing.T) {
	s, _ := newService(t, registryOnly{})
	ev := meta.Event{Seq: 1, Type: meta.EventAsset, Action: meta.ActionCreated, Repository: "docker-hosted", Initiator: "admin/127.0.0.1",
		Asset: &meta.Asset{Path: "v2/app/manifests/1.0"}}
	actions := func(ignored ...string) ([]string, error) {
		body, err := s.render(meta.Webhook{Payload: meta.PayloadRegistry, IgnoredActions: ignored}, ev, "id")
		var env struct{ Events []struct{ Action string } }
		if err == nil {
			err = json.Unmarshal(body, &env)
		}
		var out []string
		for _, e := range env.Events {
			out = append(out, e.Action)
		}
		return out, err
	}
	for _, tt := range []struct {
		ignored, want []string
	}{
		{nil, []string{"push", "delete"}},
		{[]string{"pull"}, []string{"push", "delete"}},
		{[]string{"delete"}, []string{"push"}},
		{[]string{"push"}, []string{"delete"}},
	} {
		if got, err := actions(tt.ignored...); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ignoring %v: actions %v, %v; want %v", tt.ignored, got, err, tt.want)
		}
	}
	if _, err := actions("delete", "push"); !errors.Is(err, errNothingToSend) {
		t.Errorf("every action ignored: %v, want nothing to send", err)
	}
}

// An endpoint asks only for the events of actions it does not ignore: one
// that ignores pulls records no download events.
func TestRegistryEventTypes(t *testing.T) {
	for _, tt := range []struct {
		ignored, want []string
	}{
		{nil, []string{meta.EventAsset, meta.EventDownload}},
		{[]string{"pull"}, []string{meta.EventAsset}},
		{[]string{"push"}, []string{meta.EventAsset, meta.EventDownload}},
		{[]string{"push", "delete"}, []string{meta.EventDownload}},
	} {
		if got := registryEventTypes(tt.ignored); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ignoring %v: event types %v, want %v", tt.ignored, got, tt.want)
		}
	}
}

// A frozen server's declared webhooks wait for a start after the release:
// Declare writes nothing while frozen, and does then.
func TestDeclareWhileFrozen(t *testing.T) {
	var frozen atomic.Bool
	frozen.Store(true)
	s, db := newServiceWith(t, rawOnly{}, Options{Writable: func() error {
		if frozen.Load() {
			return errors.New("read-only")
		}
		return nil
	}})
	endpoints := []meta.Webhook{{Name: "registry", URL: "http://localhost:9/events"}}
	if err := s.Declare(endpoints); err != nil {
		t.Fatal(err)
	}
	if ws, _ := db.Webhooks(); len(ws) != 0 {
		t.Fatalf("declared while frozen: %+v", ws)
	}
	frozen.Store(false)
	if err := s.Declare(endpoints); err != nil {
		t.Fatal(err)
	}
	mustGet(t, db, "registry")
}

// Ignored actions are not wanted at all: passed over unrendered and not
// counted as pending.
func TestIgnoredActionsNotWanted(t *testing.T) {
	w := meta.Webhook{Payload: meta.PayloadRegistry, EventTypes: []string{meta.EventAsset, meta.EventDownload},
		IgnoredActions: []string{"delete", "pull"}}
	a := &meta.Asset{Path: "v2/app/manifests/1.0"}
	for _, tt := range []struct {
		ev   meta.Event
		want bool
	}{
		{meta.Event{Type: meta.EventAsset, Action: meta.ActionCreated, Asset: a}, true},
		{meta.Event{Type: meta.EventAsset, Action: meta.ActionUpdated, Asset: a}, true},
		{meta.Event{Type: meta.EventAsset, Action: meta.ActionDeleted, Asset: a}, false},
		{meta.Event{Type: meta.EventDownload, Action: meta.ActionDownloaded, Asset: a}, false},
	} {
		if got := wants(w, tt.ev); got != tt.want {
			t.Errorf("wants(%s %s) = %v, want %v", tt.ev.Type, tt.ev.Action, got, tt.want)
		}
	}
}
