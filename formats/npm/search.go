package npm

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Search bounds: npm's registry takes size up to 250, default 20.
const (
	defaultSearchSize = 20
	maxSearchSize     = 250
	maxSearchAnswer   = 16 << 20
)

// searchResult is one object of npm's search answer.
type searchResult struct {
	Package     searchPackage   `json:"package"`
	Score       json.RawMessage `json:"score"`
	SearchScore float64         `json:"searchScore"`
}

type searchPackage struct {
	Name        string            `json:"name"`
	Scope       string            `json:"scope,omitempty"`
	Version     string            `json:"version,omitempty"`
	Description string            `json:"description,omitempty"`
	Keywords    json.RawMessage   `json:"keywords,omitempty"`
	Date        string            `json:"date,omitempty"`
	Links       map[string]string `json:"links"`
	Publisher   *searchUser       `json:"publisher,omitempty"`
	Maintainers []searchUser      `json:"maintainers"`
}

type searchUser struct {
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
}

type searchAnswer struct {
	Objects []json.RawMessage `json:"objects"`
	Total   int               `json:"total"`
	Time    string            `json:"time"`
}

// search handles npm search: a hosted repository matches its packuments,
// a proxy asks its upstream, a group merges its members' answers, hosted
// members first, each name once.
func (f *Format) search(w http.ResponseWriter, req *http.Request, r repo.Repository) error {
	q := req.URL.Query()
	size, _ := strconv.Atoi(q.Get("size"))
	if size <= 0 {
		size = defaultSearchSize
	}
	size = min(size, maxSearchSize)
	from, _ := strconv.Atoi(q.Get("from"))
	from = max(from, 0)
	ctx := req.Context()
	objects, err := f.searchIn(ctx, r, q.Get("text"), from+size)
	if err != nil {
		return err
	}
	if r.Authorize(ctx, "read") != nil {
		// Only packages the caller may read (content selector grants).
		objects = slices.DeleteFunc(objects, func(o json.RawMessage) bool {
			return r.AuthorizePath(ctx, "read", searchedName(o)) != nil
		})
	}
	total := len(objects)
	objects = objects[min(from, len(objects)):]
	objects = objects[:min(size, len(objects))]
	writeJSON(w, req, http.StatusOK, searchAnswer{Objects: objects, Total: total, Time: time.Now().UTC().Format(time.RFC1123)})
	return nil
}

// searchIn returns up to n answers of r for text.
func (f *Format) searchIn(ctx context.Context, r repo.Repository, text string, n int) ([]json.RawMessage, error) {
	switch r.Config().Type {
	case repo.Hosted:
		return f.searchHosted(ctx, r, text, n)
	case repo.Proxy:
		return f.searchUpstream(ctx, r, text, n)
	}
	gm, ok := r.(repo.GroupMembers)
	if !ok {
		return nil, nil
	}
	members := gm.Members()
	ordered := make([]repo.Repository, 0, len(members))
	for _, m := range members {
		if m.Config().Type == repo.Hosted {
			ordered = append(ordered, m)
		}
	}
	for _, m := range members {
		if m.Config().Type != repo.Hosted {
			ordered = append(ordered, m)
		}
	}
	var out []json.RawMessage
	seen := map[string]bool{}
	for _, m := range ordered {
		objs, err := f.searchIn(ctx, m, text, n)
		if err != nil {
			f.log.Warn("group member search failed", "group", r.Name(), "member", m.Name(), "err", err)
			continue
		}
		for _, o := range objs {
			name := searchedName(o)
			if name == "" || seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, o)
		}
	}
	return out, nil
}

// searchUpstream forwards the search to a proxy's upstream, uncached.
func (f *Format) searchUpstream(ctx context.Context, r repo.Repository, text string, n int) ([]json.RawMessage, error) {
	fw, ok := r.(repo.UpstreamForwarder)
	if !ok {
		return nil, nil
	}
	q := url.Values{"text": {text}, "size": {strconv.Itoa(min(n, maxSearchSize))}}
	resp, err := fw.Forward(ctx, http.MethodGet, "-/v1/search", q.Encode(), nil, http.Header{"Accept": {typeJSON}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errs.New(errs.Upstream, "the upstream answered the search with %s", resp.Status)
	}
	b, err := readBounded(resp.Body, maxSearchAnswer, "the upstream's search answer")
	if err != nil {
		return nil, err
	}
	var ans searchAnswer
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "the upstream's search answer is malformed")
	}
	return ans.Objects, nil
}

// searchHosted matches text against the names, descriptions and keywords
// of the packuments stored in r: every word must occur in one of them.
func (f *Format) searchHosted(ctx context.Context, r repo.Repository, text string, n int) ([]json.RawMessage, error) {
	words := strings.Fields(strings.ToLower(text))
	var names []string
	err := r.Walk(ctx, "", func(a *meta.Asset) error {
		if name, ok := packumentName(a.Path); ok {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	for _, name := range names {
		if len(out) >= n {
			break
		}
		pkg, ok := f.summary(ctx, r, name)
		if !ok || !matchesAll(pkg, words) {
			continue
		}
		o, _ := json.Marshal(searchResult{
			Package:     pkg,
			Score:       json.RawMessage(`{"final":1,"detail":{"quality":1,"popularity":1,"maintenance":1}}`),
			SearchScore: 1,
		})
		out = append(out, o)
	}
	return out, nil
}

// summary is the search view of the packument of name in r, derived once
// per change of the packument (repo.Derive keeps it), not per search.
func (f *Format) summary(ctx context.Context, r repo.Repository, name string) (searchPackage, bool) {
	c, err := r.Get(repo.WithBaseURL(ctx, nil), name)
	if err != nil {
		return searchPackage{}, false
	}
	c, err = repo.Derive(ctx, c, "search", func(doc []byte) ([]byte, error) {
		pkg, ok := summarize(name, doc)
		if !ok {
			return nil, errs.New(errs.Invalid, "the packument of %s is malformed", name)
		}
		return json.Marshal(pkg)
	})
	if err != nil {
		return searchPackage{}, false
	}
	defer c.Body.Close()
	b, err := io.ReadAll(c.Body)
	var pkg searchPackage
	if err != nil || json.Unmarshal(b, &pkg) != nil {
		return searchPackage{}, false
	}
	return pkg, true
}

// summarize is the search view of a packument: its latest version's
// description, keywords and publication.
func summarize(name string, doc []byte) (searchPackage, bool) {
	var d struct {
		DistTags    map[string]string          `json:"dist-tags"`
		Description string                     `json:"description"`
		Time        map[string]string          `json:"time"`
		Maintainers []map[string]string        `json:"maintainers"`
		Versions    map[string]json.RawMessage `json:"versions"`
	}
	if json.Unmarshal(doc, &d) != nil {
		return searchPackage{}, false
	}
	latest := d.DistTags["latest"]
	var v struct {
		Description string            `json:"description"`
		Keywords    json.RawMessage   `json:"keywords"`
		Homepage    string            `json:"homepage"`
		NpmUser     map[string]string `json:"_npmUser"`
	}
	json.Unmarshal(d.Versions[latest], &v)
	scope, _ := splitName(name)
	pkg := searchPackage{
		Name: name, Scope: scope, Version: latest, Description: v.Description, Keywords: v.Keywords,
		Date: d.Time[latest], Links: map[string]string{}, Maintainers: []searchUser{},
	}
	if pkg.Scope == "" {
		pkg.Scope = "unscoped"
	}
	if pkg.Description == "" {
		pkg.Description = d.Description
	}
	if v.Homepage != "" {
		pkg.Links["homepage"] = v.Homepage
	}
	for _, m := range d.Maintainers {
		pkg.Maintainers = append(pkg.Maintainers, searchUser{Username: m["name"], Email: m["email"]})
	}
	if v.NpmUser["name"] != "" {
		pkg.Publisher = &searchUser{Username: v.NpmUser["name"], Email: v.NpmUser["email"]}
	}
	return pkg, true
}

func matchesAll(pkg searchPackage, words []string) bool {
	var kw []string
	if json.Unmarshal(pkg.Keywords, &kw) != nil {
		var s string
		json.Unmarshal(pkg.Keywords, &s)
		kw = strings.Fields(s)
	}
	hay := strings.ToLower(pkg.Name + " " + pkg.Description + " " + strings.Join(kw, " "))
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// searchedName is the package name of a search answer's object, "" if it
// has none.
func searchedName(o json.RawMessage) string {
	var head struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	}
	if json.Unmarshal(o, &head) != nil {
		return ""
	}
	return head.Package.Name
}
