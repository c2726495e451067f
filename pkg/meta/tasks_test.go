package meta

import (
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func taskIDs(t *testing.T, db *DB) []string {
	t.Helper()
	raws, err := db.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range raws {
		out = append(out, string(r))
	}
	slices.Sort(out)
	return out
}

// Each default task is created once: a deleted one stays deleted, one a
// later release adds is created at its first start, and the mark of the
// releases that did not record which defaults they created stands for
// the legacy ones.
func TestDefaultTasksByKey(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := DefaultTask{Key: "a", ID: "id-a", Raw: []byte("A")}
	b := DefaultTask{Key: "b", ID: "id-b", Raw: []byte("B")}
	c := DefaultTask{Key: "c", ID: "id-c", Raw: []byte("C")}
	if err := db.CreateDefaultTasks([]DefaultTask{a}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTask("id-a"); err != nil {
		t.Fatal(err)
	}
	a.ID = "id-a2" // a new start builds its defaults with new ids
	if err := db.CreateDefaultTasks([]DefaultTask{a, b}, nil); err != nil {
		t.Fatal(err)
	}
	if got := taskIDs(t, db); !slices.Equal(got, []string{"B"}) {
		t.Fatalf("after adding default b: %v", got)
	}

	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).Put(keyTasksCreated, []byte("1"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTask("id-b"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDefaultTasks([]DefaultTask{a, b, c}, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if got := taskIDs(t, db); !slices.Equal(got, []string{"C"}) {
		t.Fatalf("after the legacy mark: %v", got)
	}
}
