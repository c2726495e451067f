package audit

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// rotatingFile is audit.log: one JSON line per record, appended. Before a
// line would take it past maxSize it is renamed audit.log.1, the older
// files moving up one (audit.log.2, …), the one past maxFiles dropped, and
// a new audit.log begins. Hand-written rather than a library's: this is
// all the rotation needed (no compression, no age), and it keeps the file
// mode and the error handling ours.
type rotatingFile struct {
	path     string
	maxSize  int64 // 0: never rotated
	maxFiles int
	log      *slog.Logger

	mu   sync.Mutex
	f    *os.File // nil after a failure or Close: the next write opens it again
	size int64
}

// openFile creates dir (owner only: records name users and addresses) and
// opens dir/audit.log for appending.
func openFile(dir string, maxSize int64, maxFiles int, log *slog.Logger) (*rotatingFile, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	r := &rotatingFile{path: filepath.Join(dir, "audit.log"), maxSize: maxSize, maxFiles: maxFiles, log: log}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r, r.open()
}

// open opens the file for appending; r.mu is held.
func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, st.Size()
	return nil
}

// write appends line and a newline. A failure is logged (the file and the
// error, never the line) and loses only this line: the request that made
// the record has its record in the database.
func (r *rotatingFile) write(line []byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.append(line); err != nil {
		r.log.Error("audit record not written to the audit log file", "file", r.path, "err", err)
		if r.f != nil {
			r.f.Close()
			r.f = nil
		}
	}
}

// append writes line, rotating first when it would not fit; r.mu is held.
func (r *rotatingFile) append(line []byte) error {
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	n := int64(len(line)) + 1
	// A line longer than maxSize still goes in, alone in its file.
	if r.maxSize > 0 && r.size > 0 && r.size+n > r.maxSize {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, n)
	written, err := r.f.Write(append(append(buf, line...), '\n'))
	r.size += int64(written)
	return err
}

// rotate moves audit.log to audit.log.1 (and each older file up one) and
// opens a new audit.log; r.mu is held and r.f open.
func (r *rotatingFile) rotate() error {
	err := r.f.Close()
	r.f = nil
	if err != nil {
		return err
	}
	if r.maxFiles == 0 {
		return errors.Join(ignoreMissing(os.Remove(r.path)), r.open())
	}
	// Renaming over audit.log.<maxFiles> drops the oldest.
	for i := r.maxFiles - 1; i >= 1; i-- {
		if err := ignoreMissing(os.Rename(r.rotated(i), r.rotated(i+1))); err != nil {
			return err
		}
	}
	if err := os.Rename(r.path, r.rotated(1)); err != nil {
		return err
	}
	return r.open()
}

// rotated is the name of the i-th newest rotated file.
func (r *rotatingFile) rotated(i int) string { return r.path + "." + strconv.Itoa(i) }

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// close closes the file; a later write opens it again.
func (r *rotatingFile) close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
