package repo

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// downloadEventsAfter returns the download events recorded after seq.
func downloadEventsAfter(t *testing.T, e *env, seq uint64) []meta.Event {
	t.Helper()
	evs, err := e.db.EventsAfter(seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []meta.Event
	for _, ev := range evs {
		if ev.Type == meta.EventDownload {
			out = append(out, ev)
		}
	}
	return out
}

// TestDownloadEvents: while a webhook asks for downloads, each asset
// served to a client (hosted, a proxy's first download, a group member's)
// is an event naming the caller and the asset actually served, recorded
// in order in the batch's flush; without such a webhook, or while the
// server is read-only, none is written.
func TestDownloadEvents(t *testing.T) {
	e := newEnv(t)
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "a", "hosted")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from upstream") })
	newProxyRepo(t, e, "p", up.URL, nil)
	g := e.create(groupCfg("g", "h", "p"))
	serve := func(r Repository, path, who string) {
		t.Helper()
		c, err := r.Get(context.Background(), path)
		if err != nil {
			t.Fatalf("Get(%s, %s): %v", r.Name(), path, err)
		}
		io.Copy(io.Discard, c.Body)
		c.Body.Close()
		c.Downloaded(audit.WithInitiator(context.Background(), who))
	}

	// An asset-only webhook asks for no downloads: serving records none.
	if err := e.db.CreateWebhook(meta.Webhook{Name: "assets", URL: "http://127.0.0.1:1/", EventTypes: []string{meta.EventAsset}}); err != nil {
		t.Fatal(err)
	}
	serve(h, "a", "bob/10.0.0.1")
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	if evs := downloadEventsAfter(t, e, 0); len(evs) != 0 {
		t.Fatalf("download events with no webhook asking for them: %+v", evs)
	}

	if err := e.db.CreateWebhook(meta.Webhook{Name: "pulls", URL: "http://127.0.0.1:1/", EventTypes: []string{meta.EventDownload}}); err != nil {
		t.Fatal(err)
	}
	serve(h, "a", "bob/10.0.0.1")
	serve(g, "b", "carol/10.0.0.2") // the proxy's first download, through the group
	serve(g, "a", "dave/10.0.0.3")
	if evs := downloadEventsAfter(t, e, 0); len(evs) != 0 {
		t.Fatalf("download events written before the batch's flush: %+v", evs)
	}
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	want := []struct{ repo, path, initiator string }{
		{"h", "a", "bob/10.0.0.1"}, {"p", "b", "carol/10.0.0.2"}, {"h", "a", "dave/10.0.0.3"},
	}
	evs := downloadEventsAfter(t, e, 0)
	if len(evs) != len(want) {
		t.Fatalf("download events %+v, want %d", evs, len(want))
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Action != meta.ActionDownloaded || ev.Repository != w.repo || ev.Asset == nil || ev.Asset.Path != w.path || ev.Initiator != w.initiator {
			t.Errorf("download event %d = %+v, want %+v", i, ev, w)
		}
	}

	// Read-only: the events wait, and are written once writes resume.
	last := evs[len(evs)-1].Seq
	if err := e.m.SetReadOnly(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	serve(h, "a", "erin/10.0.0.4")
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	if evs := downloadEventsAfter(t, e, last); len(evs) != 0 {
		t.Fatalf("download events written while read-only: %+v", evs)
	}
	if err := e.m.SetReadOnly(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if evs := downloadEventsAfter(t, e, last); len(evs) != 1 || evs[0].Initiator != "erin/10.0.0.4" {
		t.Fatalf("after read-only, download events %+v, want erin's", evs)
	}

	// Deleting the webhook that asked stops the recording.
	if err := e.db.DeleteWebhook("pulls"); err != nil {
		t.Fatal(err)
	}
	serve(h, "a", "bob/10.0.0.1")
	if n := e.db.QueuedDownloads(); n != 0 {
		t.Fatalf("%d downloads queued with no webhook asking", n)
	}
}
