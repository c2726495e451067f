package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// put stores a raw file as its uploader would.
func (e *env) put(repoName, path, body string) {
	e.t.Helper()
	r, ok := e.repos.Lookup(repoName)
	if !ok {
		e.t.Fatalf("no repository %s", repoName)
	}
	comp := r.Format().Component(path)
	if _, err := r.Put(e.system(), path, strings.NewReader(body), repo.PutOptions{Size: int64(len(body)), ContentType: "text/plain", Component: comp}); err != nil {
		e.t.Fatal(err)
	}
}

var nextRE = regexp.MustCompile(`<a id="next-page" class="btn" href="\?([^"]*)"`)

func TestBrowseAndAsset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	e.put("raw-h", "docs/hello.txt", "hello, nexus-go\n")
	e.put("raw-h", "top.txt", "top")
	b := e.admin()
	root := b.get("/ui/browse/raw-h/")
	if root.status != http.StatusOK {
		t.Fatalf("browse root: %d", root.status)
	}
	root.has(t, `class="entry" data-name="docs" href="/ui/browse/raw-h/docs/"`)
	root.has(t, `class="entry" data-name="top.txt" href="/ui/asset/raw-h/top.txt"`)
	b.get("/ui/browse/raw-h/docs/").has(t, `class="entry" data-name="hello.txt" href="/ui/asset/raw-h/docs/hello.txt"`)
	if p := b.get("/ui/browse/raw-h/nothing-here/"); p.status != http.StatusNotFound {
		t.Errorf("a missing folder: %d", p.status)
	}

	asset := b.get("/ui/asset/raw-h/docs/hello.txt")
	for _, want := range []string{`id="asset-size">16 B`, `id="asset-content-type">text/plain`, `id="asset-sha1"`, `id="asset-sha256"`,
		`id="asset-md5"`, `id="asset-sha512"`, `id="asset-uploader"`, `id="asset-last-modified"`, `id="asset-last-downloaded">never`,
		`id="download" class="btn primary" href="/ui/download/raw-h/docs/hello.txt"`, `id="delete-asset"`} {
		asset.has(t, want)
	}
	// The session downloads through the UI (it opens no /repository/ route).
	if dl := b.get("/ui/download/raw-h/docs/hello.txt"); dl.status != http.StatusOK || dl.body != "hello, nexus-go\n" ||
		!strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download: %d %q %v", dl.status, dl.body, dl.header)
	}
	if dl := e.browser().get("/ui/download/raw-h/docs/hello.txt"); dl.status == http.StatusOK {
		t.Error("downloaded without a session")
	}
	confirm := b.get("/ui/asset/raw-h/docs/hello.txt?delete=")
	confirm.has(t, `id="confirm-delete"`)
	if p := b.post("/ui/asset/raw-h/docs/hello.txt", "/ui/asset/raw-h/docs/hello.txt", url.Values{}); p.status != http.StatusSeeOther || p.location() != "/ui/browse/raw-h/docs/" {
		t.Fatalf("delete: %d %s", p.status, p.location())
	}
	r, _ := e.repos.Lookup("raw-h")
	if _, err := r.Stat(e.system(), "docs/hello.txt"); err == nil {
		t.Error("the asset is still there")
	}

	// A reader who may browse but not delete: no control, and the POST refused.
	e.createUser("reader", "reader-pw", "nx-repository-view-*-*-read", "nx-repository-view-*-*-browse", "nx-search-read")
	rb := e.browser()
	rb.signIn("reader", "reader-pw")
	ra := rb.get("/ui/asset/raw-h/top.txt")
	ra.has(t, `id="asset-size"`)
	ra.lacks(t, `id="delete-asset"`)
	if p := rb.post("/ui/asset/raw-h/top.txt", "/ui/asset/raw-h/top.txt", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("the reader's delete: %d, want 403", p.status)
	}
	if _, err := r.Stat(e.system(), "top.txt"); err != nil {
		t.Error("the reader deleted an asset")
	}
}

// A folder is shown a page at a time, the next page after the last entry.
func TestBrowsePages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	const n = pageSize + 20
	for i := range n {
		e.put("raw-h", fmt.Sprintf("many/f%03d.txt", i), "x")
	}
	b := e.admin()
	seen := map[string]bool{}
	path := "/ui/browse/raw-h/many/"
	for pages := 0; ; pages++ {
		p := b.get(path)
		// Past the first page, a link leads back to it.
		if got := strings.Contains(p.body, `<a id="first-page" class="btn" href="?">`); got != (pages > 0) {
			t.Errorf("page %d links the first page: %t", pages+1, got)
		}
		for _, m := range regexp.MustCompile(`class="entry" data-name="([^"]*)"`).FindAllStringSubmatch(p.body, -1) {
			if seen[m[1]] {
				t.Errorf("%s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		m := nextRE.FindStringSubmatch(p.body)
		if m == nil {
			if pages != 1 {
				t.Errorf("%d pages after the first, want 1", pages)
			}
			break
		}
		path = "/ui/browse/raw-h/many/?" + strings.ReplaceAll(m[1], "&amp;", "&")
	}
	if len(seen) != n {
		t.Errorf("%d entries shown, want %d", len(seen), n)
	}
}

func TestComponentsAndSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	e.put("raw-h", "apps/tool-1.0.tgz", "one")
	e.put("raw-h", "apps/tool-2.0.tgz", "two")
	e.put("raw-h", "other.txt", "o")
	b := e.admin()
	list := b.get("/ui/components/raw-h")
	list.has(t, `class="component" data-name="apps/tool-1.0.tgz"`)
	list.has(t, `class="component" data-name="other.txt"`)
	link := regexp.MustCompile(`href="(/ui/component/raw-h/[^"]+)">apps/tool-1.0.tgz<`).FindStringSubmatch(list.body)
	if link == nil {
		t.Fatalf("no link to the component:\n%s", list.body)
	}
	comp := b.get(link[1])
	comp.has(t, `class="asset" data-path="apps/tool-1.0.tgz"`)
	// Listing components needs browse, as REST's does, not search.
	e.createUser("browser", "browser-pw", "nx-repository-view-raw-raw-h-browse")
	viewer := e.browser()
	viewer.signIn("browser", "browser-pw")
	viewer.get("/ui/components/raw-h").has(t, `class="component" data-name="other.txt"`)
	if p := viewer.get("/ui/search?name=apps/tool*"); p.status != http.StatusForbidden {
		t.Errorf("search without nx-search-read: %d, want 403", p.status)
	}
	e.createRepo(`{"name":"raw-g","format":"raw","type":"group","online":true,"storage":{"blobStoreName":"default"},"group":{"memberNames":["raw-h"]}}`)
	b.get("/ui/components/raw-g").has(t, `<a href="/ui/components/raw-h">raw-h</a>`)
	comp.has(t, `data-snippet="use" tabindex="0">curl -u &#34;$NEXUS_USER:$NEXUS_PASSWORD&#34; -O `+e.srv.URL+`/repository/raw-h/apps/tool-1.0.tgz</pre>`)

	s := b.get("/ui/search?name=apps/tool*")
	s.has(t, `id="search-form"`)
	if got := strings.Count(s.body, `class="result"`); got != 2 {
		t.Errorf("search name=apps/tool*: %d results, want 2:\n%s", got, s.body)
	}
	s.lacks(t, `data-name="other.txt"`)
	if got := strings.Count(b.get("/ui/search?format=raw&version=").body, `class="result"`); got != 3 {
		t.Errorf("search format=raw: %d results, want 3", got)
	}
	if p := b.get("/ui/search?format=raw&maven.groupId=org.example"); p.status != http.StatusBadRequest {
		t.Errorf("a Maven term with format raw: %d, want 400", p.status)
	} else {
		p.has(t, `class="alert"`)
	}
	// A page of search results links to the next.
	for i := range pageSize + 5 {
		e.put("raw-h", fmt.Sprintf("bulk/b%03d", i), "b")
	}
	first := b.get("/ui/search?name=bulk/*")
	m := nextRE.FindStringSubmatch(first.body)
	if m == nil {
		t.Fatal("no next page")
	}
	second := b.get("/ui/search?" + strings.ReplaceAll(m[1], "&amp;", "&"))
	first.lacks(t, `id="first-page"`)
	second.has(t, `<a id="first-page" class="btn" href="?name=bulk%2F%2A">`)
	if got := strings.Count(first.body, `class="result"`) + strings.Count(second.body, `class="result"`); got != pageSize+5 {
		t.Errorf("two pages hold %d results, want %d", got, pageSize+5)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	e.createRepo(`{"name":"raw-g","format":"raw","type":"group","online":true,"storage":{"blobStoreName":"default"},"group":{"memberNames":["raw-h"]}}`)
	e.put("raw-h", "a.txt", "12345")
	e.put("raw-h", "b.txt", "123")
	b := e.admin()
	d := b.get("/")
	row := regexp.MustCompile(`(?s)<tr data-repository="raw-h">.*?</tr>`).FindString(d.body)
	for _, want := range []string{`class="format">raw<`, `class="type">hosted<`, `badge ok">online`, `class="num size">8 B<`, `class="num components">2<`} {
		if !strings.Contains(row, want) {
			t.Errorf("raw-h row lacks %s: %s", want, row)
		}
	}
	d.has(t, `<tr data-repository="raw-g">`)
	d.has(t, `id="blobstores"`)
	d.has(t, `<tr data-blobstore="default">`)
	d.has(t, `id="health"`)
	d.has(t, `class="version">test<`)
}

// A proxy's status tells whether its upstream is blocked, and why.
func TestProxyStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-p","format":"raw","type":"proxy","online":true,"storage":{"blobStoreName":"default"},"proxy":{"remoteUrl":"http://upstream.example/","contentMaxAge":1,"metadataMaxAge":1}}`)
	e.createRepo(`{"name":"raw-b","format":"raw","type":"proxy","online":true,"storage":{"blobStoreName":"default"},"proxy":{"remoteUrl":"http://upstream.example/","contentMaxAge":1,"metadataMaxAge":1},"httpClient":{"blocked":true,"autoBlock":true}}`)
	d := e.admin().get("/")
	if row := regexp.MustCompile(`(?s)<tr data-repository="raw-p">.*?</tr>`).FindString(d.body); !strings.Contains(row, "online, upstream ok") {
		t.Errorf("raw-p: %s", row)
	}
	if row := regexp.MustCompile(`(?s)<tr data-repository="raw-b">.*?</tr>`).FindString(d.body); !strings.Contains(row, `badge warn">upstream blocked`) {
		t.Errorf("raw-b: %s", row)
	}
	// Online but unable to fetch: the reason shows.
	e.createRepo(`{"name":"raw-n","format":"raw","type":"proxy","online":true,"storage":{"blobStoreName":"default"},"proxy":{"remoteUrl":"http://upstream.example/","contentMaxAge":1,"metadataMaxAge":1},"httpClient":{"authentication":{"type":"ntlm","username":"u","ntlmHost":"h","ntlmDomain":"d"}}}`)
	d = e.admin().get("/")
	if row := regexp.MustCompile(`(?s)<tr data-repository="raw-n">.*?</tr>`).FindString(d.body); !strings.Contains(row, `badge warn">online: `) || !strings.Contains(row, "NTLM") {
		t.Errorf("raw-n: %s", row)
	}
}

// A component's Versions are those of its group and name, however many
// other groups share the name (a Maven artifactId such as "core").
func TestComponentVersionsOfItsGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"maven-h","format":"maven2","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"},"maven":{"versionPolicy":"MIXED"}}`)
	for i := range pageSize + 20 {
		e.put("maven-h", fmt.Sprintf("org/g%03d/core/1.0/core-1.0.jar", i), "jar")
	}
	for _, v := range []string{"1.0", "2.0", "3.0"} {
		e.put("maven-h", "zz/target/core/"+v+"/core-"+v+".jar", "jar "+v)
	}
	b := e.admin()
	list := b.get("/ui/search?repository=maven-h&group=zz.target&name=core")
	link := regexp.MustCompile(`href="(/ui/component/maven-h/[^"]+)"`).FindStringSubmatch(list.body)
	if link == nil {
		t.Fatalf("no link to a zz.target component:\n%s", list.body)
	}
	p := b.get(link[1])
	versions := regexp.MustCompile(`(?s)<ul class="versions">(.*?)</ul>`).FindStringSubmatch(p.body)
	if versions == nil {
		t.Fatalf("no versions on the component page:\n%s", p.body)
	}
	got := regexp.MustCompile(`>([^<]+)</a></li>`).FindAllStringSubmatch(versions[1], -1)
	var vs []string
	for _, m := range got {
		vs = append(vs, m[1])
	}
	if strings.Join(vs, " ") != "1.0 2.0 3.0" {
		t.Errorf("versions of zz.target:core = %q, want 1.0 2.0 3.0", vs)
	}
}

// A user whose only content privilege is a content selector sees, opens
// and downloads in the UI only what the selector selects.
func TestBrowseWithContentSelector(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRepo(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	e.put("raw-h", "team/a.txt", "team's")
	e.put("raw-h", "other/b.txt", "other's")
	if err := e.auth.CreateContentSelector(e.system(), &meta.ContentSelector{Name: "team", Expression: `path =^ "/team/"`}); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.CreatePrivilege(e.system(), &meta.Privilege{Name: "team-read", Type: auth.TypeContentSelector,
		Format: "raw", Repository: "raw-h", ContentSelector: "team", Actions: []string{"BROWSE", "READ"}}); err != nil {
		t.Fatal(err)
	}
	e.createUser("teamer", "teamer-pw", "team-read")
	b := e.browser()
	b.signIn("teamer", "teamer-pw")
	root := b.get("/ui/browse/raw-h/")
	if root.status != http.StatusOK {
		t.Fatalf("browse root: %d", root.status)
	}
	root.has(t, `data-name="team"`)
	root.lacks(t, `data-name="other"`)
	if p := b.get("/ui/browse/raw-h/other/"); p.status == http.StatusOK && strings.Contains(p.body, "b.txt") {
		t.Error("the other folder's listing shows b.txt")
	}
	b.get("/ui/asset/raw-h/team/a.txt").lacks(t, `id="delete-asset"`)
	if p := b.get("/ui/asset/raw-h/other/b.txt"); p.status != http.StatusNotFound {
		t.Errorf("the other asset's page: %d, want 404", p.status)
	}
	if dl := b.get("/ui/download/raw-h/team/a.txt"); dl.status != http.StatusOK || dl.body != "team's" {
		t.Errorf("download in the team area: %d %q", dl.status, dl.body)
	}
	if dl := b.get("/ui/download/raw-h/other/b.txt"); dl.status == http.StatusOK {
		t.Error("downloaded outside the team area")
	}
}
