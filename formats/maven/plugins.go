package maven

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The groupId-level maven-metadata.xml lists the groupId's plugins with
// their goal prefixes, which is how `mvn prefix:goal` finds a plugin.

// groupMetadataPath is the groupId-level metadata of groupID.
func groupMetadataPath(groupID string) string {
	return strings.ReplaceAll(groupID, ".", "/") + "/" + MetadataName
}

// notePlugin lists the artifact of a deployed pom in its groupId's
// metadata when the pom is a plugin's, with the goal prefix of the
// plugin's descriptor (or Maven's default for its artifactId).
func (f *Format) notePlugin(ctx context.Context, r repo.Repository, co Coords) error {
	c, err := r.Get(ctx, co.Path())
	if err != nil {
		return err
	}
	b, err := readBounded(c.Body, maxMetadata, "pom")
	c.Body.Close()
	if err != nil {
		return err
	}
	pom, err := ParsePOM(b)
	if err != nil || pom.Packaging != "maven-plugin" {
		return nil // a pom the server cannot read lists no plugin
	}
	prefix, name := f.descriptor(ctx, r, co)
	if prefix == "" {
		prefix = PluginPrefix(co.ArtifactID)
	}
	if name == "" {
		name = pom.Name
	}
	return f.updatePlugins(ctx, r, groupMetadataPath(co.GroupID), nil, func(ps []Plugin) []Plugin {
		return upsertPlugin(ps, Plugin{Name: name, Prefix: prefix, ArtifactID: co.ArtifactID})
	})
}

// descriptor reads the goal prefix and name from the plugin jar beside a
// pom, if it is stored and readable.
func (f *Format) descriptor(ctx context.Context, r repo.Repository, pom Coords) (prefix, name string) {
	jar := pom
	jar.Extension = "jar"
	c, err := r.Get(ctx, jar.Path())
	if err != nil {
		return "", ""
	}
	defer c.Body.Close()
	ra, ok := c.Body.(io.ReaderAt)
	if !ok {
		b, err := readBounded(c.Body, 64<<20, "plugin jar")
		if err != nil {
			return "", ""
		}
		ra = bytes.NewReader(b)
	}
	prefix, name, err = PluginDescriptor(ra, c.Asset.Size)
	if err != nil {
		f.log.Warn("plugin descriptor not read", "repository", r.Name(), "path", jar.Path(), "err", err)
	}
	return prefix, name
}

// dropPlugin removes an artifact with no version left from its groupId's
// plugins.
func (f *Format) dropPlugin(ctx context.Context, r repo.Repository, groupID, artifactID string) error {
	return f.updatePlugins(ctx, r, groupMetadataPath(groupID), nil, func(ps []Plugin) []Plugin {
		out := ps[:0:0]
		for _, p := range ps {
			if p.ArtifactID != artifactID {
				out = append(out, p)
			}
		}
		return out
	})
}

// mergePlugins takes a client's groupId-level metadata uploaded at p: its
// plugins join those listed there (the client's entry wins for its
// artifact), and the checksums of its bytes are kept (attrs). The upload's
// own path is where it goes: a folder name with a dot names no groupId.
func (f *Format) mergePlugins(ctx context.Context, r repo.Repository, p string, plugins []Plugin, attrs map[string]string) error {
	return f.updatePlugins(ctx, r, p, attrs, func(ps []Plugin) []Plugin {
		for _, p := range plugins {
			ps = upsertPlugin(ps, p)
		}
		return ps
	})
}

// updatePlugins rewrites the plugin list of the groupId-level metadata at
// p with change, under p's lock; an unchanged list is not rewritten unless
// attrs are to be kept, and an empty one deletes the file.
func (f *Format) updatePlugins(ctx context.Context, r repo.Repository, p string, attrs map[string]string, change func([]Plugin) []Plugin) error {
	unlock := f.artifacts.Lock(r.Name() + "\x00" + p)
	defer unlock()
	md, err := f.readMetadata(ctx, r, p)
	if err != nil && errs.KindOf(err) != errs.Invalid {
		return err
	}
	var before []Plugin
	if md != nil {
		before = md.Plugins
	}
	after := change(append([]Plugin(nil), before...))
	if attrs == nil && samePlugins(before, after) {
		return nil
	}
	if len(after) == 0 {
		if md == nil {
			return nil
		}
		return f.writeMetadata(ctx, r, p, nil, nil)
	}
	return f.writeMetadata(ctx, r, p, GroupLevel(after), attrs)
}

func upsertPlugin(ps []Plugin, p Plugin) []Plugin {
	for i := range ps {
		if ps[i].ArtifactID == p.ArtifactID {
			ps[i] = p
			return ps
		}
	}
	return append(ps, p)
}

func samePlugins(a, b []Plugin) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[Plugin]bool{}
	for _, p := range a {
		seen[p] = true
	}
	for _, p := range b {
		if !seen[p] {
			return false
		}
	}
	return true
}
