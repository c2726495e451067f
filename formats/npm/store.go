package npm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// errChanged is a packument that changed between its read and its write.
var errChanged = errors.New("the packument changed meanwhile")

// casAttempts bounds the re-reads of a packument changed by concurrent
// writers; every attempt that fails means another write landed.
const casAttempts = 8

// stored reads the packument of name as stored in hosted repository r
// (no rewriting: the context's base URL is dropped), with the digest of
// its blob; nil and "" when there is none.
func stored(ctx context.Context, r repo.Repository, name string) ([]byte, digest.Digest, error) {
	c, err := r.Get(repo.WithBaseURL(ctx, nil), name)
	if errs.KindOf(err) == errs.NotFound {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer c.Body.Close()
	b, err := readBounded(c.Body, repo.MaxMetadataSize, "the packument of "+name)
	return b, c.Asset.Blob, err
}

// lock serializes the changes of one package in one repository within
// this process: a publish's tarball and packument go together, and the
// compare-and-swap of modify is left for what the lock cannot see.
func (f *Format) lock(r repo.Repository, name string) (unlock func()) {
	return f.packages.Lock(r.Name() + "\x00" + name)
}

// modify is a read-modify-write of the packument of name in hosted r: fn
// gets the stored document (nil if none) and returns the new one, which is
// stored only if the packument is still what fn read (compare-and-swap in
// the metadata transaction); otherwise fn runs again on the new state.
// Callers hold lock.
func modify(ctx context.Context, req putter, r repo.Repository, name string, fn func(cur []byte) ([]byte, error)) ([]byte, error) {
	cur, blob, err := stored(ctx, r, name)
	if err != nil {
		return nil, err
	}
	return modifyFrom(ctx, req, r, name, cur, blob, fn)
}

// modifyFrom is modify from the packument cur, stored as blob, that the
// caller has just read.
func modifyFrom(ctx context.Context, req putter, r repo.Repository, name string, cur []byte, blob digest.Digest, fn func(cur []byte) ([]byte, error)) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			var err error
			if cur, blob, err = stored(ctx, r, name); err != nil {
				return nil, err
			}
		}
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		opts := req.putOptions()
		opts.ContentType = typeJSON
		opts.Size = int64(len(next))
		opts.Check = func(existing *meta.Asset) error {
			var have digest.Digest
			if existing != nil {
				have = existing.Blob
			}
			if have != blob {
				return errChanged
			}
			return nil
		}
		// The upload limit bounds what clients send; the document the
		// server maintains from it is bounded by what it can read back.
		_, err = r.Put(repo.WithMaxUploadSize(ctx, repo.MaxMetadataSize), name, bytes.NewReader(next), opts)
		switch {
		case err == nil:
			return next, nil
		case !errors.Is(err, errChanged):
			return nil, err
		case attempt == casAttempts:
			return nil, errs.Wrap(errs.Conflict, err, "conflict: the packument of %s keeps changing, try again", name)
		}
	}
}

// putter gives the uploader of a write.
type putter struct {
	user, ip string
}

func (p putter) putOptions() repo.PutOptions {
	return repo.PutOptions{Size: -1, Uploader: p.user, UploaderIP: p.ip}
}

func uploaderOf(ctx context.Context, ip string) putter {
	p := putter{ip: ip}
	if pr := auth.PrincipalFrom(ctx); pr != nil {
		p.user = pr.UserID
	}
	return p
}

// withRev sets doc's _rev to the revision after prev: "<n+1>-<hex>", the
// hex from the document's content, so every write changes it.
func withRev(doc object, prev string) (object, string) {
	n := 0
	if i := strings.IndexByte(prev, '-'); i > 0 {
		n, _ = strconv.Atoi(prev[:i])
	}
	doc.del("_rev")
	sum := sha256.Sum256(doc.marshal())
	rev := strconv.Itoa(n+1) + "-" + hex.EncodeToString(sum[:16])
	out := make(object, 0, len(doc)+1)
	for _, m := range doc {
		out = append(out, m)
		if m.Key == "name" {
			out = append(out, member{"_rev", jsonString(rev)})
		}
	}
	if out.get("_rev") == nil {
		out = append(object{{"_rev", jsonString(rev)}}, out...)
	}
	return out, rev
}

// checkRev compares the revision a client gave with the stored one.
func checkRev(cur object, given string) error {
	have := stringOf(cur.get("_rev"))
	if given == "" {
		return errs.New(errs.Conflict, "conflict: the update names no _rev; the current one is %s", have)
	}
	if given != have {
		return errs.New(errs.Conflict, "conflict: revision %s is not the current one (%s): fetch the document again", given, have)
	}
	return nil
}

// now is a timestamp as npm writes them.
func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// writeTarget is the hosted repository that takes the writes sent to r,
// after checking actions on package name in r and in it: r itself, a
// group's writable member; proxies take none. Privileges are checked on
// the packument's path: a package's documents and tarballs go together.
func writeTarget(ctx context.Context, r repo.Repository, name string, actions ...string) (repo.Repository, error) {
	for _, a := range actions {
		if err := r.AuthorizePath(ctx, a, name); err != nil {
			return nil, err
		}
	}
	switch r.Config().Type {
	case repo.Hosted:
		return r, nil
	case repo.Group:
		var wm repo.Repository
		if gm, ok := r.(repo.GroupMembers); ok {
			wm = gm.WritableMember()
		}
		if wm == nil || wm.Config().Type != repo.Hosted {
			return nil, errs.New(errs.Unsupported, "group repository %s has no writable member: publish to a hosted repository", r.Name())
		}
		for _, a := range actions {
			if err := wm.AuthorizePath(ctx, a, name); err != nil {
				return nil, err
			}
		}
		return wm, nil
	}
	return nil, errs.New(errs.Unsupported, "repository %s is a %s repository: publish to a hosted one", r.Name(), r.Config().Type)
}

// authorizeAny checks that the caller may perform one of actions on
// package name in r, answering the first refusal otherwise.
func authorizeAny(ctx context.Context, r repo.Repository, name string, actions []string) error {
	var first error
	for _, a := range actions {
		err := r.AuthorizePath(ctx, a, name)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
