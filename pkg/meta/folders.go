package meta

import (
	"bytes"
	"encoding/binary"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The folder index holds, per repository, each folder that directly holds
// assets and how many. It changes in the transaction of every asset write
// and delete, so a format can list what its folders stand for (the images
// of a Docker repository, by their manifest folders) without visiting
// every asset under them.
var bucketFolders = []byte("asset_folders")

// folderOf is the folder of an asset path: "a/b" for "a/b/c", "" for "c".
func folderOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// countFolder adds delta to the assets of the folder of path p in repo,
// dropping the folder at zero.
func countFolder(tx *bolt.Tx, repo, p string, delta int64) error {
	b := tx.Bucket(bucketFolders)
	key := assetPathKey(repo, folderOf(p))
	var n int64
	if v := b.Get(key); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	if n += delta; n <= 0 {
		return b.Delete(key)
	}
	return b.Put(key, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// indexFolders builds the folder index from the stored assets, for a
// database from before it existed (schema 1).
func indexFolders(tx *bolt.Tx) error {
	c := tx.Bucket(bucketAssetPaths).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		repo, p, ok := bytes.Cut(k, []byte{0})
		if !ok {
			continue
		}
		if err := countFolder(tx, string(repo), string(p), 1); err != nil {
			return err
		}
	}
	return nil
}

// Folders returns up to limit folders of repo that directly hold assets
// and start with prefix, in order, starting after the folder after. next is
// the folder to pass as after for the following page, empty at the end.
func (db *DB) Folders(repo, prefix, after string, limit int) (folders []string, next string, err error) {
	base := assetPathKey(repo, "")
	err = db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFolders).Cursor()
		k, _ := c.Seek(assetPathKey(repo, prefix))
		if after != "" {
			k, _ = c.Seek(assetPathKey(repo, after))
			if k != nil && string(k[len(base):]) == after {
				k, _ = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, assetPathKey(repo, prefix)); k, _ = c.Next() {
			if limit > 0 && len(folders) == limit {
				next = folders[len(folders)-1]
				return nil
			}
			folders = append(folders, string(k[len(base):]))
		}
		return nil
	})
	return folders, next, err
}
