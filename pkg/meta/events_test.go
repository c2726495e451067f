package meta

import (
	"errors"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

func rawAsset(path string) PutAssetRequest {
	return PutAssetRequest{Asset: Asset{Repository: "r", Path: path, Blob: digest.FromString(path), BlobStore: "default", Size: 1},
		Component: &Component{Repository: "r", Format: "raw", Name: path}}
}

// Events are recorded with their changes only while a webhook exists, a
// refused write records none, and pruning keeps what a webhook has not
// passed.
func TestEventsOutbox(t *testing.T) {
	db, _ := openAssetsDB(t)
	if _, _, err := db.PutAsset(rawAsset("before")); err != nil {
		t.Fatal(err)
	}
	if evs, _ := db.EventsAfter(0, 10); len(evs) != 0 {
		t.Fatalf("events without a webhook: %+v", evs)
	}
	if err := db.CreateWebhook(Webhook{Name: "w", URL: "http://127.0.0.1:1/", EventTypes: []string{EventAsset}}); err != nil {
		t.Fatal(err)
	}
	refused := rawAsset("refused")
	refused.Check = func(*Asset) error { return errors.New("no") }
	if _, _, err := db.PutAsset(refused); err == nil {
		t.Fatal("the refused write was stored")
	}
	if _, _, err := db.PutAsset(rawAsset("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.As("bob/10.0.0.1").DeleteAssetByPath("r", "a"); err != nil {
		t.Fatal(err)
	}
	evs, err := db.EventsAfter(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ typ, action, initiator string }{
		{EventComponent, ActionCreated, "system"}, {EventAsset, ActionCreated, "system"},
		{EventComponent, ActionDeleted, "bob/10.0.0.1"}, {EventAsset, ActionDeleted, "bob/10.0.0.1"},
	}
	if len(evs) != len(want) {
		t.Fatalf("events %+v, want %d", evs, len(want))
	}
	for i, w := range want {
		if e := evs[i]; e.Type != w.typ || e.Action != w.action || e.Initiator != w.initiator || e.Seq <= 0 || (i > 0 && e.Seq <= evs[i-1].Seq) {
			t.Errorf("event %d = %+v, want %+v in sequence", i, e, w)
		}
	}
	w, st, err := db.GetWebhook("w")
	if err != nil {
		t.Fatal(err)
	}
	st.Cursor = evs[1].Seq
	if err := db.SaveWebhookState("w", w.ID, st); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PruneEvents(); err != nil || n != 2 {
		t.Fatalf("PruneEvents = %d, %v; want the 2 delivered", n, err)
	}
	if left, _ := db.EventsAfter(0, 10); len(left) != 2 || left[0].Seq != evs[2].Seq {
		t.Errorf("after pruning: %+v, want the last two", left)
	}
	if err := db.DeleteWebhook("w"); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.PruneEvents(); n != 2 {
		t.Errorf("without webhooks PruneEvents removed %d, want 2", n)
	}
}

// WantsDownloads follows the webhooks' event types through create,
// update, delete and a reopen; download events keep their time and order.
func TestDownloadEventsRecorded(t *testing.T) {
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
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a, b := rawAsset("a").Asset, rawAsset("b").Asset
	if err := db.RecordDownloadEvents([]DownloadEvent{{Asset: &a, Initiator: "bob/10.0.0.1", At: at}, {Asset: &b, At: at.Add(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	evs, err := db.EventsAfter(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Asset.Path != "a" || evs[1].Asset.Path != "b" || !evs[0].Time.Equal(at) ||
		evs[0].Initiator != "bob/10.0.0.1" || evs[0].Type != EventDownload || evs[0].Action != ActionDownloaded {
		t.Fatalf("download events %+v", evs)
	}
	if err := db.DeleteWebhook("w"); err != nil {
		t.Fatal(err)
	}
	if db.WantsDownloads() {
		t.Fatal("with no webhook left, downloads are asked for")
	}
}
