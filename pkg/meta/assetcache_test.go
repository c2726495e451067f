package meta

import "testing"

// Reads served from the asset cache see every change, and what one caller
// does to its copy is not what the next one reads.
func TestAssetByPathCacheIsNeverStale(t *testing.T) {
	db, _ := openAssetsDB(t)
	putAsset(t, db, "r", "a", dg("one"), nil)
	first, err := db.AssetByPath("r", "a")
	if err != nil {
		t.Fatal(err)
	}
	first.Checksums["sha1"] = "changed by the caller"
	first.Path = "changed"
	again, err := db.AssetByPath("r", "a")
	if err != nil {
		t.Fatal(err)
	}
	if again.Path != "a" || again.Checksums["sha1"] != "s-"+dg("one").Encoded()[:8] {
		t.Fatalf("second read = %+v: the first caller's changes leaked", again)
	}
	if err := db.UpdateAsset(again.ID, func(a *Asset) { a.Attributes = map[string]string{"k": "v"} }); err != nil {
		t.Fatal(err)
	}
	putAsset(t, db, "r", "a", dg("two"), nil)
	now, err := db.AssetByPath("r", "a")
	if err != nil {
		t.Fatal(err)
	}
	if now.Blob != dg("two") || now.Attributes != nil {
		t.Fatalf("after the rewrite: %+v, want blob %s and no attributes", now, dg("two"))
	}
}
