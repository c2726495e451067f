package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// e2eTask is what the test reads of a task.
type e2eTask struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Type          string  `json:"type"`
	CurrentState  string  `json:"currentState"`
	LastRunResult *string `json:"lastRunResult"`
	NextRun       *string `json:"nextRun"`
	Message       *string `json:"message"`
}

// A fresh server has the daily cleanup task; a policy attached to a
// repository previews what goes, the task run through the REST API deletes
// exactly that, the blob store shrinks at once, and the result survives a
// restart.
func TestCleanupTaskE2E(t *testing.T) {
	s := startServer(t)
	var tasks struct {
		Items []e2eTask `json:"items"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/tasks?type=repository.cleanup", s.admin(), nil, &tasks)
	if len(tasks.Items) != 1 || tasks.Items[0].Name != "Cleanup service" || tasks.Items[0].NextRun == nil ||
		tasks.Items[0].CurrentState != "WAITING" {
		t.Fatalf("cleanup tasks of a fresh server %+v", tasks.Items)
	}
	task := tasks.Items[0]

	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/cleanup-policies", s.admin(),
		`{"name":"scratch","format":"raw","criteriaAssetRegex":"scratch/.*"}`, nil)
	s.createRepo("hosted", `{"name":"files","online":true,"cleanup":{"policyNames":["scratch"]},
		"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"}}`)
	big := bytes.Repeat([]byte("x"), 1<<20)
	s.put("files", "scratch/big.bin", big)
	s.put("files", "keep/small.txt", []byte("kept"))
	usage := func() int64 {
		var stores []struct {
			TotalSizeInBytes int64 `json:"totalSizeInBytes"`
		}
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/blobstores", s.admin(), nil, &stores)
		return stores[0].TotalSizeInBytes
	}
	before := usage()

	var preview struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	s.mustJSON(http.StatusOK, http.MethodPost, "/v1/cleanup-policies/preview", s.admin(),
		`{"name":"scratch","format":"raw","criteriaAssetRegex":"scratch/.*","repository":"files"}`, &preview)
	if len(preview.Items) != 1 || preview.Items[0].Name != "scratch/big.bin" {
		t.Fatalf("preview %+v", preview.Items)
	}

	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/tasks/"+task.ID+"/run", s.admin(), nil, nil)
	deadline := time.Now().Add(30 * time.Second)
	for task.LastRunResult == nil || task.CurrentState != "WAITING" {
		if time.Now().After(deadline) {
			t.Fatalf("cleanup task did not finish: %+v", task)
		}
		time.Sleep(20 * time.Millisecond)
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/tasks/"+task.ID, s.admin(), nil, &task)
	}
	if *task.LastRunResult != "OK" || !strings.HasPrefix(*task.Message, "deleted 1 components") {
		t.Fatalf("cleanup run %+v (%s)", task, *task.Message)
	}
	if res := s.do(http.MethodGet, "/repository/files/scratch/big.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("cleaned file: status %d", res.status)
	}
	s.getExpect("files", "keep/small.txt", []byte("kept"))
	if after := usage(); before-after != int64(len(big)) {
		t.Errorf("blob store %d → %d bytes, want %d freed", before, after, len(big))
	}

	s.stop()
	s.restart()
	var again e2eTask
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/tasks/"+task.ID, s.admin(), nil, &again)
	if again.LastRunResult == nil || *again.LastRunResult != "OK" {
		t.Errorf("after a restart %+v", again)
	}
}
