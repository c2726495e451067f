package blob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// FileDriver is a Driver storing blobs on a local filesystem, as
// dir/content/<hex[0:2]>/<hex>, with temporary writes under dir/tmp and
// uploads under dir/uploads/<id>. All three must be on the same filesystem
// so that commit is a rename.
type FileDriver struct {
	content string
	tmp     string
	uploads string
}

var _ Driver = (*FileDriver)(nil)

// Stored bytes may be private (credentials in a raw file, proprietary
// layers), and access control is the server's job: every file the driver
// writes is readable by the server's user only, whatever the format.
const (
	fileMode os.FileMode = 0o600
	dirMode  os.FileMode = 0o700
)

// tempPrefix marks files in the temp directory as ours, so CleanTemp never
// removes anything it did not create.
const tempPrefix = "put-"

// NewFileDriver returns a FileDriver storing blobs under dir, creating the
// directories it needs. Directories an older version created open to
// others are closed, which also covers the files and shards inside them.
func NewFileDriver(dir string) (*FileDriver, error) {
	d := &FileDriver{
		content: filepath.Join(dir, "content"),
		tmp:     filepath.Join(dir, "tmp"),
		uploads: filepath.Join(dir, "uploads"),
	}
	for _, p := range []string{d.content, d.tmp, d.uploads} {
		if err := os.MkdirAll(p, dirMode); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "creating blob directory")
		}
		if err := os.Chmod(p, dirMode); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "restricting blob directory")
		}
	}
	return d, nil
}

func (d *FileDriver) path(key string) (string, error) {
	if !validKey(key) {
		return "", errs.New(errs.Invalid, "invalid blob key %q", key)
	}
	return filepath.Join(d.content, key[:2], key), nil
}

func (d *FileDriver) uploadPath(id string) (string, error) {
	if !validUploadID(id) {
		return "", errs.New(errs.Invalid, "invalid upload id %q", id)
	}
	return filepath.Join(d.uploads, id), nil
}

// Create starts a temporary write in the temp directory.
func (d *FileDriver) Create(ctx context.Context) (TempWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// CreateTemp makes the file with mode 0600 (fileMode).
	f, err := os.CreateTemp(d.tmp, tempPrefix+"*")
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "creating temp blob")
	}
	return &fileTemp{d: d, f: f}, nil
}

// Open returns the blob's *os.File, so that http.ServeContent can use sendfile.
func (d *FileDriver) Open(ctx context.Context, key string) (ReadSeekCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFoundOr(err, key)
	}
	return f, nil
}

// Stat returns the size of the blob.
func (d *FileDriver) Stat(ctx context.Context, key string) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFoundOr(err, key)
	}
	return fi.Size(), nil
}

// Delete removes the blob; an absent blob is not an error.
func (d *FileDriver) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(errs.Internal, err, "deleting blob")
	}
	return nil
}

// Walk calls fn for every committed blob, shard by shard in sorted order.
// Files that are not well-formed keys in their right shard are skipped.
func (d *FileDriver) Walk(ctx context.Context, fn func(key string, size int64, modTime time.Time) error) error {
	shards, err := os.ReadDir(d.content)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "listing blobs")
	}
	for _, shard := range shards {
		if !shard.IsDir() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, err := os.ReadDir(filepath.Join(d.content, shard.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return errs.Wrap(errs.Internal, err, "listing blobs")
		}
		for _, e := range entries {
			key := e.Name()
			if !e.Type().IsRegular() || !validKey(key) || key[:2] != shard.Name() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted while we walked
				}
				return errs.Wrap(errs.Internal, err, "listing blobs")
			}
			if err := fn(key, fi.Size(), fi.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

// CleanTemp removes temp files last modified more than age ago. A write in
// progress keeps touching its file, so only stalled or orphaned ones go.
func (d *FileDriver) CleanTemp(ctx context.Context, age time.Duration) (int, error) {
	entries, err := os.ReadDir(d.tmp)
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "listing temp blobs")
	}
	cutoff := time.Now().Add(-age)
	n := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		err = os.Remove(filepath.Join(d.tmp, e.Name()))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			return n, errs.Wrap(errs.Internal, err, "removing temp blob")
		}
	}
	return n, nil
}

// Space returns the bytes available on the filesystem holding the store.
func (d *FileDriver) Space(ctx context.Context) (int64, error) {
	return diskFree(d.content)
}

// Resume opens dir/uploads/<id> for appending, creating it if absent.
// Appends are not fsynced: Commit is, and the digest check before it
// catches an upload that lost its tail in a crash.
func (d *FileDriver) Resume(ctx context.Context, id string) (UploadWriter, int64, error) {
	p, err := d.uploadPath(id)
	if err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return nil, 0, errs.Wrap(errs.Internal, err, "opening upload")
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, errs.Wrap(errs.Internal, err, "opening upload")
	}
	return &fileTemp{d: d, f: f, upload: true, end: fi.Size(), flushed: fi.Size()}, fi.Size(), nil
}

// Uploads calls fn for every upload in id order, skipping stray files.
func (d *FileDriver) Uploads(ctx context.Context, fn func(id string, size int64, modTime time.Time) error) error {
	entries, err := os.ReadDir(d.uploads)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "listing uploads")
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() || !validUploadID(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // committed or cancelled while we listed
			}
			return errs.Wrap(errs.Internal, err, "listing uploads")
		}
		if err := fn(e.Name(), fi.Size(), fi.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

// OpenUpload returns the upload's *os.File.
func (d *FileDriver) OpenUpload(ctx context.Context, id string) (ReadSeekCloser, error) {
	p, err := d.uploadPath(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Wrap(errs.NotFound, err, "upload %s not found", id)
		}
		return nil, errs.Wrap(errs.Internal, err, "opening upload")
	}
	return f, nil
}

// writebackChunk is how many written bytes are handed to the kernel's
// write-back at a time while a blob is received (see startWriteback):
// small enough that a layer of a few MiB starts its write-out early
// (measured: 8 MiB did nothing for 4 MiB blobs, 1 MiB sped their commits
// up by about a tenth), large enough to cost one syscall per MiB.
const writebackChunk = 1 << 20

// fileTemp is a FileDriver temporary write, or an open upload.
type fileTemp struct {
	d      *FileDriver
	f      *os.File
	upload bool // an upload, which outlives a failed Commit and a Close
	mu     sync.Mutex
	done   bool // committed, cancelled or closed; f is closed

	// end is the file's length; bytes before flushed have been handed to
	// write-back. Writes come from one goroutine at a time (the Store
	// serialises the calls on one temp or upload).
	end, flushed int64
}

func (t *fileTemp) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	t.end += int64(n)
	if t.end-t.flushed >= writebackChunk {
		startWriteback(t.f, t.flushed, t.end-t.flushed)
		t.flushed = t.end
	}
	return n, err
}

// OpenReader opens the temp file a second time, read-only: the handle
// keeps reading the same file after its rename or removal.
func (t *fileTemp) OpenReader() (ReaderAtCloser, error) {
	f, err := os.Open(t.f.Name())
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "opening temp blob for reading")
	}
	return tempFile{f}, nil
}

// tempFile is a temp blob open for reading. Reopen gives each reader a
// handle of its own, with its own offset, so that it can go out by
// sendfile; /proc names the open file itself, whatever became of its name
// (Linux; elsewhere Reopen fails and readers copy through a buffer).
type tempFile struct{ *os.File }

func (f tempFile) Reopen() (*os.File, error) {
	return os.Open("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
}

func (t *fileTemp) Commit(ctx context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errs.New(errs.Internal, "temp blob already committed or cancelled")
	}
	t.done = true
	src := t.f.Name()
	renamed, err := t.commit(ctx, key, src)
	if !renamed {
		t.f.Close()
		// A temp is consumed either way; an upload only when deduped, as
		// its client may retry a failed commit.
		if err == nil || !t.upload {
			os.Remove(src)
		}
	}
	return err
}

// commit moves src to key's path, reporting whether it got as far as the rename.
func (t *fileTemp) commit(ctx context.Context, key, src string) (renamed bool, err error) {
	dst, err := t.d.path(key)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	// Dedupe before paying for an fsync: the existing blob has the same bytes.
	if _, err := os.Stat(dst); err == nil {
		return false, nil
	}
	if err := t.f.Sync(); err != nil {
		return false, errs.Wrap(errs.Internal, err, "syncing temp blob")
	}
	if err := t.f.Close(); err != nil {
		return false, errs.Wrap(errs.Internal, err, "closing temp blob")
	}
	shard := filepath.Dir(dst)
	switch err := os.Mkdir(shard, dirMode); {
	case err == nil:
		// A new shard directory must itself be durable in its parent.
		if err := syncDir(t.d.content); err != nil {
			return false, err
		}
	case !errors.Is(err, fs.ErrExist):
		return false, errs.Wrap(errs.Internal, err, "creating blob shard")
	}
	if err := os.Rename(src, dst); err != nil {
		return false, errs.Wrap(errs.Internal, err, "committing blob")
	}
	// The rename is durable only once the directory entry is.
	return true, syncDir(shard)
}

// Truncate cuts the file back to size; with O_APPEND, writes follow on from there.
func (t *fileTemp) Truncate(size int64) error {
	if err := t.f.Truncate(size); err != nil {
		return errs.Wrap(errs.Internal, err, "truncating upload")
	}
	t.end, t.flushed = size, min(t.flushed, size)
	return nil
}

// Close closes the file and keeps it.
func (t *fileTemp) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil
	}
	t.done = true
	if err := t.f.Close(); err != nil {
		return errs.Wrap(errs.Internal, err, "closing upload")
	}
	return nil
}

func (t *fileTemp) Cancel() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil
	}
	t.done = true
	t.f.Close()
	if err := os.Remove(t.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(errs.Internal, err, "removing temp blob")
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "opening blob directory")
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return errs.Wrap(errs.Internal, err, "syncing blob directory")
	}
	return nil
}

func notFoundOr(err error, key string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(errs.NotFound, err, "blob %s not found", key)
	}
	return errs.Wrap(errs.Internal, err, "accessing blob")
}
