package npm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// maxUnboundedBody bounds a document PUT when no upload limit is
// configured: it is read into memory.
const maxUnboundedBody = 1 << 30

// maxDocument bounds what a publish document holds besides its tarball.
const maxDocument = 16 << 20

// put handles PUT <name> and PUT <name>/-rev/<rev>: npm publish when the
// document carries attachments, otherwise an update of the whole document
// (deprecate, unpublish of one version, owner changes).
func (f *Format) put(w http.ResponseWriter, req *http.Request, r repo.Repository, name, rev string) error {
	ctx := req.Context()
	// Which action the document needs is known once it is read; a caller
	// who holds none that any could need is refused before.
	actions := []string{"add", "edit", "delete"}
	if rev != "" {
		actions = actions[1:]
	}
	if err := authorizeAny(ctx, r, name, actions); err != nil {
		return err
	}
	if _, err := writeTarget(ctx, r, name); err != nil {
		return err // a proxy, a group without a writable member: the body unread
	}
	limit := int64(maxUnboundedBody)
	max := repo.MaxUploadSize(ctx)
	if max > 0 {
		// The tarball's base64, and the JSON around it (its readme twice).
		limit = max/3*4 + 4 + maxDocument
	}
	raw, err := readBounded(req.Body, limit, "the document")
	if err != nil {
		if errs.KindOf(err) == errs.Upstream {
			return errs.Wrap(errs.Invalid, err, "the document could not be read")
		}
		return err
	}
	body, err := parseBody(raw)
	if err != nil {
		return err
	}
	if bodyName := stringOf(body.get("name")); bodyName != "" && bodyName != name {
		return errs.New(errs.Invalid, "the document's name %q is not the package %q of the URL", bodyName, name)
	}
	if id := stringOf(body.get("_id")); id != "" && id != name {
		return errs.New(errs.Invalid, "the document's _id %q is not the package %q of the URL", id, name)
	}
	who := uploaderOf(ctx, clientip.Of(req))
	if att := objectOf(body.get("_attachments")); len(att) > 0 && rev == "" {
		return f.publish(ctx, w, req, r, name, body, att, max, who)
	}
	if rev == "" {
		rev = stringOf(body.get("_rev"))
	}
	return f.update(ctx, w, req, r, name, rev, body, who)
}

// parseBody compacts and splits a client's JSON document.
func parseBody(raw []byte) (object, error) {
	compact, err := compactJSON(raw)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the document is not valid JSON")
	}
	body, err := parseObject(compact)
	if err != nil {
		return nil, errs.New(errs.Invalid, "the document is not a JSON object")
	}
	return body, nil
}

// release is the one version a publish document carries, checked.
type release struct {
	version  string
	manifest object
	tarball  []byte
}

// checkPublish checks a publish document of name: one version, named as
// the URL, a valid semver; one attachment, its tarball, whose length,
// shasum, integrity and package.json agree; within max bytes.
func checkPublish(name string, body, att object, max int64) (*release, error) {
	versions := objectOf(body.get("versions"))
	if len(versions) != 1 {
		return nil, errs.New(errs.Invalid, "a publish carries exactly one version, not %d", len(versions))
	}
	v := versions[0].Key
	if _, ok := parseVersion(v); !ok {
		return nil, errs.New(errs.Invalid, "version %q is not a valid semver version", v)
	}
	manifest := objectOf(versions[0].Val)
	if manifest == nil {
		return nil, errs.New(errs.Invalid, "version %s is not a JSON object", v)
	}
	if mn := stringOf(manifest.get("name")); mn != name {
		return nil, errs.New(errs.Invalid, "version %s is named %q, not %q", v, mn, name)
	}
	if mv := stringOf(manifest.get("version")); mv != v {
		return nil, errs.New(errs.Invalid, "version %s says it is version %q", v, mv)
	}
	// One tarball; npm publish --provenance adds its sigstore bundle,
	// which is accepted and not kept (no attestations are served here).
	var a object
	for _, m := range att {
		switch m.Key {
		case name + "-" + v + ".tgz", tarballFile(name, v):
			if a != nil {
				return nil, errs.New(errs.Invalid, "a publish carries one tarball")
			}
			if a = objectOf(m.Val); a == nil {
				return nil, errs.New(errs.Invalid, "attachment %q is not a JSON object", m.Key)
			}
		case name + "-" + v + ".sigstore":
		default:
			return nil, errs.New(errs.Invalid, "attachment %q is not the tarball of %s@%s", m.Key, name, v)
		}
	}
	if a == nil {
		return nil, errs.New(errs.Invalid, "the publish carries no tarball of %s@%s", name, v)
	}
	data := stringOf(a.get("data"))
	if max > 0 && int64(base64.StdEncoding.DecodedLen(len(data))) > max+3 {
		return nil, errs.New(errs.TooLarge, "the tarball is larger than the upload limit of %d bytes", max)
	}
	tgz, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(tgz) == 0 {
		return nil, errs.New(errs.Invalid, "attachment data is not base64 of a tarball")
	}
	if max > 0 && int64(len(tgz)) > max {
		return nil, errs.New(errs.TooLarge, "the tarball is larger than the upload limit of %d bytes", max)
	}
	if l := a.get("length"); l != nil {
		var n int64
		if json.Unmarshal(l, &n) != nil || n != int64(len(tgz)) {
			return nil, errs.New(errs.Invalid, "attachment length %s is not the tarball's %d bytes", l, len(tgz))
		}
	}
	dist := objectOf(manifest.get("dist"))
	if err := checkDist(stringOf(dist.get("shasum")), stringOf(dist.get("integrity")), tgz); err != nil {
		return nil, err
	}
	pn, pv, err := tarballManifest(tgz)
	if err != nil {
		return nil, err
	}
	if pn != name || pv != v {
		return nil, errs.New(errs.Invalid, "the tarball's package.json is %s@%s, not %s@%s", pn, pv, name, v)
	}
	return &release{version: v, manifest: manifest, tarball: tgz}, nil
}

// publish stores a new version: its tarball first (an identical retry
// after a crash is accepted), then the packument with it added, by
// compare-and-swap, so concurrent publishes of other versions all land.
func (f *Format) publish(ctx context.Context, w http.ResponseWriter, req *http.Request, r repo.Repository, name string, body, att object, max int64, who putter) error {
	rev, err := f.publishRelease(ctx, r, name, body, att, max, who)
	if err != nil {
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]any{"ok": true, "success": true, "id": name, "rev": rev})
	return nil
}

// publishRelease is publish without the answer: it returns the
// packument's new revision.
func (f *Format) publishRelease(ctx context.Context, r repo.Repository, name string, body, att object, max int64, who putter) (string, error) {
	target, err := writeTarget(ctx, r, name, "add")
	if err != nil {
		return "", err
	}
	rel, err := checkPublish(name, body, att, max)
	if err != nil {
		return "", err
	}
	unlock := f.lock(target, name)
	defer unlock()
	cur, blob, err := stored(ctx, target, name)
	if err != nil {
		return "", err
	}
	if cur == nil {
		if err := checkNewName(name); err != nil {
			return "", err
		}
	} else if err := checkNewVersion(cur, rel.version); err != nil {
		return "", err
	}
	tp := tarballPath(name, rel.version)
	dist := objectOf(rel.manifest.get("dist"))
	dist.set("tarball", jsonString(tarballURL(ctx, name, rel.version)))
	rel.manifest.set("dist", dist.marshal())
	// Who published, as npm's registry records it (npm view, search).
	var publisher json.RawMessage
	if who.user != "" {
		p := object{{"name", jsonString(who.user)}}
		if u, err := f.security.User(who.user); err == nil && u.Email != "" {
			p = append(p, member{"email", jsonString(u.Email)})
		}
		publisher = p.marshal()
		if rel.manifest.get("_npmUser") == nil {
			rel.manifest.set("_npmUser", publisher)
		}
	}

	opts := who.putOptions()
	opts.ContentType = "application/octet-stream"
	opts.Size = int64(len(rel.tarball))
	opts.Component = f.Component(tp)
	opts.AllowIdentical = true
	if _, err := target.Put(ctx, tp, bytes.NewReader(rel.tarball), opts); err != nil {
		return "", err
	}
	var rev string
	_, err = modifyFrom(ctx, who, target, name, cur, blob, func(cur []byte) ([]byte, error) {
		doc, err := applyPublish(cur, body, name, rel, publisher)
		if err != nil {
			return nil, err
		}
		doc, rev = withRev(doc, stringOf(doc.get("_rev")))
		return doc.marshal(), nil
	})
	return rev, err
}

// tarballURL is the URL a published version's dist.tarball gets: in the
// repository the client addressed (Rewrite moves it to whichever
// repository serves it).
func tarballURL(ctx context.Context, name, v string) string {
	p := pathOfName(name) + "/-/" + tarballFile(name, v)
	if base := repo.BaseURL(ctx); base != nil {
		return strings.TrimSuffix(base.String(), "/") + "/" + p
	}
	return p
}

// checkNewVersion refuses a version the packument has, or had: npm never
// allows a version to be published twice, even after an unpublish (whose
// time entry stays).
func checkNewVersion(cur []byte, v string) error {
	top, err := parseObject(cur)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "stored packument")
	}
	return checkNewVersionOf(top, v)
}

// checkNewVersionOf is checkNewVersion of a parsed packument.
func checkNewVersionOf(top object, v string) error {
	if objectOf(top.get("versions")).get(v) != nil || objectOf(top.get("time")).get(v) != nil {
		return errs.New(errs.Forbidden, "cannot publish over the previously published versions: %s", v)
	}
	return nil
}

// reserved are the packument fields the server maintains, never taken
// from a publish document as they are.
var reserved = map[string]bool{
	"_id": true, "name": true, "_rev": true, "versions": true, "dist-tags": true,
	"time": true, "_attachments": true, "_revisions": true,
}

// applyPublish adds rel to the packument cur (nil: a new package): the
// version, its time, dist-tags merged (latest defaulting to the highest
// version), the document's other fields kept verbatim (taken over from a
// publish that becomes latest, added where missing otherwise); a new
// package's maintainer is its publisher.
func applyPublish(cur []byte, body object, name string, rel *release, publisher json.RawMessage) (object, error) {
	ts := now()
	var doc object
	if cur == nil {
		doc = object{{"_id", jsonString(name)}, {"name", jsonString(name)}}
		if publisher != nil && body.get("maintainers") == nil {
			doc.set("maintainers", json.RawMessage("["+string(publisher)+"]"))
		}
	} else {
		var err error
		if doc, err = parseObject(cur); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "stored packument")
		}
		// Again: a retry reads what another writer stored meanwhile.
		if err := checkNewVersionOf(doc, rel.version); err != nil {
			return nil, err
		}
	}
	versions := objectOf(doc.get("versions"))
	if versions == nil {
		versions = object{}
	}
	versions = append(versions, member{rel.version, rel.manifest.marshal()})
	tags := distTagsOf(doc)
	var added []string
	for _, m := range objectOf(body.get("dist-tags")) {
		if v := stringOf(m.Val); v == rel.version {
			tags[m.Key] = v
			added = append(added, m.Key)
		}
	}
	if tags["latest"] == "" || versions.get(tags["latest"]) == nil {
		tags["latest"] = latestOf(versions.keys())
	}
	times := objectOf(doc.get("time"))
	if times == nil {
		times = object{{"created", jsonString(ts)}}
	}
	times.set("modified", jsonString(ts))
	times.set(rel.version, jsonString(ts))

	becomesLatest := tags["latest"] == rel.version
	for _, m := range body {
		if reserved[m.Key] || (!becomesLatest && doc.get(m.Key) != nil) {
			continue
		}
		doc.set(m.Key, m.Val)
	}
	setTags(&doc, tags, added...)
	doc.set("versions", versions.marshal())
	doc.set("time", times.marshal())
	return doc, nil
}
