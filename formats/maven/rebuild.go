package maven

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"path"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The server keeps a hosted repository's maven-metadata.xml in step with
// what is stored, after every deploy and delete, at three levels: the
// artifact's versions, a snapshot version's builds, and a groupId's plugins.
// Clients upload metadata too; it is checked, and stored as the client sent
// it only where nothing stored tells what it should say.

// artifactDir is the folder of an artifact's versions.
func artifactDir(groupID, artifactID string) string {
	return strings.ReplaceAll(groupID, ".", "/") + "/" + artifactID
}

// deployed brings the metadata up to date after co was stored.
func (f *Format) deployed(ctx context.Context, r repo.Repository, co Coords) error {
	if err := f.rebuild(ctx, r, co.GroupID, co.ArtifactID, co.BaseVersion, upload{}); err != nil {
		return err
	}
	if co.Extension == "pom" && co.Classifier == "" {
		return f.notePlugin(ctx, r, co)
	}
	return nil
}

// Deleted brings the metadata up to date after paths of r were deleted,
// through the format's protocol or the REST API.
func (f *Format) Deleted(ctx context.Context, r repo.Repository, paths []string) error {
	if r.Config().Type != repo.Hosted {
		return nil
	}
	done := map[string]bool{}
	for _, p := range paths {
		co, err := ParseArtifact(p)
		key := co.GroupID + ":" + co.ArtifactID + ":" + co.BaseVersion
		if err != nil || done[key] {
			continue
		}
		done[key] = true
		if err := f.rebuild(ctx, r, co.GroupID, co.ArtifactID, co.BaseVersion, upload{}); err != nil {
			return err
		}
	}
	return nil
}

// upload is a client's metadata upload at path, whose checksums attrs
// the rebuilt metadata there keeps.
type upload struct {
	path  string
	attrs map[string]string
}

func (u upload) at(p string) map[string]string {
	if p == u.path {
		return u.attrs
	}
	return nil
}

// rebuild rewrites the metadata of one artifact, and of version if it is
// a snapshot, from what r stores.
func (f *Format) rebuild(ctx context.Context, r repo.Repository, groupID, artifactID, version string, u upload) error {
	unlock := f.artifacts.Lock(r.Name() + "\x00" + groupID + ":" + artifactID)
	defer unlock()
	dir := artifactDir(groupID, artifactID)
	if isSnapshotVersion(version) {
		files, err := f.builds(ctx, r, dir+"/"+version, artifactID, version)
		if err != nil {
			return err
		}
		var md *Metadata
		if len(files) > 0 {
			md = SnapshotLevel(groupID, artifactID, version, files, time.Now())
		}
		p := dir + "/" + version + "/" + MetadataName
		if err := f.writeMetadata(ctx, r, p, md, u.at(p)); err != nil {
			return err
		}
	}
	versions, err := f.versions(ctx, r, dir, artifactID)
	if err != nil {
		return err
	}
	var md *Metadata
	if len(versions) > 0 {
		md = ArtifactLevel(groupID, artifactID, versions, time.Now())
	} else if err := f.dropPlugin(ctx, r, groupID, artifactID); err != nil {
		return err
	}
	p := dir + "/" + MetadataName
	return f.writeMetadata(ctx, r, p, md, u.at(p))
}

// errStop ends a walk early.
var errStop = errors.New("stop")

// versions lists the version folders of an artifact that hold a file of
// it (a folder under the artifact's may be another artifact's: a groupId
// can extend an artifactId).
func (f *Format) versions(ctx context.Context, r repo.Repository, dir, artifactID string) ([]string, error) {
	var versions []string
	err := r.Folders(ctx, dir+"/", func(folder string) error {
		v := strings.TrimPrefix(folder, dir+"/")
		if strings.Contains(v, "/") {
			return nil
		}
		held, err := holdsArtifact(ctx, r, folder, artifactID)
		if held {
			versions = append(versions, v)
		}
		return err
	})
	return versions, err
}

// holdsArtifact reports whether folder directly holds a file of artifactID.
func holdsArtifact(ctx context.Context, r repo.Repository, folder, artifactID string) (bool, error) {
	held := false
	// Only the artifact's own names are walked, not the folder's others.
	prefix := folder + "/" + artifactID + "-"
	err := r.Walk(ctx, prefix, func(a *meta.Asset) error {
		if !strings.Contains(strings.TrimPrefix(a.Path, prefix), "/") {
			held = true
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return held, err
}

// builds returns the coordinates of the artifact files in a version folder.
func (f *Format) builds(ctx context.Context, r repo.Repository, folder, artifactID, version string) ([]Coords, error) {
	var files []Coords
	err := r.Walk(ctx, folder+"/", func(a *meta.Asset) error {
		if strings.Contains(strings.TrimPrefix(a.Path, folder+"/"), "/") {
			return nil
		}
		if co, err := ParseArtifact(a.Path); err == nil && co.ArtifactID == artifactID && co.BaseVersion == version {
			files = append(files, co)
		}
		return nil
	})
	return files, err
}

// writeMetadata stores md at p, or deletes what is at p when md is nil;
// attrs are the asset's attributes (the checksums of what a client
// uploaded).
func (f *Format) writeMetadata(ctx context.Context, r repo.Repository, p string, md *Metadata, attrs map[string]string) error {
	if md == nil {
		err := r.Delete(repo.Consequent(ctx), p)
		if errs.KindOf(err) == errs.NotFound {
			err = nil
		}
		return err
	}
	if attrs == nil {
		// Most deploys (every file of a version after its first) change
		// nothing but lastUpdated: keep what is stored then, rather than
		// write and fsync the same listing again.
		stored, err := f.readMetadata(ctx, r, p)
		if err == nil && stored != nil && sameListing(stored, md) {
			return nil
		}
	}
	b := md.Marshal()
	_, err := r.Put(ctx, p, bytes.NewReader(b), repo.PutOptions{
		ContentType: "application/xml", Size: int64(len(b)), Attributes: attrs})
	return err
}

// sameListing reports whether a and b differ at most in lastUpdated.
func sameListing(a, b *Metadata) bool {
	if (a.Versioning == nil) != (b.Versioning == nil) {
		return false
	}
	if b.Versioning != nil {
		v := *b.Versioning
		v.LastUpdated = a.Versioning.LastUpdated
		cp := *b
		cp.Versioning = &v
		b = &cp
	}
	return bytes.Equal(a.Marshal(), b.Marshal())
}

// readMetadata parses the metadata at p of r; nil if there is none.
func (f *Format) readMetadata(ctx context.Context, r repo.Repository, p string) (*Metadata, error) {
	c, err := r.Get(ctx, p)
	if errs.KindOf(err) == errs.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer c.Body.Close()
	b, err := readBounded(c.Body, maxMetadata, p)
	if err != nil {
		return nil, err
	}
	md, err := ParseMetadata(b)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "malformed %s", p)
	}
	return md, nil
}

// readBounded reads all of body, refusing more than max bytes.
func readBounded(body io.Reader, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, max+1))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "%s could not be read", what)
	}
	if int64(len(b)) > max {
		return nil, errs.New(errs.TooLarge, "%s exceeds %d bytes", what, max)
	}
	return b, nil
}

// putMetadata takes a client's maven-metadata.xml: malformed metadata is
// refused; otherwise the level it describes is rebuilt from what is
// stored, or, where nothing stored tells, the client's bytes are kept.
// Either way the checksums of the client's bytes are kept with the asset,
// so that the checksum files the client uploads next match.
func (f *Format) putMetadata(ctx context.Context, body io.Reader, r repo.Repository, p string, opts repo.PutOptions) error {
	b, err := readBounded(body, maxMetadata, "maven-metadata.xml")
	if err != nil {
		return err
	}
	if opts.Size >= 0 && int64(len(b)) != opts.Size {
		return errs.New(errs.Invalid, "size mismatch: expected %d bytes, got %d", opts.Size, len(b))
	}
	md, err := ParseMetadata(b)
	if err != nil {
		return errs.New(errs.Invalid, "malformed maven-metadata.xml: %v", err)
	}
	attrs := map[string]string{}
	for _, alg := range ChecksumAlgorithms {
		h, _ := alg.NewHash()
		h.Write(b)
		attrs[uploadedAttr(alg)] = hex.EncodeToString(h.Sum(nil))
	}
	dir := path.Dir(p)
	if len(md.Plugins) > 0 {
		return f.mergePlugins(ctx, r, p, md.Plugins, attrs)
	}
	u := upload{path: p, attrs: attrs}
	if md.ArtifactID != "" && dir == artifactDir(md.GroupID, md.ArtifactID) {
		versions, err := f.versions(ctx, r, dir, md.ArtifactID)
		if err != nil {
			return err
		}
		if len(versions) > 0 {
			return f.rebuild(ctx, r, md.GroupID, md.ArtifactID, "", u)
		}
	}
	if md.ArtifactID != "" && isSnapshotVersion(md.Version) && dir == artifactDir(md.GroupID, md.ArtifactID)+"/"+md.Version {
		files, err := f.builds(ctx, r, dir, md.ArtifactID, md.Version)
		if err != nil {
			return err
		}
		if len(files) > 0 {
			return f.rebuild(ctx, r, md.GroupID, md.ArtifactID, md.Version, u)
		}
	}
	opts.ContentType, opts.Size, opts.Attributes = "application/xml", int64(len(b)), attrs
	_, err = r.Put(ctx, p, bytes.NewReader(b), opts)
	return err
}
