package maven

import (
	"testing"
	"time"
)

var genTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestArtifactLevel(t *testing.T) {
	tests := []struct {
		name     string
		versions []string
		want     *Versioning
	}{
		{"mixed", []string{"1.10", "1.9", "1.0-SNAPSHOT", "1.9", "2.0-SNAPSHOT", "1.0", "1.0-rc-1"},
			&Versioning{Latest: "2.0-SNAPSHOT", Release: "1.10",
				Versions:    []string{"1.0-rc-1", "1.0-SNAPSHOT", "1.0", "1.9", "1.10", "2.0-SNAPSHOT"},
				LastUpdated: "20261201120000"}},
		{"releases only", []string{"2.0", "10.0", "9.1"},
			&Versioning{Latest: "10.0", Release: "10.0", Versions: []string{"2.0", "9.1", "10.0"}, LastUpdated: "20261201120000"}},
		{"snapshots only", []string{"1.1-SNAPSHOT", "1.0-SNAPSHOT"},
			&Versioning{Latest: "1.1-SNAPSHOT", Versions: []string{"1.0-SNAPSHOT", "1.1-SNAPSHOT"}, LastUpdated: "20261201120000"}},
		{"none", nil, &Versioning{LastUpdated: "20261201120000"}},
	}
	for _, tt := range tests {
		got := ArtifactLevel("org.example", "lib", tt.versions, genTime)
		want := &Metadata{ModelVersion: "1.1.0", GroupID: "org.example", ArtifactID: "lib", Versioning: tt.want}
		if !equalMetadata(got, want) {
			t.Errorf("%s: ArtifactLevel = %s, want %s", tt.name, got.Marshal(), want.Marshal())
		}
	}
}

// snap is the coordinates of a file in snapshot folder 1.1-SNAPSHOT.
func snap(ts string, build int, classifier, ext string) Coords {
	c := Coords{GroupID: "org.example", ArtifactID: "lib", BaseVersion: "1.1-SNAPSHOT", Version: "1.1-SNAPSHOT",
		Classifier: classifier, Extension: ext, Timestamp: ts, BuildNumber: build}
	if ts != "" {
		c.Version = "1.1-" + ts + "-" + string(rune('0'+build))
	}
	return c
}

func TestSnapshotLevel(t *testing.T) {
	tests := []struct {
		name  string
		files []Coords
		want  *Versioning
	}{
		{"two builds and a late classifier for build 1", []Coords{
			snap("20261201.100000", 1, "", "jar"), snap("20261201.100000", 1, "", "pom"),
			snap("20261201.110000", 2, "", "jar"), snap("20261201.110000", 2, "", "pom"),
			snap("20261201.100000", 1, "sources", "jar"), // uploaded after build 2
			snap("20261201.100000", 1, "", "jar.asc"),
		}, &Versioning{
			Snapshot:    &Snapshot{Timestamp: "20261201.110000", BuildNumber: 2},
			LastUpdated: "20261201120000",
			SnapshotVersions: []SnapshotVersion{
				{Extension: "jar", Value: "1.1-20261201.110000-2", Updated: "20261201110000"},
				{Extension: "jar.asc", Value: "1.1-20261201.100000-1", Updated: "20261201100000"},
				{Extension: "pom", Value: "1.1-20261201.110000-2", Updated: "20261201110000"},
				{Classifier: "sources", Extension: "jar", Value: "1.1-20261201.100000-1", Updated: "20261201100000"},
			}}},
		{"same timestamp, higher build number wins", []Coords{
			snap("20261201.100000", 4, "", "jar"), snap("20261201.100000", 3, "", "jar"),
		}, &Versioning{
			Snapshot:    &Snapshot{Timestamp: "20261201.100000", BuildNumber: 4},
			LastUpdated: "20261201120000",
			SnapshotVersions: []SnapshotVersion{
				{Extension: "jar", Value: "1.1-20261201.100000-4", Updated: "20261201100000"},
			}}},
		{"non-unique snapshot: no <snapshot>, plain file names", []Coords{
			snap("", 0, "", "pom"), snap("", 0, "", "jar"), snap("", 0, "javadoc", "jar"),
		}, &Versioning{
			LastUpdated: "20261201120000",
			SnapshotVersions: []SnapshotVersion{
				{Extension: "jar", Value: "1.1-SNAPSHOT", Updated: "20261201120000"},
				{Extension: "pom", Value: "1.1-SNAPSHOT", Updated: "20261201120000"},
				{Classifier: "javadoc", Extension: "jar", Value: "1.1-SNAPSHOT", Updated: "20261201120000"},
			}}},
		{"plain file beside a timestamped build of the same pair", []Coords{
			snap("", 0, "", "jar"), snap("20261201.100000", 1, "", "jar"), snap("", 0, "tests", "jar"),
		}, &Versioning{
			Snapshot:    &Snapshot{Timestamp: "20261201.100000", BuildNumber: 1},
			LastUpdated: "20261201120000",
			SnapshotVersions: []SnapshotVersion{
				{Extension: "jar", Value: "1.1-20261201.100000-1", Updated: "20261201100000"},
				{Classifier: "tests", Extension: "jar", Value: "1.1-SNAPSHOT", Updated: "20261201120000"},
			}}},
		{"empty folder", nil, &Versioning{LastUpdated: "20261201120000"}},
	}
	for _, tt := range tests {
		got := SnapshotLevel("org.example", "lib", "1.1-SNAPSHOT", tt.files, genTime)
		want := &Metadata{ModelVersion: "1.1.0", GroupID: "org.example", ArtifactID: "lib", Version: "1.1-SNAPSHOT",
			Versioning: tt.want}
		if !equalMetadata(got, want) {
			t.Errorf("%s: SnapshotLevel =\n%s\nwant\n%s", tt.name, got.Marshal(), want.Marshal())
		}
	}
}

func TestGroupLevel(t *testing.T) {
	got := GroupLevel([]Plugin{
		{Name: "Zed", Prefix: "zed", ArtifactID: "zed-maven-plugin"},
		{Name: "Foo", Prefix: "foo", ArtifactID: "maven-foo-plugin"},
		{Name: "Foo again", Prefix: "foo2", ArtifactID: "maven-foo-plugin"},
		{Prefix: "bar", ArtifactID: "bar-maven-plugin"},
	})
	want := &Metadata{ModelVersion: "1.1.0", Plugins: []Plugin{
		{Prefix: "bar", ArtifactID: "bar-maven-plugin"},
		{Name: "Foo", Prefix: "foo", ArtifactID: "maven-foo-plugin"},
		{Name: "Zed", Prefix: "zed", ArtifactID: "zed-maven-plugin"},
	}}
	if !equalMetadata(got, want) {
		t.Errorf("GroupLevel =\n%s\nwant\n%s", got.Marshal(), want.Marshal())
	}
}

func TestMerge(t *testing.T) {
	releases := &Metadata{GroupID: "org.example", ArtifactID: "lib", Versioning: &Versioning{
		Latest: "1.1", Release: "1.1", Versions: []string{"1.0", "1.1"}, LastUpdated: "20261101000000"}}
	more := &Metadata{GroupID: "org.example", ArtifactID: "lib", Versioning: &Versioning{
		Latest: "1.10", Release: "1.10", Versions: []string{"1.1", "1.9", "1.10"}, LastUpdated: "20261201000000"}}
	snapshots := &Metadata{GroupID: "org.example", ArtifactID: "lib", Versioning: &Versioning{
		Latest: "2.0-SNAPSHOT", Versions: []string{"1.2-SNAPSHOT", "2.0-SNAPSHOT"}, LastUpdated: "20261115000000"}}
	// A member whose latest is missing from its versions (stale metadata).
	stale := &Metadata{ArtifactID: "lib", Versioning: &Versioning{Latest: "3.0", Versions: []string{"0.9"}}}
	build1 := &Metadata{GroupID: "org.example", ArtifactID: "lib", Version: "1.2-SNAPSHOT", Versioning: &Versioning{
		Snapshot:    &Snapshot{Timestamp: "20261201.100000", BuildNumber: 1},
		LastUpdated: "20261201100000",
		SnapshotVersions: []SnapshotVersion{
			{Extension: "pom", Value: "1.2-20261201.100000-1", Updated: "20261201100000"},
			{Extension: "jar", Value: "1.2-20261201.100000-1", Updated: "20261201100000"},
			{Classifier: "sources", Extension: "jar", Value: "1.2-20261201.100000-1", Updated: "20261201100000"},
		}}}
	build2 := &Metadata{GroupID: "org.example", ArtifactID: "lib", Version: "1.2-SNAPSHOT", Versioning: &Versioning{
		Snapshot:    &Snapshot{Timestamp: "20261202.100000", BuildNumber: 2},
		LastUpdated: "20261202100000",
		SnapshotVersions: []SnapshotVersion{
			{Extension: "jar", Value: "1.2-20261202.100000-2", Updated: "20261202100000"},
			{Extension: "pom", Value: "1.2-20261202.100000-2", Updated: "20261202100000"},
		}}}
	pluginsA := &Metadata{Plugins: []Plugin{{Name: "A", Prefix: "foo", ArtifactID: "maven-foo-plugin"},
		{Prefix: "zed", ArtifactID: "zed-maven-plugin"}}}
	pluginsB := &Metadata{Plugins: []Plugin{{Name: "B", Prefix: "foo", ArtifactID: "maven-foo-plugin"},
		{Prefix: "bar", ArtifactID: "bar-maven-plugin"}}}

	tests := []struct {
		name string
		ms   []*Metadata
		want *Metadata
	}{
		{"none", nil, nil},
		{"only nil", []*Metadata{nil, nil}, nil},
		{"one", []*Metadata{nil, releases}, &Metadata{ModelVersion: "1.1.0", GroupID: "org.example", ArtifactID: "lib",
			Versioning: &Versioning{Latest: "1.1", Release: "1.1", Versions: []string{"1.0", "1.1"}, LastUpdated: "20261101000000"}}},
		{"overlapping", []*Metadata{releases, more}, &Metadata{ModelVersion: "1.1.0", GroupID: "org.example",
			ArtifactID: "lib", Versioning: &Versioning{Latest: "1.10", Release: "1.10",
				Versions: []string{"1.0", "1.1", "1.9", "1.10"}, LastUpdated: "20261201000000"}}},
		{"a member with only snapshots", []*Metadata{snapshots, releases}, &Metadata{ModelVersion: "1.1.0",
			GroupID: "org.example", ArtifactID: "lib", Versioning: &Versioning{Latest: "2.0-SNAPSHOT", Release: "1.1",
				Versions: []string{"1.0", "1.1", "1.2-SNAPSHOT", "2.0-SNAPSHOT"}, LastUpdated: "20261115000000"}}},
		{"disjoint, latest from a stale member", []*Metadata{stale, more}, &Metadata{ModelVersion: "1.1.0",
			GroupID: "org.example", ArtifactID: "lib", Versioning: &Versioning{Latest: "3.0", Release: "1.10",
				Versions: []string{"0.9", "1.1", "1.9", "1.10"}, LastUpdated: "20261201000000"}}},
		{"snapshot builds", []*Metadata{build1, build2}, &Metadata{ModelVersion: "1.1.0", GroupID: "org.example",
			ArtifactID: "lib", Version: "1.2-SNAPSHOT", Versioning: &Versioning{
				Snapshot:    &Snapshot{Timestamp: "20261202.100000", BuildNumber: 2},
				LastUpdated: "20261202100000",
				SnapshotVersions: []SnapshotVersion{
					{Extension: "jar", Value: "1.2-20261202.100000-2", Updated: "20261202100000"},
					{Extension: "pom", Value: "1.2-20261202.100000-2", Updated: "20261202100000"},
					{Classifier: "sources", Extension: "jar", Value: "1.2-20261201.100000-1", Updated: "20261201100000"},
				}}}},
		{"plugins", []*Metadata{pluginsA, nil, pluginsB}, &Metadata{ModelVersion: "1.1.0", Plugins: []Plugin{
			{Prefix: "bar", ArtifactID: "bar-maven-plugin"},
			{Name: "A", Prefix: "foo", ArtifactID: "maven-foo-plugin"},
			{Prefix: "zed", ArtifactID: "zed-maven-plugin"},
		}}},
	}
	for _, tt := range tests {
		got := Merge(tt.ms)
		if !equalMetadata(got, tt.want) {
			t.Errorf("%s: Merge = %+v, want %+v", tt.name, got, tt.want)
			if got != nil && tt.want != nil {
				t.Logf("got\n%s\nwant\n%s", got.Marshal(), tt.want.Marshal())
			}
		}
	}
	// The newer build wins in either member order, and merging leaves the
	// members as they were.
	if got := Merge([]*Metadata{build2, build1}); got.Versioning.Snapshot.BuildNumber != 2 {
		t.Errorf("Merge(build2, build1) snapshot = %+v", got.Versioning.Snapshot)
	}
	if build1.Versioning.Snapshot.BuildNumber != 1 || len(build1.Versioning.SnapshotVersions) != 3 {
		t.Errorf("Merge changed a member: %+v", build1.Versioning)
	}
}

// TestMergeSameUpdated keeps, of two snapshotVersions updated at the same
// time, the higher value.
func TestMergeSameUpdated(t *testing.T) {
	a := &Metadata{Versioning: &Versioning{SnapshotVersions: []SnapshotVersion{
		{Extension: "jar", Value: "1.2-20261201.100000-3", Updated: "20261201100000"}}}}
	b := &Metadata{Versioning: &Versioning{SnapshotVersions: []SnapshotVersion{
		{Extension: "jar", Value: "1.2-20261201.100000-10", Updated: "20261201100000"}}}}
	for _, ms := range [][]*Metadata{{a, b}, {b, a}} {
		if got := Merge(ms).Versioning.SnapshotVersions[0].Value; got != "1.2-20261201.100000-10" {
			t.Errorf("Merge kept %q", got)
		}
	}
}
