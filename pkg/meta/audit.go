package meta

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// bucketAudit holds the audit records, keyed by their Seq (big-endian, so
// that key order is the order they were appended in).
var bucketAudit = []byte("audit")

// keyNodeID is the system bucket's key of this server's node ID.
var keyNodeID = []byte("node_id")

// auditTimeLayout is the timestamp of Nexus's audit.log records, in UTC
// to the millisecond.
const auditTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// pruneBatch bounds the records one transaction of PruneAudit deletes, so
// that other writers never wait long for the database.
const pruneBatch = 1000

// AuditRecord is one entry of the audit log, in the shape of a line of
// Nexus's audit.log: who (Initiator) did what (Domain, Type) to what
// (Context, Attributes), and when.
type AuditRecord struct {
	// Seq is the record's place in the log: 1 for the first record ever
	// appended, then one more for each. It is not part of the JSON.
	Seq        uint64            `json:"-"`
	Timestamp  time.Time         `json:"-"`
	NodeID     string            `json:"nodeId"`
	Initiator  string            `json:"initiator"`
	Domain     string            `json:"domain"`
	Type       string            `json:"type"`
	Context    string            `json:"context"`
	Attributes map[string]string `json:"attributes"`
}

// auditFields is AuditRecord without its JSON methods, for them to embed.
type auditFields AuditRecord

// MarshalJSON writes the timestamp first and as Nexus does
// ("2026-12-03T14:00:00.123Z"), not with time.Time's variable precision.
func (r AuditRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Timestamp string `json:"timestamp"`
		auditFields
	}{r.Timestamp.UTC().Format(auditTimeLayout), auditFields(r)})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *AuditRecord) UnmarshalJSON(data []byte) error {
	v := struct {
		Timestamp string `json:"timestamp"`
		*auditFields
	}{auditFields: (*auditFields)(r)}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, v.Timestamp)
	r.Timestamp = t
	return err
}

func auditKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// ensureNodeID gives the server its node ID on the first start of a
// release with audit records: a random UUID, kept for good, that names
// the server in every record (Nexus's nodeId).
func ensureNodeID(sys *bolt.Bucket) error {
	if sys.Get(keyNodeID) != nil {
		return nil
	}
	return sys.Put(keyNodeID, []byte(strings.ToUpper(uuid.NewString())))
}

// NodeID returns this server's node ID.
func (db *DB) NodeID() (string, error) {
	var id string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bucketSystem).Get(keyNodeID))
		return nil
	})
	return id, err
}

// AppendAudit stores rec as the newest audit record, in a batched write
// (records appended at once share a commit), and sets its Seq. Once the
// record is committed, committed (if not nil) gets its JSON, the line
// Nexus's audit.log would hold; committed runs before AppendAudit
// returns, in the order of the records, since the committer commits one
// group at a time and a group's handlers in the order of its writes. It
// must be quick and must not write to the database: every writer waits
// for it.
func (db *DB) AppendAudit(rec *AuditRecord, committed func(line []byte)) error {
	at := rec.Timestamp
	return db.batch(func(tx *bolt.Tx) error {
		rec.Timestamp = at // a group run again starts from the caller's time
		line, err := appendAuditTx(tx, rec)
		if err == nil && committed != nil {
			tx.OnCommit(func() { committed(line) })
		}
		return err
	})
}

// appendAuditTx stores rec under the audit bucket's next sequence number
// and returns its JSON. Whatever has to be written in the same
// transaction as an audit record (an outbox entry for it) goes here.
func appendAuditTx(tx *bolt.Tx, rec *AuditRecord) ([]byte, error) {
	b := tx.Bucket(bucketAudit)
	// Timestamps never go back in key order, so that a scan by time
	// (since, pruning) stops at the first record out of range: a record
	// whose commit waited behind a later one, or one made after the clock
	// was set back, takes the newest record's time.
	if k, v := b.Cursor().Last(); k != nil {
		var last AuditRecord
		if err := json.Unmarshal(v, &last); err != nil {
			return nil, err
		}
		if rec.Timestamp.Before(last.Timestamp) {
			rec.Timestamp = last.Timestamp
		}
	}
	seq, err := b.NextSequence()
	if err != nil {
		return nil, err
	}
	rec.Seq = seq
	line, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := recordEvent(tx, Event{Type: EventAudit, Initiator: rec.Initiator, Audit: rec}); err != nil {
		return nil, err
	}
	return line, b.Put(auditKey(seq), line)
}

// AuditQuery selects a page of audit records, newest first.
type AuditQuery struct {
	// Before, when not 0, starts the page below the record of that Seq
	// (the last one of the previous page).
	Before uint64
	// Since, when not zero, ends the page at the first older record.
	Since time.Time
	// Match, when not nil, keeps only the records it accepts.
	Match func(*AuditRecord) bool
	// Limit is the most records of the page (at least 1).
	Limit int
}

// AuditRecords returns a page of the records q selects, newest first, and
// whether older records may follow: the page is full and older records in
// range exist, which Match has not been asked about (the next page may
// be empty).
func (db *DB) AuditRecords(q AuditQuery) ([]*AuditRecord, bool, error) {
	var out []*AuditRecord
	more := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		k, v := c.Last()
		if q.Before != 0 {
			// The record just below Before: Seek finds Before or the next key.
			if k, v = c.Seek(auditKey(q.Before)); k == nil {
				k, v = c.Last()
			}
			for k != nil && binary.BigEndian.Uint64(k) >= q.Before {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = c.Prev() {
			rec := new(AuditRecord)
			if err := json.Unmarshal(v, rec); err != nil {
				return err
			}
			if rec.Timestamp.Before(q.Since) {
				return nil
			}
			if len(out) == max(q.Limit, 1) {
				more = true
				return nil
			}
			rec.Seq = binary.BigEndian.Uint64(k)
			if q.Match == nil || q.Match(rec) {
				out = append(out, rec)
			}
		}
		return nil
	})
	return out, more, err
}

// PruneAudit deletes the audit records older than before, oldest first,
// at most pruneBatch a transaction, and returns how many it deleted.
func (db *DB) PruneAudit(before time.Time) (int, error) {
	total := 0
	for {
		var old [][]byte
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			old = old[:0]
			b := tx.Bucket(bucketAudit)
			c := b.Cursor()
			for k, v := c.First(); k != nil && len(old) < pruneBatch; k, v = c.Next() {
				var rec AuditRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return err
				}
				if !rec.Timestamp.Before(before) {
					break
				}
				old = append(old, k)
			}
			// Deleted after the walk: a bbolt cursor may skip a key when
			// the one it stands on is deleted.
			for _, k := range old {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(old)
		if len(old) < pruneBatch {
			return total, nil
		}
	}
}
