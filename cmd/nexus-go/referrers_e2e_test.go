package main

// End-to-end tests of the referrers API through proxies and groups with
// the clients that use it: oras attaches and discovers, regctl lists. One
// upstream has the referrers API (a hosted nexus-go repository); CNCF
// Distribution, which has none, is the other, so oras keeps its
// signatures there in the referrers tag schema.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

const (
	refTypeSig  = "application/vnd.example.signature"
	refTypeSBOM = "application/vnd.example.sbom"
)

// orasCLI runs oras in a work directory of its own (it takes files by
// relative path) with its own registry configuration, against plain-HTTP
// registries.
type orasCLI struct {
	clientCmd
}

func newOras(t *testing.T) *orasCLI {
	t.Helper()
	dir := t.TempDir()
	return &orasCLI{clientCmd{name: "oras", bin: e2eTool(t, "NEXUS_GO_ORAS", "oras"), dir: dir, env: []string{"HOME=" + dir},
		extra: []string{"--plain-http", "--registry-config", filepath.Join(dir, "auth.json")}}}
}

// file writes a file for oras to push and returns its name.
func (o *orasCLI) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(o.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// push pushes an artifact of one file to ref with a fixed creation time,
// so the same push to two registries gives the same digest; it returns
// the digest.
func (o *orasCLI) push(t *testing.T, ref, file string, cred ...string) string {
	t.Helper()
	args := append([]string{"push", "--annotation", "org.opencontainers.image.created=2026-01-01T00:00:00Z", ref, file + ":text/plain"}, cred...)
	out := o.must(t, args...)
	return orasDigest(t, out)
}

// attach attaches an artifact of artifactType to subject and returns its digest.
func (o *orasCLI) attach(t *testing.T, subject, artifactType, file string, cred ...string) string {
	t.Helper()
	args := append([]string{"attach", "--artifact-type", artifactType, subject, file + ":text/plain"}, cred...)
	return orasDigest(t, o.must(t, args...))
}

// orasDigest is the digest on the "Digest: " line oras prints.
func orasDigest(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if d, ok := strings.CutPrefix(strings.TrimSpace(line), "Digest: "); ok {
			return d
		}
	}
	t.Fatalf("no digest in oras output:\n%s", out)
	return ""
}

// discover is `oras discover` of ref through the referrers API (never the
// tag schema, so the registry's own answer is what counts), optionally
// filtered; it returns the referrers' digests, sorted.
func (o *orasCLI) discover(t *testing.T, ref, artifactType string, cred ...string) []string {
	t.Helper()
	args := append([]string{"discover", "--distribution-spec", "v1.1-referrers-api", "--format", "json", "--depth", "1", ref}, cred...)
	if artifactType != "" {
		args = append(args, "--artifact-type", artifactType)
	}
	out := o.must(t, args...)
	var tree struct {
		Referrers []struct {
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"referrers"`
	}
	if err := json.Unmarshal([]byte(out), &tree); err != nil {
		t.Fatalf("oras discover %s: %v\n%s", ref, err, out)
	}
	digests := []string{}
	for _, r := range tree.Referrers {
		if artifactType != "" && r.ArtifactType != artifactType {
			t.Errorf("oras discover --artifact-type %s lists a %s", artifactType, r.ArtifactType)
		}
		digests = append(digests, r.Digest)
	}
	slices.Sort(digests)
	return digests
}

// regctlCLI runs regctl with a home (and so a configuration) of its own.
type regctlCLI struct{ clientCmd }

func newRegctl(t *testing.T) *regctlCLI {
	t.Helper()
	return &regctlCLI{clientCmd{name: "regctl", bin: e2eTool(t, "NEXUS_GO_REGCTL", "regctl"), env: []string{"HOME=" + t.TempDir()}}}
}

// list is `regctl artifact list` of ref at host (plain HTTP, as c),
// optionally filtered by artifact type; it returns the digests, sorted.
func (r *regctlCLI) list(t *testing.T, host, ref, artifactType string, c *creds) []string {
	t.Helper()
	hostOpt := "reg=" + host + ",tls=disabled"
	if c != nil {
		hostOpt += ",user=" + c.user + ",pass=" + c.pass
	}
	args := []string{"--host", hostOpt, "artifact", "list", host + "/" + ref, "--format", "{{json .}}"}
	if artifactType != "" {
		args = append(args, "--filter-artifact-type", artifactType)
	}
	out := r.must(t, args...)
	var list struct {
		Descriptors []struct {
			Digest string `json:"digest"`
		} `json:"descriptors"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("regctl artifact list %s: %v\n%s", ref, err, out)
	}
	digests := []string{}
	for _, d := range list.Descriptors {
		digests = append(digests, d.Digest)
	}
	slices.Sort(digests)
	return digests
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestReferrersThroughProxies attaches signatures with oras to an upstream
// with the referrers API and to one without, and lists them with oras and
// regctl through a proxy of each and a group of both.
func TestReferrersThroughProxies(t *testing.T) {
	oras, regctl := newOras(t), newRegctl(t)
	reg := startDistRegistry(t)
	front := newCountingUpstream(t, reg) // Distribution, which can be taken down
	s := startServer(t)
	admin := s.admin()
	cred := []string{"-u", admin.user, "-p", admin.pass}
	hostedPort, apiPort, tagPort, groupPort := testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t)
	createDockerHosted(s, "docker-up", hostedPort)
	adminAuth := fmt.Sprintf(`{"type":"username","username":%q,"password":%q}`, admin.user, admin.pass)
	// metadataMaxAge 0: every listing asks the upstream again, so what
	// changes upstream shows at once and a failing upstream is noticed.
	createDockerProxy(s, dockerProxyAgeJSON("docker-p-api", "http://127.0.0.1:"+strconv.Itoa(hostedPort)+"/", apiPort, 0, false, adminAuth))
	createDockerProxy(s, dockerProxyAgeJSON("docker-p-tags", front.url(), tagPort, 0, false, ""))
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/group", admin,
		dockerGroupJSON("docker-g", groupPort, "", "docker-p-api", "docker-p-tags"), nil)
	hosted := "127.0.0.1:" + strconv.Itoa(hostedPort)
	at := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

	// The same image in both upstreams; oras keeps the signatures of the
	// hosted repository in its referrers API, Distribution's in the tag
	// schema (sha256-<hex>).
	subject := oras.push(t, reg.host+"/team/app:1.0", oras.file(t, "app.txt", []byte("the application")))
	if d := oras.push(t, hosted+"/team/app:1.0", "app.txt", cred...); d != subject {
		t.Fatalf("the image has digest %s in the hosted repository, %s in Distribution", d, subject)
	}
	sigTags := oras.attach(t, reg.host+"/team/app:1.0", refTypeSig, oras.file(t, "sig-tags.txt", []byte("signed in distribution")))
	sbomTags := oras.attach(t, reg.host+"/team/app:1.0", refTypeSBOM, oras.file(t, "sbom.txt", []byte("bill of materials")))
	sigAPI := oras.attach(t, hosted+"/team/app:1.0", refTypeSig, oras.file(t, "sig-api.txt", []byte("signed in nexus")), cred...)
	schemaTag := "sha256-" + strings.TrimPrefix(subject, "sha256:")
	if status, _, _ := dpDo(t, http.MethodGet, reg.base+"/v2/team/app/manifests/"+schemaTag, nil, nil,
		map[string]string{"Accept": "application/vnd.oci.image.index.v1+json"}); status != http.StatusOK {
		t.Fatalf("oras kept no tag schema index %s in Distribution (%d): the upstream without the API is not exercised", schemaTag, status)
	}

	cases := []struct {
		repo          string
		port          int
		all, onlySigs []string
	}{
		{"docker-p-api", apiPort, []string{sigAPI}, []string{sigAPI}},
		{"docker-p-tags", tagPort, sorted(sigTags, sbomTags), []string{sigTags}},
		{"docker-g", groupPort, sorted(sigAPI, sigTags, sbomTags), sorted(sigAPI, sigTags)},
	}
	for _, c := range cases {
		ref := at(c.port) + "/team/app:1.0"
		if got := oras.discover(t, ref, "", cred...); !slices.Equal(got, c.all) {
			t.Errorf("oras discover through %s: %q, want %q", c.repo, got, c.all)
		}
		if got := oras.discover(t, ref, refTypeSig, cred...); !slices.Equal(got, c.onlySigs) {
			t.Errorf("oras discover --artifact-type through %s: %q, want %q", c.repo, got, c.onlySigs)
		}
		if got := regctl.list(t, at(c.port), "team/app:1.0", "", admin); !slices.Equal(got, c.all) {
			t.Errorf("regctl artifact list through %s: %q, want %q", c.repo, got, c.all)
		}
		if got := regctl.list(t, at(c.port), "team/app:1.0", refTypeSig, admin); !slices.Equal(got, c.onlySigs) {
			t.Errorf("regctl artifact list --filter-artifact-type through %s: %q, want %q", c.repo, got, c.onlySigs)
		}
	}
	// The answer for the upstream without the API is cached, and so is
	// the tag schema's index it was built from.
	for _, suffix := range []string{"/referrers/" + subject, "/manifests/" + schemaTag} {
		if !dpHasAsset(s, "docker-p-tags", suffix) {
			t.Errorf("docker-p-tags has cached no asset ending in %s", suffix)
		}
	}

	// An image without referrers, listed before anything is attached:
	// its empty answer is not remembered past the metadata's age.
	bare := oras.push(t, reg.host+"/team/app:2.0", oras.file(t, "app2.txt", []byte("another application")))
	bareRef := at(tagPort) + "/team/app@" + bare
	if got := oras.discover(t, bareRef, "", cred...); len(got) != 0 {
		t.Fatalf("referrers of an image without any: %q", got)
	}
	late := oras.attach(t, reg.host+"/team/app:2.0", refTypeSig, oras.file(t, "late.txt", []byte("signed later")))
	if got := oras.discover(t, bareRef, "", cred...); !slices.Equal(got, []string{late}) {
		t.Errorf("a signature attached later: %q, want %q", got, []string{late})
	}

	// Distribution goes down: what was listed is served from the cache;
	// a subject never listed is an error in the API's format, not an
	// empty list a verifier would take for "unsigned".
	front.setMode(upDown, "")
	before := front.total()
	if got := regctl.list(t, at(tagPort), "team/app@"+subject, "", admin); !slices.Equal(got, sorted(sigTags, sbomTags)) {
		t.Errorf("regctl artifact list with the upstream down: %q, want the cached %q", got, sorted(sigTags, sbomTags))
	}
	if front.total() == before {
		t.Errorf("the upstream was not asked (metadataMaxAge 0)")
	}
	never := "sha256:" + strings.Repeat("0", 64)
	status, hdr, body := dpDo(t, http.MethodGet, "http://"+at(tagPort)+"/v2/team/app/referrers/"+never, admin, nil, nil)
	var errBody struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(body, &errBody); status != http.StatusBadGateway || len(errBody.Errors) == 0 ||
		!strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("referrers never cached, upstream down: %d %s %s, want 502 with the error JSON", status, hdr.Get("Content-Type"), body)
	}
	// The group still lists the other member's referrers and the cached ones.
	if got := oras.discover(t, at(groupPort)+"/team/app:1.0", "", cred...); !slices.Equal(got, sorted(sigAPI, sigTags, sbomTags)) {
		t.Errorf("oras discover through the group with Distribution down: %q", got)
	}
}
