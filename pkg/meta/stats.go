package meta

import (
	"encoding/binary"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// Repository statistics are counted in the transactions that write and
// delete assets and components, so a dashboard reads a repository's size
// in one lookup instead of visiting its assets.
var bucketRepositoryStats = []byte("repository_stats")

// Stats counts what a repository stores: its assets, their bytes (each
// asset's size, however blobs are shared) and its components.
type Stats struct {
	Assets     int64 `json:"assets"`
	Bytes      int64 `json:"bytes"`
	Components int64 `json:"components"`
}

func (s Stats) zero() bool { return s == Stats{} }

func decodeStats(v []byte) Stats {
	if len(v) != 24 {
		return Stats{}
	}
	return Stats{Assets: int64(binary.BigEndian.Uint64(v)), Bytes: int64(binary.BigEndian.Uint64(v[8:])),
		Components: int64(binary.BigEndian.Uint64(v[16:]))}
}

// addStats adds d to repo's statistics; a repository left with nothing
// loses its record, so a deleted repository leaves none behind.
func addStats(tx *bolt.Tx, repo string, d Stats) error {
	b := tx.Bucket(bucketRepositoryStats)
	s := decodeStats(b.Get([]byte(repo)))
	s.Assets += d.Assets
	s.Bytes += d.Bytes
	s.Components += d.Components
	if s.zero() {
		return b.Delete([]byte(repo))
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(s.Assets))
	v = binary.BigEndian.AppendUint64(v, uint64(s.Bytes))
	v = binary.BigEndian.AppendUint64(v, uint64(s.Components))
	return b.Put([]byte(repo), v)
}

// AllRepositoryStats returns the statistics of every repository that
// holds something, in one read (a dashboard's).
func (db *DB) AllRepositoryStats() (map[string]Stats, error) {
	out := map[string]Stats{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRepositoryStats).ForEach(func(k, v []byte) error {
			out[string(k)] = decodeStats(v)
			return nil
		})
	})
	return out, err
}

// countRepositories computes every repository's statistics from the
// stored assets and components, for a database from before they were
// kept (schema 2).
func countRepositories(tx *bolt.Tx) error {
	if err := tx.Bucket(bucketAssets).ForEach(func(_, v []byte) error {
		var a Asset
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		return addStats(tx, a.Repository, Stats{Assets: 1, Bytes: a.Size})
	}); err != nil {
		return err
	}
	return tx.Bucket(bucketComponents).ForEach(func(_, v []byte) error {
		var c Component
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		return addStats(tx, c.Repository, Stats{Components: 1})
	})
}
