package meta

import (
	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// bucketTrustStore holds the truststore's certificates: id (the
// certificate's fingerprint) → PEM. pkg/truststore parses and checks them.
var bucketTrustStore = []byte("truststore")

// TrustedCertificates returns the truststore's certificates, PEM by id.
func (db *DB) TrustedCertificates() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTrustStore).ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	return out, err
}

// AddTrustedCertificate stores pem under id; errs.Conflict if id is there.
func (db *DB) AddTrustedCertificate(id string, pem []byte) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTrustStore)
		if b.Get([]byte(id)) != nil {
			return errs.New(errs.Conflict, "certificate %s is already in the truststore", id)
		}
		return b.Put([]byte(id), pem)
	})
}

// RemoveTrustedCertificate deletes the certificate id; errs.NotFound if
// there is none.
func (db *DB) RemoveTrustedCertificate(id string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTrustStore)
		if b.Get([]byte(id)) == nil {
			return errs.New(errs.NotFound, "certificate %s is not in the truststore", id)
		}
		return b.Delete([]byte(id))
	})
}
