package meta

import (
	"errors"
	"testing"
	"time"
)

// WantsDownloads follows the webhooks' event types through create,
// update, delete and a reopen.
func TestWantsDownloads(t *testing.T) {
	db, path := openAssetsDB(t)
	hook := Webhook{Name: "w", URL: "http://127.0.0.1:1/", EventTypes: []string{EventAsset}}
	if err := db.CreateWebhook(hook); err != nil {
		t.Fatal(err)
	}
	if db.WantsDownloads() {
		t.Fatal("an asset webhook asks for downloads")
	}
	hook.EventTypes = []string{EventAsset, EventDownload}
	if err := db.UpdateWebhook(hook); err != nil {
		t.Fatal(err)
	}
	if !db.WantsDownloads() {
		t.Fatal("a download webhook does not ask for downloads")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.WantsDownloads() {
		t.Fatal("after a reopen, the download webhook asks for no downloads")
	}
	if err := db.DeleteWebhook("w"); err != nil {
		t.Fatal(err)
	}
	if db.WantsDownloads() {
		t.Fatal("with no webhook left, downloads are asked for")
	}
}

// Queued downloads are written by a flush, or first in the transaction of
// the next change, keeping their time and the order served; a change
// refused leaves them queued.
func TestDownloadEventsOrder(t *testing.T) {
	db, _ := openAssetsDB(t)
	if err := db.CreateWebhook(Webhook{Name: "w", URL: "http://127.0.0.1:1/", EventTypes: []string{EventAsset, EventDownload}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	served := func(path, who string) {
		a := rawAsset(path).Asset
		if !db.QueueDownload(DownloadEvent{Asset: &a, Initiator: who, At: at}) {
			t.Fatal("download not queued")
		}
	}
	served("a", "bob/10.0.0.1")
	served("b", "carol/10.0.0.2")
	refused := rawAsset("refused")
	refused.Check = func(*Asset) error { return errors.New("no") }
	if _, _, err := db.PutAsset(refused); err == nil {
		t.Fatal("the refused write was stored")
	}
	if n := db.QueuedDownloads(); n != 2 {
		t.Fatalf("after a refused change, %d downloads queued, want 2", n)
	}
	if _, _, err := db.PutAsset(rawAsset("c")); err != nil {
		t.Fatal(err)
	}
	served("c", "dave/10.0.0.3")
	if err := db.FlushDownloadEvents(); err != nil {
		t.Fatal(err)
	}
	if n := db.QueuedDownloads(); n != 0 {
		t.Fatalf("after the flush, %d downloads queued", n)
	}
	evs, err := db.EventsAfter(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, path, initiator string }{
		{EventDownload, "a", "bob/10.0.0.1"}, {EventDownload, "b", "carol/10.0.0.2"},
		{EventComponent, "", "system"}, {EventAsset, "c", "system"}, {EventDownload, "c", "dave/10.0.0.3"},
	}
	if len(evs) != len(want) {
		t.Fatalf("events %+v, want %d", evs, len(want))
	}
	for i, w := range want {
		e := evs[i]
		path := ""
		if e.Asset != nil {
			path = e.Asset.Path
		}
		if e.Type != w.typ || path != w.path || e.Initiator != w.initiator {
			t.Errorf("event %d = %s %s by %s, want %+v", i, e.Type, path, e.Initiator, w)
		}
		if e.Type == EventDownload && (e.Action != ActionDownloaded || !e.Time.Equal(at)) {
			t.Errorf("event %d: action %s at %v, want DOWNLOADED at %v", i, e.Action, e.Time, at)
		}
	}
}
