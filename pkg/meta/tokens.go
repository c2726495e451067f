package meta

import (
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

var bucketTokens = []byte("tokens")

// Token is an access token a user created (npm login, npm token create).
// Only a hash of the token is kept, which is also its Key: the token
// itself is shown once, when created, and cannot be recovered.
type Token struct {
	Key    string `json:"key"`
	Prefix string `json:"prefix"` // the token's first characters, to tell tokens apart
	UserID string `json:"userId"`
	Realm  string `json:"realm"`
	// Source is where the user is: "" for a local user (who must exist),
	// else the directory's source ("LDAP"), asked when the token is used.
	Source   string    `json:"source,omitempty"`
	Created  time.Time `json:"created"`
	ReadOnly bool      `json:"readOnly"`
	CIDRs    []string  `json:"cidrs,omitempty"`
}

// CreateToken stores t, for an existing local user unless t.Source names
// a directory. Tokens are read on every use, so no cache of
// principals depends on them: unlike users and roles, they leave the
// security generation as it is (a login elsewhere keeps its cache).
func (db *DB) CreateToken(t *Token) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if t.Source == "" && tx.Bucket(bucketUsers).Get([]byte(t.UserID)) == nil {
			return notFound("user", t.UserID)
		}
		return createRecord(tx.Bucket(bucketTokens), "token", t.Key, t)
	})
}

// GetToken returns the token whose key is key, or errs.NotFound.
func (db *DB) GetToken(key string) (*Token, error) {
	var t Token
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucketTokens), []byte(key), &t)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errs.New(errs.NotFound, "token not found")
	}
	return &t, nil
}

// Tokens returns the tokens of userID in realm, in key order.
func (db *DB) Tokens(userID, realm string) ([]*Token, error) {
	var out []*Token
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(_, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t.UserID == userID && t.Realm == realm {
				out = append(out, &t)
			}
			return nil
		})
	})
	return out, err
}

// DeleteToken deletes the token key, or returns errs.NotFound.
func (db *DB) DeleteToken(key string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return deleteRecord(tx.Bucket(bucketTokens), "token", key)
	})
}

// deleteTokensOf deletes every token of the local user userID, with the
// user: a user created again under the name must not inherit them.
func deleteTokensOf(tx *bolt.Tx, userID string) error {
	b := tx.Bucket(bucketTokens)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var t Token
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		if t.UserID == userID && t.Source == "" {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range keys {
		if err == nil {
			err = b.Delete(k)
		}
	}
	return err
}
