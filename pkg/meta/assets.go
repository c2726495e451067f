package meta

import (
	"maps"
	"time"

	"github.com/google/uuid"
	digest "github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// Asset is one stored file of a repository: a path bound to a blob.
type Asset struct {
	ID          string        `json:"id"`
	Repository  string        `json:"repository"`
	Path        string        `json:"path"`
	ComponentID string        `json:"componentId,omitempty"`
	Blob        digest.Digest `json:"blob"`
	// BlobStore names the blob store holding Blob: the repository's.
	BlobStore      string            `json:"blobStore"`
	Size           int64             `json:"size"`
	ContentType    string            `json:"contentType"`
	Checksums      map[string]string `json:"checksums"`
	Created        time.Time         `json:"created"`
	LastModified   time.Time         `json:"lastModified"`
	LastDownloaded time.Time         `json:"lastDownloaded,omitzero"`
	// LastVerified is when a proxy last confirmed the content with its upstream.
	LastVerified time.Time         `json:"lastVerified,omitzero"`
	Uploader     string            `json:"uploader,omitempty"`
	UploaderIP   string            `json:"uploaderIp,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
}

// Component groups the assets of one artifact version (a raw file, a Maven
// GAV, an image tag).
type Component struct {
	ID         string    `json:"id"`
	Repository string    `json:"repository"`
	Format     string    `json:"format"`
	Group      string    `json:"group,omitempty"`
	Name       string    `json:"name"`
	Version    string    `json:"version,omitempty"`
	Created    time.Time `json:"created"`
	// Assets lists the IDs of the component's assets.
	Assets []string `json:"assets"`
}

// PutAssetRequest describes an asset write. Component, when set, is the
// component the asset belongs to; it is found by (repository, group, name,
// version) or created.
type PutAssetRequest struct {
	Asset     Asset
	Component *Component
	// Check runs inside the transaction with the asset currently at the path
	// (nil if none); an error aborts the write. Write policies live here so
	// that the check and the write are atomic.
	Check func(existing *Asset) error
	// RequireRepository refuses the write (errs.NotFound) when the
	// repository's record is gone, so a write still in flight when its
	// repository is deleted cannot leave content behind.
	RequireRepository bool
}

func assetPathKey(repo, path string) []byte { return []byte(repo + "\x00" + path) }

func componentKey(c *Component) []byte {
	return []byte(c.Repository + "\x00" + c.Group + "\x00" + c.Name + "\x00" + c.Version)
}

// blobKey keys a blob record by store and digest: the same bytes in two
// stores are two blobs, each counted and freed on its own.
func blobKey(store string, d digest.Digest) []byte { return []byte(store + "\x00" + d.Encoded()) }

// PutAsset stores the asset at its path, replacing any asset there, and
// moves blob reference counts in the same transaction. It returns the stored
// asset and the digests whose last reference went away, which the caller
// must release from the blob store.
func (db *DB) PutAsset(req PutAssetRequest) (*Asset, []BlobRef, error) {
	stored, released, err := db.PutAssets([]PutAssetRequest{req})
	if err != nil {
		return nil, nil, err
	}
	return stored[0], released, nil
}

// PutAssets stores several assets as PutAsset does, in one transaction:
// all are written or, if any check or write fails, none (a manifest and
// its tags). Concurrent writes share a commit (see batch): the checks may
// run more than once and must have no effects.
func (db *DB) PutAssets(reqs []PutAssetRequest) ([]*Asset, []BlobRef, error) {
	stored := make([]*Asset, len(reqs))
	var released []BlobRef
	err := db.batch(func(tx *bolt.Tx) error {
		released = nil // from a run that was rolled back
		for i, req := range reqs {
			aliasOf, aliases := "", len(reqs)-1
			if i > 0 {
				aliasOf, aliases = reqs[0].Asset.Path, 0
			}
			a, r, err := putAssetTx(tx, req, aliasOf, aliases)
			if err != nil {
				return err
			}
			stored[i] = a
			released = append(released, r...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return stored, released, nil
}

// putAssetTx writes one asset of PutAssets; aliasOf is the path of the
// first asset when this one is written with it, aliases how many are
// written with this one (see Event).
func putAssetTx(tx *bolt.Tx, req PutAssetRequest, aliasOf string, aliases int) (*Asset, []BlobRef, error) {
	var released []BlobRef
	a := req.Asset
	if req.RequireRepository && tx.Bucket(bucketRepositories).Get([]byte(a.Repository)) == nil {
		return nil, nil, notFound("repository", a.Repository)
	}
	existing, err := assetAt(tx, a.Repository, a.Path)
	if err != nil {
		return nil, nil, err
	}
	if req.Check != nil {
		if err := req.Check(existing); err != nil {
			return nil, nil, err
		}
	}
	now := time.Now().UTC()
	a.LastModified = now
	if existing != nil {
		a.ID = existing.ID
		a.Created = existing.Created
		if existing.Blob != a.Blob || existing.BlobStore != a.BlobStore {
			r, err := unref(tx, existing.BlobStore, existing.Blob)
			if err != nil {
				return nil, nil, err
			}
			released = append(released, r...)
			if err := ref(tx, &a); err != nil {
				return nil, nil, err
			}
		} else if err := keepBlobChecksums(tx, &a); err != nil {
			return nil, nil, err
		}
		if err := addStats(tx, a.Repository, Stats{Bytes: a.Size - existing.Size}); err != nil {
			return nil, nil, err
		}
		if existing.ComponentID != "" && (req.Component == nil) {
			if err := detachAsset(tx, existing.ComponentID, existing.ID, initiatorOf(&a)); err != nil {
				return nil, nil, err
			}
		}
	} else {
		a.ID = uuid.NewString()
		a.Created = now
		if err := ref(tx, &a); err != nil {
			return nil, nil, err
		}
		if err := countFolder(tx, a.Repository, a.Path, 1); err != nil {
			return nil, nil, err
		}
		if err := addStats(tx, a.Repository, Stats{Assets: 1, Bytes: a.Size}); err != nil {
			return nil, nil, err
		}
	}
	if req.Component != nil {
		id, err := attachAsset(tx, req.Component, a.ID, now, initiatorOf(&a))
		if err != nil {
			return nil, nil, err
		}
		if existing != nil && existing.ComponentID != "" && existing.ComponentID != id {
			if err := detachAsset(tx, existing.ComponentID, existing.ID, initiatorOf(&a)); err != nil {
				return nil, nil, err
			}
		}
		a.ComponentID = id
	} else {
		a.ComponentID = ""
	}
	if err := putJSON(tx.Bucket(bucketAssets), []byte(a.ID), &a); err != nil {
		return nil, nil, err
	}
	if err := tx.Bucket(bucketAssetPaths).Put(assetPathKey(a.Repository, a.Path), []byte(a.ID)); err != nil {
		return nil, nil, err
	}
	action := ActionCreated
	if existing != nil {
		action = ActionUpdated
	}
	if err := recordEvent(tx, Event{Type: EventAsset, Action: action, Repository: a.Repository,
		Initiator: initiatorOf(&a), Asset: &a, AliasOf: aliasOf, Aliases: aliases}); err != nil {
		return nil, nil, err
	}
	return &a, released, nil
}

func ref(tx *bolt.Tx, a *Asset) error {
	b := tx.Bucket(bucketBlobs)
	var rec Blob
	found, err := getJSON(b, blobKey(a.BlobStore, a.Blob), &rec)
	if err != nil {
		return err
	}
	if !found {
		rec = Blob{Digest: a.Blob, Size: a.Size, Checksums: a.Checksums, Created: time.Now().UTC()}
		if err := addBlobUsage(tx, a.BlobStore, 1, a.Size); err != nil {
			return err
		}
	}
	rec.Refs++
	// Checksums learnt at write time are kept on the blob for every later asset.
	for k, v := range a.Checksums {
		if rec.Checksums == nil {
			rec.Checksums = map[string]string{}
		}
		rec.Checksums[k] = v
	}
	a.Checksums = rec.Checksums
	return putJSON(b, blobKey(a.BlobStore, a.Blob), &rec)
}

// keepBlobChecksums gives a rewritten asset of the same blob every checksum
// the blob knows, including those computed after its first write.
func keepBlobChecksums(tx *bolt.Tx, a *Asset) error {
	var rec Blob
	found, err := getJSON(tx.Bucket(bucketBlobs), blobKey(a.BlobStore, a.Blob), &rec)
	if err != nil || !found {
		return err
	}
	merged := maps.Clone(rec.Checksums)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, a.Checksums)
	a.Checksums = merged
	return nil
}

// unref drops one reference; it returns the digest when none is left. The
// record stays (with zero references) until ReleaseBlob, so that freeing the
// bytes and a concurrent new reference are decided under the blob lock.
func unref(tx *bolt.Tx, store string, d digest.Digest) ([]BlobRef, error) {
	b := tx.Bucket(bucketBlobs)
	var rec Blob
	found, err := getJSON(b, blobKey(store, d), &rec)
	if err != nil || !found {
		return nil, err
	}
	rec.Refs--
	if err := putJSON(b, blobKey(store, d), &rec); err != nil {
		return nil, err
	}
	if rec.Refs <= 0 {
		return []BlobRef{{Store: store, Digest: d}}, nil
	}
	return nil, nil
}

// attachAsset adds the asset to component c, creating c (an event by
// initiator) when it does not exist.
func attachAsset(tx *bolt.Tx, c *Component, assetID string, now time.Time, initiator string) (string, error) {
	keys := tx.Bucket(bucketComponentKeys)
	comps := tx.Bucket(bucketComponents)
	var rec Component
	if id := keys.Get(componentKey(c)); id != nil {
		if _, err := getJSON(comps, id, &rec); err != nil {
			return "", err
		}
	} else {
		rec = *c
		rec.ID = uuid.NewString()
		rec.Created = now
		rec.Assets = nil
		if err := keys.Put(componentKey(c), []byte(rec.ID)); err != nil {
			return "", err
		}
		if err := indexComponent(tx, &rec, 1); err != nil {
			return "", err
		}
		if err := addStats(tx, rec.Repository, Stats{Components: 1}); err != nil {
			return "", err
		}
		if err := recordEvent(tx, Event{Type: EventComponent, Action: ActionCreated, Repository: rec.Repository,
			Initiator: initiator, Component: &rec}); err != nil {
			return "", err
		}
	}
	for _, id := range rec.Assets {
		if id == assetID {
			return rec.ID, nil
		}
	}
	rec.Assets = append(rec.Assets, assetID)
	return rec.ID, putJSON(comps, []byte(rec.ID), &rec)
}

// detachAsset removes an asset from its component and deletes the component
// when it has no assets left, an event by initiator unless that is "" (the
// content of a deleted repository).
func detachAsset(tx *bolt.Tx, componentID, assetID, initiator string) error {
	comps := tx.Bucket(bucketComponents)
	var rec Component
	found, err := getJSON(comps, []byte(componentID), &rec)
	if err != nil || !found {
		return err
	}
	kept := rec.Assets[:0]
	for _, id := range rec.Assets {
		if id != assetID {
			kept = append(kept, id)
		}
	}
	rec.Assets = kept
	if len(kept) == 0 {
		if err := comps.Delete([]byte(componentID)); err != nil {
			return err
		}
		if err := indexComponent(tx, &rec, -1); err != nil {
			return err
		}
		if err := addStats(tx, rec.Repository, Stats{Components: -1}); err != nil {
			return err
		}
		if initiator != "" {
			if err := recordEvent(tx, Event{Type: EventComponent, Action: ActionDeleted, Repository: rec.Repository,
				Initiator: initiator, Component: &rec}); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketComponentKeys).Delete(componentKey(&rec))
	}
	return putJSON(comps, []byte(componentID), &rec)
}

func assetAt(tx *bolt.Tx, repo, path string) (*Asset, error) {
	id := tx.Bucket(bucketAssetPaths).Get(assetPathKey(repo, path))
	if id == nil {
		return nil, nil
	}
	return assetByID(tx, id)
}

func assetByID(tx *bolt.Tx, id []byte) (*Asset, error) {
	var a Asset
	found, err := getJSON(tx.Bucket(bucketAssets), id, &a)
	if err != nil || !found {
		return nil, err
	}
	return &a, nil
}

// AssetByPath returns the asset at path in repo, or errs.NotFound.
func (db *DB) AssetByPath(repo, path string) (*Asset, error) {
	var a *Asset
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		id := tx.Bucket(bucketAssetPaths).Get(assetPathKey(repo, path))
		if id == nil {
			return nil
		}
		if raw := tx.Bucket(bucketAssets).Get(id); raw != nil {
			a, err = db.assets.decode(raw)
		}
		return err
	})
	if err == nil && a == nil {
		err = notFound("asset", path)
	}
	return a, err
}

// Asset returns the asset with id, or errs.NotFound.
func (db *DB) Asset(id string) (*Asset, error) {
	var a *Asset
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		a, err = assetByID(tx, []byte(id))
		return err
	})
	if err == nil && a == nil {
		err = notFound("asset", id)
	}
	return a, err
}

// UpdateAsset applies fn to the stored asset with id, for attribute changes
// that do not move blobs (verification and download times, attributes).
func (db *DB) UpdateAsset(id string, fn func(a *Asset)) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		a, err := assetByID(tx, []byte(id))
		if err != nil {
			return err
		}
		if a == nil {
			return notFound("asset", id)
		}
		fn(a)
		return putJSON(tx.Bucket(bucketAssets), []byte(a.ID), a)
	})
}

// DeleteAsset deletes the asset with id and returns the digests that lost
// their last reference.
func (db *DB) DeleteAsset(id string) ([]BlobRef, error) {
	var released []BlobRef
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		a, err := assetByID(tx, []byte(id))
		if err != nil {
			return err
		}
		if a == nil {
			return notFound("asset", id)
		}
		released, err = deleteAsset(tx, a, db.initiatorName())
		return err
	})
	return released, err
}

// DeleteAssetByPath deletes the asset at path in repo, like DeleteAsset.
func (db *DB) DeleteAssetByPath(repo, path string) ([]BlobRef, error) {
	var released []BlobRef
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		a, err := assetAt(tx, repo, path)
		if err != nil {
			return err
		}
		if a == nil {
			return notFound("asset", path)
		}
		released, err = deleteAsset(tx, a, db.initiatorName())
		return err
	})
	return released, err
}

// deleteAsset deletes a, an event by initiator unless that is "" (see
// detachAsset).
func deleteAsset(tx *bolt.Tx, a *Asset, initiator string) ([]BlobRef, error) {
	if err := tx.Bucket(bucketAssets).Delete([]byte(a.ID)); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketAssetPaths).Delete(assetPathKey(a.Repository, a.Path)); err != nil {
		return nil, err
	}
	if err := countFolder(tx, a.Repository, a.Path, -1); err != nil {
		return nil, err
	}
	if err := addStats(tx, a.Repository, Stats{Assets: -1, Bytes: -a.Size}); err != nil {
		return nil, err
	}
	if a.ComponentID != "" {
		if err := detachAsset(tx, a.ComponentID, a.ID, initiator); err != nil {
			return nil, err
		}
	}
	if initiator != "" {
		if err := recordEvent(tx, Event{Type: EventAsset, Action: ActionDeleted, Repository: a.Repository,
			Initiator: initiator, Asset: a}); err != nil {
			return nil, err
		}
	}
	return unref(tx, a.BlobStore, a.Blob)
}

// DeleteComponent deletes a component and all its assets, returning the
// digests that lost their last reference.
func (db *DB) DeleteComponent(id string) ([]BlobRef, error) {
	var released []BlobRef
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var c Component
		found, err := getJSON(tx.Bucket(bucketComponents), []byte(id), &c)
		if err != nil {
			return err
		}
		if !found {
			return notFound("component", id)
		}
		ids := make([][]byte, len(c.Assets))
		for i, aid := range c.Assets {
			ids[i] = []byte(aid)
		}
		released, err = deleteAssets(tx, ids, db.initiatorName())
		return err
	})
	return released, err
}

// deleteAssets deletes the assets with ids, skipping missing ones.
func deleteAssets(tx *bolt.Tx, ids [][]byte, initiator string) ([]BlobRef, error) {
	var released []BlobRef
	for _, id := range ids {
		a, err := assetByID(tx, id)
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue
		}
		r, err := deleteAsset(tx, a, initiator)
		if err != nil {
			return nil, err
		}
		released = append(released, r...)
	}
	return released, nil
}

// Component returns the component with id, or errs.NotFound.
func (db *DB) Component(id string) (*Component, error) {
	var c Component
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		found, err = getJSON(tx.Bucket(bucketComponents), []byte(id), &c)
		return err
	})
	if err == nil && !found {
		err = notFound("component", id)
	}
	return &c, err
}

// ComponentAssets returns the assets of a component in path order.
func (db *DB) ComponentAssets(c *Component) ([]*Asset, error) {
	var out []*Asset
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		out, err = componentAssetsTx(tx, c)
		return err
	})
	return out, err
}
