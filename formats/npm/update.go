package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// update applies a whole-document PUT to the packument of name, as npm
// deprecate, npm unpublish <pkg>@<v> and npm owner send it: the document
// the client read, changed. rev must be the current revision. Versions
// may only be removed or have their deprecation changed; dist-tags and
// maintainers are taken over. Everything else stays as stored. The
// tarballs of removed versions are deleted once the packument is written.
func (f *Format) update(ctx context.Context, w http.ResponseWriter, req *http.Request, r repo.Repository, name, rev string, body object, who putter) error {
	// Which action (edit, delete) the update needs depends on what it
	// changes: it is checked once that is known, before anything is
	// written.
	if err := authorizeAny(ctx, r, name, []string{"edit", "delete"}); err != nil {
		return err
	}
	target, err := writeTarget(ctx, r, name)
	if err != nil {
		return err
	}
	var removed []string
	var newRev string
	unlock := f.lock(target, name)
	defer unlock()
	_, err = modify(ctx, who, target, name, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, errs.New(errs.NotFound, "package %s not found", name)
		}
		doc, rm, changed, err := applyUpdate(cur, body, rev)
		if err != nil {
			return nil, err
		}
		if !changed && len(rm) == 0 {
			newRev = rev
			return nil, errUnchanged // npm star, or the document as it was
		}
		if changed {
			if _, err := writeTarget(ctx, r, name, "edit"); err != nil {
				return nil, err
			}
		}
		if len(rm) > 0 {
			if _, err := writeTarget(ctx, r, name, "delete"); err != nil {
				return nil, err
			}
		}
		removed = rm
		doc, newRev = withRev(doc, rev)
		return doc.marshal(), nil
	})
	if err != nil && err != errUnchanged {
		return err
	}
	for _, v := range removed {
		if err := target.Delete(ctx, tarballPath(name, v)); err != nil && errs.KindOf(err) != errs.NotFound {
			f.log.Warn("tarball of an unpublished version not deleted", "repository", target.Name(), "package", name, "version", v, "err", err)
		}
	}
	writeJSON(w, req, http.StatusOK, map[string]any{"ok": true, "id": name, "rev": newRev})
	return nil
}

// errUnchanged ends an update that changes nothing: nothing is written.
var errUnchanged = errors.New("unchanged")

// applyUpdate checks and applies a client's document to the stored one.
// It returns the new document, the versions removed, and whether anything
// other than removals changed (deprecations, dist-tags, maintainers).
func applyUpdate(cur []byte, body object, rev string) (doc object, removed []string, changed bool, err error) {
	doc, err = parseObject(cur)
	if err != nil {
		return nil, nil, false, errs.Wrap(errs.Internal, err, "stored packument")
	}
	if err := checkRev(doc, rev); err != nil {
		return nil, nil, false, err
	}
	have := objectOf(doc.get("versions"))
	given := objectOf(body.get("versions"))
	if body.get("versions") == nil {
		given = have // an update of other fields only
	}
	for _, m := range given {
		if have.get(m.Key) == nil {
			return nil, nil, false, errs.New(errs.Invalid, "version %s is not published: an update cannot add versions, publish it", m.Key)
		}
	}
	kept := make(object, 0, len(have))
	for _, m := range have {
		g := given.get(m.Key)
		if g == nil {
			removed = append(removed, m.Key)
			continue
		}
		next, dep, err := updateVersion(m.Key, m.Val, g)
		if err != nil {
			return nil, nil, false, err
		}
		changed = changed || dep
		kept = append(kept, member{m.Key, next})
	}
	if len(kept) == 0 {
		return nil, nil, false, errs.New(errs.Invalid, "an update cannot remove every version: unpublish the package")
	}
	tags := distTagsOf(doc)
	if body.get("dist-tags") != nil {
		tags = distTagsOf(body)
	}
	for tag, v := range tags {
		if kept.get(v) == nil {
			if slices.Contains(removed, v) {
				delete(tags, tag)
				continue
			}
			return nil, nil, false, errs.New(errs.Invalid, "dist-tag %s names version %s, which is not published", tag, v)
		}
	}
	if tags["latest"] == "" {
		tags["latest"] = latestOf(kept.keys())
	}
	// Tags that named a removed version move or go with the unpublish;
	// any other tag change is an edit.
	before := distTagsOf(doc)
	for tag, v := range before {
		if tags[tag] != v && !slices.Contains(removed, v) {
			changed = true
		}
	}
	for tag := range tags {
		if _, had := before[tag]; !had {
			changed = true
		}
	}
	setTags(&doc, tags)
	if mt := body.get("maintainers"); mt != nil && !sameJSON(mt, doc.get("maintainers")) {
		doc.set("maintainers", mt)
		changed = true
	}
	doc.set("versions", kept.marshal())
	touch(&doc, now()) // removed versions keep their times: never published again
	return doc, removed, changed, nil
}

// updateVersion takes a stored version and the client's copy of it: only
// "deprecated" may differ (an empty message removes it), and dist.tarball,
// which the client read rewritten. It returns the version to store and
// whether its deprecation changed.
func updateVersion(v string, stored, given json.RawMessage) (json.RawMessage, bool, error) {
	s, g := objectOf(stored), objectOf(given)
	if g == nil {
		return nil, false, errs.New(errs.Invalid, "version %s is not a JSON object", v)
	}
	if !sameJSON(withoutMutable(s), withoutMutable(g)) {
		return nil, false, errs.New(errs.Invalid, "version %s cannot be changed, only deprecated or unpublished", v)
	}
	newDep := g.get("deprecated")
	if newDep != nil && string(newDep) != "null" && newDep[0] != '"' {
		return nil, false, errs.New(errs.Invalid, "deprecated of version %s must be a string", v)
	}
	msg := stringOf(newDep)
	if msg == stringOf(s.get("deprecated")) {
		return stored, false, nil
	}
	if msg == "" {
		s.del("deprecated")
	} else {
		s.set("deprecated", newDep)
	}
	return s.marshal(), true, nil
}

// withoutMutable is a version without the fields an update may change.
func withoutMutable(o object) json.RawMessage {
	out := make(object, 0, len(o))
	for _, m := range o {
		switch m.Key {
		case "deprecated":
			continue
		case "dist":
			d := append(object(nil), objectOf(m.Val)...)
			d.del("tarball")
			out = append(out, member{m.Key, d.marshal()})
			continue
		}
		out = append(out, m)
	}
	return out.marshal()
}

// sameJSON compares two JSON values by meaning (key order, spacing and
// number spelling aside).
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	var x, y any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
