package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// auditEntry is an audit record as audit.log and /v1/audit show it.
type auditEntry struct {
	Timestamp  string            `json:"timestamp"`
	NodeID     string            `json:"nodeId"`
	Initiator  string            `json:"initiator"`
	Domain     string            `json:"domain"`
	Type       string            `json:"type"`
	Context    string            `json:"context"`
	Attributes map[string]string `json:"attributes"`
}

// The changes an administrator makes over the REST API, a failed sign-in
// and what a cleanup task deletes are recorded in log/audit.log and
// served by /v1/audit, naming who did it from where; no password or
// other secret the test used is in either.
func TestAuditE2E(t *testing.T) {
	s := startServer(t)
	admin := s.admin()
	const (
		firstPW  = "jdoe-first-Secret-1"
		secondPW = "jdoe-second-Secret-2"
		wrongPW  = "jdoe-wrong-Secret-3"
		mailPW   = "smtp-Secret-4"
		ldapPW   = "ldap-bind-Secret-5"
	)
	secrets := []string{firstPW, secondPW, wrongPW, mailPW, ldapPW, s.adminPW}

	// Security changes: a user with a password, changed; a role changed.
	s.createUser("jdoe", firstPW, "nx-anonymous")
	if res := s.do(http.MethodPut, "/service/rest/v1/security/users/jdoe/change-password", admin, []byte(secondPW),
		http.Header{"Content-Type": {"text/plain"}}); res.status != http.StatusNoContent {
		t.Fatalf("change password: %d %s", res.status, res.body)
	}
	s.createRole("auditors", "nx-search-read")
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/security/roles/auditors", admin,
		map[string]any{"id": "auditors", "name": "auditors", "description": "changed", "privileges": []string{"nx-audit-read"}, "roles": []string{}}, nil)
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/email", admin, `{"enabled":false,"host":"smtp.example.org","port":587,
		"username":"mailer","password":"`+mailPW+`","fromAddress":"nexus@example.org"}`, nil)
	ldapServer := ldapServerJSON("corp", "127.0.0.1", 1, 1)
	ldapServer["authPassword"] = ldapPW
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/security/ldap", admin, ldapServer, nil)

	// A failed sign-in, with Basic credentials.
	if res := s.doJSON(http.MethodGet, "/v1/repositories", &creds{"jdoe", wrongPW}, nil, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", res.status)
	}

	// Content deleted over REST and by the cleanup task; the repository deleted.
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/cleanup-policies", admin,
		`{"name":"scratch","format":"raw","criteriaAssetRegex":"scratch/.*"}`, nil)
	s.createRepo("hosted", `{"name":"audit-raw","online":true,"cleanup":{"policyNames":["scratch"]},
		"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"}}`)
	s.put("audit-raw", "keep/one.txt", []byte("one"))
	s.put("audit-raw", "scratch/two.txt", []byte("two"))
	var one string
	for _, a := range s.assets("audit-raw") {
		if a.Path == "keep/one.txt" {
			one = a.ID
		}
	}
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/assets/"+one, admin, nil, nil)
	// A client's delete through the format's protocol is audited too.
	s.put("audit-raw", "keep/three.txt", []byte("three"))
	if res := s.do(http.MethodDelete, "/repository/audit-raw/keep/three.txt", admin, nil, nil); res.status != http.StatusNoContent {
		t.Fatalf("raw DELETE: status %d: %s", res.status, res.body)
	}
	var tasks struct {
		Items []e2eTask `json:"items"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/tasks?type=repository.cleanup", admin, nil, &tasks)
	task := tasks.Items[0]
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/tasks/"+task.ID+"/run", admin, nil, nil)
	if !pollUntil(300, func() bool {
		s.mustJSON(http.StatusOK, http.MethodGet, "/v1/tasks/"+task.ID, admin, nil, &task)
		return task.LastRunResult != nil && task.CurrentState == "WAITING"
	}) || *task.LastRunResult != "OK" {
		t.Fatalf("cleanup task: %+v", task)
	}
	s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/repositories/audit-raw", admin, nil, nil)

	byAdmin, local := "admin/127.0.0.1", "127.0.0.1"
	want := []struct{ initiator, domain, typ, context string }{
		{byAdmin, "security.user", "created", "jdoe"},
		{byAdmin, "security.user", "changed-password", "jdoe"},
		{byAdmin, "security.role", "created", "auditors"},
		{byAdmin, "security.role", "updated", "auditors"},
		{byAdmin, "email", "updated", "email"},
		{byAdmin, "security.ldap", "created", "corp"},
		{"anonymous/" + local, "security.login", "failed", "jdoe"},
		{byAdmin, "cleanup.policy", "created", "scratch"},
		{byAdmin, "repository.repository", "created", "audit-raw"},
		{byAdmin, "repository.asset", "deleted", "keep/one.txt"},
		{byAdmin, "repository.asset", "deleted", "keep/three.txt"},
		{byAdmin, "scheduling.task", "started", task.ID},
		{"system/task:" + task.ID, "repository.component", "deleted", "scratch/two.txt"},
		{byAdmin, "repository.repository", "deleted", "audit-raw"},
	}
	// check requires the records, oldest first, to hold want in order.
	check := func(where string, recs []auditEntry) {
		t.Helper()
		i := 0
		for _, r := range recs {
			if i < len(want) && r.Initiator == want[i].initiator && r.Domain == want[i].domain && r.Type == want[i].typ && r.Context == want[i].context {
				i++
			}
			if r.NodeID == "" {
				t.Errorf("%s: record without a node ID: %+v", where, r)
			}
			if _, err := time.Parse(time.RFC3339, r.Timestamp); err != nil {
				t.Errorf("%s: timestamp %q: %v", where, r.Timestamp, err)
			}
		}
		if i < len(want) {
			t.Errorf("%s lacks %+v (after the first %d expected records); it has:", where, want[i], i)
			for _, r := range recs {
				t.Logf("  %s %s %s %s %v", r.Initiator, r.Domain, r.Type, r.Context, r.Attributes)
			}
		}
	}
	// The file: one JSON record a line, in order, owner-only.
	path := filepath.Join(s.dataDir, "log", "audit.log")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("audit.log mode %v, want 0600", st.Mode())
	}
	var fromFile []auditEntry
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var r auditEntry
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit.log line %q: %v", sc.Text(), err)
		}
		fromFile = append(fromFile, r)
	}
	check("audit.log", fromFile)
	attr := func(domain, context, key string) string {
		for _, r := range fromFile {
			if r.Domain == domain && r.Context == context {
				return r.Attributes[key]
			}
		}
		return ""
	}
	if attr("security.user", "jdoe", "roles") != "nx-anonymous" || attr("security.login", "jdoe", "userId") != "jdoe" ||
		attr("repository.component", "scratch/two.txt", "repository") != "audit-raw" || attr("security.ldap", "corp", "host") != "127.0.0.1" {
		t.Errorf("attributes missing from the records: %+v", fromFile)
	}

	// Each delete once: the cleanup's component delete records no asset.
	assetDeletes := 0
	for _, r := range fromFile {
		if r.Domain == "repository.asset" {
			assetDeletes++
		}
	}
	if assetDeletes != 2 {
		t.Errorf("%d asset deletes recorded, want 2 (keep/one.txt, keep/three.txt)", assetDeletes)
	}

	// The REST answer: the same records, newest first.
	items, _ := listAll[auditEntry](s, "/v1/audit?pageSize=5")
	var fromREST []auditEntry
	for i := len(items) - 1; i >= 0; i-- {
		fromREST = append(fromREST, items[i])
	}
	check("/v1/audit", fromREST)
	if len(fromREST) != len(fromFile) {
		t.Errorf("/v1/audit has %d records, audit.log %d", len(fromREST), len(fromFile))
	}
	rest := s.doJSON(http.MethodGet, "/v1/audit?pageSize=1000", admin, nil, nil)
	if rest.status != http.StatusOK {
		t.Fatalf("GET /v1/audit: %d %s", rest.status, rest.body)
	}

	// No secret anywhere: the passwords used (the admin's too), the email
	// and LDAP passwords.
	for _, secret := range secrets {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("audit.log holds the secret %q", secret)
		}
		if bytes.Contains(rest.body, []byte(secret)) {
			t.Errorf("/v1/audit holds the secret %q", secret)
		}
	}
}
