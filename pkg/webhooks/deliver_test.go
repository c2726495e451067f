package webhooks

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

// rawOnly serves every repository as raw, a format with no registry events.
type rawOnly struct{}

func (rawOnly) FormatOf(string) string            { return "raw" }
func (rawOnly) Format(string) (repo.Format, bool) { return nil, false }

// startService runs a service polling every 10 ms (pruning every 20 ms
// unless opts says otherwise) and returns it with what stops it.
func startService(t testing.TB, db *meta.DB, opts Options) (*Service, context.CancelFunc) {
	opts.Poll, opts.Client = 10*time.Millisecond, &http.Client{}
	if opts.PruneEvery == 0 {
		opts.PruneEvery = 20 * time.Millisecond
	}
	s, err := New(db, repotest.AllowAll{}, rawOnly{}, slog.New(slog.DiscardHandler), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return s, stop
}

func putRaw(t testing.TB, db *meta.DB, path string) {
	t.Helper()
	a := meta.Asset{Repository: "raw-hosted", Path: path, Blob: digest.FromString(path), BlobStore: "default",
		Size: 1, Uploader: "alice", UploaderIP: "127.0.0.1"}
	if _, _, err := db.PutAsset(meta.PutAssetRequest{Asset: a,
		Component: &meta.Component{Repository: "raw-hosted", Format: "raw", Name: path}}); err != nil {
		t.Fatal(err)
	}
}

// Events reach the receiver in the order of their changes, signed, each
// with its own delivery id; a receiver that is down gets them all, in
// order, once it is back; a restart resends nothing delivered.
func TestDeliveryOrderRetryRestart(t *testing.T) {
	dir := t.TempDir()
	db, err := meta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	rcv := webhooktest.New(t, "s3cret")
	putRaw(t, db, "before") // no webhook yet: not reported
	if err := db.CreateWebhook(meta.Webhook{Name: "ci", URL: rcv.URL, Secret: "s3cret",
		EventTypes: []string{meta.EventAsset, meta.EventComponent}, Timeout: time.Second, Threshold: 2, Backoff: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	_, stop := startService(t, db, Options{})
	putRaw(t, db, "a1")
	got := rcv.Wait(2)
	if got[0].WebhookID != "rm:repository:component" || got[0].Body.Component.Name != "a1" || got[0].Body.Action != "CREATED" {
		t.Errorf("first delivery %+v, want the component a1 created", got[0])
	}
	if got[1].WebhookID != "rm:repository:asset" || got[1].Body.Asset.Name != "a1" || got[1].Body.Initiator != "alice/127.0.0.1" {
		t.Errorf("second delivery %+v, want the asset a1 by alice/127.0.0.1", got[1])
	}

	rcv.Down.Store(true)
	for i := range 5 {
		putRaw(t, db, "b"+strconv.Itoa(i))
	}
	time.Sleep(200 * time.Millisecond)
	rcv.Down.Store(false)
	got = rcv.Wait(12)
	for i := range 5 {
		if c, a := got[2+2*i].Body.Component, got[3+2*i].Body.Asset; c == nil || a == nil || c.Name != "b"+strconv.Itoa(i) || a.Name != c.Name {
			t.Fatalf("deliveries out of order at %d: %+v %+v", i, got[2+2*i], got[3+2*i])
		}
	}

	stop()
	db.Close()
	db, err = meta.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	putRaw(t, db, "c")
	startService(t, db, Options{})
	got = rcv.Wait(14)
	time.Sleep(100 * time.Millisecond)
	if got = rcv.Got(); len(got) != 14 {
		t.Fatalf("after the restart the receiver has %d deliveries, want 14", len(got))
	}
	ids := map[string]bool{}
	for _, r := range got {
		if ids[r.ID] {
			t.Errorf("delivery id %s twice", r.ID)
		}
		ids[r.ID] = true
	}
	_, st, err := db.GetWebhook("ci")
	if err != nil {
		t.Fatal(err)
	}
	if st.Delivered != 14 || st.Failures != 0 || st.LastError == "" {
		t.Errorf("state %+v: want 14 delivered, no failure pending, the receiver's last error kept", st)
	}
}

// A webhook only gets the event types and repositories it asks for.
func TestDeliveryFilters(t *testing.T) {
	db, err := meta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rcv := webhooktest.New(t, "")
	if err := db.CreateWebhook(meta.Webhook{Name: "one", URL: rcv.URL, EventTypes: []string{meta.EventComponent},
		Repositories: []string{"other"}, Timeout: time.Second, Threshold: 1, Backoff: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	startService(t, db, Options{})
	putRaw(t, db, "x") // raw-hosted: filtered out
	a := meta.Asset{Repository: "other", Path: "y", Blob: digest.FromString("y"), BlobStore: "default", Size: 1}
	if _, _, err := db.PutAsset(meta.PutAssetRequest{Asset: a, Component: &meta.Component{Repository: "other", Format: "raw", Name: "y"}}); err != nil {
		t.Fatal(err)
	}
	got := rcv.Wait(1)
	time.Sleep(100 * time.Millisecond)
	if got = rcv.Got(); len(got) != 1 || got[0].Body.Component == nil || got[0].Body.RepositoryName != "other" {
		t.Errorf("got %+v, want only the component of repository other", got)
	}
	// The events passed over are pruned like the delivered ones.
	deadline := time.Now().Add(5 * time.Second)
	for left, _ := db.EventsAfter(0, 10); len(left) > 0; left, _ = db.EventsAfter(0, 10) {
		if time.Now().After(deadline) {
			t.Fatalf("events left after delivery: %+v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Delivered events are pruned every PruneEvery, not on every poll.
func TestPruneEvery(t *testing.T) {
	db, err := meta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rcv := webhooktest.New(t, "")
	if err := db.CreateWebhook(meta.Webhook{Name: "one", URL: rcv.URL, EventTypes: []string{meta.EventAsset},
		Timeout: time.Second, Threshold: 1, Backoff: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	startService(t, db, Options{PruneEvery: time.Hour})
	putRaw(t, db, "x")
	rcv.Wait(1)
	time.Sleep(100 * time.Millisecond) // 10 polls
	if left, _ := db.EventsAfter(0, 10); len(left) != 2 {
		t.Errorf("%d events left, want the component's and the asset's until the next pruning", len(left))
	}
}
