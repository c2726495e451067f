package maven

import (
	"net/http"

	"slices"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

const libDir = "org/example/team/lib"

// Deploys maintain the artifact's metadata; checksums are served for every
// file from the stored hashes, and uploaded ones are checked, not stored.
func TestHostedReleaseDeploys(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("releases", policyRelease, "allow_once")
	jar := fx.deploy(r, libDir, "lib", "1.0", "jar")

	md := fx.metadata(r, libDir+"/maven-metadata.xml")
	if md.GroupID != "org.example.team" || md.ArtifactID != "lib" || md.Versioning == nil ||
		!slices.Equal(md.Versioning.Versions, []string{"1.0"}) || md.Versioning.Release != "1.0" || md.Versioning.Latest != "1.0" {
		t.Fatalf("metadata after the first deploy: %+v %+v", md, md.Versioning)
	}
	jarPath := libDir + "/1.0/lib-1.0.jar"
	if got := fx.mustGet(r, jarPath+".sha1"); got != sha1Hex(jar) {
		t.Fatalf("sha1 = %q, want %q", got, sha1Hex(jar))
	}
	for _, alg := range []string{"md5", "sha256", "sha512"} {
		if got := fx.mustGet(r, jarPath+"."+alg); len(got) < 32 {
			t.Fatalf("%s = %q", alg, got)
		}
	}
	if code := fx.put(r, jarPath+".sha1", []byte(sha1Hex([]byte("other")))); code != http.StatusBadRequest {
		t.Fatalf("a wrong checksum upload: status %d, want 400", code)
	}
	if code := fx.put(r, jarPath+".sha1", []byte("not a checksum")); code != http.StatusBadRequest {
		t.Fatalf("a malformed checksum upload: status %d, want 400", code)
	}
	if _, err := r.Stat(t.Context(), jarPath+".sha1"); err == nil {
		t.Fatal("an uploaded checksum file was stored as content")
	}

	// allow_once: different bytes are refused, the same accepted again.
	if code := fx.put(r, jarPath, []byte("PK\x03\x04 other bytes")); code != http.StatusBadRequest {
		t.Fatalf("redeploying a release with other bytes: status %d, want 400", code)
	}
	if code := fx.put(r, jarPath, jar); code != http.StatusOK {
		t.Fatalf("redeploying the same bytes: status %d, want 200", code)
	}
	if got := fx.mustGet(r, jarPath); got != string(jar) {
		t.Fatalf("the jar changed: %q", got)
	}
	// A second version: the metadata is rewritable under allow_once.
	fx.deploy(r, libDir, "lib", "1.10", "jar")
	fx.deploy(r, libDir, "lib", "1.9", "jar")
	md = fx.metadata(r, libDir+"/maven-metadata.xml")
	if !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.9", "1.10"}) || md.Versioning.Release != "1.10" || md.Versioning.Latest != "1.10" {
		t.Fatalf("metadata after three deploys: %+v", md.Versioning)
	}
	// The metadata's checksums are those of its bytes.
	body := fx.mustGet(r, libDir+"/maven-metadata.xml")
	if got := fx.mustGet(r, libDir+"/maven-metadata.xml.sha1"); got != sha1Hex([]byte(body)) {
		t.Fatalf("metadata sha1 %q does not match its bytes (%s)", got, sha1Hex([]byte(body)))
	}
}

// What a repository refuses, it refuses with 400 and stores nothing.
func TestHostedPolicies(t *testing.T) {
	fx := newFixture(t)
	releases := fx.hosted("releases", policyRelease, "allow_once")
	repos := map[string]repo.Repository{
		"releases":  releases,
		"snapshots": fx.hosted("snapshots", policySnapshot, "allow"),
		"loose":     fx.hosted("loose", policyMixed, "allow", layoutPermissive),
	}
	for _, tc := range []struct {
		r    string
		path string
		want int
	}{
		{"releases", libDir + "/1.1-SNAPSHOT/lib-1.1-20261201.120000-1.jar", http.StatusBadRequest},
		{"snapshots", libDir + "/1.0/lib-1.0.jar", http.StatusBadRequest},
		{"releases", libDir + "/1.0/other-1.0.jar", http.StatusBadRequest},
		{"releases", "lib-1.0.jar", http.StatusBadRequest},
		{"releases", libDir + "/1.0/lib-1.0.jar", http.StatusCreated},
		{"snapshots", libDir + "/1.1-SNAPSHOT/lib-1.1-20261201.120000-1.jar", http.StatusCreated},
		{"loose", "any/where/file.bin", http.StatusCreated},
	} {
		if code := fx.put(repos[tc.r], tc.path, []byte("PK\x03\x04")); code != tc.want {
			t.Errorf("PUT %s/%s: status %d, want %d", tc.r, tc.path, code, tc.want)
		}
	}
	// Malformed metadata is refused and changes nothing.
	before := fx.mustGet(releases, libDir+"/maven-metadata.xml")
	for _, bad := range []string{"<metadata><versioning>", "not xml", `<!DOCTYPE x [<!ENTITY a "b">]><metadata/>`} {
		if code := fx.put(releases, libDir+"/maven-metadata.xml", []byte(bad)); code != http.StatusBadRequest {
			t.Errorf("malformed metadata %q: status %d, want 400", bad, code)
		}
	}
	if after := fx.mustGet(releases, libDir+"/maven-metadata.xml"); after != before {
		t.Errorf("a refused metadata upload changed the metadata")
	}
}

// Snapshots: each deploy is a timestamped build; the version's metadata
// names the newest, by build, whatever was uploaded last; a request by
// base version gets the newest build.
func TestHostedSnapshots(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("snapshots", policySnapshot, "allow")
	fx.deploy(r, libDir, "lib", "1.1-20261201.120000-1", "jar")
	second := fx.deploy(r, libDir, "lib", "1.1-20261201.130000-2", "jar")
	// A classifier of build 1, uploaded after build 2.
	fx.mustPut(r, libDir+"/1.1-SNAPSHOT/lib-1.1-20261201.120000-1-sources.jar", []byte("PK\x03\x04 sources 1"))

	md := fx.metadata(r, libDir+"/1.1-SNAPSHOT/maven-metadata.xml")
	v := md.Versioning
	if v == nil || v.Snapshot == nil || v.Snapshot.Timestamp != "20261201.130000" || v.Snapshot.BuildNumber != 2 {
		t.Fatalf("version metadata: %+v", v)
	}
	if got := fx.mustGet(r, libDir+"/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.jar"); got != string(second) {
		t.Fatalf("lib-1.1-SNAPSHOT.jar = %q, want the second build", got)
	}
	if got, _ := md.SnapshotFile("sources", "jar"); got != "1.1-20261201.120000-1" {
		t.Fatalf("sources resolve to %q, want build 1's", got)
	}
	art := fx.metadata(r, libDir+"/maven-metadata.xml")
	if !slices.Equal(art.Versioning.Versions, []string{"1.1-SNAPSHOT"}) || art.Versioning.Release != "" {
		t.Fatalf("artifact metadata: %+v", art.Versioning)
	}
	// Deleting build 2's files: build 1 is the newest again.
	for _, ext := range []string{".jar", ".pom"} {
		w := fx.Do(t.Context(), r, http.MethodDelete, libDir+"/1.1-SNAPSHOT/lib-1.1-20261201.130000-2"+ext, nil, nil)
		if w.Code != http.StatusNoContent {
			t.Fatalf("DELETE: %d", w.Code)
		}
	}
	if md := fx.metadata(r, libDir+"/1.1-SNAPSHOT/maven-metadata.xml"); md.Versioning.Snapshot.BuildNumber != 1 {
		t.Fatalf("after deleting build 2: %+v", md.Versioning.Snapshot)
	}
}

// Deleting every file of a version removes it from the metadata; deleting
// the last version removes the metadata.
func TestHostedDeleteUpdatesMetadata(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("releases", policyRelease, "allow")
	fx.deploy(r, libDir, "lib", "1.0", "jar")
	fx.deploy(r, libDir, "lib", "2.0", "jar")
	del := func(p string) {
		if w := fx.Do(t.Context(), r, http.MethodDelete, p, nil, nil); w.Code != http.StatusNoContent {
			t.Fatalf("DELETE %s: %d", p, w.Code)
		}
	}
	del(libDir + "/2.0/lib-2.0.jar")
	del(libDir + "/2.0/lib-2.0.pom")
	if md := fx.metadata(r, libDir+"/maven-metadata.xml"); !slices.Equal(md.Versioning.Versions, []string{"1.0"}) || md.Versioning.Latest != "1.0" {
		t.Fatalf("after deleting 2.0: %+v", md.Versioning)
	}
	del(libDir + "/1.0/lib-1.0.jar")
	del(libDir + "/1.0/lib-1.0.pom")
	if code, _ := fx.get(r, libDir+"/maven-metadata.xml"); code != http.StatusNotFound {
		t.Fatalf("metadata of an artifact with no version left: status %d, want 404", code)
	}
}

// A plugin's pom lists it, with its goal prefix, in its groupId's metadata.
func TestHostedPluginMetadata(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("releases", policyRelease, "allow_once")
	fx.deploy(r, "org/example/plugins/hello-maven-plugin", "hello-maven-plugin", "1.0", "maven-plugin")
	fx.deploy(r, "org/example/plugins/lib", "lib", "1.0", "jar")
	md := fx.metadata(r, "org/example/plugins/maven-metadata.xml")
	if len(md.Plugins) != 1 || md.Plugins[0].ArtifactID != "hello-maven-plugin" || md.Plugins[0].Prefix != "hello" {
		t.Fatalf("group metadata plugins: %+v", md.Plugins)
	}
	// The client's own group metadata (mvn deploy sends it) is merged.
	client := `<?xml version="1.0"?><metadata><plugins><plugin><name>Hi</name><prefix>hi</prefix><artifactId>hi-maven-plugin</artifactId></plugin></plugins></metadata>`
	fx.mustPut(r, "org/example/plugins/maven-metadata.xml", []byte(client))
	fx.mustPut(r, "org/example/plugins/maven-metadata.xml.sha1", []byte(sha1Hex([]byte(client))))
	md = fx.metadata(r, "org/example/plugins/maven-metadata.xml")
	var prefixes []string
	for _, p := range md.Plugins {
		prefixes = append(prefixes, p.Prefix)
	}
	if strings.Join(prefixes, ",") != "hello,hi" {
		t.Fatalf("plugins after the client's upload: %+v", md.Plugins)
	}
	// Uploaded where no groupId's folder is (a dot in a folder name, the
	// root), plugin metadata stays at the path it was sent to, whose
	// checksum the client sends next.
	loose := fx.hosted("loose", policyMixed, "allow", layoutPermissive)
	for _, p := range []string{"org.example/maven-metadata.xml", "maven-metadata.xml"} {
		fx.mustPut(loose, p, []byte(client))
		fx.mustPut(loose, p+".sha1", []byte(sha1Hex([]byte(client))))
		if md := fx.metadata(loose, p); len(md.Plugins) != 1 || md.Plugins[0].Prefix != "hi" {
			t.Fatalf("plugin metadata uploaded at %s: %+v", p, md.Plugins)
		}
	}
}

// Deleting a component through the REST API deletes its files and updates
// the metadata, as a delete through the layout does.
func TestDeleteComponentUpdatesMetadata(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("releases", policyRelease, "allow")
	fx.deploy(r, libDir, "lib", "1.0", "jar")
	fx.deploy(r, libDir, "lib", "2.0", "jar")
	a, err := r.Stat(t.Context(), libDir+"/2.0/lib-2.0.jar")
	if err != nil || a.ComponentID == "" {
		t.Fatalf("the jar belongs to no component: %v %+v", err, a)
	}
	comp, err := fx.Storage.DB.Component(a.ComponentID)
	if err != nil || comp.Group != "org.example.team" || comp.Name != "lib" || comp.Version != "2.0" {
		t.Fatalf("component %+v (%v), want the GAV", comp, err)
	}
	if err := fx.M.DeleteComponent(t.Context(), a.ComponentID); err != nil {
		t.Fatal(err)
	}
	if code, _ := fx.get(r, libDir+"/2.0/lib-2.0.pom"); code != http.StatusNotFound {
		t.Fatalf("the deleted component's pom: status %d", code)
	}
	if md := fx.metadata(r, libDir+"/maven-metadata.xml"); !slices.Equal(md.Versioning.Versions, []string{"1.0"}) {
		t.Fatalf("metadata after deleting 2.0: %+v", md.Versioning)
	}
}

// A deploy that adds no version leaves the artifact's metadata as it is
// (it is not rewritten for a new lastUpdated alone); one that adds a
// version rewrites it.
func TestMetadataRewrittenOnlyWhenItChanges(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("releases", policyRelease, "allow")
	fx.deploy(r, libDir, "lib", "1.0", "jar")
	stat := func() string {
		a, err := r.Stat(t.Context(), libDir+"/maven-metadata.xml")
		if err != nil {
			t.Fatal(err)
		}
		return a.Blob.String() + " " + a.LastModified.String()
	}
	before := stat()
	fx.mustPut(r, libDir+"/1.0/lib-1.0-sources.jar", []byte("PK\x03\x04 sources"))
	if after := stat(); after != before {
		t.Fatalf("a classifier of an existing version rewrote the metadata: %s, then %s", before, after)
	}
	fx.deploy(r, libDir, "lib", "2.0", "jar")
	if after := stat(); after == before {
		t.Fatal("a new version left the metadata unchanged")
	}
}

// Version-level metadata of a release (Maven writes none; other clients
// may) is kept as uploaded, so its checksum upload that follows matches.
func TestReleaseVersionMetadataIsKept(t *testing.T) {
	fx := newFixture(t)
	r := fx.hosted("releases", policyRelease, "allow")
	fx.deploy(r, libDir, "lib", "1.0", "jar")
	md := []byte(`<?xml version="1.0"?><metadata><groupId>org.example.team</groupId><artifactId>lib</artifactId><version>1.0</version></metadata>`)
	fx.mustPut(r, libDir+"/1.0/maven-metadata.xml", md)
	fx.mustPut(r, libDir+"/1.0/maven-metadata.xml.sha1", []byte(sha1Hex(md)))
	if got := fx.mustGet(r, libDir+"/1.0/maven-metadata.xml"); got != string(md) {
		t.Fatalf("release version metadata = %q", got)
	}
}
