package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

func openDB(t testing.TB) *meta.DB {
	t.Helper()
	db, err := meta.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func createHook(t testing.TB, db *meta.DB, name, url string) {
	t.Helper()
	if err := db.CreateWebhook(meta.Webhook{Name: name, URL: url, EventTypes: []string{meta.EventAsset, meta.EventComponent},
		Timeout: time.Second, Threshold: 2, Backoff: 20 * time.Millisecond, Payload: meta.PayloadNexus}); err != nil {
		t.Fatal(err)
	}
}

// statusUntil polls s's status of the only webhook until ok accepts it,
// failing the test after 10 s.
func statusUntil(t *testing.T, s *Service, what string, ok func(Webhook) bool) Webhook {
	t.Helper()
	var last Webhook
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		st, err := s.Statuses()
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 {
			t.Fatalf("Statuses = %+v, want the one webhook", st)
		}
		if last = st[0]; ok(last) {
			return last
		}
	}
	t.Fatalf("status %+v: never %s", last, what)
	return last
}

// A delivery shows in Get and Statuses at once, while the stored state
// waits for the end of the batch.
func TestLiveState(t *testing.T) {
	db := openDB(t)
	release := make(chan struct{})
	var calls atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if calls.Add(1) == 2 {
			<-release
		}
	}))
	defer rcv.Close()
	defer close(release)
	createHook(t, db, "ci", rcv.URL)
	s, _ := startService(t, db, Options{})
	putRaw(t, db, "a") // a component and an asset: one batch
	statusUntil(t, s, "one delivered", func(w Webhook) bool { return w.State.Delivered == 1 })
	if one, err := s.Get(context.Background(), "ci"); err != nil || one.State.Delivered != 1 || one.Pending != 1 {
		t.Errorf("Get = %+v, %v: want 1 delivered and 1 pending while the batch's second is sent", one, err)
	}
	if _, stored, _ := db.GetWebhook("ci"); stored.Delivered != 0 {
		t.Errorf("stored state %+v in the middle of a batch: want it saved at its end", stored)
	}
}

// An event failing past MaxAge is dropped: counted, the cursor moved past
// it (and saved at once), the events after it delivered. While the
// receiver is down, Statuses shows the failures.
func TestDeliveryDropsStale(t *testing.T) {
	db := openDB(t)
	rcv := webhooktest.New(t, "")
	rcv.Down.Store(true)
	createHook(t, db, "ci", rcv.URL)
	s, _ := startService(t, db, Options{MaxAge: 300 * time.Millisecond})
	putRaw(t, db, "stale")
	evs, err := db.EventsAfter(0, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %+v, %v: want the component's and the asset's", evs, err)
	}
	failing := statusUntil(t, s, "failing", func(w Webhook) bool { return w.State.Failures > 0 })
	if failing.State.Dropped != 0 || failing.Pending != 2 || failing.State.LastFailure.IsZero() || failing.Name != "ci" || failing.Payload != meta.PayloadNexus {
		t.Errorf("status while the receiver is down %+v: want ci, nexus, 2 pending, none dropped yet, the last failure's time", failing)
	}
	dropped := statusUntil(t, s, "dropped both", func(w Webhook) bool { return w.State.Dropped == 2 })
	if dropped.Pending != 0 || dropped.State.Delivered != 0 {
		t.Errorf("status after the drops %+v: want nothing pending or delivered", dropped)
	}
	if _, stored, _ := db.GetWebhook("ci"); stored.Cursor != evs[1].Seq || stored.Dropped != 2 {
		t.Errorf("stored state %+v: want the cursor past the dropped events (%d), 2 dropped", stored, evs[1].Seq)
	}

	rcv.Down.Store(false)
	putRaw(t, db, "fresh")
	got := rcv.Wait(2)
	if got[0].Body.Component == nil || got[0].Body.Component.Name != "fresh" || got[1].Body.Asset == nil {
		t.Errorf("deliveries %+v: want only the fresh component and asset", got)
	}
	after := statusUntil(t, s, "delivered the fresh events", func(w Webhook) bool { return w.State.Delivered == 2 })
	if after.State.Dropped != 2 || after.State.Failures != 0 || after.State.LastSuccess.IsZero() || after.Pending != 0 {
		t.Errorf("status after the receiver is back %+v: want 2 dropped, 2 delivered, no failure in a row", after)
	}
}
