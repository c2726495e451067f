package meta

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// The outbox: a change that webhooks report is recorded as an Event in the
// transaction that makes it, so an event exists exactly when its change
// does, across crashes. Events are keyed by a sequence, which orders them;
// each webhook keeps the sequence it has delivered up to (WebhookState), and
// events every webhook has passed are pruned. Nothing is recorded while no
// webhook exists.

var (
	bucketEvents       = []byte("events")
	bucketWebhooks     = []byte("webhooks")
	bucketWebhookState = []byte("webhook_state")
)

// Event types and actions, as Nexus's webhooks name them.
const (
	EventAsset      = "asset"
	EventComponent  = "component"
	EventRepository = "repository"
	// EventAudit is an audit record (Nexus's global audit webhook).
	EventAudit = "audit"
	// EventDownload is an asset served to a client: recorded only while a
	// webhook asks for it, since it is one event per download.
	EventDownload = "download"

	ActionCreated    = "CREATED"
	ActionUpdated    = "UPDATED"
	ActionDeleted    = "DELETED"
	ActionDownloaded = "DOWNLOADED"
)

// Event is one recorded change.
type Event struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Type       string    `json:"type"`
	Action     string    `json:"action"`
	Repository string    `json:"repository"`
	// Initiator is "user/address" of whoever made the change, as Nexus
	// writes it; "system" for the server's own work.
	Initiator string       `json:"initiator"`
	Asset     *Asset       `json:"asset,omitempty"`
	Component *Component   `json:"component,omitempty"`
	Audit     *AuditRecord `json:"audit,omitempty"`
	// Config is a repository event's stored configuration.
	Config json.RawMessage `json:"config,omitempty"`
	// AliasOf is, for an asset written together with another (a tag with
	// its manifest), that asset's path; Aliases counts, for that other
	// asset, the ones written with it.
	AliasOf string `json:"aliasOf,omitempty"`
	Aliases int    `json:"aliases,omitempty"`
}

// Webhook is one endpoint that events are delivered to.
type Webhook struct {
	// ID distinguishes this webhook from an earlier one of the same name:
	// delivery ids derive from it.
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	// Secret signs each body (HMAC); never shown.
	Secret       string            `json:"secret,omitempty"`
	EventTypes   []string          `json:"eventTypes"`
	Repositories []string          `json:"repositories,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	Timeout      time.Duration     `json:"timeout"`
	// Threshold failures in a row make the next attempt wait Backoff.
	Threshold int           `json:"threshold"`
	Backoff   time.Duration `json:"backoff"`
	// Payload is PayloadNexus (the default) or PayloadRegistry.
	Payload string `json:"payload,omitempty"`
	// IgnoredActions are the Distribution actions (push, pull, delete) a
	// registry payload leaves out, as registry:2's ignore.actions.
	IgnoredActions []string `json:"ignoredActions,omitempty"`
	// Declared is a webhook of the properties file (a notification
	// endpoint): it follows the file at each start, not the REST API.
	Declared bool `json:"declared,omitempty"`
}

// Webhook payloads: Nexus's, or CNCF Distribution's event envelope of the
// formats that are registries.
const (
	PayloadNexus    = "nexus"
	PayloadRegistry = "registry"
)

// WebhookState is a webhook's delivery progress.
type WebhookState struct {
	// Cursor is the sequence of the last event delivered or passed over.
	Cursor      uint64    `json:"cursor"`
	Delivered   uint64    `json:"delivered"`
	Dropped     uint64    `json:"dropped"`
	Failures    int       `json:"failures"`
	LastError   string    `json:"lastError,omitempty"`
	LastFailure time.Time `json:"lastFailure,omitzero"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
}

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// recordEvent adds ev to the outbox in tx, unless no webhook would read it.
func recordEvent(tx *bolt.Tx, ev Event) error {
	if k, _ := tx.Bucket(bucketWebhooks).Cursor().First(); k == nil {
		return nil
	}
	// Downloads served before this change come before it.
	if err := writeQueuedDownloads(tx); err != nil {
		return err
	}
	return appendEvent(tx, ev)
}

// appendEvent adds ev to the outbox in tx.
func appendEvent(tx *bolt.Tx, ev Event) error {
	b := tx.Bucket(bucketEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	ev.Seq = seq
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	return putJSON(b, seqKey(seq), &ev)
}

// initiatorOf is the Initiator of a change the asset's uploader made.
func initiatorOf(a *Asset) string {
	if a.Uploader == "" && a.UploaderIP == "" {
		return "system"
	}
	return a.Uploader + "/" + a.UploaderIP
}

// EventsAfter returns up to limit events with a sequence above seq, in order.
func (db *DB) EventsAfter(seq uint64, limit int) ([]Event, error) {
	var out []Event
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(seq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}

// PruneEvents deletes the events every webhook has passed (all of them
// when there is no webhook) and returns how many went. It writes only when
// there is such an event, so calling it often costs a read.
func (db *DB) PruneEvents() (int, error) {
	var some bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		upTo, err := prunableUpTo(tx)
		k, _ := tx.Bucket(bucketEvents).Cursor().First()
		some = k != nil && binary.BigEndian.Uint64(k) <= upTo
		return err
	})
	if err != nil || !some {
		return 0, err
	}
	n := 0
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		upTo, err := prunableUpTo(tx)
		if err != nil {
			return err
		}
		c := tx.Bucket(bucketEvents).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upTo; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// prunableUpTo is the sequence every webhook has passed.
func prunableUpTo(tx *bolt.Tx) (uint64, error) {
	upTo := tx.Bucket(bucketEvents).Sequence()
	err := tx.Bucket(bucketWebhookState).ForEach(func(_, v []byte) error {
		var st WebhookState
		if err := json.Unmarshal(v, &st); err != nil {
			return err
		}
		upTo = min(upTo, st.Cursor)
		return nil
	})
	return upTo, err
}

// Webhooks returns every webhook ordered by name.
func (db *DB) Webhooks() ([]Webhook, error) {
	var out []Webhook
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWebhooks).ForEach(func(_, v []byte) error {
			var w Webhook
			if err := json.Unmarshal(v, &w); err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	})
	return out, err
}

// GetWebhook returns the webhook named name and its delivery state, or
// errs.NotFound.
func (db *DB) GetWebhook(name string) (Webhook, WebhookState, error) {
	var w Webhook
	var st WebhookState
	err := db.bolt.View(func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketWebhooks), []byte(name), &w)
		if err != nil {
			return err
		}
		if !found {
			return notFound("webhook", name)
		}
		_, err = getJSON(tx.Bucket(bucketWebhookState), []byte(name), &st)
		return err
	})
	return w, st, err
}

// CreateWebhook stores a new webhook, which is delivered the events
// recorded from now on; a name taken is errs.Conflict.
func (db *DB) CreateWebhook(w Webhook) error {
	return db.changeWebhooks(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWebhooks).Get([]byte(w.Name)) != nil {
			return errs.New(errs.Conflict, "webhook %q already exists", w.Name)
		}
		return createWebhook(tx, w)
	})
}

func createWebhook(tx *bolt.Tx, w Webhook) error {
	w.ID = uuid.NewString()
	if err := putJSON(tx.Bucket(bucketWebhooks), []byte(w.Name), &w); err != nil {
		return err
	}
	st := WebhookState{Cursor: tx.Bucket(bucketEvents).Sequence()}
	return putJSON(tx.Bucket(bucketWebhookState), []byte(w.Name), &st)
}

// UpdateWebhook replaces the settings of an existing webhook, keeping its
// identity and what it has delivered. An empty Secret keeps the stored one.
func (db *DB) UpdateWebhook(w Webhook) error {
	return db.changeWebhooks(func(tx *bolt.Tx) error {
		var old Webhook
		found, err := getJSON(tx.Bucket(bucketWebhooks), []byte(w.Name), &old)
		if err != nil {
			return err
		}
		if !found {
			return notFound("webhook", w.Name)
		}
		w.ID = old.ID
		if w.Secret == "" {
			w.Secret = old.Secret
		}
		return putJSON(tx.Bucket(bucketWebhooks), []byte(w.Name), &w)
	})
}

// changeWebhooks runs fn in a write transaction and then notes whether a
// webhook asks for downloads.
func (db *DB) changeWebhooks(fn func(*bolt.Tx) error) error {
	if err := db.bolt.Update(fn); err != nil {
		return err
	}
	return db.noteDownloadHooks()
}

// DeleteWebhook deletes a webhook and its delivery state.
func (db *DB) DeleteWebhook(name string) error {
	return db.changeWebhooks(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketWebhooks).Get([]byte(name)) == nil {
			return notFound("webhook", name)
		}
		return deleteWebhook(tx, name)
	})
}

func deleteWebhook(tx *bolt.Tx, name string) error {
	if err := tx.Bucket(bucketWebhooks).Delete([]byte(name)); err != nil {
		return err
	}
	return tx.Bucket(bucketWebhookState).Delete([]byte(name))
}

// SaveWebhookState stores the delivery state of the webhook with id, if it
// still exists (a webhook deleted or replaced meanwhile keeps nothing).
func (db *DB) SaveWebhookState(name, id string, st WebhookState) error {
	return db.batch(func(tx *bolt.Tx) error {
		var w Webhook
		found, err := getJSON(tx.Bucket(bucketWebhooks), []byte(name), &w)
		if err != nil || !found || w.ID != id {
			return err
		}
		return putJSON(tx.Bucket(bucketWebhookState), []byte(name), &st)
	})
}
