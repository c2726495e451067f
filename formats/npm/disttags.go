package npm

import (
	"encoding/json"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// maxTagBody bounds the body of a dist-tag PUT: a JSON string.
const maxTagBody = 4 << 10

// distTags handles -/package/<name>/dist-tags[/<tag>] (npm dist-tag ls,
// add, rm).
func (f *Format) distTags(w http.ResponseWriter, req *http.Request, r repo.Repository, rt route) error {
	ctx := req.Context()
	switch {
	case (req.Method == http.MethodGet || req.Method == http.MethodHead) && rt.rest == "":
		if err := r.AuthorizePath(ctx, "read", rt.name); err != nil {
			return err
		}
		tags, err := part(ctx, r, rt.name, "dist-tags", func(doc []byte) ([]byte, error) {
			top, err := parseObject(doc)
			if err != nil {
				return nil, errs.Wrap(errs.Upstream, err, "the packument of %s is malformed", rt.name)
			}
			if tags := top.get("dist-tags"); tags != nil {
				return tags, nil
			}
			return []byte("{}"), nil
		})
		if err != nil {
			return err
		}
		writeRawJSON(w, req, http.StatusOK, tags)
		return nil
	case (req.Method == http.MethodPut || req.Method == http.MethodPost) && rt.rest != "":
		return f.setTag(w, req, r, rt, true)
	case req.Method == http.MethodDelete && rt.rest != "":
		return f.setTag(w, req, r, rt, false)
	}
	return errs.New(errs.Unsupported, "method %s not allowed here", req.Method)
}

// setTag points tag rt.rest at the version the body names (add), or
// removes it; latest cannot be removed.
func (f *Format) setTag(w http.ResponseWriter, req *http.Request, r repo.Repository, rt route, add bool) error {
	ctx := req.Context()
	target, err := writeTarget(ctx, r, rt.name, "edit")
	if err != nil {
		return err
	}
	tag := rt.rest
	if !urlSafe(tag) {
		return errs.New(errs.Invalid, "dist-tag %q is not a valid tag name", tag)
	}
	if _, isVersion := parseVersion(tag); isVersion {
		return errs.New(errs.Invalid, "dist-tag %q is a version: tags must not be versions", tag)
	}
	var v string
	if add {
		raw, err := readBounded(req.Body, maxTagBody, "the dist-tag body")
		if err != nil {
			return errs.Wrap(errs.Invalid, err, "the dist-tag body could not be read")
		}
		if json.Unmarshal(raw, &v) != nil || v == "" {
			return errs.New(errs.Invalid, "the body must be the version as a JSON string")
		}
	} else if tag == "latest" {
		return errs.New(errs.Invalid, "the latest dist-tag cannot be removed")
	}
	var rev string
	unlock := f.lock(target, rt.name)
	defer unlock()
	_, err = modify(ctx, uploaderOf(ctx, clientip.Of(req)), target, rt.name, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, errs.New(errs.NotFound, "package %s not found", rt.name)
		}
		doc, err := parseObject(cur)
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "stored packument")
		}
		tags := distTagsOf(doc)
		if add {
			if objectOf(doc.get("versions")).get(v) == nil {
				return nil, errs.New(errs.NotFound, "version %s of %s not found", v, rt.name)
			}
			tags[tag] = v
		} else {
			if _, ok := tags[tag]; !ok {
				return nil, errs.New(errs.NotFound, "dist-tag %s of %s not found", tag, rt.name)
			}
			delete(tags, tag)
		}
		setTags(&doc, tags, tag)
		touch(&doc, now())
		doc, rev = withRev(doc, stringOf(doc.get("_rev")))
		return doc.marshal(), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]any{"ok": true, "id": rt.name, "rev": rev})
	return nil
}
