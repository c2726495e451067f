package meta

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// bucketRoutingRules holds routing rules by name.
var bucketRoutingRules = []byte("routing_rules")

// RoutingRule is a stored routing rule (Nexus's JSON).
type RoutingRule struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Mode        string   `json:"mode"`
	Matchers    []string `json:"matchers"`
}

// RoutingRules returns every stored rule, in name order.
func (db *DB) RoutingRules() ([]RoutingRule, error) {
	var out []RoutingRule
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoutingRules).ForEach(func(_, v []byte) error {
			var r RoutingRule
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// PutRoutingRule stores r, replacing the rule of its name.
func (db *DB) PutRoutingRule(r RoutingRule) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketRoutingRules), []byte(r.Name), r)
	})
}

// DeleteRoutingRule removes the rule named name.
func (db *DB) DeleteRoutingRule(name string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoutingRules).Delete([]byte(name))
	})
}
