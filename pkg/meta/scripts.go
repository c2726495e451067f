package meta

import "encoding/json"

// bucketScripts holds the script API's scripts by name. pkg/scripts
// validates them; this server never runs them.
var bucketScripts = []byte("scripts")

// Script is a stored script, as Nexus's script API shows it; Content is
// kept verbatim.
type Script struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	Type    string `json:"type"`
}

// Scripts returns every stored script, in name order.
func (db *DB) Scripts() ([]Script, error) {
	raws, err := db.allRecords(bucketScripts)
	if err != nil {
		return nil, err
	}
	out := make([]Script, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Script returns the script named name, or errs.NotFound.
func (db *DB) Script(name string) (Script, error) {
	var s Script
	raw, err := db.record(bucketScripts, "script", name)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}

// PutScript stores s: a new script when create is set (errs.Conflict if
// the name is taken), else over the one of its name (errs.NotFound if
// there is none).
func (db *DB) PutScript(s Script, create bool) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return db.putRecord(bucketScripts, "script", s.Name, raw, create)
}

// DeleteScript deletes the script named name, or is errs.NotFound.
func (db *DB) DeleteScript(name string) error { return db.dropRecord(bucketScripts, "script", name) }
