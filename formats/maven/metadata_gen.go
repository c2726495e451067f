package maven

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// isSnapshotVersion tells whether a version is a snapshot's base version.
func isSnapshotVersion(v string) bool { return strings.HasSuffix(v, snapshotSuffix) }

// highest is the highest of vs by CompareVersions ("" if none); of equal
// versions the first wins.
func highest(vs []string) string {
	best := ""
	for _, v := range vs {
		if v != "" && (best == "" || CompareVersions(v, best) > 0) {
			best = v
		}
	}
	return best
}

// highestRelease is the highest version of vs that is not a snapshot.
func highestRelease(vs []string) string {
	return highest(slices.DeleteFunc(slices.Clone(vs), isSnapshotVersion))
}

// sortedVersions is vs without duplicates (exact strings), sorted by
// CompareVersions; nil if vs has none.
func sortedVersions(vs []string) []string {
	var out []string
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	SortVersions(out)
	return out
}

// ArtifactLevel is the metadata of an artifact (groupId/artifactId/) that
// has versions stored (in any order, duplicates allowed): the versions
// sorted, latest the highest, release the highest non-snapshot ("" if
// none), lastUpdated updated.
func ArtifactLevel(groupID, artifactID string, versions []string, updated time.Time) *Metadata {
	vs := sortedVersions(versions)
	return &Metadata{
		ModelVersion: modelVersion,
		GroupID:      groupID,
		ArtifactID:   artifactID,
		Versioning: &Versioning{
			Latest:      highest(vs),
			Release:     highestRelease(vs),
			Versions:    vs,
			LastUpdated: FormatTime(updated),
		},
	}
}

// build identifies a snapshot build; builds order by timestamp, then
// build number.
type build struct {
	timestamp string // yyyyMMdd.HHmmss: its string order is its time order
	number    int
}

func (b build) compare(o build) int {
	return cmp.Or(strings.Compare(b.timestamp, o.timestamp), cmp.Compare(b.number, o.number))
}

// updated renders a build's timestamp as an updated value, yyyyMMddHHmmss.
func (b build) updated() string { return strings.Replace(b.timestamp, ".", "", 1) }

// fileKey is the (classifier, extension) of a snapshot file.
type fileKey struct{ classifier, extension string }

// SnapshotLevel is the metadata of snapshot version folder baseVersion from
// the coordinates of the files stored in it (checksums excluded).
//
// The snapshot is the newest build (by timestamp, then build number) of the
// timestamped files; files uploaded later for an older build (a classifier
// added afterwards) do not change that. Each (classifier, extension) gets
// one snapshotVersion: the newest build that has the pair, updated at that
// build's timestamp.
//
// Files stored without a timestamp (Maven 2's non-unique snapshots, or
// uploads by other tools) get a snapshotVersion whose value is baseVersion
// itself, updated at updated, unless a timestamped build has the same
// pair. If no file is timestamped there is no <snapshot> at all: Maven
// writes <localCopy> only in local repositories, and a resolver that finds
// neither a snapshot build nor a timestamped snapshotVersion asks for the
// plain "-SNAPSHOT" file name, which is the file stored.
func SnapshotLevel(groupID, artifactID, baseVersion string, files []Coords, updated time.Time) *Metadata {
	var newest build
	builds := map[fileKey]build{}
	plain := map[fileKey]bool{}
	for _, f := range files {
		k := fileKey{f.Classifier, f.Extension}
		if f.Timestamp == "" {
			plain[k] = true
			continue
		}
		b := build{f.Timestamp, f.BuildNumber}
		if old, ok := builds[k]; !ok || b.compare(old) > 0 {
			builds[k] = b
		}
		if b.compare(newest) > 0 {
			newest = b
		}
	}
	v := &Versioning{LastUpdated: FormatTime(updated)}
	prefix := strings.TrimSuffix(baseVersion, "SNAPSHOT")
	for k, b := range builds {
		v.SnapshotVersions = append(v.SnapshotVersions, SnapshotVersion{
			Classifier: k.classifier, Extension: k.extension,
			Value: prefix + b.timestamp + "-" + strconv.Itoa(b.number), Updated: b.updated(),
		})
	}
	for k := range plain {
		if _, ok := builds[k]; !ok {
			v.SnapshotVersions = append(v.SnapshotVersions, SnapshotVersion{
				Classifier: k.classifier, Extension: k.extension, Value: baseVersion, Updated: v.LastUpdated,
			})
		}
	}
	sortSnapshotVersions(v.SnapshotVersions)
	if newest.timestamp != "" {
		v.Snapshot = &Snapshot{Timestamp: newest.timestamp, BuildNumber: newest.number}
	}
	return &Metadata{ModelVersion: modelVersion, GroupID: groupID, ArtifactID: artifactID, Version: baseVersion, Versioning: v}
}

// sortSnapshotVersions orders snapshotVersions by classifier ("" first),
// then extension, so that generated metadata is deterministic.
func sortSnapshotVersions(svs []SnapshotVersion) {
	slices.SortFunc(svs, func(a, b SnapshotVersion) int {
		return cmp.Or(strings.Compare(a.Classifier, b.Classifier), strings.Compare(a.Extension, b.Extension))
	})
}

// GroupLevel is the metadata of a groupId folder: its plugins, one per
// artifactId (the first given wins), sorted by artifactId.
func GroupLevel(plugins []Plugin) *Metadata {
	return &Metadata{ModelVersion: modelVersion, Plugins: mergePlugins([][]Plugin{plugins})}
}

// mergePlugins is the union of lists by artifactId, the first entry of an
// artifactId winning, sorted by artifactId.
func mergePlugins(lists [][]Plugin) []Plugin {
	var out []Plugin
	seen := map[string]bool{}
	for _, l := range lists {
		for _, p := range l {
			if !seen[p.ArtifactID] {
				seen[p.ArtifactID] = true
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Plugin) int { return strings.Compare(a.ArtifactID, b.ArtifactID) })
	return out
}

// Merge merges the metadata of a group's members at one path (nil entries
// skipped; nil if none is left). Versions are united and sorted; latest is
// the highest of all latest and versions, release the highest
// non-snapshot release, lastUpdated the newest, snapshot the newest build;
// snapshotVersions keep, per (classifier, extension), the newest updated
// (then the highest value); plugins are united by artifactId (the first
// member's entry wins). groupId, artifactId and version come from the
// first member that has them.
func Merge(ms []*Metadata) *Metadata {
	var out *Metadata
	var vs []*Versioning
	var plugins [][]Plugin
	for _, m := range ms {
		if m == nil {
			continue
		}
		if out == nil {
			out = &Metadata{ModelVersion: modelVersion}
		}
		out.GroupID = cmp.Or(out.GroupID, m.GroupID)
		out.ArtifactID = cmp.Or(out.ArtifactID, m.ArtifactID)
		out.Version = cmp.Or(out.Version, m.Version)
		if m.Versioning != nil {
			vs = append(vs, m.Versioning)
		}
		plugins = append(plugins, m.Plugins)
	}
	if out == nil {
		return nil
	}
	out.Plugins = mergePlugins(plugins)
	out.Versioning = mergeVersioning(vs)
	return out
}

// mergeVersioning merges the versionings of Merge (nil if none).
func mergeVersioning(vs []*Versioning) *Versioning {
	if len(vs) == 0 {
		return nil
	}
	out := &Versioning{}
	var all, latest, releases []string
	svs := map[fileKey]SnapshotVersion{}
	for _, v := range vs {
		all = append(all, v.Versions...)
		latest = append(latest, v.Latest)
		releases = append(releases, v.Release)
		if v.LastUpdated > out.LastUpdated {
			out.LastUpdated = v.LastUpdated
		}
		out.Snapshot = newerSnapshot(out.Snapshot, v.Snapshot)
		for _, sv := range v.SnapshotVersions {
			k := fileKey{sv.Classifier, sv.Extension}
			if old, ok := svs[k]; !ok || newerSnapshotVersion(sv, old) {
				svs[k] = sv
			}
		}
	}
	out.Versions = sortedVersions(all)
	out.Latest = highest(append(latest, out.Versions...))
	out.Release = highestRelease(releases)
	for _, sv := range svs {
		out.SnapshotVersions = append(out.SnapshotVersions, sv)
	}
	sortSnapshotVersions(out.SnapshotVersions)
	return out
}

// newerSnapshot is the newer of two snapshots by (timestamp, build number);
// either may be nil; a returns on a tie.
func newerSnapshot(a, b *Snapshot) *Snapshot {
	switch {
	case b == nil:
		return a
	case a == nil:
		c := *b
		return &c
	}
	if (build{b.Timestamp, b.BuildNumber}).compare(build{a.Timestamp, a.BuildNumber}) > 0 {
		c := *b
		return &c
	}
	return a
}

// newerSnapshotVersion tells whether a is newer than b: a later updated,
// or the same and a higher value.
func newerSnapshotVersion(a, b SnapshotVersion) bool {
	if c := strings.Compare(a.Updated, b.Updated); c != 0 {
		return c > 0
	}
	return CompareVersions(a.Value, b.Value) > 0
}
