package cleanup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/formats/npm"
	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

var quiet = slog.New(slog.DiscardHandler)

// formatCase is what the tests need of a format: adding a format to cleanup
// is one more entry in formatCases.
type formatCase struct {
	format repo.Format
	// config is the JSON of a hosted repository named name.
	config func(name string) string
	// publish stores version of component name through the format's
	// protocol and returns the path of its main asset.
	publish func(t *testing.T, env *managertest.Env, r repo.Repository, name, version string) string
	// versions ascend in the format's version order, not in text order;
	// nil for a format without one.
	versions []string
	// prerelease is a version the format calls a prerelease, and release
	// one it does not ("" for a format without them).
	prerelease, release string
	// listed returns the versions of component name the format's metadata
	// lists (nil for a format without such metadata): it must follow what
	// a cleanup deletes.
	listed func(t *testing.T, r repo.Repository, name string) []string
}

var formatCases = []formatCase{
	{format: raw.New(quiet), config: hosted("raw", `"raw":{"contentDisposition":"ATTACHMENT"}`), publish: publishRaw},
	{format: maven.New(quiet, maven.Options{}), config: hosted("maven2", `"maven":{"versionPolicy":"MIXED","layoutPolicy":"STRICT"}`),
		publish: publishMaven, versions: []string{"1.2", "1.9", "1.10"}, prerelease: "2.0-SNAPSHOT", release: "2.0",
		listed: mavenListed},
	{format: npm.New(nil, quiet), config: hosted("npm", ""), publish: publishNPM,
		versions: []string{"1.2.0", "1.9.0", "1.10.0"}, prerelease: "2.0.0-beta.1", release: "2.0.0",
		listed: npmListed},
}

func hosted(format, section string) func(string) string {
	if section != "" {
		section = "," + section
	}
	return func(name string) string {
		return `{"name":"` + name + `","format":"` + format + `","type":"hosted","online":true,
			"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"}` + section + `}`
	}
}

func put(t *testing.T, env *managertest.Env, r repo.Repository, p string, body []byte, hdr map[string]string) {
	t.Helper()
	resp := env.Do(context.Background(), r, http.MethodPut, p, bytes.NewReader(body), hdr)
	if resp.Code != http.StatusCreated && resp.Code != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", p, resp.Code, resp.Body.String())
	}
}

func publishRaw(t *testing.T, env *managertest.Env, r repo.Repository, name, version string) string {
	p := name + "/" + version + "/" + name + ".txt"
	put(t, env, r, p, []byte("raw "+name+" "+version), nil)
	return p
}

func publishMaven(t *testing.T, env *managertest.Env, r repo.Repository, name, version string) string {
	dir := "org/example/" + name + "/" + version + "/"
	file := name + "-" + version
	if base, ok := strings.CutSuffix(version, "-SNAPSHOT"); ok {
		file = name + "-" + base + "-20260101.120000-1"
	}
	pom := `<project><modelVersion>4.0.0</modelVersion><groupId>org.example</groupId><artifactId>` + name +
		`</artifactId><version>` + version + `</version></project>`
	put(t, env, r, dir+file+".pom", []byte(pom), nil)
	put(t, env, r, dir+file+".jar", []byte("jar "+name+" "+version), nil)
	return dir + file + ".jar"
}

func publishNPM(t *testing.T, env *managertest.Env, r repo.Repository, name, version string) string {
	t.Helper()
	p := npmtest.Package{Name: name, Version: version}
	put(t, env, r, name, p.Body(), map[string]string{"Content-Type": "application/json"})
	return p.Path()
}

func read(t *testing.T, r repo.Repository, p string) []byte {
	t.Helper()
	c, err := r.Get(context.Background(), p)
	if err != nil {
		t.Fatalf("GET %s: %v", p, err)
	}
	defer c.Body.Close()
	b, err := io.ReadAll(c.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mavenListed(t *testing.T, r repo.Repository, name string) []string {
	var md struct {
		Versions []string `xml:"versioning>versions>version"`
	}
	if err := xml.Unmarshal(read(t, r, "org/example/"+name+"/maven-metadata.xml"), &md); err != nil {
		t.Fatal(err)
	}
	return md.Versions
}

func npmListed(t *testing.T, r repo.Repository, name string) []string {
	var doc struct {
		Versions map[string]json.RawMessage `json:"versions"`
	}
	if err := json.Unmarshal(read(t, r, name), &doc); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(doc.Versions))
}

// fixture is one format's manager with the cleanup service on a clock.
type fixture struct {
	t     *testing.T
	fc    formatCase
	env   *managertest.Env
	svc   *cleanup.Service
	clock *testclock.Clock
	r     repo.Repository
}

func newFixture(t *testing.T, fc formatCase) *fixture {
	t.Helper()
	env := managertest.New(t, nil, repo.Options{}, fc.format)
	svc := cleanup.New(env.Storage.DB, env.M, repotest.AllowAll{}, quiet)
	clock := testclock.New(time.Now())
	svc.Now = clock.Now
	return &fixture{t: t, fc: fc, env: env, svc: svc, clock: clock, r: env.Create(fc.config("c"))}
}

// age makes every asset of the component at path (written now) as old as
// d: written and created d ago (never downloaded, unless downloaded).
func (fx *fixture) age(p string, d time.Duration, downloaded bool) {
	fx.t.Helper()
	for _, a := range fx.componentAssets(p) {
		err := fx.env.Storage.DB.UpdateAsset(a.ID, func(a *meta.Asset) {
			t := fx.clock.Now().Add(-d)
			a.Created, a.LastModified = t, t
			if downloaded {
				a.LastDownloaded = t
			}
		})
		if err != nil {
			fx.t.Fatal(err)
		}
	}
}

func (fx *fixture) componentAssets(p string) []*meta.Asset {
	fx.t.Helper()
	a, err := fx.env.Storage.DB.AssetByPath(fx.r.Name(), p)
	if err != nil {
		fx.t.Fatalf("asset %s: %v", p, err)
	}
	c, err := fx.env.Storage.DB.Component(a.ComponentID)
	if err != nil {
		fx.t.Fatal(err)
	}
	as, err := fx.env.Storage.DB.ComponentAssets(c)
	if err != nil {
		fx.t.Fatal(err)
	}
	return as
}

// exists reports whether path is stored.
func (fx *fixture) exists(p string) bool {
	_, err := fx.r.Stat(context.Background(), p)
	if err != nil && errs.KindOf(err) != errs.NotFound {
		fx.t.Fatal(err)
	}
	return err == nil
}

// attach creates policy p and attaches it to the repository.
func (fx *fixture) attach(p cleanup.Policy) {
	fx.t.Helper()
	ctx := context.Background()
	if err := fx.svc.Create(ctx, p); err != nil {
		fx.t.Fatalf("Create policy: %v", err)
	}
	cfg := fx.r.Config()
	cfg.Cleanup = &repo.CleanupSettings{PolicyNames: append(namesOf(cfg), p.Name)}
	if err := fx.env.M.Update(ctx, cfg); err != nil {
		fx.t.Fatalf("attach policy: %v", err)
	}
	fx.r, _ = fx.env.M.Lookup(cfg.Name)
}

func namesOf(cfg repo.Config) []string {
	if cfg.Cleanup == nil {
		return nil
	}
	return cfg.Cleanup.PolicyNames
}

// preview lists what the policy would delete from the repository now:
// component name@version.
func (fx *fixture) preview(p cleanup.Policy) []string {
	fx.t.Helper()
	cands, err := fx.svc.Preview(context.Background(), p, fx.r.Name())
	if err != nil {
		fx.t.Fatalf("Preview: %v", err)
	}
	var out []string
	for _, c := range cands {
		out = append(out, c.Component.Name+"@"+c.Component.Version)
	}
	return out
}

func days(n int) *int { return &n }

func str(s string) *string { return &s }
