package meta

import (
	"crypto/rand"

	bolt "go.etcd.io/bbolt"
)

var keyTokenSecret = []byte("token-secret")

// TokenSecret returns the key that signs access tokens, creating a random
// one on first use. It lives in the database so tokens stay valid across
// restarts (and, later, across the nodes that share one database).
func (db *DB) TokenSecret() ([]byte, error) {
	var secret []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		secret = append([]byte(nil), tx.Bucket(bucketSettings).Get(keyTokenSecret)...)
		return nil
	})
	if err != nil || len(secret) > 0 {
		return secret, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		if existing := b.Get(keyTokenSecret); existing != nil {
			secret = append([]byte(nil), existing...)
			return nil
		}
		secret = make([]byte, 32)
		rand.Read(secret)
		return b.Put(keyTokenSecret, secret)
	})
	return secret, err
}
