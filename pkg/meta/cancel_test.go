package meta

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A search whose filter keeps nothing walks every record; once the client
// has gone (its request context ends) the walk must stop, not finish.
func TestListingsStopWhenTheContextEnds(t *testing.T) {
	db, _ := openAssetsDB(t)
	for i := range 50 {
		name := fmt.Sprintf("c%02d", i)
		putAsset(t, db, "r", name, dg(name), &Component{Repository: "r", Name: name, Version: "1"})
	}
	t.Run("components", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		visited := 0
		comps, _, err := db.ListComponents(ctx, "", "", 10, func(*Component) bool {
			visited++
			cancel() // the client leaves during the scan
			return false
		})
		if !errors.Is(err, context.Canceled) || len(comps) != 0 {
			t.Fatalf("ListComponents after cancel = %d components, %v; want context.Canceled", len(comps), err)
		}
		if visited != 1 {
			t.Fatalf("the scan visited %d components after the context ended", visited-1)
		}
	})
	t.Run("assets", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		visited := 0
		assets, _, err := db.ListAllAssets(ctx, "", "", 10, func(*Asset) bool {
			visited++
			cancel()
			return false
		})
		if !errors.Is(err, context.Canceled) || len(assets) != 0 {
			t.Fatalf("ListAllAssets after cancel = %d assets, %v; want context.Canceled", len(assets), err)
		}
		if visited != 1 {
			t.Fatalf("the scan visited %d assets after the context ended", visited-1)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, _, err := db.ListComponents(ctx, "r", "", 0, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("ListComponents with a cancelled context: %v", err)
		}
		if _, _, err := db.ListAllAssets(ctx, "r", "", 0, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("ListAllAssets with a cancelled context: %v", err)
		}
	})
}
