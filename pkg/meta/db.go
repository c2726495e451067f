// Package meta keeps the server's metadata in bbolt: repositories, assets,
// components, blob reference counts, users, roles and settings. Every change
// is one bbolt transaction, so an asset and the reference count of its blob
// never disagree. The package does no I/O on blob bytes.
package meta

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// SchemaVersion is the layout version this code reads and writes.
const SchemaVersion = 5

var (
	bucketSystem        = []byte("system")
	bucketRepositories  = []byte("repositories")
	bucketDeleting      = []byte("deleting_repositories")
	bucketAssets        = []byte("assets")
	bucketAssetPaths    = []byte("asset_paths")
	bucketComponents    = []byte("components")
	bucketComponentKeys = []byte("component_keys")
	bucketBlobs         = []byte("blobs")
	bucketUsers         = []byte("users")
	bucketRoles         = []byte("roles")
	bucketSettings      = []byte("settings")

	keySchema = []byte("schema")

	allBuckets = [][]byte{bucketSystem, bucketRepositories, bucketDeleting, bucketAssets, bucketAssetPaths,
		bucketComponents, bucketComponentKeys, bucketBlobs, bucketUsers, bucketRoles, bucketSettings, bucketFolders,
		bucketTokens, bucketComponentIndex, bucketRepositoryStats, bucketBlobStores,
		bucketCleanupPolicies, bucketTasks, bucketTrustStore,
		bucketPrivileges, bucketSelectors, bucketRoutingRules, bucketScripts, bucketAudit,
		bucketEvents, bucketWebhooks, bucketWebhookState}
)

// migrations[v] upgrades a database of schema v to v+1 inside one transaction.
var migrations = map[int]func(tx *bolt.Tx) error{
	1: indexFolders,                        // 2 adds the folder index
	2: indexSearchAndCounts,                // 3 adds the component index and repository statistics
	3: func(*bolt.Tx) error { return nil }, // 4 added the blob records' totals, which 5 counts per store
	4: blobsPerStore,                       // 5 keys blobs by store and digest, and records the stores
}

// indexSearchAndCounts builds the component index and the repository
// statistics from scratch (emptying whatever a partial layout left).
func indexSearchAndCounts(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketComponentIndex, bucketRepositoryStats} {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	if err := buildComponentIndex(tx); err != nil {
		return err
	}
	return countRepositories(tx)
}

// DB is the metadata database, as used on behalf of one initiator (see As).
type DB struct {
	*store
	// initiator is recorded with the events of the changes made through
	// this DB (see Event.Initiator); "" means the server itself.
	initiator string
}

// store is the database shared by every DB view of it.
type store struct {
	bolt        *bolt.DB
	securityGen atomic.Uint64
	commits     committer
	assets      assetCache
	// downloadHooks is whether a webhook asks for download events, so
	// that serving content records none while none does.
	downloadHooks atomic.Bool
	downloads     *downloadQueue
}

// As returns the database for changes made by initiator ("user/address"):
// the events those changes record name it.
func (db *DB) As(initiator string) *DB { return &DB{store: db.store, initiator: initiator} }

func (db *DB) initiatorName() string {
	if db.initiator == "" {
		return "system"
	}
	return db.initiator
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to SchemaVersion.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open metadata database %s: %w", path, err)
	}
	db := &DB{store: &store{bolt: b, downloads: openDownloadQueue(b)}}
	err = db.migrate()
	if err == nil {
		err = db.noteDownloadHooks()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		sys := tx.Bucket(bucketSystem)
		if err := ensureNodeID(sys); err != nil {
			return err
		}
		v := 0
		if raw := sys.Get(keySchema); raw != nil {
			v = int(binary.BigEndian.Uint32(raw))
		} else {
			v = SchemaVersion // a new database starts at the current layout
			if err := addDefaultBlobStore(tx); err != nil {
				return err
			}
		}
		if v > SchemaVersion {
			return fmt.Errorf("metadata schema %d is newer than this server (%d)", v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema %d: %w", v, err)
			}
		}
		return sys.Put(keySchema, binary.BigEndian.AppendUint32(nil, uint32(v)))
	})
}

// Close closes the database.
func (db *DB) Close() error {
	closeDownloadQueue(db.bolt)
	return db.bolt.Close()
}

// Writable reports whether a write transaction can be committed (health check).
func (db *DB) Writable() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSystem).Put([]byte("probe"), []byte(time.Now().UTC().Format(time.RFC3339)))
	})
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func notFound(what, name string) error { return errs.New(errs.NotFound, "%s %q not found", what, name) }
