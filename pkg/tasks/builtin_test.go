package tasks_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/tasks"
)

// run runs a new task of typ with props and returns its recorded status.
func run(t *testing.T, s *tasks.Service, typ string, props map[string]string) tasks.Status {
	t.Helper()
	ctx := context.Background()
	st, err := s.Create(ctx, tasks.Settings{Type: typ, Name: typ, Properties: props})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	s.Wait()
	st, err = s.Get(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The built-in types over a real manager: the Maven repair rebuilds lost
// metadata, the upload purge checks its age, the reconcile finds nothing
// to correct in a consistent store.
func TestBuiltinTypes(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	env := managertest.New(t, nil, repo.Options{}, maven.New(log, maven.Options{}))
	r := env.Create(`{"name":"releases","format":"maven2","type":"hosted","online":true,
		"storage":{"blobStoreName":"default","writePolicy":"allow"},"maven":{"versionPolicy":"MIXED"}}`)
	jar := "org/example/lib/1.0/lib-1.0.jar"
	if resp := env.Do(context.Background(), r, http.MethodPut, jar, bytes.NewReader([]byte("jar")), nil); resp.Code != http.StatusCreated {
		t.Fatalf("deploy: %d %s", resp.Code, resp.Body)
	}
	md := "org/example/lib/maven-metadata.xml"
	if _, err := env.Storage.DB.DeleteAssetByPath("releases", md); err != nil { // lost, as after a bug
		t.Fatal(err)
	}
	if _, err := r.Stat(context.Background(), md); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("metadata not deleted: %v", err)
	}
	policies := cleanup.New(env.Storage.DB, env.M, repotest.AllowAll{}, log)
	s, err := tasks.New(env.Storage.DB, repotest.AllowAll{}, log, time.Now, nil, tasks.Builtin(env.M, policies)...)
	if err != nil {
		t.Fatal(err)
	}

	if st := run(t, s, tasks.TypeRebuildMetadata, nil); st.LastRunResult != tasks.ResultOK || st.Message != "rebuilt the metadata of 1 repositories" {
		t.Fatalf("rebuild %+v", st)
	}
	if _, err := r.Stat(context.Background(), md); err != nil {
		t.Fatalf("metadata after the repair: %v", err)
	}
	if st := run(t, s, tasks.TypeReconcileBlobs, nil); st.LastRunResult != tasks.ResultOK || st.Message != "corrected 0 blob records" {
		t.Fatalf("reconcile %+v", st)
	}
	if st := run(t, s, tasks.TypeUploadPurge, map[string]string{"age": "soon"}); st.LastRunResult != tasks.ResultFailed ||
		!strings.Contains(st.Message, "properties.age") {
		t.Fatalf("purge with a bad age %+v", st)
	}
	if st := run(t, s, tasks.TypeUploadPurge, map[string]string{"age": "0"}); st.LastRunResult != tasks.ResultFailed {
		t.Fatalf("purge of uploads in progress %+v", st)
	}
	if st := run(t, s, tasks.TypeUploadPurge, map[string]string{"age": "1"}); st.LastRunResult != tasks.ResultOK {
		t.Fatalf("purge %+v", st)
	}
	if st := run(t, s, tasks.TypeRebuildMetadata, map[string]string{"repositoryName": "nope"}); st.LastRunResult != tasks.ResultFailed {
		t.Fatalf("repair of a missing repository %+v", st)
	}
}
