package meta

import (
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Cleanup policies (by name) and scheduled tasks (by id) are stored as the
// JSON their packages (pkg/cleanup, pkg/tasks) define: meta only keeps
// them, one record a key.
var (
	bucketCleanupPolicies = []byte("cleanup_policies")
	bucketTasks           = []byte("tasks")

	// keyTasksCreated records which default tasks were created (a JSON
	// list of their keys), so that a deleted one does not come back.
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

// DefaultTask is a task the server creates by itself: Key names the
// default (its type), so that it is created once whatever its ID.
type DefaultTask struct {
	Key, ID string
	Raw     []byte // the task's JSON
}

// CreateDefaultTasks stores each of tasks whose default was never created
// and records it as created, so that one deleted later does not come back
// while a default added by a later release is created at its first start.
// The mark of releases that recorded no keys ("1") stands for legacy.
func (db *DB) CreateDefaultTasks(tasks []DefaultTask, legacy []string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		settings := tx.Bucket(bucketSettings)
		var created []string
		switch mark := settings.Get(keyTasksCreated); {
		case mark == nil:
		case string(mark) == "1":
			created = legacy
		default:
			if err := json.Unmarshal(mark, &created); err != nil {
				return fmt.Errorf("the record of default tasks: %w", err)
			}
		}
		for _, t := range tasks {
			if slices.Contains(created, t.Key) {
				continue
			}
			if err := tx.Bucket(bucketTasks).Put([]byte(t.ID), t.Raw); err != nil {
				return err
			}
			created = append(created, t.Key)
		}
		mark, err := json.Marshal(created)
		if err != nil {
			return err
		}
		return settings.Put(keyTasksCreated, mark)
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
