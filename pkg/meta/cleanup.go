package meta

import (
	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Cleanup policies (by name) and scheduled tasks (by id) are stored as the
// JSON their packages (pkg/cleanup, pkg/tasks) define: meta only keeps
// them, one record a key.
var (
	bucketCleanupPolicies = []byte("cleanup_policies")
	bucketTasks           = []byte("tasks")

	// keyTasksCreated marks that the default tasks were created once, so
	// that deleting them all does not bring them back at the next start.
	keyTasksCreated = []byte("tasks.defaultsCreated")
)

// CleanupPolicies returns every stored cleanup policy, in name order.
func (db *DB) CleanupPolicies() ([][]byte, error) { return db.allRecords(bucketCleanupPolicies) }

// CleanupPolicy returns the policy named name, or errs.NotFound.
func (db *DB) CleanupPolicy(name string) ([]byte, error) {
	return db.record(bucketCleanupPolicies, "cleanup policy", name)
}

// PutCleanupPolicy stores a policy: a new one when create is set (refused
// with errs.Conflict if the name is taken), else over an existing one
// (errs.NotFound if there is none).
func (db *DB) PutCleanupPolicy(name string, raw []byte, create bool) error {
	return db.putRecord(bucketCleanupPolicies, "cleanup policy", name, raw, create)
}

// DeleteCleanupPolicy deletes the policy named name, or is errs.NotFound.
func (db *DB) DeleteCleanupPolicy(name string) error {
	return db.dropRecord(bucketCleanupPolicies, "cleanup policy", name)
}

// Tasks returns every stored task, in id order.
func (db *DB) Tasks() ([][]byte, error) { return db.allRecords(bucketTasks) }

// PutTask stores a task as PutCleanupPolicy stores a policy.
func (db *DB) PutTask(id string, raw []byte, create bool) error {
	return db.putRecord(bucketTasks, "task", id, raw, create)
}

// DeleteTask deletes the task id, or is errs.NotFound.
func (db *DB) DeleteTask(id string) error { return db.dropRecord(bucketTasks, "task", id) }

// CreateDefaultTasks stores tasks (id → JSON) unless default tasks were
// created before.
func (db *DB) CreateDefaultTasks(tasks map[string][]byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		settings := tx.Bucket(bucketSettings)
		if settings.Get(keyTasksCreated) != nil {
			return nil
		}
		for id, raw := range tasks {
			if err := tx.Bucket(bucketTasks).Put([]byte(id), raw); err != nil {
				return err
			}
		}
		return settings.Put(keyTasksCreated, []byte("1"))
	})
}

func (db *DB) allRecords(bucket []byte) ([][]byte, error) {
	var out [][]byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, v []byte) error {
			out = append(out, append([]byte(nil), v...))
			return nil
		})
	})
	return out, err
}

func (db *DB) record(bucket []byte, what, key string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get([]byte(key))
		if v == nil {
			return notFound(what, key)
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

func (db *DB) putRecord(bucket []byte, what, key string, raw []byte, create bool) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		exists := b.Get([]byte(key)) != nil
		switch {
		case create && exists:
			return errs.New(errs.Conflict, "%s %q already exists", what, key)
		case !create && !exists:
			return notFound(what, key)
		}
		return b.Put([]byte(key), raw)
	})
}

func (db *DB) dropRecord(bucket []byte, what, key string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucket).Get([]byte(key)) == nil {
			return notFound(what, key)
		}
		return tx.Bucket(bucket).Delete([]byte(key))
	})
}
