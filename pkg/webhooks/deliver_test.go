package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

type allowAll struct{}

func (allowAll) Require(context.Context, auth.Privilege) error { return nil }

// receiver is a webhook endpoint that checks signatures and records what
// it was sent; while down it answers 503.
type receiver struct {
	t      *testing.T
	secret string
	down   atomic.Bool
	mu     sync.Mutex
	got    []received
	srv    *httptest.Server
}

type received struct {
	delivery, hook string
	body           payload
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(req.Body)
		// Verified as a receiver written for Nexus does: hex HMAC-SHA1 of the body.
		m := hmac.New(sha1.New, []byte(r.secret))
		m.Write(body)
		if got, want := req.Header.Get("X-Nexus-Webhook-Signature"), hex.EncodeToString(m.Sum(nil)); r.secret != "" && got != want {
			t.Errorf("signature %q, want %q", got, want)
		}
		var p payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload %s: %v", body, err)
		}
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Get("X-Nexus-Webhook-Delivery"), req.Header.Get("X-Nexus-Webhook-Id"), p})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(n int) []received {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("receiver got %d deliveries, want %d", len(r.got), n)
	return nil
}

func startService(t *testing.T, db *meta.DB) context.CancelFunc {
	s, err := New(db, allowAll{}, func(string) string { return "raw" }, slog.New(slog.DiscardHandler),
		Options{Poll: 10 * time.Millisecond, Client: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func putRaw(t *testing.T, db *meta.DB, path string) {
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
	rcv := newReceiver(t, "s3cret")
	putRaw(t, db, "before") // no webhook yet: not reported
	if err := db.CreateWebhook(meta.Webhook{Name: "ci", URL: rcv.srv.URL, Secret: "s3cret",
		EventTypes: []string{meta.EventAsset, meta.EventComponent}, Timeout: time.Second, Threshold: 2, Backoff: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	stop := startService(t, db)
	putRaw(t, db, "a1")
	got := rcv.wait(2)
	if got[0].hook != "rm:repository:component" || got[0].body.Component.Name != "a1" || got[0].body.Action != "CREATED" {
		t.Errorf("first delivery %+v, want the component a1 created", got[0])
	}
	if got[1].hook != "rm:repository:asset" || got[1].body.Asset.Name != "a1" || got[1].body.Initiator != "alice/127.0.0.1" {
		t.Errorf("second delivery %+v, want the asset a1 by alice/127.0.0.1", got[1])
	}

	rcv.down.Store(true)
	for i := range 5 {
		putRaw(t, db, "b"+strconv.Itoa(i))
	}
	time.Sleep(200 * time.Millisecond)
	rcv.down.Store(false)
	got = rcv.wait(12)
	for i := range 5 {
		if c, a := got[2+2*i].body.Component, got[3+2*i].body.Asset; c == nil || a == nil || c.Name != "b"+strconv.Itoa(i) || a.Name != c.Name {
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
	startService(t, db)
	got = rcv.wait(14)
	time.Sleep(100 * time.Millisecond)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.got) != 14 {
		t.Fatalf("after the restart the receiver has %d deliveries, want 14", len(rcv.got))
	}
	ids := map[string]bool{}
	for _, r := range rcv.got {
		if ids[r.delivery] {
			t.Errorf("delivery id %s twice", r.delivery)
		}
		ids[r.delivery] = true
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
	rcv := newReceiver(t, "")
	if err := db.CreateWebhook(meta.Webhook{Name: "one", URL: rcv.srv.URL, EventTypes: []string{meta.EventComponent},
		Repositories: []string{"other"}, Timeout: time.Second, Threshold: 1, Backoff: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	startService(t, db)
	putRaw(t, db, "x") // raw-hosted: filtered out
	a := meta.Asset{Repository: "other", Path: "y", Blob: digest.FromString("y"), BlobStore: "default", Size: 1}
	if _, _, err := db.PutAsset(meta.PutAssetRequest{Asset: a, Component: &meta.Component{Repository: "other", Format: "raw", Name: "y"}}); err != nil {
		t.Fatal(err)
	}
	got := rcv.wait(1)
	time.Sleep(100 * time.Millisecond)
	if len(rcv.got) != 1 || got[0].body.Component == nil || got[0].body.RepositoryName != "other" {
		t.Errorf("got %+v, want only the component of repository other", rcv.got)
	}
}
