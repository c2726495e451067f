package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/tasks"
)

// automationAPI is the whole REST API with cleanup policies and tasks
// (the built-in types, no default tasks) over raw and maven2.
type automationAPI struct {
	t     *testing.T
	e     *echo.Echo
	pw    string
	repos *repo.Manager
	st    *repotest.Storage
	tasks *tasks.Service
}

func newAutomationAPI(t *testing.T) *automationAPI {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, pw := st.Security(t, log)
	repos := repo.NewManager(st.DB, st.Stores, security, repo.Options{Log: log}, raw.New(log), maven.New(log, maven.Options{}))
	policies := cleanup.New(st.DB, repos, security, log)
	jobs, err := tasks.New(st.DB, security, log, nil, nil, tasks.Builtin(repos, policies)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(jobs.Wait)
	e := echo.New()
	e.Use(security.Middleware())
	New(repos, security, st.DB, "/", log).WithCleanup(policies).WithTasks(jobs).Register(e.Group("/service/rest"))
	return &automationAPI{t: t, e: e, pw: pw, repos: repos, st: st, tasks: jobs}
}

func (a *automationAPI) do(method, path, body string) *httptest.ResponseRecorder {
	return a.as("admin", a.pw, method, path, body)
}

// as sends a request as user (none if empty).
func (a *automationAPI) as(user, password, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/service/rest"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// The cleanup policy endpoints as go-nexus-client uses them: create 201,
// get, list (an array), update 204, delete 204, unknown 404; refusals in
// Nexus's validation list; repositories round-trip cleanup.policyNames.
func TestCleanupPoliciesREST(t *testing.T) {
	a := newAutomationAPI(t)
	expectStatus(t, a.do(http.MethodPost, "/v1/cleanup-policies",
		`{"name":"old-snapshots","notes":"Test","format":"maven2","criteriaLastBlobUpdated":30,"criteriaReleaseType":"PRERELEASES"}`),
		http.StatusCreated)
	var p cleanup.Policy
	decodeJSON(t, a.do(http.MethodGet, "/v1/cleanup-policies/old-snapshots", ""), &p)
	if p.Notes != "Test" || p.Format != "maven2" || p.CriteriaLastBlobUpdated == nil || *p.CriteriaLastBlobUpdated != 30 ||
		p.CriteriaReleaseType == nil || *p.CriteriaReleaseType != "PRERELEASES" {
		t.Fatalf("policy %+v", p)
	}
	expectStatus(t, a.do(http.MethodPut, "/v1/cleanup-policies/old-snapshots",
		`{"name":"old-snapshots","format":"maven2","criteriaLastDownloaded":7,"retain":3}`), http.StatusNoContent)
	var list []cleanup.Policy
	decodeJSON(t, a.do(http.MethodGet, "/v1/cleanup-policies", ""), &list)
	if len(list) != 1 || list[0].CriteriaLastBlobUpdated != nil || *list[0].CriteriaLastDownloaded != 7 ||
		*list[0].Retain != 3 || *list[0].SortBy != "version" {
		t.Fatalf("after update %+v", list)
	}

	for _, body := range []string{
		`{"name":"x","format":"raw","criteriaReleaseType":"RELEASES"}`,
		`{"name":"x","format":"raw","criteriaAssetRegex":"(("}`,
		`{"name":"x","format":"cargo","criteriaLastBlobUpdated":1}`,
		`{"name":"old-snapshots","format":"maven2","criteriaLastBlobUpdated":1}`,
		`{"name":"x","format":"raw"}`,
	} {
		expectValidationList(t, a.do(http.MethodPost, "/v1/cleanup-policies", body))
	}
	expectStatus(t, a.do(http.MethodGet, "/v1/cleanup-policies/nope", ""), http.StatusNotFound)
	expectStatus(t, a.do(http.MethodDelete, "/v1/cleanup-policies/nope", ""), http.StatusNotFound)

	hosted := func(names string) string {
		return `{"name":"releases","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow_once"},
			"maven":{"versionPolicy":"MIXED","layoutPolicy":"STRICT"},"cleanup":{"policyNames":[` + names + `]}}`
	}
	expectValidationList(t, a.do(http.MethodPost, "/v1/repositories/maven/hosted", hosted(`"nope"`)))
	expectStatus(t, a.do(http.MethodPost, "/v1/repositories/maven/hosted", hosted(`"old-snapshots"`)), http.StatusCreated)
	rec := a.do(http.MethodGet, "/v1/repositories/maven/hosted/releases", "")
	expectStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), `"cleanup":{"policyNames":["old-snapshots"]}`) {
		t.Fatalf("repository %s", rec.Body)
	}
	expectStatus(t, a.do(http.MethodDelete, "/v1/cleanup-policies/old-snapshots", ""), http.StatusNoContent)
	rec = a.do(http.MethodGet, "/v1/repositories/maven/hosted/releases", "")
	if !strings.Contains(rec.Body.String(), `"cleanup":{"policyNames":[]}`) {
		t.Fatalf("after the policy's deletion %s", rec.Body)
	}
}

// The preview lists, as /v1/components does, what a policy would delete;
// the cleanup task, run through /v1/tasks, deletes exactly that: content
// older than the policy (its times set through the store), not newer.
func TestCleanupPreviewAndTaskREST(t *testing.T) {
	a := newAutomationAPI(t)
	expectStatus(t, a.do(http.MethodPost, "/v1/cleanup-policies", `{"name":"month","format":"raw","criteriaLastBlobUpdated":30}`),
		http.StatusCreated)
	expectStatus(t, a.do(http.MethodPost, "/v1/repositories/raw/hosted", `{"name":"files","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"},
		"raw":{"contentDisposition":"ATTACHMENT"},"cleanup":{"policyNames":["month"]}}`), http.StatusCreated)
	r, _ := a.repos.Lookup("files")
	for _, p := range []string{"old/a.txt", "old/b.txt", "new/c.txt"} {
		as, err := r.Put(t.Context(), p, strings.NewReader(p), repo.PutOptions{Size: -1, Component: r.Format().Component(p)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p, "old/") {
			old := time.Now().Add(-40 * 24 * time.Hour)
			if err := a.st.DB.UpdateAsset(as.ID, func(as *meta.Asset) { as.Created, as.LastModified = old, old }); err != nil {
				t.Fatal(err)
			}
		}
	}
	var preview page[componentJSON]
	decodeJSON(t, a.do(http.MethodPost, "/v1/cleanup-policies/preview", `{"format":"raw","criteriaLastBlobUpdated":30,"repository":"files"}`), &preview)
	if len(preview.Items) != 2 || preview.Items[0].Name != "old/a.txt" || preview.Items[1].Name != "old/b.txt" {
		t.Fatalf("preview %+v", preview.Items)
	}
	expectValidationList(t, a.do(http.MethodPost, "/v1/cleanup-policies/preview", `{"format":"raw","criteriaLastBlobUpdated":30,"repository":"nope"}`))
	// A caller who may read policies but not the repository learns no more
	// of it than of a missing one.
	expectStatus(t, a.do(http.MethodPost, "/v1/security/roles",
		`{"id":"cleaners","name":"cleaners","description":"d","privileges":["nx-cleanup-read"],"roles":[]}`), http.StatusOK)
	expectStatus(t, a.do(http.MethodPost, "/v1/security/users", `{"userId":"cleo","firstName":"C","lastName":"C",
		"emailAddress":"cleo@example.org","password":"cleo-pw","status":"active","roles":["cleaners"]}`), http.StatusOK)
	previewAs := func(repository string) *httptest.ResponseRecorder {
		return a.as("cleo", "cleo-pw", http.MethodPost, "/v1/cleanup-policies/preview",
			`{"format":"raw","criteriaLastBlobUpdated":30,"repository":"`+repository+`"}`)
	}
	hidden, missing := previewAs("files"), previewAs("nope")
	expectValidationList(t, hidden)
	if want := strings.ReplaceAll(missing.Body.String(), "nope", "files"); hidden.Body.String() != want {
		t.Errorf("hidden repository answers %s, a missing one %s", hidden.Body, missing.Body)
	}

	var list page[taskJSON]
	decodeJSON(t, a.do(http.MethodPost, "/v1/tasks", `{"type":"repository.cleanup","name":"cleanup","enabled":true,
		"notificationCondition":"FAILURE","frequency":{"schedule":"manual"}}`), new(taskJSON))
	decodeJSON(t, a.do(http.MethodGet, "/v1/tasks?type=repository.cleanup", ""), &list)
	if len(list.Items) != 1 || list.ContinuationToken != nil {
		t.Fatalf("tasks %+v", list)
	}
	id := list.Items[0].ID
	expectStatus(t, a.do(http.MethodPost, "/v1/tasks/"+id+"/run", ""), http.StatusNoContent)
	a.tasks.Wait()
	var done taskJSON
	decodeJSON(t, a.do(http.MethodGet, "/v1/tasks/"+id, ""), &done)
	if done.CurrentState != tasks.StateWaiting || done.LastRunResult == nil || *done.LastRunResult != tasks.ResultOK ||
		done.LastRun == nil || done.LastRunDuration == nil || !strings.HasPrefix(*done.Message, "deleted 2 components") {
		t.Fatalf("task after its run %+v", done)
	}
	for p, want := range map[string]bool{"old/a.txt": false, "old/b.txt": false, "new/c.txt": true} {
		if _, err := r.Stat(t.Context(), p); (err == nil) != want {
			t.Errorf("%s stored: %v, want %v", p, err == nil, want)
		}
	}
}

// The task endpoints: list entries carry what go-nexus-client checks
// (id, name, type, currentState), create 201, update 204, delete 204,
// stop of an idle task 409, unknown ids 404, bad settings 400.
func TestTasksREST(t *testing.T) {
	a := newAutomationAPI(t)
	rec := a.do(http.MethodPost, "/v1/tasks", `{"type":"repository.docker.upload-purge","name":"purge","enabled":true,
		"frequency":{"schedule":"cron","cronExpression":"0 0 3 * * ?"},"properties":{"age":12}}`)
	expectStatus(t, rec, http.StatusCreated)
	var created taskJSON
	decodeJSON(t, rec, &created)
	if created.ID == "" || created.CurrentState != "WAITING" || created.NextRun == nil || created.Properties["age"] != "12" ||
		created.LastRun != nil || created.LastRunResult != nil {
		t.Fatalf("created %s", rec.Body)
	}
	expectStatus(t, a.do(http.MethodPut, "/v1/tasks/"+created.ID, `{"name":"purge-renamed","enabled":true,"frequency":{"schedule":"manual"}}`),
		http.StatusNoContent)
	var got taskJSON
	decodeJSON(t, a.do(http.MethodGet, "/v1/tasks/"+created.ID, ""), &got)
	if got.Name != "purge-renamed" || got.Type != "repository.docker.upload-purge" || got.NextRun != nil {
		t.Fatalf("after update %+v", got)
	}
	expectStatus(t, a.do(http.MethodPost, "/v1/tasks/"+created.ID+"/stop", ""), http.StatusConflict)
	expectStatus(t, a.do(http.MethodPost, "/v1/tasks/"+created.ID+"/run", ""), http.StatusNoContent)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		expectStatus(t, a.do(m, "/v1/tasks/dummy", ""), http.StatusNotFound)
	}
	expectStatus(t, a.do(http.MethodPost, "/v1/tasks/dummy/run", ""), http.StatusNotFound)
	expectStatus(t, a.do(http.MethodPut, "/v1/tasks/dummy", `{"name":"x"}`), http.StatusNotFound)
	for _, body := range []string{
		`{"type":"tags.cleanup","name":"x","frequency":{"schedule":"manual"}}`,
		`{"type":"repository.cleanup","name":"x","frequency":{"schedule":"cron","cronExpression":"string"}}`,
		`{"type":"repository.cleanup","name":"","frequency":{"schedule":"manual"}}`,
	} {
		expectValidationList(t, a.do(http.MethodPost, "/v1/tasks", body))
	}
	a.tasks.Wait()
	// Tasks and policies are for administrators: nobody else sees them.
	expectStatus(t, a.do(http.MethodPost, "/v1/security/users", `{"userId":"bob","firstName":"B","lastName":"B",
		"emailAddress":"bob@example.org","password":"bob-pw","status":"active","roles":["nx-anonymous"]}`), http.StatusOK)
	for _, path := range []string{"/v1/tasks", "/v1/tasks/" + created.ID, "/v1/cleanup-policies"} {
		expectStatus(t, a.as("", "", http.MethodGet, path, ""), http.StatusUnauthorized)
		expectStatus(t, a.as("bob", "bob-pw", http.MethodGet, path, ""), http.StatusForbidden)
	}
	expectStatus(t, a.as("bob", "bob-pw", http.MethodPost, "/v1/tasks/"+created.ID+"/run", ""), http.StatusForbidden)
	expectStatus(t, a.do(http.MethodDelete, "/v1/tasks/"+created.ID, ""), http.StatusNoContent)
	var list page[taskJSON]
	decodeJSON(t, a.do(http.MethodGet, "/v1/tasks", ""), &list)
	if len(list.Items) != 0 {
		t.Fatalf("tasks after delete %+v", list.Items)
	}
}

// Freezing refuses what writes, not what only reads or stops: a task's
// stop and a cleanup preview go on; a run, which writes, is refused.
func TestFrozenStopAndPreview(t *testing.T) {
	a := newAutomationAPI(t)
	expectStatus(t, a.do(http.MethodPost, "/v1/repositories/raw/hosted",
		`{"name":"files","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"ALLOW"}}`), http.StatusCreated)
	rec := a.do(http.MethodPost, "/v1/tasks", `{"type":"repository.docker.upload-purge","name":"purge","enabled":true,"frequency":{"schedule":"manual"}}`)
	expectStatus(t, rec, http.StatusCreated)
	var created taskJSON
	decodeJSON(t, rec, &created)
	expectStatus(t, a.do(http.MethodPost, "/v1/read-only/freeze", ""), http.StatusNoContent)
	expectStatus(t, a.do(http.MethodPost, "/v1/tasks/"+created.ID+"/stop", ""), http.StatusConflict) // not running
	expectStatus(t, a.do(http.MethodPost, "/v1/cleanup-policies/preview", `{"format":"raw","criteriaLastBlobUpdated":30,"repository":"files"}`), http.StatusOK)
	expectStatus(t, a.do(http.MethodPost, "/v1/tasks/"+created.ID+"/run", ""), http.StatusServiceUnavailable)
}
