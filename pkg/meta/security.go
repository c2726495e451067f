package meta

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// User statuses.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
)

// SourceDefault is the source of users and roles kept in this database (the
// Nexus "default" realm).
const SourceDefault = "default"

// User is a locally stored user account.
type User struct {
	ID           string   `json:"id"`
	FirstName    string   `json:"firstName"`
	LastName     string   `json:"lastName"`
	Email        string   `json:"email"`
	Status       string   `json:"status"`
	PasswordHash []byte   `json:"passwordHash"`
	Roles        []string `json:"roles"`
	Source       string   `json:"source"`
	ReadOnly     bool     `json:"readOnly"`
}

// Role is a named set of privileges and of other roles.
type Role struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Source      string   `json:"source"`
	Privileges  []string `json:"privileges"`
	Roles       []string `json:"roles"`
	ReadOnly    bool     `json:"readOnly"`
}

// AnonymousSettings controls access by callers without credentials.
type AnonymousSettings struct {
	Enabled   bool   `json:"enabled"`
	UserID    string `json:"userId"`
	RealmName string `json:"realmName"`
}

var keyAnonymous = []byte("anonymous")

// GetUser returns the user id, or an errs.NotFound error.
func (db *DB) GetUser(id string) (*User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketUsers), []byte(id), &u)
		if err == nil && !ok {
			err = notFound("user", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Users returns all users sorted by ID.
func (db *DB) Users() ([]*User, error) {
	var out []*User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		// bbolt iterates keys in byte order, which is the ID order.
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			u := new(User)
			if err := json.Unmarshal(v, u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// UserCount returns the number of users.
func (db *DB) UserCount() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketUsers).Stats().KeyN
		return nil
	})
	return n, err
}

// CreateUser stores a new user. A duplicate ID is errs.Invalid, because Nexus
// answers it with 400 rather than 409.
func (db *DB) CreateUser(u *User) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return createRecord(tx.Bucket(bucketUsers), "user", u.ID, u)
	})
}

// PutUser replaces an existing user, or returns errs.NotFound.
func (db *DB) PutUser(u *User) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return replaceRecord(tx.Bucket(bucketUsers), "user", u.ID, u)
	})
}

// DeleteUser deletes the local user id and its tokens, or returns
// errs.NotFound. A directory user's tokens of the same ID stay theirs.
func (db *DB) DeleteUser(id string) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		if err := deleteRecord(tx.Bucket(bucketUsers), "user", id); err != nil {
			return err
		}
		return deleteTokensOf(tx, id)
	})
}

// GetRole returns the role id, or an errs.NotFound error.
func (db *DB) GetRole(id string) (*Role, error) {
	var r Role
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketRoles), []byte(id), &r)
		if err == nil && !ok {
			err = notFound("role", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Roles returns all roles sorted by ID.
func (db *DB) Roles() ([]*Role, error) {
	var out []*Role
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoles).ForEach(func(_, v []byte) error {
			r := new(Role)
			if err := json.Unmarshal(v, r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// CreateRole stores a new role; a duplicate ID is errs.Invalid.
func (db *DB) CreateRole(r *Role) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return createRecord(tx.Bucket(bucketRoles), "role", r.ID, r)
	})
}

// PutRole replaces an existing role, or returns errs.NotFound.
func (db *DB) PutRole(r *Role) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return replaceRecord(tx.Bucket(bucketRoles), "role", r.ID, r)
	})
}

// DeleteRole deletes the role id, or returns errs.NotFound.
func (db *DB) DeleteRole(id string) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return deleteRecord(tx.Bucket(bucketRoles), "role", id)
	})
}

// Anonymous returns the anonymous access settings; when none are stored it
// returns the Nexus defaults (disabled, user "anonymous").
func (db *DB) Anonymous() (AnonymousSettings, error) {
	s := AnonymousSettings{UserID: "anonymous", RealmName: "NexusAuthorizingRealm"}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketSettings), keyAnonymous, &s)
		return err
	})
	return s, err
}

// SetAnonymous stores the anonymous access settings.
func (db *DB) SetAnonymous(s AnonymousSettings) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSettings), keyAnonymous, s)
	})
}

// createRecord, replaceRecord and deleteRecord share the existence checks of
// users and roles, which are keyed by ID the same way.
func createRecord(b *bolt.Bucket, what, id string, v any) error {
	if id == "" {
		return errs.New(errs.Invalid, "%s id is required", what)
	}
	if b.Get([]byte(id)) != nil {
		return errs.New(errs.Invalid, "%s %q already exists", what, id)
	}
	return putJSON(b, []byte(id), v)
}

func replaceRecord(b *bolt.Bucket, what, id string, v any) error {
	if b.Get([]byte(id)) == nil {
		return notFound(what, id)
	}
	return putJSON(b, []byte(id), v)
}

func deleteRecord(b *bolt.Bucket, what, id string) error {
	if b.Get([]byte(id)) == nil {
		return notFound(what, id)
	}
	return b.Delete([]byte(id))
}

// securityUpdate runs a write of users, roles or anonymous settings and,
// when it commits, moves the security generation on.
func (db *DB) securityUpdate(fn func(tx *bolt.Tx) error) error {
	err := db.bolt.Update(fn)
	if err == nil {
		db.securityGen.Add(1)
	}
	return err
}

// SecurityGeneration changes whenever users, roles or anonymous settings
// do; caches of resolved principals compare it to know they are current.
func (db *DB) SecurityGeneration() uint64 { return db.securityGen.Load() }
