package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The V1 search API, GET /v1/search?q=&n=&page=: the one V1 endpoint Docker
// clients still call (`docker search host:port/term`). As in Nexus, it
// answers only on repositories with docker.v1Enabled.

const (
	searchDefaultN = 25  // what the engine asks for without --limit
	searchMaxN     = 100 // the engine's and Docker Hub's maximum
	maxSearchTerm  = maxNameLen
	// A proxy asks its upstream for one page of this many results.
	upstreamSearchN = searchMaxN
	// maxUpstreamSearch bounds an upstream's answer; 100 results fit well.
	maxUpstreamSearch = 1 << 20
)

// searchResult is one entry of a V1 search answer, as the engine decodes
// it; registries other than Docker Hub have no stars or official images.
type searchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}

// searchAnswer is the V1 search answer: the engine reads query,
// num_results and results; the page fields are Docker Hub's.
type searchAnswer struct {
	NumResults int            `json:"num_results"`
	NumPages   int            `json:"num_pages"`
	Page       int            `json:"page"`
	PageSize   int            `json:"page_size"`
	Query      string         `json:"query"`
	Results    []searchResult `json:"results"`
}

// searchScope is a repository a search covers and the prefix its names
// get in the answer (the repository's name, on the main port).
type searchScope struct {
	r      repo.Repository
	prefix string
}

// searchPlan picks the repositories a query covers and the term matched
// within them. one is true when the query addresses a single repository
// (a connector's, or one named on the main port): its v1Enabled and the
// caller's privileges then decide the answer instead of filtering.
type searchPlan func(ctx context.Context, q string) (scopes []searchScope, term string, one bool)

// withV1 serves /v1/search with plan and every other path with v2.
func (f *Format) withV1(plan searchPlan, v2 http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, ok := strings.CutPrefix(req.URL.Path, "/v1/")
		switch {
		case !ok:
			v2.ServeHTTP(w, req)
		case p == "search":
			f.search(w, f.withToken(req), plan)
		default:
			writeError(w, req, f.log, codeNotFound.with("of the V1 API only /v1/search is served", nil), nil)
		}
	})
}

// connectorSearch covers the connector's own repository.
func connectorSearch(r repo.Repository) searchPlan {
	return func(_ context.Context, q string) ([]searchScope, string, bool) {
		return []searchScope{{r: r}}, q, true
	}
}

// mainPortSearch covers, on the main port, the repository the query's
// first segment names ("docker-h/app" searches docker-h for "app"), or
// else every Docker repository; names in the answer start with the
// repository's, as the main port's image names do.
func (f *Format) mainPortSearch(repos Lookup) searchPlan {
	return func(ctx context.Context, q string) ([]searchScope, string, bool) {
		if name, rest, ok := strings.Cut(q, "/"); ok {
			if r, found := repos.Lookup(name); found && f.byPath(r) && repos.Visible(ctx, r) {
				return []searchScope{{r: r, prefix: r.Name() + "/"}}, rest, true
			}
		}
		var scopes []searchScope
		for _, r := range repos.List() {
			if f.byPath(r) {
				scopes = append(scopes, searchScope{r: r, prefix: r.Name() + "/"})
			}
		}
		return scopes, q, false
	}
}

// search serves GET /v1/search: the images of the covered repositories
// whose names contain the term, as Nexus matches them, in pages of n.
func (f *Format) search(w http.ResponseWriter, req *http.Request, plan searchPlan) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		f.methodNotAllowed(w, req, "GET")
		return
	}
	q, n, page, err := searchParams(req.URL.Query())
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	ctx := req.Context()
	scopes, term, one := plan(ctx, q)
	if one {
		r := scopes[0].r
		if err := listAllowed(ctx, r); err != nil {
			f.refuseSearch(w, req, err)
			return
		}
		if !settingsOf(r).V1Enabled {
			writeError(w, req, f.log, codeNotFound.with(fmt.Sprintf("docker search needs the V1 API, which repository %s does not enable (docker.v1Enabled)", r.Name()), nil), nil)
			return
		}
	} else {
		var allowed []searchScope
		enabled := false
		for _, s := range scopes {
			if !settingsOf(s.r).V1Enabled {
				continue
			}
			enabled = true
			if listAllowed(ctx, s.r) == nil {
				allowed = append(allowed, s)
			}
		}
		// As the catalog does: a caller who may search nothing is asked
		// to log in, unless signed in already (nothing to find, then).
		if p := auth.PrincipalFrom(ctx); enabled && len(allowed) == 0 && (p == nil || p.Anonymous) {
			f.refuseSearch(w, req, errs.New(errs.Unauthorized, "authentication required"))
			return
		}
		scopes = allowed
	}
	all := f.searchScopes(ctx, scopes, strings.ToLower(term))
	answer := searchAnswer{NumResults: len(all), NumPages: (len(all) + n - 1) / n, Page: page, PageSize: n,
		Query: q, Results: []searchResult{}}
	if page <= answer.NumPages {
		start := (page - 1) * n
		answer.Results = all[start:min(start+n, len(all))]
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// searchParams reads q, n (1 to 100, default 25) and page (from 1).
func searchParams(v url.Values) (q string, n, page int, err error) {
	q = v.Get("q")
	if len(q) > maxSearchTerm {
		return "", 0, 0, codeNameInvalid.with(fmt.Sprintf("search term longer than %d bytes", maxSearchTerm), nil)
	}
	n, page = searchDefaultN, 1
	if raw := v.Get("n"); raw != "" {
		if n, err = strconv.Atoi(raw); err != nil || n < 1 || n > searchMaxN {
			return "", 0, 0, codePaginationInvalid.with(fmt.Sprintf("n must be a number from 1 to %d", searchMaxN), raw)
		}
	}
	if raw := v.Get("page"); raw != "" {
		if page, err = strconv.Atoi(raw); err != nil || page < 1 {
			return "", 0, 0, codePaginationInvalid.with("page must be a number from 1", raw)
		}
	}
	return q, n, page, nil
}

// listAllowed is nil when the caller may see r's images (browse or read,
// as for the catalog), else why not.
func listAllowed(ctx context.Context, r repo.Repository) error {
	if r.AuthorizeFolder(ctx, "browse", "v2/") == nil {
		return nil
	}
	return r.AuthorizeFolder(ctx, "read", "v2/")
}

// refuseSearch answers a caller who may not search: 401 with a challenge
// for the scope a token client asks for, or 403.
func (f *Format) refuseSearch(w http.ResponseWriter, req *http.Request, err error) {
	if errs.KindOf(err) == errs.Unauthorized {
		challenge(w, req, "registry:catalog:search", err)
		return
	}
	writeError(w, req, f.log, err, nil)
}

// searchScopes searches every repository holding images under scopes
// once, concurrently (proxies wait for their upstreams), and lists the
// results per scope in member order, each name once.
func (f *Format) searchScopes(ctx context.Context, scopes []searchScope, term string) []searchResult {
	var holders []repo.Repository
	seen := map[string]bool{}
	for _, s := range scopes {
		for _, m := range stored(s.r) {
			if !seen[m.Name()] {
				seen[m.Name()] = true
				holders = append(holders, m)
			}
		}
	}
	found := make(map[string][]searchResult, len(holders))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range holders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := f.searchRepository(ctx, m, term)
			mu.Lock()
			found[m.Name()] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	var out []searchResult
	names := map[string]bool{}
	for _, s := range scopes {
		for _, m := range stored(s.r) {
			for _, res := range found[m.Name()] {
				if !mayList(ctx, s.r, imageFolder(res.Name)) {
					continue // outside the caller's content selectors
				}
				res.Name = s.prefix + res.Name
				if !names[res.Name] {
					names[res.Name] = true
					out = append(out, res)
				}
			}
		}
	}
	return out
}

// searchRepository finds term in one repository that holds images: its
// own image names and, for a proxy, first what its upstream's search
// returns. A proxy whose upstream has no search, fails or is blocked
// still lists the images it has cached, as it still serves them.
func (f *Format) searchRepository(ctx context.Context, r repo.Repository, term string) []searchResult {
	var out []searchResult
	if r.Config().Type == repo.Proxy {
		out = f.searchUpstream(ctx, r, term)
	}
	images, err := storedImages(ctx, r, term)
	if err != nil {
		f.log.Warn("docker search", "repository", r.Name(), "err", err)
	}
	have := map[string]bool{}
	for _, res := range out {
		have[res.Name] = true
	}
	for _, image := range images {
		if !have[image] {
			out = append(out, searchResult{Name: image})
		}
	}
	return out
}

// storedImages lists, sorted, the names of r's images that contain term.
func storedImages(ctx context.Context, r repo.Repository, term string) ([]string, error) {
	var images []string
	err := imageFolders(ctx, r, "manifests", func(image string) error {
		if strings.Contains(image, term) {
			images = append(images, image)
		}
		return nil
	})
	sort.Strings(images)
	return images, err
}

// searchUpstream forwards the search to a proxy's upstream (one page of
// upstreamSearchN results, never cached) and keeps the results whose
// names a client could pull through the proxy.
func (f *Format) searchUpstream(ctx context.Context, r repo.Repository, term string) []searchResult {
	fw, ok := r.(repo.UpstreamForwarder)
	if !ok {
		return nil
	}
	query := url.Values{"q": {term}, "n": {strconv.Itoa(upstreamSearchN)}}.Encode()
	resp, err := fw.Forward(ctx, http.MethodGet, "v1/search", query, nil, nil)
	if err != nil {
		f.log.Warn("upstream search failed", "repository", r.Name(), "err", err)
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			// Registries need not have search (CNCF Distribution has none).
			f.log.Debug("upstream has no search", "repository", r.Name(), "status", resp.StatusCode)
		default:
			f.log.Warn("upstream search failed", "repository", r.Name(), "status", resp.StatusCode)
		}
		return nil
	}
	var body struct {
		Results []searchResult `json:"results"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxUpstreamSearch)).Decode(&body); err != nil {
		f.log.Warn("upstream search answer unreadable", "repository", r.Name(), "err", err)
		return nil
	}
	var out []searchResult
	for _, res := range body.Results {
		if validName(res.Name) {
			out = append(out, res)
		}
	}
	return out
}
