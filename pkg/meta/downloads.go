package meta

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Download is one asset served to a client: the asset at Path of
// Repository, at At.
type Download struct {
	Repository, Path string
	At               time.Time
}

// RecordDownloads sets the LastDownloaded of the downloaded assets, all in
// one transaction (pkg/repo batches them). An asset whose LastDownloaded
// is less than minInterval before its download keeps it, so an asset is
// rewritten at most once per minInterval however often it is served; a
// path whose asset is gone is skipped. It returns how many assets it wrote.
func (db *DB) RecordDownloads(ds []Download, minInterval time.Duration) (int, error) {
	written := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, d := range ds {
			a, err := assetAt(tx, d.Repository, d.Path)
			if err != nil {
				return err
			}
			if a == nil || d.At.Sub(a.LastDownloaded) < minInterval {
				continue
			}
			a.LastDownloaded = d.At.UTC()
			if err := putJSON(tx.Bucket(bucketAssets), []byte(a.ID), a); err != nil {
				return err
			}
			written++
		}
		return nil
	})
	return written, err
}
