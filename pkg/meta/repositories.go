package meta

import (
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// RepositoryRecord is a repository's stored configuration. Config is the
// repository engine's own JSON; this package does not interpret it.
type RepositoryRecord struct {
	Name   string `json:"name"`
	Config []byte `json:"config"`
}

// PutRepository creates or replaces the repository named name; a name whose
// deletion is not finished is refused (errs.Conflict), so a new repository
// never inherits content of the old one.
func (db *DB) PutRepository(name string, config []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDeleting).Get([]byte(name)) != nil {
			return errs.New(errs.Conflict, "repository %s is still being deleted", name)
		}
		repos := tx.Bucket(bucketRepositories)
		action := ActionCreated
		if repos.Get([]byte(name)) != nil {
			action = ActionUpdated
		}
		if err := repos.Put([]byte(name), config); err != nil {
			return err
		}
		return recordEvent(tx, Event{Type: EventRepository, Action: action, Repository: name,
			Initiator: db.initiatorName(), Config: config})
	})
}

// Repositories returns every stored repository ordered by name.
func (db *DB) Repositories() ([]RepositoryRecord, error) {
	var out []RepositoryRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRepositories).ForEach(func(k, v []byte) error {
			out = append(out, RepositoryRecord{Name: string(k), Config: append([]byte(nil), v...)})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
