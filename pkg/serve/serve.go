// Package serve writes repository content over HTTP with the conditional and
// range semantics clients expect, and plain-text errors for the formats
// (raw, Maven) whose clients read only the status.
package serve

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// smallContent is the size up to which stored content is written from a
// buffer rather than handed to the connection's ReadFrom (sendfile).
const smallContent = 16 << 10

var streamBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Content writes c: stored content through http.ServeContent (ranges,
// If-None-Match, If-Modified-Since, HEAD, sendfile), streamed content as it
// arrives. disposition is "inline" or "attachment", empty for none. It
// returns an error only when nothing was written, for the caller to answer
// in its protocol's format: a download that failed before its first byte.
// A GET answered with the bytes (200, 206) is a download: c.Downloaded,
// if set, records it.
func Content(w http.ResponseWriter, r *http.Request, c *repo.Content, disposition string) error {
	defer c.Body.Close()
	if c.Downloaded != nil && r.Method == http.MethodGet {
		sw := &StatusWriter{ResponseWriter: w}
		w = sw
		defer func() {
			if sw.Status == http.StatusOK || sw.Status == http.StatusPartialContent {
				c.Downloaded(r.Context())
			}
		}()
	}
	a := c.Asset
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	if sha1 := a.Checksums["sha1"]; sha1 != "" {
		h.Set("ETag", `"`+sha1+`"`)
	}
	if disposition != "" {
		h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": path.Base(a.Path)}))
	}
	// A proxy download still being written is streamed in large pieces
	// as it is written, and served through ServeContent only for ranges.
	f, following := c.Body.(interface{ Err() error })
	if rs, ok := c.Body.(io.ReadSeeker); ok && (!following || r.Header.Get("Range") != "") {
		if a.Size >= 0 && a.Size <= smallContent && !following {
			w = smallBody{w}
		}
		http.ServeContent(w, r, "", a.LastModified, rs)
		if following && f.Err() != nil {
			// The bytes were followed from a download that then failed
			// (ServeContent does not say): make sure the client sees a
			// cut transfer, and the request log an aborted one.
			abort(w)
		}
		return nil
	}
	// A proxy download: its first bytes decide between an answer and an
	// error, so that a download failing at once is a status the client
	// reads, never a connection closed without a word (which HTTP clients
	// take for a stale keep-alive and silently send again).
	var first []byte
	if following && r.Method != http.MethodHead {
		buf := smallBufs.Get().(*[]byte)
		defer smallBufs.Put(buf)
		n, err := c.Body.Read(*buf)
		if err != nil && err != io.EOF {
			h.Del("ETag")
			h.Del("Content-Disposition")
			return err
		}
		first = (*buf)[:n]
	}
	// A proxy download: the bytes are arriving now.
	h.Set("Last-Modified", a.LastModified.UTC().Format(http.TimeFormat))
	if a.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := w.Write(first)
	if wt, ok := c.Body.(io.WriterTo); err == nil && following && ok {
		// The download's reader writes itself out (by sendfile when it can).
		_, err = wt.WriteTo(w)
	} else if err == nil {
		// Large writes: hiding w's ReadFrom keeps the buffer ours (256 KiB)
		// rather than net/http's 32 KiB.
		buf := streamBufs.Get().(*[]byte)
		defer streamBufs.Put(buf)
		_, err = io.CopyBuffer(struct{ io.Writer }{w}, c.Body, *buf)
	}
	if err != nil {
		// The upstream failed mid-way (or the client left): cut the
		// connection so the client sees a truncated transfer, never a
		// short body taken as whole.
		abort(w)
	}
	return nil
}

// abort cuts the response after sending what it holds, so the client sees
// the start of an answer and then a truncated transfer.
func abort(w http.ResponseWriter) {
	http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallContent); return &b }}

// smallBody replaces w's ReadFrom by a copy through a pooled buffer, so
// that headers and body leave in one write; the connection's ReadFrom
// flushes the headers first (two syscalls, and a sendfile that saves
// nothing on a few KiB).
type smallBody struct{ http.ResponseWriter }

func (s smallBody) ReadFrom(r io.Reader) (int64, error) {
	buf := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(buf)
	return io.CopyBuffer(struct{ io.Writer }{s.ResponseWriter}, r, *buf)
}

// ErrorStatus is what every format's error answer shares: the status of
// err, logged when the server is at fault (the path without the tokens it
// may name), and the Basic challenge of a 401. The format writes the body.
func ErrorStatus(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) int {
	status := errs.Status(err)
	if (status == http.StatusInternalServerError && !errors.Is(err, errs.ErrUpstream)) || status == http.StatusInsufficientStorage {
		log.Error("request failed", "method", r.Method, "path", auth.RedactTokens(r.URL.Path), "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Sonatype Nexus Repository Manager"`)
	}
	return status
}

// Error writes err as a status with a short text, the way raw and Maven
// clients expect; internal detail goes to the log only.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := ErrorStatus(w, r, log, err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, errs.Message(err)+"\n")
	}
}
