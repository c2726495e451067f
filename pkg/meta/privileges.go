package meta

import (
	"encoding/json"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

var (
	bucketPrivileges = []byte("privileges")
	bucketSelectors  = []byte("content_selectors")
)

// Privilege is a privilege created through the REST API (built-in ones
// are not stored). Which fields are set depends on Type, as in Nexus.
type Privilege struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	Description     string   `json:"description"`
	Actions         []string `json:"actions,omitempty"`
	Domain          string   `json:"domain,omitempty"`
	Format          string   `json:"format,omitempty"`
	Repository      string   `json:"repository,omitempty"`
	ContentSelector string   `json:"contentSelector,omitempty"`
	Pattern         string   `json:"pattern,omitempty"`
	ScriptName      string   `json:"scriptName,omitempty"`
}

// ContentSelector is a named CSEL expression.
type ContentSelector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Expression  string `json:"expression"`
}

// Privileges returns the stored privileges sorted by name.
func (db *DB) Privileges() ([]*Privilege, error) { return listAll[Privilege](db, bucketPrivileges) }

// GetPrivilege returns the stored privilege name, or errs.NotFound.
func (db *DB) GetPrivilege(name string) (*Privilege, error) {
	return getOne[Privilege](db, bucketPrivileges, "privilege", name)
}

// CreatePrivilege stores a new privilege; a duplicate name is errs.Invalid.
func (db *DB) CreatePrivilege(p *Privilege) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		if err := selectorExists(tx, p.ContentSelector); err != nil {
			return err
		}
		return createRecord(tx.Bucket(bucketPrivileges), "privilege", p.Name, p)
	})
}

// PutPrivilege replaces an existing privilege, or returns errs.NotFound.
func (db *DB) PutPrivilege(p *Privilege) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		if err := selectorExists(tx, p.ContentSelector); err != nil {
			return err
		}
		return replaceRecord(tx.Bucket(bucketPrivileges), "privilege", p.Name, p)
	})
}

// selectorExists checks, in the transaction that stores a privilege, that
// the selector it names exists (none named is fine).
func selectorExists(tx *bolt.Tx, name string) error {
	if name != "" && tx.Bucket(bucketSelectors).Get([]byte(name)) == nil {
		return errs.New(errs.Invalid, "content selector %q does not exist", name)
	}
	return nil
}

// DeletePrivilege deletes the privilege name and, as Nexus does, removes
// it from the roles that hold it, in one transaction.
func (db *DB) DeletePrivilege(name string) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		if err := deleteRecord(tx.Bucket(bucketPrivileges), "privilege", name); err != nil {
			return err
		}
		roles := tx.Bucket(bucketRoles)
		// Collected first: bbolt forbids writing a bucket inside its ForEach.
		var changed []*Role
		err := roles.ForEach(func(_, v []byte) error {
			r := new(Role)
			if err := json.Unmarshal(v, r); err != nil {
				return err
			}
			if slices.Contains(r.Privileges, name) {
				r.Privileges = slices.DeleteFunc(r.Privileges, func(p string) bool { return p == name })
				changed = append(changed, r)
			}
			return nil
		})
		for _, r := range changed {
			if err == nil {
				err = putJSON(roles, []byte(r.ID), r)
			}
		}
		return err
	})
}

// ContentSelectors returns the content selectors sorted by name.
func (db *DB) ContentSelectors() ([]*ContentSelector, error) {
	return listAll[ContentSelector](db, bucketSelectors)
}

// GetContentSelector returns the content selector name, or errs.NotFound.
func (db *DB) GetContentSelector(name string) (*ContentSelector, error) {
	return getOne[ContentSelector](db, bucketSelectors, "content selector", name)
}

// CreateContentSelector stores a new selector; a duplicate is errs.Invalid.
func (db *DB) CreateContentSelector(s *ContentSelector) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return createRecord(tx.Bucket(bucketSelectors), "content selector", s.Name, s)
	})
}

// PutContentSelector replaces an existing selector, or returns
// errs.NotFound. Privileges naming it see the new expression.
func (db *DB) PutContentSelector(s *ContentSelector) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		return replaceRecord(tx.Bucket(bucketSelectors), "content selector", s.Name, s)
	})
}

// DeleteContentSelector deletes the selector name; one that a privilege
// uses is refused (errs.Invalid), as in Nexus.
func (db *DB) DeleteContentSelector(name string) error {
	return db.securityUpdate(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketPrivileges).ForEach(func(_, v []byte) error {
			var p Privilege
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			if p.ContentSelector == name {
				return errs.New(errs.Invalid, "content selector %q is in use by privilege %q", name, p.Name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return deleteRecord(tx.Bucket(bucketSelectors), "content selector", name)
	})
}

func listAll[T any](db *DB, bucket []byte) ([]*T, error) {
	var out []*T
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, v []byte) error {
			x := new(T)
			if err := json.Unmarshal(v, x); err != nil {
				return err
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

func getOne[T any](db *DB, bucket []byte, what, name string) (*T, error) {
	x := new(T)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucket), []byte(name), x)
		if err == nil && !ok {
			err = notFound(what, name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return x, nil
}
