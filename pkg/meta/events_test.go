package meta

import (
	"errors"
	"testing"

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
