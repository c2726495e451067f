package maven

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A group merges its members' metadata (right after any member changes),
// answers its checksums from the merged bytes, and serves artifacts from
// the first member that has them.
func TestGroupMergesMetadata(t *testing.T) {
	fx := newFixture(t)
	releases := fx.hosted("releases", policyRelease, "allow_once")
	snapshots := fx.hosted("snapshots", policySnapshot, "allow")
	g := fx.group("public", "releases", "snapshots")
	fx.deploy(releases, libDir, "lib", "1.0", "jar")
	fx.deploy(snapshots, libDir, "lib", "1.1-20261201.120000-1", "jar")

	md := fx.metadata(g, libDir+"/maven-metadata.xml")
	if !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1-SNAPSHOT"}) || md.Versioning.Release != "1.0" || md.Versioning.Latest != "1.1-SNAPSHOT" {
		t.Fatalf("merged metadata: %+v", md.Versioning)
	}
	fx.deploy(releases, libDir, "lib", "2.0", "jar")
	body := fx.mustGet(g, libDir+"/maven-metadata.xml")
	md, _ = ParseMetadata([]byte(body))
	if !slices.Equal(md.Versioning.Versions, []string{"1.0", "1.1-SNAPSHOT", "2.0"}) || md.Versioning.Release != "2.0" {
		t.Fatalf("merged metadata right after a deploy: %+v", md.Versioning)
	}
	if got := fx.mustGet(g, libDir+"/maven-metadata.xml.sha1"); got != sha1Hex([]byte(body)) {
		t.Fatalf("merged metadata's sha1 %q is not that of the merged bytes %s", got, sha1Hex([]byte(body)))
	}
	// Conditional requests against the stored merge.
	w := fx.Do(t.Context(), g, http.MethodGet, libDir+"/maven-metadata.xml", nil, nil)
	etag, modified := w.Header().Get("ETag"), w.Header().Get("Last-Modified")
	if etag == "" || modified == "" {
		t.Fatalf("merged metadata without ETag (%q) or Last-Modified (%q)", etag, modified)
	}
	if w := fx.Do(t.Context(), g, http.MethodGet, libDir+"/maven-metadata.xml", nil, map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match the ETag: status %d, want 304", w.Code)
	}
	// Artifacts: from the member that has them; snapshots by base version.
	if got := fx.mustGet(g, libDir+"/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.jar"); !strings.Contains(got, "1.1-20261201.120000-1") {
		t.Fatalf("snapshot through the group: %q", got)
	}
	if code := fx.put(g, libDir+"/3.0/lib-3.0.jar", []byte("PK")); code < 400 {
		t.Fatalf("a deploy to a group: status %d, want a refusal", code)
	}
}

// A proxy caches what it fetches, checks it against the upstream's .sha1,
// refuses an HTML page for a jar, and yields checksums the upstream lacks.
func TestProxy(t *testing.T) {
	jar := "PK\x03\x04 a jar from upstream"
	up := upstream(t, map[string]string{
		"org/up/a/1.0/a-1.0.jar":      jar,
		"org/up/a/1.0/a-1.0.jar.sha1": sha1Hex([]byte(jar)) + "  a-1.0.jar",
		"org/up/b/1.0/b-1.0.jar":      jar,
		"org/up/b/1.0/b-1.0.jar.sha1": sha1Hex([]byte("something else")),
		"org/up/c/1.0/c-1.0.jar":      "<!DOCTYPE html><html><body>Sign in to continue</body></html>",
		"org/up/d/1.0/d-1.0.jar":      jar, // no checksum files at all
		"org/up/a/maven-metadata.xml": `<metadata><groupId>org.up</groupId><artifactId>a</artifactId><versioning><versions><version>1.0</version></versions></versioning></metadata>`,
	})
	fx := newFixture(t)
	p := fx.proxy("central", up.URL+"/")
	cached := func(path string) bool {
		fx.M.Settle(t.Context())
		_, err := p.Stat(t.Context(), path)
		return err == nil
	}
	if got := fx.mustGet(p, "org/up/a/1.0/a-1.0.jar"); got != jar || !cached("org/up/a/1.0/a-1.0.jar") {
		t.Fatalf("proxied jar %q, cached %v", got, cached("org/up/a/1.0/a-1.0.jar"))
	}
	if code, _ := fx.get(p, "org/up/b/1.0/b-1.0.jar"); code == http.StatusOK || cached("org/up/b/1.0/b-1.0.jar") {
		t.Fatalf("a jar whose upstream checksum differs: status %d, cached %v", code, cached("org/up/b/1.0/b-1.0.jar"))
	}
	if code, body := fx.get(p, "org/up/c/1.0/c-1.0.jar"); code == http.StatusOK && strings.Contains(body, "html") || cached("org/up/c/1.0/c-1.0.jar") {
		t.Fatalf("an HTML page served as a jar: status %d, cached %v", code, cached("org/up/c/1.0/c-1.0.jar"))
	}
	for _, alg := range []string{"sha1", "md5", "sha256", "sha512"} {
		if code, sum := fx.get(p, "org/up/d/1.0/d-1.0.jar."+alg); code != http.StatusOK || len(sum) < 32 {
			t.Fatalf("%s of a jar the upstream has no checksums for: %d %q", alg, code, sum)
		}
	}
	if got := fx.mustGet(p, "org/up/d/1.0/d-1.0.jar.sha1"); got != sha1Hex([]byte(jar)) {
		t.Fatalf("sha1 %q, want %q", got, sha1Hex([]byte(jar)))
	}
	// Stopped upstream: the cache still serves.
	up.Close()
	if got := fx.mustGet(p, "org/up/a/1.0/a-1.0.jar"); got != jar {
		t.Fatalf("cached jar with the upstream down: %q", got)
	}
}

// Nexus's defaults for a repository created without a maven section, and
// the first start's repositories.
func TestValidateAndDefaults(t *testing.T) {
	fx := newFixture(t)
	r := fx.Create(`{"name":"plain","format":"maven2","type":"hosted","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":true}}`)
	if s := fx.f.settingsOf(r); s.VersionPolicy != policyRelease || s.LayoutPolicy != layoutStrict || s.ContentDisposition != "" {
		t.Fatalf("defaults (content disposition left out, served inline): %+v", s)
	}
	if err := fx.M.CreateDefaults(t.Context()); err != nil {
		t.Fatal(err)
	}
	g, ok := fx.M.Lookup("maven-public")
	if !ok {
		t.Fatal("no maven-public")
	}
	if got := g.Config().Group.MemberNames; !slices.Equal(got, []string{"maven-releases", "maven-snapshots"}) {
		t.Fatalf("maven-public members %v", got)
	}
	rel, _ := fx.M.Lookup("maven-releases")
	if s := fx.f.settingsOf(rel); s.VersionPolicy != policyRelease || rel.Config().Storage.WritePolicy != "allow_once" {
		t.Fatalf("maven-releases: %+v %s", s, rel.Config().Storage.WritePolicy)
	}
}
