package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The formats' own search parameters: maven.groupId, maven.artifactId and
// maven.baseVersion match the GAV, maven.extension and maven.classifier
// the files.
func TestSearchMavenTerms(t *testing.T) {
	e, pw, repos := newAPI(t, maven.New(slog.New(slog.DiscardHandler), maven.Options{}))
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	if err := repos.CreateDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ := repos.Lookup("maven-releases")
	for _, p := range []string{
		"org/example/lib/1.0/lib-1.0.jar", "org/example/lib/1.0/lib-1.0.pom", "org/example/lib/1.0/lib-1.0-sources.jar",
		"org/example/lib/2.0/lib-2.0.pom",
		"org/other/tool/1.0/tool-1.0.zip",
	} {
		if _, err := r.Put(ctx, p, strings.NewReader("PK"), repo.PutOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	search := func(path, query string) []string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/service/rest/v1/"+path+"?"+query, nil)
		req.SetBasicAuth("admin", pw)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		expectStatus(t, rec, http.StatusOK)
		var page struct {
			Items []struct {
				Group, Name, Version, Path string
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range page.Items {
			if path == "search" {
				out = append(out, it.Group+":"+it.Name+":"+it.Version)
			} else {
				out = append(out, it.Path)
			}
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		path, query string
		want        []string
		refused     bool
	}{
		{"search", "maven.groupId=org.example", []string{"org.example:lib:1.0", "org.example:lib:2.0"}, false},
		{"search", "maven.groupId=org.*&maven.baseVersion=1.0", []string{"org.example:lib:1.0", "org.other:tool:1.0"}, false},
		{"search", "maven.artifactId=tool", []string{"org.other:tool:1.0"}, false},
		{"search", "maven.extension=jar", []string{"org.example:lib:1.0"}, false},
		{"search", "maven.classifier=sources", []string{"org.example:lib:1.0"}, false},
		{"search/assets", "maven.extension=jar", []string{"org/example/lib/1.0/lib-1.0-sources.jar", "org/example/lib/1.0/lib-1.0.jar"}, false},
		{"search/assets", "maven.artifactId=lib&maven.extension=pom", []string{"org/example/lib/1.0/lib-1.0.pom", "org/example/lib/2.0/lib-2.0.pom"}, false},
		{"search", "format=raw&maven.groupId=org.example", nil, true},
	} {
		if tc.refused {
			req := httptest.NewRequest(http.MethodGet, "/service/rest/v1/"+tc.path+"?"+tc.query, nil)
			req.SetBasicAuth("admin", pw)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			expectValidationList(t, rec)
			continue
		}
		if got := search(tc.path, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s?%s = %v, want %v", tc.path, tc.query, got, tc.want)
		}
	}
}
