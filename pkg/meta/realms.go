package meta

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// Settings keys of the realms and of the LDAP servers. Both are security
// settings: writing them moves the security generation on, so cached
// logins and principals are resolved again.
var (
	keyActiveRealms = []byte("realms.active")
	keyLDAPServers  = []byte("ldap.servers")
)

// ActiveRealms returns the stored ordered list of active realm IDs and
// whether one is stored (a fresh install has none: the caller's defaults
// apply).
func (db *DB) ActiveRealms() ([]string, bool, error) {
	var ids []string
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bucketSettings), keyActiveRealms, &ids)
		return err
	})
	return ids, ok, err
}

// SetActiveRealms stores the ordered list of active realm IDs.
func (db *DB) SetActiveRealms(ids []string) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSettings), keyActiveRealms, ids)
	})
}

// LDAPServers returns the stored LDAP server list as the LDAP realm wrote
// it (JSON, in the order the servers are tried), or nil.
func (db *DB) LDAPServers() (json.RawMessage, error) {
	var raw json.RawMessage
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw = append(json.RawMessage(nil), tx.Bucket(bucketSettings).Get(keyLDAPServers)...)
		return nil
	})
	return raw, err
}

// UpdateLDAPServers replaces the LDAP server list with what fn makes of
// the stored one, in one transaction, so that concurrent changes do not
// lose each other's.
func (db *DB) UpdateLDAPServers(fn func(stored json.RawMessage) (json.RawMessage, error)) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		next, err := fn(append(json.RawMessage(nil), b.Get(keyLDAPServers)...))
		if err != nil {
			return err
		}
		return b.Put(keyLDAPServers, next)
	})
}

// SourceLDAP is the source of users found in LDAP and of the roles that
// map LDAP groups (external role mappings).
const SourceLDAP = "LDAP"
