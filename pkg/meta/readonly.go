package meta

import bolt "go.etcd.io/bbolt"

// keyReadOnly is the settings key of the read-only (frozen) state.
var keyReadOnly = []byte("read-only")

// ReadOnlyState is the stored read-only state: frozen by an administrator.
type ReadOnlyState struct {
	Frozen bool   `json:"frozen"`
	Reason string `json:"reason,omitempty"`
}

// ReadOnly returns the stored read-only state (not frozen when none).
func (db *DB) ReadOnly() (ReadOnlyState, error) {
	var s ReadOnlyState
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketSettings), keyReadOnly, &s)
		return err
	})
	return s, err
}

// SetReadOnly stores the read-only state.
func (db *DB) SetReadOnly(s ReadOnlyState) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSettings), keyReadOnly, s)
	})
}
