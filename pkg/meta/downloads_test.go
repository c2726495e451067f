package meta

import (
	"testing"
	"time"
)

func TestRecordDownloads(t *testing.T) {
	db, _ := openAssetsDB(t)
	a, _ := putAsset(t, db, "r", "a", dg("a"), nil)
	putAsset(t, db, "r", "b", dg("b"), nil)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n, err := db.RecordDownloads([]Download{{"r", "a", t0}, {"r", "b", t0}, {"r", "gone", t0}, {"other", "a", t0}}, time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("RecordDownloads = %d, %v; want 2 written", n, err)
	}
	got, err := db.AssetByPath("r", "a")
	if err != nil || !got.LastDownloaded.Equal(t0) || got.ID != a.ID || got.Blob != a.Blob || !got.LastModified.Equal(a.LastModified) {
		t.Fatalf("asset after a download = %+v, %v", got, err)
	}
	// Within the interval nothing is rewritten; after it, it is.
	if n, err := db.RecordDownloads([]Download{{"r", "a", t0.Add(59 * time.Minute)}}, time.Hour); err != nil || n != 0 {
		t.Fatalf("a download within the hour wrote %d, %v", n, err)
	}
	if got, _ := db.AssetByPath("r", "a"); !got.LastDownloaded.Equal(t0) {
		t.Fatalf("LastDownloaded moved within the hour to %v", got.LastDownloaded)
	}
	t1 := t0.Add(time.Hour)
	if n, err := db.RecordDownloads([]Download{{"r", "a", t1}}, time.Hour); err != nil || n != 1 {
		t.Fatalf("a download an hour later wrote %d, %v", n, err)
	}
	if got, _ := db.AssetByPath("r", "a"); !got.LastDownloaded.Equal(t1) {
		t.Fatalf("LastDownloaded = %v, want %v", got.LastDownloaded, t1)
	}
	if other, _ := db.AssetByPath("r", "b"); !other.LastDownloaded.Equal(t0) {
		t.Fatalf("b's LastDownloaded = %v", other.LastDownloaded)
	}
}
